/*
 * Address normalisation (address.c): addresses come from CSV imports,
 * sign-up forms and bounce reports. A normalised address is valid, has no
 * control characters or header syntax, and normalises to itself.
 */
#include "config.h"

#include "clarion.h"
#include "fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_init("fuzz", 0, LOG_LEVEL_ERROR);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*s, *out = NULL, *again = NULL, *cause = NULL;

	s = fuzz_cstr(data, size);
	if (addr_normalize(s, &out, &cause) == -1) {
		if (cause == NULL)
			abort();
		free(cause);
		free(s);
		return 0;
	}
	/*
	 * What reaches a To: header must not be able to end it: no control
	 * characters, and header syntax only inside a quoted local part.
	 */
	if (str_has_ctl(out) || (out[0] != '"' &&
	    strpbrk(out, " ,;:<>()[]\\\"") != NULL))
		abort();
	if (addr_normalize(out, &again, &cause) == -1 ||
	    strcmp(out, again) != 0)
		abort();	/* not idempotent */
	free(again);
	free(out);
	free(s);
	return 0;
}
