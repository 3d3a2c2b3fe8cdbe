/*
 * clarion item: what to send to a list, and when. An item is one-off
 * (--at) or recurring (--rrule, an RFC 5545 rule evaluated in the
 * configured zone); clariond turns each due occurrence into a run.
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

static const char item_text[] =
    "KIND is bulletin (lists events: --kinds strike,ballot,... of every kind\n"
    "by default, --days ahead of each issue, 7 by default, --union to keep\n"
    "one union's), newsletter or message (--content, a Markdown file read\n"
    "when each issue is composed). The template defaults to the kind; the\n"
    "subject is a Mustache template too. A bulletin with no events is\n"
    "skipped unless --send-empty. RULE is an RFC 5545 RRULE such as\n"
    "FREQ=WEEKLY;BYDAY=MO;BYHOUR=8;BYMINUTE=0, in local time from --start.\n"
    "No issue is due at or after --expires. ITEM is a name or a number.\n"
    "A segment naming an attribute no member of the list has is refused\n"
    "(a typo would match everyone or no one) unless --force; add and edit\n"
    "say how many members the item reaches.\n"
    "pause and cancel also cancel the item's runs not yet begun.\n";

struct item_opts {
	const char	*list, *segment, *kind, *template, *subject, *content;
	const char	*kinds, *days, *union_name, *at, *rrule, *start;
	const char	*expires, *priority;
	int		 skip_empty;	/* -1 unset */
	int		 all;
	int		 force;
	struct preview_opts preview;	/* item preview and item test */
};

static const struct cli_option item_options[] = {
	{ "list", 'l', CLI_STR, offsetof(struct item_opts, list), 0 },
	{ "segment", 'g', CLI_STR, offsetof(struct item_opts, segment), 0 },
	{ "kind", 'k', CLI_STR, offsetof(struct item_opts, kind), 0 },
	{ "template", 't', CLI_STR, offsetof(struct item_opts, template), 0 },
	{ "subject", 's', CLI_STR, offsetof(struct item_opts, subject), 0 },
	{ "content", 'c', CLI_STR, offsetof(struct item_opts, content), 0 },
	{ "kinds", 'K', CLI_STR, offsetof(struct item_opts, kinds), 0 },
	{ "days", 'd', CLI_STR, offsetof(struct item_opts, days), 0 },
	{ "union", 'u', CLI_STR, offsetof(struct item_opts, union_name), 0 },
	{ "at", 'a', CLI_STR, offsetof(struct item_opts, at), 0 },
	{ "rrule", 'r', CLI_STR, offsetof(struct item_opts, rrule), 0 },
	{ "start", 'S', CLI_STR, offsetof(struct item_opts, start), 0 },
	{ "expires", 'x', CLI_STR, offsetof(struct item_opts, expires), 0 },
	{ "priority", 'p', CLI_STR, offsetof(struct item_opts, priority), 0 },
	{ "skip-empty", 'E', CLI_FLAG, offsetof(struct item_opts, skip_empty), 1 },
	{ "send-empty", 'e', CLI_FLAG, offsetof(struct item_opts, skip_empty), 0 },
	{ "all", 'A', CLI_FLAG, offsetof(struct item_opts, all), 1 },
	{ "force", 'F', CLI_FLAG, offsetof(struct item_opts, force), 1 },
	{ "subscriber", 'b', CLI_STR, offsetof(struct item_opts, preview.subscriber), 0 },
	{ "to", 'T', CLI_STR, offsetof(struct item_opts, preview.to), 0 },
	{ "text", 'X', CLI_FLAG, offsetof(struct item_opts, preview.mode), 't' },
	{ "html", 'H', CLI_FLAG, offsetof(struct item_opts, preview.mode), 'h' },
	{ "raw", 'R', CLI_FLAG, offsetof(struct item_opts, preview.mode), 'r' },
	{ NULL, 0, 0, 0, 0 },
};

static void
item_opts_init(void *vo)
{
	struct item_opts	*o = vo;

	o->skip_empty = -1;
	o->preview.mode = 't';
}

/*
 * The checks below print what is wrong and return its exit code (EX_OK
 * when all is well), so the first failure's code is the command's.
 */
