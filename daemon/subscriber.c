/*
 * Subscribers: the rules about people and their memberships, above the
 * store (db_subscriber.c holds only the queries): the form an address is
 * suppressed under, and its keyed hash.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "clarion.h"

/*
 * The keyed hash of a normalised address, as stored in suppressions. The
 * local part is lower-cased for the hash only: no mail provider in use
 * treats Bob@ and bob@ as two people, so suppressing one stops both.
 */
void
subscriber_hash_norm(const struct token_keys *keys, const char *address,
    char *out)
{
	char	*lower, *p;

	lower = xstrdup(address);
	for (p = lower; *p != '\0'; p++) {
		if (*p >= 'A' && *p <= 'Z')
			*p += 'a' - 'A';
	}
	memset(out, 0, DB_HASH_HEX);
	token_hash_address(keys, lower, out, DB_HASH_HEX);
	explicit_zero(lower, strlen(lower));
	free(lower);
}

/* The normalised form if the address is valid, else a copy as given. */
char *
subscriber_address_norm(const char *address)
{
	char	*out, *cause;

	if (addr_normalize(address, &out, &cause) == -1) {
		free(cause);
		return xstrdup(address);
	}
	return out;
}

/*
 * The suppression hash of an address (normalised here) with the current
 * key, or with old the previous key during its grace period: -1 if there
 * is none. out holds DB_HASH_HEX bytes.
 */
int
subscriber_address_hash(const struct token_keys *keys, const char *address,
    int old, char *out)
{
	struct token_keys	 k;
	char			*a;

	if (old && !keys->has_old)
		return -1;
	k = *keys;
	if (old)
		memcpy(k.key, keys->old_key, sizeof k.key);
	a = subscriber_address_norm(address);
	subscriber_hash_norm(&k, a, out);
	explicit_zero(&k, sizeof k);
	explicit_zero(a, strlen(a));
	free(a);
	return 0;
}

struct unsub_work {
	const struct token_keys *keys;
	int64_t		 id, list_id;
	const char	*address;
	const char	*source;
};

static int
unsubscribe_one(struct db *db, void *arg)
{
	struct unsub_work *w = arg;

	if (db_unsubscribe(db, w->keys, w->id, w->list_id, w->source) == -1)
		return -1;
	if (w->list_id == 0 && subscriber_suppress(db, w->keys, w->address,
	    "unsubscribed", "clarion sub unsubscribe", NULL) == -1)
		return -1;
	return 0;
}

/*
 * Unsubscribes a subscriber from one list, or (list_id 0) from every list
 * and suppresses the address, in one unit of work.
 */
int
subscriber_unsubscribe(struct db *db, const struct token_keys *keys,
    int64_t id, int64_t list_id, const char *address, const char *source,
    char **cause)
{
	struct unsub_work w;

	memset(&w, 0, sizeof w);
	w.keys = keys;
	w.id = id;
	w.list_id = list_id;
	w.address = address;
	w.source = source;
	return db_atomic(db, unsubscribe_one, &w, cause);
}

/*
 * Segments select members by their attributes: evaluated here, over the
 * rows the store walks, so the store holds no rule about who is selected.
 */
struct seg_filter {
	const struct segment *seg;
	int		(*rcpt)(void *, const struct recipient *);
	int		(*row)(void *, const struct sub_row *);
	void		*arg;
};

static int
seg_parse(const char *segment, struct segment **seg, char **cause)
{
	*seg = NULL;
	if (segment == NULL || *segment == '\0')
		return 0;
	return (*seg = segment_parse(segment, cause)) == NULL ? -1 : 0;
}

/* The store's attribute pairs as the JSON object segments and templates use. */
json_t *
subscriber_attrs_json(const struct attr_pairs *a)
{
	json_t	*o = json_object(), *v;
	size_t	 i;

	for (i = 0; a != NULL && i < a->n; i++) {
		if ((v = json_string(a->value[i])) != NULL)
			json_object_set_new(o, a->key[i], v);
	}
	return o;
}

/* db_subscriber_get with the attributes as JSON (attrs may be NULL). */
int
subscriber_get(struct db *db, int64_t id, char **address, char **name,
    json_t **attrs)
{
	struct attr_pairs	 a;

	memset(&a, 0, sizeof a);
	if (db_subscriber_get(db, id, address, name, attrs != NULL ? &a :
	    NULL) == -1)
		return -1;
	if (attrs != NULL)
		*attrs = subscriber_attrs_json(&a);
	attr_pairs_free(&a);
	return 0;
}

