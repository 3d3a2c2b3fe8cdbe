/*
 * The database side of the privacy journal (journal.c): recording each
 * privacy action as it is taken, and replaying the ones a restored
 * database does not hold.
 *
 * Which ones it holds: every append happens inside the write transaction
 * that records the action, and that transaction also stores the entry's
 * sequence number as daemon_state journal_seq. Write transactions are
 * serialised, so the journal's order is the commit order, and any copy of
 * the database (a backup) holds exactly the actions up to its
 * journal_seq. Replay takes the entries after it, in order; each is
 * applied as "make it so", so replaying twice changes nothing more.
 *
 * Order against a crash: the line is on disk (fsync) before the
 * transaction commits. A crash in between leaves an entry whose action
 * the database never recorded; replay then applies it, which for an
 * unsubscribe, suppression or erasure is what the person asked for.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "clarion.h"
#include "db_sqlite.h"

static int64_t
journal_seq(struct db *db)
{
	char	*v;
	int64_t	 seq;

	if ((v = db_state_get(db, "journal_seq")) == NULL)
		return 0;
	seq = strtoll(v, NULL, 10);
	free(v);
	return seq;
}

static int
journal_seq_set(struct db *db, int64_t seq)
{
	char	 v[32];

	snprintf(v, sizeof v, "%lld", (long long)seq);
	return db_state_set(db, "journal_seq", v, NULL);
}

/*
 * Journals one action by the keyed hash of the address. Inside the
 * caller's write transaction (see above). strict: a failure is an error,
 * for actions that give permission back (resubscribe, unsuppress), so the
 * caller rolls back; otherwise it is logged and the action goes on: an
 * unsubscribe is never refused because the journal cannot be written.
 */
int
db_journal_hash(struct db *db, enum journal_action a, const char *hash,
    int64_t list, const char *text, const char *consent, int strict)
{
	struct journal_entry e;
	char		*cause = NULL;
	int64_t		 seq = journal_seq(db) + 1;

	memset(&e, 0, sizeof e);
	e.seq = seq;
	e.at = clock_now();
	e.action = a;
	snprintf(e.hash, sizeof e.hash, "%s", hash);
	e.list = list;
	e.text = text;
	e.consent = consent;
	if (journal_append(db->path, &e, &cause) == -1 ||
	    journal_seq_set(db, seq) == -1) {
		log_warnx("privacy journal: %s; a restore of an older backup "
		    "would not re-apply this %s", cause != NULL ? cause :
		    db_errmsg(db), journal_action_name(a));
		free(cause);
		return strict ? -1 : 0;
	}
	return 0;
}

int
db_journal(struct db *db, const struct token_keys *keys,
    enum journal_action a, const char *address, int64_t list,
    const char *text, const char *consent, int strict)
{
	char	 hash[DB_HASH_HEX];

	if (keys == NULL || address == NULL ||
	    db_address_hash(keys, address, 0, hash) == -1) {
		log_warnx("privacy journal: no token secret or address; a "
		    "restore of an older backup would not re-apply this %s",
		    journal_action_name(a));
		return strict ? -1 : 0;
	}
	return db_journal_hash(db, a, hash, list, text, consent, strict);
}

/*
 * Replay. The journal names people only by keyed hash, so the restored
 * subscribers are hashed (with the current key and, in its grace period,
 * the old one) and found by hash.
 */
struct person {
	char	 hash[DB_HASH_HEX];
	int64_t	 id;
	char	*address;
};

struct replay {
	struct db		*db;
	const struct token_keys	*keys;
	struct journal_replay	*r;
	struct person		*people;
	size_t			 npeople;
	int			 loaded;
	char			*error;
};

static int
person_cmp(const void *a, const void *b)
{
	return strcmp(((const struct person *)a)->hash,
	    ((const struct person *)b)->hash);
}

static void
people_add(struct replay *p, int64_t id, const char *address, int old)
{
	struct person	*q;
	char		 hash[DB_HASH_HEX];

	if (db_address_hash(p->keys, address, old, hash) == -1)
		return;
	p->people = xreallocarray(p->people, p->npeople + 1,
	    sizeof *p->people);
	q = &p->people[p->npeople++];
	memcpy(q->hash, hash, sizeof q->hash);
	q->id = id;
	q->address = xstrdup(address);
}

