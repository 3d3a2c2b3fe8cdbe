/*
 * Events: the strikes, ballots, pickets, demonstrations and meetings a
 * bulletin lists. Times are UTC here; they are entered and shown in the
 * configured zone. This file also reads the CSV an officer imports.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clarion.h"

static const struct {
	const char	*kind;
	const char	*label;
} kinds[] = {
	{ "strike", "Strike" },
	{ "ballot", "Ballot" },
	{ "picket", "Picket line" },
	{ "demo", "Demonstration" },
	{ "meeting", "Meeting" },
	{ "other", "Event" },
};

int
event_kind_valid(const char *kind)
{
	size_t	 i;

	for (i = 0; i < nitems(kinds); i++) {
		if (strcmp(kinds[i].kind, kind) == 0)
			return 1;
	}
	return 0;
}

const char *
event_kind_label(const char *kind)
{
	size_t	 i;

	for (i = 0; i < nitems(kinds); i++) {
		if (strcmp(kinds[i].kind, kind) == 0)
			return kinds[i].label;
	}
	return "Event";
}

/* A random UID: 128 bits from the kernel, hex. */
char *
event_uid_new(void)
{
	unsigned char	 raw[16];
	char		 hex[33];
	size_t		 i, got = 0;
	ssize_t		 n;
	int		 fd;

	if ((fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)) == -1)
		fatal("/dev/urandom");
	while (got < sizeof raw) {
		n = read(fd, raw + got, sizeof raw - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			fatal("/dev/urandom");
		got += (size_t)n;
	}
	close(fd);
	for (i = 0; i < sizeof raw; i++)
		snprintf(hex + 2 * i, 3, "%02x", raw[i]);
	return xstrdup(hex);
}

/* Fields end up in mail headers and calendar invites: no line breaks. */
int
event_check(const struct event *ev, char **cause)
{
	const char	*one_line[] = { ev->title, ev->union_name,
	    ev->employer, ev->location, ev->link };
	size_t		 i;

	if (ev->kind == NULL || !event_kind_valid(ev->kind)) {
		xasprintf(cause, "'%s' is not an event kind (strike, ballot, "
		    "picket, demo, meeting, other)", ev->kind ? ev->kind : "");
		return -1;
	}
	if (ev->title == NULL || *ev->title == '\0') {
		xasprintf(cause, "an event needs a title");
		return -1;
	}
	for (i = 0; i < nitems(one_line); i++) {
		if (one_line[i] != NULL && str_has_ctl(one_line[i])) {
			xasprintf(cause, "'%s': control characters or line "
			    "breaks are not allowed here", one_line[i]);
			return -1;
		}
	}
	if (ev->ends_at != 0 && ev->ends_at < ev->starts_at) {
		xasprintf(cause, "the event '%s' ends before it starts",
		    ev->title);
		return -1;
	}
	return 0;
}

static int
str_same(const char *a, const char *b)
{
	return strcmp(a != NULL ? a : "", b != NULL ? b : "") == 0;
}

/* Whether two versions of an event differ in anything a member sees. */
int
event_same(const struct event *a, const struct event *b)
{
	return str_same(a->kind, b->kind) && str_same(a->title, b->title) &&
	    str_same(a->union_name, b->union_name) &&
	    str_same(a->employer, b->employer) &&
	    str_same(a->location, b->location) &&
	    str_same(a->link, b->link) && str_same(a->notes, b->notes) &&
	    str_same(a->status, b->status) && a->starts_at == b->starts_at &&
	    a->ends_at == b->ends_at && a->all_day == b->all_day;
}

/* CSV (RFC 4180): quoted fields may hold commas, quotes and newlines. */
struct csv {
	const char	*p;
	int		 line;
};