static int
int_arg(const char *what, const char *s, long lo, long hi, int *out)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || *end != '\0' || errno != 0 || v < lo || v > hi) {
		return cli_error(EX_DATAERR, "%s: '%s' is not a number from "
		    "%ld to %ld", what, s, lo, hi);
	}
	*out = (int)v;
	return EX_OK;
}

/* The Markdown file, kept as an absolute path: clariond reads it later. */
static int
content_arg(const char *path, char **field)
{
	char	 real[PATH_MAX];

	if (*path == '\0') {
		free(*field);
		*field = NULL;
		return EX_OK;
	}
	if (realpath(path, real) == NULL || access(real, R_OK) == -1)
		return cli_error(EX_NOINPUT, "%s: %s", path, strerror(errno));
	free(*field);
	*field = xstrdup(real);
	return EX_OK;
}

static int
when_arg(struct cli *cli, const char *text, time_t *out)
{
	return cli_when(cli, text, out) == -1 ? EX_DATAERR : EX_OK;
}

static int
at_too_old(struct cli *cli, time_t at, int force)
{
	char	*when;

	if (!item_at_too_old(cli_config(cli), at, force))
		return EX_OK;
	when = cli_local(cli, at);
	cli_error(EX_DATAERR, "--at %s is past, by more than "
	    "schedule.missed_grace: it would never be sent (--force keeps "
	    "it)", when);
	free(when);
	return EX_DATAERR;
}

static int
schedule_apply(struct cli *cli, const struct item_opts *o, struct item *it)
{
	char	*cause;
	int	 rc;

	if (o->at != NULL && o->rrule != NULL)
		return cli_error(EX_USAGE, "give --at or --rrule, not both");
	if (o->at != NULL) {
		if ((rc = when_arg(cli, o->at, &it->send_at)) != EX_OK ||
		    (rc = at_too_old(cli, it->send_at, o->force)) != EX_OK)
			return rc;
		free(it->rrule);
		it->rrule = NULL;
	}
	if (o->rrule != NULL) {
		if (ical_rrule_check(o->rrule, &cause) == -1) {
			rc = cli_error(EX_DATAERR, "%s", cause);
			free(cause);
			return rc;
		}
		cli_set_str(&it->rrule, o->rrule);
		it->send_at = 0;
	}
	if (o->start != NULL &&
	    (rc = when_arg(cli, o->start, &it->dtstart)) != EX_OK)
		return rc;
	if (it->rrule != NULL && it->dtstart == 0)
		return cli_error(EX_USAGE, "--rrule needs --start DATE");
	if (o->expires != NULL && *o->expires == '\0')
		it->expires_at = 0;
	else if (o->expires != NULL)
		return when_arg(cli, o->expires, &it->expires_at);
	return EX_OK;
}

/* A rule's refusal from item.c: its message, its exit code. */
static int
item_refused(int rc, char **cause)
{
	return rc == 0 ? EX_OK : cli_fail(rc, cause);
}

static int
segment_ok(struct cli *cli, struct item *it, int force)
{
	char	*warning = NULL, *cause = NULL;
	int	 rc;

	rc = item_segment_check(cli_db(cli), it, force, &warning, &cause);
	if (warning != NULL)
		fprintf(stderr, "clarion: warning: %s\n", warning);
	free(warning);
	return item_refused(rc, &cause);
}

/* "reaches 12 of 40 members", and a warning when that is none. */
static void
reach_print(struct cli *cli, const struct item *it)
{
	long	 reach, total;
	char	*cause = NULL;

	if (subscriber_reach(cli_db(cli), it->list_id, it->segment, &reach,
	    &total, &cause) == -1) {
		free(cause);
		return;
	}
	printf("%s reaches %ld of the list's %ld subscribed member%s\n",
	    it->name, reach, total, total == 1 ? "" : "s");
	if (reach == 0 && total > 0)
		fprintf(stderr, "clarion: warning: the segment %s matches no "
		    "member now: an issue would go to no one\n", it->segment);
}

