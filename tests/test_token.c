/* Unit tests for token.c: round trips, forgery, purpose and key rotation. */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>

#include "clarion.h"
#include "tap.h"

int
main(void)
{
	struct token_keys k, k2, rot;
	const unsigned char *s1 = (const unsigned char *)"0123456789abcdef0123";
	const unsigned char *s2 = (const unsigned char *)"another-secret-entirely";
	char	 t[TOKEN_MAX], u[TOKEN_MAX], h1[65], h2[65];
	int64_t	 id = 0;
	size_t	 i;

	log_init("test_token", 0, LOG_LEVEL_ERROR);
	ok(token_keys_init(&k, (const unsigned char *)"short", 5, NULL, 0) ==
	    -1, "a secret under 16 bytes is refused");
	ok(token_keys_init(&k, s1, 20, NULL, 0) == 0, "keys from a secret");
	token_keys_init(&k2, s2, 23, NULL, 0);

	token_make(&k, TOKEN_UNSUBSCRIBE, 12345, t, sizeof t);
	ok(strlen(t) > 16 && strlen(t) < 32, "token length %zu", strlen(t));
	for (i = 0; t[i] != '\0'; i++)
		if (!islower((unsigned char)t[i]) && !isdigit((unsigned char)t[i]))
			break;
	ok(t[i] == '\0', "lower-case base32 only: %s", t);
	ok(token_check(&k, TOKEN_UNSUBSCRIBE, t, &id) == 0 && id == 12345,
	    "round trip gives the delivery id");
	for (i = 0; t[i] != '\0'; i++)
		u[i] = (char)toupper((unsigned char)t[i]);
	u[i] = '\0';
	ok(token_check(&k, TOKEN_UNSUBSCRIBE, u, &id) == 0 && id == 12345,
	    "case-insensitive (servers may fold local parts)");
	ok(token_check(&k, TOKEN_REPLY, t, &id) == -1,
	    "an unsubscribe token is no reply token");
	ok(token_check(&k, TOKEN_BOUNCE, t, &id) == -1,
	    "nor a bounce token");
	ok(token_check(&k2, TOKEN_UNSUBSCRIBE, t, &id) == -1,
	    "another secret does not accept it");
	strcpy(u, t);
	u[strlen(u) - 1] = u[strlen(u) - 1] == 'a' ? 'b' : 'a';
	ok(token_check(&k, TOKEN_UNSUBSCRIBE, u, &id) == -1,
	    "one changed MAC digit fails");
	strcpy(u, t);
	u[0] = u[0] == 'b' ? 'c' : 'b';
	ok(token_check(&k, TOKEN_UNSUBSCRIBE, u, &id) == -1,
	    "a changed delivery id fails");
	ok(token_check(&k, TOKEN_UNSUBSCRIBE, "", &id) == -1, "empty fails");
	ok(token_check(&k, TOKEN_UNSUBSCRIBE, "abc", &id) == -1,
	    "too short fails");
	ok(token_check(&k, TOKEN_UNSUBSCRIBE,
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", &id) == -1,
	    "too long fails");
	strcpy(u, t);
	u[3] = '!';
	ok(token_check(&k, TOKEN_UNSUBSCRIBE, u, &id) == -1,
	    "a character outside the alphabet fails");
	strcpy(u, t);
	u[3] = '1';	/* 0, 1, 8, 9 are not base32 digits */
	ok(token_check(&k, TOKEN_UNSUBSCRIBE, u, &id) == -1, "digit 1 fails");
	ok(token_check(&k, TOKEN_UNSUBSCRIBE, NULL, &id) == -1, "NULL fails");

	token_make(&k, TOKEN_BOUNCE, INT64_MAX, t, sizeof t);
	ok(token_check(&k, TOKEN_BOUNCE, t, &id) == 0 && id == INT64_MAX,
	    "the largest id round-trips");
	token_make(&k, TOKEN_BOUNCE, 0, t, sizeof t);
	ok(token_check(&k, TOKEN_BOUNCE, t, &id) == 0 && id == 0, "id 0");

	/* Rotation: the new key is s2; tokens made under s1 still work. */
	token_keys_init(&rot, s2, 23, s1, 20);
	token_keys_old_until(&rot, clock_now() + 3600);
	token_make(&k, TOKEN_REPLY, 77, t, sizeof t);
	ok(token_check(&rot, TOKEN_REPLY, t, &id) == 0 && id == 77,
	    "during rotation the old key's tokens are accepted");
	token_make(&rot, TOKEN_REPLY, 78, t, sizeof t);
	ok(token_check(&k2, TOKEN_REPLY, t, &id) == 0 && id == 78,
	    "new tokens are made with the new key");

	token_hash_address(&k, "alice@example.org", h1, sizeof h1);
	token_hash_address(&k2, "alice@example.org", h2, sizeof h2);
	is_int(strlen(h1), 64, "address hash is 64 hex digits");
	ok(strcmp(h1, h2) != 0, "the hash depends on the secret");
	token_hash_address(&k, "alice@example.org", h2, sizeof h2);
	is_str(h1, h2, "and is stable for one secret");
	return tap_done();
}
