/*
 * Hostile input, one parser at a time: each case is refused with a clear
 * message (or classified harmlessly) and nothing else changes. The
 * end-to-end cases (through clarion and clariond into the outbox) are in
 * hostile.sh. Inputs the fuzzers found are here as regression tests.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clarion.h"
#include "tap.h"

static const unsigned char new_secret[32] = "new-secret-0123456789abcdefghijk";
static const unsigned char old_secret[32] = "old-secret-0123456789abcdefghijk";

static void
test_token_shape(void)
{
	struct token_keys	 k;
	char			 t[TOKEN_MAX], bad[TOKEN_MAX * 2];
	int64_t			 id = -1;

	token_keys_init(&k, new_secret, sizeof new_secret, NULL, 0);
	token_make(&k, TOKEN_UNSUBSCRIBE, 4242, t, sizeof t);
	ok(token_check(&k, TOKEN_UNSUBSCRIBE, t, &id) == 0 && id == 4242,
	    "a token made with the key verifies to its delivery");

	id = -1;
	snprintf(bad, sizeof bad, "%.*s", (int)strlen(t) - 1, t);
	ok(token_check(&k, TOKEN_UNSUBSCRIBE, bad, &id) == -1 && id == -1,
	    "a token one character short fails and sets no id");
	snprintf(bad, sizeof bad, "%sa", t);
	ok(token_check(&k, TOKEN_UNSUBSCRIBE, bad, &id) == -1,
	    "a token one character long fails");
	memset(bad, 'a', 40);
	bad[40] = '\0';
	ok(token_check(&k, TOKEN_UNSUBSCRIBE, bad, &id) == -1,
	    "a 40-character token fails");
	ok(token_check(&k, TOKEN_UNSUBSCRIBE, "", &id) == -1 &&
	    token_check(&k, TOKEN_UNSUBSCRIBE, NULL, &id) == -1,
	    "an empty or missing token fails");

	/* Outside the base32 alphabet: 0 1 8 9 and punctuation. */
	snprintf(bad, sizeof bad, "%s", t);
	bad[strlen(bad) - 1] = '0';
	ok(token_check(&k, TOKEN_UNSUBSCRIBE, bad, &id) == -1,
	    "a '0' (not base32) fails");
	bad[strlen(bad) - 1] = '8';
	ok(token_check(&k, TOKEN_UNSUBSCRIBE, bad, &id) == -1,
	    "an '8' (not base32) fails");
	snprintf(bad, sizeof bad, "%s", t);
	bad[1] = '!';
	ok(token_check(&k, TOKEN_UNSUBSCRIBE, bad, &id) == -1,
	    "punctuation fails");
	snprintf(bad, sizeof bad, "%s\r\nBcc: x@example.org", t);
	ok(token_check(&k, TOKEN_UNSUBSCRIBE, bad, &id) == -1,
	    "a token followed by a header fails");
	ok(token_check(&k, TOKEN_BOUNCE, t, &id) == -1,
	    "an unsubscribe token does not work as a bounce token");
	ok(id == -1, "no failed check stored an id");
}

/* Rotation: config token_old_secret_file + token_old_until. */
static void
test_token_rotation(void)
{
	struct token_keys	 before, after, later;
	char			 t[TOKEN_MAX], t2[TOKEN_MAX];
	int64_t			 id = 0;

	token_keys_init(&before, old_secret, sizeof old_secret, NULL, 0);
	token_make(&before, TOKEN_REPLY, 77, t, sizeof t);

	/* Rotated: the new secret signs, the old one is still accepted. */
	token_keys_init(&after, new_secret, sizeof new_secret, old_secret,
	    sizeof old_secret);
	token_keys_old_until(&after, clock_now() + 3600);
	ok(token_check(&after, TOKEN_REPLY, t, &id) == 0 && id == 77,
	    "a token made under the old key verifies with the rotated keys");
	token_make(&after, TOKEN_REPLY, 77, t2, sizeof t2);
	ok(strcmp(t, t2) != 0, "new tokens are made with the new key");
	ok(token_check(&before, TOKEN_REPLY, t2, &id) == -1,
	    "a new token does not verify under the old key alone");

	/* After token_old_until, the old key is no longer loaded. */
	token_keys_init(&later, new_secret, sizeof new_secret, NULL, 0);
	ok(token_check(&later, TOKEN_REPLY, t, &id) == -1,
	    "an old token fails once the old key is dropped");
	ok(token_check(&later, TOKEN_REPLY, t2, &id) == 0,
	    "a new token still verifies once the old key is dropped");
}