static int
fields_apply(struct cli *cli, const struct item_opts *o, struct item *it)
{
	char	*cause = NULL;
	int	 rc;

	if (o->list != NULL && db_list_id(cli_db(cli), o->list,
	    &it->list_id) == -1)
		return cli_error(EX_DATAERR, "no list named '%s' (see clarion "
		    "list ls)", o->list);
	if ((o->kind != NULL && (rc = item_kind_check(o->kind,
	    &cause)) != 0) || (o->kinds != NULL &&
	    (rc = item_kinds_check(o->kinds, &cause)) != 0) ||
	    (o->subject != NULL && (rc = item_subject_check(o->subject,
	    &cause)) != 0))
		return cli_fail(rc, &cause);
	cli_set_str(&it->kind, o->kind);
	cli_set_str(&it->segment, o->segment);
	cli_set_str(&it->template, o->template);
	cli_set_str(&it->subject, o->subject);
	if ((o->segment != NULL || o->list != NULL) &&
	    (rc = segment_ok(cli, it, o->force)) != EX_OK)
		return rc;
	cli_set_str(&it->event_kinds, o->kinds);
	cli_set_str(&it->union_filter, o->union_name);
	if (o->skip_empty != -1)
		it->skip_empty = o->skip_empty;
	if ((o->days != NULL && (rc = int_arg("--days", o->days, 1, 366,
	    &it->days_ahead)) != EX_OK) || (o->priority != NULL &&
	    (rc = int_arg("--priority", o->priority, -100, 100,
	    &it->priority)) != EX_OK) || (o->content != NULL &&
	    (rc = content_arg(o->content, &it->content_file)) != EX_OK))
		return rc;
	return schedule_apply(cli, o, it);
}

static int
item_complete_cli(const struct item *it)
{
	char	*cause = NULL;

	return item_refused(item_complete(it, &cause), &cause);
}

static int
item_store_cli(struct cli *cli, struct item *it, int insert)
{
	char	*cause = NULL;

	return item_refused(item_store(cli_db(cli), it, insert, &cause),
	    &cause);
}

/* The next time the item is due, or 0. */
time_t
cli_item_next(struct cli *cli, const struct item *it)
{
	return item_next(cli_db(cli), cli_config(cli), it);
}

/* A template that cannot be used: say which file is missing. */
static int
template_usable(struct cli *cli, const struct item *it)
{
	char	*cause;

	if (item_template_check(cli_config(cli), it, &cause) == 0)
		return 1;
	fprintf(stderr, "clarion: item '%s' not saved: its template '%s' "
	    "cannot be used, so every delivery would be held\n", it->name,
	    it->template);
	lines_print(stderr, "clarion: ", cause);
	free(cause);
	return 0;
}

static int
item_add(struct cli *cli, void *vo, int argc, char **argv)
{
	const char *name = argv[0];
	const struct item_opts *o = vo;
	struct item	 it;
	time_t		 due;
	char		*next, *cause = NULL;
	int		 rc;

	if ((rc = item_name_check(name, &cause)) != 0)
		return cli_fail(rc, &cause);
	item_new(&it, name);
	if ((rc = fields_apply(cli, o, &it)) != EX_OK ||
	    (rc = item_complete_cli(&it)) != EX_OK) {
		item_clear(&it);
		return rc;
	}
	item_defaults(&it, o->skip_empty != -1);
	if (!template_usable(cli, &it)) {
		item_clear(&it);
		return EX_CONFIG;
	}
	if ((rc = item_store_cli(cli, &it, 1)) == EX_OK) {
		due = cli_item_next(cli, &it);
		next = cli_local(cli, due);
		printf("item %lld: %s (%s), next due %s%s\n", (long long)it.id,
		    it.name, it.kind, next, due != 0 && due <= clock_now() ?
		    " (now: clariond sends it on its next pass)" : "");
		free(next);
		reach_print(cli, &it);
	}
	item_clear(&it);
	return rc;
}

static int
item_lookup(struct cli *cli, const char *key, struct item *it)
{
	if (db_item_find(cli_db(cli), key, it, NULL) == 0)
		return 0;
	cli_error(EX_DATAERR, "no item '%s' (see clarion item list)", key);
	return -1;
}

