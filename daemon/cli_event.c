/*
 * clarion event: the strikes, ballots, pickets and meetings bulletins
 * list. Times are entered and shown in the configured zone (timezone,
 * Europe/London by default) and stored in UTC.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"

static const char event_text[] =
    "KIND is strike, ballot, picket, demo, meeting or other; KINDS a comma-\n"
    "separated list. Times are \"YYYY-MM-DD HH:MM\" in the configured zone;\n"
    "a date alone is an all-day event. --employer is also --workplace.\n"
    "list shows events not yet over (from now), or --from/--to; --all adds\n"
    "cancelled ones. edit and cancel bump the event's SEQUENCE. An event\n"
    "already over is refused (a wrong date, most likely) unless --force.\n"
    "import reads a CSV (columns kind, title, start and optionally union,\n"
    "employer or workplace, end, location, link, notes, uid), an iCalendar\n"
    "file, or an iCalendar URL (http://, https://, file://): a URL becomes a\n"
    "feed that clariond refreshes each tick; events that vanish from it are\n"
    "cancelled, changed ones updated. A recurring event (RRULE) becomes one\n"
    "event per occurrence for the coming 400 days, less its EXDATEs, with\n"
    "RECURRENCE-ID overrides in place. feeds lists the feeds; feed-remove\n"
    "stops one and cancels its events still to come (--keep-events keeps\n"
    "them as if entered by hand).\n";

struct event_opts {
	const char	*kind, *title, *start, *end, *union_name, *employer;
	const char	*location, *link, *notes, *from, *to;
	int		 all, keep_events, force;
};

/* Parses a local date and time in the configured zone; -1 printed. */
int
cli_when(struct cli *cli, const char *text, time_t *out)
{
	char	*cause;

	if (time_parse_local(text, cli_config(cli)->timezone, out,
	    &cause) == -1) {
		cli_error(EX_DATAERR, "%s", cause);
		free(cause);
		return -1;
	}
	return 0;
}

/* A UTC time shown in the configured zone; "-" for none. Caller frees. */
char *
cli_local(struct cli *cli, time_t t)
{
	if (t == 0)
		return xstrdup("-");
	return time_format_local(t, cli_config(cli)->timezone,
	    "%Y-%m-%d %H:%M");
}

static const struct cli_option event_options[] = {
	{ "kind", 'k', CLI_STR, offsetof(struct event_opts, kind), 0 },
	{ "title", 't', CLI_STR, offsetof(struct event_opts, title), 0 },
	{ "start", 's', CLI_STR, offsetof(struct event_opts, start), 0 },
	{ "end", 'e', CLI_STR, offsetof(struct event_opts, end), 0 },
	{ "union", 'u', CLI_STR, offsetof(struct event_opts, union_name), 0 },
	{ "employer", 'E', CLI_STR, offsetof(struct event_opts, employer), 0 },
	{ "workplace", 'E', CLI_STR, offsetof(struct event_opts, employer), 0 },
	{ "location", 'l', CLI_STR, offsetof(struct event_opts, location), 0 },
	{ "link", 'L', CLI_STR, offsetof(struct event_opts, link), 0 },
	{ "notes", 'n', CLI_STR, offsetof(struct event_opts, notes), 0 },
	{ "from", 'f', CLI_STR, offsetof(struct event_opts, from), 0 },
	{ "to", 'T', CLI_STR, offsetof(struct event_opts, to), 0 },
	{ "all", 'a', CLI_FLAG, offsetof(struct event_opts, all), 1 },
	{ "keep-events", 'K', CLI_FLAG, offsetof(struct event_opts, keep_events), 1 },
	{ "force", 'F', CLI_FLAG, offsetof(struct event_opts, force), 1 },
	{ NULL, 0, 0, 0, 0 },
};

