/*
 * iCalendar feeds: a union's or a coalition's published calendar, fetched
 * each tick with If-None-Match / If-Modified-Since so an unchanged feed
 * costs one small request. New events are added, changed ones updated
 * (SEQUENCE bumped), and events that vanished from the feed cancelled, so
 * a called-off strike does not stay in the bulletin. Recurring events
 * arrive expanded (ical.c), one event per occurrence. The only libcurl use
 * on the schedule side.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "clarion.h"

#define FEED_MAX_SIZE	(10L * 1024 * 1024)
#define FEED_TIMEOUT	30L

struct fetch {
	struct buf	 body;
	char		*etag;
	char		*last_modified;
	int		 not_modified;
	int		 too_big;
};

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct fetch	*f = arg;

	if (f->body.len + size * n > (size_t)FEED_MAX_SIZE) {
		f->too_big = 1;
		return 0;
	}
	buf_add(&f->body, p, size * n);
	return size * n;
}

/* Keeps the validators of the final response (after any redirect). */
static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct fetch	*f = arg;
	size_t		 len = size * n;
	char		*line, *v, **slot = NULL;

	line = xstrndup(p, len);
	if (str_casecmp_prefix(line, "HTTP/")) {
		free(f->etag);
		free(f->last_modified);
		f->etag = f->last_modified = NULL;
	} else if (str_casecmp_prefix(line, "ETag:"))
		slot = &f->etag;
	else if (str_casecmp_prefix(line, "Last-Modified:"))
		slot = &f->last_modified;
	if (slot != NULL) {
		v = str_trim(strchr(line, ':') + 1);
		free(*slot);
		*slot = *v != '\0' && !str_has_ctl(v) ? xstrdup(v) : NULL;
	}
	free(line);
	return len;
}

static struct curl_slist *
validators(const struct feed *fd)
{
	struct curl_slist *h = NULL;
	char		*s;

	if (fd->etag != NULL) {
		xasprintf(&s, "If-None-Match: %s", fd->etag);
		h = curl_slist_append(h, s);
		free(s);
	}
	if (fd->last_modified != NULL) {
		xasprintf(&s, "If-Modified-Since: %s", fd->last_modified);
		h = curl_slist_append(h, s);
		free(s);
	}
	return h;
}

static void
fetch_setup(CURL *c, const struct feed *fd, struct fetch *f,
    struct curl_slist *h, char *err)
{
	curl_easy_setopt(c, CURLOPT_URL, fd->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https,file");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, FEED_TIMEOUT);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE, FEED_MAX_SIZE);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "Clarion/" CLARION_VERSION);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, f);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
}

static int
fetch(const struct feed *fd, struct fetch *f, char **cause)
{
	struct curl_slist *h;
	CURL		*c;
	CURLcode	 rc;
	char		 err[CURL_ERROR_SIZE] = "";
	long		 code = 0;

	memset(f, 0, sizeof *f);
	buf_init(&f->body);
	if ((c = curl_easy_init()) == NULL) {
		xasprintf(cause, "%s: cannot start libcurl", fd->url);
		return -1;
	}
	h = validators(fd);
	fetch_setup(c, fd, f, h, err);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	if (rc != CURLE_OK) {
		xasprintf(cause, "%s: %s", fd->url, f->too_big ?
		    "larger than 10 MB" : *err != '\0' ? err :
		    curl_easy_strerror(rc));
		return -1;
	}
	if (code == 304) {
		f->not_modified = 1;
		return 0;
	}
	/* file:// has no status; HTTP must say 200. */
	if (code != 0 && code != 200) {
		xasprintf(cause, "%s: the server answered %ld", fd->url, code);
		return -1;
	}
	return 0;
}

static void
fetch_free(struct fetch *f)
{
	buf_free(&f->body);
	free(f->etag);
	free(f->last_modified);
}

struct feed_counts {
	int	 added;
	int	 updated;
	int	 cancelled;
};

/* One event from the feed: new, changed (SEQUENCE bumped) or the same. */
static int
feed_apply_one(struct db *db, int64_t feed_id, struct event *ev, time_t now,
    struct feed_counts *n, char **cause)
{
	struct event	 old;
	int		 rc = 0;

