/*
 * The configuration loader (config.c): the bytes are written to a private
 * temporary file and loaded. Whatever it holds, config_load either returns
 * a configuration or a message, never both and never neither.
 */
#include "config.h"

#include <stdio.h>
#include <unistd.h>

#include "clarion.h"
#include "fuzz.h"

static char	 path[] = "/tmp/clarion-fuzz-config.XXXXXX";

static void
fuzz_cleanup(void)
{
	unlink(path);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int	 fd;

	log_init("fuzz", 0, LOG_LEVEL_ERROR);
	if ((fd = mkstemp(path)) == -1)
		abort();
	close(fd);
	atexit(fuzz_cleanup);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config	*c;
	FILE		*f;
	char		*cause = NULL;

	if ((f = fopen(path, "w")) == NULL)
		abort();
	if (size > 0 && fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);
	c = config_load(path, &cause);
	if ((c == NULL) == (cause == NULL))
		abort();
	free(cause);
	config_free(c);
	return 0;
}