/* Applies the options to ev; 0, or -1 with the error printed. */
/*
 * An event over before it is entered is almost always a wrong year or
 * month, and no bulletin would ever show it: refused unless --force.
 * Returns 1 (printed) if refused.
 */
static int
event_past(struct cli *cli, const struct event_opts *o,
    const struct event *ev)
{
	time_t	 now = clock_now(), over;
	char	*when;

	if (ev->ends_at != 0)
		over = ev->ends_at;
	else
		over = ev->starts_at + (ev->all_day ? 86400 : 0);
	if (over > now ||
	    event_status_parse(ev->status) == EVENT_CANCELLED)
		return 0;
	when = cli_local(cli, ev->all_day ? ev->starts_at : over);
	if (o->force) {
		fprintf(stderr, "clarion: warning: the event is in the past "
		    "(%s); no bulletin will list it\n", when);
		free(when);
		return 0;
	}
	cli_error(EX_DATAERR, "the event is in the past (%s): check the date "
	    "(--force adds it anyway)", when);
	free(when);
	return 1;
}

static int
event_apply(struct cli *cli, const struct event_opts *o, struct event *ev)
{
	char	*cause;

	cli_set_str(&ev->kind, o->kind);
	cli_set_str(&ev->title, o->title);
	cli_set_str(&ev->union_name, o->union_name);
	cli_set_str(&ev->employer, o->employer);
	cli_set_str(&ev->location, o->location);
	cli_set_str(&ev->link, o->link);
	cli_set_str(&ev->notes, o->notes);
	if (o->start != NULL) {
		if (cli_when(cli, o->start, &ev->starts_at) == -1)
			return -1;
		ev->all_day = strlen(o->start) == 10;
	}
	if (o->end != NULL && *o->end == '\0')
		ev->ends_at = 0;
	else if (o->end != NULL && cli_when(cli, o->end, &ev->ends_at) == -1)
		return -1;
	if (event_check(ev, &cause) == -1) {
		cli_error(EX_DATAERR, "%s", cause);
		free(cause);
		return -1;
	}
	if ((o->start != NULL || o->end != NULL) && event_past(cli, o, ev))
		return -1;
	return 0;
}

struct event_write_args {
	struct event	*ev;
	int		 insert;
	char		**cause;
};

static int
event_write_one(struct db *db, void *arg)
{
	struct event_write_args *a = arg;

	return a->insert ? db_event_insert(db, a->ev, clock_now(), a->cause) :
	    db_event_update(db, a->ev, clock_now(), a->cause);
}

static int
event_write(struct cli *cli, struct event *ev, int insert)
{
	struct event_write_args a;
	char		*cause = NULL;
	int		 rc;

	a.ev = ev;
	a.insert = insert;
	a.cause = &cause;
	if (db_atomic(cli_db(cli), event_write_one, &a, &cause) == -1) {
		rc = cli_error(EX_SOFTWARE, "%s", cause);
		free(cause);
		return rc;
	}
	return EX_OK;
}

static int
event_add(struct cli *cli, void *vo, int argc, char **argv)
{
	const struct event_opts *o = vo;
	struct event	 ev;
	char		*when;
	int		 rc;

	if (o->kind == NULL || o->title == NULL || o->start == NULL)
		return cli_misuse(cli, "add needs --kind, --title and "
		    "--start");
	event_init(&ev);
	ev.uid = event_uid_new();
	ev.status = xstrdup("confirmed");
	if (event_apply(cli, o, &ev) == -1) {
		event_clear(&ev);
		return EX_DATAERR;
	}
	if ((rc = event_write(cli, &ev, 1)) == EX_OK) {
		when = cli_local(cli, ev.starts_at);
		printf("event %lld: %s %s, %s\n", (long long)ev.id, ev.kind,
		    when, ev.title);
		free(when);
	}
	event_clear(&ev);
	return rc;
}

