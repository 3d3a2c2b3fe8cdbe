/*
 * The scheduler on a temporary database with a fixed clock: recurrence
 * across the clock changes, empty and full bulletins, the bulletin window,
 * missed runs, meeting notices (move, cancel), idempotent ticks and feeds.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "clarion.h"
#include "db_sqlite.h"	/* white-box: the SQLite backend */
#include "tap.h"

#define AGENDA "# Agenda\n\n1. Minutes\n2. *Pay claim*\n"

static struct config conf;
static char dbpath[] = "/tmp/test_schedule.XXXXXX";
static char dir[] = "/tmp/test_schedule.d.XXXXXX";

static time_t
utc(const char *s)
{
	time_t	 t = 0;
	char	*cause;

	if (time_parse_local(s, "UTC", &t, &cause) == -1) {
		printf("# bad time %s: %s\n", s, cause);
		free(cause);
	}
	return t;
}

static time_t
london(const char *s)
{
	time_t	 t = 0;
	char	*cause;

	if (time_parse_local(s, "Europe/London", &t, &cause) == -1) {
		printf("# bad time %s: %s\n", s, cause);
		free(cause);
	}
	return t;
}

static char *
iso(time_t t)
{
	static char	 out[8][32];
	static int	 i;
	char		*s = time_format_iso(t);

	i = (i + 1) % 8;
	snprintf(out[i], sizeof out[i], "%s", s);
	free(s);
	return out[i];
}

static int64_t
make_list(struct db *db, const char *name)
{
	struct list_info l;
	char		*cause = NULL;

	memset(&l, 0, sizeof l);
	l.name = (char *)name;
	l.display_name = (char *)"Members";
	l.from_addr = (char *)"secretary@example.org";
	l.owner_addr = (char *)"owner@example.org";
	l.footer = (char *)"";
	if (db_list_create(db, &l, &cause) == -1) {
		printf("# list: %s\n", cause);
		return 0;
	}
	return l.id;
}

static int64_t
add_event(struct db *db, const char *kind, const char *title,
    const char *start, const char *status)
{
	struct event	 ev;
	char		*cause = NULL;
	int64_t		 id;

	event_init(&ev);
	ev.uid = event_uid_new();
	ev.kind = xstrdup(kind);
	ev.title = xstrdup(title);
	ev.union_name = xstrdup("UNISON");
	ev.employer = xstrdup("Hillside Council");
	ev.location = xstrdup("Town Hall");
	ev.status = xstrdup(status);
	ev.starts_at = london(start);
	db_begin(db);
	if (db_event_insert(db, &ev, clock_now(), &cause) == -1)
		printf("# event: %s\n", cause);
	db_commit(db);
	id = ev.id;
	event_clear(&ev);
	return id;
}

static int64_t
add_item(struct db *db, int64_t list, const char *name, const char *kind,
    const char *rrule, time_t dtstart, time_t send_at, time_t created,
    int skip_empty)
{
	struct item	 it;
	char		*cause = NULL;
	int64_t		 id;

	item_init(&it);
	it.name = xstrdup(name);
	it.list_id = list;
	it.kind = xstrdup(kind);
	it.template = xstrdup(kind);
	it.subject = xstrdup("Coming up");
	it.segment = xstrdup("");
	it.event_kinds = xstrdup("");
	it.union_filter = xstrdup("");
	it.rrule = rrule != NULL ? xstrdup(rrule) : NULL;
	it.dtstart = dtstart;
	it.send_at = send_at;
	it.days_ahead = 7;
	it.skip_empty = skip_empty;
	db_begin(db);
	if (db_item_insert(db, &it, created, &cause) == -1)
		printf("# item: %s\n", cause);
	db_commit(db);
	id = it.id;
	item_clear(&it);
	return id;
}

