/*
 * Classification throughput: classify every message of a corpus directory
 * (tests/data/inbound by default) round-robin until N messages have been
 * classified, and print messages per second. Files are read once, before
 * the clock starts: this measures parsing, not I/O.
 *   bench/classify [DIR [N]]
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clarion.h"

struct msg {
	char	*data;
	size_t	 len;
};

static size_t
load(const char *dir, struct msg **out)
{
	DIR		*d;
	struct dirent	*de;
	struct msg	*m = NULL;
	size_t		 n = 0, l;
	char		*path, *cause = NULL;

	if ((d = opendir(dir)) == NULL)
		fatal("%s", dir);
	while ((de = readdir(d)) != NULL) {
		l = strlen(de->d_name);
		if (l < 4 || strcmp(de->d_name + l - 4, ".eml") != 0)
			continue;
		xasprintf(&path, "%s/%s", dir, de->d_name);
		m = xreallocarray(m, n + 1, sizeof(*m));
		if ((m[n].data = file_read(path, &m[n].len, &cause)) == NULL)
			fatalx("%s", cause);
		free(path);
		n++;
	}
	closedir(d);
	*out = m;
	return n;
}

int
main(int argc, char **argv)
{
	struct classify_opts	 o = { "example.org", "bounces", "reply",
	    "unsubscribe", '+', 50 * 1024 * 1024 };
	struct classify_result	 r;
	struct timespec		 t0, t1;
	struct msg		*m;
	const char		*dir = argc > 1 ? argv[1] : "tests/data/inbound";
	long			 count[INBOUND_UNKNOWN + 1] = { 0 }, total, i;
	size_t			 n;
	double			 secs;

	log_init("bench-classify", 0, LOG_LEVEL_WARN);
	total = argc > 2 ? strtol(argv[2], NULL, 10) : 20000;
	if ((n = load(dir, &m)) == 0 || total <= 0)
		fatalx("no .eml files in %s", dir);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < total; i++) {
		classify_message(m[i % n].data, m[i % n].len, &o, &r);
		count[r.class]++;
		classify_result_free(&r);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("classified %ld messages (%zu distinct) in %.3f s: %.0f "
	    "messages/s\n", total, n, secs, (double)total / secs);
	for (i = 0; i <= INBOUND_UNKNOWN; i++)
		printf("  %-12s %ld\n", inbound_class_name((enum inbound_class)i),
		    count[i]);
	for (size_t j = 0; j < n; j++)
		free(m[j].data);
	free(m);
	return 0;
}