static int
event_lookup(struct cli *cli, const char *arg, struct event *ev)
{
	char		*end;
	long long	 id;

	id = strtoll(arg, &end, 10);
	if (end != arg && *end == '\0' && db_event_get(cli_db(cli), id,
	    ev) == 0)
		return 0;
	if (db_event_by_uid(cli_db(cli), arg, ev) == 0)
		return 0;
	cli_error(EX_DATAERR, "no event '%s' (see clarion event list)", arg);
	return -1;
}

static json_t *
event_json(struct cli *cli, const struct event *ev)
{
	char	*s = cli_local(cli, ev->starts_at), *e = cli_local(cli,
	    ev->ends_at);
	json_t	*o;

	o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, "
	    "s:s, s:b, s:s, s:i, s:I}", "id", (json_int_t)ev->id, "uid",
	    ev->uid, "kind", ev->kind, "title", ev->title, "union",
	    ev->union_name, "employer", ev->employer, "location",
	    ev->location, "link", ev->link, "notes", ev->notes, "start", s,
	    "end", ev->ends_at ? e : "", "all_day", ev->all_day, "status",
	    ev->status, "sequence", ev->sequence, "feed",
	    (json_int_t)ev->feed_id);
	free(s);
	free(e);
	return o;
}

static void
event_row(struct cli *cli, const struct event *ev)
{
	char	*when = ev->all_day ? time_format_local(ev->starts_at,
	    cli_config(cli)->timezone, "%Y-%m-%d") : cli_local(cli,
	    ev->starts_at);

	printf("%-5lld %-16s %-8s %-30s %-12s %s%s\n", (long long)ev->id,
	    when, ev->kind, ev->title, *ev->union_name ? ev->union_name : "-",
	    *ev->employer ? ev->employer : "-",
	    event_status_parse(ev->status) == EVENT_CANCELLED ?
	    " (cancelled)" : "");
	free(when);
}

static int
event_list(struct cli *cli, void *vo, int argc, char **argv)
{
	const struct event_opts *o = vo;
	struct event_list l;
	time_t		 from = clock_now(), to = (time_t)1 << 40;
	json_t		*a;
	char		*cause;
	size_t		 i;

	if ((o->from != NULL && cli_when(cli, o->from, &from) == -1) ||
	    (o->to != NULL && cli_when(cli, o->to, &to) == -1))
		return EX_DATAERR;
	if (db_event_range(cli_db(cli), from, to, o->kind ? o->kind : "",
	    o->union_name ? o->union_name : "", o->all, &l, &cause) == -1) {
		cli_error(EX_SOFTWARE, "%s", cause);
		free(cause);
		return EX_SOFTWARE;
	}
	if (cli->json) {
		a = json_array();
		for (i = 0; i < l.n; i++)
			json_array_append_new(a, event_json(cli, &l.v[i]));
		cli_json_print(a);
		json_decref(a);
	} else {
		if (l.n > 0)
			printf("%-5s %-16s %-8s %-30s %-12s %s\n", "ID", "START",
			    "KIND", "TITLE", "UNION", "EMPLOYER");
		for (i = 0; i < l.n; i++)
			event_row(cli, &l.v[i]);
	}
	event_list_free(&l);
	return EX_OK;
}

static int
event_show(struct cli *cli, void *vo, int argc, char **argv)
{
	const char *arg = argv[0];
	struct event	 ev;
	json_t		*o;

	if (event_lookup(cli, arg, &ev) == -1)
		return EX_DATAERR;
	o = event_json(cli, &ev);
	if (cli->json)
		cli_json_print(o);
	else
		cli_print_fields(o);
	json_decref(o);
	event_clear(&ev);
	return EX_OK;
}