static int
plan_at(struct db *db, time_t now)
{
	char	*cause = NULL;
	int	 created = 0, skipped = 0;

	if (schedule_plan(db, &conf, now, &created, &cause) == -1 ||
	    schedule_expire(db, &conf, now, &skipped, &cause) == -1) {
		printf("# plan: %s\n", cause);
		free(cause);
		return -1;
	}
	return created;
}

/* The item's runs, oldest first. */
static size_t
item_runs(struct db *db, int64_t item, struct run **runs)
{
	struct run	*r, tmp;
	size_t		 n, i;

	db_run_list(db, item, NULL, 0, &r, &n, NULL);
	for (i = 0; i < n / 2; i++) {
		tmp = r[i];
		r[i] = r[n - 1 - i];
		r[n - 1 - i] = tmp;
	}
	*runs = r;
	return n;
}

static void
test_rrule_dst(struct db *db, int64_t list)
{
	const char	*rule = "FREQ=WEEKLY;BYDAY=MO;BYHOUR=8;BYMINUTE=0";
	time_t		*occ, week;
	struct run	*runs;
	size_t		 n, i;
	char		*cause = NULL, *local;
	int		 all8 = 1;
	int64_t		 item;

	ok(ical_rrule_expand(rule, london("2026-10-01"), "Europe/London",
	    0, utc("2027-04-06 00:00"), 100, &occ, &n, &cause) == 0,
	    "weekly rule expands");
	is_int(n, 27, "27 Mondays from October to April");
	for (i = 0; i < n; i++) {
		local = time_format_local(occ[i], "Europe/London", "%a %H:%M");
		all8 &= strcmp(local, "Mon 08:00") == 0;
		free(local);
	}
	ok(all8, "every occurrence is Monday 08:00 in London");
	is_str(iso(occ[2]), "2026-10-19T07:00:00Z", "before October change: "
	    "07:00Z");
	is_str(iso(occ[3]), "2026-10-26T08:00:00Z", "after October change: "
	    "08:00Z");
	is_str(iso(occ[24]), "2027-03-22T08:00:00Z", "before March change: "
	    "08:00Z");
	is_str(iso(occ[25]), "2027-03-29T07:00:00Z", "after March change: "
	    "07:00Z");
	free(occ);
	ok(ical_rrule_expand("FREQ=SOMETIMES", 0, "Europe/London", 0, 1, 10,
	    &occ, &n, &cause) == -1 && strstr(cause, "RFC 5545") != NULL,
	    "a bad rule is refused with a reason");
	free(cause);

	/* The scheduler across both changes, a tick just after each 08:00. */
	item = add_item(db, list, "dst", "bulletin", rule,
	    london("2026-10-01"), 0, utc("2026-10-18 00:00"), 0);
	for (week = utc("2026-10-19 09:00"); week < utc("2027-04-06 00:00");
	    week += 7 * 86400)
		plan_at(db, week);
	n = item_runs(db, item, &runs);
	is_int(n, 25, "one run per Monday, 19 Oct to 5 Apr");
	is_str(iso(runs[0].due_at), "2026-10-19T07:00:00Z", "first run "
	    "07:00Z (BST)");
	is_str(iso(runs[1].due_at), "2026-10-26T08:00:00Z", "run after the "
	    "October change at 08:00Z (GMT)");
	is_str(iso(runs[22].due_at), "2027-03-22T08:00:00Z", "last GMT run "
	    "08:00Z");
	is_str(iso(runs[23].due_at), "2027-03-29T07:00:00Z", "run after the "
	    "March change at 07:00Z (BST)");
	is_str(run_state_name(runs[24].state), "planned", "this week's run is planned");
	is_str(run_state_name(runs[23].state), "skipped", "last week's, never composed, is "
	    "skipped");
	ok(strstr(runs[23].reason, "missed by 7 days") != NULL, "as missed: "
	    "%s", runs[23].reason);
	runs_free(runs, n);
	db_begin(db);
	db_item_set_status(db, item, ITEM_PAUSED, 0);
	db_commit(db);
}