static int
csv_field(struct csv *c, struct buf *out, int *eol)
{
	buf_reset(out);
	buf_add(out, "", 0);
	if (*c->p == '"') {
		for (c->p++;; c->p++) {
			if (*c->p == '\0')
				return -1;
			if (*c->p == '"' && c->p[1] == '"')
				c->p++;
			else if (*c->p == '"') {
				c->p++;
				break;
			} else if (*c->p == '\n')
				c->line++;
			buf_addc(out, *c->p);
		}
	} else {
		for (; *c->p != '\0' && *c->p != ',' && *c->p != '\n' &&
		    *c->p != '\r'; c->p++)
			buf_addc(out, *c->p);
	}
	if (*c->p == '\r')
		c->p++;
	*eol = *c->p != ',';
	if (*c->p == ',' || *c->p == '\n') {
		if (*c->p == '\n')
			c->line++;
		c->p++;
	} else if (*c->p != '\0')
		return -1;
	return 0;
}

/* One record; returns the number of fields, 0 at the end, -1 if bad. */
static int
csv_record(struct csv *c, char ***fields)
{
	struct buf	 b;
	int		 n = 0, eol = 0;

	*fields = NULL;
	while (*c->p == '\n' || *c->p == '\r')
		c->p++;
	if (*c->p == '\0')
		return 0;
	buf_init(&b);
	while (!eol) {
		if (csv_field(c, &b, &eol) == -1) {
			buf_free(&b);
			return -1;
		}
		*fields = xreallocarray(*fields, n + 1, sizeof **fields);
		(*fields)[n++] = xstrdup(str_trim(b.data));
	}
	buf_free(&b);
	return n;
}

static void
fields_free(char **f, int n)
{
	int	 i;

	for (i = 0; i < n; i++)
		free(f[i]);
	free(f);
}

enum csv_col {
	COL_KIND, COL_TITLE, COL_UNION, COL_EMPLOYER, COL_START, COL_END,
	COL_LOCATION, COL_LINK, COL_NOTES, COL_UID, COL_MAX
};
static const char *const col_names[COL_MAX] = { "kind", "title", "union",
    "employer", "start", "end", "location", "link", "notes", "uid" };

static int
csv_header(char **f, int n, int *map, char **cause)
{
	int	 i, j;

	for (j = 0; j < COL_MAX; j++)
		map[j] = -1;
	for (i = 0; i < n; i++) {
		for (j = 0; j < COL_MAX; j++) {
			if (strcasecmp(f[i], col_names[j]) == 0)
				map[j] = i;
		}
		if (strcasecmp(f[i], "workplace") == 0)
			map[COL_EMPLOYER] = i;
	}
	if (map[COL_KIND] == -1 || map[COL_TITLE] == -1 ||
	    map[COL_START] == -1) {
		xasprintf(cause, "the first line must name the columns; kind, "
		    "title and start are required (also: union, employer, "
		    "end, location, link, notes, uid)");
		return -1;
	}
	return 0;
}

static const char *
col(char **f, int n, const int *map, enum csv_col c)
{
	return map[c] >= 0 && map[c] < n ? f[map[c]] : "";
}

/*
 * Without a uid column, the uid is a hash of kind, title and start, so
 * importing the same file twice updates rather than duplicates.
 */
