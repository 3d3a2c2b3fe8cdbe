/*
 * db_subscriber.c through the functions other areas call: the writer
 * behind imports, subscriber_recipients (segments, suppression, order),
 * db_unsubscribe, db_suppress/subscriber_suppressed, erasure.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "clarion.h"
#include "db_sqlite.h"	/* white-box: the SQLite backend */
#include "tap.h"

static char		 dir[] = "/tmp/clarion-sub-XXXXXX";
static struct token_keys keys;

struct seen {
	struct buf	 b;
	int		 stop_after;
	int		 n;
};

/* "ann@x.org[ward=Hillside],cat@x.org(suppressed)" */
static int
collect(void *arg, const struct recipient *r)
{
	struct seen	*s = arg;
	const char	*w;

	if (s->b.len > 0)
		buf_addc(&s->b, ',');
	buf_adds(&s->b, r->address);
	if ((w = json_string_value(json_object_get(r->attrs, "ward"))) != NULL)
		buf_addf(&s->b, "[ward=%s]", w);
	if (r->suppressed)
		buf_adds(&s->b, "(suppressed)");
	return ++s->n == s->stop_after ? -1 : 0;
}

static char *
recipients(struct db *db, int64_t list, const char *seg, int *rc)
{
	struct seen	 s;
	char		*cause = NULL;

	memset(&s, 0, sizeof s);
	buf_init(&s.b);
	*rc = subscriber_recipients(db, &keys, list, seg, collect, &s, &cause);
	if (cause != NULL) {
		buf_reset(&s.b);
		buf_addf(&s.b, "ERROR %s", cause);
		free(cause);
	}
	buf_addc(&s.b, '\0');
	return buf_steal(&s.b);
}

static void
expect_recipients(struct db *db, int64_t list, const char *seg,
    const char *want, const char *what)
{
	char	*got;
	int	 rc;

	got = recipients(db, list, seg, &rc);
	is_str(got, want, "%s", what);
	free(got);
}

static void
diag_cause(char *cause)
{
	printf("# %s\n", cause != NULL ? cause : "(no cause)");
	free(cause);
}

/* Adds one person through the writer; returns the result. */
static int
put(struct db *db, int64_t list, const char *address, const char *ward)
{
	struct sub_writer	*w = NULL;
	struct sub_record	 r;
	enum sub_result		 res = -1;
	const char		*k[] = { "ward" }, *v[] = { ward };
	char			*detail = NULL, *cause = NULL;

	memset(&r, 0, sizeof r);
	r.address = address;
	r.keys = k;
	r.values = v;
	r.nattrs = ward != NULL;
	if (db_begin(db) == -1 || (w = db_sub_writer_new(db, &keys, list,
	    "test", "consent", &cause)) == NULL || db_sub_writer_put(w, &r,
	    &res, &detail, &cause) == -1) {
		db_sub_writer_free(w);
		db_rollback(db);
		diag_cause(cause);
		return -1;
	}
	db_sub_writer_free(w);
	if (db_commit(db) == -1)
		return -1;
	free(detail);
	return (int)res;
}

static int
lists(struct db *db, int64_t *members, int64_t *other)
{
	struct list_info	 l;
	char			*cause = NULL;

	memset(&l, 0, sizeof l);
	l.name = "members";
	l.from_addr = "sec@example.org";
	l.owner_addr = "chair@example.org";
	if (db_list_create(db, &l, &cause) == -1)
		return -1;
	*members = l.id;
	l.name = "other";
	if (db_list_create(db, &l, &cause) == -1)
		return -1;
	*other = l.id;
	ok(db_list_create(db, &l, &cause) == -1 && cause != NULL &&
	    strcmp(cause, "a list named 'other' already exists") == 0,
	    "a second list of the same name is refused");
	free(cause);
	return 0;
}

