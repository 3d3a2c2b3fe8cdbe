/*
 * Meeting notices. A secretary enters a meeting once: it becomes an event
 * of kind meeting and an item of kind notice, with a 'notice' run (at once
 * or at a chosen time) and a 'reminder' run before the meeting. Each
 * carries a calendar invite with a UID stable for the meeting. Moving the
 * meeting sends an 'update' (same UID, SEQUENCE + 1) to the same people
 * and re-plans the reminder; cancelling it sends a 'cancel' (METHOD:CANCEL)
 * and drops the pending reminder. The rule book's notice period is
 * enforced unless the officer forces it.
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "clarion.h"

#define NOTICE_SUBJECT "{{#run.is_cancel}}Cancelled: {{/run.is_cancel}}" \
	"{{#run.is_update}}Changed: {{/run.is_update}}" \
	"{{#run.is_reminder}}Reminder: {{/run.is_reminder}}" \
	"{{meeting.title}}, {{meeting.when}}"

static int
notice_period(const struct config *conf, int days)
{
	return days > conf->notice_days ? days : conf->notice_days;
}

/* The refusal names both dates and the way round it. */
static enum notice_result
notice_check(const struct config *conf, time_t meeting, time_t send,
    int days, int force, char **cause)
{
	char	*m, *s;
	long	 gap = (long)(meeting - send);

	if (meeting <= send) {
		xasprintf(cause, "the meeting is not after the notice would be "
		    "sent");
		return NOTICE_ERROR;
	}
	if (force || gap >= (long)days * 86400)
		return NOTICE_OK;
	m = time_format_local(meeting, conf->timezone, "%a %-d %b %Y %H:%M");
	s = time_format_local(send, conf->timezone, "%a %-d %b %Y %H:%M");
	xasprintf(cause, "too little notice: the meeting on %s is only %ld "
	    "day%s %ld hour%s after the notice goes out (%s); the rule book "
	    "requires %d days (schedule.notice_days); use --force to send it "
	    "anyway", m, gap / 86400, gap / 86400 == 1 ? "" : "s",
	    (gap % 86400) / 3600, (gap % 86400) / 3600 == 1 ? "" : "s", s,
	    days);
	free(m);
	free(s);
	return NOTICE_TOO_SHORT;
}

static int
reminder_plan(struct db *db, const struct item *it, const struct event *ev,
    time_t after)
{
	time_t	 at;

	if (it->reminder_before <= 0)
		return 0;
	at = ev->starts_at - it->reminder_before;
	if (at <= after)
		return 0;	/* the notice itself is reminder enough */
	return db_run_insert(db, it->id, at, PURPOSE_REMINDER, RUN_PLANNED, NULL,
	    ev->sequence, NULL, NULL) == -1 ? -1 : 0;
}

static void
notice_event(const struct notice_req *req, struct event *ev)
{
	event_init(ev);
	ev->uid = event_uid_new();
	ev->kind = xstrdup("meeting");
	ev->title = xstrdup(req->title);
	ev->location = xstrdup(req->venue != NULL ? req->venue : "");
	ev->status = xstrdup("confirmed");
	ev->starts_at = req->meeting;
	ev->ends_at = req->meeting_end;
}

static void
notice_item(const struct config *conf, const struct notice_req *req,
    int64_t list_id, const struct event *ev, time_t send, struct item *it)
{
	item_init(it);
	xasprintf(&it->name, "notice-%lld", (long long)ev->id);
	it->list_id = list_id;
	it->segment = xstrdup(req->segment != NULL ? req->segment : "");
	it->kind = xstrdup("notice");
	it->template = xstrdup(req->template != NULL ? req->template :
	    "notice");
	it->subject = xstrdup(req->subject != NULL ? req->subject :
	    NOTICE_SUBJECT);
	it->content_file = req->agenda_file != NULL ?
	    xstrdup(req->agenda_file) : NULL;
	it->event_kinds = xstrdup("");
	it->union_filter = xstrdup("");
	it->send_at = send;
	it->skip_empty = 0;
	it->event_id = ev->id;
	it->notice_days = req->notice_days >= 0 ? req->notice_days :
	    conf->notice_days;
	it->reminder_before = req->reminder >= 0 ? req->reminder :
	    conf->reminder_before;
	it->status = xstrdup("active");
}

