/*
 * iCalendar import (ical.c): feeds fetched from other organisations'
 * servers. Every event returned has a title and a start time.
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
	struct event_list	 l;
	char			*s, *cause = NULL;

	s = fuzz_cstr(data, size);
	if (ical_parse_events(s, "Europe/London", &l, &cause) == -1) {
		if (cause == NULL)
			abort();
		free(cause);
	} else
		event_list_free(&l);
	free(s);
	return 0;
}
