/*
 * What check-config verifies beyond the file itself, against the
 * templates directory and the database: every template the composer will
 * need is there and parses (with the partials it names), and no item's
 * segment names an attribute no member has. A missing template would
 * hold every delivery of a run; an unknown attribute compares as empty,
 * so the segment matches every member or none. clarion check-config,
 * clariond -n and clariond's start-up all run this.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "clarion.h"

#define PARTIAL_DEPTH_MAX 8

/* Templates the shipped kinds and Clarion's own mail use, and for what. */
static const struct {
	const char	*name;
	const char	*use;
} shipped[] = {
	{ "bulletin", "bulletin items" },
	{ "newsletter", "newsletter items" },
	{ "message", "message items" },
	{ "notice", "meeting notices" },
	{ "reminder", "meeting reminders" },
	{ "unsubscribed", "unsubscribe confirmations" },
	{ "digest", "the owner's bounce digest" },
	{ "forward", "replies forwarded to the owner" },
};

struct checker {
	const struct config *conf;
	struct buf	 errs;
	int		 nerrs;
	char		**seen;		/* template files already checked */
	size_t		 nseen;
};

static void PRINTFLIKE(2, 3)
check_error(struct checker *ck, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	if (ck->nerrs++ > 0)
		buf_addc(&ck->errs, '\n');
	buf_adds(&ck->errs, msg);
	free(msg);
}

/* "clarion.conf:12: templates_dir", or without a line for the default. */
static char *
templates_key(const struct config *c)
{
	char	*s;

	if (c->templates_dir_line > 0)
		xasprintf(&s, "%s:%d: templates_dir", c->path,
		    c->templates_dir_line);
	else
		xasprintf(&s, "%s: templates_dir", c->path);
	return s;
}

static int
seen(struct checker *ck, const char *path)
{
	size_t	 i;

	for (i = 0; i < ck->nseen; i++)
		if (strcmp(ck->seen[i], path) == 0)
			return 1;
	ck->seen = xreallocarray(ck->seen, ck->nseen + 1, sizeof *ck->seen);
	ck->seen[ck->nseen++] = xstrdup(path);
	return 0;
}

static void template_file(struct checker *, const char *, int, const char *,
    int);

static void
partials_check(struct checker *ck, const struct tmpl *t, const char *use,
    int depth)
{
	char	**names, *path;
	size_t	 n, i;

	n = tmpl_partial_names(t, &names);
	for (i = 0; i < n; i++) {
		/* The renderer refuses these; it reports them itself. */
		if (strchr(names[i], '/') == NULL && names[i][0] != '.' &&
		    depth < PARTIAL_DEPTH_MAX) {
			xasprintf(&path, "%s/%s.mustache",
			    ck->conf->templates_dir, names[i]);
			template_file(ck, path, 1, use, depth + 1);
			free(path);
		}
		free(names[i]);
	}
	free(names);
}

/* The file must parse (and exist, if required), and so must its partials. */
static void
template_file(struct checker *ck, const char *path, int required,
    const char *use, int depth)
{
	struct tmpl	*t;
	char		*cause, *key;

	if (seen(ck, path))
		return;
	if (!required && access(path, F_OK) == -1 && errno == ENOENT)
		return;
	if ((t = tmpl_parse_file(path, &cause)) == NULL) {
		key = templates_key(ck->conf);
		check_error(ck, "%s: %s (needed for %s)", key, cause, use);
		free(key);
		free(cause);
		return;
	}
	partials_check(ck, t, use, depth);
	tmpl_free(t);
}

/* NAME.txt.mustache is required; NAME.html.mustache is optional. */
static void
template_check(struct checker *ck, const char *name, const char *use)
{
	char	*path, *key;

	if (*name == '\0' || *name == '.' || strchr(name, '/') != NULL) {
		key = templates_key(ck->conf);
		check_error(ck, "%s: '%s' is not a template name (needed for "
		    "%s)", key, name, use);
		free(key);
		return;
	}
	xasprintf(&path, "%s/%s.txt.mustache", ck->conf->templates_dir, name);
	template_file(ck, path, 1, use, 0);
	free(path);
	xasprintf(&path, "%s/%s.html.mustache", ck->conf->templates_dir, name);
	template_file(ck, path, 0, use, 0);
	free(path);
}

/* Items that can still send: not cancelled, not done. */
static int
item_live(const struct item *it)
{
	return item_status_parse(it->status) == ITEM_ACTIVE ||
	    item_status_parse(it->status) == ITEM_PAUSED;
}

static void
items_templates(struct checker *ck, const struct item *items, size_t n)
{
	char	*use;
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (!item_live(&items[i]))
			continue;
		xasprintf(&use, "item '%s'", items[i].name);
		template_check(ck, items[i].template, use);
		free(use);
	}
}

static void
unknown_report(struct checker *ck, const struct item *it,
    const struct list_info *li, char **unknown, size_t nunknown,
    char **keys, size_t nkeys)
{
	struct buf	 b;
	size_t		 i;

	buf_init(&b);
	for (i = 0; i < nkeys; i++)
		buf_addf(&b, "%s%s", i > 0 ? ", " : "", keys[i]);
	for (i = 0; i < nunknown; i++)
		check_error(ck, "item '%s': segment: no member of list '%s' "
		    "has an attribute '%s', so the segment matches everyone "
		    "or no one (%s%s)", it->name, li->name, unknown[i],
		    nkeys > 0 ? "they have: " : "they have no attributes",
		    nkeys > 0 ? b.data : "");
	buf_free(&b);
}

