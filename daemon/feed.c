/*
 * iCalendar feeds: a union's or a coalition's published calendar, fetched
 * each tick with If-None-Match / If-Modified-Since so an unchanged feed
 * costs one small request. New events are added, changed ones updated
 * (SEQUENCE bumped), and events that vanished from the feed cancelled, so
 * a called-off strike does not stay in the bulletin. Recurring events
 * arrive expanded (ical.c), one event per occurrence. The fetch itself
 * goes through http.c.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "clarion.h"

#define FEED_MAX_SIZE	(10L * 1024 * 1024)
#define FEED_TIMEOUT	30L

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
	struct http_get	 req;
	struct http_result f;
	time_t		 now = clock_now();
	int		 rc = 0;

	if (db_feed_get(db, feed_id, &fd) == -1) {
		xasprintf(cause, "no feed %lld", (long long)feed_id);
		return -1;
	}
	memset(&req, 0, sizeof req);
	req.url = fd.url;
	req.etag = fd.etag;
	req.last_modified = fd.last_modified;
	req.max_size = FEED_MAX_SIZE;
	req.timeout = FEED_TIMEOUT;
	if (http_fetch(&req, &f, cause) == -1 || (!f.not_modified &&
	    (ical_parse_events(f.body.data != NULL ? f.body.data : "",
	    conf->timezone, &l, cause) == -1 ||
	    feed_apply(db, feed_id, &l, now, &n, cause) == -1))) {
		feed_note(db, feed_id, NULL, NULL, now, *cause);
		rc = -1;
	} else
		feed_note(db, feed_id, f.etag, f.last_modified, now, NULL);
	event_list_free(&l);
	http_result_free(&f);
	feed_clear(&fd);
	if (added != NULL)
		*added = n.added;
	if (updated != NULL)
		*updated = n.updated;
	if (cancelled != NULL)
		*cancelled = n.cancelled;
	return rc;
}