static char *
csv_uid(const struct event *ev)
{
	uint64_t	 h = 1469598103934665603ULL;
	char		*key, *s, *uid;

	xasprintf(&key, "%s|%s|%lld", ev->kind, ev->title,
	    (long long)ev->starts_at);
	for (s = key; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	free(key);
	xasprintf(&uid, "csv-%016llx", (unsigned long long)h);
	return uid;
}

static int
csv_event(char **f, int n, const int *map, const char *tz, struct event *ev,
    char **cause)
{
	const char	*end;

	event_init(ev);
	ev->kind = xstrdup(col(f, n, map, COL_KIND));
	ev->title = xstrdup(col(f, n, map, COL_TITLE));
	ev->union_name = xstrdup(col(f, n, map, COL_UNION));
	ev->employer = xstrdup(col(f, n, map, COL_EMPLOYER));
	ev->location = xstrdup(col(f, n, map, COL_LOCATION));
	ev->link = xstrdup(col(f, n, map, COL_LINK));
	ev->notes = xstrdup(col(f, n, map, COL_NOTES));
	ev->status = xstrdup("confirmed");
	if (time_parse_local(col(f, n, map, COL_START), tz, &ev->starts_at,
	    cause) == -1)
		return -1;
	ev->all_day = strlen(col(f, n, map, COL_START)) == 10;
	end = col(f, n, map, COL_END);
	if (*end != '\0' && time_parse_local(end, tz, &ev->ends_at,
	    cause) == -1)
		return -1;
	if (event_check(ev, cause) == -1)
		return -1;
	ev->uid = *col(f, n, map, COL_UID) != '\0' ?
	    xstrdup(col(f, n, map, COL_UID)) : csv_uid(ev);
	return 0;
}

/* Inserts a new event or updates the one with its uid (SEQUENCE + 1). */
static int
event_upsert(struct db *db, struct event *ev, time_t now, int *added,
    int *updated, char **cause)
{
	struct event	 old;

	if (db_event_by_uid(db, ev->uid, &old) == -1) {
		(*added)++;
		return db_event_insert(db, ev, now, cause);
	}
	ev->id = old.id;
	ev->feed_id = old.feed_id;
	ev->sequence = old.sequence;
	if (!event_same(&old, ev)) {
		ev->sequence++;
		(*updated)++;
		event_clear(&old);
		return db_event_update(db, ev, now, cause);
	}
	event_clear(&old);
	return 0;
}

static int
csv_rows(struct db *db, struct csv *c, const int *map, const char *tz,
    int *added, int *updated, char **cause)
{
	struct event	 ev;
	char		**f, *why;
	int		 n, line;

	for (;;) {
		line = c->line;
		if ((n = csv_record(c, &f)) == 0)
			return 0;
		if (n == -1) {
			xasprintf(cause, "line %d: unterminated quoted field",
			    line);
			return -1;
		}
		if (csv_event(f, n, map, tz, &ev, &why) == -1 ||
		    event_upsert(db, &ev, clock_now(), added, updated,
		    &why) == -1) {
			xasprintf(cause, "line %d: %s", line, why);
			free(why);
			fields_free(f, n);
			event_clear(&ev);
			return -1;
		}
		fields_free(f, n);
		event_clear(&ev);
	}
}

/* What one import writes, all or nothing. */
struct import_work {
	struct csv	*c;
	const int	*map;
	const char	*tz;
	struct event_list *l;
	time_t		 now;
	int		*added, *updated;
	char		**cause;
};

static int
csv_rows_all(struct db *db, void *arg)
{
	struct import_work *w = arg;

	return csv_rows(db, w->c, w->map, w->tz, w->added, w->updated,
	    w->cause);
}

static int
import_list_all(struct db *db, void *arg)
{
	struct import_work *w = arg;
	size_t	 i;

	for (i = 0; i < w->l->n; i++) {
		w->l->v[i].feed_id = 0;
		if (event_upsert(db, &w->l->v[i], w->now, w->added,
		    w->updated, w->cause) == -1)
			return -1;
	}
	return 0;
}

/*
 * Imports events from CSV text, all or nothing: one bad line and nothing
 * is written, so a corrected file can simply be imported again.
 */
int
event_csv_import(struct db *db, const char *tz, const char *data, int *added,
    int *updated, char **cause)
{
	struct import_work w;
	struct csv	 c = { data, 1 };
	char		**f;
	int		 map[COL_MAX], n, rc;

	*added = *updated = 0;
	if (strncmp(c.p, "\xef\xbb\xbf", 3) == 0)	/* spreadsheet BOM */
		c.p += 3;
	if ((n = csv_record(&c, &f)) <= 0) {
		xasprintf(cause, "no header line");
		return -1;
	}
	rc = csv_header(f, n, map, cause);
	fields_free(f, n);
	if (rc == -1)
		return -1;
	w.c = &c;
	w.map = map;
	w.tz = tz;
	w.added = added;
	w.updated = updated;
	w.cause = cause;
	return db_atomic(db, csv_rows_all, &w, cause);
}

/* Imports parsed events (from an iCalendar file) by uid, all or nothing. */
int
event_import_list(struct db *db, struct event_list *l, int *added,
    int *updated, char **cause)
{
	struct import_work w;

	*added = *updated = 0;
	w.l = l;
	w.now = clock_now();
	w.added = added;
	w.updated = updated;
	w.cause = cause;
	return db_atomic(db, import_list_all, &w, cause);
}
