/*
 * The sender's queries: claim deliveries and system mail for sending,
 * record each result, recover after a crash, count what was sent (for the
 * rate limits) and list what is waiting (clarion queue).
 *
 * Exactly-once rests on two writes per message: the claim (state
 * 'sending', claimed_at) just before the SMTP transaction and the result
 * just after it. The sender claims only as many rows as it has free
 * connections, so after a crash the rows left in 'sending' are exactly
 * the transactions that were in flight: the only uncertain ones.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "clarion.h"
#include "db_sqlite.h"

static void
claim_read_delivery(sqlite3_stmt *st, struct delivery_claim *c)
{
	memset(c, 0, sizeof *c);
	c->id = sqlite3_column_int64(st, 0);
	c->run_id = sqlite3_column_int64(st, 1);
	c->subscriber_id = sqlite3_column_int64(st, 2);
	c->address = db_col_text_or_null(st, 3);
	c->attempts = sqlite3_column_int(st, 4);
	c->created = (time_t)sqlite3_column_int64(st, 5);
}

static void
claim_read_sysmail(sqlite3_stmt *st, struct delivery_claim *c)
{
	const void	*blob;

	memset(c, 0, sizeof *c);
	c->sysmail = 1;
	c->id = sqlite3_column_int64(st, 0);
	c->kind = db_col_text_or_null(st, 1);
	c->address = db_col_text_or_null(st, 2);
	c->attempts = sqlite3_column_int(st, 3);
	c->created = (time_t)sqlite3_column_int64(st, 4);
	c->len = (size_t)sqlite3_column_bytes(st, 5);
	blob = sqlite3_column_blob(st, 5);
	c->message = xmalloc(c->len + 1);
	if (c->len > 0)
		memcpy(c->message, blob, c->len);
	c->message[c->len] = '\0';
}

static const char *const claim_select[] = {
	"SELECT id, run_id, subscriber_id, address, attempts, created "
	"FROM deliveries WHERE state = 'queued' OR (state = 'deferred' AND "
	"next_attempt <= ?1) ORDER BY priority DESC, id LIMIT ?2",
	"SELECT id, kind, to_addr, attempts, created, message FROM sysmail "
	"WHERE state = 'queued' OR (state = 'deferred' AND next_attempt <= "
	"?1) ORDER BY id LIMIT ?2",
};
/*
 * Consent at claim time: why the member of delivery d may not be mailed
 * now, or NULL if they may. This is the one rule every path obeys (first
 * send, retry, released held mail, run resend, reminders, updates,
 * cancellations), because it is part of the claim's own UPDATE: nothing
 * reaches the transport without passing it in the transaction that claims
 * it. A member may be mailed while they are still subscribed to the run's
 * list and their address is neither erased nor suppressed (by keyed
 * hash, which every suppression has, with the current or the old key:
 * one index look-up each). Test sends
 * to an officer (clarion item test) never pass through a claim.
 */
/*
 * The one exception (issue 20): the update or cancellation of a meeting
 * goes to a member who was sent its notice (or an update), even after
 * they left the list or unsubscribed, because the meeting is in their
 * calendar. Only that mail: still not once erased or suppressed for
 * another reason (a bounce, a complaint, an officer's decision).
 */
#define NOTICE_HELD \
	"EXISTS (SELECT 1 FROM runs r JOIN runs r0 ON r0.item_id = r.item_id " \
	"JOIN deliveries d0 ON d0.run_id = r0.id WHERE r.id = d.run_id AND " \
	"r.purpose IN ('update', 'cancel') AND r0.purpose IN ('notice', " \
	"'update') AND d0.subscriber_id = d.subscriber_id AND d0.state = " \
	"'sent')"
