/*
 * Token verification (token.c): the token is the local-part detail of an
 * address anyone can write to. No input but one made with the key
 * verifies, and every token made verifies to its own id.
 */
#include "config.h"

#include "clarion.h"
#include "fuzz.h"

static struct token_keys	 keys;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const unsigned char secret[32] = "fuzz-secret-0123456789abcdefghi";
	static const unsigned char old[32] = "fuzz-old-secret-0123456789abcdef";

	log_init("fuzz", 0, LOG_LEVEL_ERROR);
	if (token_keys_init(&keys, secret, sizeof secret, old,
	    sizeof old) == -1)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum token_purpose purposes[] = {
		TOKEN_BOUNCE, TOKEN_REPLY, TOKEN_UNSUBSCRIBE,
	};
	char		*s, made[TOKEN_MAX];
	int64_t		 id = 0, got;
	size_t		 i;

	s = fuzz_cstr(data, size);
	for (i = 0; i < nitems(purposes); i++)
		(void)token_check(&keys, purposes[i], s, &got);
	/* The same bytes as an id: made, then checked. */
	for (i = 0; i < size && i < 8; i++)
		id = (int64_t)(((uint64_t)id << 8) | data[i]);
	if (id < 0)
		id = -(id + 1);
	token_make(&keys, TOKEN_UNSUBSCRIBE, id, made, sizeof made);
	if (token_check(&keys, TOKEN_UNSUBSCRIBE, made, &got) != 0 || got != id)
		abort();
	if (token_check(&keys, TOKEN_BOUNCE, made, &got) == 0)
		abort();	/* bound to its purpose */
	free(s);
	return 0;
}
