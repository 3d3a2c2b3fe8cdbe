/*
 * The shared data of one run, as templates see it (templates/README.md):
 * item, run, list, the bulletin's days and events, a meeting, the
 * newsletter's content, and the calendar invite of a meeting notice. The
 * composer freezes it into runs.context, so a resend shows what the first
 * send showed even if the Markdown file or the events changed since.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "clarion.h"

#define DATE_LONG	"%A %-d %B %Y"	/* Monday 30 November 2026 */
#define DATE_DAY	"%A %-d %B"	/* Monday 30 November */

struct rctx {
	struct db		*db;
	const struct config	*conf;
	struct run		 run;
	struct item		 item;
	struct list_info	 list;
	int			 has_list;
	time_t			 now;
};

static json_t *
str_json(const char *s)
{
	return json_string(s != NULL ? s : "");
}

static json_t *
local_json(const struct rctx *c, time_t t, const char *fmt)
{
	char	*s;
	json_t	*j;

	s = time_format_local(t, c->conf->timezone, fmt);
	j = json_string(s);
	free(s);
	return j;
}

static json_t *
iso_json(time_t t)
{
	char	*s = time_format_iso(t);
	json_t	*j = json_string(s);

	free(s);
	return j;
}

/* "19:00", "19:00–21:00", "All day", or an end on another day. */
static json_t *
event_time_json(const struct rctx *c, const struct event *ev)
{
	char	*a, *b, *da, *de, *s;
	json_t	*j;

	if (ev->all_day)
		return json_string("All day");
	a = time_format_local(ev->starts_at, c->conf->timezone, "%H:%M");
	if (ev->ends_at == 0) {
		j = json_string(a);
		free(a);
		return j;
	}
	da = time_format_local(ev->starts_at, c->conf->timezone, "%F");
	de = time_format_local(ev->ends_at, c->conf->timezone, "%F");
	b = time_format_local(ev->ends_at, c->conf->timezone,
	    strcmp(da, de) == 0 ? "%H:%M" : "%a %-d %b %H:%M");
	xasprintf(&s, "%s\u2013%s", a, b);
	j = json_string(s);
	free(s);
	free(a);
	free(b);
	free(da);
	free(de);
	return j;
}

static json_t *
event_json(const struct rctx *c, const struct event *ev)
{
	json_t	*o;

	o = json_object();
	json_object_set_new(o, "kind", str_json(ev->kind));
	json_object_set_new(o, "kind_label",
	    json_string(event_kind_label(ev->kind)));
	json_object_set_new(o, "title", str_json(ev->title));
	json_object_set_new(o, "union", str_json(ev->union_name));
	json_object_set_new(o, "employer", str_json(ev->employer));
	json_object_set_new(o, "location", str_json(ev->location));
	json_object_set_new(o, "link", str_json(ev->link));
	json_object_set_new(o, "time", event_time_json(c, ev));
	json_object_set_new(o, "notes", str_json(ev->notes));
	json_object_set_new(o, "date", local_json(c, ev->starts_at, DATE_DAY));
	json_object_set_new(o, "starts", iso_json(ev->starts_at));
	return o;
}

/* Events grouped by local date, each day's in start order. */
static json_t *
days_json(const struct rctx *c, const struct event_list *l)
{
	json_t	*days, *day = NULL, *evs = NULL;
	char	*key, *last = NULL;
	size_t	 i;

	days = json_array();
	for (i = 0; i < l->n; i++) {
		key = time_format_local(l->v[i].starts_at, c->conf->timezone,
		    "%F");
		if (last == NULL || strcmp(key, last) != 0) {
			day = json_object();
			evs = json_array();
			json_object_set_new(day, "date", local_json(c,
			    l->v[i].starts_at, DATE_DAY));
			json_object_set_new(day, "iso_date", json_string(key));
			json_object_set_new(day, "events", evs);
			json_array_append_new(days, day);
			free(last);
			last = key;
		} else
			free(key);
		json_array_append_new(evs, event_json(c, &l->v[i]));
	}
	free(last);
	return days;
}