static void
test_bulletin(struct db *db, int64_t list)
{
	const char	*rule = "FREQ=WEEKLY;BYDAY=MO;BYHOUR=8;BYMINUTE=0";
	struct run	*runs;
	json_t		*ctx, *days, *ev;
	size_t		 n;
	char		*cause = NULL;
	int		 empty = -1;
	int64_t		 item;

	item = add_item(db, list, "bulletin", "bulletin", rule,
	    london("2027-05-01"), 0, london("2027-05-01 00:00"), 1);
	/* Week of 3 May: nothing announced. */
	plan_at(db, london("2027-05-03 08:01"));
	n = item_runs(db, item, &runs);
	is_int(n, 1, "the empty week has one run");
	is_str(run_state_name(runs[0].state), "skipped", "an empty week is skipped");
	is_str(runs[0].reason, "no events", "... with the reason");
	runs_free(runs, n);

	add_event(db, "ballot", "Pay ballot closes", "2027-05-13 12:00",
	    "confirmed");
	add_event(db, "strike", "Bin strike", "2027-05-12 06:00", "confirmed");
	add_event(db, "picket", "Picket at the depot", "2027-05-11 07:00",
	    "confirmed");
	add_event(db, "picket", "Second picket", "2027-05-11 06:30",
	    "confirmed");
	add_event(db, "strike", "Called off", "2027-05-12 09:00", "cancelled");
	add_event(db, "demo", "After the window", "2027-05-18 10:00",
	    "confirmed");
	add_event(db, "demo", "Already past", "2027-05-09 10:00", "confirmed");
	plan_at(db, london("2027-05-10 08:01"));
	is_int(plan_at(db, london("2027-05-10 08:01")), 0, "the same tick "
	    "twice creates one run");
	is_int(db_run_insert(db, item, london("2027-05-10 08:00"), PURPOSE_ISSUE,
	    RUN_PLANNED, NULL, 0, NULL, NULL), 0, "inserting the run again is a no-op");
	n = item_runs(db, item, &runs);
	is_int(n, 2, "the full week has its run");
	is_str(run_state_name(runs[1].state), "planned", "a week with events is planned");
	ok(run_context_build(db, &conf, runs[1].id, &ctx, &empty, &cause) == 0,
	    "run context builds");
	is_int(empty, 0, "not empty");
	days = json_object_get(ctx, "days");
	is_int(json_array_size(days), 3, "three days: Tue, Wed, Thu");
	is_str(json_string_value(json_object_get(json_array_get(days, 0),
	    "date")), "Tuesday 11 May", "days by local date");
	ev = json_object_get(json_array_get(days, 0), "events");
	is_int(json_array_size(ev), 2, "two events on Tuesday");
	is_str(json_string_value(json_object_get(json_array_get(ev, 0),
	    "title")), "Second picket", "events in start order");
	is_str(json_string_value(json_object_get(json_array_get(ev, 0),
	    "time")), "06:30", "local time shown");
	is_str(json_string_value(json_object_get(json_array_get(ev, 0),
	    "union")), "UNISON", "with the union");
	is_str(json_string_value(json_object_get(json_array_get(ev, 0),
	    "employer")), "Hillside Council", "and the workplace");
	is_str(json_string_value(json_object_get(json_array_get(ev, 0),
	    "kind_label")), "Picket line", "and a label for the kind");
	ev = json_object_get(json_array_get(days, 1), "events");
	is_int(json_array_size(ev), 1, "the cancelled strike is left out");
	is_int(json_integer_value(json_object_get(ctx, "event_count")), 4,
	    "past and after-window events are left out");
	is_str(json_string_value(json_object_get(json_object_get(ctx, "run"),
	    "date")), "Monday 10 May 2027", "run date in words");
	is_str(json_string_value(json_object_get(json_object_get(ctx, "list"),
	    "from_addr")), "secretary@example.org", "the list's from address");
	json_decref(ctx);
	runs_free(runs, n);
	db_begin(db);
	db_item_set_status(db, item, ITEM_PAUSED, 0);
	db_commit(db);
}

