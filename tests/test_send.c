/*
 * Unit tests for the send area's pure parts and queries: backoff, quiet
 * hours, the outbox Maildir, claiming by priority, recording results,
 * crash recovery, rate counts and the run counts.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "clarion.h"
#include "db_sqlite.h"	/* white-box: the SQLite backend */
#include "tap.h"

static char	 dir[] = "/tmp/clarion-send-XXXXXX";
static struct token_keys keys;	/* all zero: enough to hash addresses */

static long
scalar(struct db *db, const char *sql)
{
	sqlite3_stmt	*st;
	long		 v = -1;

	if (sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void
test_backoff(void)
{
	struct config	 c;
	long		 b;

	memset(&c, 0, sizeof c);
	c.retry_initial = 300;
	c.retry_max_interval = 3600;
	b = send_backoff(&c, 7, 1);
	ok(b > 240 && b <= 300, "first retry within 20%% under 5 min (%ld)", b);
	b = send_backoff(&c, 7, 2);
	ok(b > 480 && b <= 600, "then doubles (%ld)", b);
	b = send_backoff(&c, 7, 3);
	ok(b > 960 && b <= 1200, "and doubles again (%ld)", b);
	b = send_backoff(&c, 7, 30);
	ok(b > 2880 && b <= 3600, "capped at the maximum (%ld)", b);
	ok(send_backoff(&c, 7, 2) != send_backoff(&c, 8, 2) ||
	    send_backoff(&c, 9, 2) != send_backoff(&c, 8, 2),
	    "jitter spreads deliveries deferred together");
}

static void
test_quiet(void)
{
	struct config	 c;
	time_t		 t;
	char		*cause = NULL;

	memset(&c, 0, sizeof c);
	c.timezone = "Europe/London";
	c.quiet_start = c.quiet_end = -1;
	time_parse_local("2026-07-01 23:30", "Europe/London", &t, &cause);
	ok(!send_quiet(&c, t), "no quiet hours configured: never quiet");
	c.quiet_start = 21 * 60;
	c.quiet_end = 8 * 60;
	ok(send_quiet(&c, t), "23:30 BST is inside 21:00-08:00");
	time_parse_local("2026-07-01 07:59", "Europe/London", &t, &cause);
	ok(send_quiet(&c, t), "07:59 is inside");
	time_parse_local("2026-07-01 08:00", "Europe/London", &t, &cause);
	ok(!send_quiet(&c, t), "08:00 is outside (end is exclusive)");
	/* 20:30 UTC in summer is 21:30 in London. */
	t = 1782937800;	/* 2026-07-01 20:30:00 UTC */
	ok(send_quiet(&c, t), "the local time counts, not UTC");
	c.quiet_start = 13 * 60;
	c.quiet_end = 14 * 60;
	time_parse_local("2026-07-01 13:10", "Europe/London", &t, &cause);
	ok(send_quiet(&c, t), "a window inside one day works too");
	free(cause);
}

static void
test_outbox(void)
{
	char	*box, *cause = NULL, *p, *data;
	size_t	 len;
	DIR	*d;
	struct dirent *e;
	struct stat sb;
	int	 n = 0;

	xasprintf(&box, "%s/outbox", dir);
	ok(outbox_deliver(box, "Subject: a\r\n\r\nx\r\n", 17, &cause) == 0,
	    "outbox_deliver creates the Maildir and writes");
	ok(outbox_deliver(box, "Subject: b\r\n\r\ny\r\n", 17, &cause) == 0,
	    "a second message");
	xasprintf(&p, "%s/cur", box);
	ok(stat(p, &sb) == 0 && S_ISDIR(sb.st_mode) &&
	    (sb.st_mode & 0777) == 0700, "cur/ exists, mode 0700");
	free(p);
	xasprintf(&p, "%s/new", box);
	d = opendir(p);
	while (d != NULL && (e = readdir(d)) != NULL) {
		char	*f;

		if (e->d_name[0] == '.')
			continue;
		n++;
		xasprintf(&f, "%s/%s", p, e->d_name);
		data = file_read(f, &len, &cause);
		ok(data != NULL && len == 17 && strncmp(data, "Subject: ", 9)
		    == 0, "new/%s holds the message", e->d_name);
		free(data);
		free(f);
	}
	if (d != NULL)
		closedir(d);
	is_int(n, 2, "two files in new/, none left in tmp/");
	free(p);
	xasprintf(&p, "%s/tmp", box);
	d = opendir(p);
	n = 0;
	while (d != NULL && (e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	if (d != NULL)
		closedir(d);
	is_int(n, 0, "tmp/ is empty");
	free(p);
	free(box);
	free(cause);
}

static struct db *
fixture(const char *name)
{
	struct db	*db;
	char		*path, *cause = NULL;

	xasprintf(&path, "%s/%s", dir, name);
	db = db_open(path, 1, &cause);
	free(path);
	if (db == NULL) {
		printf("Bail out! %s\n", cause);
		exit(1);
	}
	db_exec(db, "INSERT INTO lists(id,name,from_addr,owner_addr,created,"
	    "updated) VALUES (1,'l','l@x','o@x',0,0);"
	    "INSERT INTO items(id,name,list_id,kind,template,subject,created,"
	    "updated) VALUES (1,'i',1,'newsletter','t','s',0,0);"
	    "INSERT INTO runs(id,item_id,due_at,created) VALUES (1,1,0,0);"
	    "INSERT INTO subscribers(id,address,created,updated) VALUES "
	    "(1,'a@x',0,0),(2,'b@x',0,0),(3,'c@x',0,0),(4,'d@x',0,0);"
	    "INSERT INTO memberships(subscriber_id,list_id,created,updated) "
	    "SELECT id, 1, 0, 0 FROM subscribers;"
	    "INSERT INTO deliveries(id,run_id,subscriber_id,address,priority,"
	    "state,next_attempt,created) VALUES "
	    "(1,1,1,'a@x',0,'queued',0,100),(2,1,2,'b@x',5,'queued',0,100),"
	    "(3,1,3,'c@x',0,'deferred',2000,100),"
	    "(4,1,4,'d@x',0,'deferred',500,100);"
	    "INSERT INTO sysmail(id,kind,to_addr,message,created) VALUES "
	    "(1,'unsubscribed','a@x','Subject: bye\r\n\r\n',100);", &cause);
	free(cause);
	return db;
}

static void
test_claim_record(void)
{
	struct db	*db = fixture("claim.db");
	struct delivery_claim *c;
	struct delivery_outcome o[3];
	struct delivery_counts k;
	size_t		 n;
	long		 nd, ns;

	ok(db_delivery_claim(db, &keys, 1000, 10, 0, &c, &n) == 0, "claim");
	is_int(n, 3, "queued ones and the deferred one that is due");
	if (n == 3) {
		is_int(c[0].id, 2, "higher priority first");
		is_int(c[1].id, 1, "then by id");
		is_int(c[2].id, 4, "then the due deferred one");
		is_str(c[0].address, "b@x", "with its address");
	}
	delivery_claims_free(c, n);
	is_int(scalar(db, "SELECT count(*) FROM deliveries WHERE state = "
	    "'sending' AND claimed_at = 1000"), 3, "claimed rows are 'sending'");
	ok(db_delivery_claim(db, &keys, 1000, 10, 0, &c, &n) == 0 && n == 0,
	    "a second claim finds nothing");
	free(c);

	memset(o, 0, sizeof o);
	o[0].id = 2; o[0].state = DELIVERY_SENT; o[0].code = 250;
	o[0].reply = "250 ok"; o[0].at = 1001;
	o[1].id = 1; o[1].state = DELIVERY_DEFERRED; o[1].code = 451;
	o[1].reply = "451 later"; o[1].next_attempt = 1300;
	o[2].id = 4; o[2].state = DELIVERY_FAILED; o[2].code = 550;
	o[2].reply = "550 5.1.1 gone";
	ok(db_delivery_record(db, o, 3, NULL) == 0, "record three results at once");
	is_int(scalar(db, "SELECT attempts FROM deliveries WHERE id = 1"), 1,
	    "an attempt is counted");
	is_int(scalar(db, "SELECT next_attempt FROM deliveries WHERE id = 1"),
	    1300, "the next try is kept");
	is_int(scalar(db, "SELECT last_code FROM deliveries WHERE id = 4"),
	    550, "the reply code is kept");
	is_int(db_sent_since(db, 1001), 1, "one sent at or after 1001");
	is_int(db_sent_since(db, 1002), 0, "none after");
	ok(db_run_delivery_counts(db, 1, &k, NULL) == 0, "run counts");
	ok(k.sent == 1 && k.deferred == 2 && k.failed == 1 &&
	    k.next_attempt == 1300, "sent 1, deferred 2 (next 1300), failed 1");

	/* A crash with two rows on the wire. */
	db_delivery_claim(db, &keys, 1300, 1, 0, &c, &n);
	delivery_claims_free(c, n);
	db_delivery_claim(db, &keys, 1300, 1, 1, &c, &n);
	is_int(n, 1, "a sysmail claim");
	if (n == 1)
		ok(c[0].sysmail && c[0].len == 16 &&
		    strcmp(c[0].kind, "unsubscribed") == 0,
		    "with its kind and message");
	delivery_claims_free(c, n);
	ok(db_delivery_recover(db, RESEND_HOLD, &nd, &ns) == 0 && nd == 1 &&
	    ns == 1, "recover finds one delivery and one sysmail in flight");
	is_int(scalar(db, "SELECT count(*) FROM deliveries WHERE state = "
	    "'held'"), 1, "hold: the delivery is held");
	is_int(scalar(db, "SELECT count(*) FROM sysmail WHERE state = "
	    "'queued'"), 1, "sysmail goes back to the queue");
	ok(db_delivery_release_held(db, 1, 0, &nd) == 0 && nd == 1,
	    "release the held one");
	is_int(scalar(db, "SELECT count(*) FROM deliveries WHERE state = "
	    "'queued'"), 1, "it is queued again");
	db_close(db);
}

/* Suppresses address in the claim's keyed-hash form. */
static void
suppress(struct db *db, const char *address, const char *reason)
{
	char	 hash[DB_HASH_HEX], *sql;

	db_address_hash(&keys, address, 0, hash);
	xasprintf(&sql, "INSERT INTO suppressions(address_hash, reason, "
	    "created) VALUES ('%s', '%s', 0)", hash, reason);
	db_exec(db, sql, NULL);
	free(sql);
}

/*
 * Consent at claim time: a member who left since the compose is not
 * claimed; the row ends suppressed with the reason. An unsubscribe
 * confirmation still goes to someone who unsubscribed, not to one who
 * complained.
 */
static void
test_claim_consent(void)
{
	struct db	*db = fixture("consent.db");
	struct delivery_claim *c;
	size_t		 n, i;
	int		 ids = 0;

	db_exec(db, "UPDATE memberships SET status = 'unsubscribed' WHERE "
	    "subscriber_id = 1; UPDATE deliveries SET subscriber_id = NULL, "
	    "address = NULL WHERE id = 4;"
	    "INSERT INTO sysmail(id,kind,to_addr,message,created) VALUES "
	    "(2,'unsubscribed','b@x','Subject: bye\r\n\r\n',100),"
	    "(3,'digest','a@x','Subject: digest\r\n\r\n',100);", NULL);
	suppress(db, "B@x", "unsubscribed");
	suppress(db, "a@x", "complaint");
	ok(db_delivery_claim(db, &keys, 1000, 10, 0, &c, &n) == 0, "claim");
	for (i = 0; i < n; i++)
		ids = ids * 10 + (int)c[i].id;
	is_int(ids, 0, "a left, b is suppressed, d was erased: none claimed");
	delivery_claims_free(c, n);
	is_int(scalar(db, "SELECT count(*) FROM deliveries WHERE state = "
	    "'suppressed'"), 3, "the three end suppressed");
	is_int(scalar(db, "SELECT count(*) FROM deliveries WHERE id = 1 AND "
	    "last_reply LIKE 'not sent: not subscribed%'"), 1,
	    "with the reason: not subscribed");
	is_int(scalar(db, "SELECT count(*) FROM deliveries WHERE id = 2 AND "
	    "last_reply = 'not sent: the address is suppressed "
	    "(unsubscribed)'"), 1, "suppressed, whatever the case");
	is_int(scalar(db, "SELECT count(*) FROM deliveries WHERE id = 4 AND "
	    "last_reply LIKE '%erased'"), 1, "erased");
	is_int(scalar(db, "SELECT count(*) FROM deliveries WHERE id = 3 AND "
	    "state = 'deferred'"), 1, "c (deferred, not yet due) is untouched");
	ok(db_delivery_claim(db, &keys, 1000, 10, 1, &c, &n) == 0, "sysmail");
	ids = 0;
	for (i = 0; i < n; i++)
		ids = ids * 10 + (int)c[i].id;
	is_int(ids, 23, "b's confirmation and the owner's digest go; a, who "
	    "complained, gets no confirmation");
	delivery_claims_free(c, n);
	is_int(scalar(db, "SELECT count(*) FROM sysmail WHERE id = 1 AND "
	    "state = 'failed' AND last_reply LIKE 'not sent: the address is "
	    "suppressed (complaint)'"), 1, "a's ends failed with the reason");
	db_close(db);
}

static void
test_rate(void)
{
	struct db	*db = fixture("rate.db");
	struct config	 c;

	memset(&c, 0, sizeof c);
	is_int(send_rate_budget(db, &c, 5000), -1, "no limits: unlimited");
	db_exec(db, "UPDATE deliveries SET state = 'sent', sent_at = 4990 "
	    "WHERE id IN (1, 2); UPDATE deliveries SET state = 'sent', "
	    "sent_at = 2000 WHERE id = 3", NULL);
	c.rate_per_minute = 5;
	is_int(send_rate_budget(db, &c, 5000), 3, "5/min less 2 this minute");
	c.rate_per_hour = 4;
	is_int(send_rate_budget(db, &c, 5000), 1, "4/hour less 3: the tightest");
	c.rate_per_hour = 2;
	is_int(send_rate_budget(db, &c, 5000), 0, "over a limit: none");
	db_close(db);
}

int
main(void)
{
	char	 cmd[128];

	if (mkdtemp(dir) == NULL)
		return 1;
	log_init("test_send", 0, LOG_LEVEL_ERROR);
	test_backoff();
	test_quiet();
	test_outbox();
	test_claim_record();
	test_claim_consent();
	test_rate();
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return tap_done();
}
