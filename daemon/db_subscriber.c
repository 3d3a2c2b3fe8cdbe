/*
 * The people queries: lists, subscribers and their attributes,
 * memberships (with consent), suppressions, GDPR export and erasure.
 * Every value is a bound parameter; segments are evaluated in C.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "clarion.h"
#include "db_sqlite.h"

#define HASH_HEX 65

/* Runs a statement that returns no rows; -1 on error. */
static int
step_done(struct db *db, sqlite3_stmt *st)
{
	int	 rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE) {
		log_warnx("%s: %s", db->path, db_errmsg(db));
		return -1;
	}
	return 0;
}

/* Lists. */

void
list_info_free(struct list_info *l)
{
	if (l == NULL)
		return;
	free(l->name);
	free(l->display_name);
	free(l->from_addr);
	free(l->owner_addr);
	free(l->footer);
	memset(l, 0, sizeof *l);
}

#define LIST_COLUMNS "id, name, display_name, from_addr, owner_addr, footer"

static void
list_fill(sqlite3_stmt *st, struct list_info *l)
{
	l->id = sqlite3_column_int64(st, 0);
	l->name = db_col_text_or_empty(st, 1);
	l->display_name = db_col_text_or_empty(st, 2);
	l->from_addr = db_col_text_or_empty(st, 3);
	l->owner_addr = db_col_text_or_empty(st, 4);
	l->footer = db_col_text_or_empty(st, 5);
}

static int
list_one(struct db *db, const char *sql, int64_t id, const char *name,
    struct list_info *l)
{
	sqlite3_stmt	*st;
	int		 rc = -1;

	memset(l, 0, sizeof *l);
	if ((st = db_prep(db, sql)) == NULL)
		return -1;
	if (name != NULL)
		db_bind_text_or_null(st, 1, name);
	else
		sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		list_fill(st, l);
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

int
db_list_get(struct db *db, int64_t id, struct list_info *l)
{
	return list_one(db, "SELECT " LIST_COLUMNS " FROM lists WHERE id = ?",
	    id, NULL, l);
}

int
db_list_by_name(struct db *db, const char *name, struct list_info *l)
{
	return list_one(db, "SELECT " LIST_COLUMNS " FROM lists WHERE name = ?",
	    0, name, l);
}

static void
list_bind(sqlite3_stmt *st, const struct list_info *l)
{
	db_bind_text_or_null(st, 1, l->name);
	db_bind_text_or_null(st, 2, l->display_name != NULL ? l->display_name : "");
	db_bind_text_or_null(st, 3, l->from_addr);
	db_bind_text_or_null(st, 4, l->owner_addr);
	db_bind_text_or_null(st, 5, l->footer != NULL ? l->footer : "");
	sqlite3_bind_int64(st, 6, clock_now());
}

static int
list_write(struct db *db, const char *sql, const struct list_info *l,
    char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = db_prep(db, sql)) == NULL) {
		xasprintf(cause, "%s", db_errmsg(db));
		return -1;
	}
	list_bind(st, l);
	if (l->id != 0)
		sqlite3_bind_int64(st, 7, l->id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_CONSTRAINT_UNIQUE) {
		xasprintf(cause, "a list named '%s' already exists", l->name);
		return -1;
	}
	if (rc != SQLITE_DONE) {
		xasprintf(cause, "%s", db_errmsg(db));
		return -1;
	}
	return 0;
}

int
db_list_create(struct db *db, struct list_info *l, char **cause)
{
	l->id = 0;
	if (list_write(db, "INSERT INTO lists (name, display_name, from_addr, "
	    "owner_addr, footer, created, updated) VALUES (?1, ?2, ?3, ?4, "
	    "?5, ?6, ?6)", l, cause) == -1)
		return -1;
	l->id = sqlite3_last_insert_rowid(db->sql);
	return 0;
}

int
db_list_update(struct db *db, const struct list_info *l, char **cause)
{
	return list_write(db, "UPDATE lists SET name = ?1, display_name = ?2, "
	    "from_addr = ?3, owner_addr = ?4, footer = ?5, updated = ?6 "
	    "WHERE id = ?7", l, cause);
}