static int
event_change(struct cli *cli, const char *arg, const struct event_opts *o,
    int cancel)
{
	struct event	 ev, old;
	int		 rc;

	if (event_lookup(cli, arg, &ev) == -1)
		return EX_DATAERR;
	event_lookup(cli, arg, &old);
	if (cancel)
		cli_set_str(&ev.status, "cancelled");
	if (event_apply(cli, o, &ev) == -1) {
		event_clear(&ev);
		event_clear(&old);
		return EX_DATAERR;
	}
	if (event_same(&ev, &old)) {
		printf("event %lld: nothing changed\n", (long long)ev.id);
		rc = EX_OK;
	} else {
		ev.sequence++;
		if ((rc = event_write(cli, &ev, 0)) == EX_OK)
			printf("event %lld: %s (sequence %d)\n",
			    (long long)ev.id, cancel ? "cancelled" : "updated",
			    ev.sequence);
		if (cancel && strcmp(ev.kind, "meeting") == 0)
			printf("if members had a notice for it, use clarion "
			    "notice cancel to tell them\n");
	}
	event_clear(&ev);
	event_clear(&old);
	return rc;
}

static int
import_url(struct cli *cli, const char *url)
{
	struct db	*db = cli_db(cli);
	char		*cause = NULL;
	int64_t		 id;
	int		 a, u, c, rc;

	if (str_has_ctl(url))
		return cli_error(EX_DATAERR, "a URL may not hold control "
		    "characters");
	if (feed_add(db, url, &id, &cause) == -1) {
		rc = cli_error(EX_SOFTWARE, "%s", cause);
		free(cause);
		return rc;
	}
	if (feed_refresh(db, cli_config(cli), id, &a, &u, &c, &cause) == -1) {
		rc = cli_error(EX_UNAVAILABLE, "feed %lld: %s (kept; clariond "
		    "will try again each tick)", (long long)id, cause);
		free(cause);
		return rc;
	}
	printf("feed %lld: %s: %d new, %d changed, %d cancelled\n",
	    (long long)id, url, a, u, c);
	return EX_OK;
}

static int
import_file(struct cli *cli, const char *path)
{
	struct event_list l;
	char		*data, *cause = NULL;
	const char	*dot = strrchr(path, '.');
	int		 a = 0, u = 0, rc, ics;

	if ((data = file_read(path, NULL, &cause)) == NULL) {
		rc = cli_error(EX_NOINPUT, "%s", cause);
		free(cause);
		return rc;
	}
	ics = (dot != NULL && (strcasecmp(dot, ".ics") == 0 ||
	    strcasecmp(dot, ".ical") == 0)) || strncmp(data,
	    "BEGIN:VCALENDAR", 15) == 0;
	if (ics) {
		rc = ical_parse_events(data, cli_config(cli)->timezone, &l,
		    &cause);
		if (rc == 0)
			rc = event_import_list(cli_db(cli), &l, &a, &u,
			    &cause);
		event_list_free(&l);
	} else
		rc = event_csv_import(cli_db(cli), cli_config(cli)->timezone,
		    data, &a, &u, &cause);
	free(data);
	if (rc == -1) {
		rc = cli_error(EX_DATAERR, "%s: %s", path, cause);
		free(cause);
		return rc;
	}
	printf("%s: %d new, %d changed\n", path, a, u);
	return EX_OK;
}

static int
event_import(struct cli *cli, void *vo, int argc, char **argv)
{
	const char *arg = argv[0];
	if (str_casecmp_prefix(arg, "http://") ||
	    str_casecmp_prefix(arg, "https://") ||
	    str_casecmp_prefix(arg, "file://"))
		return import_url(cli, arg);
	return import_file(cli, arg);
}