#define DELIVERY_REFUSAL \
	"CASE WHEN d.address IS NULL OR d.subscriber_id IS NULL THEN " \
	"'the member was erased' WHEN NOT EXISTS (SELECT 1 FROM runs r JOIN " \
	"items i ON i.id = r.item_id JOIN memberships m ON m.list_id = " \
	"i.list_id WHERE r.id = d.run_id AND m.subscriber_id = " \
	"d.subscriber_id AND m.status = 'subscribed') AND NOT " NOTICE_HELD \
	" THEN 'not subscribed " \
	"to the list (any more)' ELSE (SELECT 'the address is suppressed (' " \
	"|| s.reason || ')' FROM suppressions s WHERE s.address_hash IN " \
	"(clarion_address_hash(d.address, 0), clarion_address_hash(" \
	"d.address, 1)) AND (s.reason != 'unsubscribed' OR NOT " NOTICE_HELD \
	") LIMIT 1) END"

/*
 * System mail to a member is the confirmation of their own unsubscribe:
 * it goes even though they are unsubscribed (that is what it confirms),
 * but not once they are erased or suppressed for any other reason (a
 * complaint, a bounce, an officer's decision). Mail to officers (forwards,
 * digests, tests) is not checked.
 */
#define SYSMAIL_REFUSAL \
	"CASE WHEN y.kind != 'unsubscribed' THEN NULL WHEN y.to_addr IS NULL " \
	"THEN 'the member was erased' ELSE (SELECT 'the address is " \
	"suppressed (' || s.reason || ')' FROM suppressions s WHERE " \
	"s.reason != 'unsubscribed' AND s.address_hash IN (" \
	"clarion_address_hash(y.to_addr, 0), clarion_address_hash(" \
	"y.to_addr, 1)) LIMIT 1) END"

/*
 * The claim: 'sending' if still due and allowed, else 'suppressed' (for
 * system mail 'failed') with the reason as the last reply. RETURNING says
 * which.
 */
static const char *const claim_update[] = {
	"UPDATE deliveries SET state = CASE WHEN w.why IS NULL THEN 'sending' "
	"ELSE 'suppressed' END, claimed_at = ?1, last_reply = CASE WHEN w.why IS NULL THEN last_reply ELSE "
	"'not sent: ' || w.why END FROM (SELECT " DELIVERY_REFUSAL " AS why "
	"FROM deliveries d WHERE d.id = ?2) AS w WHERE id = ?2 AND (state = "
	"'queued' OR (state = 'deferred' AND next_attempt <= ?1)) "
	"RETURNING state, last_reply",
	"UPDATE sysmail SET state = CASE WHEN w.why IS NULL THEN 'sending' "
	"ELSE 'failed' END, last_reply = CASE WHEN w.why IS NULL THEN "
	"last_reply ELSE 'not sent: ' || w.why END FROM (SELECT "
	SYSMAIL_REFUSAL " AS why FROM sysmail y WHERE y.id = ?2) AS w WHERE "
	"id = ?2 AND (state = 'queued' OR (state = 'deferred' AND "
	"next_attempt <= ?1)) RETURNING state, last_reply",
};

/*
 * Up to max rows that are due now (queued, or deferred whose next attempt
 * has come), in sending order: sysmail when sysmail is set, else
 * deliveries by priority (higher first) then id. Nothing is claimed: the
 * sender reads a batch ahead (one sort per batch, not per message) and
 * claims each row with db_delivery_take() only when a connection is free.
 */
int
db_delivery_due(struct db *db, time_t now, int max, int sysmail,
    struct delivery_claim **out, size_t *n)
{
	sqlite3_stmt	*st;
	int		 rc, sys = sysmail != 0;

