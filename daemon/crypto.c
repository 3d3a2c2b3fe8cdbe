/*
 * GnuTLS's door: keyed hashes (HMAC-SHA256, behind tokens, the log's
 * address hashes and erased addresses), random bytes (the token secret,
 * the database nonce) and checking a server's certificate chain against
 * a trust store and a host name (imap.c hands it the chain libetpan's
 * TLS session received; libcurl checks the SMTP relay's itself). DKIM
 * keys (dkim.c) are the one other GnuTLS use.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "clarion.h"

#define CRYPTO_CHAIN_MAX	16

void
crypto_hmac_sha256(const void *key, size_t keylen, const void *msg,
    size_t len, unsigned char *out)
{
	gnutls_hmac_fast(GNUTLS_MAC_SHA256, key, keylen, msg, len, out);
}

/* Random bytes fit for a key. */
int
crypto_random(void *buf, size_t len)
{
	return gnutls_rnd(GNUTLS_RND_KEY, buf, len) == 0 ? 0 : -1;
}

/* Random bytes that must not repeat, but need not be secret. */
int
crypto_nonce(void *buf, size_t len)
{
	return gnutls_rnd(GNUTLS_RND_NONCE, buf, len) == 0 ? 0 : -1;
}

/* ---- certificate chains ---- */

static int
chain_import(const struct crypto_der *der, size_t nder,
    gnutls_x509_crt_t *crts, unsigned int *n, char **cause)
{
	gnutls_datum_t	 d;
	unsigned int	 i;

	*n = 0;
	for (i = 0; i < nder && i < CRYPTO_CHAIN_MAX; i++) {
		d.data = (unsigned char *)der[i].data;
		d.size = (unsigned int)der[i].len;
		if (gnutls_x509_crt_init(&crts[i]) < 0)
			break;
		(*n)++;
		if (gnutls_x509_crt_import(crts[i], &d,
		    GNUTLS_X509_FMT_DER) < 0) {
			xasprintf(cause, "the server sent an unreadable "
			    "certificate");
			return -1;
		}
	}
	if (*n == 0) {
		xasprintf(cause, "the server sent no certificate");
		return -1;
	}
	return 0;
}

static int
trust_load(gnutls_x509_trust_list_t tl, const char *ca_file, char **cause)
{
	int	 r;

	if (ca_file != NULL)
		r = gnutls_x509_trust_list_add_trust_file(tl, ca_file, NULL,
		    GNUTLS_X509_FMT_PEM, 0, 0);
	else
		r = gnutls_x509_trust_list_add_system_trust(tl, 0, 0);
	if (r <= 0) {
		xasprintf(cause, "no trusted certificates in %s%s%s",
		    ca_file != NULL ? ca_file : "the system store",
		    r < 0 ? ": " : "", r < 0 ? gnutls_strerror(r) : "");
		return -1;
	}
	return 0;
}

static int
chain_check(gnutls_x509_crt_t *crts, unsigned int n, const char *ca_file,
    const char *host, char **cause)
{
	gnutls_x509_trust_list_t tl;
	gnutls_datum_t	 out;
	unsigned int	 status = 0;
	int		 r;

	if (gnutls_x509_trust_list_init(&tl, 0) < 0) {
		xasprintf(cause, "cannot make a trust list");
		return -1;
	}
	if (trust_load(tl, ca_file, cause) == -1) {
		gnutls_x509_trust_list_deinit(tl, 1);
		return -1;
	}
	r = gnutls_x509_trust_list_verify_crt(tl, crts, n, 0, &status, NULL);
	gnutls_x509_trust_list_deinit(tl, 1);
	if (r < 0 || status != 0) {
		if (r >= 0 && gnutls_certificate_verification_status_print(
		    status, GNUTLS_CRT_X509, &out, 0) == 0) {
			xasprintf(cause, "%s: certificate refused: %s", host,
			    (char *)out.data);
			gnutls_free(out.data);
		} else
			xasprintf(cause, "%s: certificate refused", host);
		return -1;
	}
	if (!gnutls_x509_crt_check_hostname2(crts[0], host, 0)) {
		xasprintf(cause, "the certificate does not name %s", host);
		return -1;
	}
	return 0;
}

/*
 * Whether a server's chain (DER, the server's own certificate first)
 * leads to a certificate trusted by ca_file (NULL: the system store) and
 * names host. At most the first CRYPTO_CHAIN_MAX certificates are read.
 */
int
crypto_verify_chain(const struct crypto_der *der, size_t nder,
    const char *ca_file, const char *host, char **cause)
{
	gnutls_x509_crt_t crts[CRYPTO_CHAIN_MAX];
	unsigned int	 i, n = 0;
	int		 rc;

	rc = chain_import(der, nder, crts, &n, cause);
	if (rc == 0)
		rc = chain_check(crts, n, ca_file, host, cause);
	for (i = 0; i < n; i++)
		gnutls_x509_crt_deinit(crts[i]);
	return rc;
}