static int
db_list_all_store(struct db *db, struct list_info **out, size_t *n)
{
	sqlite3_stmt	*st;
	int		 rc;

	*out = NULL;
	*n = 0;
	if ((st = db_prep(db, "SELECT " LIST_COLUMNS " FROM lists ORDER BY "
	    "name")) == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = xreallocarray(*out, *n + 1, sizeof **out);
		list_fill(st, &(*out)[(*n)++]);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
db_list_all(struct db *db, struct list_info **out, size_t *n, char **cause)
{
	int	 rc;

	if ((rc = db_list_all_store(db, out, n)) == -1 && cause != NULL)
		db_cause(db, cause);
	return rc;
}

int
db_list_counts(struct db *db, int64_t id, struct list_counts *c)
{
	sqlite3_stmt	*st;
	const char	*s;
	long		 n;
	int		 rc;

	memset(c, 0, sizeof *c);
	if ((st = db_prep(db, "SELECT status, count(*) FROM memberships WHERE "
	    "list_id = ? GROUP BY status")) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		s = (const char *)sqlite3_column_text(st, 0);
		n = sqlite3_column_int64(st, 1);
		if (strcmp(s, "subscribed") == 0)
			c->subscribed = n;
		else if (strcmp(s, "unsubscribed") == 0)
			c->unsubscribed = n;
		else
			c->held = n;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Items name their list; deleting it under them would orphan them. */
static int
list_in_use(struct db *db, int64_t id, char **cause)
{
	sqlite3_stmt	*st;
	long		 n = 0;

	if ((st = db_prep(db, "SELECT count(*), group_concat(name, ', ') FROM "
	    "(SELECT name FROM items WHERE list_id = ? ORDER BY name)")) ==
	    NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    (n = sqlite3_column_int64(st, 0)) > 0)
		xasprintf(cause, "the list is used by %ld item%s (%s); delete "
		    "them or move them to another list first", n,
		    n == 1 ? "" : "s", sqlite3_column_text(st, 1));
	sqlite3_finalize(st);
	return n > 0 ? -1 : 0;
}

int
db_list_delete(struct db *db, int64_t id, int force, char **cause)
{
	struct list_counts	 c;
	sqlite3_stmt		*st;
	long			 n;

	*cause = NULL;
	if (db_begin(db) == -1) {
		xasprintf(cause, "%s", db_errmsg(db));
		return -1;
	}
	if (list_in_use(db, id, cause) == -1 ||
	    db_list_counts(db, id, &c) == -1)
		goto fail;
	n = c.subscribed + c.unsubscribed + c.held;
	if (n > 0 && !force) {
		xasprintf(cause, "the list has %ld member%s (with their "
		    "consent records); add --force to delete them too", n,
		    n == 1 ? "" : "s");
		goto fail;
	}
	if ((st = db_prep(db, "DELETE FROM lists WHERE id = ?")) == NULL)
		goto fail;
	sqlite3_bind_int64(st, 1, id);
	if (step_done(db, st) == -1) {
		sqlite3_finalize(st);
		goto fail;
	}
	sqlite3_finalize(st);
	if (db_commit(db) == 0)
		return 0;
fail:
	if (*cause == NULL)
		xasprintf(cause, "%s", db_errmsg(db));
	db_rollback(db);
	return -1;
}

/* Suppressions. */

static sqlite3_stmt *
sup_prep(struct db *db, const struct token_keys *keys)
{
	return db_prep(db, keys != NULL ?
	    "SELECT reason FROM suppressions WHERE address_hash = ?" :
	    "SELECT reason FROM suppressions WHERE address = ?");
}

/* 1 and *reason (if wanted) when suppressed, 0 if not, -1 on error. */
static int
sup_check(sqlite3_stmt *st, const struct token_keys *keys,
    const char *address, char **reason)
{
	char	 hash[HASH_HEX];
	int	 rc;

	if (keys != NULL) {
		subscriber_hash_norm(keys, address, hash);
		db_bind_text_or_null(st, 1, hash);
	} else
		db_bind_text_or_null(st, 1, address);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE && keys != NULL && keys->has_old) {
		struct token_keys	 old = *keys;

		/*
		 * security (key rotation): rows hashed before the token
		 * secret was rotated carry the old key's hash; without this
		 * an unsubscribed or complaining member could be re-added.
		 */
		memcpy(old.key, keys->old_key, sizeof old.key);
		sqlite3_reset(st);
		subscriber_hash_norm(&old, address, hash);
		explicit_zero(&old, sizeof old);
		db_bind_text_or_null(st, 1, hash);
		rc = sqlite3_step(st);
	}
	if (rc == SQLITE_ROW && reason != NULL)
		*reason = db_col_text_or_empty(st, 0);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* address: normalised already (subscriber_suppression_reason). */
int
db_suppression_reason(struct db *db, const struct token_keys *keys,
    const char *address, char **reason)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = sup_prep(db, keys)) == NULL)
		return -1;
	rc = sup_check(st, keys, address, reason);
	sqlite3_finalize(st);
	return rc;
}

struct sup_args {
	const struct token_keys *keys;
	const char	*address, *hash, *reason, *detail, *source;
	int64_t		 sub, list;
};

static int
suppress_one(struct db *db, void *arg)
{
	struct sup_args	*x = arg;
	sqlite3_stmt	*st;
	int		 rc;

	/* Journal first: a crash after it still has the action re-applied. */
	db_journal_hash(db, JOURNAL_SUPPRESS, x->hash, 0, x->reason, NULL, 0);
	/* An erased address stays erased: no plain copy comes back. */
	if ((st = db_prep(db, "INSERT INTO suppressions (address_hash, address, "
	    "reason, detail, created) VALUES (?, ?, ?, ?, ?) ON CONFLICT "
	    "(address_hash) DO UPDATE SET reason = excluded.reason, detail = "
	    "excluded.detail WHERE suppressions.reason != 'erased'")) == NULL)
		return -1;
	db_bind_text_or_null(st, 1, x->hash);
	db_bind_text_or_null(st, 2, x->address);
	db_bind_text_or_null(st, 3, x->reason);
	db_bind_text_or_null(st, 4, x->detail != NULL ? x->detail : "");
	sqlite3_bind_int64(st, 5, clock_now());
	rc = step_done(db, st);
	sqlite3_finalize(st);
	return rc;
}

/* address: normalised; hash: its keyed hash (subscriber_suppress). */
int
db_suppress(struct db *db, const char *address, const char *hash,
    const char *reason, const char *detail, char **cause)
{
	struct sup_args	 x;

	memset(&x, 0, sizeof x);
	x.address = address;
	x.hash = hash;
	x.reason = reason;
	x.detail = detail;
	if (db_atomic(db, suppress_one, &x, NULL) == -1) {
		if (cause != NULL)
			db_cause(db, cause);
		return -1;
	}
	return 0;
}

static int
consent_log(struct db *db, const char *hash, int64_t list,
    const char *action, const char *consent)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = db_prep(db, "INSERT INTO consent_log (address_hash, list_id, "
	    "action, consent, at) VALUES (?, ?, ?, ?, ?)")) == NULL)
		return -1;
	db_bind_text_or_null(st, 1, hash);
	if (list != 0)
		sqlite3_bind_int64(st, 2, list);
	db_bind_text_or_null(st, 3, action);
	db_bind_text_or_null(st, 4, consent);
	sqlite3_bind_int64(st, 5, clock_now());
	rc = step_done(db, st);
	sqlite3_finalize(st);
	return rc;
}

/*
 * Lifts a suppression, recording the consent given. 1 if one was lifted,
 * 0 if there was none, -1 on error.
 */
static int
db_unsuppress_store(struct db *db, const char *hash, const char *consent)
{
	sqlite3_stmt	*st;
	int		 rc, n = 0;

	if ((st = db_prep(db, "DELETE FROM suppressions WHERE address_hash = ?"))
	    == NULL)
		return -1;
	db_bind_text_or_null(st, 1, hash);
	if ((rc = db_begin(db)) == 0 && (rc = step_done(db, st)) == 0 &&
	    (n = sqlite3_changes(db->sql)) > 0 &&
	    (rc = consent_log(db, hash, 0, "unsuppressed", consent)) == 0)
		rc = db_journal_hash(db, JOURNAL_UNSUPPRESS, hash, 0, NULL,
		    consent, 1);
	sqlite3_finalize(st);
	if (rc == -1 || db_commit(db) == -1) {
		db_rollback(db);
		return -1;
	}
	return n > 0;
}

