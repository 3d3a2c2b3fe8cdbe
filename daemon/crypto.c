/*
 * GnuTLS's door: keyed hashes (HMAC-SHA256, behind tokens, the log's
 * address hashes and erased addresses), random bytes (the token secret,
 * the database nonce) and checking a server's certificate chain against
 * a trust store and a host name (imap.c hands it the chain libetpan's
 * TLS session received; libcurl checks the SMTP relay's itself), and
 * private keys: what kind a PEM key is, and making new ones with their
 * public half (dkim.c's signing keys; libopendkim signs with them).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <gnutls/abstract.h>
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

/* ---- private keys ---- */

/*
 * What kind of key pem (len bytes, unencrypted PEM, PKCS#1 or PKCS#8)
 * holds, and its size in bits: CRYPTO_KEY_NONE when it is not such a key,
 * CRYPTO_KEY_OTHER for an algorithm we do not use.
 */
int
crypto_key_inspect(const char *pem, size_t len, enum crypto_key_type *type,
    unsigned int *bits, char **cause)
{
	gnutls_x509_privkey_t	 k;
	gnutls_datum_t		 d;
	int			 pk;

	*type = CRYPTO_KEY_NONE;
	*bits = 0;
	if (gnutls_x509_privkey_init(&k) < 0) {
		xasprintf(cause, "out of memory");
		return -1;
	}
	d.data = (unsigned char *)pem;
	d.size = (unsigned int)len;
	if (gnutls_x509_privkey_import2(k, &d, GNUTLS_X509_FMT_PEM, NULL,
	    GNUTLS_PKCS_PLAIN) == 0) {
		pk = gnutls_x509_privkey_get_pk_algorithm2(k, bits);
		if (pk == GNUTLS_PK_RSA)
			*type = CRYPTO_KEY_RSA;
		else if (pk == GNUTLS_PK_EDDSA_ED25519)
			*type = CRYPTO_KEY_ED25519;
		else
			*type = CRYPTO_KEY_OTHER;
	}
	gnutls_x509_privkey_deinit(k);
	return 0;
}

/*
 * The public half in base64, as DKIM's p= wants it (RFC 6376, RFC 8463):
 * the DER SubjectPublicKeyInfo for RSA, the raw 32 octets for Ed25519.
 */
static int
crypto_key_public(gnutls_x509_privkey_t k, enum crypto_key_type type,
    char **b64, char **cause)
{
	gnutls_pubkey_t		 pub = NULL;
	gnutls_privkey_t	 priv = NULL;
	gnutls_datum_t		 der = { NULL, 0 }, x = { NULL, 0 }, enc;
	gnutls_ecc_curve_t	 curve;
	int			 ed = type == CRYPTO_KEY_ED25519, rc = -1;

	if (gnutls_privkey_init(&priv) < 0 || gnutls_pubkey_init(&pub) < 0)
		goto out;
	if (gnutls_privkey_import_x509(priv, k, 0) < 0 ||
	    gnutls_pubkey_import_privkey(pub, priv, 0, 0) < 0)
		goto out;
	if (ed ? gnutls_pubkey_export_ecc_raw(pub, &curve, &x, NULL) < 0 :
	    gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &der) < 0)
		goto out;
	if (gnutls_base64_encode2(ed ? &x : &der, &enc) < 0)
		goto out;
	*b64 = xstrndup((const char *)enc.data, enc.size);
	gnutls_free(enc.data);
	rc = 0;
out:
	if (rc == -1)
		xasprintf(cause, "cannot export the public key");
	gnutls_free(der.data);
	gnutls_free(x.data);
	if (pub != NULL)
		gnutls_pubkey_deinit(pub);
	if (priv != NULL)
		gnutls_privkey_deinit(priv);
	return rc;
}

/*
 * A new key (RSA 2048 bits or Ed25519): *pem the private key as
 * unencrypted PKCS#8 PEM (*pemlen bytes, NUL-terminated; the caller wipes
 * it with explicit_zero before freeing), *pub_b64 its public half as
 * crypto_key_public gives it.
 */
int
crypto_key_generate(enum crypto_key_type type, char **pem, size_t *pemlen,
    char **pub_b64, char **cause)
{
	gnutls_x509_privkey_t	 k;
	gnutls_datum_t		 d = { NULL, 0 };
	int			 ed = type == CRYPTO_KEY_ED25519, rc = -1;

	if (type != CRYPTO_KEY_RSA && type != CRYPTO_KEY_ED25519) {
		xasprintf(cause, "cannot make that kind of key");
		return -1;
	}
	if (gnutls_x509_privkey_init(&k) < 0) {
		xasprintf(cause, "out of memory");
		return -1;
	}
	if (gnutls_x509_privkey_generate(k, ed ? GNUTLS_PK_EDDSA_ED25519 :
	    GNUTLS_PK_RSA, ed ? 256 : 2048, 0) < 0 ||
	    gnutls_x509_privkey_export2_pkcs8(k, GNUTLS_X509_FMT_PEM, NULL,
	    GNUTLS_PKCS_PLAIN, &d) < 0) {
		xasprintf(cause, "cannot make a %s key", ed ? "ed25519" :
		    "rsa");
		goto out;
	}
	if (crypto_key_public(k, type, pub_b64, cause) == -1)
		goto out;
	*pem = xmalloc(d.size + 1);
	memcpy(*pem, d.data, d.size);
	(*pem)[d.size] = '\0';
	*pemlen = d.size;
	rc = 0;
out:
	if (d.data != NULL) {
		explicit_zero(d.data, d.size);
		gnutls_free(d.data);
	}
	gnutls_x509_privkey_deinit(k);
	return rc;
}
