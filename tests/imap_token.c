/*
 * imap_token CONFIG PURPOSE DELIVERY: prints the token Clarion would put
 * in bounces+T@ (PURPOSE b), reply+T@ (r) or unsubscribe+T@ (u) for a
 * delivery, so the IMAP integration tests can address real mail to it.
 * The MAC covers the nonce of the delivery's run, read from the database.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clarion.h"

int
main(int argc, char **argv)
{
	struct config	*conf;
	struct token_keys keys;
	struct db	*db;
	unsigned char	*secret;
	size_t		 len;
	char		*cause, *nonce = NULL, token[TOKEN_MAX];
	int64_t		 id;

	if (argc != 4 || strlen(argv[2]) != 1 || strchr("bru", *argv[2]) ==
	    NULL) {
		fprintf(stderr, "usage: imap_token CONFIG b|r|u DELIVERY\n");
		return EX_USAGE;
	}
	if ((conf = config_load(argv[1], &cause)) == NULL ||
	    config_load_secret(conf, &secret, &len, &cause) == -1) {
		fprintf(stderr, "imap_token: %s\n", cause);
		return EX_CONFIG;
	}
	if (token_keys_init(&keys, secret, len, NULL, 0) == -1) {
		fprintf(stderr, "imap_token: secret too short\n");
		return EX_CONFIG;
	}
	id = strtoll(argv[3], NULL, 10);
	if ((db = db_open(conf->database, 0, &cause)) != NULL) {
		nonce = db_delivery_nonce(db, id);
		db_close(db);
	} else
		free(cause);
	token_make_nonce(&keys, (enum token_purpose)*argv[2], id, nonce,
	    token, sizeof token);
	free(nonce);
	printf("%s\n", token);
	free(secret);
	config_free(conf);
	return 0;
}