int
db_unsuppress(struct db *db, const char *hash, const char *consent,
    char **cause)
{
	int	 rc;

	if ((rc = db_unsuppress_store(db, hash, consent)) == -1 &&
	    cause != NULL)
		db_cause(db, cause);
	return rc;
}

/* Memberships. */

/* From one list, or every list with list 0; journaled (db_journal.c). */
static int
unsubscribe_one(struct db *db, void *arg)
{
	struct sup_args	*x = arg;
	sqlite3_stmt	*st;
	char		*address = NULL;
	int		 rc;

	/* Journal first: a crash after it still has the action re-applied. */
	if (db_subscriber_get(db, x->sub, &address, NULL, NULL) == 0)
		db_journal(db, x->keys, JOURNAL_UNSUBSCRIBE, address, x->list,
		    x->source, NULL, 0);
	free(address);
	if ((st = db_prep(db, "UPDATE memberships SET status = 'unsubscribed', "
	    "source = ?1, updated = ?2 WHERE subscriber_id = ?3 AND (?4 = 0 OR "
	    "list_id = ?4) AND status != 'unsubscribed'")) == NULL)
		return -1;
	db_bind_text_or_null(st, 1, x->source != NULL ? x->source : "");
	sqlite3_bind_int64(st, 2, clock_now());
	sqlite3_bind_int64(st, 3, x->sub);
	sqlite3_bind_int64(st, 4, x->list);
	rc = step_done(db, st);
	sqlite3_finalize(st);
	return rc;
}

int
db_unsubscribe(struct db *db, const struct token_keys *keys, int64_t sub,
    int64_t list, const char *source)
{
	struct sup_args	 x;

	memset(&x, 0, sizeof x);
	x.keys = keys;
	x.sub = sub;
	x.list = list;
	x.source = source;
	return db_atomic(db, unsubscribe_one, &x, NULL);
}

/* Back on the list with fresh consent, recorded in the consent log too. */
static int
db_resubscribe_store(struct db *db, const struct token_keys *keys, int64_t sub,
    int64_t list, const char *consent, const char *source)
{
	sqlite3_stmt	*st;
	char		 hash[HASH_HEX];
	char		*address;
	int		 rc;

	if (db_subscriber_get(db, sub, &address, NULL, NULL) == -1)
		return -1;
	subscriber_hash_norm(keys, address, hash);
	free(address);
	if (db_begin(db) == -1)
		return -1;
	if (consent_log(db, hash, list, "resubscribed", consent) == -1) {
		db_rollback(db);
		return -1;
	}

	if ((st = db_prep(db, "INSERT INTO memberships (subscriber_id, list_id, "
	    "status, source, consent, consent_at, created, updated) VALUES "
	    "(?1, ?2, 'subscribed', ?3, ?4, ?5, ?5, ?5) ON CONFLICT "
	    "(subscriber_id, list_id) DO UPDATE SET status = 'subscribed', "
	    "source = excluded.source, consent = excluded.consent, consent_at "
	    "= excluded.consent_at, updated = excluded.updated")) == NULL) {
		db_rollback(db);
		return -1;
	}
	sqlite3_bind_int64(st, 1, sub);
	sqlite3_bind_int64(st, 2, list);
	db_bind_text_or_null(st, 3, source);
	db_bind_text_or_null(st, 4, consent);
	sqlite3_bind_int64(st, 5, clock_now());
	rc = step_done(db, st);
	sqlite3_finalize(st);
	/* Permission given back: not recorded unless journaled too. */
	if (rc == 0)
		rc = db_journal_hash(db, JOURNAL_RESUBSCRIBE, hash, list,
		    source, consent, 1);
	if (rc == -1 || db_commit(db) == -1) {
		db_rollback(db);
		return -1;
	}
	return 0;
}

int
db_resubscribe(struct db *db, const struct token_keys *keys, int64_t sub,
    int64_t list, const char *consent, const char *source, char **cause)
{
	int	 rc;

	if ((rc = db_resubscribe_store(db, keys, sub, list, consent,
	    source)) == -1 && cause != NULL)
		db_cause(db, cause);
	return rc;
}

/* 1 and *status (caller frees) if a member, 0 if not, -1 on error. */
static int
db_membership_status_store(struct db *db, int64_t sub, int64_t list, char **status)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = db_prep(db, "SELECT status FROM memberships WHERE "
	    "subscriber_id = ? AND list_id = ?")) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, sub);
	sqlite3_bind_int64(st, 2, list);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*status = db_col_text_or_empty(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int
db_membership_status(struct db *db, int64_t sub, int64_t list, char **status,
    char **cause)
{
	int	 rc;

	if ((rc = db_membership_status_store(db, sub, list,
	    status)) == -1 && cause != NULL)
		db_cause(db, cause);
	return rc;
}

/* 1 if removed, 0 if not a member, -1 on error. */
int
db_membership_remove(struct db *db, int64_t sub, int64_t list)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = db_prep(db, "DELETE FROM memberships WHERE subscriber_id = ? "
	    "AND list_id = ?")) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, sub);
	sqlite3_bind_int64(st, 2, list);
	rc = step_done(db, st);
	sqlite3_finalize(st);
	return rc == -1 ? -1 : sqlite3_changes(db->sql) > 0;
}

/* Subscribers. */