static void
test_missed(struct db *db, int64_t list)
{
	struct run	*runs;
	size_t		 n;
	time_t		 now = london("2027-06-10 12:00");
	int64_t		 late, stale, later;

	late = add_item(db, list, "late", "message", NULL, 0,
	    now - 3600, now - 86400, 0);
	stale = add_item(db, list, "stale", "message", NULL, 0,
	    now - 7 * 3600, now - 86400, 0);
	is_int(plan_at(db, now), 2, "two runs created after downtime");
	is_int(plan_at(db, now), 0, "the same tick again creates none");
	n = item_runs(db, late, &runs);
	is_int(n, 1, "one run for the late item");
	is_str(run_state_name(runs[0].state), "planned", "missed by 1h (< 6h grace): sent "
	    "late");
	runs_free(runs, n);
	n = item_runs(db, stale, &runs);
	is_int(n, 1, "one run for the stale item");
	is_str(run_state_name(runs[0].state), "skipped", "missed by 7h (> 6h grace): skipped");
	ok(strstr(runs[0].reason, "missed") != NULL &&
	    strstr(runs[0].reason, "missed_grace") != NULL,
	    "with the reason: %s", runs[0].reason);
	runs_free(runs, n);

	/* A planned run nobody composed goes stale past the grace. */
	later = add_item(db, list, "later", "message", NULL, 0, now + 3600,
	    now, 0);
	plan_at(db, now + 3700);
	plan_at(db, now + 3600 + 7 * 3600);
	n = item_runs(db, later, &runs);
	is_int(n, 1, "one run");
	is_str(run_state_name(runs[0].state), "skipped", "a planned run past the grace is "
	    "skipped, not sent stale");
	runs_free(runs, n);
}

static void
test_expires(struct db *db, int64_t list)
{
	struct item	 it;
	struct run	*runs;
	size_t		 n;
	int64_t		 id;
	time_t		 t;

	id = add_item(db, list, "expiring", "bulletin",
	    "FREQ=DAILY;BYHOUR=9;BYMINUTE=0", london("2027-06-20"), 0,
	    london("2027-06-20 00:00"), 0);
	db_item_get(db, id, &it);
	it.expires_at = london("2027-06-23 09:00");
	db_begin(db);
	db_item_update(db, &it, 0, NULL);
	db_commit(db);
	item_clear(&it);
	for (t = london("2027-06-20 09:30"); t < london("2027-06-26 00:00");
	    t += 86400)
		plan_at(db, t);
	n = item_runs(db, id, &runs);
	is_int(n, 3, "no run at or after --expires (20, 21, 22 June)");
	if (n == 3)
		is_str(iso(runs[2].due_at), "2027-06-22T08:00:00Z", "the last "
		    "before expiry");
	runs_free(runs, n);
	db_item_get(db, id, &it);
	is_str(it.status, "done", "an expired item is done");
	item_clear(&it);
}

static long
count_of(struct db *db, int64_t run, const char *state)
{
	struct db_count	*c;
	size_t		 i, n;
	long		 v = 0;

	db_run_counts(db, run, &c, &n);
	for (i = 0; i < n; i++) {
		if (strcmp(c[i].name, state) == 0)
			v = c[i].count;
		free(c[i].name);
	}
	free(c);
	return v;
}

