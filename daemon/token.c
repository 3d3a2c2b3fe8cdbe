/*
 * Signed tokens for the addresses that act on a member: bounces+T@,
 * reply+T@ and unsubscribe+T@. A token names a delivery and is bound to one
 * purpose by an HMAC-SHA256 (GnuTLS), so a token lifted from one header
 * cannot be used for another action or another delivery.
 *
 * Form: base32(delivery id, minimal digits) followed by 16 base32 digits
 * (80 bits) of the MAC. Lower case: some servers lower-case local parts,
 * so checking folds case.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clarion.h"

#define B32 "abcdefghijklmnopqrstuvwxyz234567"
#define MAC_DIGITS 16	/* 80 bits */
#define ID_DIGITS_MAX 13	/* 64 bits */

static void
derive(const unsigned char *secret, size_t len, const char *label,
    unsigned char *out)
{
	crypto_hmac_sha256(secret, len, label, strlen(label), out);
}

int
token_keys_init(struct token_keys *k, const unsigned char *secret,
    size_t len, const unsigned char *old, size_t oldlen)
{
	if (len < 16)
		return -1;
	memset(k, 0, sizeof *k);
	derive(secret, len, "clarion-token-v1", k->key);
	if (old != NULL && oldlen >= 16) {
		derive(old, oldlen, "clarion-token-v1", k->old_key);
		k->has_old = 1;
	}
	return 0;
}

/*
 * The MAC covers the purpose, the delivery id and the nonce of the
 * database the delivery's run was made in (none for runs made before
 * nonces): after a restore, delivery ids are handed out again, and a
 * token for the old holder of an id must not act on the new one.
 */
static void
mac_digits(const unsigned char *key, enum token_purpose purpose,
    int64_t id, const char *nonce, char *out)
{
	unsigned char	 msg[9 + TOKEN_NONCE_MAX], mac[32];
	uint64_t	 bits;
	size_t		 n = 0;
	int		 i;

	msg[0] = (unsigned char)purpose;
	for (i = 0; i < 8; i++)
		msg[1 + i] = (unsigned char)((uint64_t)id >> (56 - 8 * i));
	if (nonce != NULL && (n = strlen(nonce)) > TOKEN_NONCE_MAX)
		n = TOKEN_NONCE_MAX;
	if (n > 0)
		memcpy(msg + 9, nonce, n);
	crypto_hmac_sha256(key, 32, msg, 9 + n, mac);
	/* 80 bits: the first ten bytes, five bits at a time. */
	for (i = 0; i < MAC_DIGITS; i++) {
		int	 bit = i * 5, byte = bit / 8, shift = bit % 8;

		bits = ((uint64_t)mac[byte] << 8) | mac[byte + 1];
		out[i] = B32[(bits >> (11 - shift)) & 31];
	}
	out[MAC_DIGITS] = '\0';
}

