/*
 * The scheduler: each tick it refreshes the iCalendar feeds, turns the
 * due occurrences of active items into runs, and skips runs that went
 * stale while nobody was sending them. A run is UNIQUE(item, due time,
 * purpose) and inserted with ON CONFLICT DO NOTHING, so a second tick, a
 * second daemon or a restart never creates one twice.
 *
 * An empty bulletin is decided twice: at planning time (the run is
 * recorded as skipped, "no events", so `clarion run list` shows why no
 * mail went) and again by run_context_build() at compose time, which sets
 * *empty when events were cancelled in between.
 *
 * Recurrences are evaluated by libical in the configured zone, so a
 * bulletin at 08:00 stays at 08:00 local across the clock changes.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "clarion.h"

#define PLAN_MAX_OCCURRENCES 1000	/* per item and tick */

static char *
span_text(long secs)
{
	char	*s;

	if (secs >= 2 * 86400)
		xasprintf(&s, "%ld days", secs / 86400);
	else if (secs >= 2 * 3600)
		xasprintf(&s, "%ld hours", secs / 3600);
	else
		xasprintf(&s, "%ld minutes", secs / 60);
	return s;
}

/* The window a bulletin lists: from its due time (or now, if later). */
static void
bulletin_window(const struct item *it, time_t due, time_t now, time_t *from,
    time_t *to)
{
	*from = due > now ? due : now;
	*to = due + (time_t)it->days_ahead * 86400;
}

/*
 * The events a bulletin lists: not cancelled, not over by from, starting
 * before to, of the item's kinds and union.
 */
int
schedule_events(struct db *db, const struct item *it, time_t from, time_t to,
    struct event_list *out, char **cause)
{
	return db_event_range(db, from, to, it->event_kinds, it->union_filter,
	    0, out, cause);
}

static int
bulletin_empty(struct db *db, const struct item *it, time_t due, time_t now)
{
	struct event_list l;
	time_t		 from, to;
	char		*cause;
	int		 empty;

	bulletin_window(it, due, now, &from, &to);
	if (schedule_events(db, it, from, to, &l, &cause) == -1) {
		log_warnx("item %s: %s", it->name, cause);
		free(cause);
		return 0;	/* let the composer decide */
	}
	empty = l.n == 0;
	event_list_free(&l);
	return empty;
}

/* Whom a planned issue will reach; a warning when its segment says none. */
static void
plan_reach(struct db *db, const struct item *it)
{
	long	 reach, total;
	char	*cause = NULL;

	if (db_list_reach(db, it->list_id, it->segment, &reach, &total,
	    &cause) == -1) {
		log_warnx("item %s: segment: %s", it->name, cause);
		free(cause);
		return;
	}
	if (reach == 0 && total > 0 && *it->segment != '\0')
		log_warnx("item %s: its segment %s matches none of the list's "
		    "%ld members", it->name, it->segment, total);
	else
		log_info("item %s: the run reaches %ld of %ld members",
		    it->name, reach, total);
}

/* One due occurrence: planned, or skipped with the reason. */
static int
plan_occurrence(struct db *db, const struct config *conf,
    const struct item *it, time_t due, time_t now, int *created)
{
	enum run_state	 state = RUN_PLANNED;
	char		*reason = NULL, *late, *grace, *when;
	int		 rc;

	if (now - due > conf->missed_grace) {
		late = span_text(now - due);
		grace = span_text(conf->missed_grace);
		when = time_format_local(due, conf->timezone, "%Y-%m-%d %H:%M");
		xasprintf(&reason, "missed: due %s, %s ago (more than "
		    "schedule.missed_grace, %s)", when, late, grace);
		free(late);
		free(grace);
		free(when);
		state = RUN_SKIPPED;
	} else if (strcmp(it->kind, "bulletin") == 0 && it->skip_empty &&
	    bulletin_empty(db, it, due, now)) {
		reason = xstrdup("no events");
		state = RUN_SKIPPED;
	}
	rc = db_run_insert(db, it->id, due, PURPOSE_ISSUE, state, reason, 0, NULL,
	    NULL);
	if (rc == 1) {
		(*created)++;
		when = time_format_local(due, conf->timezone, "%Y-%m-%d %H:%M");
		log_info("item %s: run due %s %s%s%s", it->name, when,
		    run_state_name(state),
		    reason ? ": " : "", reason ? reason : "");
		if (state == RUN_PLANNED)
			plan_reach(db, it);
		free(when);
	}
	free(reason);
	return rc == -1 ? -1 : 0;
}