int
db_subscriber_find(struct db *db, const char *address, int64_t *id)
{
	sqlite3_stmt	*st;
	int		 rc = -1;

	/* The exact address first; else the same one in another case. */
	if ((st = db_prep(db, "SELECT id FROM subscribers WHERE address = ?1 "
	    "COLLATE NOCASE ORDER BY address = ?1 DESC, id LIMIT 1")) == NULL)
		return -1;
	db_bind_text_or_null(st, 1, address);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

static void
attr_pairs_add(struct attr_pairs *a, const char *k, const char *v)
{
	a->key = xreallocarray(a->key, a->n + 1, sizeof *a->key);
	a->value = xreallocarray(a->value, a->n + 1, sizeof *a->value);
	a->key[a->n] = xstrdup(k);
	a->value[a->n++] = xstrdup(v);
}

void
attr_pairs_free(struct attr_pairs *a)
{
	size_t	 i;

	for (i = 0; i < a->n; i++) {
		free(a->key[i]);
		free(a->value[i]);
	}
	free(a->key);
	free(a->value);
	memset(a, 0, sizeof *a);
}

static void
attrs_load(struct db *db, int64_t id, struct attr_pairs *a)
{
	sqlite3_stmt	*st;
	const char	*k, *v;

	memset(a, 0, sizeof *a);
	if ((st = db_prep(db, "SELECT key, value FROM subscriber_attrs WHERE "
	    "subscriber_id = ? ORDER BY key")) == NULL)
		return;
	sqlite3_bind_int64(st, 1, id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		k = (const char *)sqlite3_column_text(st, 0);
		v = (const char *)sqlite3_column_text(st, 1);
		if (k != NULL && v != NULL)
			attr_pairs_add(a, k, v);
	}
	sqlite3_finalize(st);
}

int
db_subscriber_get(struct db *db, int64_t id, char **address, char **name,
    struct attr_pairs *attrs)
{
	sqlite3_stmt	*st;
	int		 rc = -1;

	if ((st = db_prep(db, "SELECT address, name FROM subscribers WHERE id = "
	    "?")) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		if (address != NULL)
			*address = db_col_text_or_empty(st, 0);
		if (name != NULL)
			*name = db_col_text_or_empty(st, 1);
		rc = 0;
	}
	sqlite3_finalize(st);
	if (rc == 0 && attrs != NULL)
		attrs_load(db, id, attrs);
	return rc;
}

int
db_subscriber_set_address(struct db *db, int64_t id, const char *address,
    char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = db_prep(db, "UPDATE subscribers SET address = ?, updated = ? "
	    "WHERE id = ?")) == NULL) {
		xasprintf(cause, "%s", db_errmsg(db));
		return -1;
	}
	db_bind_text_or_null(st, 1, address);
	sqlite3_bind_int64(st, 2, clock_now());
	sqlite3_bind_int64(st, 3, id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_CONSTRAINT_UNIQUE) {
		xasprintf(cause, "%s is already a subscriber", address);
		return -1;
	}
	if (rc != SQLITE_DONE) {
		xasprintf(cause, "%s", db_errmsg(db));
		return -1;
	}
	return 0;
}

int
db_attr_keys(struct db *db, int64_t list, char ***keys, size_t *n)
{
	sqlite3_stmt	*st;
	int		 rc;

	*keys = NULL;
	*n = 0;
	if ((st = db_prep(db, "SELECT DISTINCT a.key FROM subscriber_attrs a "
	    "JOIN memberships m ON m.subscriber_id = a.subscriber_id WHERE "
	    "m.list_id = ? AND m.status != 'unsubscribed' ORDER BY a.key")) ==
	    NULL)
		return -1;
	sqlite3_bind_int64(st, 1, list);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*keys = xreallocarray(*keys, *n + 1, sizeof **keys);
		(*keys)[(*n)++] = db_col_text_or_empty(st, 0);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/*
 * Walking subscribers: one query joins the attributes (ordered by
 * subscriber), rows are folded into one db_sub_row per person; segments are
 * subscriber.c's, evaluated over these rows.
 */
struct sub_walk {
	struct db		*db;
	const struct token_keys	*keys;
	sqlite3_stmt		*sup;
	int			(*cb)(void *, const struct db_sub_row *);
	void			*arg;
	struct db_sub_row	 row;
	struct attr_pairs	 attrs;
	char			*address, *name, *status;
};

static int
walk_emit(struct sub_walk *w)
{
	int	 rc = 0;

	w->row.address = w->address;
	w->row.name = w->name;
	w->row.status = w->status;
	w->row.suppressed = sup_check(w->sup, w->keys, w->address, NULL) == 1;
	w->row.attrs = &w->attrs;
	rc = w->cb(w->arg, &w->row) == 0 ? 0 : -1;
	attr_pairs_free(&w->attrs);
	free(w->address);
	free(w->name);
	free(w->status);
	memset(&w->row, 0, sizeof w->row);
	w->address = w->name = w->status = NULL;
	return rc;
}

static int
walk_rows(struct sub_walk *w, sqlite3_stmt *st)
{
	const char	*k, *v;
	int64_t		 id;
	int		 rc, have = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		id = sqlite3_column_int64(st, 0);
		if (have && id != w->row.id && walk_emit(w) == -1)
			return -1;
		if (!have || id != w->row.id) {
			have = 1;
			w->row.id = id;
			w->address = db_col_text_or_empty(st, 1);
			w->name = db_col_text_or_empty(st, 2);
			if (sqlite3_column_type(st, 3) != SQLITE_NULL)
				w->status = db_col_text_or_empty(st, 3);
		}
		k = (const char *)sqlite3_column_text(st, 4);
		v = (const char *)sqlite3_column_text(st, 5);
		if (k != NULL && v != NULL)
			attr_pairs_add(&w->attrs, k, v);
	}
	if (rc != SQLITE_DONE) {
		if (have)
			walk_emit(w);
		return -1;
	}
	return have ? walk_emit(w) : 0;
}

#define WALK_FILTER \
	" AND (?3 IS NULL OR s.address LIKE ?3 ESCAPE '\\' OR s.name LIKE ?3" \
	" ESCAPE '\\' OR EXISTS (SELECT 1 FROM subscriber_attrs x WHERE" \
	" x.subscriber_id = s.id AND x.value LIKE ?3 ESCAPE '\\'))" \
	" AND (?4 IS NULL OR EXISTS (SELECT 1 FROM subscriber_attrs y WHERE" \
	" y.subscriber_id = s.id AND y.key = ?4 AND y.value = ?5 COLLATE" \
	" NOCASE)) ORDER BY s.id"

static const char walk_list_sql[] =
	"SELECT s.id, s.address, s.name, m.status, a.key, a.value FROM "
	"memberships m JOIN subscribers s ON s.id = m.subscriber_id LEFT JOIN "
	"subscriber_attrs a ON a.subscriber_id = s.id WHERE m.list_id = ?1 "
	"AND (?2 IS NULL OR m.status = ?2)" WALK_FILTER;
static const char walk_all_sql[] =
	"SELECT s.id, s.address, s.name, NULL, a.key, a.value FROM "
	"subscribers s LEFT JOIN subscriber_attrs a ON a.subscriber_id = s.id "
	"WHERE ?1 = 0 AND ?2 IS NULL" WALK_FILTER;