/* A new database nonce: 64 random bits in hex. */
void
token_nonce_new(char *out, size_t size)
{
	unsigned char	 raw[8];
	size_t		 i;

	if (crypto_nonce(raw, sizeof raw) == -1)
		fatalx("cannot get random bytes for the database nonce");
	for (i = 0; i < sizeof raw && 2 * i + 2 < size; i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
}

void
token_make(const struct token_keys *k, enum token_purpose purpose,
    int64_t id, char *out, size_t size)
{
	token_make_nonce(k, purpose, id, NULL, out, size);
}

void
token_make_nonce(const struct token_keys *k, enum token_purpose purpose,
    int64_t id, const char *nonce, char *out, size_t size)
{
	char		 digits[ID_DIGITS_MAX + 1], mac[MAC_DIGITS + 1];
	uint64_t	 v = (uint64_t)id;
	int		 n = 0, i;

	do {
		digits[n++] = B32[v & 31];
		v >>= 5;
	} while (v != 0 && n < ID_DIGITS_MAX);
	mac_digits(k->key, purpose, id, nonce, mac);
	if (size < (size_t)n + MAC_DIGITS + 1) {
		if (size > 0)
			out[0] = '\0';
		return;
	}
	for (i = 0; i < n; i++)
		out[i] = digits[n - 1 - i];
	memcpy(out + n, mac, MAC_DIGITS + 1);
}

static int
b32_value(int c)
{
	const char	*p;

	c = tolower((unsigned char)c);
	if (c == '\0' || (p = strchr(B32, c)) == NULL)
		return -1;
	return (int)(p - B32);
}

/* Constant time in the MAC: a forger learns nothing from timing. */
static int
mac_equal(const char *a, const char *b)
{
	unsigned char	 diff = 0;
	int		 i;

	for (i = 0; i < MAC_DIGITS; i++)
		diff |= (unsigned char)(tolower((unsigned char)a[i]) ^ b[i]);
	return diff == 0;
}

/*
 * The old key signs nothing; its tokens (in mail sent before a rotation)
 * are accepted until the given time, checked at each use, so a daemon
 * that has been running since before then stops accepting them on time.
 */
void
token_keys_old_until(struct token_keys *k, time_t until)
{
	k->old_until = until;
}

/*
 * The keys from the configured secret files: the current secret and, during
 * its grace period, the old one, so tokens in mail sent before a rotation
 * and suppressions hashed with it still count. clariond and clarion both
 * load them here.
 */
int
token_keys_load(const struct config *conf, struct token_keys *keys,
    char **cause)
{
	unsigned char	*secret, *old = NULL;
	size_t		 len, oldlen = 0;
	char		*s;
	int		 rc;

	if (config_load_secret(conf, &secret, &len, cause) == -1)
		return -1;
	if (conf->token_old_secret_file != NULL &&
	    clock_now() < conf->token_old_until) {
		if (secret_file_read(conf->token_old_secret_file, &s, &oldlen,
		    cause) == -1) {
			explicit_zero(secret, len);
			free(secret);
			return -1;
		}
		old = (unsigned char *)s;
	}
	rc = token_keys_init(keys, secret, len, old, oldlen);
	token_keys_old_until(keys, conf->token_old_until);
	explicit_zero(secret, len);
	free(secret);
	if (old != NULL) {
		explicit_zero(old, oldlen);
		free(old);
	}
	if (rc == -1)
		xasprintf(cause, "%s: the token secret is too short (at least "
		    "16 bytes); 'clarion init' makes a good one",
		    conf->token_secret_file);
	return rc;
}

const char *
token_purpose_name(enum token_purpose purpose)
{
	switch (purpose) {
	case TOKEN_BOUNCE:
		return "bounce";
	case TOKEN_REPLY:
		return "reply";
	case TOKEN_UNSUBSCRIBE:
		return "unsubscribe";
	}
	return "unknown";
}

/* The delivery id in a token's leading digits; -1 on a bad shape. */
int
token_parse(const char *token, uint64_t *v)
{
	size_t		 len, n, i;
	int		 d;

	*v = 0;
	if (token == NULL)
		return -1;
	len = strlen(token);
	if (len <= MAC_DIGITS || len > MAC_DIGITS + ID_DIGITS_MAX)
		return -1;
	n = len - MAC_DIGITS;
	for (i = 0; i < len; i++) {
		if ((d = b32_value(token[i])) == -1)
			return -1;
		if (i < n) {
			if (*v > (UINT64_MAX >> 5))
				return -1;
			*v = (*v << 5) | (uint64_t)d;
		}
	}
	return *v > INT64_MAX ? -1 : 0;
}

/*
 * Checks a token for a purpose; on success fills *ref (the purpose it was
 * made for and the delivery it names). TOKEN_BAD: wrong length or
 * alphabet, or a MAC that matches neither key. TOKEN_EXPIRED: made with
 * the old key, whose grace period has ended by now.
 */
int
token_verify(const struct token_keys *k, enum token_purpose purpose,
    const char *token, struct token_ref *ref)
{
	return token_verify_nonce(k, purpose, token, NULL, ref);
}

/* token_verify() for a delivery whose run carries a database nonce. */
int
token_verify_nonce(const struct token_keys *k, enum token_purpose purpose,
    const char *token, const char *nonce, struct token_ref *ref)
{
	char		 mac[MAC_DIGITS + 1];
	uint64_t	 v;
	int		 old = 0;

	if (token_parse(token, &v) == -1)
		return TOKEN_BAD;
	mac_digits(k->key, purpose, (int64_t)v, nonce, mac);
	if (!mac_equal(token + strlen(token) - MAC_DIGITS, mac)) {
		if (!k->has_old)
			return TOKEN_BAD;
		mac_digits(k->old_key, purpose, (int64_t)v, nonce, mac);
		if (!mac_equal(token + strlen(token) - MAC_DIGITS, mac))
			return TOKEN_BAD;
		if (clock_now() >= k->old_until)
			return TOKEN_EXPIRED;
		old = 1;
	}
	ref->purpose = purpose;
	ref->delivery_id = (int64_t)v;
	ref->old_key = old;
	return 0;
}

/* token_verify() when only the delivery matters: 0 or -1. */
int
token_check(const struct token_keys *k, enum token_purpose purpose,
    const char *token, int64_t *id)
{
	struct token_ref	 ref;

	if (token_verify(k, purpose, token, &ref) != 0)
		return -1;
	*id = ref.delivery_id;
	return 0;
}

/*
 * The keyed hash that stands for an address in the suppression list after
 * erasure: without the secret it cannot be reversed by trying addresses.
 */
void
token_hash_address(const struct token_keys *k, const char *address,
    char *out, size_t size)
{
	unsigned char	 mac[32];
	size_t		 i;

	crypto_hmac_sha256(k->key, sizeof k->key, address, strlen(address),
	    mac);
	for (i = 0; i < sizeof mac && 2 * i + 2 < size; i++)
		snprintf(out + 2 * i, 3, "%02x", mac[i]);
}