static int
item_edit(struct cli *cli, void *vo, int argc, char **argv)
{
	const char *key = argv[0];
	const struct item_opts *o = vo;
	struct item	 it;
	char		*cause = NULL;
	int		 rc;

	if (item_lookup(cli, key, &it) == -1)
		return EX_DATAERR;
	if ((rc = item_edit_check(&it, o->kind != NULL || o->at != NULL ||
	    o->rrule != NULL, &cause)) != 0) {
		item_clear(&it);
		return cli_fail(rc, &cause);
	}
	if ((rc = fields_apply(cli, o, &it)) != EX_OK ||
	    (rc = item_complete_cli(&it)) != EX_OK) {
		item_clear(&it);
		return rc;
	}
	if (o->template != NULL && !template_usable(cli, &it)) {
		item_clear(&it);
		return EX_CONFIG;
	}
	if ((rc = item_store_cli(cli, &it, 0)) == EX_OK) {
		printf("item %lld: %s updated\n", (long long)it.id, it.name);
		if (!item_is_notice(&it))
			reach_print(cli, &it);
	}
	item_clear(&it);
	return rc;
}

static char *
schedule_text(struct cli *cli, const struct item *it)
{
	char	*s, *when;

	if (it->rrule != NULL) {
		when = cli_local(cli, it->dtstart);
		xasprintf(&s, "%s from %s", it->rrule, when);
	} else {
		when = cli_local(cli, it->send_at);
		xasprintf(&s, "at %s", when);
	}
	free(when);
	return s;
}

static json_t *
item_json(struct cli *cli, const struct item *it)
{
	char	*sched = schedule_text(cli, it), *next, *exp;
	json_t	*o;

	next = cli_local(cli, cli_item_next(cli, it));
	exp = cli_local(cli, it->expires_at);
	o = json_pack("{s:I, s:s, s:I, s:s, s:s, s:s, s:s, s:s?, s:s, s:i, "
	    "s:s, s:s, s:b, s:s, s:s, s:i, s:s}", "id", (json_int_t)it->id,
	    "name", it->name, "list_id", (json_int_t)it->list_id, "segment",
	    it->segment, "kind", it->kind, "template", it->template,
	    "subject", it->subject, "content", it->content_file, "kinds",
	    it->event_kinds, "days", it->days_ahead, "union",
	    it->union_filter, "schedule", sched, "skip_empty", it->skip_empty,
	    "expires", exp, "next", next, "priority", it->priority, "status",
	    it->status);
	free(sched);
	free(next);
	free(exp);
	return o;
}

static int
item_list(struct cli *cli, void *vo, int argc, char **argv)
{
	const struct item_opts *o = vo;
	char		*cause = NULL;
	struct item	*items;
	size_t		 i, n;
	json_t		*a;
	char		*next;

	if (db_item_list(cli_db(cli), !o->all, &items, &n, &cause) == -1)
		return cli_fail(EX_SOFTWARE, &cause);
	a = json_array();
	if (!cli->json && n > 0)
		printf("%-4s %-20s %-10s %-9s %s\n", "ID", "NAME", "KIND",
		    "STATUS", "NEXT");
	for (i = 0; i < n; i++) {
		if (cli->json)
			json_array_append_new(a, item_json(cli, &items[i]));
		else {
			next = cli_local(cli, cli_item_next(cli, &items[i]));
			printf("%-4lld %-20s %-10s %-9s %s\n",
			    (long long)items[i].id, items[i].name,
			    items[i].kind, items[i].status, next);
			free(next);
		}
		item_clear(&items[i]);
	}
	free(items);
	if (cli->json) {
		cli_json_print(a);
	}
	json_decref(a);
	return EX_OK;
}

static void
print_fields(json_t *o)
{
	const char	*k;
	json_t		*v;

	json_object_foreach(o, k, v) {
		if (json_is_string(v))
			printf("%-11s %s\n", k, json_string_value(v));
		else if (json_is_integer(v))
			printf("%-11s %lld\n", k,
			    (long long)json_integer_value(v));
		else if (json_is_boolean(v))
			printf("%-11s %s\n", k, json_is_true(v) ? "yes" : "no");
	}
}

