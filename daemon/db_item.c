/*
 * Queries on items and runs. Writers call these inside a unit of work
 * (db_atomic). A run is UNIQUE(item, due time, purpose): inserting one
 * twice is harmless, which is what makes the scheduler safe to repeat.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "clarion.h"
#include "db_sqlite.h"

#define ITEM_COLS "id, name, list_id, segment, kind, template, subject, " \
	"content_file, event_kinds, days_ahead, union_filter, send_at, " \
	"rrule, dtstart, skip_empty, expires_at, event_id, notice_days, " \
	"reminder_before, priority, status, created, segment_forced"
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

void
item_init(struct item *it)
{
	memset(it, 0, sizeof *it);
	it->days_ahead = 7;
	it->skip_empty = 1;
}

void
item_clear(struct item *it)
{
	if (it == NULL)
		return;
	free(it->name);
	free(it->segment);
	free(it->kind);
	free(it->template);
	free(it->subject);
	free(it->content_file);
	free(it->event_kinds);
	free(it->union_filter);
	free(it->rrule);
	free(it->status);
	item_init(it);
}

static void
item_from_row(sqlite3_stmt *st, struct item *it)
{
	item_init(it);
	it->id = sqlite3_column_int64(st, 0);
	it->name = db_col_text_or_empty(st, 1);
	it->list_id = sqlite3_column_int64(st, 2);
	it->segment = db_col_text_or_empty(st, 3);
	it->kind = db_col_text_or_empty(st, 4);
	it->template = db_col_text_or_empty(st, 5);
	it->subject = db_col_text_or_empty(st, 6);
	it->content_file = db_col_text_or_null(st, 7);
	it->event_kinds = db_col_text_or_empty(st, 8);
	it->days_ahead = sqlite3_column_int(st, 9);
	it->union_filter = db_col_text_or_empty(st, 10);
	it->send_at = (time_t)sqlite3_column_int64(st, 11);
	it->rrule = db_col_text_or_null(st, 12);
	it->dtstart = (time_t)sqlite3_column_int64(st, 13);
	it->skip_empty = sqlite3_column_int(st, 14);
	it->expires_at = (time_t)sqlite3_column_int64(st, 15);
	it->event_id = sqlite3_column_int64(st, 16);
	it->notice_days = sqlite3_column_int(st, 17);
	it->reminder_before = (long)sqlite3_column_int64(st, 18);
	it->priority = sqlite3_column_int(st, 19);
	it->status = db_col_text_or_empty(st, 20);
	it->created = (time_t)sqlite3_column_int64(st, 21);
	it->segment_forced = sqlite3_column_int(st, 22);
}

/* Binds ?1..?20 and ?23, the columns INSERT and UPDATE share. */
static void
item_bind(sqlite3_stmt *st, const struct item *it)
{
	db_bind_text_or_empty(st, 1, it->name);
	sqlite3_bind_int64(st, 2, it->list_id);
	db_bind_text_or_empty(st, 3, it->segment);
	db_bind_text_or_empty(st, 4, it->kind);
	db_bind_text_or_empty(st, 5, it->template);
	db_bind_text_or_empty(st, 6, it->subject);
	db_bind_text_null_if_empty(st, 7, it->content_file);
	db_bind_text_or_empty(st, 8, it->event_kinds);
	sqlite3_bind_int(st, 9, it->days_ahead);
	db_bind_text_or_empty(st, 10, it->union_filter);
	db_bind_int_or_null(st, 11, it->send_at);
	db_bind_text_null_if_empty(st, 12, it->rrule);
	db_bind_int_or_null(st, 13, it->dtstart);
	sqlite3_bind_int(st, 14, it->skip_empty);
	db_bind_int_or_null(st, 15, it->expires_at);
	db_bind_int_or_null(st, 16, it->event_id);
	sqlite3_bind_int(st, 17, it->notice_days);
	sqlite3_bind_int64(st, 18, it->reminder_before);
	sqlite3_bind_int(st, 19, it->priority);
	db_bind_text_or_empty(st, 20, it->status != NULL ? it->status : "active");
	sqlite3_bind_int(st, 23, it->segment_forced);
}