static int
add_bulletin(const struct rctx *c, json_t *ctx, int *empty, char **cause)
{
	struct event_list l;
	time_t		 from, to;

	from = c->run.due_at > c->now ? c->run.due_at : c->now;
	to = c->run.due_at + (time_t)c->item.days_ahead * 86400;
	if (schedule_events(c->db, &c->item, from, to, &l, cause) == -1)
		return -1;
	*empty = l.n == 0;
	json_object_set_new(ctx, "days", days_json(c, &l));
	json_object_set_new(ctx, "event_count", json_integer((json_int_t)l.n));
	json_object_set_new(ctx, "has_events", json_boolean(l.n > 0));
	json_object_set_new(ctx, "until", local_json(c, to - 1, DATE_DAY));
	event_list_free(&l);
	return 0;
}

/* Markdown read now and frozen: later edits do not change this run. */
static int
markdown_load(const char *path, char **html, char **text, char **cause)
{
	struct buf	 h, t;
	char		*md;

	if ((md = file_read(path, NULL, cause)) == NULL)
		return -1;
	buf_init(&h);
	buf_init(&t);
	if (md_to_html(md, &h) == -1 || md_to_text(md, &t) == -1) {
		xasprintf(cause, "%s: cannot render the Markdown", path);
		free(md);
		buf_free(&h);
		buf_free(&t);
		return -1;
	}
	free(md);
	*html = buf_steal(&h);
	*text = buf_steal(&t);
	return 0;
}

/*
 * The inbox snippet: the content's first line of text (not its heading's
 * underline), cut at a word before 140 characters. Without it clients
 * show the list name, the date and "Dear Alice".
 */
static char *
preheader(const char *text)
{
	const char	*p = text, *nl;
	size_t		 len, cut;

	for (; *p != '\0'; p = *nl == '\0' ? nl : nl + 1) {
		nl = p + strcspn(p, "\n");
		len = (size_t)(nl - p);
		if (len == 0 || strspn(p, "=-") == len)
			continue;
		if (len > 140) {
			for (cut = 140; cut > 0 && p[cut] != ' '; cut--)
				;
			len = cut > 0 ? cut : 140;
			while (len > 0 && ((unsigned char)p[len] & 0xc0) == 0x80)
				len--;
		}
		return xstrndup(p, len);
	}
	return NULL;
}

static int
add_content(const struct rctx *c, json_t *ctx, char **cause)
{
	char	*html, *text, *pre;

	if (c->item.content_file == NULL || strcmp(c->item.kind, "notice") == 0)
		return 0;
	if (markdown_load(c->item.content_file, &html, &text, cause) == -1)
		return -1;
	json_object_set_new(ctx, "content_html", json_string(html));
	json_object_set_new(ctx, "content_text", json_string(text));
	if ((pre = preheader(text)) != NULL)
		json_object_set_new(ctx, "preheader", json_string(pre));
	free(pre);
	free(html);
	free(text);
	return 0;
}

/* The invite's UID: stable for the meeting, on our domain. */
static char *
invite_uid(const struct rctx *c, const struct event *ev)
{
	char	*uid;

	if (strchr(ev->uid, '@') != NULL)
		return xstrdup(ev->uid);
	xasprintf(&uid, "%s@%s", ev->uid, c->conf->domain);
	return uid;
}

/*
 * The agenda as DESCRIPTION text: the text form without the underlines
 * of its headings ("Agenda" then "======"), which calendars show as they
 * are.
 */
static char *
agenda_plain(const char *text)
{
	struct buf	 b;
	const char	*p = text, *nl;
	size_t		 len;

	buf_init(&b);
	buf_adds(&b, "");
	for (; *p != '\0'; p = *nl == '\0' ? nl : nl + 1) {
		nl = p + strcspn(p, "\n");
		len = (size_t)(nl - p);
		if (len >= 3 && p >= text + 2 && p[-2] != '\n' &&
		    (strspn(p, "=") == len || strspn(p, "-") == len))
			continue;
		buf_add(&b, p, len);
		if (*nl == '\n')
			buf_addc(&b, '\n');
	}
	return buf_steal(&b);
}

