/*
 * clarion notice: meeting notices. Entered once; members get the notice
 * (with a calendar invite), a reminder before the meeting, an update if
 * it moves and a cancellation if it is called off.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"

static const char notice_text[] =
    "add makes a meeting event and a notice item for LIST: the notice goes\n"
    "at once (or --send-at: at the notice deadline, the meeting less the\n"
    "notice period, or at a time), and a reminder --reminder before the\n"
    "meeting (schedule.reminder_before, 1d by default). Each carries a\n"
    "calendar invite. A notice giving less than the notice period (the\n"
    "larger of --notice-days and schedule.notice_days) is refused with\n"
    "exit 65 unless --force.\n"
    "move sends an update (same invite UID, SEQUENCE + 1) to those who had\n"
    "the notice, and plans the reminder again; cancel sends a cancellation\n"
    "(METHOD:CANCEL) and drops the pending reminder. NOTICE is the item\n"
    "name (notice-N) or number that add printed.\n";

struct notice_opts {
	const char	*list, *title, *meeting, *end, *venue, *agenda;
	const char	*notice_days, *reminder, *send_at, *segment;
	const char	*template, *subject;
	int		 force;
};

static const struct cli_option notice_options[] = {
	{ "list", 'l', CLI_STR, offsetof(struct notice_opts, list), 0 },
	{ "title", 't', CLI_STR, offsetof(struct notice_opts, title), 0 },
	{ "meeting", 'm', CLI_STR, offsetof(struct notice_opts, meeting), 0 },
	{ "end", 'e', CLI_STR, offsetof(struct notice_opts, end), 0 },
	{ "venue", 'v', CLI_STR, offsetof(struct notice_opts, venue), 0 },
	{ "agenda", 'a', CLI_STR, offsetof(struct notice_opts, agenda), 0 },
	{ "notice-days", 'n', CLI_STR, offsetof(struct notice_opts, notice_days), 0 },
	{ "reminder", 'r', CLI_STR, offsetof(struct notice_opts, reminder), 0 },
	{ "send-at", 's', CLI_STR, offsetof(struct notice_opts, send_at), 0 },
	{ "segment", 'g', CLI_STR, offsetof(struct notice_opts, segment), 0 },
	{ "template", 'T', CLI_STR, offsetof(struct notice_opts, template), 0 },
	{ "subject", 'S', CLI_STR, offsetof(struct notice_opts, subject), 0 },
	{ "force", 'f', CLI_FLAG, offsetof(struct notice_opts, force), 1 },
	{ NULL, 0, 0, 0, 0 },
};

static int
days_arg(const char *s, int *out)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || *end != '\0' || errno != 0 || v < 0 || v > 365) {
		cli_error(EX_DATAERR, "--notice-days: '%s' is not a number of "
		    "days (0 to 365)", s);
		return -1;
	}
	*out = (int)v;
	return 0;
}

static int
reminder_arg(const char *s, long *out)
{
	char	*cause;

	if (strcmp(s, "none") == 0) {
		*out = 0;
		return 0;
	}
	if (duration_parse(s, out, &cause) == -1) {
		cli_error(EX_DATAERR, "--reminder: %s", cause);
		free(cause);
		return -1;
	}
	return 0;
}

/* --send-at: now (0), deadline (meeting less the period), or a time. */
static int
send_at_arg(struct cli *cli, const char *s, const struct notice_req *req,
    time_t *out)
{
	int	 days;

	*out = 0;
	if (s == NULL || strcmp(s, "now") == 0)
		return 0;
	if (strcmp(s, "deadline") == 0) {
		days = req->notice_days > cli_config(cli)->notice_days ?
		    req->notice_days : cli_config(cli)->notice_days;
		*out = req->meeting - (time_t)days * 86400;
		return 0;
	}
	return cli_when(cli, s, out);
}

