/*
 * DKIM signing (RFC 6376, RFC 8463) with libopendkim, for relays that do
 * not sign for the list's domain. Gmail, Yahoo and Outlook.com want SPF
 * and DKIM aligned with the From domain for bulk mail, and RFC 8058 wants
 * the signature to cover List-Unsubscribe and List-Unsubscribe-Post.
 *
 * The key is a PEM private key (RSA, at least 1024 bits, 2048 made by
 * keygen; or Ed25519) in a private file, like the passwords. crypto.c
 * reads it to learn its kind (and makes new ones); libopendkim signs.
 * relaxed/relaxed, so a relay that refolds headers does not break it.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <opendkim/dkim.h>

#include "clarion.h"

#define DKIM_HDR "DKIM-Signature"
#define RSA_BITS_MIN 1024

/* Signed when present; a missing one is not signed (no oversigning). */
static const char *dkim_headers[] = {
	"from", "subject", "date", "message-id", "to", "list-id",
	"list-unsubscribe", "list-unsubscribe-post", "feedback-id", NULL
};

struct dkim_signer {
	DKIM_LIB	*lib;
	char		*key;		/* PEM, NUL-terminated */
	size_t		 keylen;
	char		*selector;
	char		*domain;
	dkim_alg_t	 alg;
};

/* The key's algorithm from its PEM text; -1 (and *cause) if unusable. */
static int
dkim_key_alg(const char *path, const char *pem, size_t len, dkim_alg_t *alg,
    char **cause)
{
	enum crypto_key_type	 type;
	unsigned int		 bits;
	char			*c;

	if (crypto_key_inspect(pem, len, &type, &bits, &c) == -1) {
		xasprintf(cause, "%s: %s", path, c);
		free(c);
		return -1;
	}
	switch (type) {
	case CRYPTO_KEY_NONE:
		xasprintf(cause, "%s: not an unencrypted PEM private key "
		    "(make one with clarion dkim keygen)", path);
		return -1;
	case CRYPTO_KEY_RSA:
		if (bits >= RSA_BITS_MIN) {
			*alg = DKIM_SIGN_RSASHA256;
			return 0;
		}
		xasprintf(cause, "%s: a %u-bit RSA key is too weak for DKIM "
		    "(RFC 8301); use 2048 bits", path, bits);
		return -1;
	case CRYPTO_KEY_ED25519:
		*alg = DKIM_SIGN_ED25519SHA256;
		return 0;
	default:
		xasprintf(cause, "%s: the key must be RSA or Ed25519", path);
		return -1;
	}
}

void
dkim_signer_free(struct dkim_signer *s)
{
	if (s == NULL)
		return;
	if (s->lib != NULL)
		dkim_close(s->lib);
	if (s->key != NULL) {
		explicit_zero(s->key, s->keylen);
		free(s->key);
	}
	free(s->selector);
	free(s->domain);
	free(s);
}

/*
 * The signer the configuration asks for: *out is NULL when dkim is not
 * configured. Reads and checks the key now, so a bad one stops start-up
 * and check-config instead of holding mail later.
 */
int
dkim_signer_new(const struct config *conf, struct dkim_signer **out,
    char **cause)
{
	struct dkim_signer	*s;
	char			*key;
	size_t			 len;

	*out = NULL;
	if (conf->dkim.key_file == NULL)
		return 0;
	if (secret_file_read(conf->dkim.key_file, &key, &len, cause) == -1)
		return -1;
	s = xcalloc(1, sizeof *s);
	s->key = key;
	s->keylen = len;
	s->selector = xstrdup(conf->dkim.selector);
	s->domain = xstrdup(conf->dkim.domain != NULL ? conf->dkim.domain :
	    conf->domain);
	if (dkim_key_alg(conf->dkim.key_file, key, len, &s->alg,
	    cause) == -1) {
		dkim_signer_free(s);
		return -1;
	}
	if ((s->lib = dkim_init(NULL, NULL)) == NULL ||
	    dkim_options(s->lib, DKIM_OP_SETOPT, DKIM_OPTS_SIGNHDRS,
	    dkim_headers, sizeof(char **)) != DKIM_STAT_OK) {
		xasprintf(cause, "dkim: cannot start libopendkim");
		dkim_signer_free(s);
		return -1;
	}
	*out = s;
	return 0;
}