static void
test_writer(struct db *db, int64_t members, int64_t other)
{
	struct sub_writer	*w;
	struct sub_record	 r;
	enum sub_result		 res;
	char			*detail, *cause = NULL;
	int64_t			 id;

	is_int(put(db, members, "ann@x.org", "Hillside"), SUB_ADDED, "ann added");
	is_int(put(db, members, "bob@x.org", "Riverside"), SUB_ADDED, "bob added");
	is_int(put(db, members, "cat@x.org", "Hillside"), SUB_ADDED, "cat added");
	is_int(put(db, members, "dan@x.org", NULL), SUB_ADDED, "dan added");
	is_int(put(db, other, "dan@x.org", NULL), SUB_ADDED,
	    "dan added to the other list too (the same person)");
	is_int(put(db, members, "ann@x.org", "Hillside"), SUB_UNCHANGED,
	    "ann again: unchanged");
	is_int(put(db, members, "ANN@x.org", "Moortown"), SUB_UPDATED,
	    "ANN@ is ann, and her ward changed");
	is_int(put(db, members, "ann@x.org", "Hillside"), SUB_UPDATED,
	    "and back");
	ok(db_subscriber_find(db, "Ann@X.org", &id) == 0,
	    "found in another case");

	/* A rolled-back writer leaves nothing behind. */
	memset(&r, 0, sizeof r);
	r.address = "eve@x.org";
	db_begin(db);
	w = db_sub_writer_new(db, &keys, members, "test", "", &cause);
	ok(w != NULL && db_sub_writer_put(w, &r, &res, &detail, &cause) == 0 &&
	    res == SUB_ADDED, "eve would be added");
	db_sub_writer_free(w);
	db_rollback(db);
	ok(1, "rolled back");
	ok(db_subscriber_find(db, "eve@x.org", &id) == -1,
	    "and eve is not there");
}

static void
test_recipients(struct db *db, int64_t members, int64_t other)
{
	char	*address = NULL, *name = NULL;
	json_t	*attrs = NULL;
	int64_t	 id;
	int	 rc;

	expect_recipients(db, members, NULL, "ann@x.org[ward=Hillside],"
	    "bob@x.org[ward=Riverside],cat@x.org[ward=Hillside],dan@x.org",
	    "every member, in subscriber order, with attributes");
	expect_recipients(db, members, "", "ann@x.org[ward=Hillside],"
	    "bob@x.org[ward=Riverside],cat@x.org[ward=Hillside],dan@x.org",
	    "an empty segment is everyone");
	expect_recipients(db, members, "ward = 'Hillside'",
	    "ann@x.org[ward=Hillside],cat@x.org[ward=Hillside]", "a segment");
	expect_recipients(db, members, "ward = 'x' or 1=1; DROP TABLE lists",
	    "ERROR segment: 1:17: expected a quoted value, found '1'",
	    "a bad segment: an error, and nobody");
	expect_recipients(db, other, NULL, "dan@x.org", "the other list");

	ok(subscriber_suppressed(db, &keys, "cat@x.org") == 0,
	    "cat not suppressed");
	ok(subscriber_suppress(db, &keys, "cat@x.org", "complaint", "ARF",
	    NULL) == 0,
	    "suppress cat");
	ok(subscriber_suppressed(db, &keys, "CAT@X.ORG") == 1,
	    "suppressed, whatever the case");
	expect_recipients(db, members, "ward = 'Hillside'",
	    "ann@x.org[ward=Hillside],cat@x.org[ward=Hillside](suppressed)",
	    "a suppressed member is passed, marked suppressed=1");
	is_int(put(db, members, "cat@x.org", NULL), SUB_REFUSED_SUPPRESSED,
	    "the writer refuses a suppressed address");

	ok(db_subscriber_find(db, "bob@x.org", &id) == 0 &&
	    db_unsubscribe(db, &keys, id, members, "reply") == 0, "unsubscribe bob");
	expect_recipients(db, members, "not has ward", "dan@x.org",
	    "bob is gone from the list");
	is_int(put(db, members, "bob@x.org", NULL), SUB_REFUSED_UNSUBSCRIBED,
	    "the writer does not re-subscribe him");
	ok(db_resubscribe(db, &keys, id, members, "asked again", "cli", NULL) == 0,
	    "resubscribe bob");
	{
		json_t	*e = subscriber_export(db, &keys, "bob@x.org");
		json_t	*c = json_array_get(json_object_get(e, "consent_log"), 0);

		is_str(json_string_value(json_object_get(c, "action")),
		    "resubscribed", "the consent log records the resubscription");
		is_str(json_string_value(json_object_get(c, "consent")),
		    "asked again", "with what was said");
		is_str(json_string_value(json_object_get(c, "list")),
		    "members", "and for which list");
		json_decref(e);
	}
	expect_recipients(db, members, "ward = 'Riverside'",
	    "bob@x.org[ward=Riverside]", "bob is back");

	ok(db_subscriber_find(db, "dan@x.org", &id) == 0 &&
	    db_unsubscribe(db, &keys, id, 0, "hard-bounce") == 0,
	    "unsubscribe dan from every list");
	expect_recipients(db, other, NULL, "", "the other list is empty");

	{
		struct seen s;

		memset(&s, 0, sizeof s);
		buf_init(&s.b);
		s.stop_after = 1;
		rc = subscriber_recipients(db, &keys, members, NULL, collect, &s,
		    NULL);
		ok(rc == -1 && s.n == 1, "a callback returning -1 stops the walk");
		buf_free(&s.b);
	}

	ok(db_subscriber_find(db, "ann@x.org", &id) == 0 &&
	    db_subscriber_get(db, id, NULL, &name, NULL) == 0 && name != NULL,
	    "db_subscriber_get with only a name wanted");
	free(name);
	name = NULL;
	ok(subscriber_get(db, id, &address, &name, &attrs) == 0 &&
	    strcmp(address, "ann@x.org") == 0 && strcmp(json_string_value(
	    json_object_get(attrs, "ward")), "Hillside") == 0,
	    "subscriber_get: address and attributes");
	free(address);
	free(name);
	json_decref(attrs);
	ok(db_subscriber_get(db, 9999, &address, NULL, NULL) == -1,
	    "db_subscriber_get of nobody: -1");
}