static int
event_feeds(struct cli *cli, void *vo, int argc, char **argv)
{
	char		*cause = NULL;
	struct feed	 f;
	int64_t		*ids;
	size_t		 i, n;
	json_t		*a;
	char		*when;

	if (db_feed_ids(cli_db(cli), &ids, &n, &cause) == -1)
		return cli_fail(EX_SOFTWARE, &cause);
	a = json_array();
	for (i = 0; i < n; i++) {
		if (db_feed_get(cli_db(cli), ids[i], &f) == -1)
			continue;
		when = cli_local(cli, f.last_fetch);
		if (cli->json)
			json_array_append_new(a, json_pack("{s:I, s:s, s:s, "
			    "s:s?}", "id", (json_int_t)f.id, "url", f.url,
			    "last_fetch", when, "last_error", f.last_error));
		else
			printf("%-4lld %s\n     last fetch %s%s%s\n",
			    (long long)f.id, f.url, when, f.last_error ?
			    ", error: " : "", f.last_error ? f.last_error : "");
		free(when);
		feed_clear(&f);
	}
	if (cli->json) {
		cli_json_print(a);
	}
	json_decref(a);
	free(ids);
	return EX_OK;
}

static int
event_feed_remove(struct cli *cli, void *vo, int argc, char **argv)
{
	const char *arg = argv[0];
	const struct event_opts *o = vo;
	struct db	*db = cli_db(cli);
	struct feed	 f;
	char		*end, *cause = NULL;
	long long	 id;
	long		 n;
	int		 rc;

	id = strtoll(arg, &end, 10);
	if (end == arg || *end != '\0' || db_feed_get(db, id, &f) == -1)
		return cli_error(EX_DATAERR, "no feed '%s' (see clarion event "
		    "feeds)", arg);
	if (feed_remove(db, id, o->keep_events, clock_now(), &n,
	    &cause) == -1) {
		feed_clear(&f);
		rc = cli_error(EX_SOFTWARE, "%s", cause);
		free(cause);
		return rc;
	}
	if (o->keep_events)
		printf("feed %lld removed: %s; its events are kept\n", id,
		    f.url);
	else
		printf("feed %lld removed: %s; %ld coming event%s cancelled\n",
		    id, f.url, n, n == 1 ? "" : "s");
	feed_clear(&f);
	return EX_OK;
}

static int
event_edit(struct cli *cli, void *vo, int argc, char **argv)
{
	return event_change(cli, argv[0], vo, 0);
}

static int
event_cancel(struct cli *cli, void *vo, int argc, char **argv)
{
	return event_change(cli, argv[0], vo, 1);
}

#define EVENT_ADD_OPTS	"ktseuElLnF"

static const struct cli_sub event_subs[] = {
	{ "add", NULL, EVENT_ADD_OPTS, 0, 0, 0, event_add,
	    "event add --kind KIND --title TEXT --start \"DATE TIME\"\n"
	    "           [--end \"DATE TIME\"] [--union NAME] [--employer NAME]\n"
	    "           [--location TEXT] [--link URL] [--notes TEXT] [--force]",
	    NULL },
	{ "list", NULL, "fTkua", 1, 0, 0, event_list,
	    "event list [--from DATE] [--to DATE] [--kind KINDS]\n"
	    "           [--union NAME] [--all] [--json]", NULL },
	{ "show", NULL, "", 1, 1, 1, event_show, "event show ID [--json]",
	    NULL },
	{ "edit", NULL, EVENT_ADD_OPTS, 0, 1, 1, event_edit,
	    "event edit ID [any option of add]", NULL },
	{ "cancel", NULL, "", 0, 1, 1, event_cancel, "event cancel ID", NULL },
	{ "import", NULL, "", 0, 1, 1, event_import,
	    "event import FILE.csv | FILE.ics | URL", NULL },
	{ "feeds", NULL, "", 1, 0, 0, event_feeds, "event feeds [--json]",
	    NULL },
	{ "feed-remove", NULL, "K", 0, 1, 1, event_feed_remove,
	    "event feed-remove FEED [--keep-events]", NULL },
};

const struct cli_group cli_group_event = {
	"event", "strikes, ballots, pickets, meetings; feeds", event_text,
	event_options, NULL, sizeof(struct event_opts), NULL, event_subs,
	nitems(event_subs)
};