/* What one unit of work of a notice writes. */
struct notice_work {
	const struct config *conf;
	const struct notice_req *req;
	int64_t		 list_id;
	time_t		 send, now;
	struct event	*ev;
	struct item	*it;
	char		**cause;
};

static int
notice_write_one(struct db *db, void *arg)
{
	struct notice_work *w = arg;

	if (db_event_insert(db, w->ev, w->now, w->cause) == -1)
		return -1;
	notice_item(w->conf, w->req, w->list_id, w->ev, w->send, w->it);
	if (db_item_insert(db, w->it, w->now, w->cause) == -1)
		return -1;
	if (db_run_insert(db, w->it->id, w->send, PURPOSE_NOTICE, RUN_PLANNED,
	    NULL, 0,
	    NULL, NULL) == -1 || reminder_plan(db, w->it, w->ev, w->send) == -1)
		return -1;
	return 0;
}

static int
notice_write(struct db *db, const struct config *conf,
    const struct notice_req *req, int64_t list_id, time_t send, time_t now,
    int64_t *item_id, char **cause)
{
	struct notice_work w;
	struct event	 ev;
	struct item	 it;
	int		 rc = -1;

	notice_event(req, &ev);
	item_init(&it);
	memset(&w, 0, sizeof w);
	w.conf = conf;
	w.req = req;
	w.list_id = list_id;
	w.send = send;
	w.now = now;
	w.ev = &ev;
	w.it = &it;
	w.cause = cause;
	if (event_check(&ev, cause) == 0 &&
	    (rc = db_atomic(db, notice_write_one, &w, cause)) == 0)
		*item_id = it.id;
	event_clear(&ev);
	item_clear(&it);
	return rc;
}

enum notice_result
notice_add(struct db *db, const struct config *conf,
    const struct notice_req *req, time_t now, int64_t *item_id, char **cause)
{
	enum notice_result r;
	int64_t		 list_id;
	time_t		 send;
	int		 days;

	*cause = NULL;
	if (db_list_id(db, req->list, &list_id) == -1) {
		xasprintf(cause, "no list named '%s' (clarion list create)",
		    req->list);
		return NOTICE_ERROR;
	}
	send = req->send_at > now ? req->send_at : now;
	days = notice_period(conf, req->notice_days);
	if ((r = notice_check(conf, req->meeting, send, days, req->force,
	    cause)) != NOTICE_OK)
		return r;
	return notice_write(db, conf, req, list_id, send, now, item_id,
	    cause) == 0 ? NOTICE_OK : NOTICE_ERROR;
}

/* Whether the notice has gone (or is going) out to members. */
static int
notice_sent(struct db *db, int64_t item_id)
{
	struct run	*runs;
	size_t		 i, n;
	int		 sent = 0;

	if (db_run_list(db, item_id, NULL, 0, &runs, &n, NULL) == -1)
		return 1;
	for (i = 0; i < n; i++) {
		if (runs[i].purpose == PURPOSE_NOTICE &&
		    (runs[i].state == RUN_COMPOSING ||
		    runs[i].state == RUN_SENDING ||
		    runs[i].state == RUN_HELD || runs[i].state == RUN_DONE))
			sent = 1;
	}
	runs_free(runs, n);
	return sent;
}

static int
notice_load(struct db *db, int64_t item_id, struct item *it,
    struct event *ev, char **cause)
{
	if (db_item_get(db, item_id, it) == -1 ||
	    strcmp(it->kind, "notice") != 0 || it->event_id == 0) {
		xasprintf(cause, "no meeting notice %lld", (long long)item_id);
		return -1;
	}
	if (db_event_get(db, it->event_id, ev) == -1) {
		xasprintf(cause, "notice %lld: its meeting is gone",
		    (long long)item_id);
		return -1;
	}
	if (event_status_parse(ev->status) == EVENT_CANCELLED) {
		xasprintf(cause, "the meeting '%s' is cancelled", ev->title);
		return -1;
	}
	return 0;
}