static int
seg_recipient(void *arg, const struct db_sub_row *d)
{
	struct seg_filter	*f = arg;
	struct recipient	 r;
	int			 rc = 0;

	r.subscriber_id = d->id;
	r.address = d->address;
	r.name = d->name;
	r.attrs = subscriber_attrs_json(d->attrs);
	r.suppressed = d->suppressed;
	if (f->seg == NULL || segment_match(f->seg, r.address, r.name,
	    r.attrs))
		rc = f->rcpt(f->arg, &r);
	json_decref(r.attrs);
	return rc;
}

static int
seg_row(void *arg, const struct db_sub_row *d)
{
	struct seg_filter	*f = arg;
	struct sub_row		 r;
	int			 rc = 0;

	r.id = d->id;
	r.address = d->address;
	r.name = d->name;
	r.status = d->status;
	r.attrs = subscriber_attrs_json(d->attrs);
	r.suppressed = d->suppressed;
	if (f->seg == NULL || segment_match(f->seg, r.address, r.name,
	    r.attrs))
		rc = f->row(f->arg, &r);
	json_decref(r.attrs);
	return rc;
}

/* `sub ls` by text or one attribute: db_sub_search's rows, as sub_rows. */
int
subscriber_search(struct db *db, const struct token_keys *keys, int64_t list,
    const char *text, const char *key, const char *value, int (*cb)(void *,
    const struct sub_row *), void *arg, char **cause)
{
	struct seg_filter f;

	memset(&f, 0, sizeof f);
	f.row = cb;
	f.arg = arg;
	return db_sub_search(db, keys, list, text, key, value, seg_row, &f,
	    cause);
}

/*
 * Every subscribed member of the list the segment selects ("" or NULL:
 * everyone), in subscriber order, suppressed ones marked.
 */
int
subscriber_recipients(struct db *db, const struct token_keys *keys,
    int64_t list, const char *segment, int (*cb)(void *,
    const struct recipient *), void *arg, char **cause)
{
	struct seg_filter f;
	struct segment	*seg;
	int		 rc;

	if (seg_parse(segment, &seg, cause) == -1)
		return -1;
	memset(&f, 0, sizeof f);
	f.seg = seg;
	f.rcpt = cb;
	f.arg = arg;
	rc = db_sub_iter(db, keys, list, "subscribed", seg_recipient, &f,
	    cause);
	segment_free(seg);
	return rc;
}

/* The list's members with this status (NULL: any) the segment selects. */
int
subscriber_each(struct db *db, const struct token_keys *keys, int64_t list,
    const char *status, const char *segment, int (*cb)(void *,
    const struct sub_row *), void *arg, char **cause)
{
	struct seg_filter f;
	struct segment	*seg;
	int		 rc;

	if (seg_parse(segment, &seg, cause) == -1)
		return -1;
	memset(&f, 0, sizeof f);
	f.seg = seg;
	f.row = cb;
	f.arg = arg;
	rc = db_sub_iter(db, keys, list, status, seg_row, &f, cause);
	segment_free(seg);
	return rc;
}

static int
reach_cb(void *arg, const struct sub_row *row)
{
	long	*n = arg;

	(*n)++;
	return 0;
}

/*
 * How many subscribed members of the list the segment selects (*reach)
 * out of all subscribed (*total): what item add, item preview and the
 * daemon's plan report. Suppressed members are counted as members.
 */
int
subscriber_reach(struct db *db, int64_t list, const char *segment,
    long *reach, long *total, char **cause)
{
	*reach = *total = 0;
	if (subscriber_each(db, NULL, list, "subscribed", NULL, reach_cb,
	    total, cause) == -1)
		return -1;
	if (segment == NULL || *segment == '\0') {
		*reach = *total;
		return 0;
	}
	return subscriber_each(db, NULL, list, "subscribed", segment,
	    reach_cb, reach, cause);
}

/*
 * GDPR export: everything held on one person, as one JSON document built
 * from the store's rows (see db_subscriber_export).
 */
struct export_doc {
	json_t		*o;
	const char	*key;		/* the part being filled */
	int		 one;
};

