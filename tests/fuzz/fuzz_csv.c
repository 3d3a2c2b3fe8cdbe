/*
 * CSV import (csv.c): every record of a hostile file either parses into
 * valid UTF-8 fields or is refused with a line number, and the reader
 * always moves forward.
 */
#include "config.h"

#include <stdio.h>

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
	struct csv	*c;
	struct csv_row	 row;
	struct buf	 b;
	char		*cause = NULL;
	size_t		 i, last = 0;
	int		 rc;

	if ((c = csv_new((const char *)data, size, '\0', &cause)) == NULL) {
		if (cause == NULL)
			abort();	/* a refusal must say why */
		free(cause);
		return 0;
	}
	buf_init(&b);
	while ((rc = csv_next(c, &row, &cause)) != 0) {
		if (row.line < last)
			abort();	/* line numbers never go back */
		last = row.line;
		if (rc == -1) {
			if (cause == NULL)
				abort();
			free(cause);
			cause = NULL;
			continue;
		}
		for (i = 0; i < row.nfields; i++) {
			if (!utf8_valid(row.fields[i], strlen(row.fields[i])))
				abort();
			csv_quote(&b, row.fields[i], csv_sep(c));
		}
		buf_reset(&b);
	}
	buf_free(&b);
	csv_free(c);
	return 0;
}
