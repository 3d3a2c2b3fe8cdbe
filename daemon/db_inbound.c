/*
 * Queries of the inbound side: what was read over IMAP (inbound), where
 * reading stopped (imap_state), what a token's delivery points at, and
 * the system mail queued in answer (sysmail).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "clarion.h"
#include "db_sqlite.h"

/* 0 with the state, 1 when the mailbox was never read, -1 on error. */
static int
db_imap_state_get_store(struct db *db, const char *mailbox, uint32_t *uidvalidity,
    uint32_t *last_uid)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = db_prep(db, "SELECT uidvalidity, last_uid FROM imap_state "
	    "WHERE mailbox = ?")) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, mailbox, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*uidvalidity = (uint32_t)sqlite3_column_int64(st, 0);
		*last_uid = (uint32_t)sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? 1 : -1;
}

int
db_imap_state_get(struct db *db, const char *mailbox, uint32_t *uidvalidity,
    uint32_t *last_uid, char **cause)
{
	int	 rc;

	if ((rc = db_imap_state_get_store(db, mailbox, uidvalidity,
	    last_uid)) == -1 && cause != NULL)
		db_cause(db, cause);
	return rc;
}

static int
db_imap_state_set_store(struct db *db, const char *mailbox, uint32_t uidvalidity,
    uint32_t last_uid)
{
	sqlite3_stmt	*st;

	if ((st = db_prep(db, "INSERT INTO imap_state (mailbox, uidvalidity, "
	    "last_uid) VALUES (?, ?, ?) ON CONFLICT (mailbox) DO UPDATE SET "
	    "uidvalidity = excluded.uidvalidity, last_uid = "
	    "excluded.last_uid")) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, mailbox, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, uidvalidity);
	sqlite3_bind_int64(st, 3, last_uid);
	return db_step_log(db, st);
}

int
db_imap_state_set(struct db *db, const char *mailbox, uint32_t uidvalidity,
    uint32_t last_uid, char **cause)
{
	int	 rc;

	if ((rc = db_imap_state_set_store(db, mailbox, uidvalidity,
	    last_uid)) == -1 && cause != NULL)
		db_cause(db, cause);
	return rc;
}

