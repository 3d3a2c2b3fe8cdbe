/*
 * libFuzzer harness for the MIME depth bound (mailparse.c): for any input
 * the bound lets through to libetpan, the tree libetpan builds must be no
 * deeper than the bound said. An input nesting parts with a spelling of
 * Content-Type the bound does not count fails here at once, long before
 * it is deep enough to overflow a stack. Seeds (tests/fuzz/seeds/
 * mime_depth) spell the field every way libetpan takes it:
 *   tests/fuzz/fuzz_mime_depth -max_len=65536 CORPUS_DIR \
 *       $top_srcdir/tests/fuzz/seeds/mime_depth
 */
#include "config.h"

#include <stdio.h>

#include <libetpan/libetpan.h>

#include "clarion.h"
#include "fuzz.h"

#define FUZZ_MAX_CTYPES	500	/* more: mail_parse() would refuse it */

/* The depth of the tree libetpan built (it is no deeper than its parse). */
static int
tree_depth(const struct mailmime *m)
{
	clistiter	*it;
	int		 d, max = 0;

	if (m == NULL)
		return 0;
	switch (m->mm_type) {
	case MAILMIME_MULTIPLE:
		for (it = clist_begin(m->mm_data.mm_multipart.mm_mp_list);
		    it != NULL; it = clist_next(it))
			if ((d = tree_depth(clist_content(it))) > max)
				max = d;
		break;
	case MAILMIME_MESSAGE:
		max = tree_depth(m->mm_data.mm_message.mm_msg_mime);
		break;
	}
	return max + 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mailmime	*mime = NULL;
	size_t		 idx = 0, i;
	char		*s;
	int		 bound, depth;

	/* As classify_message() hands it over: NULs become spaces. */
	s = fuzz_cstr(data, size);
	for (i = 0; i < size; i++)
		if (s[i] == '\0')
			s[i] = ' ';
	bound = mail_depth_bound(s, size, FUZZ_MAX_CTYPES);
	if (bound > 2 * FUZZ_MAX_CTYPES + 2) {
		free(s);
		return 0;
	}
	if (mailmime_parse(s, size, &idx, &mime) == MAILIMF_NO_ERROR) {
		depth = tree_depth(mime);
		if (depth > bound) {
			fprintf(stderr, "libetpan nested %d deep; the bound "
			    "said at most %d\n", depth, bound);
			abort();
		}
		mailmime_free(mime);
	}
	free(s);
	return 0;
}