static json_t *
export_value(const struct db_value *v)
{
	json_t	*j;

	switch (v->type) {
	case DBV_INT:
		return json_integer(v->i);
	case DBV_REAL:
		return json_real(v->r);
	case DBV_TEXT:
		j = json_stringn(v->text, v->len);
		return j != NULL ? j : json_string("(not valid UTF-8)");
	case DBV_BLOB:
		return json_string("(binary, not shown)");
	default:
		return json_null();
	}
}

static int
export_part(void *arg, const char *key, int one)
{
	struct export_doc	*d = arg;

	d->key = key;
	d->one = one;
	json_object_set_new(d->o, key, one ? json_null() : json_array());
	return 0;
}

/* A row of the current part: its only row, or one more in its array. */
static int
export_row(void *arg, const struct db_value *cols, int n)
{
	struct export_doc	*d = arg;
	json_t			*o = json_object(), *cur;
	int			 i;

	for (i = 0; i < n; i++)
		json_object_set_new(o, cols[i].name, export_value(&cols[i]));
	cur = json_object_get(d->o, d->key);
	if (!d->one)
		json_array_append_new(cur, o);
	else if (json_is_null(cur))
		json_object_set_new(d->o, d->key, o);
	else
		json_decref(o);
	return 0;
}

static void
export_attrs(void *arg, const struct attr_pairs *a)
{
	struct export_doc	*d = arg;

	json_object_set_new(d->o, "attributes", subscriber_attrs_json(a));
}

json_t *
subscriber_export(struct db *db, const struct token_keys *keys,
    const char *address)
{
	struct export_doc	 d;
	struct db_export	 e;
	char			 hash[DB_HASH_HEX];
	char			*a, *now;

	memset(&e, 0, sizeof e);
	a = subscriber_address_norm(address);
	subscriber_hash_norm(keys, a, hash);
	if (db_subscriber_find(db, a, &e.id) == -1)
		e.id = 0;
	now = time_format_iso(clock_now());
	d.o = json_pack("{s:s, s:s}", "address", a, "exported_at", now);
	free(now);
	e.address = a;
	e.hash = hash;
	e.part = export_part;
	e.row = export_row;
	e.attrs = export_attrs;
	e.arg = &d;
	(void)db_subscriber_export(db, &e);
	free(a);
	return d.o;
}

/*
 * Suppressions are looked up under the normalised address (and its keyed
 * hash): 1 and *reason (if wanted) when suppressed, 0 if not, -1 on error.
 */
int
subscriber_suppression_reason(struct db *db, const struct token_keys *keys,
    const char *address, char **reason)
{
	char	*a;
	int	 rc;

	a = subscriber_address_norm(address);
	rc = db_suppression_reason(db, keys, a, reason);
	free(a);
	return rc;
}

int
subscriber_suppressed(struct db *db, const struct token_keys *keys,
    const char *address)
{
	return subscriber_suppression_reason(db, keys, address, NULL) == 1;
}

/* Lifts a suppression: 1 if one was lifted, 0 if none, -1 and *cause. */
int
subscriber_unsuppress(struct db *db, const struct token_keys *keys,
    const char *address, const char *consent, char **cause)
{
	char	 hash[DB_HASH_HEX];
	char	*a;

	a = subscriber_address_norm(address);
	subscriber_hash_norm(keys, a, hash);
	free(a);
	return db_unsuppress(db, hash, consent, cause);
}

/* Suppresses the normalised address under its keyed hash. */
int
subscriber_suppress(struct db *db, const struct token_keys *keys,
    const char *address, const char *reason, const char *detail,
    char **cause)
{
	char	 hash[DB_HASH_HEX];
	char	*a;
	int	 rc;

	if (keys == NULL) {
		if (cause != NULL)
			*cause = xstrdup("no token secret to hash the address "
			    "with");
		return -1;
	}
	a = subscriber_address_norm(address);
	subscriber_hash_norm(keys, a, hash);
	rc = db_suppress(db, a, hash, reason, detail, cause);
	free(a);
	return rc;
}

/* GDPR erasure of the normalised address; the keyed hash stays. */
int
subscriber_erase(struct db *db, const struct token_keys *keys,
    const char *address, struct erase_result *r, char **cause)
{
	char	 hash[DB_HASH_HEX];
	char	*a;
	int	 rc;

	a = subscriber_address_norm(address);
	subscriber_hash_norm(keys, a, hash);
	rc = db_subscriber_erase(db, a, hash, r, cause);
	explicit_zero(a, strlen(a));
	free(a);
	return rc;
}