int
db_item_insert(struct db *db, struct item *it, time_t now, char **cause)
{
	sqlite3_stmt	*st;

	if (db_prepare(db, "INSERT INTO items (name, list_id, segment, kind, "
	    "template, subject, content_file, event_kinds, days_ahead, "
	    "union_filter, send_at, rrule, dtstart, skip_empty, expires_at, "
	    "event_id, notice_days, reminder_before, priority, status, "
	    "created, updated, segment_forced) VALUES (?1, ?2, ?3, ?4, ?5, "
	    "?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, "
	    "?20, ?21, ?21, ?23)",
	    &st, cause) == -1)
		return -1;
	item_bind(st, it);
	sqlite3_bind_int64(st, 21, now);
	if (sqlite3_step(st) != SQLITE_DONE) {
		if (sqlite3_extended_errcode(db->sql) ==
		    SQLITE_CONSTRAINT_UNIQUE)
			xasprintf(cause, "an item named '%s' already exists",
			    it->name);
		else
			xasprintf(cause, "%s: %s", db->path, db_errmsg(db));
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	it->id = sqlite3_last_insert_rowid(db->sql);
	it->created = now;
	return 0;
}

int
db_item_update(struct db *db, const struct item *it, time_t now,
    char **cause)
{
	sqlite3_stmt	*st;

	if (db_prepare(db, "UPDATE items SET name = ?1, list_id = ?2, segment = "
	    "?3, kind = ?4, template = ?5, subject = ?6, content_file = ?7, "
	    "event_kinds = ?8, days_ahead = ?9, union_filter = ?10, send_at = "
	    "?11, rrule = ?12, dtstart = ?13, skip_empty = ?14, expires_at = "
	    "?15, event_id = ?16, notice_days = ?17, reminder_before = ?18, "
	    "priority = ?19, status = ?20, updated = ?21, segment_forced = ?23 "
	    "WHERE id = ?22",
	    &st, cause) == -1)
		return -1;
	item_bind(st, it);
	sqlite3_bind_int64(st, 21, now);
	sqlite3_bind_int64(st, 22, it->id);
	return db_step_done(db, st, cause);
}

static int
item_one(struct db *db, const char *sql, int64_t id, const char *name,
    struct item *it)
{
	sqlite3_stmt	*st;
	int		 rc = -1;

	if (db_prepare(db, sql, &st, NULL) == -1)
		return -1;
	if (name != NULL)
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	else
		sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		item_from_row(st, it);
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

int
db_item_get(struct db *db, int64_t id, struct item *it)
{
	return item_one(db, "SELECT " ITEM_COLS " FROM items WHERE id = ?",
	    id, NULL, it);
}

/* An item by name, or by number when no item has that name. */
static int
db_item_find_store(struct db *db, const char *key, struct item *it)
{
	char	*end;
	long long id;

	if (item_one(db, "SELECT " ITEM_COLS " FROM items WHERE name = ?",
	    0, key, it) == 0)
		return 0;
	id = strtoll(key, &end, 10);
	if (end == key || *end != '\0')
		return -1;
	return db_item_get(db, (int64_t)id, it);
}

int
db_item_find(struct db *db, const char *key, struct item *it, char **cause)
{
	int	 rc;

	if ((rc = db_item_find_store(db, key, it)) == -1 && cause != NULL)
		db_cause(db, cause);
	return rc;
}

/* Every item, or only the active ones, by id. */
static int
db_item_list_store(struct db *db, int active_only, struct item **out, size_t *n)
{
	sqlite3_stmt	*st;
	int		 rc;

	*out = NULL;
	*n = 0;
	if (db_prepare(db, "SELECT " ITEM_COLS " FROM items WHERE NOT ?1 OR "
	    "status = 'active' ORDER BY id", &st, NULL) == -1)
		return -1;
	sqlite3_bind_int(st, 1, active_only);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = xreallocarray(*out, *n + 1, sizeof **out);
		item_from_row(st, &(*out)[(*n)++]);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
db_item_list(struct db *db, int active_only, struct item **out, size_t *n,
    char **cause)
{
	int	 rc;

	if ((rc = db_item_list_store(db, active_only, out,
	    n)) == -1 && cause != NULL)
		db_cause(db, cause);
	return rc;
}

int
db_item_set_status(struct db *db, int64_t id, enum item_status status,
    time_t now)
{
	sqlite3_stmt	*st;

	if (db_prepare(db, "UPDATE items SET status = ?, updated = ? WHERE id = ?",
	    &st, NULL) == -1)
		return -1;
	sqlite3_bind_text(st, 1, item_status_name(status), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, id);
	return db_step_done(db, st, NULL);
}

/* A list's id from its name (lists belong to the people area). */
int
db_list_id(struct db *db, const char *name, int64_t *id)
{
	sqlite3_stmt	*st;
	int		 rc = -1;

	if (db_prepare(db, "SELECT id FROM lists WHERE name = ?", &st, NULL) == -1)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

void
run_clear(struct run *r)
{
	if (r == NULL)
		return;
	free(r->reason);
	free(r->item_name);
	memset(r, 0, sizeof *r);
}

void
runs_free(struct run *v, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		run_clear(&v[i]);
	free(v);
}

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