/*
 * security (key rotation): the grace period ends while the keys are
 * loaded (a daemon started before token_old_until): the old key's tokens
 * are refused from then, by the same keys, without a reload.
 */
static void
test_token_expiry(void)
{
	struct token_keys	 before, after;
	struct token_ref	 ref;
	char			 t[TOKEN_MAX], t2[TOKEN_MAX];

	setenv("CLARION_NOW", "1800000000", 1);
	token_keys_init(&before, old_secret, sizeof old_secret, NULL, 0);
	token_make(&before, TOKEN_UNSUBSCRIBE, 31, t, sizeof t);
	token_keys_init(&after, new_secret, sizeof new_secret, old_secret,
	    sizeof old_secret);
	token_keys_old_until(&after, 1800000100);
	token_make(&after, TOKEN_UNSUBSCRIBE, 32, t2, sizeof t2);
	ok(token_verify(&after, TOKEN_UNSUBSCRIBE, t, &ref) == 0 &&
	    ref.delivery_id == 31 && ref.old_key == 1 &&
	    ref.purpose == TOKEN_UNSUBSCRIBE,
	    "before token_old_until: an old token verifies, marked old");
	setenv("CLARION_NOW", "1800000100", 1);
	is_int(token_verify(&after, TOKEN_UNSUBSCRIBE, t, &ref), TOKEN_EXPIRED,
	    "at token_old_until the same keys refuse it as expired");
	ok(token_verify(&after, TOKEN_UNSUBSCRIBE, t2, &ref) == 0 &&
	    ref.old_key == 0, "while new tokens still verify");
	token_keys_init(&after, new_secret, sizeof new_secret, old_secret,
	    sizeof old_secret);
	setenv("CLARION_NOW", "1800000000", 1);
	is_int(token_verify(&after, TOKEN_UNSUBSCRIBE, t, &ref), TOKEN_EXPIRED,
	    "keys whose grace period was never set accept no old token");
	unsetenv("CLARION_NOW");
}

/*
 * Suppressions are keyed hashes under the token key: after a rotation, a
 * member who complained or unsubscribed under the old key must still be
 * suppressed while the old key is loaded.
 */
static void
test_suppression_rotation(void)
{
	struct token_keys	 before, after;
	struct db		*db;
	char			 path[] = "/tmp/clarion-hostile-db.XXXXXX";
	char			*cause = NULL, *p;
	int			 fd;

	if ((fd = mkstemp(path)) == -1)
		abort();
	close(fd);
	unlink(path);
	if ((db = db_open(path, 1, &cause)) == NULL) {
		ok(0, "open a database: %s", cause);
		free(cause);
		return;
	}
	token_keys_init(&before, old_secret, sizeof old_secret, NULL, 0);
	token_keys_init(&after, new_secret, sizeof new_secret, old_secret,
	    sizeof old_secret);
	ok(subscriber_suppress(db, &before, "eve@example.org", "complaint",
	    "", NULL) == 0,
	    "a complaint is suppressed under the old key");
	ok(subscriber_suppressed(db, &after, "eve@example.org") == 1,
	    "and is still suppressed once the secret is rotated");
	ok(subscriber_suppressed(db, &after, "fred@example.org") == 0,
	    "while others are not");
	db_close(db);
	unlink(path);
	xasprintf(&p, "%s-wal", path);
	unlink(p);
	free(p);
	xasprintf(&p, "%s-shm", path);
	unlink(p);
	free(p);
}

