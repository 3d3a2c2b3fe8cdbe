/*
 * Run rows: one issue of an item each, from planned to done. The
 * scheduler inserts them, the composer freezes their context and begins
 * them, the sender finishes them; officers list, cancel and resend them.
 * A run is UNIQUE(item, due time, purpose): inserting one twice is
 * harmless, which is what makes the scheduler safe to repeat.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "clarion.h"
#include "db_sqlite.h"

/*
 * A run with held deliveries and nothing else left to send is "held",
 * not done: it waits for the owner (clarion run release or cancel).
 */
#define RUN_STATE "(CASE WHEN r.state IN ('sending', 'done') AND EXISTS " \
	"(SELECT 1 FROM deliveries h WHERE h.run_id = r.id AND h.state = " \
	"'held') AND NOT EXISTS (SELECT 1 FROM deliveries a WHERE a.run_id = " \
	"r.id AND a.state IN ('queued', 'sending', 'deferred')) THEN 'held' " \
	"ELSE r.state END)"
#define RUN_COLS "r.id, r.item_id, r.due_at, r.purpose, " RUN_STATE ", " \
	"r.reason, r.sequence, r.created, r.started, r.finished, i.name"

/* The text of the store as the enums of the code (the CHECKs keep it sane). */
static enum run_purpose
db_col_run_purpose(sqlite3_stmt *st, int i)
{
	int	 v = run_purpose_parse((const char *)sqlite3_column_text(st, i));

	return v == -1 ? PURPOSE_ISSUE : (enum run_purpose)v;
}

static enum run_state
db_col_run_state(sqlite3_stmt *st, int i)
{
	int	 v = run_state_parse((const char *)sqlite3_column_text(st, i));

	return v == -1 ? RUN_PLANNED : (enum run_state)v;
}

static void
run_from_row(sqlite3_stmt *st, struct run *r)
{
	memset(r, 0, sizeof *r);
	r->id = sqlite3_column_int64(st, 0);
	r->item_id = sqlite3_column_int64(st, 1);
	r->due_at = (time_t)sqlite3_column_int64(st, 2);
	r->purpose = db_col_run_purpose(st, 3);
	r->state = db_col_run_state(st, 4);
	r->reason = db_col_text_or_empty(st, 5);
	r->sequence = sqlite3_column_int(st, 6);
	r->created = (time_t)sqlite3_column_int64(st, 7);
	r->started = (time_t)sqlite3_column_int64(st, 8);
	r->finished = (time_t)sqlite3_column_int64(st, 9);
	r->item_name = db_col_text_or_empty(st, 10);
}

/*
 * Returns 1 if the run was created, 0 if it already existed (another
 * tick or daemon made it), -1 on error. *id is the run's id either way.
 */
static int
db_run_insert_store(struct db *db, int64_t item_id, time_t due,
    enum run_purpose purpose, enum run_state state, const char *reason,
    int sequence, int64_t *id)
{
	sqlite3_stmt	*st;
	int		 created, rc;

	if (db_prepare(db, "INSERT INTO runs (item_id, due_at, purpose, state, "
	    "reason, sequence, created, finished) VALUES (?1, ?2, ?3, ?4, ?5, "
	    "?6, ?7, CASE WHEN ?4 = 'planned' THEN NULL ELSE ?7 END) "
	    "ON CONFLICT (item_id, due_at, purpose) DO NOTHING", &st,
	    NULL) == -1)
		return -1;
	sqlite3_bind_int64(st, 1, item_id);
	sqlite3_bind_int64(st, 2, due);
	sqlite3_bind_text(st, 3, run_purpose_name(purpose), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, run_state_name(state), -1, SQLITE_STATIC);
	db_bind_text_or_empty(st, 5, reason);
	sqlite3_bind_int(st, 6, sequence);
	sqlite3_bind_int64(st, 7, clock_now());
	if (db_step_done(db, st, NULL) == -1)
		return -1;
	created = sqlite3_changes(db->sql) > 0;
	if (db_prepare(db, "SELECT id FROM runs WHERE item_id = ? AND due_at = ? "
	    "AND purpose = ?", &st, NULL) == -1)
		return -1;
	sqlite3_bind_int64(st, 1, item_id);
	sqlite3_bind_int64(st, 2, due);
	sqlite3_bind_text(st, 3, run_purpose_name(purpose), -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && id != NULL)
		*id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? created : -1;
}