/* "%text%" for LIKE, with LIKE's own wildcards taken literally. */
static char *
like_pattern(const char *text)
{
	struct buf	 b;

	buf_init(&b);
	buf_addc(&b, '%');
	for (; *text != '\0'; text++) {
		if (*text == '%' || *text == '_' || *text == '\\')
			buf_addc(&b, '\\');
		buf_addc(&b, *text);
	}
	buf_addc(&b, '%');
	return buf_steal(&b);
}

static int
sub_walk(struct db *db, const struct token_keys *keys, int64_t list,
    const char *status, const char *text, const char *key,
    const char *value, int (*cb)(void *, const struct db_sub_row *),
    void *arg, char **cause)
{
	struct sub_walk	 w;
	sqlite3_stmt	*st;
	char		*like = NULL;
	int		 rc;

	memset(&w, 0, sizeof w);
	w.db = db;
	w.keys = keys;
	w.cb = cb;
	w.arg = arg;
	st = db_prep(db, list != 0 ? walk_list_sql : walk_all_sql);
	if (st == NULL || (w.sup = sup_prep(db, keys)) == NULL) {
		sqlite3_finalize(st);
		xasprintf(cause, "%s", db_errmsg(db));
		return -1;
	}
	sqlite3_bind_int64(st, 1, list);
	db_bind_text_or_null(st, 2, status);
	if (text != NULL)
		db_bind_text_or_null(st, 3, like = like_pattern(text));
	db_bind_text_or_null(st, 4, key);
	db_bind_text_or_null(st, 5, value);
	if ((rc = walk_rows(&w, st)) == -1)
		db_cause(db, cause);
	sqlite3_finalize(st);
	sqlite3_finalize(w.sup);
	free(like);
	return rc;
}

int
db_sub_iter(struct db *db, const struct token_keys *keys, int64_t list,
    const char *status, int (*cb)(void *, const struct db_sub_row *),
    void *arg, char **cause)
{
	return sub_walk(db, keys, list, status, NULL, NULL, NULL, cb, arg,
	    cause);
}

int
db_sub_search(struct db *db, const struct token_keys *keys, int64_t list,
    const char *text, const char *key, const char *value, int (*cb)(void *,
    const struct db_sub_row *), void *arg, char **cause)
{
	return sub_walk(db, keys, list, NULL, text, key, value, cb, arg,
	    cause);
}

/*
 * The writer behind `sub add` and `sub import`: one BEGIN IMMEDIATE
 * transaction and prepared statements reused for every row, so 100,000
 * rows take seconds. A person who unsubscribed from the list, or whose
 * address is suppressed, is refused, never re-subscribed.
 */
enum {
	W_SUP,
	W_FIND,
	W_INS_SUB,
	W_SET_NAME,
	W_GET_ATTR,
	W_SET_ATTR,
	W_DEL_ATTR,
	W_TOUCH,
	W_MEMBER,
	W_INS_MEMBER,
	W_NSTMT,
};

static const char *const writer_sql[W_NSTMT] = {
	"SELECT reason FROM suppressions WHERE address_hash = ?",
	"SELECT id, name FROM subscribers WHERE address = ?1 COLLATE NOCASE "
	    "ORDER BY address = ?1 DESC, id LIMIT 1",
	"INSERT INTO subscribers (address, name, created, updated) VALUES "
	    "(?1, ?2, ?3, ?3)",
	"UPDATE subscribers SET name = ? WHERE id = ?",
	"SELECT value FROM subscriber_attrs WHERE subscriber_id = ? AND key = ?",
	"INSERT INTO subscriber_attrs (subscriber_id, key, value) VALUES "
	    "(?, ?, ?) ON CONFLICT (subscriber_id, key) DO UPDATE SET value = "
	    "excluded.value",
	"DELETE FROM subscriber_attrs WHERE subscriber_id = ? AND key = ?",
	"UPDATE subscribers SET updated = ? WHERE id = ?",
	"SELECT status FROM memberships WHERE subscriber_id = ? AND list_id = ?",
	"INSERT INTO memberships (subscriber_id, list_id, status, source, "
	    "consent, consent_at, created, updated) VALUES (?1, ?2, "
	    "'subscribed', ?3, ?4, ?5, ?5, ?5)",
};

struct sub_writer {
	struct db		*db;
	const struct token_keys	*keys;
	int64_t			 list;
	char			*source;
	char			*consent;
	time_t			 now;
	sqlite3_stmt		*st[W_NSTMT];
};

static void
writer_free(struct sub_writer *w)
{
	size_t	 i;

	for (i = 0; i < W_NSTMT; i++)
		sqlite3_finalize(w->st[i]);
	free(w->source);
	free(w->consent);
	free(w);
}

/*
 * A writer of subscribers, to use inside one unit of work (db_atomic),
 * which decides whether its writes are kept. list 0: only the
 * subscriber's own fields change (no membership, no suppression check),
 * as for `sub edit`.
 */
struct sub_writer *
db_sub_writer_new(struct db *db, const struct token_keys *keys,
    int64_t list, const char *source, const char *consent, char **cause)
{
	struct sub_writer	*w;
	size_t			 i;

	w = xcalloc(1, sizeof *w);
	w->db = db;
	w->keys = keys;
	w->list = list;
	w->source = xstrdup(source != NULL ? source : "");
	w->consent = xstrdup(consent != NULL ? consent : "");
	w->now = clock_now();
	for (i = 0; i < W_NSTMT; i++) {
		if (sqlite3_prepare_v2(db->sql, writer_sql[i], -1, &w->st[i],
		    NULL) != SQLITE_OK) {
			xasprintf(cause, "%s: %s", db->path, db_errmsg(db));
			writer_free(w);
			return NULL;
		}
	}
	return w;
}

/* Before the unit of work ends: a pending statement would hold it. */
void
db_sub_writer_free(struct sub_writer *w)
{
	if (w != NULL)
		writer_free(w);
}

/*
 * The addresses an import has seen, and on which line: a TEMP table, so
 * that the set lives in SQLite's bounded page cache and temporary file
 * rather than in memory growing with the file, and writing it never takes
 * the database's write lock. It lasts as long as the connection.
 */
int
db_sub_seen_open(struct db *db, char **cause)
{
	return db_exec(db, "PRAGMA temp_store = FILE; CREATE TEMP TABLE IF "
	    "NOT EXISTS import_seen (address TEXT PRIMARY KEY, line INTEGER "
	    "NOT NULL) WITHOUT ROWID; DELETE FROM temp.import_seen", cause);
}

