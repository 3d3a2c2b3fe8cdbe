/*
 * Queries of bounce scoring: the bounces log, the per-member score, and
 * the reports behind `clarion bounces` and the owners' digest.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "clarion.h"
#include "db_sqlite.h"

/* token: the purpose of the token that attributed it, NULL for none. */
int
db_bounce_insert(struct db *db, int64_t subscriber_id, int64_t delivery_id,
    time_t at, int hard, const char *status, const char *reason,
    const char *source, const char *token, int64_t *id)
{
	sqlite3_stmt	*st;

	if ((st = db_prep(db, "INSERT INTO bounces (subscriber_id, delivery_id, "
	    "at, hard, status, reason, source, token_purpose, run_id) VALUES "
	    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, (SELECT run_id FROM deliveries "
	    "WHERE id = ?2))")) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, subscriber_id);
	if (delivery_id > 0)
		sqlite3_bind_int64(st, 2, delivery_id);
	else
		sqlite3_bind_null(st, 2);
	sqlite3_bind_int64(st, 3, at);
	sqlite3_bind_int(st, 4, hard != 0);
	sqlite3_bind_text(st, 5, status != NULL ? status : "", -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(st, 6, reason != NULL ? reason : "", -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(st, 7, source, -1, SQLITE_STATIC);
	if (token != NULL)
		sqlite3_bind_text(st, 8, token, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 8);
	if (db_step_log(db, st) == -1)
		return -1;
	*id = sqlite3_last_insert_rowid(db->sql);
	return 0;
}

/* 0 with the score, 1 when the member never bounced, -1 on error. */
int
db_bounce_score_get(struct db *db, int64_t subscriber_id, double *score,
    time_t *last, time_t *disabled_at)
{
	sqlite3_stmt	*st;
	int		 rc;

	*score = 0;
	*last = *disabled_at = 0;
	if ((st = db_prep(db, "SELECT score, coalesce(last_bounce_at, 0), "
	    "coalesce(disabled_at, 0) FROM bounce_scores WHERE "
	    "subscriber_id = ?")) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, subscriber_id);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*score = sqlite3_column_double(st, 0);
		*last = (time_t)sqlite3_column_int64(st, 1);
		*disabled_at = (time_t)sqlite3_column_int64(st, 2);
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? 1 : -1;
}

int
db_bounce_score_set(struct db *db, int64_t subscriber_id, double score,
    time_t at)
{
	sqlite3_stmt	*st;

	if ((st = db_prep(db, "INSERT INTO bounce_scores (subscriber_id, score, "
	    "last_bounce_at) VALUES (?1, ?2, ?3) ON CONFLICT (subscriber_id) "
	    "DO UPDATE SET score = ?2, last_bounce_at = ?3")) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, subscriber_id);
	sqlite3_bind_double(st, 2, score);
	sqlite3_bind_int64(st, 3, at);
	return db_step_log(db, st);
}

/* Marks a member disabled by one bounce (its row id), for the next digest. */
int
db_bounce_disabled(struct db *db, int64_t subscriber_id, time_t at,
    const char *reason, int64_t bounce_id)
{
	sqlite3_stmt	*st;

	if ((st = db_prep(db, "INSERT INTO bounce_scores (subscriber_id, "
	    "last_bounce_at, disabled_at, reason, digested, bounce_id) VALUES "
	    "(?1, ?2, ?2, ?3, 0, ?4) ON CONFLICT (subscriber_id) DO UPDATE SET "
	    "disabled_at = ?2, reason = ?3, digested = 0, bounce_id = ?4")) ==
	    NULL)
		return -1;
	sqlite3_bind_int64(st, 1, subscriber_id);
	sqlite3_bind_int64(st, 2, at);
	sqlite3_bind_text(st, 3, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, bounce_id);
	return db_step_log(db, st);
}

int
db_bounce_reset(struct db *db, int64_t subscriber_id)
{
	sqlite3_stmt	*st;

	if ((st = db_prep(db, "UPDATE bounce_scores SET score = 0 WHERE "
	    "subscriber_id = ? AND score != 0")) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, subscriber_id);
	return db_step_log(db, st);
}

static void
row_fill(sqlite3_stmt *st, struct bounce_row *r)
{
	r->subscriber_id = sqlite3_column_int64(st, 0);
	r->address = db_col_text_or_empty(st, 1);
	r->name = db_col_text_or_empty(st, 2);
	r->score = sqlite3_column_double(st, 3);
	r->last_bounce_at = (time_t)sqlite3_column_int64(st, 4);
	r->disabled_at = (time_t)sqlite3_column_int64(st, 5);
	r->reason = db_col_text_or_empty(st, 6);
	r->digested = sqlite3_column_int(st, 7);
	r->via_source = db_col_text_or_empty(st, 8);
	r->via_token = db_col_text_or_empty(st, 9);
	r->via_delivery = sqlite3_column_int64(st, 10);
	r->via_run = sqlite3_column_int64(st, 11);
}

#define ROW_COLUMNS "b.subscriber_id, s.address, s.name, b.score, " \
	"coalesce(b.last_bounce_at, 0), coalesce(b.disabled_at, 0), " \
	"b.reason, b.digested, x.source, x.token_purpose, " \
	"coalesce(x.delivery_id, 0), coalesce(x.run_id, 0)"
/* The bounce that disabled the member, when recorded (schema 4). */
#define ROW_VIA "LEFT JOIN bounces x ON x.id = b.bounce_id "

static int
rows_collect(struct db *db, sqlite3_stmt *st, struct bounce_row **out,
    size_t *n)
{
	int	 rc;

	*out = NULL;
	*n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = xreallocarray(*out, *n + 1, sizeof **out);
		row_fill(st, &(*out)[*n]);
		(*n)++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		log_warnx("%s: %s", db->path, db_errmsg(db));
		return -1;
	}
	return 0;
}

/*
 * Every member with a bounce record (optionally only members of one list,
 * by name), disabled ones first, newest first.
 */
static int
db_bounce_report_store(struct db *db, const char *list, struct bounce_row **out,
    size_t *n)
{
	sqlite3_stmt	*st;

	if ((st = db_prep(db, "SELECT " ROW_COLUMNS " FROM bounce_scores b "
	    "JOIN subscribers s ON s.id = b.subscriber_id " ROW_VIA
	    "WHERE ?1 IS NULL OR EXISTS (SELECT 1 FROM memberships m JOIN "
	    "lists l ON l.id = m.list_id WHERE m.subscriber_id = "
	    "b.subscriber_id AND l.name = ?1) ORDER BY b.disabled_at IS NULL, b.disabled_at DESC, "
	    "b.score DESC, s.address")) == NULL)
		return -1;
	if (list != NULL)
		sqlite3_bind_text(st, 1, list, -1, SQLITE_STATIC);
	return rows_collect(db, st, out, n);
}

int
db_bounce_report(struct db *db, const char *list, struct bounce_row **out,
    size_t *n, char **cause)
{
	int	 rc;

	if ((rc = db_bounce_report_store(db, list, out,
	    n)) == -1 && cause != NULL)
		db_cause(db, cause);
	return rc;
}

/* Members disabled since the last digest who belong (or belonged) to a list. */
int
db_bounce_undigested(struct db *db, int64_t list_id, struct bounce_row **out,
    size_t *n)
{
	sqlite3_stmt	*st;

	if ((st = db_prep(db, "SELECT " ROW_COLUMNS " FROM bounce_scores b "
	    "JOIN subscribers s ON s.id = b.subscriber_id " ROW_VIA
	    "JOIN memberships m ON m.subscriber_id = b.subscriber_id AND "
	    "m.list_id = ? WHERE b.disabled_at IS NOT NULL AND b.digested = 0 ORDER BY "
	    "b.disabled_at, s.address")) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, list_id);
	return rows_collect(db, st, out, n);
}

int
db_bounce_mark_digested(struct db *db)
{
	sqlite3_stmt	*st;

	if ((st = db_prep(db, "UPDATE bounce_scores SET digested = 1 WHERE "
	    "disabled_at IS NOT NULL AND digested = 0")) == NULL)
		return -1;
	return db_step_log(db, st);
}

void
bounce_rows_free(struct bounce_row *rows, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		free(rows[i].address);
		free(rows[i].name);
		free(rows[i].reason);
		free(rows[i].via_source);
		free(rows[i].via_token);
	}
	free(rows);
}