/* Deliveries in every state, to see what cancel and resend touch. */
static void
test_cancel_resend(struct db *db, int64_t list)
{
	static const char *states[] = { "sent", "failed", "queued", "deferred",
	    "held", "suppressed", "sending" };
	struct run	 r;
	char		*sql, *cause = NULL;
	int64_t		 item, run = 0;
	size_t		 i;
	long		 n = -1;

	item = add_item(db, list, "resend", "message", NULL, 0,
	    london("2027-06-01 09:00"), london("2027-06-01 00:00"), 0);
	db_run_insert(db, item, london("2027-06-01 09:00"), PURPOSE_ISSUE, RUN_PLANNED,
	    NULL, 0, &run, NULL);
	db_begin(db);
	for (i = 0; i < nitems(states); i++) {
		xasprintf(&sql, "INSERT INTO subscribers (address, created, "
		    "updated) VALUES ('m%zu@example.org', 0, 0); INSERT INTO "
		    "deliveries (run_id, subscriber_id, address, state, created,"
		    " sent_at) VALUES (%lld, last_insert_rowid(), 'm%zu@example"
		    ".org', '%s', 0, %s)", i, (long long)run, i, states[i],
		    strcmp(states[i], "sent") == 0 ? "1" : "NULL");
		if (db_exec(db, sql, &cause) == -1)
			printf("# %s\n", cause);
		free(sql);
	}
	db_run_set_state(db, run, RUN_SENDING, NULL, 0);
	db_commit(db);
	db_begin(db);
	ok(db_run_cancel(db, run, 0, &n) == 0, "run cancel");
	db_commit(db);
	is_int(n, 3, "queued, deferred and held are cancelled");
	is_int(count_of(db, run, "cancelled"), 3, "three cancelled");
	is_int(count_of(db, run, "sending"), 1, "the one in flight is left");
	is_int(count_of(db, run, "sent"), 1, "sent is untouched");
	db_run_get(db, run, &r);
	is_str(run_state_name(r.state), "cancelled", "the run is cancelled");
	run_clear(&r);
	db_begin(db);
	ok(db_run_resend_missed(db, run, 0, &n) == 0, "run resend");
	db_commit(db);
	is_int(n, 4, "failed and cancelled are queued again");
	is_int(count_of(db, run, "queued"), 4, "four queued");
	is_int(count_of(db, run, "sent"), 1, "sent is never touched");
	is_int(count_of(db, run, "suppressed"), 1, "suppressed stays");
	db_run_get(db, run, &r);
	is_str(run_state_name(r.state), "sending", "the run is sending again");
	run_clear(&r);
}

static const char *
ics_has(json_t *ctx, const char *what)
{
	const char	*ics = json_string_value(json_object_get(ctx, "ics"));

	return ics != NULL ? strstr(ics, what) : NULL;
}

static json_t *
run_ctx(struct db *db, int64_t run)
{
	json_t	*ctx = NULL;
	char	*cause = NULL;
	int	 empty;

	if (run_context_build(db, &conf, run, &ctx, &empty, &cause) == -1) {
		printf("# context: %s\n", cause);
		free(cause);
	}
	return ctx;
}

