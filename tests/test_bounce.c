/*
 * Unit tests for bounce.c on a temporary database with a fixed clock
 * (CLARION_NOW): decay, the soft threshold, hard bounces, resets, the
 * caller's transaction, and the owners' digest sent once.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "clarion.h"
#include "db_sqlite.h"	/* white-box: the SQLite backend */
#include "tap.h"

#define T0	1790000000LL	/* 2026-09-21 */
#define DAY	86400LL

static char	 dir[] = "/tmp/clarion-bounce-XXXXXX";
static struct config conf;
static struct token_keys keys;
/* A report by mail attributed by the bounce token of delivery 0. */
static const struct token_ref bt = { TOKEN_BOUNCE, 0, 0 };

static void
at(long long t)
{
	char	 v[32];

	snprintf(v, sizeof v, "%lld", t);
	setenv("CLARION_NOW", v, 1);
}

static double
scalar_f(struct db *db, const char *sql)
{
	sqlite3_stmt	*st;
	double		 v = -1;

	if (sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_double(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* A text column, with quoted-printable soft breaks undone. */
static char *
scalar_s(struct db *db, const char *sql)
{
	sqlite3_stmt	*st;
	char		*v = NULL, *p;

	if (sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		v = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	while (v != NULL && (p = strstr(v, "=\r\n")) != NULL)
		memmove(p, p + 3, strlen(p + 3) + 1);
	return v;
}

static long
count(struct db *db, const char *sql)
{
	return (long)scalar_f(db, sql);
}

static int
near(double a, double b)
{
	return a - b < 1e-9 && b - a < 1e-9;
}

static void
setup(struct db *db)
{
	char	*cause = NULL;
	int	 i;
	char	 sql[256];

	if (db_exec(db, "INSERT INTO lists (id, name, display_name, "
	    "from_addr, owner_addr, created, updated) VALUES "
	    "(1, 'members', 'Hillside CLP', 'news@example.org', "
	    "'owner@example.org', 0, 0), "
	    "(2, 'picket', 'Picket line', 'picket@example.org', "
	    "'rep@example.org', 0, 0)", &cause) == -1)
		printf("# %s\n", cause);
	for (i = 1; i <= 6; i++) {
		snprintf(sql, sizeof sql, "INSERT INTO subscribers (id, address,"
		    " name, created, updated) VALUES (%d, 'm%d@members.test', "
		    "'Member %d', 0, 0); INSERT INTO memberships (subscriber_id,"
		    " list_id, created, updated) VALUES (%d, 1, 0, 0), (%d, 2, "
		    "0, 0)", i, i, i, i, i);
		if (db_exec(db, sql, &cause) == -1)
			printf("# %s\n", cause);
	}
	free(cause);
}

static void
test_decay(void)
{
	ok(near(bounce_decay(1, T0, T0, 30 * DAY), 1), "no time, no decay");
	ok(near(bounce_decay(1, T0, T0 + 30 * DAY, 30 * DAY), 0.5),
	    "half after one window");
	ok(near(bounce_decay(4, T0, T0 + 60 * DAY, 30 * DAY), 1),
	    "a quarter after two windows");
	ok(near(bounce_decay(1, T0, T0 + 15 * DAY, 30 * DAY),
	    0.70710678118654752), "1/sqrt(2) after half a window");
	ok(bounce_decay(1, T0, T0 + 100000 * DAY, 30 * DAY) < 1e-30,
	    "gone after a very long time");
}

static void
test_soft(struct db *db)
{
	int	 i, rc = 0;

	at(T0);
	for (i = 1; i <= 4; i++)
		rc |= bounce_record(db, &conf, &keys, 1, 0, 0, "5.2.2",
		    "mailbox full", &bt);
	is_int(rc, 0, "four soft bounces at once do not disable");
	ok(near(scalar_f(db, "SELECT score FROM bounce_scores WHERE "
	    "subscriber_id = 1"), 4), "score is 4");
	is_int(count(db, "SELECT count(*) FROM memberships WHERE "
	    "subscriber_id = 1 AND status = 'subscribed'"), 2,
	    "still subscribed to both lists");
	is_int(bounce_record(db, &conf, &keys, 1, 0, 0, "5.2.2",
	    "mailbox full", &bt), 1, "the fifth reaches the threshold: "
	    "disabled");
	is_int(count(db, "SELECT count(*) FROM memberships WHERE "
	    "subscriber_id = 1 AND status = 'subscribed'"), 0,
	    "unsubscribed from every list");
	is_int(count(db, "SELECT count(*) FROM suppressions WHERE address = "
	    "'m1@members.test' AND reason = 'soft-bounce'"), 1,
	    "suppressed as soft-bounce");
	is_int(count(db, "SELECT disabled_at FROM bounce_scores WHERE "
	    "subscriber_id = 1"), T0, "disabled_at is now");
	is_int(bounce_record(db, &conf, &keys, 1, 0, 0, "5.2.2",
	    "mailbox full", &bt), 0, "a sixth does not disable again");
	is_int(count(db, "SELECT count(*) FROM bounces WHERE subscriber_id = "
	    "1 AND hard = 0 AND source = 'dsn'"), 6, "all six are logged");
}

static void
test_decay_stored(struct db *db)
{
	at(T0);
	bounce_record(db, &conf, &keys, 2, 0, 0, "4.2.2", "full", NULL);
	at(T0 + 30 * DAY);
	bounce_record(db, &conf, &keys, 2, 0, 0, "4.2.2", "full", NULL);
	ok(near(scalar_f(db, "SELECT score FROM bounce_scores WHERE "
	    "subscriber_id = 2"), 1.5), "1 decayed over a window + 1 = 1.5");
	is_int(count(db, "SELECT last_bounce_at FROM bounce_scores WHERE "
	    "subscriber_id = 2"), T0 + 30 * DAY, "last bounce time stored");
	is_int(bounce_success(db, 2), 0, "bounce_success");
	ok(near(scalar_f(db, "SELECT score FROM bounce_scores WHERE "
	    "subscriber_id = 2"), 0), "a delivery resets the score");
}

/* A weekly list that bounces every issue: disabled on the 9th week. */
static void
test_weekly(struct db *db)
{
	int	 week, rc = 0;

	for (week = 0; week < 8; week++) {
		at(T0 + week * 7 * DAY);
		rc |= bounce_record(db, &conf, &keys, 3, 0, 0, "5.7.1",
		    "blocked", &bt);
	}
	is_int(rc, 0, "eight weekly soft bounces do not disable");
	at(T0 + 8 * 7 * DAY);
	is_int(bounce_record(db, &conf, &keys, 3, 0, 0, "5.7.1", "blocked",
	    &bt), 1, "the ninth does");
}

static void
test_hard(struct db *db)
{
	char	*s;

	at(T0 + DAY);
	is_int(bounce_record(db, &conf, &keys, 4, 0, 1, "5.1.1",
	    "user unknown", &bt), 1, "a hard bounce disables at once");
	is_int(count(db, "SELECT count(*) FROM memberships WHERE "
	    "subscriber_id = 4 AND status = 'subscribed'"), 0,
	    "unsubscribed from every list");
	is_int(count(db, "SELECT count(*) FROM suppressions WHERE address = "
	    "'m4@members.test' AND reason = 'hard-bounce'"), 1,
	    "suppressed as hard-bounce");
	s = scalar_s(db, "SELECT reason FROM bounce_scores WHERE "
	    "subscriber_id = 4");
	is_str(s, "hard bounce: 5.1.1 user unknown", "the reason is kept");
	free(s);
	is_int(bounce_record(db, &conf, &keys, 4, 0, 1, "5.1.1",
	    "user unknown", &bt), 0, "a second hard bounce (of mail sent "
	    "before the first) does not disable again");
	is_int(count(db, "SELECT count(*) FROM bounces WHERE subscriber_id = "
	    "4"), 2, "but is logged");
	is_int(bounce_record(db, &conf, &keys, 0, 0, 1, "5.1.1", "x", &bt),
	    -1, "no subscriber: an error");
	s = scalar_s(db, "SELECT x.source || '/' || x.token_purpose FROM "
	    "bounce_scores b JOIN bounces x ON x.id = b.bounce_id WHERE "
	    "b.subscriber_id = 4");
	is_str(s, "dsn/bounce", "the disabling bounce's token is recorded");
	free(s);
}

/*
 * security (attribution): where the effect is applied, only the bounce
 * token of the delivery counts; reply and unsubscribe tokens, or another
 * delivery's token, record nothing.
 */
static void
test_wrong_token(struct db *db)
{
	static const struct token_ref rt = { TOKEN_REPLY, 0, 0 };
	static const struct token_ref ut = { TOKEN_UNSUBSCRIBE, 0, 0 };
	static const struct token_ref other = { TOKEN_BOUNCE, 99, 0 };
	long	 before;

	at(T0 + DAY);
	before = count(db, "SELECT count(*) FROM bounces");
	is_int(bounce_record(db, &conf, &keys, 6, 0, 1, "5.1.1", "forged",
	    &rt), -1, "a reply token cannot record a bounce");
	is_int(bounce_record(db, &conf, &keys, 6, 0, 1, "5.1.1", "forged",
	    &ut), -1, "nor an unsubscribe token");
	is_int(bounce_record(db, &conf, &keys, 6, 0, 1, "5.1.1", "forged",
	    &other), -1, "nor another delivery's bounce token");
	is_int(bounce_complaint(db, &keys, 6, 0, &ut, "abuse"), -1,
	    "an unsubscribe token cannot record a complaint");
	is_int(bounce_complaint(db, &keys, 6, 0, NULL, "abuse"), -1,
	    "nor can no token");
	is_int(count(db, "SELECT count(*) FROM bounces"), before,
	    "nothing was recorded");
	is_int(count(db, "SELECT count(*) FROM memberships WHERE "
	    "subscriber_id = 6 AND status = 'subscribed'"), 2,
	    "the member is still on both lists");
	is_int(count(db, "SELECT count(*) FROM suppressions WHERE address = "
	    "'m6@members.test'"), 0, "and not suppressed");
}

/* Inside the caller's transaction, a rollback undoes the bounce too. */
static void
test_nested(struct db *db)
{
	long	 before;

	before = count(db, "SELECT count(*) FROM bounces");
	db_begin(db);
	is_int(bounce_record(db, &conf, &keys, 5, 0, 1, "5.1.1", "gone",
	    NULL), 1, "recorded inside a transaction");
	db_rollback(db);
	is_int(count(db, "SELECT count(*) FROM bounces"), before,
	    "the caller's rollback discards the bounce");
	is_int(count(db, "SELECT count(*) FROM memberships WHERE "
	    "subscriber_id = 5 AND status = 'subscribed'"), 2,
	    "and the unsubscribe");
}

static void
test_digest(struct db *db)
{
	char	*cause = NULL, *msg;

	at(T0 + 70 * DAY);
	is_int(bounce_digest(db, &conf, clock_now(), &cause), 0, "digest runs");
	is_int(count(db, "SELECT count(*) FROM sysmail WHERE kind = "
	    "'digest'"), 2, "one digest per list owner");
	is_int(count(db, "SELECT count(*) FROM sysmail WHERE kind = 'digest' "
	    "AND to_addr = 'owner@example.org' AND list_id = 1"), 1,
	    "to the owner of members");
	msg = scalar_s(db, "SELECT message FROM sysmail WHERE to_addr = "
	    "'owner@example.org'");
	ok(msg != NULL && strstr(msg, "m4@members.test") != NULL &&
	    strstr(msg, "m1@members.test") != NULL && strstr(msg,
	    "m3@members.test") != NULL, "naming the three disabled addresses");
	ok(msg != NULL && strstr(msg, "hard bounce: 5.1.1 user unknown") !=
	    NULL, "with the reason");
	ok(msg != NULL && strstr(msg, "m2@members.test") == NULL,
	    "not the one still subscribed");
	free(msg);
	is_int(count(db, "SELECT count(*) FROM bounce_scores WHERE "
	    "disabled_at IS NOT NULL AND digested = 0"), 0, "all marked digested");
	at(T0 + 72 * DAY);
	bounce_record(db, &conf, &keys, 6, 0, 1, "5.1.1", "gone", &bt);
	bounce_digest(db, &conf, clock_now(), &cause);
	is_int(count(db, "SELECT count(*) FROM sysmail WHERE kind = "
	    "'digest'"), 2, "not again before digest_interval");
	at(T0 + 70 * DAY + conf.digest_interval);
	bounce_digest(db, &conf, clock_now(), &cause);
	is_int(count(db, "SELECT count(*) FROM sysmail WHERE kind = "
	    "'digest'"), 4, "after the interval: the new one, for both owners");
	msg = scalar_s(db, "SELECT message FROM sysmail WHERE to_addr = "
	    "'owner@example.org' ORDER BY id DESC LIMIT 1");
	ok(msg != NULL && strstr(msg, "m6@members.test") != NULL &&
	    strstr(msg, "m4@members.test") == NULL,
	    "each address is reported once");
	free(msg);
	free(cause);
}

int
main(void)
{
	struct db	*db;
	char		 path[128];
	char		*cause = NULL;
	static const unsigned char secret[] = "0123456789abcdef0123456789abcdef";

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof path, "%s/c.db", dir);
	log_init("test_bounce", 0, LOG_LEVEL_ERROR);
	conf.domain = "example.org";
	conf.templates_dir = dir;	/* no templates: the built-in texts */
	conf.timezone = "Europe/London";
	conf.bounce_threshold = 5;
	conf.bounce_window = 30 * DAY;
	conf.digest_interval = 7 * DAY;
	token_keys_init(&keys, secret, sizeof secret - 1, NULL, 0);
	if ((db = db_open(path, 1, &cause)) == NULL) {
		printf("Bail out! %s\n", cause);
		return 1;
	}
	setup(db);
	test_decay();
	test_soft(db);
	test_decay_stored(db);
	test_weekly(db);
	test_hard(db);
	test_nested(db);
	test_wrong_token(db);
	test_digest(db);
	db_close(db);
	snprintf(path, sizeof path, "rm -rf %s", dir);
	if (system(path) != 0)
		return 1;
	return tap_done();
}