static void
test_erase(struct db *db, int64_t members)
{
	struct erase_result	 r;
	char			*cause = NULL, *reason = NULL;
	int64_t			 id;

	ok(subscriber_erase(db, &keys, "cat@x.org", &r, &cause) == 0 &&
	    r.subscriber == 1, "erase cat");
	ok(db_subscriber_find(db, "cat@x.org", &id) == -1, "cat is gone");
	ok(subscriber_suppression_reason(db, &keys, "cat@x.org",
	    &reason) == 1 && strcmp(reason, "erased") == 0, "her hash remains, reason erased");
	free(reason);
	ok(subscriber_suppress(db, &keys, "cat@x.org", "hard-bounce",
	    "5.1.1", NULL) == 0,
	    "a later bounce for her address");
	reason = NULL;
	ok(subscriber_suppression_reason(db, &keys, "cat@x.org",
	    &reason) == 1 && strcmp(reason, "erased") == 0, "stays erased (no plain copy back)");
	free(reason);
	is_int(put(db, members, "cat@x.org", "Hillside"), SUB_REFUSED_SUPPRESSED,
	    "an erased person cannot be added again");
	ok(subscriber_erase(db, &keys, "BOB@x.org", &r, &cause) == 0,
	    "erase bob");
	{
		json_t	*e = subscriber_export(db, &keys, "bob@x.org");

		ok(json_is_null(json_object_get(e, "subscriber")) &&
		    json_array_size(json_object_get(e, "consent_log")) == 0,
		    "his record and consent log are gone");
		json_decref(e);
	}
	ok(subscriber_unsuppress(db, &keys, "nobody@x.org", "x", NULL) == 0,
	    "unsuppress of an address never suppressed: 0");
}

int
main(void)
{
	unsigned char	 secret[32];
	struct db	*db;
	char		*path, *cause = NULL;
	int64_t		 members, other;

	log_init("test", 0, LOG_LEVEL_ERROR);
	memset(secret, 7, sizeof secret);
	token_keys_init(&keys, secret, sizeof secret, NULL, 0);
	if (mkdtemp(dir) == NULL)
		return 1;
	xasprintf(&path, "%s/clarion.db", dir);
	if ((db = db_open(path, 1, &cause)) == NULL || lists(db, &members,
	    &other) == -1) {
		ok(0, "database: %s", cause != NULL ? cause : "?");
		return tap_done();
	}
	test_writer(db, members, other);
	test_recipients(db, members, other);
	test_erase(db, members);
	db_close(db);
	unlink(path);
	xasprintf(&cause, "%s/clarion.db-wal", dir);
	unlink(cause);
	free(cause);
	xasprintf(&cause, "%s/clarion.db-shm", dir);
	unlink(cause);
	free(cause);
	rmdir(dir);
	free(path);
	return tap_done();
}