/*
 * Moves the meeting. If the notice has gone out, an 'update' run sends
 * the new time (same UID, SEQUENCE + 1) to the same people; if not, the
 * notice itself will carry the new time. The reminder is planned again.
 */
static int
move_write_one(struct db *db, void *arg)
{
	struct notice_work *w = arg;

	if (db_event_update(db, w->ev, w->now, w->cause) == -1 ||
	    db_run_cancel_pending(db, w->it->id, "reminder", "the meeting "
	    "moved", w->now) == -1 ||
	    (notice_sent(db, w->it->id) && db_run_insert(db, w->it->id, w->now,
	    PURPOSE_UPDATE, RUN_PLANNED, NULL, w->ev->sequence, NULL, NULL) == -1) ||
	    reminder_plan(db, w->it, w->ev, w->now) == -1)
		return -1;
	return 0;
}

static int
move_write(struct db *db, struct item *it, struct event *ev, time_t now,
    char **cause)
{
	struct notice_work w;

	memset(&w, 0, sizeof w);
	w.it = it;
	w.ev = ev;
	w.now = now;
	w.cause = cause;
	return db_atomic(db, move_write_one, &w, cause);
}

enum notice_result
notice_move(struct db *db, const struct config *conf, int64_t item_id,
    time_t meeting, time_t meeting_end, int force, time_t now, char **cause)
{
	enum notice_result r = NOTICE_ERROR;
	struct event	 ev;
	struct item	 it;

	*cause = NULL;
	item_init(&it);
	event_init(&ev);
	if (notice_load(db, item_id, &it, &ev, cause) == -1)
		goto out;
	if ((r = notice_check(conf, meeting, now, notice_period(conf,
	    it.notice_days), force, cause)) != NOTICE_OK)
		goto out;
	if (meeting_end != 0)
		ev.ends_at = meeting_end;
	else if (ev.ends_at != 0)
		ev.ends_at += meeting - ev.starts_at;
	ev.starts_at = meeting;
	ev.sequence++;
	r = move_write(db, &it, &ev, now, cause) == 0 ? NOTICE_OK :
	    NOTICE_ERROR;
out:
	item_clear(&it);
	event_clear(&ev);
	return r;
}

/*
 * Cancels the meeting: pending notice, update and reminder runs are
 * cancelled, and if members were told, a 'cancel' run tells them.
 */
static int
cancel_write_one(struct db *db, void *arg)
{
	struct notice_work *w = arg;
	int	 told;

	told = notice_sent(db, w->it->id);
	free(w->ev->status);
	w->ev->status = xstrdup("cancelled");
	w->ev->sequence++;
	if (db_event_update(db, w->ev, w->now, w->cause) == -1 ||
	    db_run_cancel_pending(db, w->it->id, NULL, "the meeting was "
	    "cancelled", w->now) == -1 ||
	    (told && db_run_insert(db, w->it->id, w->now, PURPOSE_CANCEL, RUN_PLANNED,
	    NULL, w->ev->sequence, NULL, NULL) == -1) ||
	    db_item_set_status(db, w->it->id, ITEM_CANCELLED, w->now) == -1)
		return -1;
	return 0;
}

int
notice_cancel(struct db *db, const struct config *conf, int64_t item_id,
    time_t now, char **cause)
{
	struct notice_work w;
	struct event	 ev;
	struct item	 it;
	int		 rc = -1;

	*cause = NULL;
	item_init(&it);
	event_init(&ev);
	memset(&w, 0, sizeof w);
	w.it = &it;
	w.ev = &ev;
	w.now = now;
	w.cause = cause;
	if (notice_load(db, item_id, &it, &ev, cause) == 0)
		rc = db_atomic(db, cancel_write_one, &w, cause);
	if (rc == -1 && *cause == NULL)
		xasprintf(cause, "cannot cancel notice %lld", (long long)item_id);
	(void)conf;
	item_clear(&it);
	event_clear(&ev);
	return rc;
}