/* *first: the line address was first seen on, or 0 (now remembered). */
int
db_sub_seen(struct db *db, const char *address, size_t line, size_t *first,
    char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	*first = 0;
	if (db_prepare(db, "INSERT INTO import_seen (address, line) VALUES "
	    "(?, ?) ON CONFLICT (address) DO NOTHING RETURNING line", &st,
	    cause) == -1)
		return -1;
	sqlite3_bind_text(st, 1, address, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)line);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc != SQLITE_DONE) {
		xasprintf(cause, "%s: %s", db->path, db_errmsg(db));
		return -1;
	}
	if (db_prepare(db, "SELECT line FROM import_seen WHERE address = ?",
	    &st, cause) == -1)
		return -1;
	sqlite3_bind_text(st, 1, address, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		*first = (size_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return 0;
}

/* Runs st to its first row; 1 row, 0 none, -1 error. Caller resets. */
static int
w_step(struct sub_writer *w, sqlite3_stmt *st)
{
	int	 rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	log_warnx("%s: %s", w->db->path, db_errmsg(w->db));
	return -1;
}

static int
w_exec(struct sub_writer *w, sqlite3_stmt *st)
{
	return step_done(w->db, st);
}

static void
w_reset(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* Sets or removes one attribute; *changed if it differed. */
static int
w_attr(struct sub_writer *w, int64_t id, const char *key, const char *value,
    int *changed)
{
	sqlite3_stmt	*st = w->st[W_GET_ATTR];
	const char	*old;
	int		 rc, same;

	sqlite3_bind_int64(st, 1, id);
	db_bind_text_or_null(st, 2, key);
	if ((rc = w_step(w, st)) == -1) {
		w_reset(st);
		return -1;
	}
	old = rc == 1 ? (const char *)sqlite3_column_text(st, 0) : NULL;
	same = old == NULL ? *value == '\0' : strcmp(old, value) == 0;
	w_reset(st);
	if (same)
		return 0;
	*changed = 1;
	if (*value == '\0') {
		st = w->st[W_DEL_ATTR];
		sqlite3_bind_int64(st, 1, id);
		db_bind_text_or_null(st, 2, key);
		return w_exec(w, st);
	}
	st = w->st[W_SET_ATTR];
	sqlite3_bind_int64(st, 1, id);
	db_bind_text_or_null(st, 2, key);
	db_bind_text_or_null(st, 3, value);
	return w_exec(w, st);
}

static int
w_fields(struct sub_writer *w, int64_t id, const char *oldname,
    const struct sub_record *r, int *changed)
{
	sqlite3_stmt	*st;
	size_t		 i;

	if (r->name != NULL && *r->name != '\0' &&
	    (oldname == NULL || strcmp(oldname, r->name) != 0)) {
		st = w->st[W_SET_NAME];
		db_bind_text_or_null(st, 1, r->name);
		sqlite3_bind_int64(st, 2, id);
		if (w_exec(w, st) == -1)
			return -1;
		*changed = 1;
	}
	for (i = 0; i < r->nattrs; i++) {
		if (w_attr(w, id, r->keys[i], r->values[i], changed) == -1)
			return -1;
	}
	if (*changed) {
		st = w->st[W_TOUCH];
		sqlite3_bind_int64(st, 1, w->now);
		sqlite3_bind_int64(st, 2, id);
		return w_exec(w, st);
	}
	return 0;
}

/* The membership's status: 1 and *unsub set if there is one, 0 if not. */
static int
w_member(struct sub_writer *w, int64_t id, int *unsub)
{
	sqlite3_stmt	*st = w->st[W_MEMBER];
	int		 rc;

	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, w->list);
	if ((rc = w_step(w, st)) == 1)
		*unsub = strcmp((const char *)sqlite3_column_text(st, 0),
		    "unsubscribed") == 0;
	w_reset(st);
	return rc;
}

static int
w_join(struct sub_writer *w, int64_t id)
{
	sqlite3_stmt	*st = w->st[W_INS_MEMBER];

	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, w->list);
	db_bind_text_or_null(st, 3, w->source);
	db_bind_text_or_null(st, 4, w->consent);
	sqlite3_bind_int64(st, 5, w->now);
	return w_exec(w, st);
}

/* Finds the subscriber: 1 with *id (and *name), 0 if new, -1 error. */
static int
w_find(struct sub_writer *w, const char *address, int64_t *id, char **name)
{
	sqlite3_stmt	*st = w->st[W_FIND];
	int		 rc;

	db_bind_text_or_null(st, 1, address);
	if ((rc = w_step(w, st)) == 1) {
		*id = sqlite3_column_int64(st, 0);
		*name = db_col_text_or_empty(st, 1);
	}
	w_reset(st);
	return rc;
}

static int
w_insert(struct sub_writer *w, const struct sub_record *r, int64_t *id)
{
	sqlite3_stmt	*st = w->st[W_INS_SUB];
	size_t		 i;

	db_bind_text_or_null(st, 1, r->address);
	db_bind_text_or_null(st, 2, r->name != NULL ? r->name : "");
	sqlite3_bind_int64(st, 3, w->now);
	if (w_exec(w, st) == -1)
		return -1;
	*id = sqlite3_last_insert_rowid(w->db->sql);
	/* New: nothing to compare against, so no reads. */
	st = w->st[W_SET_ATTR];
	for (i = 0; i < r->nattrs; i++) {
		if (*r->values[i] == '\0')
			continue;
		sqlite3_bind_int64(st, 1, *id);
		db_bind_text_or_null(st, 2, r->keys[i]);
		db_bind_text_or_null(st, 3, r->values[i]);
		if (w_exec(w, st) == -1)
			return -1;
	}
	return 0;
}

/*
 * Adds or updates one person and their membership of the writer's list.
 * *result says what happened; *detail (caller frees) holds the
 * suppression reason of a refused row.
 */
int
db_sub_writer_put(struct sub_writer *w, const struct sub_record *r,
    enum sub_result *result, char **detail, char **cause)
{
	int64_t	 id;
	char	*oldname = NULL;
	int	 rc, found, member, unsub = 0, changed = 0;

