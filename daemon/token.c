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

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "clarion.h"

#define B32 "abcdefghijklmnopqrstuvwxyz234567"
#define MAC_DIGITS 16	/* 80 bits */
#define ID_DIGITS_MAX 13	/* 64 bits */

static void
derive(const unsigned char *secret, size_t len, const char *label,
    unsigned char *out)
{
	gnutls_hmac_fast(GNUTLS_MAC_SHA256, secret, len, label, strlen(label),
	    out);
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

static void
mac_digits(const unsigned char *key, enum token_purpose purpose,
    int64_t id, char *out)
{
	unsigned char	 msg[9], mac[32];
	uint64_t	 bits;
	int		 i;

	msg[0] = (unsigned char)purpose;
	for (i = 0; i < 8; i++)
		msg[1 + i] = (unsigned char)((uint64_t)id >> (56 - 8 * i));
	gnutls_hmac_fast(GNUTLS_MAC_SHA256, key, 32, msg, sizeof msg, mac);
	/* 80 bits: the first ten bytes, five bits at a time. */
	for (i = 0; i < MAC_DIGITS; i++) {
		int	 bit = i * 5, byte = bit / 8, shift = bit % 8;

		bits = ((uint64_t)mac[byte] << 8) | mac[byte + 1];
		out[i] = B32[(bits >> (11 - shift)) & 31];
	}
	out[MAC_DIGITS] = '\0';
}

void
token_make(const struct token_keys *k, enum token_purpose purpose,
    int64_t id, char *out, size_t size)
{
	char		 digits[ID_DIGITS_MAX + 1], mac[MAC_DIGITS + 1];
	uint64_t	 v = (uint64_t)id;
	int		 n = 0, i;

	do {
		digits[n++] = B32[v & 31];
		v >>= 5;
	} while (v != 0 && n < ID_DIGITS_MAX);
	mac_digits(k->key, purpose, id, mac);
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
 * Checks a token for a purpose; on success stores the delivery id. A token
 * of the wrong length or alphabet, or whose MAC does not match under the
 * current key (or the old key during its grace period), fails.
 */
int
token_check(const struct token_keys *k, enum token_purpose purpose,
    const char *token, int64_t *id)
{
	char		 mac[MAC_DIGITS + 1];
	size_t		 len, n, i;
	uint64_t	 v = 0;
	int		 d;

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
			if (v > (UINT64_MAX >> 5))
				return -1;
			v = (v << 5) | (uint64_t)d;
		}
	}
	if (v > INT64_MAX)
		return -1;
	mac_digits(k->key, purpose, (int64_t)v, mac);
	if (!mac_equal(token + n, mac)) {
		if (!k->has_old)
			return -1;
		mac_digits(k->old_key, purpose, (int64_t)v, mac);
		if (!mac_equal(token + n, mac))
			return -1;
	}
	*id = (int64_t)v;
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

	gnutls_hmac_fast(GNUTLS_MAC_SHA256, k->key, sizeof k->key, address,
	    strlen(address), mac);
	for (i = 0; i < sizeof mac && 2 * i + 2 < size; i++)
		snprintf(out + 2 * i, 3, "%02x", mac[i]);
}
