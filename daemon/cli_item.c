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
static void
set_str(char **field, const char *v)
{
	if (v == NULL)
		return;
	free(*field);
	*field = xstrdup(v);
}

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

static int
kinds_check(const char *kinds)
{
	char	*s, *tok, *save;
	int	 rc = EX_OK;

	s = xstrdup(kinds);
	for (tok = strtok_r(s, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if (!event_kind_valid(tok)) {
			rc = cli_error(EX_DATAERR, "--kinds: '%s' is not an "
			    "event kind (strike, ballot, picket, demo, "
			    "meeting, other)", tok);
			break;
		}
	}
	free(s);
	return rc;
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

/*
 * An --at further back than schedule.missed_grace would never be sent
 * (the scheduler skips a run missed by more): refused unless --force.
 */
static int
at_too_old(struct cli *cli, time_t at, int force)
{
	time_t	 now = clock_now();
	char	*when;

	if (now - at <= cli_config(cli)->missed_grace)
		return EX_OK;
	if (force)
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
		set_str(&it->rrule, o->rrule);
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

static int
kind_check(const char *kind)
{
	if (strcmp(kind, "bulletin") == 0 || strcmp(kind, "newsletter") == 0 ||
	    strcmp(kind, "message") == 0)
		return EX_OK;
	return cli_error(EX_DATAERR, "'%s' is not an item kind (bulletin, "
	    "newsletter, message; meeting notices are made by clarion notice "
	    "add)", kind);
}

/*
 * A segment must parse, and name only attributes some member of the
 * list has (unless forced): "wrad != 'Hillside'" would match everyone.
 * A forced one is marked so check-config and the daemon's start-up
 * leave it to the officer who forced it.
 */
static int
segment_ok(struct cli *cli, struct item *it, int force)
{
	struct segment	*seg;
	char		**keys = NULL, *cause = NULL;
	size_t		 i, n = 0;
	int		 rc = EX_OK;

	it->segment_forced = 0;
	if (it->segment == NULL || *it->segment == '\0')
		return EX_OK;
	if ((seg = segment_parse(it->segment, &cause)) == NULL) {
		rc = cli_error(EX_DATAERR, "%s", cause);
		free(cause);
		return rc;
	}
	if (it->list_id != 0 && db_attr_keys(cli_db(cli), it->list_id, &keys,
	    &n) == 0 && segment_check_attrs(seg, keys, n, &cause) == -1) {
		if (force) {
			fprintf(stderr, "clarion: warning: %s (kept: --force)\n",
			    cause);
			it->segment_forced = 1;
		} else
			rc = cli_error(EX_DATAERR, "%s; --force keeps it",
			    cause);
		free(cause);
	}
	for (i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
	segment_free(seg);
	return rc;
}

/* "reaches 12 of 40 members", and a warning when that is none. */
static void
reach_print(struct cli *cli, const struct item *it)
{
	long	 reach, total;
	char	*cause = NULL;

	if (db_list_reach(cli_db(cli), it->list_id, it->segment, &reach,
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
	int	 rc;

	if (o->list != NULL && db_list_id(cli_db(cli), o->list,
	    &it->list_id) == -1)
		return cli_error(EX_DATAERR, "no list named '%s' (see clarion "
		    "list ls)", o->list);
	if ((o->kind != NULL && (rc = kind_check(o->kind)) != EX_OK) ||
	    (o->kinds != NULL && (rc = kinds_check(o->kinds)) != EX_OK))
		return rc;
	if (o->subject != NULL && str_has_ctl(o->subject))
		return cli_error(EX_DATAERR, "the subject may not hold line "
		    "breaks");
	set_str(&it->kind, o->kind);
	set_str(&it->segment, o->segment);
	set_str(&it->template, o->template);
	set_str(&it->subject, o->subject);
	if ((o->segment != NULL || o->list != NULL) &&
	    (rc = segment_ok(cli, it, o->force)) != EX_OK)
		return rc;
	set_str(&it->event_kinds, o->kinds);
	set_str(&it->union_filter, o->union_name);
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
item_complete(const struct item *it)
{
	if (it->list_id == 0 || it->kind == NULL || it->subject == NULL)
		return cli_error(EX_USAGE, "an item needs --list, --kind and "
		    "--subject");
	if (it->send_at == 0 && it->rrule == NULL)
		return cli_error(EX_USAGE, "an item needs --at or --rrule");
	if (strcmp(it->kind, "bulletin") != 0 && it->content_file == NULL)
		return cli_error(EX_USAGE, "a %s needs --content FILE.md",
		    it->kind);
	return EX_OK;
}

struct item_write {
	struct item	*it;
	int		 insert;
	enum item_status status;
	int		 cancelled;
	char		**cause;
};

static int
item_store_one(struct db *db, void *arg)
{
	struct item_write *w = arg;

	return w->insert ? db_item_insert(db, w->it, clock_now(), w->cause) :
	    db_item_update(db, w->it, clock_now(), w->cause);
}

static int
item_store(struct cli *cli, struct item *it, int insert)
{
	struct item_write w;
	char		*cause = NULL;
	int		 rc;

	memset(&w, 0, sizeof w);
	w.it = it;
	w.insert = insert;
	w.cause = &cause;
	if (db_atomic(cli_db(cli), item_store_one, &w, &cause) == -1) {
		rc = cli_error(insert ? EX_DATAERR : EX_SOFTWARE, "%s", cause);
		free(cause);
		return rc;
	}
	return EX_OK;
}

/*
 * A one-off item is due at --at until its run is made, even if --at is
 * a moment ago ("--at now"): the scheduler takes it within the grace.
 */
static time_t
one_off_next(struct cli *cli, const struct item *it, time_t now)
{
	time_t	 last;

	if (it->send_at > now)
		return it->send_at;
	if (it->send_at == 0 || now - it->send_at >
	    cli_config(cli)->missed_grace || it->id == 0 ||
	    db_run_last_due(cli_db(cli), it->id, "issue", &last, NULL) == -1 ||
	    last >= it->send_at)
		return 0;
	return it->send_at;
}

/* The next time the item is due, or 0. */
time_t
cli_item_next(struct cli *cli, const struct item *it)
{
	time_t	*occ, next = 0, now = clock_now();
	size_t	 n;
	char	*cause;

	if (item_status_parse(it->status) != ITEM_ACTIVE)
		return 0;
	if (it->rrule == NULL)
		return one_off_next(cli, it, now);
	if (ical_rrule_expand(it->rrule, it->dtstart,
	    cli_config(cli)->timezone, now, now + 800L * 86400, 1, &occ, &n,
	    &cause) == -1) {
		free(cause);
		return 0;
	}
	if (n > 0 && (it->expires_at == 0 || occ[0] < it->expires_at))
		next = occ[0];
	free(occ);
	return next;
}

/*
 * An item whose template is missing would have every delivery held:
 * refuse it now, saying which file is missing.
 */
static int
template_usable(struct cli *cli, const struct item *it)
{
	char	*cause;

	if (check_template(cli_config(cli), it->template, &cause) == 0)
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
	char		*next;
	int		 rc;

	if (*name == '\0' || str_has_ctl(name) || strspn(name,
	    "0123456789") == strlen(name))
		return cli_error(EX_DATAERR, "'%s': an item name needs a "
		    "letter and no control characters", name);
	item_init(&it);
	it.name = xstrdup(name);
	it.segment = xstrdup("");
	it.event_kinds = xstrdup("");
	it.union_filter = xstrdup("");
	it.status = xstrdup("active");
	if ((rc = fields_apply(cli, o, &it)) != EX_OK ||
	    (rc = item_complete(&it)) != EX_OK) {
		item_clear(&it);
		return rc;
	}
	if (it.template == NULL)
		it.template = xstrdup(it.kind);
	if (!template_usable(cli, &it)) {
		item_clear(&it);
		return EX_CONFIG;
	}
	if (strcmp(it.kind, "bulletin") != 0 && o->skip_empty == -1)
		it.skip_empty = 0;
	if ((rc = item_store(cli, &it, 1)) == EX_OK) {
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
	int		 rc;

	if (item_lookup(cli, key, &it) == -1)
		return EX_DATAERR;
	if (strcmp(it.kind, "notice") == 0 && (o->kind != NULL ||
	    o->at != NULL || o->rrule != NULL)) {
		item_clear(&it);
		return cli_error(EX_USAGE, "a meeting notice is changed with "
		    "clarion notice move or cancel");
	}
	if ((rc = fields_apply(cli, o, &it)) != EX_OK ||
	    (strcmp(it.kind, "notice") != 0 &&
	    (rc = item_complete(&it)) != EX_OK)) {
		item_clear(&it);
		return rc;
	}
	if (o->template != NULL && !template_usable(cli, &it)) {
		item_clear(&it);
		return EX_CONFIG;
	}
	if ((rc = item_store(cli, &it, 0)) == EX_OK) {
		printf("item %lld: %s updated\n", (long long)it.id, it.name);
		if (strcmp(it.kind, "notice") != 0)
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

static int
item_status_one(struct db *db, void *arg)
{
	struct item_write *w = arg;

	if (db_item_set_status(db, w->it->id, w->status, clock_now()) == -1)
		return -1;
	if (w->status == ITEM_ACTIVE)
		return 0;
	return db_run_cancel_pending(db, w->it->id, NULL, w->status ==
	    ITEM_PAUSED ? "the item was paused" : "the item was cancelled",
	    clock_now());
}

/* pause, resume, cancel: the status, and pending runs where it stops. */
static int
item_status(struct cli *cli, void *vo, int argc, char **argv)
{
	const char	*key = argv[0], *verb = cli->sub->name;
	struct db	*db = cli_db(cli);
	struct item_write w;
	struct item	 it;
	enum item_status status;
	char		*cause = NULL;
	int		 n = 0;

	if (item_lookup(cli, key, &it) == -1)
		return EX_DATAERR;
	status = strcmp(verb, "pause") == 0 ? ITEM_PAUSED :
	    strcmp(verb, "resume") == 0 ? ITEM_ACTIVE : ITEM_CANCELLED;
	if (status == ITEM_ACTIVE &&
	    item_status_parse(it.status) != ITEM_PAUSED) {
		cli_error(EX_DATAERR, "item %s is %s, not paused", key,
		    it.status);
		item_clear(&it);
		return EX_DATAERR;
	}
	memset(&w, 0, sizeof w);
	w.it = &it;
	w.status = status;
	if ((n = db_atomic(db, item_status_one, &w, &cause)) == -1) {
		item_clear(&it);
		n = cli_error(EX_SOFTWARE, "%s", cause);
		free(cause);
		return n;
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