/* fuzz_address found this: a quoted local part hid an escaped CR LF. */
static void
test_address(void)
{
	char	*out = NULL, *cause = NULL;

	ok(addr_normalize("\"jo\\\r\\\nBcc: all@example.org\"@example.org",
	    &out, &cause) == -1 && out == NULL,
	    "an escaped CR LF in a quoted local part is refused");
	is_str(cause, "contains a control character", "and says why");
	free(cause);
	cause = NULL;
	ok(addr_normalize("\"jo\\\x01\"@example.org", &out, &cause) == -1,
	    "an escaped control character is refused");
	free(cause);
	cause = NULL;
	ok(addr_normalize("jo@example.org\r\nBcc: all@example.org", &out,
	    &cause) == -1, "a header after the address is refused");
	free(cause);
	cause = NULL;
	ok(addr_normalize("\"jo \\\"x\\\"\"@example.org", &out, &cause) == 0,
	    "an escaped quote in a quoted local part is still fine");
	free(out);
	free(cause);
}

static void
test_csv(void)
{
	static const char data[] =
	    "email,name\n"
	    "a@example.org,Ann\n"
	    "b@example.org,B\0b\n"
	    "c@example.org,\xff\xfe\n"
	    "d@example.org,Dee\n";
	struct csv	*c;
	struct csv_row	 row;
	char		*cause = NULL, *lines = NULL, *tmp;
	int		 rc, good = 0, bad = 0;

	c = csv_new(data, sizeof data - 1, '\0', &cause);
	ok(c != NULL, "a CSV with a NUL and bad UTF-8 is opened");
	while (c != NULL && (rc = csv_next(c, &row, &cause)) != 0) {
		if (rc == 1) {
			good++;
			continue;
		}
		bad++;
		xasprintf(&tmp, "%s%zu: %s; ", lines != NULL ? lines : "",
		    row.line, cause);
		free(lines);
		lines = tmp;
		free(cause);
		cause = NULL;
	}
	is_int(good, 3, "the header and the two good rows are read");
	is_int(bad, 2, "the row with a NUL and the bad UTF-8 row are refused");
	ok(lines != NULL && strstr(lines, "3: ") != NULL &&
	    strstr(lines, "4: ") != NULL, "refused rows name lines 3 and 4");
	ok(lines != NULL && strstr(lines, "UTF-8") != NULL,
	    "the bad UTF-8 row says so");
	printf("# %s\n", lines != NULL ? lines : "");
	free(lines);
	csv_free(c);
}

static void
test_template(void)
{
	static const char src[] = "Hello\n{{#events}}\n{{title}}\n";
	static const char src2[] = "a\n{{#a}}\n{{/b}}\n";
	struct tmpl	*t;
	char		*cause = NULL;

	t = tmpl_parse(src, sizeof src - 1, &cause);
	ok(t == NULL, "an unclosed section is refused");
	ok(cause != NULL && strstr(cause, "line 2") != NULL &&
	    strstr(cause, "events") != NULL,
	    "the message names the section and its line: %s",
	    cause != NULL ? cause : "(none)");
	free(cause);
	cause = NULL;
	t = tmpl_parse(src2, sizeof src2 - 1, &cause);
	ok(t == NULL && cause != NULL && strstr(cause, "line 3") != NULL,
	    "a mismatched close is refused with its line: %s",
	    cause != NULL ? cause : "(none)");
	free(cause);
}

static char *
write_conf(const char *text)
{
	char	*path;
	FILE	*f;
	int	 fd;

	path = xstrdup("/tmp/clarion-hostile.XXXXXX");
	if ((fd = mkstemp(path)) == -1 || (f = fdopen(fd, "w")) == NULL)
		abort();
	fputs(text, f);
	fclose(f);
	return path;
}

static void
test_config(void)
{
	static const char *cases[] = {
		"domain = \"example.org\";\nsmtp = { helo = \"a\\r\\nMAIL FROM:<x>\"; };\n",
		"domain = \"exam\\x01ple.org\";\n",
		"domain = \"example.org\";\naddresses = { bounces = \"b\\ncc\"; };\n",
	};
	struct config	*c;
	char		*path, *cause;
	size_t		 i;

	for (i = 0; i < nitems(cases); i++) {
		path = write_conf(cases[i]);
		cause = NULL;
		c = config_load(path, &cause);
		ok(c == NULL && cause != NULL &&
		    strstr(cause, "control character") != NULL &&
		    strstr(cause, path) != NULL,
		    "config case %zu: a control character is refused with "
		    "the file: %s", i + 1, cause != NULL ? cause : "(loaded)");
		config_free(c);
		free(cause);
		unlink(path);
		free(path);
	}
}