/* The occurrences to consider: after the last run, and not too old. */
static int
item_occurrences(struct db *db, const struct config *conf,
    const struct item *it, time_t now, time_t **occ, size_t *n,
    char **cause)
{
	time_t	 last, after, until;

	*occ = NULL;
	*n = 0;
	if (db_run_last_due(db, it->id, "issue", &last, cause) == -1)
		return -1;
	/*
	 * An item added today does not owe the occurrences of last year;
	 * those before its creation count only within the grace.
	 */
	after = it->created - conf->missed_grace - 1;
	if (last > after)
		after = last;
	until = now;
	if (it->expires_at != 0 && it->expires_at - 1 < until)
		until = it->expires_at - 1;
	if (it->rrule != NULL)
		return ical_rrule_expand(it->rrule, it->dtstart,
		    conf->timezone, after, until, PLAN_MAX_OCCURRENCES, occ, n,
		    cause);
	if (it->send_at != 0 && it->send_at > after && it->send_at <= until) {
		*occ = xmalloc(sizeof **occ);
		(*occ)[(*n)++] = it->send_at;
	}
	return 0;
}

/* An item with nothing more to send is done: one-off sent, or expired. */
static int
item_finished(const struct item *it, time_t now)
{
	if (it->expires_at != 0 && now >= it->expires_at)
		return 1;
	return it->rrule == NULL && it->send_at != 0 && it->send_at <= now;
}

struct plan_work {
	const struct config *conf;
	const struct item *it;
	time_t		 now;
	time_t		*occ;
	size_t		 n;
	int		*created;
};

static int
plan_item_one(struct db *db, void *arg)
{
	struct plan_work *w = arg;
	size_t	 i;
	int	 rc = 0;

	for (i = 0; i < w->n && rc == 0; i++)
		rc = plan_occurrence(db, w->conf, w->it, w->occ[i], w->now,
		    w->created);
	if (rc == 0 && item_finished(w->it, w->now))
		rc = db_item_set_status(db, w->it->id, ITEM_DONE, w->now);
	return rc;
}

static int
plan_item(struct db *db, const struct config *conf, const struct item *it,
    time_t now, int *created, char **cause)
{
	struct plan_work w;
	char	*why = NULL;
	int	 rc;

	memset(&w, 0, sizeof w);
	if (item_occurrences(db, conf, it, now, &w.occ, &w.n, cause) == -1)
		return -1;
	w.conf = conf;
	w.it = it;
	w.now = now;
	w.created = created;
	rc = db_atomic(db, plan_item_one, &w, &why);
	free(w.occ);
	if (rc == -1) {
		xasprintf(cause, "item %s: %s", it->name, why);
		free(why);
	}
	return rc;
}

/*
 * Turns the due occurrences of every active item into runs. Meeting
 * notices are planned when they are entered (notice.c), not here.
 */
int
schedule_plan(struct db *db, const struct config *conf, time_t now,
    int *created, char **cause)
{
	struct item	*items;
	size_t		 i, n;
	int		 rc = 0;

	*created = 0;
	if (db_item_list(db, 1, &items, &n, cause) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (strcmp(items[i].kind, "notice") == 0)
			continue;
		if (plan_item(db, conf, &items[i], now, created,
		    cause) == -1) {
			rc = -1;
			break;
		}
	}
	for (i = 0; i < n; i++)
		item_clear(&items[i]);
	free(items);
	return rc;
}