static void
add_invite(const struct rctx *c, json_t *ctx, const struct event *meeting,
    const char *agenda_text)
{
	struct event	 e = *meeting, *ev = &e;
	const char	*method;
	char		*uid, *ics, *desc;
	int		 seq, cancel;

	/* Without an end calendars show a zero-length meeting. */
	if (ev->ends_at == 0)
		ev->ends_at = ev->starts_at + c->conf->meeting_length;
	cancel = c->run.purpose == PURPOSE_CANCEL ||
	    event_status_parse(ev->status) == EVENT_CANCELLED;
	method = cancel ? "CANCEL" : "REQUEST";
	seq = c->run.sequence > ev->sequence ? c->run.sequence : ev->sequence;
	uid = invite_uid(c, ev);
	desc = agenda_text != NULL ? agenda_plain(agenda_text) : NULL;
	ics = ical_invite(ev, uid, method, seq, c->has_list ?
	    c->list.from_addr : NULL, c->has_list ? c->list.display_name :
	    NULL, desc, c->now);
	free(desc);
	json_object_set_new(ctx, "ics", json_string(ics));
	json_object_set_new(ctx, "ics_method", json_string(method));
	json_object_set_new(ctx, "ics_uid", json_string(uid));
	json_object_set_new(ctx, "ics_sequence", json_integer(seq));
	free(uid);
	free(ics);
}

/* "Thursday 10 December 2026, 19:00–21:00" (or no end, or another day). */
static char *
meeting_when(const struct rctx *c, const struct event *ev)
{
	const char	*tz = c->conf->timezone;
	char		*d, *a, *b, *ds, *de, *s;

	d = time_format_local(ev->starts_at, tz, DATE_LONG);
	a = time_format_local(ev->starts_at, tz, "%H:%M");
	if (ev->ends_at == 0) {
		xasprintf(&s, "%s, %s", d, a);
		free(d);
		free(a);
		return s;
	}
	ds = time_format_local(ev->starts_at, tz, "%F");
	de = time_format_local(ev->ends_at, tz, "%F");
	b = time_format_local(ev->ends_at, tz, strcmp(ds, de) == 0 ?
	    "%H:%M" : DATE_LONG ", %H:%M");
	xasprintf(&s, "%s, %s\u2013%s", d, a, b);
	free(d);
	free(a);
	free(b);
	free(ds);
	free(de);
	return s;
}

static json_t *
meeting_json(const struct rctx *c, const struct event *ev,
    const char *html, const char *text)
{
	json_t	*m;
	char	*when, *t;

	when = meeting_when(c, ev);
	m = json_object();
	json_object_set_new(m, "title", str_json(ev->title));
	json_object_set_new(m, "when", json_string(when));
	json_object_set_new(m, "date", local_json(c, ev->starts_at, DATE_DAY));
	t = time_format_local(ev->starts_at, c->conf->timezone, "%H:%M");
	json_object_set_new(m, "time", json_string(t));
	json_object_set_new(m, "starts", iso_json(ev->starts_at));
	if (ev->ends_at != 0)
		json_object_set_new(m, "ends", iso_json(ev->ends_at));
	json_object_set_new(m, "venue", str_json(ev->location));
	json_object_set_new(m, "agenda_html", str_json(html));
	json_object_set_new(m, "agenda_text", str_json(text));
	json_object_set_new(m, "notice_days", json_integer(
	    c->item.notice_days));
	json_object_set_new(m, "cancelled", json_boolean(
	    event_status_parse(ev->status) == EVENT_CANCELLED));
	json_object_set_new(m, "sequence", json_integer(ev->sequence));
	free(when);
	free(t);
	return m;
}

static int
add_meeting(const struct rctx *c, json_t *ctx, char **cause)
{
	struct event	 ev;
	char		*html = NULL, *text = NULL;
	long		 counts[3];
	json_t		*m;

	if (db_event_get(c->db, c->item.event_id, &ev) == -1) {
		xasprintf(cause, "item %s: its meeting (event %lld) is gone",
		    c->item.name, (long long)c->item.event_id);
		return -1;
	}
	if (c->item.content_file != NULL && markdown_load(
	    c->item.content_file, &html, &text, cause) == -1) {
		event_clear(&ev);
		return -1;
	}
	m = meeting_json(c, &ev, html, text);
	/* The answers so far, for a reminder: "12 are coming". */
	if (db_rsvp_counts(c->db, ev.id, counts) == 0) {
		json_object_set_new(m, "coming", json_integer(counts[0]));
		json_object_set_new(m, "tentative", json_integer(counts[1]));
		json_object_set_new(m, "declined", json_integer(counts[2]));
	}
	json_object_set_new(ctx, "meeting", m);
	add_invite(c, ctx, &ev, text);
	free(html);
	free(text);
	event_clear(&ev);
	return 0;
}