static void
test_notice(struct db *db)
{
	struct notice_req req;
	struct event	 ev;
	struct item	 it;
	struct run	*runs;
	json_t		*ctx;
	size_t		 n;
	time_t		 now = london("2027-07-01 10:00");
	char		*cause = NULL, uid[128], *agenda;
	int64_t		 id = 0;

	xasprintf(&agenda, "%s/agenda.md", dir);
	file_write_atomic(agenda, AGENDA, strlen(AGENDA), 0600, &cause);
	memset(&req, 0, sizeof req);
	req.list = "members";
	req.title = "Branch meeting";
	req.meeting = london("2027-07-04 19:00");
	req.venue = "Miners' Hall";
	req.agenda_file = agenda;
	req.notice_days = -1;
	req.reminder = -1;
	is_int(notice_add(db, &conf, &req, now, &id, &cause), NOTICE_TOO_SHORT,
	    "3 days' notice is refused");
	ok(cause != NULL && strstr(cause, "--force") != NULL &&
	    strstr(cause, "Sun 4 Jul 2027 19:00") != NULL &&
	    strstr(cause, "7 days") != NULL, "the error names the dates and "
	    "--force: %s", cause);
	free(cause);
	req.meeting = london("2027-07-15 19:00");
	req.meeting_end = london("2027-07-15 21:00");
	is_int(notice_add(db, &conf, &req, now, &id, &cause), NOTICE_OK,
	    "14 days' notice is accepted");
	n = item_runs(db, id, &runs);
	is_int(n, 2, "a notice run and a reminder run");
	is_str(run_purpose_name(runs[0].purpose), "notice", "notice first");
	is_int(runs[0].due_at, now, "the notice goes at once");
	is_str(run_purpose_name(runs[1].purpose), "reminder", "then the reminder");
	is_str(iso(runs[1].due_at), "2027-07-14T18:00:00Z", "the day before, "
	    "19:00 BST");
	ctx = run_ctx(db, runs[0].id);
	db_item_get(db, id, &it);
	db_event_get(db, it.event_id, &ev);
	snprintf(uid, sizeof uid, "UID:%s@example.org", ev.uid);
	ok(ics_has(ctx, "METHOD:REQUEST") != NULL, "invite: METHOD:REQUEST");
	ok(ics_has(ctx, uid) != NULL, "invite: UID from the event on our "
	    "domain");
	ok(ics_has(ctx, "SEQUENCE:0") != NULL, "invite: SEQUENCE:0");
	ok(ics_has(ctx, "DTSTART:20270715T180000Z") != NULL, "invite: the "
	    "meeting time in UTC");
	is_str(json_string_value(json_object_get(json_object_get(ctx,
	    "meeting"), "when")), "Thursday 15 July 2027, 19:00\u2013"
	    "21:00",
	    "meeting.when in local words");
	ok(strstr(json_string_value(json_object_get(json_object_get(ctx,
	    "meeting"), "agenda_html")), "<em>Pay claim</em>") != NULL,
	    "the agenda rendered from Markdown");
	is_str(json_string_value(json_object_get(json_object_get(ctx, "run"),
	    "template")), "notice", "the notice run uses the notice template");
	json_decref(ctx);
	ctx = run_ctx(db, runs[1].id);
	is_str(json_string_value(json_object_get(json_object_get(ctx, "run"),
	    "template")), "reminder", "the reminder run names the reminder "
	    "template");
	ok(json_is_true(json_object_get(json_object_get(ctx, "run"),
	    "is_reminder")), "run.is_reminder");
	json_decref(ctx);
	db_begin(db);
	db_run_set_state(db, runs[0].id, RUN_DONE, NULL, now);
	db_commit(db);
	runs_free(runs, n);

	is_int(notice_move(db, &conf, id, london("2027-07-22 19:00"), 0, 0,
	    now + 60, &cause), NOTICE_OK, "the meeting moves a week");
	n = item_runs(db, id, &runs);
	is_int(n, 4, "notice, old reminder, update, new reminder");
	is_str(run_purpose_name(runs[1].purpose), "update", "an update run");
	is_str(run_state_name(runs[1].state), "planned", "planned at once");
	is_str(run_state_name(runs[2].state), "cancelled", "the old reminder is cancelled");
	is_str(run_purpose_name(runs[3].purpose), "reminder", "a new reminder");
	is_str(iso(runs[3].due_at), "2027-07-21T18:00:00Z", "a day before the "
	    "new time");
	ctx = run_ctx(db, runs[1].id);
	ok(ics_has(ctx, uid) != NULL, "update: the same UID");
	ok(ics_has(ctx, "SEQUENCE:1") != NULL, "update: SEQUENCE:1");
	ok(ics_has(ctx, "DTSTART:20270722T180000Z") != NULL, "update: the "
	    "new time");
	json_decref(ctx);
	runs_free(runs, n);

	is_int(notice_cancel(db, &conf, id, now + 120, &cause), 0,
	    "the meeting is cancelled");
	n = item_runs(db, id, &runs);
	is_int(n, 5, "a cancel run is added");
	is_str(run_state_name(runs[1].state), "cancelled", "the pending update is cancelled");
	is_str(run_purpose_name(runs[2].purpose), "cancel", "a cancel run");
	is_str(run_state_name(runs[4].state), "cancelled", "the pending reminder is "
	    "cancelled");
	ctx = run_ctx(db, runs[2].id);
	ok(ics_has(ctx, "METHOD:CANCEL") != NULL, "cancel: METHOD:CANCEL");
	ok(ics_has(ctx, "STATUS:CANCELLED") != NULL, "cancel: STATUS:"
	    "CANCELLED");
	ok(ics_has(ctx, uid) != NULL, "cancel: the same UID");
	ok(ics_has(ctx, "SEQUENCE:2") != NULL, "cancel: SEQUENCE:2");
	json_decref(ctx);
	runs_free(runs, n);
	item_clear(&it);
	event_clear(&ev);

	/* A notice nobody sent before the meeting began is never sent. */
	req.title = "Short meeting";
	req.meeting = london("2027-08-02 19:00");
	req.meeting_end = 0;
	req.force = 1;
	notice_add(db, &conf, &req, london("2027-08-02 17:00"), &id, &cause);
	plan_at(db, london("2027-08-02 19:30"));
	n = item_runs(db, id, &runs);
	is_int(n, 1, "a short-notice meeting: no reminder after the notice");
	is_str(run_state_name(runs[0].state), "skipped", "the notice not sent before the "
	    "meeting is skipped");
	is_str(runs[0].reason, "the meeting has started", "with the reason");
	runs_free(runs, n);
	free(agenda);
}

