/*
 * Unit tests for config.c: every class of configuration error gives the
 * exact message shape "file:line: key: message", and nothing else loads.
 */
#include "config.h"

#include <sys/stat.h>

#include <stdlib.h>
#include <unistd.h>

#include "clarion.h"
#include "tap.h"

static char	 dir[] = "/tmp/clarion-config-XXXXXX";

static char *
write_conf(const char *name, const char *text, mode_t mode)
{
	char	*path, *cause, *full;

	/* The default templates_dir exists only after make install. */
	xasprintf(&full, "%s%s", text, strstr(text, "templates_dir") == NULL &&
	    strstr(text, "domain") != NULL ? "templates_dir = \".\";\n" : "");
	xasprintf(&path, "%s/%s", dir, name);
	if (file_write_atomic(path, full, strlen(full), mode, &cause) == -1)
		fatalx("%s", cause);
	free(full);
	chmod(path, mode);
	return path;
}

/* Loads text as a config; returns the error (or NULL) and frees all. */
static char *
load_error(const char *text, mode_t mode)
{
	struct config	*c;
	char		*path, *cause = NULL;

	path = write_conf("c.conf", text, mode);
	c = config_load(path, &cause);
	config_free(c);
	free(path);
	return c == NULL ? cause : NULL;
}

static void
expect(const char *text, const char *want, const char *what)
{
	char	*got, *full;

	got = load_error(text, 0600);
	xasprintf(&full, "%s/c.conf:%s", dir, want);
	is_str(got, full, "%s", what);
	free(got);
	free(full);
}

static void
test_good(void)
{
	struct config	*c;
	char		*path, *cause = NULL, *want;

	path = write_conf("good.conf",
	    "domain = \"example.org\";\n"
	    "database = \"state/c.db\";\n"
	    "transport = \"smtp\";\n"
	    "inbound = \"external\";\n"
	    "smtp = { url = \"smtps://127.0.0.1:465\"; connections = 8;\n"
	    "  timeout = \"2m\"; };\n"
	    "rate = { per_hour = 500; };\n"
	    "quiet_hours = { start = \"21:30\"; end = \"08:00\"; };\n"
	    "log_level = \"debug\";\n", 0644);
	c = config_load(path, &cause);
	ok(c != NULL, "a good configuration loads");
	if (c == NULL) {
		printf("# %s\n", cause);
		return;
	}
	is_str(c->domain, "example.org", "domain");
	xasprintf(&want, "%s/state/c.db", dir);
	is_str(c->database, want, "relative database path resolved");
	free(want);
	xasprintf(&want, "%s/state/token.key", dir);
	is_str(c->token_secret_file, want, "token secret beside the database");
	free(want);
	ok(c->transport == TRANSPORT_SMTP, "transport smtp");
	is_int(c->smtp.connections, 8, "smtp.connections");
	is_int(c->smtp.timeout, 120, "duration string in seconds");
	ok(c->smtp.tls_verify && c->smtp.require_tls,
	    "TLS verified and required by default");
	is_int(c->rate_per_hour, 500, "rate.per_hour");
	is_int(c->quiet_start, 21 * 60 + 30, "quiet start in minutes");
	is_int(c->quiet_end, 8 * 60, "quiet end");
	ok(c->log_level == LOG_LEVEL_DEBUG, "log level");
	is_str(c->timezone, "Europe/London", "default timezone");
	is_int(c->tick, 60, "default tick");
	config_free(c);
	free(path);
}