static int
people_load(struct replay *p)
{
	sqlite3_stmt	*st;
	const char	*a;
	int		 rc;

	p->loaded = 1;
	if ((st = db_prep(p->db, "SELECT id, address FROM subscribers")) ==
	    NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		a = (const char *)sqlite3_column_text(st, 1);
		people_add(p, sqlite3_column_int64(st, 0), a, 0);
		people_add(p, sqlite3_column_int64(st, 0), a, 1);
	}
	sqlite3_finalize(st);
	if (p->npeople > 0)
		qsort(p->people, p->npeople, sizeof *p->people, person_cmp);
	return rc == SQLITE_DONE ? 0 : -1;
}

static const struct person *
person_find(struct replay *p, const char *hash)
{
	struct person	 key;

	if (!p->loaded && people_load(p) == -1) {
		log_warnx("%s: reading subscribers: %s", p->db->path,
		    db_errmsg(p->db));
		return NULL;
	}
	if (p->npeople == 0)
		return NULL;
	memcpy(key.hash, hash, sizeof key.hash);
	return bsearch(&key, p->people, p->npeople, sizeof *p->people,
	    person_cmp);
}

/*
 * Runs sql with ?1 id, ?2 list, ?3 hash, ?4 text, ?5 at, ?6 address (a
 * statement may use only some: binding the others does nothing).
 */