	*out = NULL;
	*n = 0;
	if (max <= 0)
		return 0;
	if (sqlite3_prepare_v2(db->sql, claim_select[sys], -1, &st,
	    NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int(st, 2, max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = xreallocarray(*out, *n + 1, sizeof **out);
		if (sys)
			claim_read_sysmail(st, &(*out)[(*n)++]);
		else
			claim_read_delivery(st, &(*out)[(*n)++]);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		log_warnx("%s: reading the queue: %s", db->path, db_errmsg(db));
		return -1;
	}
	return 0;
}

/* One row: 1 claimed, 0 not (gone, or refused and marked so), -1 error. */
static int
take_one(sqlite3_stmt *st, time_t now, const struct delivery_claim *c)
{
	const char	*state;
	int		 rc, taken = 0;

	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, c->id);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		state = (const char *)sqlite3_column_text(st, 0);
		taken = strcmp(state, "sending") == 0;
		if (!taken)
			log_info("send: %s %lld %s", c->sysmail ? "sysmail" :
			    "delivery", (long long)c->id,
			    sqlite3_column_text(st, 1));
		rc = sqlite3_step(st);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? taken : -1;
}

static long
take_rows(struct db *db, time_t now, const struct delivery_claim *c,
    size_t n, int *taken)
{
	sqlite3_stmt	*st[2] = { NULL, NULL };
	size_t		 i;
	long		 got = -1;
	int		 sys;

	if (sqlite3_prepare_v2(db->sql, claim_update[0], -1, &st[0],
	    NULL) != SQLITE_OK || sqlite3_prepare_v2(db->sql,
	    claim_update[1], -1, &st[1], NULL) != SQLITE_OK)
		goto out;
	for (got = 0, i = 0; i < n; i++) {
		sys = c[i].sysmail != 0;
		if ((taken[i] = take_one(st[sys], now, &c[i])) == -1) {
			got = -1;
			goto out;
		}
		got += taken[i];
	}
out:
	sqlite3_finalize(st[0]);
	sqlite3_finalize(st[1]);
	return got;
}

/*
 * Claims rows read by db_delivery_due() in one short write transaction:
 * state 'sending' (and claimed_at), if each is still due and its member
 * may still be mailed (DELIVERY_REFUSAL; the keys hash addresses for the
 * suppression check), else 'suppressed' with the reason; taken[i] says
 * which were claimed. Returns how many, or -1.
 */
long
db_delivery_take(struct db *db, const struct token_keys *keys, time_t now,
    const struct delivery_claim *c, size_t n, int *taken)
{
	long	 got;

	if (n == 0)
		return 0;
	if (db_use_keys(db, keys) == -1 || db_begin(db) == -1)
		return -1;
	if ((got = take_rows(db, now, c, n, taken)) == -1) {
		log_warnx("%s: claiming mail to send: %s", db->path,
		    db_errmsg(db));
		db_rollback(db);
		return -1;
	}
	return db_commit(db) == -1 ? -1 : got;
}

/* Reads and claims at once: db_delivery_due() then db_delivery_take(). */
int
db_delivery_claim(struct db *db, const struct token_keys *keys, time_t now,
    int max, int sysmail, struct delivery_claim **out, size_t *n)
{
	int	*taken;
	size_t	 i, k = 0;

	if (db_delivery_due(db, now, max, sysmail, out, n) == -1)
		return -1;
	taken = xcalloc(*n + 1, sizeof *taken);
	if (db_delivery_take(db, keys, now, *out, *n, taken) == -1) {
		free(taken);
		delivery_claims_free(*out, *n);
		*out = NULL;
		*n = 0;
		return -1;
	}
	for (i = 0; i < *n; i++) {
		if (taken[i])
			(*out)[k++] = (*out)[i];
		else
			delivery_claims_free_one(&(*out)[i]);
	}
	*n = k;
	free(taken);
	return 0;
}

void
delivery_claims_free_one(struct delivery_claim *c)
{
	free(c->address);
	free(c->kind);
	free(c->message);
	memset(c, 0, sizeof *c);
}

void
delivery_claims_free(struct delivery_claim *c, size_t n)
{
	size_t	 i;

	for (i = 0; c != NULL && i < n; i++)
		delivery_claims_free_one(&c[i]);
	free(c);
}

static const char *const outcome_state[] = {
	[DELIVERY_SENT] = "sent",
	[DELIVERY_DEFERRED] = "deferred",
	[DELIVERY_FAILED] = "failed",
	[DELIVERY_REQUEUED] = "queued",
	[DELIVERY_HELD] = "held",
};

static int
record_one(struct db *db, sqlite3_stmt *st, const struct delivery_outcome *o)
{
	int	 rc;

	(void)db;
	sqlite3_bind_text(st, 1, outcome_state[o->state], -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, o->state == DELIVERY_REQUEUED ||
	    o->state == DELIVERY_HELD ? 0 : 1);
	sqlite3_bind_int64(st, 3, o->next_attempt);
	sqlite3_bind_text(st, 4, o->reply, -1, SQLITE_STATIC);
	if (o->state == DELIVERY_SENT)
		sqlite3_bind_int64(st, 5, o->at);
	else
		sqlite3_bind_null(st, 5);
	sqlite3_bind_int64(st, 6, o->id);
	sqlite3_bind_int(st, 7, o->code);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static const char *const record_sql[] = {
	"UPDATE deliveries SET state = ?1, attempts = attempts + ?2, "
	"next_attempt = ?3, last_reply = ?4, sent_at = ?5, last_code = ?7, "
	"claimed_at = CASE WHEN ?1 = 'queued' THEN NULL ELSE claimed_at END "
	"WHERE id = ?6 AND state = 'sending'",
	"UPDATE sysmail SET state = CASE WHEN ?1 = 'held' THEN 'failed' ELSE "
	"?1 END, attempts = attempts + ?2, next_attempt = ?3, last_reply = "
	"?4, sent_at = ?5 WHERE id = ?6 AND state = 'sending' AND ?7 = ?7",
};

/* Records a group of results in one short transaction. */
int
db_delivery_record(struct db *db, const struct delivery_outcome *o, size_t n,
    char **cause)
{
	sqlite3_stmt	*st[2] = { NULL, NULL };
	size_t		 i;
	int		 rc = -1;

	if (n == 0)
		return 0;
	if (db_begin(db) == -1) {
		db_cause(db, cause);
		return -1;
	}
	if (sqlite3_prepare_v2(db->sql, record_sql[0], -1, &st[0],
	    NULL) != SQLITE_OK || sqlite3_prepare_v2(db->sql, record_sql[1],
	    -1, &st[1], NULL) != SQLITE_OK)
		goto out;
	for (i = 0; i < n; i++)
		if (record_one(db, st[o[i].sysmail != 0], &o[i]) == -1)
			goto out;
	rc = 0;
out:
	if (rc == -1) {
		log_warnx("%s: recording send results: %s", db->path,
		    db_errmsg(db));
		db_cause(db, cause);
	}
	sqlite3_finalize(st[0]);
	sqlite3_finalize(st[1]);
	if (rc == -1) {
		db_rollback(db);
		return -1;
	}
	if (db_commit(db) == -1) {
		if (cause != NULL && *cause == NULL)
			xasprintf(cause, "%s: cannot commit", db->path);
		return -1;
	}
	return 0;
}

static long
changes_of(struct db *db, const char *sql, int arg)
{
	sqlite3_stmt	*st;
	long		 n = -1;

	if (sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int(st, 1, arg);
	if (sqlite3_step(st) == SQLITE_DONE)
		n = sqlite3_changes(db->sql);
	sqlite3_finalize(st);
	return n;
}

/*
 * After a crash: rows still in 'sending' were in an SMTP transaction
 * whose outcome is unknown. Deliveries go back to the queue (resend) or
 * are held for the owner; system mail always goes back to the queue.
 */
int
db_delivery_recover(struct db *db, enum resend_policy policy, long *ndel,
    long *nsys)
{
	if (db_begin(db) == -1)
		return -1;
	*ndel = changes_of(db, "UPDATE deliveries SET state = CASE WHEN ?1 "
	    "THEN 'held' ELSE 'queued' END, claimed_at = NULL, last_reply = "
	    "CASE WHEN ?1 THEN 'held after a crash: it may have been sent "
	    "(clarion queue resend)' ELSE last_reply END WHERE state = "
	    "'sending'", policy == RESEND_HOLD);
	*nsys = changes_of(db, "UPDATE sysmail SET state = 'queued' WHERE "
	    "state = 'sending' AND ?1 = ?1", 0);
	if (*ndel == -1 || *nsys == -1) {
		log_warnx("%s: recovering deliveries: %s", db->path,
		    db_errmsg(db));
		db_rollback(db);
		return -1;
	}
	return db_commit(db);
}

/* Messages sent (deliveries and sysmail) at or after since. */
long
db_sent_since(struct db *db, time_t since)
{
	sqlite3_stmt	*st;
	long		 n = -1;

	if (sqlite3_prepare_v2(db->sql, "SELECT (SELECT count(*) FROM "
	    "deliveries WHERE state = 'sent' AND sent_at >= ?1) + (SELECT "
	    "count(*) FROM sysmail WHERE state = 'sent' AND sent_at >= ?1)",
	    -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, since);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/*
 * The owner's decision on held deliveries (of one run, or all with run
 * 0): send them (back to the queue) or cancel them. *n is how many.
 */
int
db_delivery_release_held(struct db *db, int64_t run, int cancel, long *n)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (sqlite3_prepare_v2(db->sql, "UPDATE deliveries SET state = "
	    "CASE WHEN ?2 THEN 'cancelled' ELSE 'queued' END, next_attempt = 0"
	    " WHERE state = 'held' AND (?1 = 0 OR run_id = ?1)", -1, &st,
	    NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, run);
	sqlite3_bind_int(st, 2, cancel != 0);
	rc = sqlite3_step(st);
	*n = sqlite3_changes(db->sql);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return -1;
	if (cancel || *n == 0)
		return 0;
	/*
	 * A run counted as done while these were held (as older versions
	 * counted them) is sending again; the hold reason goes, so a new hold is reported.
	 */
	return db_exec(db, "UPDATE runs SET state = 'sending', finished = NULL, "
	    "reason = '' WHERE state IN ('done', 'sending') AND id IN (SELECT "
	    "run_id FROM deliveries WHERE state = 'queued')", NULL);
}

static void
counts_add(struct delivery_counts *c, const char *state, long n)
{
	switch (delivery_state_parse(state)) {
	case DSTATE_QUEUED:
		c->queued += n;
		break;
	case DSTATE_SENDING:
		c->sending += n;
		break;
	case DSTATE_SENT:
		c->sent += n;
		break;
	case DSTATE_DEFERRED:
		c->deferred += n;
		break;
	case DSTATE_FAILED:
		c->failed += n;
		break;
	case DSTATE_SUPPRESSED:
		c->suppressed += n;
		break;
	case DSTATE_HELD:
		c->held += n;
		break;
	case DSTATE_CANCELLED:
		c->cancelled += n;
		break;
	default:
		break;
	}
}

/*
 * A run's deliveries by state, and the earliest next try of the deferred
 * ones (0 if none), for `clarion run show` and `clarion queue`. run 0
 * counts every run.
 */
static int
db_run_delivery_counts_store(struct db *db, int64_t run, struct delivery_counts *c)
{
	sqlite3_stmt	*st;
	int		 rc;

	memset(c, 0, sizeof *c);
	if (sqlite3_prepare_v2(db->sql, "SELECT state, count(*), min(CASE "
	    "WHEN state = 'deferred' THEN next_attempt END) FROM deliveries "
	    "WHERE ?1 = 0 OR run_id = ?1 GROUP BY state", -1, &st,
	    NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, run);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		counts_add(c, (const char *)sqlite3_column_text(st, 0),
		    sqlite3_column_int64(st, 1));
		if (sqlite3_column_type(st, 2) != SQLITE_NULL)
			c->next_attempt = (time_t)sqlite3_column_int64(st, 2);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
db_run_delivery_counts(struct db *db, int64_t run, struct delivery_counts *c,
    char **cause)
{
	int	 rc;

	if ((rc = db_run_delivery_counts_store(db, run,
	    c)) == -1 && cause != NULL)
		db_cause(db, cause);
	return rc;
}

static const char queue_sql[] =
    "SELECT 0, id, run_id, state, address, attempts, next_attempt, "
    "last_code, last_reply, priority FROM deliveries WHERE state = ?2 "
    "AND (?1 = 0 OR run_id = ?1) "
    "UNION ALL SELECT 1, id, NULL, state, to_addr, attempts, next_attempt, "
    "NULL, last_reply, NULL FROM sysmail WHERE ?1 = 0 AND state = ?2 "
    "ORDER BY 1 DESC, 10 DESC, 2";

/*
 * Calls cb for each delivery (and, with run 0, each system message) in
 * the given state ("queued", "deferred", ...), sysmail first,
 * then by priority and id, as they will be sent.
 */
static int
db_queue_list_store(struct db *db, int64_t run, const char *state,
    int (*cb)(void *, const struct queue_entry *), void *arg)
{
	struct queue_entry e;
	sqlite3_stmt	*st;
	int		 rc;

	if (sqlite3_prepare_v2(db->sql, queue_sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, run);
	sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		e.sysmail = sqlite3_column_int(st, 0);
		e.id = sqlite3_column_int64(st, 1);
		e.run_id = sqlite3_column_int64(st, 2);
		e.state = (const char *)sqlite3_column_text(st, 3);
		e.address = (const char *)sqlite3_column_text(st, 4);
		e.attempts = sqlite3_column_int(st, 5);
		e.next_attempt = (time_t)sqlite3_column_int64(st, 6);
		e.last_code = sqlite3_column_int(st, 7);
		e.last_reply = (const char *)sqlite3_column_text(st, 8);
		e.priority = sqlite3_column_int(st, 9);
		if (cb(arg, &e) != 0)
			break;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

int
db_queue_list(struct db *db, int64_t run, const char *state,
    int (*cb)(void *, const struct queue_entry *), void *arg, char **cause)
{
	int	 rc;

	if ((rc = db_queue_list_store(db, run, state, cb,
	    arg)) == -1 && cause != NULL)
		db_cause(db, cause);
	return rc;
}

/* Counts of waiting system mail by state. */
static int
db_sysmail_counts_store(struct db *db, long *queued, long *deferred, long *failed)
{
	sqlite3_stmt	*st;
	int		 rc;

	*queued = *deferred = *failed = 0;
	if (sqlite3_prepare_v2(db->sql, "SELECT state, count(*) FROM sysmail "
	    "GROUP BY state", -1, &st, NULL) != SQLITE_OK)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *s = (const char *)sqlite3_column_text(st, 0);
		long	 n = sqlite3_column_int64(st, 1);

		if (strcmp(s, "queued") == 0 || strcmp(s, "sending") == 0)
			*queued += n;
		else if (strcmp(s, "deferred") == 0)
			*deferred += n;
		else if (strcmp(s, "failed") == 0)
			*failed += n;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
db_sysmail_counts(struct db *db, long *queued, long *deferred, long *failed,
    char **cause)
{
	int	 rc;

	if ((rc = db_sysmail_counts_store(db, queued, deferred,
	    failed)) == -1 && cause != NULL)
		db_cause(db, cause);
	return rc;
}

/*
 * Deliveries of the list's runs refused at claim time (their member left
 * after the run was composed) since a time, for the owner's digest.
 */
long
db_delivery_refused_since(struct db *db, int64_t list, time_t since)
{
	sqlite3_stmt	*st;
	long		 n = -1;

	if (sqlite3_prepare_v2(db->sql, "SELECT count(*) FROM deliveries d "
	    "JOIN runs r ON r.id = d.run_id JOIN items i ON i.id = r.item_id "
	    "WHERE i.list_id = ? AND d.state = 'suppressed' AND d.claimed_at "
	    ">= ?", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, list);
	sqlite3_bind_int64(st, 2, since);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* One delivery's run, member, address, attempts and age. */
int
db_delivery_get(struct db *db, int64_t id, struct delivery_claim *c)
{
	sqlite3_stmt	*st;
	int		 rc = -1;

	if (sqlite3_prepare_v2(db->sql, "SELECT id, run_id, subscriber_id, "
	    "address, attempts, created FROM deliveries WHERE id = ?", -1,
	    &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		claim_read_delivery(st, c);
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}