	*detail = NULL;
	if (w->list != 0 && w->keys != NULL &&
	    (rc = sup_check(w->st[W_SUP], w->keys, r->address, detail)) != 0) {
		*result = SUB_REFUSED_SUPPRESSED;
		goto out;
	}
	if ((found = w_find(w, r->address, &id, &oldname)) == -1) {
		rc = -1;
		goto out;
	}
	if (!found) {
		if (w->list == 0) {
			xasprintf(cause, "not a subscriber");
			return -1;
		}
		*result = SUB_ADDED;
		rc = w_insert(w, r, &id) == 0 ? w_join(w, id) : -1;
		goto out;
	}
	member = w->list != 0 ? w_member(w, id, &unsub) : 1;
	if (member == -1 || (member == 1 && unsub)) {
		*result = SUB_REFUSED_UNSUBSCRIBED;
		rc = member;
		goto out;
	}
	if ((rc = w_fields(w, id, oldname, r, &changed)) == -1)
		goto out;
	if (member == 0) {
		*result = SUB_ADDED;
		rc = w_join(w, id);
	} else
		*result = changed ? SUB_UPDATED : SUB_UNCHANGED;
out:
	free(oldname);
	if (rc == -1) {
		xasprintf(cause, "%s: %s", w->db->path, db_errmsg(w->db));
		return -1;
	}
	return 0;
}

/*
 * GDPR export: every row that concerns one person, as plain values.
 * Columns keep their names; blobs (whole messages) are left out and said
 * so. subscriber.c turns the rows into the JSON document.
 */
static void
col_value(sqlite3_stmt *st, int i, struct db_value *v)
{
	memset(v, 0, sizeof *v);
	v->name = sqlite3_column_name(st, i);
	switch (sqlite3_column_type(st, i)) {
	case SQLITE_INTEGER:
		v->type = DBV_INT;
		v->i = sqlite3_column_int64(st, i);
		break;
	case SQLITE_FLOAT:
		v->type = DBV_REAL;
		v->r = sqlite3_column_double(st, i);
		break;
	case SQLITE_TEXT:
		v->type = DBV_TEXT;
		v->text = (const char *)sqlite3_column_text(st, i);
		v->len = sqlite3_column_bytes(st, i);
		break;
	case SQLITE_BLOB:
		v->type = DBV_BLOB;
		break;
	default:
		v->type = DBV_NULL;
		break;
	}
}

/* Rows of sql (?1 subscriber id, ?2 address, ?3 its hash), one by one. */
static int
export_rows(struct db *db, const char *sql, struct db_export *e)
{
	sqlite3_stmt	*st;
	struct db_value	*cols;
	int		 i, n, rc = 0;

	if ((st = db_prep(db, sql)) == NULL)
		return 0;
	sqlite3_bind_int64(st, 1, e->id);
	if (sqlite3_bind_parameter_count(st) >= 2)
		db_bind_text_or_null(st, 2, e->address);
	if (sqlite3_bind_parameter_count(st) >= 3)
		db_bind_text_or_null(st, 3, e->hash);
	n = sqlite3_column_count(st);
	cols = xcalloc(n > 0 ? n : 1, sizeof *cols);
	while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
		for (i = 0; i < n; i++)
			col_value(st, i, &cols[i]);
		rc = e->row(e->arg, cols, n);
	}
	free(cols);
	sqlite3_finalize(st);
	return rc;
}

static const struct {
	const char	*key;
	int		 one;
	const char	*sql;
} export_parts[] = {
	{ "subscriber", 1, "SELECT id, address, name, created, updated FROM "
	    "subscribers WHERE id = ?1" },
	{ "memberships", 0, "SELECT l.name AS list, m.status, m.source, "
	    "m.consent, m.consent_at, m.created, m.updated FROM memberships m "
	    "JOIN lists l ON l.id = m.list_id WHERE m.subscriber_id = ?1 "
	    "ORDER BY l.name" },
	{ "deliveries", 0, "SELECT d.id, d.run_id AS run, i.name AS item, "
	    "r.purpose, r.due_at, d.address, d.state, d.attempts, "
	    "d.last_code, d.last_reply, d.sent_at, d.created FROM deliveries d "
	    "JOIN runs r ON r.id = d.run_id JOIN items i ON i.id = r.item_id "
	    "WHERE d.subscriber_id = ?1 OR d.address = ?2 ORDER BY d.id" },
	{ "bounces", 0, "SELECT id, delivery_id, at, hard, status, reason, "
	    "source FROM bounces WHERE subscriber_id = ?1 ORDER BY id" },
	{ "bounce_score", 1, "SELECT score, last_bounce_at, disabled_at, "
	    "reason FROM bounce_scores WHERE subscriber_id = ?1" },
	{ "inbound", 0, "SELECT n.id, n.received_at, n.class, n.message_id, "
	    "n.status_code, n.reason, n.action, n.folder, l.name AS list FROM "
	    "inbound n LEFT JOIN lists l ON l.id = n.list_id WHERE "
	    "n.subscriber_id = ?1 OR n.delivery_id IN (SELECT id FROM "
	    "deliveries WHERE subscriber_id = ?1 OR address = ?2) ORDER BY n.id" },
	/* Mail to them, and forwards or digests that quote them. */
	{ "sysmail", 0, "SELECT id, kind, to_addr, state, created, sent_at, "
	    "CAST(message AS TEXT) AS message FROM sysmail WHERE to_addr = ?2 "
	    "OR instr(lower(CAST(message AS TEXT)), lower(?2)) > 0 ORDER BY "
	    "id" },
	{ "consent_log", 0, "SELECT c.action, l.name AS list, c.consent, "
	    "c.at FROM consent_log c LEFT JOIN lists l ON l.id = c.list_id "
	    "WHERE c.address_hash = ?3 ORDER BY c.id" },
	{ "suppression", 1, "SELECT reason, detail, created FROM "
	    "suppressions WHERE address_hash = ?3 OR address = ?2" },
};

/*
 * Every part of the export in order: part() announces it (one: a single
 * row or none), row() gets its rows; the attributes come as pairs after
 * the "subscriber" part.
 */
int
db_subscriber_export(struct db *db, struct db_export *e)
{
	struct attr_pairs	 a;
	size_t			 i;

	for (i = 0; i < nitems(export_parts); i++) {
		if (e->part(e->arg, export_parts[i].key,
		    export_parts[i].one) == -1 ||
		    export_rows(db, export_parts[i].sql, e) == -1)
			return -1;
		if (i == 0) {
			memset(&a, 0, sizeof a);
			if (e->id != 0)
				attrs_load(db, e->id, &a);
			e->attrs(e->arg, &a);
			attr_pairs_free(&a);
		}
	}
	return 0;
}

