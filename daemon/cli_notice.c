/*
 * clarion notice: meeting notices. Entered once; members get the notice
 * (with a calendar invite), a reminder before the meeting, an update if
 * it moves and a cancellation if it is called off.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char notice_usage[] =
    "usage: clarion notice add --list LIST --title TEXT --meeting \"DATE "
    "TIME\"\n"
    "           [--end \"DATE TIME\"] [--venue TEXT] [--agenda FILE.md]\n"
    "           [--notice-days N] [--reminder DURATION|none]\n"
    "           [--send-at now|deadline|\"DATE TIME\"] [--segment EXPR]\n"
    "           [--template NAME] [--subject TEXT] [--force]\n"
    "       clarion notice move NOTICE --meeting \"DATE TIME\" [--end "
    "\"DATE TIME\"] [--force]\n"
    "       clarion notice cancel NOTICE\n"
    "       clarion notice list\n\n"
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

static int
notice_parse(int argc, char **argv, struct notice_opts *o)
{
	static const struct option opts[] = {
		{ "list", required_argument, NULL, 'l' },
		{ "title", required_argument, NULL, 't' },
		{ "meeting", required_argument, NULL, 'm' },
		{ "end", required_argument, NULL, 'e' },
		{ "venue", required_argument, NULL, 'v' },
		{ "agenda", required_argument, NULL, 'a' },
		{ "notice-days", required_argument, NULL, 'n' },
		{ "reminder", required_argument, NULL, 'r' },
		{ "send-at", required_argument, NULL, 's' },
		{ "segment", required_argument, NULL, 'g' },
		{ "template", required_argument, NULL, 'T' },
		{ "subject", required_argument, NULL, 'S' },
		{ "force", no_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int	 ch;

	memset(o, 0, sizeof *o);
	optind = 0;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'l': o->list = optarg; break;
		case 't': o->title = optarg; break;
		case 'm': o->meeting = optarg; break;
		case 'e': o->end = optarg; break;
		case 'v': o->venue = optarg; break;
		case 'a': o->agenda = optarg; break;
		case 'n': o->notice_days = optarg; break;
		case 'r': o->reminder = optarg; break;
		case 's': o->send_at = optarg; break;
		case 'g': o->segment = optarg; break;
		case 'T': o->template = optarg; break;
		case 'S': o->subject = optarg; break;
		case 'f': o->force = 1; break;
		case 'j': break;
		case 'h': return -2;
		default: return -1;
		}
	}
	return optind;
}

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
notice_do_add(struct cli *cli, const struct notice_opts *o)
{
	struct notice_req req;
	enum notice_result r;
	struct item	 it;
	char		 agenda[PATH_MAX], *cause = NULL, *when;
	int64_t		 id;

	if (o->list == NULL || o->title == NULL || o->meeting == NULL)
		return cli_usage(notice_usage, "add needs --list, --title and "
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
	if (db_item_find(cli_db(cli), key, &it) == -1 ||
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
notice_do_move(struct cli *cli, const char *key, const struct notice_opts *o)
{
	enum notice_result r;
	time_t		 at, end = 0;
	char		*cause = NULL, *when;
	int64_t		 id;

	if (o->meeting == NULL)
		return cli_usage(notice_usage, "move needs --meeting");
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
notice_do_cancel(struct cli *cli, const char *key)
{
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

static int
notice_list(struct cli *cli)
{
	char		*cause = NULL;
	struct item	*items;
	struct event	 ev;
	size_t		 i, n;
	char		*when;

	if (db_item_list(cli_db(cli), 0, &items, &n, &cause) == -1)
		return cli_fail(EX_SOFTWARE, &cause);
	for (i = 0; i < n; i++) {
		if (strcmp(items[i].kind, "notice") == 0 &&
		    db_event_get(cli_db(cli), items[i].event_id, &ev) == 0) {
			when = cli_local(cli, ev.starts_at);
			printf("%-4lld %-16s %-10s %s%s\n",
			    (long long)items[i].id, when, items[i].status,
			    ev.title, event_status_parse(ev.status) ==
			    EVENT_CANCELLED ? " (cancelled)" : "");
			free(when);
			event_clear(&ev);
		}
		item_clear(&items[i]);
	}
	free(items);
	return EX_OK;
}

int
cmd_notice(struct cli *cli, int argc, char **argv)
{
	struct notice_opts o;
	const char	*sub;
	int		 i, nargs;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)
		return cli_usage(notice_usage, argc < 2 ? "give a subcommand" :
		    NULL);
	sub = argv[1];
	if ((i = notice_parse(argc - 1, argv + 1, &o)) == -2)
		return cli_usage(notice_usage, NULL);
	if (i == -1)
		return cli_usage(notice_usage, "bad option");
	i++;
	nargs = argc - i;
	if (strcmp(sub, "add") == 0 && nargs == 0)
		return notice_do_add(cli, &o);
	if (strcmp(sub, "move") == 0 && nargs == 1)
		return notice_do_move(cli, argv[i], &o);
	if (strcmp(sub, "cancel") == 0 && nargs == 1)
		return notice_do_cancel(cli, argv[i]);
	if ((strcmp(sub, "list") == 0 || strcmp(sub, "ls") == 0) &&
	    nargs == 0)
		return notice_list(cli);
	return cli_unknown(notice_usage, "notice", sub);
}