/* Why a planned run must not be sent now, or NULL if it may. */
static char *
run_stale(struct db *db, const struct config *conf, const struct run *r,
    const struct item *it, time_t now)
{
	struct event	 ev;
	char		*why = NULL, *late, *grace;

	if (r->due_at > now)
		return NULL;
	if (now - r->due_at > conf->missed_grace) {
		late = span_text(now - r->due_at);
		grace = span_text(conf->missed_grace);
		xasprintf(&why, "missed by %s (more than "
		    "schedule.missed_grace, %s)", late, grace);
		free(late);
		free(grace);
		return why;
	}
	if (it->event_id != 0 && db_event_get(db, it->event_id, &ev) == 0) {
		if (ev.starts_at <= now)
			why = xstrdup("the meeting has started");
		event_clear(&ev);
		return why;
	}
	if (r->purpose == PURPOSE_ISSUE &&
	    strcmp(it->kind, "bulletin") == 0 && it->skip_empty &&
	    bulletin_empty(db, it, r->due_at, now))
		return xstrdup("no events");
	return NULL;
}

struct expire_work {
	const struct run *r;
	const char	*why;
	time_t		 now;
};

static int
expire_one_skip(struct db *db, void *arg)
{
	struct expire_work *w = arg;

	return db_run_set_state(db, w->r->id, RUN_SKIPPED, w->why, w->now);
}

static int
expire_one(struct db *db, const struct config *conf, const struct run *r,
    time_t now, int *skipped, char **cause)
{
	struct expire_work w;
	struct item	 it;
	char		*why;
	int		 rc = 0;

	if (db_item_get(db, r->item_id, &it) == -1)
		return 0;
	if ((why = run_stale(db, conf, r, &it, now)) != NULL) {
		w.r = r;
		w.why = why;
		w.now = now;
		if (db_atomic(db, expire_one_skip, &w, cause) == -1)
			rc = -1;
		else {
			(*skipped)++;
			log_info("run %lld (%s): skipped: %s", (long long)r->id,
			    it.name, why);
		}
		free(why);
	}
	item_clear(&it);
	return rc;
}

/*
 * Planned runs that are no longer worth sending are skipped with the
 * reason: missed by more than the grace, a meeting that has started, a
 * bulletin whose events have all passed. Never sent stale.
 */
int
schedule_expire(struct db *db, const struct config *conf, time_t now,
    int *skipped, char **cause)
{
	struct run	*runs;
	size_t		 i, n;
	int		 rc = 0;

	*skipped = 0;
	if (db_run_list(db, 0, "planned", 0, &runs, &n, cause) == -1)
		return -1;
	for (i = 0; i < n && rc == 0; i++)
		rc = expire_one(db, conf, &runs[i], now, skipped, cause);
	runs_free(runs, n);
	return rc;
}

static void
feeds_refresh(struct daemon_ctx *ctx)
{
	int64_t	*ids;
	size_t	 i, n;
	char	*cause;
	int	 a, u, c;

	if (db_feed_ids(ctx->db, &ids, &n, NULL) == -1)
		return;
	for (i = 0; i < n && !daemon_stopping(ctx); i++) {
		if (feed_refresh(ctx->db, ctx->conf, ids[i], &a, &u, &c,
		    &cause) == -1) {
			log_warnx("feed %lld: %s", (long long)ids[i], cause);
			free(cause);
		} else if (a + u + c > 0)
			log_info("feed %lld: %d new, %d changed, %d cancelled",
			    (long long)ids[i], a, u, c);
	}
	free(ids);
}

int
schedule_step(struct daemon_ctx *ctx)
{
	time_t	 now;
	char	*cause;
	int	 created, skipped;

	feeds_refresh(ctx);
	now = clock_now();
	if (schedule_plan(ctx->db, ctx->conf, now, &created, &cause) == -1 ||
	    schedule_expire(ctx->db, ctx->conf, now, &skipped, &cause) == -1) {
		log_warnx("schedule: %s", cause);
		free(cause);
		return -1;
	}
	return 0;
}