	ev->feed_id = feed_id;
	if (db_event_by_uid(db, ev->uid, &old) == -1) {
		n->added++;
		return db_event_insert(db, ev, now, cause);
	}
	/* Never let one feed rewrite an event entered by hand or by another. */
	if (old.feed_id == feed_id && !event_same(&old, ev)) {
		ev->id = old.id;
		if (ev->sequence <= old.sequence)
			ev->sequence = old.sequence + 1;
		n->updated++;
		rc = db_event_update(db, ev, now, cause);
	}
	event_clear(&old);
	return rc;
}

static int
uid_in(const struct event_list *l, const char *uid)
{
	size_t	 i;

	for (i = 0; i < l->n; i++) {
		if (strcmp(l->v[i].uid, uid) == 0)
			return 1;
	}
	return 0;
}

/*
 * Events the feed no longer lists are cancelled, not left behind; those
 * already begun are history and stay (a recurring event's past
 * occurrences fall out of the expanded horizon, not out of the feed).
 */
static int
feed_sweep(struct db *db, int64_t feed_id, const struct event_list *l,
    time_t now, struct feed_counts *n, char **cause)
{
	struct event	 ev;
	char		**uids;
	size_t		 i, nuids;
	int		 rc = 0;

	if (db_event_feed_uids(db, feed_id, &uids, &nuids) == -1)
		return -1;	/* the unit of work says why */
	for (i = 0; i < nuids; i++) {
		if (rc == 0 && !uid_in(l, uids[i]) &&
		    db_event_by_uid(db, uids[i], &ev) == 0) {
			if (ev.starts_at >= now) {
				free(ev.status);
				ev.status = xstrdup("cancelled");
				ev.sequence++;
				n->cancelled++;
				rc = db_event_update(db, &ev, now, cause);
			}
			event_clear(&ev);
		}
		free(uids[i]);
	}
	free(uids);
	return rc;
}

struct feed_apply_args {
	int64_t		 feed_id;
	struct event_list *l;
	time_t		 now;
	struct feed_counts *n;
	char		**cause;
	const char	*etag, *last_modified, *why;
};

static int
feed_apply_all(struct db *db, void *arg)
{
	struct feed_apply_args *a = arg;
	size_t	 i;

	for (i = 0; i < a->l->n; i++) {
		if (feed_apply_one(db, a->feed_id, &a->l->v[i], a->now, a->n,
		    a->cause) == -1)
			return -1;
	}
	return feed_sweep(db, a->feed_id, a->l, a->now, a->n, a->cause);
}

static int
feed_apply(struct db *db, int64_t feed_id, struct event_list *l, time_t now,
    struct feed_counts *n, char **cause)
{
	struct feed_apply_args a;

	memset(&a, 0, sizeof a);
	a.feed_id = feed_id;
	a.l = l;
	a.now = now;
	a.n = n;
	a.cause = cause;
	return db_atomic(db, feed_apply_all, &a, cause);
}

static int
feed_mark(struct db *db, void *arg)
{
	struct feed_apply_args *a = arg;

	db_feed_update(db, a->feed_id, a->etag, a->last_modified, a->now,
	    a->why);
	return 0;
}

/* What the last fetch said; failing to note it changes nothing else. */
static void
feed_note(struct db *db, int64_t id, const char *etag,
    const char *last_modified, time_t now, const char *why)
{
	struct feed_apply_args a;

	memset(&a, 0, sizeof a);
	a.feed_id = id;
	a.etag = etag;
	a.last_modified = last_modified;
	a.now = now;
	a.why = why;
	db_atomic(db, feed_mark, &a, NULL);
}

struct feed_edit_args {
	const char	*url;
	int64_t		 id;
	int		 keep;
	time_t		 now;
	long		*cancelled;
	char		**cause;
};

static int
feed_add_one(struct db *db, void *arg)
{
	struct feed_edit_args *a = arg;

	return db_feed_add(db, a->url, &a->id, a->cause);
}

/* Adds a feed by URL (or finds the one already there). */
int
feed_add(struct db *db, const char *url, int64_t *id, char **cause)
{
	struct feed_edit_args a;

	memset(&a, 0, sizeof a);
	a.url = url;
	a.cause = cause;
	if (db_atomic(db, feed_add_one, &a, cause) == -1)
		return -1;
	*id = a.id;
	return 0;
}

static int
feed_remove_one(struct db *db, void *arg)
{
	struct feed_edit_args *a = arg;

	return db_feed_remove(db, a->id, a->keep, a->now, a->cancelled);
}

/* Removes a feed; its future events are cancelled unless keep. */
int
feed_remove(struct db *db, int64_t id, int keep, time_t now, long *cancelled,
    char **cause)
{
	struct feed_edit_args a;

	memset(&a, 0, sizeof a);
	a.id = id;
	a.keep = keep;
	a.now = now;
	a.cancelled = cancelled;
	return db_atomic(db, feed_remove_one, &a, cause);
}

/*
 * Fetches one feed and brings its events up to date. The counts may be
 * NULL. On failure the feed's last_error says why and nothing changes.
 */
int
feed_refresh(struct db *db, const struct config *conf, int64_t feed_id,
    int *added, int *updated, int *cancelled, char **cause)
{
	struct feed_counts n = { 0, 0, 0 };
	struct event_list l = { NULL, 0 };
	struct feed	 fd;
	struct fetch	 f;
	time_t		 now = clock_now();
	int		 rc = 0;

	if (db_feed_get(db, feed_id, &fd) == -1) {
		xasprintf(cause, "no feed %lld", (long long)feed_id);
		return -1;
	}
	if (fetch(&fd, &f, cause) == -1 || (!f.not_modified &&
	    (ical_parse_events(f.body.data != NULL ? f.body.data : "",
	    conf->timezone, &l, cause) == -1 ||
	    feed_apply(db, feed_id, &l, now, &n, cause) == -1))) {
		feed_note(db, feed_id, NULL, NULL, now, *cause);
		rc = -1;
	} else
		feed_note(db, feed_id, f.etag, f.last_modified, now, NULL);
	event_list_free(&l);
	fetch_free(&f);
	feed_clear(&fd);
	if (added != NULL)
		*added = n.added;
	if (updated != NULL)
		*updated = n.updated;
	if (cancelled != NULL)
		*cancelled = n.cancelled;
	return rc;
}
