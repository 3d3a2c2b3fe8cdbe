/*
 * Queries on items. Writers call these inside a unit of work (db_atomic).
 * Their runs are db_run.c's.
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