static json_t *
run_json(const struct rctx *c)
{
	json_t	*o;
	char	*key;
	int	 i;

	o = json_object();
	json_object_set_new(o, "id", json_integer(c->run.id));
	json_object_set_new(o, "date", local_json(c, c->run.due_at,
	    DATE_LONG));
	json_object_set_new(o, "due", local_json(c, c->run.due_at,
	    "%Y-%m-%d %H:%M"));
	json_object_set_new(o, "due_iso", iso_json(c->run.due_at));
	json_object_set_new(o, "purpose", str_json(run_purpose_name(
	    c->run.purpose)));
	/* The template for this run: a notice's reminder has its own. */
	json_object_set_new(o, "template", json_string(
	    c->run.purpose == PURPOSE_REMINDER &&
	    strcmp(c->item.template, "notice") == 0 ? "reminder" :
	    c->item.template));
	/* Booleans, since Mustache cannot compare strings. */
	for (i = PURPOSE_ISSUE; i <= PURPOSE_TEST; i++) {
		xasprintf(&key, "is_%s", run_purpose_name(i));
		json_object_set_new(o, key, json_boolean(
		    (int)c->run.purpose == i));
		free(key);
	}
	return o;
}

static json_t *
item_json(const struct rctx *c)
{
	return json_pack("{s:I, s:s, s:s, s:s, s:s}", "id",
	    (json_int_t)c->item.id, "name", c->item.name, "subject",
	    c->item.subject, "kind", c->item.kind, "template",
	    c->item.template);
}

static json_t *
list_json(const struct rctx *c)
{
	if (!c->has_list)
		return json_object();
	return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s}", "id",
	    (json_int_t)c->list.id, "name", c->list.name, "display_name",
	    c->list.display_name ? c->list.display_name : "", "from_addr",
	    c->list.from_addr ? c->list.from_addr : "", "from",
	    c->list.from_addr ? c->list.from_addr : "", "owner",
	    c->list.owner_addr ? c->list.owner_addr : "", "footer",
	    c->list.footer ? c->list.footer : "");
}

static int
rctx_load(struct rctx *c, int64_t run_id, char **cause)
{
	if (db_run_get(c->db, run_id, &c->run) == -1) {
		xasprintf(cause, "no run %lld", (long long)run_id);
		return -1;
	}
	if (db_item_get(c->db, c->run.item_id, &c->item) == -1) {
		xasprintf(cause, "run %lld: no item %lld", (long long)run_id,
		    (long long)c->run.item_id);
		return -1;
	}
	c->has_list = db_list_get(c->db, c->item.list_id, &c->list) == 0;
	return 0;
}

static void
rctx_free(struct rctx *c)
{
	run_clear(&c->run);
	item_clear(&c->item);
	if (c->has_list)
		list_info_free(&c->list);
}

int
run_context_build(struct db *db, const struct config *conf, int64_t run_id,
    json_t **out, int *empty, char **cause)
{
	struct rctx	 c;
	json_t		*ctx;
	char		*nonce;
	int		 rc = 0;

	memset(&c, 0, sizeof c);
	c.db = db;
	c.conf = conf;
	c.now = clock_now();
	*out = NULL;
	*empty = 0;
	if (rctx_load(&c, run_id, cause) == -1) {
		rctx_free(&c);
		return -1;
	}
	ctx = json_object();
	/* Frozen with the run: its resends keep their Message-ID and tokens. */
	if ((nonce = db_nonce(db)) != NULL)
		json_object_set_new(ctx, "nonce", json_string(nonce));
	free(nonce);
	json_object_set_new(ctx, "item", item_json(&c));
	json_object_set_new(ctx, "run", run_json(&c));
	json_object_set_new(ctx, "list", list_json(&c));
	if (strcmp(c.item.kind, "bulletin") == 0)
		rc = add_bulletin(&c, ctx, empty, cause);
	if (rc == 0 && c.item.event_id != 0)
		rc = add_meeting(&c, ctx, cause);
	if (rc == 0)
		rc = add_content(&c, ctx, cause);
	rctx_free(&c);
	if (rc == -1) {
		json_decref(ctx);
		return -1;
	}
	*out = ctx;
	return 0;
}