static int
seen_fill(sqlite3_stmt *st, struct inbound_seen *seen)
{
	int	 rc = sqlite3_step(st);

	if (rc == SQLITE_ROW) {
		seen->id = sqlite3_column_int64(st, 0);
		seen->folder = db_col_text_or_empty(st, 1);
		seen->filed = sqlite3_column_int(st, 2);
		seen->same_uid = sqlite3_column_int(st, 3);
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : -1;
}

/*
 * Was this message recorded before? By its place (mailbox, UIDVALIDITY,
 * UID) or, failing that, by its Message-ID (the same message under a new
 * UIDVALIDITY). 1 yes (seen filled; free seen->folder), 0 no, -1 error.
 */
static int
db_inbound_seen_store(struct db *db, const char *mailbox, uint32_t uidvalidity,
    uint32_t uid, const char *message_id, struct inbound_seen *seen)
{
	sqlite3_stmt	*st;
	int		 rc;

	memset(seen, 0, sizeof *seen);
	if ((st = db_prep(db, "SELECT id, folder, filed, 1 FROM inbound WHERE "
	    "mailbox = ? AND uidvalidity = ? AND uid = ?")) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, mailbox, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, uidvalidity);
	sqlite3_bind_int64(st, 3, uid);
	if ((rc = seen_fill(st, seen)) != 0 || message_id == NULL ||
	    *message_id == '\0')
		return rc;
	if ((st = db_prep(db, "SELECT id, folder, filed, 0 FROM inbound WHERE "
	    "message_id = ? ORDER BY id LIMIT 1")) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC);
	return seen_fill(st, seen);
}

int
db_inbound_seen(struct db *db, const char *mailbox, uint32_t uidvalidity,
    uint32_t uid, const char *message_id, struct inbound_seen *seen,
    char **cause)
{
	int	 rc;

	if ((rc = db_inbound_seen_store(db, mailbox, uidvalidity, uid,
	    message_id, seen)) == -1 && cause != NULL)
		db_cause(db, cause);
	return rc;
}

int
db_inbound_insert(struct db *db, const struct inbound_rec *r, int64_t *id)
{
	sqlite3_stmt	*st;

	if ((st = db_prep(db, "INSERT INTO inbound (mailbox, uidvalidity, uid, "
	    "message_id, received_at, class, delivery_id, subscriber_id, "
	    "list_id, status_code, reason, action, folder, filed) VALUES "
	    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)")) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, r->mailbox, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, r->uidvalidity);
	sqlite3_bind_int64(st, 3, r->uid);
	sqlite3_bind_text(st, 4, r->message_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, clock_now());
	sqlite3_bind_text(st, 6, r->class, -1, SQLITE_STATIC);
	db_bind_id_or_null(st, 7, r->delivery_id);
	db_bind_id_or_null(st, 8, r->subscriber_id);
	db_bind_id_or_null(st, 9, r->list_id);
	sqlite3_bind_text(st, 10, r->status_code, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 11, r->reason, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 12, r->action != NULL ? r->action : "", -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(st, 13, r->folder, -1, SQLITE_STATIC);
	if (db_step_log(db, st) == -1)
		return -1;
	*id = sqlite3_last_insert_rowid(db->sql);
	return 0;
}

static int
db_inbound_set_filed_store(struct db *db, int64_t id)
{
	sqlite3_stmt	*st;

	if ((st = db_prep(db, "UPDATE inbound SET filed = 1 WHERE id = ?")) ==
	    NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	return db_step_log(db, st);
}

int
db_inbound_set_filed(struct db *db, int64_t id, char **cause)
{
	int	 rc;

	if ((rc = db_inbound_set_filed_store(db, id)) == -1 && cause != NULL)
		db_cause(db, cause);
	return rc;
}

/* Rows recorded but not yet filed (a crash between the two). */
static int
db_inbound_unfiled_store(struct db *db, const char *mailbox, uint32_t uidvalidity,
    struct inbound_pending **out, size_t *n)
{
	sqlite3_stmt	*st;
	int		 rc;

	*out = NULL;
	*n = 0;
	if ((st = db_prep(db, "SELECT id, uid, folder FROM inbound WHERE "
	    "mailbox = ? AND uidvalidity = ? AND filed = 0 ORDER BY uid")) ==
	    NULL)
		return -1;
	sqlite3_bind_text(st, 1, mailbox, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, uidvalidity);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = xreallocarray(*out, *n + 1, sizeof **out);
		(*out)[*n].id = sqlite3_column_int64(st, 0);
		(*out)[*n].uid = (uint32_t)sqlite3_column_int64(st, 1);
		(*out)[*n].folder = db_col_text_or_empty(st, 2);
		(*n)++;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
db_inbound_unfiled(struct db *db, const char *mailbox, uint32_t uidvalidity,
    struct inbound_pending **out, size_t *n, char **cause)
{
	int	 rc;

	if ((rc = db_inbound_unfiled_store(db, mailbox, uidvalidity, out,
	    n)) == -1 && cause != NULL)
		db_cause(db, cause);
	return rc;
}

void
inbound_pending_free(struct inbound_pending *p, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		free(p[i].folder);
	free(p);
}

/* What a token's delivery points at: its member, list and item. */
int
db_inbound_delivery(struct db *db, int64_t delivery_id,
    struct delivery_ref *ref)
{
	sqlite3_stmt	*st;
	int		 rc;

	memset(ref, 0, sizeof *ref);
	if ((st = db_prep(db, "SELECT d.subscriber_id, i.list_id, d.run_id, "
	    "i.name, i.subject, r.due_at FROM deliveries d JOIN runs r ON "
	    "r.id = d.run_id JOIN items i ON i.id = r.item_id WHERE "
	    "d.id = ?")) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, delivery_id);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ref->delivery_id = delivery_id;
		ref->subscriber_id = sqlite3_column_int64(st, 0);
		ref->list_id = sqlite3_column_int64(st, 1);
		ref->run_id = sqlite3_column_int64(st, 2);
		ref->item_name = db_col_text_or_empty(st, 3);
		ref->item_subject = db_col_text_or_empty(st, 4);
		ref->due_at = (time_t)sqlite3_column_int64(st, 5);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

void
delivery_ref_free(struct delivery_ref *ref)
{
	free(ref->item_name);
	free(ref->item_subject);
	memset(ref, 0, sizeof *ref);
}

/*
 * The message the inbound process is working on, so that one which stops
 * it (a crash, a hang killed) is known at the next start. One row in
 * daemon_state: "UIDVALIDITY UID ATTEMPTS MAILBOX". Set (committed) before
 * a message is read, deleted in the transaction that records it.
 */
static int
db_inbound_mark_store(struct db *db, const char *mailbox, uint32_t uidvalidity,
    uint32_t uid, int attempts)
{
	char	*v;
	int	 rc;

	xasprintf(&v, "%u %u %d %s", uidvalidity, uid, attempts, mailbox);
	rc = db_state_set(db, "inbound_processing", v, NULL);
	free(v);
	return rc;
}

int
db_inbound_mark(struct db *db, const char *mailbox, uint32_t uidvalidity,
    uint32_t uid, int attempts, char **cause)
{
	int	 rc;

	if ((rc = db_inbound_mark_store(db, mailbox, uidvalidity, uid,
	    attempts)) == -1 && cause != NULL)
		db_cause(db, cause);
	return rc;
}

/* How many times this message was started and not finished (0: none). */
int
db_inbound_marked(struct db *db, const char *mailbox, uint32_t uidvalidity,
    uint32_t uid)
{
	unsigned int	 uv, u;
	char		*v;
	int		 attempts, n = 0, rc = 0;

	if ((v = db_state_get(db, "inbound_processing")) == NULL)
		return 0;
	if (sscanf(v, "%u %u %d %n", &uv, &u, &attempts, &n) == 3 && n > 0 &&
	    strcmp(v + n, mailbox) == 0 && uv == uidvalidity && u == uid &&
	    attempts > 0)
		rc = attempts;
	free(v);
	return rc;
}

static int
db_inbound_unmark_store(struct db *db)
{
	sqlite3_stmt	*st;

	if ((st = db_prep(db, "DELETE FROM daemon_state WHERE key = "
	    "'inbound_processing'")) == NULL)
		return -1;
	return db_step_log(db, st);
}

int
db_inbound_unmark(struct db *db, char **cause)
{
	int	 rc;

	if ((rc = db_inbound_unmark_store(db)) == -1 && cause != NULL)
		db_cause(db, cause);
	return rc;
}

/* Messages quarantined, and when the last one was. */
int
db_inbound_quarantined(struct db *db, long *n, time_t *last)
{
	sqlite3_stmt	*st;
	int		 rc;

	*n = 0;
	*last = 0;
	if ((st = db_prep(db, "SELECT count(*), coalesce(max(received_at), 0) "
	    "FROM inbound WHERE folder = ?")) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, imap_folder_names[IMAP_QUARANTINE], -1,
	    SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*n = (long)sqlite3_column_int64(st, 0);
		*last = (time_t)sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

/*
 * Queues one system message. dedupe makes it happen once: 0 queued, 1 a
 * message with this dedupe key exists already, -1 on error.
 */
static int
db_sysmail_add_store(struct db *db, const char *kind, int64_t list_id,
    const char *to, const char *msg, size_t len, const char *dedupe)
{
	sqlite3_stmt	*st;

	if ((st = db_prep(db, "INSERT INTO sysmail (kind, list_id, to_addr, "
	    "message, dedupe, created) VALUES (?, ?, ?, ?, ?, ?) "
	    "ON CONFLICT (dedupe) DO NOTHING")) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	db_bind_id_or_null(st, 2, list_id);
	sqlite3_bind_text(st, 3, to, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 4, msg, (int)len, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, dedupe, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, clock_now());
	if (db_step_log(db, st) == -1)
		return -1;
	return sqlite3_changes(db->sql) == 1 ? 0 : 1;
}

int
db_sysmail_add(struct db *db, const char *kind, int64_t list_id,
    const char *to, const char *msg, size_t len, const char *dedupe,
    char **cause)
{
	int	 rc;

	if ((rc = db_sysmail_add_store(db, kind, list_id, to, msg, len,
	    dedupe)) == -1 && cause != NULL)
		db_cause(db, cause);
	return rc;
}

/*
 * A member's answer to a meeting's invite: the delivery (named by the
 * reply token) must be of a run of an item for the meeting whose UID the
 * reply carries (as sent: UID@domain, or the UID itself when it has an
 * @). 0 recorded (*event_id set), 1 the UID is not that delivery's
 * meeting, -1 on error.
 */
int
db_rsvp_record(struct db *db, int64_t delivery_id, const char *uid,
    const char *domain, const char *answer, int64_t *event_id)
{
	sqlite3_stmt	*st;
	int64_t		 ev = 0, sub = 0;
	int		 rc;

	if ((st = db_prep(db, "SELECT it.event_id, d.subscriber_id FROM "
	    "deliveries d JOIN runs r ON r.id = d.run_id JOIN items it ON "
	    "it.id = r.item_id JOIN events e ON e.id = it.event_id WHERE "
	    "d.id = ?1 AND d.subscriber_id IS NOT NULL AND (e.uid = ?2 OR "
	    "(instr(e.uid, '@') = 0 AND e.uid || '@' || ?3 = ?2 COLLATE "
	    "NOCASE))")) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, delivery_id);
	sqlite3_bind_text(st, 2, uid, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, domain, -1, SQLITE_TRANSIENT);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ev = sqlite3_column_int64(st, 0);
		sub = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? 1 : -1;
	if ((st = db_prep(db, "INSERT INTO rsvps (event_id, subscriber_id, "
	    "answer, delivery_id, at) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT "
	    "(event_id, subscriber_id) DO UPDATE SET answer = excluded.answer, "
	    "delivery_id = excluded.delivery_id, at = excluded.at")) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, ev);
	sqlite3_bind_int64(st, 2, sub);
	sqlite3_bind_text(st, 3, answer, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, delivery_id);
	sqlite3_bind_int64(st, 5, clock_now());
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return -1;
	*event_id = ev;
	return 0;
}

/*
 * Everyone a meeting's invite went to (a delivery of a run of an item
 * for it), with their answer or "": for `clarion notice show`.
 */
static int
db_rsvp_list_store(struct db *db, int64_t event_id, struct rsvp_row **out,
    size_t *n)
{
	sqlite3_stmt	*st;
	size_t		 cap = 0;

	*out = NULL;
	*n = 0;
	if ((st = db_prep(db, "SELECT s.address, s.name, v.answer FROM "
	    "subscribers s LEFT JOIN rsvps v ON v.subscriber_id = s.id AND "
	    "v.event_id = ?1 WHERE s.id IN (SELECT d.subscriber_id FROM "
	    "deliveries d JOIN runs r ON r.id = d.run_id JOIN items it ON "
	    "it.id = r.item_id WHERE it.event_id = ?1) ORDER BY "
	    "coalesce(v.answer, 'zz'), s.address")) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, event_id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			*out = xreallocarray(*out, cap, sizeof **out);
		}
		(*out)[*n].address = db_col_text_or_empty(st, 0);
		(*out)[*n].name = db_col_text_or_empty(st, 1);
		(*out)[*n].answer = db_col_text_or_empty(st, 2);
		(*n)++;
	}
	sqlite3_finalize(st);
	return 0;
}

int
db_rsvp_list(struct db *db, int64_t event_id, struct rsvp_row **out,
    size_t *n, char **cause)
{
	int	 rc;

	if ((rc = db_rsvp_list_store(db, event_id, out,
	    n)) == -1 && cause != NULL)
		db_cause(db, cause);
	return rc;
}

/* The newest inbound row's id (0 if none): where a pass's rows begin. */
int64_t
db_inbound_last_id(struct db *db)
{
	sqlite3_stmt	*st;
	int64_t		 id = 0;

	if ((st = db_prep(db, "SELECT coalesce(max(id), 0) FROM inbound")) ==
	    NULL)
		return 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return id;
}

/* The rows recorded after id: uid, class, folder and action of each. */
int
db_inbound_since(struct db *db, int64_t id, struct inbound_row **out,
    size_t *n)
{
	sqlite3_stmt	*st;
	size_t		 cap = 0;

	*out = NULL;
	*n = 0;
	if ((st = db_prep(db, "SELECT uid, class, folder, coalesce(action, '') "
	    "FROM inbound WHERE id > ? ORDER BY id")) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			*out = xreallocarray(*out, cap, sizeof **out);
		}
		(*out)[*n].uid = (uint32_t)sqlite3_column_int64(st, 0);
		(*out)[*n].class = db_col_text_or_empty(st, 1);
		(*out)[*n].folder = db_col_text_or_empty(st, 2);
		(*out)[*n].action = db_col_text_or_empty(st, 3);
		(*n)++;
	}
	sqlite3_finalize(st);
	return 0;
}

/* How many members accepted, are tentative, declined a meeting. */
int
db_rsvp_counts(struct db *db, int64_t event_id, long counts[3])
{
	sqlite3_stmt	*st;
	int		 rc;

	counts[0] = counts[1] = counts[2] = 0;
	if ((st = db_prep(db, "SELECT coalesce(sum(answer = 'accepted'), 0), "
	    "coalesce(sum(answer = 'tentative'), 0), coalesce(sum(answer = "
	    "'declined'), 0) FROM rsvps WHERE event_id = ?")) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, event_id);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		counts[0] = (long)sqlite3_column_int64(st, 0);
		counts[1] = (long)sqlite3_column_int64(st, 1);
		counts[2] = (long)sqlite3_column_int64(st, 2);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

/*
 * What the owners' digest reports of the inbound mail recorded after
 * `after` up to `upto` (ids) and received after not_before for one list, and with with_none also what
 * names no list: every complaint, and every message filed without an
 * effect. That is anything filed to Unknown or Quarantine or whose
 * action begins "nothing" or "not " (nothing was done), except
 * auto-replies (nobody needs to answer them) and messages forwarded to
 * the owners (an action saying "forwarded to": the forward is the
 * effect, and the owner has it already).
 */
int
db_inbound_digest(struct db *db, int64_t after, int64_t upto,
    time_t not_before, int64_t list_id, int with_none, struct inbound_digest_row **out,
    size_t *n)
{
	sqlite3_stmt	*st;
	size_t		 cap = 0;
	struct inbound_digest_row *r;

	*out = NULL;
	*n = 0;
	if ((st = db_prep(db, "SELECT i.class = 'complaint', s.address, "
	    "s.name, i.class, i.folder, i.action, coalesce(i.message_id, ''), "
	    "i.received_at FROM inbound i LEFT JOIN subscribers s ON s.id = "
	    "i.subscriber_id WHERE i.id > ?1 AND i.id <= ?2 AND i.received_at > ?5 AND "
	    "(i.list_id = ?3 OR (i.list_id IS NULL AND ?4)) AND (i.class = 'complaint' OR "
	    "(i.class <> 'auto-reply' AND i.action NOT LIKE '%forwarded to%' AND "
	    "(i.folder LIKE '%Unknown' OR i.folder LIKE '%Quarantine' OR "
	    "i.action LIKE 'nothing%' OR i.action LIKE 'not %'))) "
	    "ORDER BY i.id")) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int64(st, 2, upto);
	sqlite3_bind_int64(st, 3, list_id);
	sqlite3_bind_int(st, 4, with_none);
	sqlite3_bind_int64(st, 5, (int64_t)not_before);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap == 0 ? 8 : cap * 2;
			*out = xreallocarray(*out, cap, sizeof **out);
		}
		r = &(*out)[(*n)++];
		r->complaint = sqlite3_column_int(st, 0);
		r->address = db_col_text_or_empty(st, 1);
		r->name = db_col_text_or_empty(st, 2);
		r->class = db_col_text_or_empty(st, 3);
		r->folder = db_col_text_or_empty(st, 4);
		r->action = db_col_text_or_empty(st, 5);
		r->message_id = db_col_text_or_empty(st, 6);
		r->received_at = (time_t)sqlite3_column_int64(st, 7);
	}
	return sqlite3_finalize(st) == SQLITE_OK ? 0 : -1;
}

void
inbound_digest_free(struct inbound_digest_row *v, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		free(v[i].address);
		free(v[i].name);
		free(v[i].class);
		free(v[i].folder);
		free(v[i].action);
		free(v[i].message_id);
	}
	free(v);
}
