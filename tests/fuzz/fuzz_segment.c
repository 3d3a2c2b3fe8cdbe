/*
 * Segment expressions (segment.c): parse, then match against a member
 * whose attributes come from the same bytes.
 */
#include "config.h"

#include <jansson.h>

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
	struct segment	*seg;
	json_t		*attrs;
	char		*s, *cause = NULL, *key;

	s = fuzz_cstr(data, size);
	if ((seg = segment_parse(s, &cause)) == NULL) {
		if (cause == NULL)
			abort();
		free(cause);
	} else {
		attrs = json_pack("{s:s, s:s, s:s}", "ward", "Hillside",
		    "branch", "Unite 123", "role", s);
		(void)segment_match(seg, "jo@example.org", "Jo", attrs);
		(void)segment_match(seg, NULL, NULL, NULL);
		json_decref(attrs);
		segment_free(seg);
	}
	if ((key = attr_key_normalize(s)) != NULL)
		free(key);
	free(s);
	return 0;
}