static void
test_classify(void)
{
	struct classify_opts	 o = { "example.org", "bounces", "reply",
	    "unsubscribe", '+', 1024 * 1024 };
	struct classify_result	 r;
	struct buf		 b;
	int			 i, rc;

	/* Deeply nested MIME: 5000 levels of multipart/mixed. */
	buf_init(&b);
	buf_adds(&b, "From: x@example.net\r\nSubject: nest\r\nMIME-Version: 1.0\r\n");
	for (i = 0; i < 5000; i++)
		buf_addf(&b, "Content-Type: multipart/mixed; boundary=\"b%d\""
		    "\r\n\r\n--b%d\r\n", i, i);
	buf_adds(&b, "Content-Type: text/plain\r\n\r\nunsubscribe\r\n");
	rc = classify_message(b.data, b.len, &o, &r);
	ok(rc == 0, "a message nested 5000 deep is classified");
	ok(r.class != INBOUND_UNSUBSCRIBE && r.class != INBOUND_BOUNCE_HARD,
	    "and acts on nobody (%s: %s)", inbound_class_name(r.class),
	    r.reason != NULL ? r.reason : "");
	classify_result_free(&r);

	/* Oversized: larger than the configured limit. */
	buf_reset(&b);
	buf_adds(&b, "From: x@example.net\r\nTo: unsubscribe+aaaaaaaaaaaaaaaaaa@example.org\r\n\r\n");
	while (b.len <= o.max_size)
		buf_adds(&b, "spam spam spam spam spam spam spam spam\r\n");
	rc = classify_message(b.data, b.len, &o, &r);
	ok(rc == 0 && r.class == INBOUND_UNKNOWN && r.token == NULL,
	    "an oversized message is not parsed (%s)",
	    r.reason != NULL ? r.reason : "");
	classify_result_free(&r);

	/* One 900 KB header line and one 900 KB body line. */
	buf_reset(&b);
	buf_adds(&b, "From: x@example.net\r\nSubject: ");
	for (i = 0; i < 900 * 1024; i++)
		buf_addc(&b, 'x');
	buf_adds(&b, "\r\n\r\n");
	for (i = 0; i < 900 * 1024 / 8; i++)
		buf_adds(&b, "abcdefg ");
	buf_adds(&b, "\r\n");
	o.max_size = 0;
	rc = classify_message(b.data, b.len, &o, &r);
	ok(rc == 0 && r.class != INBOUND_UNSUBSCRIBE,
	    "900 KB lines are classified harmlessly (%s)",
	    inbound_class_name(r.class));
	classify_result_free(&r);
	buf_free(&b);
}

/* libetpan's recursion is bounded whatever the spelling of the field. */
static void
test_depth_bound(void)
{
	static const char *const spellings[] = {
		"Content-Type: message/rfc822\r\n",
		"Content-Type : message/rfc822\r\n",
		"content-TYPE\r\n :\r\n message/rfc822\r\n",
		"CONTENT-TYPE\t: =?us-ascii?Q?message/rfc822?=\r\n",
		"Content-Type (c) : message/rfc822\r\n",
	};
	const char	*s;
	size_t		 i;

	for (i = 0; i < nitems(spellings); i++) {
		s = spellings[i];
		ok(mail_depth_bound(s, strlen(s), 10) == 4,
		    "one level counted for \"%.*s\"", (int)strcspn(s, "\r"),
		    s);
	}
	s = "Subject: no type\r\n\r\nbody\r\n";
	ok(mail_depth_bound(s, strlen(s), 10) == 2,
	    "a message without Content-Type: the root and its body");
	s = "content-type content-type content-type content-type";
	ok(mail_depth_bound(s, strlen(s), 2) == 2 * 3 + 2,
	    "counting stops past the limit");
}

int
main(void)
{
	log_init("test_hostile", 0, LOG_LEVEL_ERROR);
	test_token_shape();
	test_token_rotation();
	test_token_expiry();
	test_suppression_rotation();
	test_address();
	test_csv();
	test_template();
	test_config();
	test_classify();
	test_depth_bound();
	return tap_done();
}