static void
write_feed(const char *path, int second)
{
	FILE	*f = fopen(path, "w");

	fprintf(f, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n");
	fprintf(f, "BEGIN:VEVENT\r\nUID:keep@feed\r\nDTSTAMP:20270101T000000Z"
	    "\r\nDTSTART;TZID=Europe/London:20270810T070000\r\n"
	    "SUMMARY:Picket\r\nCATEGORIES:picket\r\nX-CLARION-UNION:RMT\r\n"
	    "END:VEVENT\r\n");
	fprintf(f, "BEGIN:VEVENT\r\nUID:change@feed\r\nDTSTAMP:20270101T0000"
	    "00Z\r\nDTSTART:%s\r\nSUMMARY:Strike day\r\nCATEGORIES:Strike\r\n"
	    "END:VEVENT\r\n", second ? "20270812T080000Z" : "20270811T080000Z");
	if (!second)
		fprintf(f, "BEGIN:VEVENT\r\nUID:gone@feed\r\nDTSTAMP:20270101T"
		    "000000Z\r\nDTSTART:20270813T080000Z\r\nSUMMARY:Rally\r\n"
		    "END:VEVENT\r\n");
	fprintf(f, "END:VCALENDAR\r\n");
	fclose(f);
}

static void
test_feed(struct db *db)
{
	struct event	 ev;
	char		*path, *url, *cause = NULL;
	int64_t		 feed = 0;
	int		 a = 0, u = 0, c = 0;

	xasprintf(&path, "%s/feed.ics", dir);
	xasprintf(&url, "file://%s", path);
	write_feed(path, 0);
	db_begin(db);
	db_feed_add(db, url, &feed, &cause);
	db_commit(db);
	ok(feed_refresh(db, &conf, feed, &a, &u, &c, &cause) == 0,
	    "feed fetched");
	ok(a == 3 && u == 0 && c == 0, "three events added (%d %d %d)", a, u,
	    c);
	db_event_by_uid(db, "keep@feed", &ev);
	is_str(ev.kind, "picket", "kind from CATEGORIES");
	is_str(ev.union_name, "RMT", "union from X-CLARION-UNION");
	is_str(iso(ev.starts_at), "2027-08-10T06:00:00Z", "TZID time to UTC");
	event_clear(&ev);
	ok(feed_refresh(db, &conf, feed, &a, &u, &c, &cause) == 0 &&
	    a + u + c == 0, "the same feed again changes nothing");
	write_feed(path, 1);
	ok(feed_refresh(db, &conf, feed, &a, &u, &c, &cause) == 0,
	    "changed feed fetched");
	ok(a == 0 && u == 1 && c == 1, "one updated, one cancelled (%d %d %d)",
	    a, u, c);
	db_event_by_uid(db, "change@feed", &ev);
	is_str(iso(ev.starts_at), "2027-08-12T08:00:00Z", "the changed event "
	    "has its new time");
	is_int(ev.sequence, 1, "and its sequence bumped");
	is_str(ev.kind, "strike", "CATEGORIES matched without case");
	event_clear(&ev);
	db_event_by_uid(db, "gone@feed", &ev);
	is_str(ev.status, "cancelled", "the vanished event is cancelled");
	event_clear(&ev);
	free(url);
	xasprintf(&url, "file://%s/missing.ics", dir);
	db_begin(db);
	db_feed_add(db, url, &feed, &cause);
	db_commit(db);
	ok(feed_refresh(db, &conf, feed, &a, &u, &c, &cause) == -1 &&
	    cause != NULL, "a missing feed is an error, not a wipe-out");
	free(cause);
	free(url);
	unlink(path);
	free(path);
}

static void
test_csv(struct db *db)
{
	const char	*csv = "kind,title,union,workplace,start,end,notes\n"
	    "strike,\"Nurses, all wards\",RCN,General Hospital,"
	    "2027-09-01 07:00,2027-09-01 19:00,\"Bring \"\"flasks\"\"\"\n"
	    "ballot,Ballot opens,GMB,Depot,2027-09-02,,\n";
	struct event_list l;
	char		*cause = NULL;
	int		 a, u;

	ok(event_csv_import(db, "Europe/London", csv, &a, &u, &cause) == 0 &&
	    a == 2 && u == 0, "CSV: two events imported");
	ok(event_csv_import(db, "Europe/London", csv, &a, &u, &cause) == 0 &&
	    a == 0 && u == 0, "CSV: importing again adds nothing");
	db_event_range(db, utc("2027-09-01 00:00"), utc("2027-09-03 00:00"),
	    "", "", 0, &l, &cause);
	is_int(l.n, 2, "both in range");
	if (l.n == 2) {
		is_str(l.v[0].title, "Nurses, all wards", "quoted comma");
		is_str(l.v[0].notes, "Bring \"flasks\"", "doubled quotes");
		is_str(l.v[0].employer, "General Hospital", "workplace column");
		ok(l.v[1].all_day, "a date alone is all day");
	}
	event_list_free(&l);
	ok(event_csv_import(db, "Europe/London", "kind,title,start\n"
	    "riot,Oops,2027-01-01\n", &a, &u, &cause) == -1 &&
	    strstr(cause, "line 2") != NULL, "CSV: a bad kind names the line");
	free(cause);
}

int
main(void)
{
	struct db	*db;
	char		*cause = NULL;
	int64_t		 list;
	int		 fd;

	setenv("CLARION_NOW", "1800000000", 1);
	log_init("test_schedule", 0, LOG_LEVEL_WARN);
	if ((fd = mkstemp(dbpath)) == -1 || mkdtemp(dir) == NULL)
		return 1;
	close(fd);
	conf.timezone = (char *)"Europe/London";
	conf.domain = (char *)"example.org";
	conf.missed_grace = 6 * 3600;
	conf.notice_days = 7;
	conf.reminder_before = 86400;
	if ((db = db_open(dbpath, 1, &cause)) == NULL) {
		printf("Bail out! %s\n", cause);
		return 1;
	}
	list = make_list(db, "members");
	ok(list > 0, "a list to send to");
	test_rrule_dst(db, list);
	test_bulletin(db, list);
	test_missed(db, list);
	test_expires(db, list);
	test_cancel_resend(db, list);
	test_notice(db);
	test_feed(db);
	test_csv(db);
	db_close(db);
	unlink(dbpath);
	xasprintf(&cause, "rm -rf '%s' '%s-wal' '%s-shm'", dir, dbpath, dbpath);
	if (system(cause) != 0)
		printf("# cleanup failed\n");
	free(cause);
	return tap_done();
}