static void
item_segment(struct checker *ck, struct db *db, const struct item *it)
{
	struct segment		*seg;
	struct list_info	 li;
	struct list_counts	 counts;
	char			**keys, **unknown, *cause;
	size_t			 nkeys = 0, nunknown, i;

	if ((seg = segment_parse(it->segment, &cause)) == NULL) {
		check_error(ck, "item '%s': %s", it->name, cause);
		free(cause);
		return;
	}
	memset(&li, 0, sizeof li);
	/* A list nobody has joined yet has no attributes to compare with. */
	if (db_list_get(db, it->list_id, &li) == -1 ||
	    db_list_counts(db, it->list_id, &counts) == -1 ||
	    counts.subscribed + counts.held == 0 ||
	    db_attr_keys(db, it->list_id, &keys, &nkeys) == -1) {
		list_info_free(&li);
		segment_free(seg);
		return;
	}
	nunknown = segment_unknown_attrs(seg, keys, nkeys, &unknown);
	unknown_report(ck, it, &li, unknown, nunknown, keys, nkeys);
	for (i = 0; i < nunknown; i++)
		free(unknown[i]);
	free(unknown);
	for (i = 0; i < nkeys; i++)
		free(keys[i]);
	free(keys);
	list_info_free(&li);
	segment_free(seg);
}

static void
items_check(struct checker *ck, struct db *db)
{
	char		*cause = NULL;
	struct item	*items;
	size_t		 n, i;

	if (db_item_list(db, 0, &items, &n, &cause) == -1) {
		check_error(ck, "cannot read the items: %s", cause);
		free(cause);
		return;
	}
	items_templates(ck, items, n);
	for (i = 0; i < n; i++) {
		/* One kept with --force was the officer's choice. */
		if (item_live(&items[i]) && items[i].segment != NULL &&
		    *items[i].segment != '\0' && !items[i].segment_forced)
			item_segment(ck, db, &items[i]);
	}
	for (i = 0; i < n; i++)
		item_clear(&items[i]);
	free(items);
}

static void
checker_init(struct checker *ck, const struct config *conf)
{
	memset(ck, 0, sizeof *ck);
	ck->conf = conf;
	buf_init(&ck->errs);
}

static int
checker_finish(struct checker *ck, char **cause)
{
	size_t	 i;

	for (i = 0; i < ck->nseen; i++)
		free(ck->seen[i]);
	free(ck->seen);
	if (ck->nerrs == 0) {
		buf_free(&ck->errs);
		return 0;
	}
	*cause = buf_steal(&ck->errs);
	return -1;
}

/*
 * 0 if all is well; else -1 and *cause holds every problem, one per
 * line. db may be NULL (no database yet): the shipped kinds' templates
 * are still checked.
 */
/* A list From at a free-mail provider fails DMARC for every message. */
static void
lists_check(struct checker *ck, struct db *db)
{
	struct list_info	*v;
	size_t			 n, i;
	char			*cause;

	if (db_list_all(db, &v, &n, NULL) == -1)
		return;
	for (i = 0; i < n; i++) {
		cause = NULL;
		if (align_from_check(ck->conf, v[i].from_addr, &cause) == -1)
			check_error(ck, "list %s: %s", v[i].name, cause);
		free(cause);
		list_info_free(&v[i]);
	}
	free(v);
}

/*
 * What check-config and clariond's start-up say but do not refuse: lists
 * whose From is not aligned with the domain. NULL when there is nothing.
 */
char *
check_warnings(const struct config *conf, struct db *db)
{
	struct list_info	*v;
	struct buf		 b;
	size_t			 n, i;
	char			*cause;

	buf_init(&b);
	if (db != NULL && db_list_all(db, &v, &n, NULL) == 0) {
		for (i = 0; i < n; i++) {
			cause = NULL;
			if (align_from_check(conf, v[i].from_addr, &cause) == 1)
				buf_addf(&b, "%slist %s: %s", b.len > 0 ? "\n" :
				    "", v[i].name, cause);
			free(cause);
			list_info_free(&v[i]);
		}
		free(v);
	}
	if (b.len > 0)
		return buf_steal(&b);
	buf_free(&b);
	return NULL;
}

/* A DKIM key that cannot sign would hold every message at send time. */
static void
dkim_check(struct checker *ck)
{
	struct dkim_signer	*s;
	char			*cause;

	if (dkim_signer_new(ck->conf, &s, &cause) == -1) {
		check_error(ck, "dkim.key_file: %s", cause);
		free(cause);
	}
	dkim_signer_free(s);
}

int
check_setup(const struct config *conf, struct db *db, char **cause)
{
	struct checker	 ck;
	size_t		 i;

	checker_init(&ck, conf);
	for (i = 0; i < nitems(shipped); i++)
		template_check(&ck, shipped[i].name, shipped[i].use);
	if (db != NULL) {
		items_check(&ck, db);
		lists_check(&ck, db);
	}
	dkim_check(&ck);
	return checker_finish(&ck, cause);
}

/* Whether the template an item names is there, for clarion item add. */
int
check_template(const struct config *conf, const char *name, char **cause)
{
	struct checker	 ck;
	char		*use;

	checker_init(&ck, conf);
	xasprintf(&use, "template '%s'", name);
	template_check(&ck, name, use);
	free(use);
	return checker_finish(&ck, cause);
}
