/* Unit tests for util.c: buffers, durations, local times, paths, the clock. */
#include "config.h"

#include <sys/stat.h>

#include <stdlib.h>
#include <unistd.h>

#include "clarion.h"
#include "tap.h"

static void
test_buf(void)
{
	struct buf	 b;
	char		*s;

	buf_init(&b);
	buf_adds(&b, "abc");
	buf_addc(&b, '-');
	buf_addf(&b, "%d/%s", 42, "x");
	is_str(b.data, "abc-42/x", "buf appends strings, chars and formats");
	is_int(b.len, 8, "buf length counts the bytes");
	buf_reset(&b);
	is_str(b.data, "", "buf_reset empties");
	buf_add(&b, "a\0b", 3);
	is_int(b.len, 3, "buf holds NUL bytes");
	s = buf_steal(&b);
	ok(b.data == NULL && b.len == 0, "buf_steal leaves the buffer empty");
	free(s);
	buf_free(&b);
}

static void
test_duration(void)
{
	long	 v;
	char	*cause = NULL;

	ok(duration_parse("90", &v, &cause) == 0 && v == 90, "90 is 90 s");
	ok(duration_parse("15m", &v, &cause) == 0 && v == 900, "15m");
	ok(duration_parse("2h", &v, &cause) == 0 && v == 7200, "2h");
	ok(duration_parse("1d", &v, &cause) == 0 && v == 86400, "1d");
	ok(duration_parse("1w", &v, &cause) == 0 && v == 604800, "1w");
	ok(duration_parse("5x", &v, &cause) == -1, "5x is refused");
	is_str(cause, "'5x' is not a duration (such as 90s, 15m, 2h, 1d)",
	    "the error says what a duration looks like");
	free(cause);
	cause = NULL;
	ok(duration_parse("-1", &v, &cause) == -1, "negative refused");
	free(cause);
	cause = NULL;
	ok(duration_parse("3mm", &v, &cause) == -1, "trailing junk refused");
	free(cause);
}

static void
test_local_time(void)
{
	time_t	 t;
	char	*cause = NULL, *s;

	/* 08:00 London is 08:00Z in winter and 07:00Z in summer. */
	ok(time_parse_local("2026-12-07 08:00", "Europe/London", &t,
	    &cause) == 0, "winter date parses");
	s = time_format_iso(t);
	is_str(s, "2026-12-07T08:00:00Z", "winter: London = UTC");
	free(s);
	ok(time_parse_local("2026-06-01T08:00", "Europe/London", &t,
	    &cause) == 0, "summer date with T parses");
	s = time_format_iso(t);
	is_str(s, "2026-06-01T07:00:00Z", "summer: London = UTC+1");
	free(s);
	s = time_format_local(t, "Europe/London", "%Y-%m-%d %H:%M %Z");
	is_str(s, "2026-06-01 08:00 BST", "formats back in local time");
	free(s);
	ok(time_parse_local("2026-02-30 10:00", "Europe/London", &t,
	    &cause) == -1, "30 February refused");
	is_str(cause, "'2026-02-30 10:00' is not a valid date",
	    "the error names the bad date");
	free(cause);
	cause = NULL;
	ok(time_parse_local("next tuesday", "Europe/London", &t,
	    &cause) == -1, "free text refused");
	free(cause);
	s = time_format_rfc5322(0);
	is_str(s, "Thu, 01 Jan 1970 00:00:00 +0000", "RFC 5322 date");
	free(s);
}

static void
test_paths_and_files(void)
{
	char	 dir[] = "/tmp/clarion-test-XXXXXX", *p, *cause = NULL;
	char	*secret;
	size_t	 len;

	p = path_resolve("/etc/clarion/clarion.conf", "db/x.db");
	is_str(p, "/etc/clarion/db/x.db", "relative to the config's dir");
	free(p);
	p = path_resolve("/etc/clarion/clarion.conf", "/var/x.db");
	is_str(p, "/var/x.db", "absolute paths kept");
	free(p);

	ok(mkdtemp(dir) != NULL, "temp dir");
	xasprintf(&p, "%s/secret", dir);
	ok(file_write_atomic(p, "s3cret-value\n", 13, 0644, &cause) == 0,
	    "atomic write");
	ok(secret_file_read(p, &secret, &len, &cause) == -1,
	    "a group/world-readable secret file is refused");
	ok(cause != NULL && strstr(cause, "fix: chmod 600") != NULL,
	    "the refusal says how to fix it");
	free(cause);
	cause = NULL;
	chmod(p, 0600);
	ok(secret_file_read(p, &secret, &len, &cause) == 0, "0600 accepted");
	is_str(secret, "s3cret-value", "trailing newline removed");
	is_int(len, 12, "secret length");
	free(secret);
	unlink(p);
	free(p);
	rmdir(dir);
}

static void
test_clock(void)
{
	setenv("CLARION_NOW", "1800000000", 1);
	is_int(clock_now(), 1800000000, "CLARION_NOW fixes the clock");
	unsetenv("CLARION_NOW");
	ok(clock_now() > 1700000000, "the real clock otherwise");
}

int
main(void)
{
	log_init("test_util", 0, LOG_LEVEL_ERROR);
	test_buf();
	test_duration();
	test_local_time();
	test_paths_and_files();
	test_clock();
	return tap_done();
}