static int
agenda_arg(const char *path, char *real)
{
	if (realpath(path, real) == NULL || access(real, R_OK) == -1) {
		cli_error(EX_NOINPUT, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int
req_fill(struct cli *cli, const struct notice_opts *o, struct notice_req *r,
    char *agenda)
{
	memset(r, 0, sizeof *r);
	r->list = o->list;
	r->title = o->title;
	r->venue = o->venue;
	r->segment = o->segment;
	r->template = o->template;
	r->subject = o->subject;
	r->force = o->force;
	r->notice_days = -1;
	r->reminder = -1;
	if (cli_when(cli, o->meeting, &r->meeting) == -1 ||
	    (o->end != NULL && cli_when(cli, o->end, &r->meeting_end) == -1) ||
	    (o->notice_days != NULL && days_arg(o->notice_days,
	    &r->notice_days) == -1) || (o->reminder != NULL &&
	    reminder_arg(o->reminder, &r->reminder) == -1) ||
	    (o->agenda != NULL && agenda_arg(o->agenda, agenda) == -1) ||
	    send_at_arg(cli, o->send_at, r, &r->send_at) == -1)
		return -1;
	if (o->agenda != NULL)
		r->agenda_file = agenda;
	return 0;
}

static int
result_code(enum notice_result r, char *cause)
{
	int	 rc;

	/* Too little notice is bad input too: EX_DATAERR either way. */
	(void)r;
	rc = cli_error(EX_DATAERR, "%s", cause);
	free(cause);
	return rc;
}

static int
notice_do_add(struct cli *cli, void *vo, int argc, char **argv)
{
	const struct notice_opts *o = vo;
	struct notice_req req;
	enum notice_result r;
	struct item	 it;
	char		 agenda[PATH_MAX], *cause = NULL, *when;
	int64_t		 id;

	if (o->list == NULL || o->title == NULL || o->meeting == NULL)
		return cli_misuse(cli, "add needs --list, --title and "
		    "--meeting");
	if (req_fill(cli, o, &req, agenda) == -1)
		return EX_DATAERR;
	r = notice_add(cli_db(cli), cli_config(cli), &req, clock_now(), &id,
	    &cause);
	if (r != NOTICE_OK)
		return result_code(r, cause);
	when = cli_local(cli, req.meeting);
	item_init(&it);
	db_item_get(cli_db(cli), id, &it);
	printf("notice %lld (%s): %s, %s\n", (long long)id,
	    it.name != NULL ? it.name : "", req.title, when);
	item_clear(&it);
	free(when);
	return EX_OK;
}

static int
notice_id(struct cli *cli, const char *key, int64_t *id)
{
	struct item	 it;

	item_init(&it);
	if (db_item_find(cli_db(cli), key, &it, NULL) == -1 ||
	    strcmp(it.kind, "notice") != 0) {
		item_clear(&it);
		cli_error(EX_DATAERR, "no meeting notice '%s' (see clarion "
		    "notice list)", key);
		return -1;
	}
	*id = it.id;
	item_clear(&it);
	return 0;
}

static int
notice_do_move(struct cli *cli, void *vo, int argc, char **argv)
{
	const char *key = argv[0];
	const struct notice_opts *o = vo;
	enum notice_result r;
	time_t		 at, end = 0;
	char		*cause = NULL, *when;
	int64_t		 id;

	if (o->meeting == NULL)
		return cli_misuse(cli, "move needs --meeting");
	if (notice_id(cli, key, &id) == -1)
		return EX_DATAERR;
	if (cli_when(cli, o->meeting, &at) == -1 || (o->end != NULL &&
	    cli_when(cli, o->end, &end) == -1))
		return EX_DATAERR;
	r = notice_move(cli_db(cli), cli_config(cli), id, at, end, o->force,
	    clock_now(), &cause);
	if (r != NOTICE_OK)
		return result_code(r, cause);
	when = cli_local(cli, at);
	printf("notice %lld: the meeting moved to %s\n", (long long)id, when);
	free(when);
	return EX_OK;
}

static int
notice_do_cancel(struct cli *cli, void *vo, int argc, char **argv)
{
	const char *key = argv[0];
	char	*cause = NULL;
	int64_t	 id;
	int	 rc;

	if (notice_id(cli, key, &id) == -1)
		return EX_DATAERR;
	if (notice_cancel(cli_db(cli), cli_config(cli), id, clock_now(),
	    &cause) == -1) {
		rc = cli_error(EX_DATAERR, "%s", cause);
		free(cause);
		return rc;
	}
	printf("notice %lld: the meeting is cancelled\n", (long long)id);
	return EX_OK;
}

static json_t *
notice_json(struct cli *cli, const struct item *it, const struct event *ev)
{
	char	*when = cli_local(cli, ev->starts_at);
	json_t	*o;

	o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:b}", "id",
	    (json_int_t)it->id, "name", it->name, "meeting", when, "status",
	    it->status, "title", ev->title, "cancelled",
	    event_status_parse(ev->status) == EVENT_CANCELLED);
	free(when);
	return o;
}

static int
notice_list(struct cli *cli, void *vo, int argc, char **argv)
{
	char		*cause = NULL;
	struct item	*items;
	struct event	 ev;
	size_t		 i, n;
	char		*when;
	json_t		*a = json_array();

	if (db_item_list(cli_db(cli), 0, &items, &n, &cause) == -1) {
		json_decref(a);
		return cli_fail(EX_SOFTWARE, &cause);
	}
	for (i = 0; i < n; i++) {
		if (strcmp(items[i].kind, "notice") == 0 &&
		    db_event_get(cli_db(cli), items[i].event_id, &ev) == 0) {
			when = cli_local(cli, ev.starts_at);
			if (cli->json)
				json_array_append_new(a, notice_json(cli,
				    &items[i], &ev));
			else
				printf("%-4lld %-16s %-10s %s%s\n",
				    (long long)items[i].id, when,
				    items[i].status, ev.title,
				    event_status_parse(ev.status) ==
				    EVENT_CANCELLED ? " (cancelled)" : "");
			free(when);
			event_clear(&ev);
		}
		item_clear(&items[i]);
	}
	free(items);
	if (cli->json)
		cli_json_print(a);
	json_decref(a);
	return EX_OK;
}

static void
rsvp_rows_free(struct rsvp_row *v, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		free(v[i].address);
		free(v[i].name);
		free(v[i].answer);
	}
	free(v);
}