static void
test_errors(void)
{
	char	*got, *want;

	expect("domain = \"example.org\";\nsmtp = {\n  ulr = \"x\";\n};\n",
	    "3: smtp.ulr: unknown key", "unknown key names file:line and key");
	expect("domain = \"example.org\";\nfrobnicate = 1;\n",
	    "2: frobnicate: unknown key", "unknown top-level key");
	expect("domain = \"example.org\";\nsmtp = { connections = \"4\"; };\n",
	    "2: smtp.connections: must be an integer, not a string",
	    "wrong type");
	expect("domain = \"example.org\";\nimap = { enabled = 1; };\n",
	    "2: imap.enabled: must be true or false, not an integer",
	    "bool given an integer");
	expect("domain = \"example.org\";\nsmtp = 3;\n",
	    "2: smtp: must be a group { ... }, not an integer",
	    "group given a scalar");
	expect("domain = \"example.org\";\nsmtp = { connections = 0; };\n",
	    "2: smtp.connections: 0 is out of range (1 to 64)", "range");
	expect("domain = \"example.org\";\ntransport = \"pigeon\";\n",
	    "2: transport: must be \"outbox\" or \"smtp\", not \"pigeon\"",
	    "bad enum value");
	expect("domain = \"example.org\";\ntick = \"soon\";\n",
	    "2: tick: 'soon' is not a duration (such as 90s, 15m, 2h, 1d)",
	    "bad duration");
	expect("domain = \"example.org\";\n"
	    "quiet_hours = { start = \"25:00\"; end = \"08:00\"; };\n",
	    "2: quiet_hours.start: must be a time of day such as \"21:30\", "
	    "not \"25:00\"", "bad time of day");
	expect("domain = \"example.org\"\ntick = 5;\nlog_level = ;\n",
	    "3: syntax error: syntax error", "syntax error with its line");
	expect("tick = 5;\ntemplates_dir = \".\";\n", " domain: required: the mail domain Clarion's "
	    "own addresses use, such as \"example.org\"",
	    "missing required key");

	got = load_error("domain = \"example.org\";\n"
	    "smtp = { password = \"hunter2\"; };\n", 0644);
	xasprintf(&want, "%s/c.conf: smtp.password: a password is set here, "
	    "so the file must be private: %s/c.conf: holds a secret but is "
	    "readable by group or others (mode 0644); fix: chmod 600 "
	    "%s/c.conf", dir, dir, dir);
	is_str(got, want, "a world-readable config holding a password is "
	    "refused");
	ok(got == NULL || strstr(got, "hunter2") == NULL,
	    "the password is not in the message");
	free(got);
	free(want);
	got = load_error("domain = \"example.org\";\n"
	    "smtp = { password = \"hunter2\"; };\n", 0600);
	ok(got == NULL, "the same config mode 0600 is accepted");
	free(got);

	free(write_conf("pw", "hunter2\n", 0644));
	got = load_error("domain = \"example.org\";\n"
	    "smtp = { password_file = \"pw\"; };\n", 0644);
	ok(got == NULL, "an unused relay password file is not checked "
	    "(the outbox transport needs no relay)");
	free(got);
	got = load_error("domain = \"example.org\";\ntransport = \"smtp\";\n"
	    "inbound = \"external\";\n"
	    "smtp = { url = \"smtps://127.0.0.1\"; password_file = \"pw\"; };\n",
	    0644);
	xasprintf(&want, "%s/c.conf:4: smtp.password_file: %s/pw: holds a "
	    "secret but is readable by group or others (mode 0644); fix: "
	    "chmod 600 %s/pw", dir, dir, dir);
	is_str(got, want, "a readable password file is refused");
	free(got);
	free(want);

	got = NULL;
	{
		struct config	*c;
		char		*path;

		xasprintf(&path, "%s/missing.conf", dir);
		c = config_load(path, &got);
		ok(c == NULL, "a missing file does not load");
		xasprintf(&want, "%s: cannot read the configuration: No such "
		    "file or directory", path);
		is_str(got, want, "a missing file is told apart from a syntax "
		    "error");
		free(path);
		free(want);
		free(got);
	}
}

/* Every error in one run, each at its line, then how many. */
static void
test_all_errors(void)
{
	char	*want;

	xasprintf(&want, "%s/c.conf:7: frob: unknown key\n"
	    "%s/c.conf:2: timezone: \"Mars/Olympus\" is not in the time zone "
	    "database (/usr/share/zoneinfo); use a name such as "
	    "\"Europe/London\"\n"
	    "%s/c.conf:6: templates_dir: %s/nope: No such file or directory\n"
	    "%s/c.conf:5: addresses.unsubscribe_url: must be an https:// "
	    "address (RFC 8058 one-click unsubscribe), not \"http://x.org/u\"\n"
	    "%s/c.conf:3: transport: \"smtp\" sends real mail, but "
	    "imap.enabled is false: nothing reads the replies, bounces and "
	    "unsubscribe requests sent to unsubscribe+...@example.org; enable "
	    "imap, or set inbound = \"external\" if something else handles "
	    "that mail\n%s/c.conf: 5 errors", dir, dir, dir, dir, dir, dir,
	    dir);
	{
		char	*got = load_error("domain = \"example.org\";\n"
		    "timezone = \"Mars/Olympus\";\ntransport = \"smtp\";\n"
		    "smtp = { url = \"smtps://x\"; };\n"
		    "addresses = { unsubscribe_url = \"http://x.org/u\"; };\n"
		    "templates_dir = \"nope\";\nfrob = 1;\n", 0600);

		is_str(got, want, "every error is reported, in one run");
		free(got);
	}
	free(want);
	expect("domain = \"example.org\";\ninbound = \"external\";\n"
	    "imap = { enabled = true; url = \"imaps://x\"; user = \"u\";\n"
	    "  password = \"p\"; };\n", "2: inbound: \"external\" says "
	    "something other than Clarion reads the replies, but imap.enabled "
	    "is true", "inbound external with imap on is a contradiction");
}

static void
test_keys_table(void)
{
	const char *const *k = config_known_keys();
	int	 n = 0, has_url = 0;

	for (; *k != NULL; k++, n++)
		has_url |= strcmp(*k, "smtp.url") == 0;
	ok(n > 40 && has_url, "the key table lists every key (%d)", n);
}

int
main(void)
{
	log_init("test_config", 0, LOG_LEVEL_ERROR);
	if (mkdtemp(dir) == NULL)
		fatal("mkdtemp");
	test_good();
	test_errors();
	test_all_errors();
	test_keys_table();
	return tap_done();
}
