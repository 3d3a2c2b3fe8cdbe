/*
 * Queries on events and feeds. Writers run inside one unit of work
 * (db_atomic), so each change is whole or not at all.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "clarion.h"
#include "db_sqlite.h"

/*
 * struct event: its lifecycle lives with the rows that fill it, so the
 * store needs nothing from event.c; event.c and ical.c call these.
 */
void
event_init(struct event *ev)
{
	memset(ev, 0, sizeof *ev);
}

void
event_clear(struct event *ev)
{
	if (ev == NULL)
		return;
	free(ev->uid);
	free(ev->kind);
	free(ev->title);
	free(ev->union_name);
	free(ev->employer);
	free(ev->location);
	free(ev->link);
	free(ev->notes);
	free(ev->status);
	event_init(ev);
}

void
event_list_free(struct event_list *l)
{
	size_t	 i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++)
		event_clear(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

#define EVENT_COLS "id, uid, kind, title, union_name, employer, location, " \
	"link, notes, starts_at, ends_at, all_day, status, sequence, feed_id"

static void
event_from_row(sqlite3_stmt *st, struct event *ev)
{
	event_init(ev);
	ev->id = sqlite3_column_int64(st, 0);
	ev->uid = db_col_text_or_empty(st, 1);
	ev->kind = db_col_text_or_empty(st, 2);
	ev->title = db_col_text_or_empty(st, 3);
	ev->union_name = db_col_text_or_empty(st, 4);
	ev->employer = db_col_text_or_empty(st, 5);
	ev->location = db_col_text_or_empty(st, 6);
	ev->link = db_col_text_or_empty(st, 7);
	ev->notes = db_col_text_or_empty(st, 8);
	ev->starts_at = (time_t)sqlite3_column_int64(st, 9);
	ev->ends_at = (time_t)sqlite3_column_int64(st, 10);
	ev->all_day = sqlite3_column_int(st, 11);
	ev->status = db_col_text_or_empty(st, 12);
	ev->sequence = sqlite3_column_int(st, 13);
	ev->feed_id = sqlite3_column_int64(st, 14);
}

/* The fields both INSERT and UPDATE set, bound from ?1 to ?12. */
static void
event_bind(sqlite3_stmt *st, const struct event *ev)
{
	db_bind_text_or_empty(st, 1, ev->kind);
	db_bind_text_or_empty(st, 2, ev->title);
	db_bind_text_or_empty(st, 3, ev->union_name);
	db_bind_text_or_empty(st, 4, ev->employer);
	db_bind_text_or_empty(st, 5, ev->location);
	db_bind_text_or_empty(st, 6, ev->link);
	db_bind_text_or_empty(st, 7, ev->notes);
	sqlite3_bind_int64(st, 8, ev->starts_at);
	db_bind_int_or_null(st, 9, ev->ends_at);
	sqlite3_bind_int(st, 10, ev->all_day);
	db_bind_text_or_empty(st, 11, ev->status != NULL ? ev->status : "confirmed");
	sqlite3_bind_int(st, 12, ev->sequence);
}

int
db_event_insert(struct db *db, struct event *ev, time_t now, char **cause)
{
	sqlite3_stmt	*st;

	if (db_prepare(db, "INSERT INTO events (kind, title, union_name, "
	    "employer, location, link, notes, starts_at, ends_at, all_day, "
	    "status, sequence, uid, feed_id, created, updated) VALUES (?1, "
	    "?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
	    "?15)", &st, cause) == -1)
		return -1;
	event_bind(st, ev);
	db_bind_text_or_empty(st, 13, ev->uid);
	db_bind_int_or_null(st, 14, ev->feed_id);
	sqlite3_bind_int64(st, 15, now);
	if (db_step_done(db, st, cause) == -1)
		return -1;
	ev->id = sqlite3_last_insert_rowid(db->sql);
	return 0;
}

int
db_event_update(struct db *db, const struct event *ev, time_t now,
    char **cause)
{
	sqlite3_stmt	*st;

	if (db_prepare(db, "UPDATE events SET kind = ?1, title = ?2, "
	    "union_name = ?3, employer = ?4, location = ?5, link = ?6, "
	    "notes = ?7, starts_at = ?8, ends_at = ?9, all_day = ?10, "
	    "status = ?11, sequence = ?12, updated = ?13 WHERE id = ?14",
	    &st, cause) == -1)
		return -1;
	event_bind(st, ev);
	sqlite3_bind_int64(st, 13, now);
	sqlite3_bind_int64(st, 14, ev->id);
	return db_step_done(db, st, cause);
}

static int
event_one(struct db *db, const char *where, int64_t id, const char *uid,
    struct event *ev)
{
	sqlite3_stmt	*st;
	char		*sql;
	int		 rc = -1;

	xasprintf(&sql, "SELECT " EVENT_COLS " FROM events WHERE %s", where);
	if (db_prepare(db, sql, &st, NULL) == -1) {
		free(sql);
		return -1;
	}
	free(sql);
	if (uid != NULL)
		sqlite3_bind_text(st, 1, uid, -1, SQLITE_STATIC);
	else
		sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		event_from_row(st, ev);
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

int
db_event_get(struct db *db, int64_t id, struct event *ev)
{
	return event_one(db, "id = ?1", id, NULL, ev);
}

int
db_event_by_uid(struct db *db, const char *uid, struct event *ev)
{
	return event_one(db, "uid = ?1", 0, uid, ev);
}

/*
 * Events that have not ended by from and start before to, in start
 * order. kinds is a comma-separated list ("" = all); union_filter
 * matches the union name without regard to case ("" = all).
 */
int
db_event_range(struct db *db, time_t from, time_t to, const char *kinds,
    const char *union_filter, int with_cancelled, struct event_list *out,
    char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	out->v = NULL;
	out->n = 0;
	if (db_prepare(db, "SELECT " EVENT_COLS " FROM events WHERE "
	    "max(starts_at, coalesce(ends_at, starts_at)) >= ?1 AND "
	    "starts_at < ?2 AND (?3 = '' OR instr(',' || ?3 || ',', "
	    "',' || kind || ',') > 0) AND (?4 = '' OR union_name = ?4 "
	    "COLLATE NOCASE) AND (?5 OR status = 'confirmed') "
	    "ORDER BY starts_at, id", &st, cause) == -1)
		return -1;
	sqlite3_bind_int64(st, 1, from);
	sqlite3_bind_int64(st, 2, to);
	db_bind_text_or_empty(st, 3, kinds);
	db_bind_text_or_empty(st, 4, union_filter);
	sqlite3_bind_int(st, 5, with_cancelled);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		out->v = xreallocarray(out->v, out->n + 1, sizeof *out->v);
		event_from_row(st, &out->v[out->n++]);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		xasprintf(cause, "%s: %s", db->path, db_errmsg(db));
		event_list_free(out);
		return -1;
	}
	return 0;
}

/* The uids of the confirmed events a feed brought in. */
int
db_event_feed_uids(struct db *db, int64_t feed_id, char ***uids, size_t *n)
{
	sqlite3_stmt	*st;
	int		 rc;

	*uids = NULL;
	*n = 0;
	if (db_prepare(db, "SELECT uid FROM events WHERE feed_id = ? AND "
	    "status = 'confirmed' ORDER BY id", &st, NULL) == -1)
		return -1;
	sqlite3_bind_int64(st, 1, feed_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*uids = xreallocarray(*uids, *n + 1, sizeof **uids);
		(*uids)[(*n)++] = db_col_text_or_empty(st, 0);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

void
feed_clear(struct feed *f)
{
	if (f == NULL)
		return;
	free(f->url);
	free(f->etag);
	free(f->last_modified);
	free(f->last_error);
	memset(f, 0, sizeof *f);
}

/* Adds a feed, or finds the one with this URL. */
int
db_feed_add(struct db *db, const char *url, int64_t *id, char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (db_prepare(db, "INSERT INTO feeds (url) VALUES (?) ON CONFLICT(url) "
	    "DO NOTHING", &st, cause) == -1)
		return -1;
	db_bind_text_or_empty(st, 1, url);
	if (db_step_done(db, st, cause) == -1)
		return -1;
	if (db_prepare(db, "SELECT id FROM feeds WHERE url = ?", &st, cause) == -1)
		return -1;
	db_bind_text_or_empty(st, 1, url);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW) {
		xasprintf(cause, "%s: %s", db->path, db_errmsg(db));
		return -1;
	}
	return 0;
}

int
db_feed_get(struct db *db, int64_t id, struct feed *f)
{
	sqlite3_stmt	*st;
	int		 rc = -1;

	memset(f, 0, sizeof *f);
	if (db_prepare(db, "SELECT id, url, etag, last_modified, last_fetch, "
	    "last_error FROM feeds WHERE id = ?", &st, NULL) == -1)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		f->id = sqlite3_column_int64(st, 0);
		f->url = db_col_text_or_empty(st, 1);
		f->etag = db_col_text_or_null(st, 2);
		f->last_modified = db_col_text_or_null(st, 3);
		f->last_fetch = (time_t)sqlite3_column_int64(st, 4);
		f->last_error = db_col_text_or_null(st, 5);
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

static int
db_feed_ids_store(struct db *db, int64_t **ids, size_t *n)
{
	sqlite3_stmt	*st;
	int		 rc;

	*ids = NULL;
	*n = 0;
	if (db_prepare(db, "SELECT id FROM feeds ORDER BY id", &st, NULL) == -1)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*ids = xreallocarray(*ids, *n + 1, sizeof **ids);
		(*ids)[(*n)++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
db_feed_ids(struct db *db, int64_t **ids, size_t *n, char **cause)
{
	int	 rc;

	if ((rc = db_feed_ids_store(db, ids, n)) == -1 && cause != NULL)
		db_cause(db, cause);
	return rc;
}

/*
 * Records a fetch. etag and last_modified are kept when NULL (a 304 or
 * an error says nothing new about them); error NULL clears the last one.
 */
int
db_feed_update(struct db *db, int64_t id, const char *etag,
    const char *last_modified, time_t at, const char *error)
{
	sqlite3_stmt	*st;

	if (db_prepare(db, "UPDATE feeds SET etag = coalesce(?1, etag), "
	    "last_modified = coalesce(?2, last_modified), last_fetch = ?3, "
	    "last_error = ?4 WHERE id = ?5", &st, NULL) == -1)
		return -1;
	sqlite3_bind_text(st, 1, etag, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, last_modified, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, at);
	sqlite3_bind_text(st, 4, error, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, id);
	return db_step_done(db, st, NULL);
}

/*
 * Removes a feed. Its events still to come are cancelled (so they leave
 * the bulletins), unless keep; past ones stay, no longer tied to it.
 * *cancelled is how many were cancelled. -1 if there is no such feed.
 */
int
db_feed_remove(struct db *db, int64_t id, int keep, time_t now,
    long *cancelled)
{
	sqlite3_stmt	*st;

	*cancelled = 0;
	if (!keep) {
		if (db_prepare(db, "UPDATE events SET status = 'cancelled', "
		    "sequence = sequence + 1, updated = ?1 WHERE feed_id = ?2 "
		    "AND status = 'confirmed' AND starts_at >= ?1", &st,
		    NULL) == -1)
			return -1;
		sqlite3_bind_int64(st, 1, now);
		sqlite3_bind_int64(st, 2, id);
		if (db_step_done(db, st, NULL) == -1)
			return -1;
		*cancelled = sqlite3_changes(db->sql);
	}
	if (db_prepare(db, "UPDATE events SET feed_id = NULL WHERE feed_id = ?",
	    &st, NULL) == -1)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	if (db_step_done(db, st, NULL) == -1 || db_prepare(db, "DELETE FROM "
	    "feeds WHERE id = ?", &st, NULL) == -1)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	if (db_step_done(db, st, NULL) == -1)
		return -1;
	return sqlite3_changes(db->sql) == 1 ? 0 : -1;
}