static int
item_show(struct cli *cli, void *vo, int argc, char **argv)
{
	const char *key = argv[0];
	struct item	 it;
	struct run	*runs;
	size_t		 i, n = 0;
	json_t		*o;
	char		*due;

	if (item_lookup(cli, key, &it) == -1)
		return EX_DATAERR;
	o = item_json(cli, &it);
	if (cli->json) {
		cli_json_print(o);
	} else {
		print_fields(o);
		if (db_run_list(cli_db(cli), it.id, NULL, 5, &runs, &n, NULL) == 0 &&
		    n > 0) {
			printf("latest runs:\n");
			for (i = 0; i < n; i++) {
				due = cli_local(cli, runs[i].due_at);
				printf("  %-5lld %-8s %s %s%s%s\n",
				    (long long)runs[i].id,
				    run_purpose_name(runs[i].purpose), due,
				    run_state_name(runs[i].state),
				    *runs[i].reason ?
				    ": " : "", runs[i].reason);
				free(due);
			}
			runs_free(runs, n);
		}
	}
	json_decref(o);
	item_clear(&it);
	return EX_OK;
}

/* pause, resume, cancel: the status, and pending runs where it stops. */
static int
item_status(struct cli *cli, void *vo, int argc, char **argv)
{
	const char	*verb = cli->sub->name;
	struct item	 it;
	enum item_status status;
	char		*cause = NULL;
	int		 n = 0, rc;

	if (item_lookup(cli, argv[0], &it) == -1)
		return EX_DATAERR;
	status = strcmp(verb, "pause") == 0 ? ITEM_PAUSED :
	    strcmp(verb, "resume") == 0 ? ITEM_ACTIVE : ITEM_CANCELLED;
	if ((rc = item_set_status(cli_db(cli), &it, status, &n,
	    &cause)) != 0) {
		item_clear(&it);
		return cli_fail(rc, &cause);
	}
	printf("item %lld: %s %s", (long long)it.id, it.name,
	    item_status_name(status));
	if (n > 0)
		printf(" (%d pending run%s cancelled)", n, n == 1 ? "" : "s");
	printf("\n");
	item_clear(&it);
	return EX_OK;
}

static int
item_preview(struct cli *cli, void *vo, int argc, char **argv)
{
	const struct item_opts *o = vo;

	return cli_item_preview(cli, argv[0], &o->preview,
	    strcmp(cli->sub->name, "test") == 0);
}

#define ITEM_ADD_OPTS	"lgktscKduarSxpEeF"

static const struct cli_sub item_subs[] = {
	{ "add", NULL, ITEM_ADD_OPTS, 0, 1, 1, item_add,
	    "item add NAME --list LIST --kind KIND --subject TEXT\n"
	    "           (--at \"DATE TIME\" | --rrule RULE --start DATE)\n"
	    "           [--template NAME] [--content FILE.md] [--segment EXPR]\n"
	    "           [--kinds KINDS] [--days N] [--union NAME]\n"
	    "           [--skip-empty | --send-empty] [--expires \"DATE TIME\"]\n"
	    "           [--priority N] [--force]", NULL },
	{ "list", "ls", "A", 1, 0, 0, item_list, "item list [--all] [--json]",
	    NULL },
	{ "show", NULL, "", 1, 1, 1, item_show, "item show ITEM [--json]",
	    NULL },
	{ "edit", NULL, ITEM_ADD_OPTS, 0, 1, 1, item_edit,
	    "item edit ITEM [any option of add]", NULL },
	{ "pause", NULL, "", 0, 1, 1, item_status, "item pause ITEM", NULL },
	{ "resume", NULL, "", 0, 1, 1, item_status, "item resume ITEM", NULL },
	{ "cancel", NULL, "", 0, 1, 1, item_status, "item cancel ITEM", NULL },
	{ "preview", NULL, "bXHR", 0, 1, 1, item_preview,
	    "item preview ITEM [--subscriber ADDRESS] [--text | --html | --raw]",
	    cli_preview_text },
	{ "test", NULL, "bT", 0, 1, 1, item_preview,
	    "item test ITEM --to ADDRESS [--subscriber ADDRESS]",
	    cli_preview_text },
};

const struct cli_group cli_group_item = {
	"item", "bulletins, newsletters, messages and when", item_text,
	item_options, NULL, sizeof(struct item_opts), item_opts_init,
	item_subs, nitems(item_subs)
};