static long
replay_exec(struct replay *p, const char *sql, const struct journal_entry *e,
    const struct person *who)
{
	sqlite3_stmt	*st;

	if ((st = db_prep(p->db, sql)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, who != NULL ? who->id : 0);
	sqlite3_bind_int64(st, 2, e->list);
	sqlite3_bind_text(st, 3, e->hash, -1, SQLITE_STATIC);
	if (e->text != NULL)
		sqlite3_bind_text(st, 4, e->text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, e->at);
	if (who != NULL)
		sqlite3_bind_text(st, 6, who->address, -1, SQLITE_STATIC);
	if (db_step_log(p->db, st) == -1)
		return -1;
	return sqlite3_changes(p->db->sql);
}

static long
replay_consent(struct replay *p, const struct journal_entry *e,
    const char *action)
{
	sqlite3_stmt	*st;

	if ((st = db_prep(p->db, "INSERT INTO consent_log (address_hash, "
	    "list_id, action, consent, at) VALUES (?, (SELECT id FROM lists "
	    "WHERE id = ?), ?, ?, ?)")) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, e->hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, e->list);
	sqlite3_bind_text(st, 3, action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, e->consent != NULL ? e->consent : "", -1,
	    SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, e->at);
	return db_step_log(p->db, st) == -1 ? -1 : 1;
}

static const char *const suppress_reasons[] = {
	"unsubscribed", "hard-bounce", "soft-bounce", "complaint", "manual",
};

static long
replay_suppress(struct replay *p, struct journal_entry *e,
    const struct person *who)
{
	long	 a, b;
	size_t	 i;

	for (i = 0; i < nitems(suppress_reasons); i++)
		if (e->text != NULL && strcmp(e->text, suppress_reasons[i]) == 0)
			break;
	if (i == nitems(suppress_reasons))
		return 0;
	if ((a = replay_exec(p, "INSERT INTO suppressions (address_hash, "
	    "address, reason, detail, created) VALUES (?3, ?6, ?4, 're-applied "
	    "from the privacy journal after a restore', ?5) ON CONFLICT "
	    "(address_hash) DO NOTHING", e, who)) == -1)
		return -1;
	if ((b = replay_exec(p, "UPDATE suppressions SET reason = ?4 WHERE "
	    "address_hash = ?3 AND reason NOT IN ('erased', ?4)", e, who)) == -1)
		return -1;
	return a + b;
}

static long
replay_erase(struct replay *p, const struct journal_entry *e,
    const struct person *who)
{
	struct erase_result er;
	long		 n;

	if (who != NULL) {
		/* Deleted content zeroed, as db_subscriber_erase does. */
		if (db_exec(p->db, "PRAGMA secure_delete = ON", NULL) == -1 ||
		    db_erase_rows(p->db, p->keys, who->id, who->address,
		    &er) == -1)
			return -1;
		return 1;
	}
	/* Nobody to erase here: the keyed hash still keeps them out. */
	if ((n = replay_exec(p, "INSERT INTO suppressions (address_hash, "
	    "address, reason, detail, created) VALUES (?3, NULL, 'erased', '', "
	    "?5) ON CONFLICT (address_hash) DO UPDATE SET address = NULL, "
	    "reason = 'erased', detail = '' WHERE reason != 'erased'", e, NULL)) == -1)
		return -1;
	return n;
}

static long
replay_one(struct replay *p, struct journal_entry *e)
{
	const struct person *who = person_find(p, e->hash);
	long		 n;

	switch (e->action) {
	case JOURNAL_UNSUBSCRIBE:
		if (who == NULL)
			return 0;
		return replay_exec(p, "UPDATE memberships SET status = "
		    "'unsubscribed', source = coalesce(?4, 'journal'), updated "
		    "= ?5 WHERE subscriber_id = ?1 AND (?2 = 0 OR list_id = ?2) "
		    "AND status != 'unsubscribed'", e, who);
	case JOURNAL_SUPPRESS:
		return replay_suppress(p, e, who);
	case JOURNAL_ERASE:
		return replay_erase(p, e, who);
	case JOURNAL_RESUBSCRIBE:
		if (who == NULL || (n = replay_exec(p, "UPDATE memberships SET "
		    "status = 'subscribed', source = coalesce(?4, 'journal'), "
		    "updated = ?5, consent_at = ?5 WHERE subscriber_id = ?1 AND "
		    "list_id = ?2 AND status != 'subscribed'", e, who)) <= 0)
			return who == NULL ? 0 : n;
		return replay_consent(p, e, "resubscribed");
	case JOURNAL_UNSUPPRESS:
		if ((n = replay_exec(p, "DELETE FROM suppressions WHERE "
		    "(address_hash = ?3 OR (?6 IS NOT NULL AND address = ?6)) "
		    "AND reason != 'erased'", e, who)) <= 0)
			return n;
		return replay_consent(p, e, "unsuppressed");
	}
	return 0;
}

static int
replay_cb(void *arg, const struct journal_entry *ce)
{
	struct replay	*p = arg;
	struct journal_entry *e = (struct journal_entry *)ce;
	long		 n;

	if (e->seq > p->r->last_seq)
		p->r->last_seq = e->seq;
	if (e->seq <= p->r->from_seq)
		return 0;
	p->r->entries++;
	if ((n = replay_one(p, e)) == -1) {
		xasprintf(&p->error, "%s: re-applying journal entry %lld "
		    "(%s): %s", p->db->path, (long long)e->seq,
		    journal_action_name(e->action), db_errmsg(p->db));
		return -1;
	}
	if (n > 0)
		p->r->n[e->action]++;
	return 0;
}

/*
 * Re-applies, in one transaction, every journal entry after the
 * database's journal_seq, and moves journal_seq to the journal's last.
 * r says what was re-applied (an entry that changed nothing, because the
 * database already held it, is not counted).
 */
int
db_journal_replay(struct db *db, const struct token_keys *keys,
    struct journal_replay *r, char **cause)
{
	struct replay	 p;
	size_t		 i;
	int		 rc;

	memset(r, 0, sizeof *r);
	memset(&p, 0, sizeof p);
	p.db = db;
	p.keys = keys;
	p.r = r;
	if (db_begin(db) == -1) {
		xasprintf(cause, "%s: %s", db->path, db_errmsg(db));
		return -1;
	}
	r->from_seq = r->last_seq = journal_seq(db);
	rc = journal_read(db->path, replay_cb, &p, &r->bad, cause);
	if (rc == -1 && p.error != NULL) {
		*cause = p.error;
		p.error = NULL;
	}
	if (rc == 0 && r->last_seq > r->from_seq &&
	    journal_seq_set(db, r->last_seq) == -1) {
		xasprintf(cause, "%s: %s", db->path, db_errmsg(db));
		rc = -1;
	}
	if (rc == 0 && db_commit(db) == -1) {
		xasprintf(cause, "%s: %s", db->path, db_errmsg(db));
		rc = -1;
	}
	if (rc == -1)
		db_rollback(db);
	/* Erased rows must not linger in the write-ahead log either. */
	if (rc == 0 && r->n[JOURNAL_ERASE] > 0)
		db_checkpoint(db);
	for (i = 0; i < p.npeople; i++) {
		explicit_zero(p.people[i].address,
		    strlen(p.people[i].address));
		free(p.people[i].address);
	}
	free(p.people);
	free(p.error);
	return rc;
}
