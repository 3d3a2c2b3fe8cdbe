/*
 * The composer's queries: runs waiting to be composed, their frozen
 * context, the delivery rows made for them, and the rows compose_message
 * reads back.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "clarion.h"
#include "db_sqlite.h"

/* Runs due by now that are planned, or were being composed at a crash. */
int
db_compose_pending(struct db *db, time_t now, int64_t **ids, size_t *n)
{
	sqlite3_stmt	*st;
	int		 rc;

	*ids = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(db->sql, "SELECT id FROM runs WHERE (state = "
	    "'planned' AND due_at <= ?) OR state = 'composing' ORDER BY "
	    "due_at, id", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, now);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*ids = xreallocarray(*ids, *n + 1, sizeof **ids);
		(*ids)[(*n)++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/*
 * Moves a run to composing and freezes its context, unless another
 * process already did (then the stored context is the one to use).
 */
int
db_compose_begin(struct db *db, int64_t run, const char *context, time_t now)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (sqlite3_prepare_v2(db->sql, "UPDATE runs SET state = 'composing',"
	    " context = coalesce(context, ?), started = coalesce(started, ?) "
	    "WHERE id = ? AND state IN ('planned', 'composing')", -1, &st,
	    NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, context, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, run);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Freezes a context whatever the run's state (a test run is never sent). */
static int
db_run_freeze_store(struct db *db, int64_t run, const char *context)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (sqlite3_prepare_v2(db->sql, "UPDATE runs SET context = "
	    "coalesce(context, ?) WHERE id = ?", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, context, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, run);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
db_run_freeze(struct db *db, int64_t run, const char *context, char **cause)
{
	int	 rc;

	if ((rc = db_run_freeze_store(db, run, context)) == -1 && cause != NULL)
		db_cause(db, cause);
	return rc;
}

char *
db_run_context(struct db *db, int64_t run)
{
	sqlite3_stmt	*st;
	char		*v = NULL;

	if (sqlite3_prepare_v2(db->sql, "SELECT context FROM runs WHERE id = ?",
	    -1, &st, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_int64(st, 1, run);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return v;
}

struct db_delivery_batch {
	struct db	*db;
	sqlite3_stmt	*st;
	int64_t		 run;
	int		 priority;
	time_t		 now;
	long		 pending;	/* rows in the open transaction */
	long		 added;
};

struct db_delivery_batch *
db_delivery_batch_new(struct db *db, int64_t run, int priority, time_t now)
{
	struct db_delivery_batch *b;

	b = xcalloc(1, sizeof *b);
	b->db = db;
	b->run = run;
	b->priority = priority;
	b->now = now;
	/* UNIQUE(run, subscriber): composing again after a crash adds none twice. */
	if (sqlite3_prepare_v2(db->sql, "INSERT INTO deliveries(run_id, "
	    "subscriber_id, address, state, priority, created) VALUES (?, ?, "
	    "?, ?, ?, ?) ON CONFLICT DO NOTHING", -1, &b->st, NULL) !=
	    SQLITE_OK) {
		free(b);
		return NULL;
	}
	return b;
}

/* Adds one row; commits every 1,000 so a big list is many short writes. */
int
db_delivery_batch_add(struct db_delivery_batch *b, int64_t subscriber,
    const char *address, int suppressed)
{
	if (b->pending == 0 && db_begin(b->db) == -1)
		return -1;
	sqlite3_bind_int64(b->st, 1, b->run);
	sqlite3_bind_int64(b->st, 2, subscriber);
	sqlite3_bind_text(b->st, 3, address, -1, SQLITE_STATIC);
	sqlite3_bind_text(b->st, 4, suppressed ? "suppressed" : "queued", -1,
	    SQLITE_STATIC);
	sqlite3_bind_int(b->st, 5, b->priority);
	sqlite3_bind_int64(b->st, 6, b->now);
	if (sqlite3_step(b->st) != SQLITE_DONE) {
		sqlite3_reset(b->st);
		db_rollback(b->db);
		b->pending = 0;
		return -1;
	}
	b->added += sqlite3_changes(b->db->sql);
	sqlite3_reset(b->st);
	if (++b->pending >= 1000) {
		b->pending = 0;
		return db_commit(b->db);
	}
	return 0;
}

/* Commits what is left and frees; returns the rows added, or -1. */
long
db_delivery_batch_finish(struct db_delivery_batch *b, int ok)
{
	long	 added;

	if (b == NULL)
		return -1;
	if (b->pending > 0) {
		if (ok) {
			if (db_commit(b->db) == -1)
				ok = 0;
		} else
			db_rollback(b->db);
	}
	added = ok ? b->added : -1;
	sqlite3_finalize(b->st);
	free(b);
	return added;
}

int
db_run_set_sending(struct db *db, int64_t run)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (sqlite3_prepare_v2(db->sql, "UPDATE runs SET state = 'sending' "
	    "WHERE id = ? AND state = 'composing'", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, run);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/*
 * Who got a meeting's notice (or an earlier update): an update or
 * cancellation goes to the same people, also to those who left the list
 * after it was sent (the meeting is in their calendar; the claim's
 * NOTICE_HELD exception lets that mail, and only it, through). Mail still
 * waiting when they left is not followed up.
 */
static int
db_notice_recipients_store(struct db *db, int64_t item, int64_t list,
    int (*cb)(void *, int64_t, const char *), void *arg)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (sqlite3_prepare_v2(db->sql, "SELECT DISTINCT d.subscriber_id, "
	    "s.address FROM deliveries d JOIN runs r ON r.id = d.run_id "
	    "JOIN subscribers s ON s.id = d.subscriber_id JOIN memberships m "
	    "ON m.subscriber_id = s.id AND m.list_id = ? WHERE r.item_id = ? "
	    "AND r.purpose IN ('notice', 'update') AND (d.state = 'sent' OR "
	    "(d.state IN ('queued', 'sending', 'deferred') AND m.status = "
	    "'subscribed')) ORDER BY d.subscriber_id", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, list);
	sqlite3_bind_int64(st, 2, item);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (cb(arg, sqlite3_column_int64(st, 0),
		    (const char *)sqlite3_column_text(st, 1)) == -1) {
			rc = SQLITE_ABORT;
			break;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
db_notice_recipients(struct db *db, int64_t item, int64_t list,
    int (*cb)(void *, int64_t, const char *), void *arg, char **cause)
{
	int	 rc;

	if ((rc = db_notice_recipients_store(db, item, list, cb,
	    arg)) == -1 && cause != NULL)
		db_cause(db, cause);
	return rc;
}

/* The run, subscriber and address of one delivery. */
int
db_delivery_row(struct db *db, int64_t id, int64_t *run, int64_t *sub,
    char **address)
{
	sqlite3_stmt	*st;
	int		 rc = -1;

	if (sqlite3_prepare_v2(db->sql, "SELECT run_id, subscriber_id, address"
	    " FROM deliveries WHERE id = ?", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_type(st, 2) != SQLITE_NULL) {
		*run = sqlite3_column_int64(st, 0);
		*sub = sqlite3_column_int64(st, 1);
		*address = xstrdup((const char *)sqlite3_column_text(st, 2));
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

static int
runs_returning(struct db *db, const char *sql, time_t now, int64_t **ids,
    size_t *n)
{
	sqlite3_stmt	*st;
	int		 rc;

	*ids = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, now);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*ids = xreallocarray(*ids, *n + 1, sizeof **ids);
		(*ids)[(*n)++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/*
 * A run whose deliveries are all settled is done. One with held
 * deliveries is not: it waits for the owner to release or cancel them.
 * Returns the runs it finished, so each can be logged with its counts.
 */
int
db_runs_finish(struct db *db, time_t now, int64_t **ids, size_t *n)
{
	return runs_returning(db, "UPDATE runs SET state = 'done', "
	    "finished = ?1 WHERE state = 'sending' AND NOT EXISTS (SELECT 1 "
	    "FROM deliveries d WHERE d.run_id = runs.id AND d.state IN "
	    "('queued', 'sending', 'deferred', 'held')) RETURNING id", now,
	    ids, n);
}

/*
 * Runs that have nothing left to send but held deliveries: each gets the
 * last hold reason as its reason, once, and is returned so the daemon
 * says once (not per delivery) that the run is stuck and why.
 */
int
db_runs_hold(struct db *db, time_t now, int64_t **ids, size_t *n)
{
	return runs_returning(db, "UPDATE runs SET reason = coalesce((SELECT "
	    "d.last_reply FROM deliveries d WHERE d.run_id = runs.id AND "
	    "d.state = 'held' ORDER BY d.id DESC LIMIT 1), 'held') WHERE "
	    "state = 'sending' AND reason = '' AND ?1 = ?1 AND EXISTS (SELECT "
	    "1 FROM deliveries d WHERE d.run_id = runs.id AND d.state = "
	    "'held') AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.run_id"
	    " = runs.id AND d.state IN ('queued', 'sending', 'deferred')) "
	    "RETURNING id", now, ids, n);
}

/* Why a run's deliveries are held: the last one's reason; NULL if none. */
char *
db_run_hold_reason(struct db *db, int64_t run)
{
	sqlite3_stmt	*st;
	char		*s = NULL;

	if (sqlite3_prepare_v2(db->sql, "SELECT last_reply FROM deliveries "
	    "WHERE run_id = ? AND state = 'held' ORDER BY id DESC LIMIT 1", -1,
	    &st, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_int64(st, 1, run);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL)
		s = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return s;
}

/* One held delivery of a run (to try composing it again); 0 if none. */
int64_t
db_run_held_one(struct db *db, int64_t run)
{
	sqlite3_stmt	*st;
	int64_t		 id = 0;

	if (sqlite3_prepare_v2(db->sql, "SELECT id FROM deliveries WHERE "
	    "run_id = ? AND state = 'held' AND address IS NOT NULL ORDER BY id "
	    "LIMIT 1", -1, &st, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_int64(st, 1, run);
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return id;
}

/*
 * Whom a preview shows: the member with that (normalised) address, or
 * with none given, the first member of the list. 0, or -1 if nobody.
 */
int
db_preview_subscriber(struct db *db, int64_t list, const char *address,
    int64_t *id)
{
	sqlite3_stmt	*st;
	int		 rc = -1;

	/*
	 * Addresses keep the case of their local part as given; an officer
	 * typing it in lower case still means that member (an exact match
	 * first, should two differ only in case).
	 */
	if (sqlite3_prepare_v2(db->sql, address != NULL ?
	    "SELECT id FROM subscribers WHERE address = ?2 COLLATE NOCASE "
	    "ORDER BY address = ?2 DESC, id LIMIT 1" :
	    "SELECT s.id FROM subscribers s JOIN memberships m ON "
	    "m.subscriber_id = s.id WHERE m.list_id = ?1 AND m.status = "
	    "'subscribed' ORDER BY s.id LIMIT 1", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, list);
	if (address != NULL)
		sqlite3_bind_text(st, 2, address, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

/*
 * A test run's frozen context is dropped, so each test send shows the
 * item as it is now (a real run's context is never touched).
 */
static int
db_run_thaw_test_store(struct db *db, int64_t run)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (sqlite3_prepare_v2(db->sql, "UPDATE runs SET context = NULL WHERE "
	    "id = ? AND purpose = 'test'", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, run);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
db_run_thaw_test(struct db *db, int64_t run, char **cause)
{
	int	 rc;

	if ((rc = db_run_thaw_test_store(db, run)) == -1 && cause != NULL)
		db_cause(db, cause);
	return rc;
}

/* A delivery outside any member's history: a test send to one address. */
static int
db_delivery_test_store(struct db *db, int64_t run, const char *address,
    time_t now, int64_t *id)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (sqlite3_prepare_v2(db->sql, "INSERT INTO deliveries(run_id, "
	    "subscriber_id, address, state, created, sent_at) VALUES (?, NULL,"
	    " ?, 'sent', ?, ?)", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, run);
	sqlite3_bind_text(st, 2, address, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_int64(st, 4, now);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return -1;
	*id = sqlite3_last_insert_rowid(db->sql);
	return 0;
}

int
db_delivery_test(struct db *db, int64_t run, const char *address,
    time_t now, int64_t *id, char **cause)
{
	int	 rc;

	if ((rc = db_delivery_test_store(db, run, address, now,
	    id)) == -1 && cause != NULL)
		db_cause(db, cause);
	return rc;
}