/*
 * Erasure: everything personal goes, but the keyed hash stays in
 * suppressions so a later import cannot bring the person back. Deleted
 * content is zeroed (secure_delete) and the WAL truncated afterwards, so
 * the plain address does not linger in free pages or the log.
 */
static const struct {
	int		 counter;	/* which erase_result field, or -1 */
	const char	*sql;		/* ?1 id, ?2 address, ?3 hash, ?4 now */
} erase_steps[] = {
	{ 0, "UPDATE deliveries SET address = NULL, last_reply = NULL WHERE "
	    "subscriber_id = ?1 OR address = ?2" },
	{ 1, "UPDATE inbound SET subscriber_id = NULL, reason = NULL WHERE "
	    "subscriber_id = ?1 OR delivery_id IN (SELECT id FROM deliveries "
	    "WHERE subscriber_id = ?1)" },
	/* Confirmations to them, and forwards or digests that quote them. */
	{ 2, "UPDATE sysmail SET to_addr = CASE WHEN to_addr = ?2 THEN NULL "
	    "ELSE to_addr END, message = NULL, last_reply = CASE WHEN state IN "
	    "('queued', 'deferred') THEN 'withdrawn: it concerned an erased "
	    "person' ELSE NULL END, state = CASE WHEN state IN ('queued', "
	    "'deferred') THEN 'failed' ELSE state END WHERE to_addr = ?2 OR "
	    "instr(lower(CAST(message AS TEXT)), lower(?2)) > 0 OR "
	    "instr(lower(last_reply), lower(?2)) > 0" },
	{ 3, "DELETE FROM bounces WHERE subscriber_id = ?1" },
	{ -1, "DELETE FROM consent_log WHERE address_hash = ?3" },
	{ -1, "DELETE FROM subscribers WHERE id = ?1" },
	{ -1, "UPDATE suppressions SET address = NULL WHERE address = ?2" },
	{ -1, "INSERT INTO suppressions (address_hash, address, reason, "
	    "detail, created) VALUES (?3, NULL, 'erased', '', ?4) ON CONFLICT "
	    "(address_hash) DO UPDATE SET address = NULL, reason = 'erased', "
	    "detail = ''" },
};

static int
erase_run(struct db *db, int64_t id, const char *a, const char *hash,
    struct erase_result *r)
{
	sqlite3_stmt	*st;
	long		*counters[] = { &r->deliveries, &r->inbound,
			    &r->sysmail, &r->bounces };
	size_t		 i;

	for (i = 0; i < nitems(erase_steps); i++) {
		if ((st = db_prep(db, erase_steps[i].sql)) == NULL)
			return -1;
		sqlite3_bind_int64(st, 1, id);
		if (sqlite3_bind_parameter_count(st) >= 2)
			db_bind_text_or_null(st, 2, a);
		if (sqlite3_bind_parameter_count(st) >= 3)
			db_bind_text_or_null(st, 3, hash);
		if (sqlite3_bind_parameter_count(st) >= 4)
			sqlite3_bind_int64(st, 4, clock_now());
		if (step_done(db, st) == -1) {
			sqlite3_finalize(st);
			return -1;
		}
		if (erase_steps[i].counter >= 0)
			*counters[erase_steps[i].counter] =
			    sqlite3_changes(db->sql);
		sqlite3_finalize(st);
	}
	return 0;
}

/* Erasure inside the caller's transaction, not journaled (replay). */
int
db_erase_rows(struct db *db, const struct token_keys *keys, int64_t id,
    const char *address, struct erase_result *r)
{
	char	 hash[HASH_HEX];
	char	*a;
	int	 rc;

	memset(r, 0, sizeof *r);
	a = subscriber_address_norm(address);
	subscriber_hash_norm(keys, a, hash);
	r->subscriber = id != 0;
	rc = erase_run(db, id, a, hash, r);
	explicit_zero(a, strlen(a));
	free(a);
	return rc;
}

/* 1 if the checkpoint completed and the WAL is now empty. */
static int
wal_truncate(struct db *db)
{
	sqlite3_stmt	*st;
	int		 done = 0;

	if ((st = db_prep(db, "PRAGMA wal_checkpoint(TRUNCATE)")) == NULL)
		return 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		done = sqlite3_column_int(st, 0) == 0;	/* not busy */
	sqlite3_finalize(st);
	return done;
}

/* address: normalised; hash: its keyed hash (subscriber_erase). */
int
db_subscriber_erase(struct db *db, const char *address, const char *hash,
    struct erase_result *r, char **cause)
{
	int64_t	 id = 0;

	memset(r, 0, sizeof *r);
	if (db_exec(db, "PRAGMA secure_delete = ON", cause) == -1)
		return -1;
	if (db_begin(db) == -1) {
		xasprintf(cause, "%s: %s", db->path, db_errmsg(db));
		return -1;
	}
	r->subscriber = db_subscriber_find(db, address, &id) == 0;
	/* Journal first, by hash only: a restore must not bring them back. */
	db_journal_hash(db, JOURNAL_ERASE, hash, 0, NULL, NULL, 0);
	if (erase_run(db, id, address, hash, r) == -1 ||
	    db_commit(db) == -1) {
		xasprintf(cause, "%s: %s", db->path, db_errmsg(db));
		db_rollback(db);
		return -1;
	}
	r->checkpointed = wal_truncate(db);
	return 0;
}

/*
 * The member's latest delivery and its list: what a signed unsubscribe
 * address for them is made from (tokens name a delivery). -1 if none.
 */
int
db_subscriber_last_delivery(struct db *db, int64_t subscriber_id,
    int64_t *delivery_id, int64_t *list_id)
{
	sqlite3_stmt	*st;
	int		 rc = -1;

	if ((st = db_prep(db, "SELECT d.id, i.list_id FROM deliveries d "
	    "JOIN runs r ON r.id = d.run_id JOIN items i ON i.id = r.item_id "
	    "WHERE d.subscriber_id = ? ORDER BY d.id DESC LIMIT 1")) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, subscriber_id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*delivery_id = sqlite3_column_int64(st, 0);
		*list_id = sqlite3_column_int64(st, 1);
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}