/* libopendkim folds with bare LF; the message is CRLF throughout. */
static void
dkim_add_crlf(struct buf *b, const unsigned char *p, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++) {
		if (p[i] == '\r')
			continue;
		if (p[i] == '\n')
			buf_addc(b, '\r');
		buf_addc(b, (char)p[i]);
	}
}

/*
 * Puts a DKIM-Signature header in front of msg (a whole CRLF message).
 * On failure msg is unchanged.
 */
int
dkim_sign_message(struct dkim_signer *s, struct buf *msg, char **cause)
{
	DKIM		*d;
	DKIM_STAT	 st;
	unsigned char	*sig;
	size_t		 siglen;
	struct buf	 out;

	d = dkim_sign(s->lib, (const unsigned char *)"clarion", NULL,
	    (dkim_sigkey_t)s->key, (const unsigned char *)s->selector,
	    (const unsigned char *)s->domain, DKIM_CANON_RELAXED,
	    DKIM_CANON_RELAXED, s->alg, -1, &st);
	if (d == NULL) {
		xasprintf(cause, "dkim: cannot sign: %s", dkim_getresultstr(st));
		return -1;
	}
	if ((st = dkim_chunk(d, (unsigned char *)msg->data, msg->len)) !=
	    DKIM_STAT_OK || (st = dkim_chunk(d, NULL, 0)) != DKIM_STAT_OK ||
	    (st = dkim_eom(d, NULL)) != DKIM_STAT_OK ||
	    (st = dkim_getsighdr_d(d, strlen(DKIM_HDR) + 2, &sig,
	    &siglen)) != DKIM_STAT_OK) {
		xasprintf(cause, "dkim: cannot sign: %s%s%s",
		    dkim_getresultstr(st), dkim_geterror(d) != NULL ? ": " : "",
		    dkim_geterror(d) != NULL ? dkim_geterror(d) : "");
		dkim_free(d);
		return -1;
	}
	buf_init(&out);
	buf_adds(&out, DKIM_HDR ": ");
	dkim_add_crlf(&out, sig, siglen);
	buf_adds(&out, "\r\n");
	buf_add(&out, msg->data, msg->len);
	dkim_free(d);
	buf_free(msg);
	*msg = out;
	return 0;
}

/* A TXT record's text split in strings of at most 255 octets (RFC 1035). */
static void
dkim_txt_strings(struct buf *b, const char *txt)
{
	size_t	 len = strlen(txt), n;

	while (len > 0) {
		n = len > 250 ? 250 : len;
		buf_addf(b, "\n\t\"%.*s\"", (int)n, txt);
		txt += n;
		len -= n;
	}
}

/*
 * Makes a new key ("rsa" 2048 bits or "ed25519") in path, mode 0600, never
 * over an existing file (the published record would stop matching), and
 * the DNS TXT record to publish for it.
 */
int
dkim_keygen(const char *path, const char *type, const char *selector,
    const char *domain, char **record, char **cause)
{
	struct buf	 b;
	char		*pem = NULL, *p64 = NULL, *txt, *c;
	size_t		 pemlen = 0;
	int		 ed, rc = -1;

	ed = strcmp(type, "ed25519") == 0;
	if (!ed && strcmp(type, "rsa") != 0) {
		xasprintf(cause, "unknown key type '%s' (rsa or ed25519)", type);
		return -1;
	}
	if (access(path, F_OK) == 0) {
		xasprintf(cause, "%s: already exists; not replacing a key that "
		    "may be published", path);
		return -1;
	}
	if (crypto_key_generate(ed ? CRYPTO_KEY_ED25519 : CRYPTO_KEY_RSA,
	    &pem, &pemlen, &p64, &c) == -1) {
		xasprintf(cause, "dkim: %s", c);
		free(c);
		return -1;
	}
	if (file_write_atomic(path, pem, pemlen, 0600, cause) == -1)
		goto out;
	xasprintf(&txt, "v=DKIM1; k=%s; p=%s", ed ? "ed25519" : "rsa", p64);
	buf_init(&b);
	buf_addf(&b, "%s._domainkey.%s. IN TXT (", selector, domain);
	dkim_txt_strings(&b, txt);
	buf_adds(&b, " )\n");
	free(txt);
	*record = buf_steal(&b);
	rc = 0;
out:
	explicit_zero(pem, pemlen);
	free(pem);
	free(p64);
	return rc;
}