/* The members the invite went to, by their answer (RSVP). */
static int
notice_show(struct cli *cli, void *vo, int argc, char **argv)
{
	char		*cause = NULL;
	struct item	 it;
	struct rsvp_row	*v;
	size_t		 i, n, k;
	const char	*ans[] = { "accepted", "tentative", "declined", "" };
	int64_t		 id;
	json_t		*o, *a;

	if (notice_id(cli, argv[0], &id) == -1)
		return EX_DATAERR;
	item_init(&it);
	if (db_item_find(cli_db(cli), argv[0], &it, &cause) == -1 ||
	    db_rsvp_list(cli_db(cli), it.event_id, &v, &n, &cause) == -1) {
		item_clear(&it);
		return cli_fail(EX_SOFTWARE, &cause);
	}
	o = json_pack("{s:I, s:s}", "id", (json_int_t)it.id, "name", it.name);
	if (!cli->json)
		printf("notice %lld (%s): answers to the invite\n",
		    (long long)it.id, it.name);
	for (k = 0; k < nitems(ans); k++) {
		a = json_array();
		for (i = 0; i < n; i++) {
			if (strcmp(v[i].answer, ans[k]) != 0)
				continue;
			json_array_append_new(a, json_pack("{s:s, s:s}",
			    "address", v[i].address, "name", v[i].name));
		}
		if (!cli->json) {
			printf("%s (%zu):\n", *ans[k] != '\0' ? ans[k] :
			    "no answer", json_array_size(a));
			for (i = 0; i < json_array_size(a); i++)
				printf("  %s\n", json_string_value(
				    json_object_get(json_array_get(a, i),
				    "address")));
		}
		json_object_set_new(o, *ans[k] != '\0' ? ans[k] : "no_answer",
		    a);
	}
	if (cli->json)
		cli_json_print(o);
	json_decref(o);
	rsvp_rows_free(v, n);
	item_clear(&it);
	return EX_OK;
}

static const struct cli_sub notice_subs[] = {
	{ "add", NULL, "ltmevanrsgTSf", 0, 0, 0, notice_do_add,
	    "notice add --list LIST --title TEXT --meeting \"DATE TIME\"\n"
	    "           [--end \"DATE TIME\"] [--venue TEXT] [--agenda FILE.md]\n"
	    "           [--notice-days N] [--reminder DURATION|none]\n"
	    "           [--send-at now|deadline|\"DATE TIME\"] [--segment EXPR]\n"
	    "           [--template NAME] [--subject TEXT] [--force]", NULL },
	{ "move", NULL, "mef", 0, 1, 1, notice_do_move,
	    "notice move NOTICE --meeting \"DATE TIME\" [--end \"DATE TIME\"] "
	    "[--force]", NULL },
	{ "cancel", NULL, "", 0, 1, 1, notice_do_cancel,
	    "notice cancel NOTICE", NULL },
	{ "list", "ls", "", 1, 0, 0, notice_list, "notice list [--json]",
	    NULL },
	{ "show", NULL, "", 1, 1, 1, notice_show, "notice show NOTICE [--json]",
	    NULL },
};

const struct cli_group cli_group_notice = {
	"notice", "meeting notices, moves and cancellations", notice_text,
	notice_options, NULL, sizeof(struct notice_opts), NULL, notice_subs,
	nitems(notice_subs)
};