int
db_run_insert(struct db *db, int64_t item_id, time_t due,
    enum run_purpose purpose, enum run_state state, const char *reason,
    int sequence, int64_t *id, char **cause)
{
	int	 rc;

	if ((rc = db_run_insert_store(db, item_id, due, purpose, state,
	    reason, sequence, id)) == -1 && cause != NULL)
		db_cause(db, cause);
	return rc;
}

int
db_run_get(struct db *db, int64_t id, struct run *r)
{
	sqlite3_stmt	*st;
	int		 rc = -1;

	if (db_prepare(db, "SELECT " RUN_COLS " FROM runs r JOIN items i ON "
	    "i.id = r.item_id WHERE r.id = ?", &st, NULL) == -1)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		run_from_row(st, r);
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

/*
 * Runs by due time, newest first: of one item (0 = all), in one state
 * (NULL = any), at most limit (0 = no limit).
 */
static int
db_run_list_store(struct db *db, int64_t item_id, const char *state, int limit,
    struct run **out, size_t *n)
{
	sqlite3_stmt	*st;
	int		 rc;

	*out = NULL;
	*n = 0;
	if (db_prepare(db, "SELECT " RUN_COLS " FROM runs r JOIN items i ON "
	    "i.id = r.item_id WHERE (?1 = 0 OR r.item_id = ?1) AND (?2 IS NULL"
	    " OR " RUN_STATE " = ?2) ORDER BY r.due_at DESC, r.id DESC LIMIT ?3",
	    &st, NULL) == -1)
		return -1;
	sqlite3_bind_int64(st, 1, item_id);
	sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, limit > 0 ? limit : -1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = xreallocarray(*out, *n + 1, sizeof **out);
		run_from_row(st, &(*out)[(*n)++]);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
db_run_list(struct db *db, int64_t item_id, const char *state, int limit,
    struct run **out, size_t *n, char **cause)
{
	int	 rc;

	if ((rc = db_run_list_store(db, item_id, state, limit, out,
	    n)) == -1 && cause != NULL)
		db_cause(db, cause);
	return rc;
}

/* The due time of an item's latest run of this purpose; 0 if none. */
static int
db_run_last_due_store(struct db *db, int64_t item_id, const char *purpose,
    time_t *due)
{
	sqlite3_stmt	*st;
	int		 rc;

	*due = 0;
	if (db_prepare(db, "SELECT max(due_at) FROM runs WHERE item_id = ? AND "
	    "purpose = ?", &st, NULL) == -1)
		return -1;
	sqlite3_bind_int64(st, 1, item_id);
	sqlite3_bind_text(st, 2, purpose, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*due = (time_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

int
db_run_last_due(struct db *db, int64_t item_id, const char *purpose,
    time_t *due, char **cause)
{
	int	 rc;

	if ((rc = db_run_last_due_store(db, item_id, purpose,
	    due)) == -1 && cause != NULL)
		db_cause(db, cause);
	return rc;
}

/*
 * Moves a run to a new state. Leaving 'planned' sets started; a final
 * state sets finished.
 */
int
db_run_set_state(struct db *db, int64_t id, enum run_state state,
    const char *reason, time_t now)
{
	sqlite3_stmt	*st;

	if (db_prepare(db, "UPDATE runs SET state = ?1, reason = coalesce(?2, "
	    "reason), started = CASE WHEN ?1 IN ('composing', 'sending') THEN "
	    "coalesce(started, ?3) ELSE started END, finished = CASE WHEN ?1 "
	    "IN ('done', 'skipped', 'cancelled') THEN ?3 ELSE finished END "
	    "WHERE id = ?4", &st, NULL) == -1)
		return -1;
	sqlite3_bind_text(st, 1, run_state_name(state), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_int64(st, 4, id);
	return db_step_done(db, st, NULL);
}

/* Cancels an item's runs not yet begun (purpose NULL = every purpose). */
int
db_run_cancel_pending(struct db *db, int64_t item_id, const char *purpose,
    const char *reason, time_t now)
{
	sqlite3_stmt	*st;

	if (db_prepare(db, "UPDATE runs SET state = 'cancelled', reason = ?1, "
	    "finished = ?2 WHERE item_id = ?3 AND state = 'planned' AND "
	    "(?4 IS NULL OR purpose = ?4)", &st, NULL) == -1)
		return -1;
	db_bind_text_or_empty(st, 1, reason);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, item_id);
	sqlite3_bind_text(st, 4, purpose, -1, SQLITE_STATIC);
	if (db_step_done(db, st, NULL) == -1)
		return -1;
	return sqlite3_changes(db->sql);
}

/* A run's deliveries counted by state. */
int
db_run_counts(struct db *db, int64_t run_id, struct db_count **out,
    size_t *n)
{
	sqlite3_stmt	*st;
	int		 rc;

	*out = NULL;
	*n = 0;
	if (db_prepare(db, "SELECT state, count(*) FROM deliveries WHERE run_id "
	    "= ? GROUP BY state ORDER BY state", &st, NULL) == -1)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = xreallocarray(*out, *n + 1, sizeof **out);
		(*out)[*n].name = db_col_text_or_empty(st, 0);
		(*out)[*n].count = (long)sqlite3_column_int64(st, 1);
		(*n)++;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/*
 * Stops a run: deliveries not yet handed to the relay are cancelled
 * (one in 'sending' is in flight and finishes). *n is how many.
 */
int
db_run_cancel(struct db *db, int64_t run_id, time_t now, long *n)
{
	sqlite3_stmt	*st;

	if (db_prepare(db, "UPDATE deliveries SET state = 'cancelled' WHERE "
	    "run_id = ? AND state IN ('queued', 'deferred', 'held')", &st,
	    NULL) == -1)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	if (db_step_done(db, st, NULL) == -1)
		return -1;
	*n = sqlite3_changes(db->sql);
	return db_run_set_state(db, run_id, RUN_CANCELLED, "cancelled by an "
	    "officer", now);
}

/*
 * Queues again the deliveries of a run that have no sent record: failed,
 * cancelled and held ones. Sent and suppressed ones are never touched.
 */
int
db_run_resend_missed(struct db *db, int64_t run_id, time_t now, long *n)
{
	sqlite3_stmt	*st;

	if (db_prepare(db, "UPDATE deliveries SET state = 'queued', attempts = 0, "
	    "next_attempt = ?1, claimed_at = NULL WHERE run_id = ?2 AND "
	    "state IN ('failed', 'cancelled', 'held') AND sent_at IS NULL",
	    &st, NULL) == -1)
		return -1;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, run_id);
	if (db_step_done(db, st, NULL) == -1)
		return -1;
	*n = sqlite3_changes(db->sql);
	if (*n == 0)
		return 0;
	if (db_prepare(db, "UPDATE runs SET state = 'sending', finished = NULL "
	    "WHERE id = ?", &st, NULL) == -1)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	return db_step_done(db, st, NULL);
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

/* The ids of the runs a statement with one time (?) returns. */
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

/* Runs due by now that are planned, or were being composed at a crash. */
int
db_compose_pending(struct db *db, time_t now, int64_t **ids, size_t *n)
{
	return runs_returning(db, "SELECT id FROM runs WHERE (state = "
	    "'planned' AND due_at <= ?) OR state = 'composing' ORDER BY "
	    "due_at, id", now, ids, n);
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
