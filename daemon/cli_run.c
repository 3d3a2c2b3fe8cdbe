/*
 * clarion run: the issues of items. A run moves planned -> composing ->
 * sending -> done, or ends skipped (with the reason) or cancelled; its
 * counts are its deliveries by state.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"

static const char run_text[] =
    "list shows runs newest first (50 unless --limit; 0 = all) with their\n"
    "deliveries counted by state. STATE is planned, composing, sending,\n"
    "held, done, skipped or cancelled. A held run has deliveries that\n"
    "could not be sent (a missing template, say) and waits for you: fix\n"
    "the cause, then release queues them again (after checking that one\n"
    "can now be composed, unless --force), or cancel them. cancel stops a\n"
    "run: deliveries not yet handed to the relay (queued, deferred, held)\n"
    "are cancelled. resend --to-missed queues again only the deliveries\n"
    "with no sent record (failed, cancelled, held); sent ones are never\n"
    "touched.\n";

struct run_opts {
	const char	*item, *state;
	long long	 limit;
	int		 to_missed, force;
};

static const struct cli_option run_options[] = {
	{ "item", 'i', CLI_STR, offsetof(struct run_opts, item), 0 },
	{ "state", 's', CLI_STR, offsetof(struct run_opts, state), 0 },
	{ "limit", 'l', CLI_NUM, offsetof(struct run_opts, limit), 0 },
	{ "to-missed", 'm', CLI_FLAG, offsetof(struct run_opts, to_missed), 1 },
	{ "force", 'f', CLI_FLAG, offsetof(struct run_opts, force), 1 },
	{ NULL, 0, 0, 0, 0 },
};

static void
run_opts_init(void *vo)
{
	struct run_opts	*o = vo;

	o->limit = 50;
}

static char *
counts_text(struct cli *cli, int64_t run, json_t **obj)
{
	struct db_count	*c;
	struct buf	 b;
	size_t		 i, n;

	buf_init(&b);
	buf_adds(&b, "");
	*obj = json_object();
	if (db_run_counts(cli_db(cli), run, &c, &n) == -1)
		return buf_steal(&b);
	for (i = 0; i < n; i++) {
		buf_addf(&b, "%s%s %ld", i ? ", " : "", c[i].name, c[i].count);
		json_object_set_new(*obj, c[i].name, json_integer(c[i].count));
		free(c[i].name);
	}
	free(c);
	return buf_steal(&b);
}

static void
run_held_json(struct cli *cli, const struct run *r, json_t *o)
{
	char	*why = run_held_why(cli_db(cli), r), *next;

	xasprintf(&next, "fix the cause, then clarion run release %lld (or "
	    "clarion run cancel %lld)", (long long)r->id, (long long)r->id);
	json_object_set_new(o, "reason", json_string(why));
	json_object_set_new(o, "next", json_string(next));
	free(why);
	free(next);
}

static json_t *
run_json(struct cli *cli, const struct run *r)
{
	char	*due = cli_local(cli, r->due_at), *st = cli_local(cli,
	    r->started), *fin = cli_local(cli, r->finished), *counts;
	json_t	*o, *c;

	counts = counts_text(cli, r->id, &c);
	o = json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:s, "
	    "s:o}", "id", (json_int_t)r->id, "item_id", (json_int_t)r->item_id,
	    "item", r->item_name, "purpose", run_purpose_name(r->purpose),
	    "due", due, "state", run_state_name(r->state), "reason", r->reason, "sequence", r->sequence, "started",
	    st, "finished", fin, "counts", c);
	if (r->state == RUN_HELD)
		run_held_json(cli, r, o);
	free(due);
	free(st);
	free(fin);
	free(counts);
	return o;
}

static void
run_row(struct cli *cli, const struct run *r)
{
	char	*due = cli_local(cli, r->due_at), *counts, *why;
	json_t	*c;

	counts = counts_text(cli, r->id, &c);
	json_decref(c);
	why = r->state == RUN_HELD ? run_held_why(cli_db(cli), r) :
	    xstrdup(r->reason);
	printf("%-5lld %-16s %-8s %-16s %-9s %s%s%s", (long long)r->id,
	    r->item_name, run_purpose_name(r->purpose), due,
	    run_state_name(r->state), counts,
	    *why ? *counts ? "; " : "" : "", why);
	if (r->state == RUN_HELD)
		printf(" (then clarion run release %lld)", (long long)r->id);
	printf("\n");
	free(due);
	free(counts);
	free(why);
}

static int
run_list(struct cli *cli, void *vo, int argc, char **argv)
{
	const struct run_opts *o = vo;
	char		*cause = NULL;
	struct item	 it;
	struct run	*runs;
	size_t		 i, n;
	int64_t		 item = 0;
	json_t		*a;

	if (o->item != NULL) {
		if (db_item_find(cli_db(cli), o->item, &it, NULL) == -1)
			return cli_error(EX_DATAERR, "no item '%s'", o->item);
		item = it.id;
		item_clear(&it);
	}
	if (db_run_list(cli_db(cli), item, o->state, o->limit, &runs,
	    &n, &cause) == -1)
		return cli_fail(EX_SOFTWARE, &cause);
	a = json_array();
	if (!cli->json && n > 0)
		printf("%-5s %-16s %-8s %-16s %-9s %s\n", "ID", "ITEM",
		    "PURPOSE", "DUE", "STATE", "COUNTS/REASON");
	for (i = 0; i < n; i++) {
		if (cli->json)
			json_array_append_new(a, run_json(cli, &runs[i]));
		else
			run_row(cli, &runs[i]);
	}
	if (cli->json) {
		cli_json_print(a);
	}
	json_decref(a);
	runs_free(runs, n);
	return EX_OK;
}

static int
run_lookup(struct cli *cli, const char *arg, struct run *r)
{
	char		*end;
	long long	 id;

	id = strtoll(arg, &end, 10);
	if (end == arg || *end != '\0' || db_run_get(cli_db(cli), id,
	    r) == -1) {
		cli_error(EX_DATAERR, "no run '%s' (see clarion run list)",
		    arg);
		return -1;
	}
	return 0;
}

static int
run_show(struct cli *cli, void *vo, int argc, char **argv)
{
	const char *arg = argv[0];
	struct run	 r;
	json_t		*o, *v;
	const char	*k;

	if (run_lookup(cli, arg, &r) == -1)
		return EX_DATAERR;
	o = run_json(cli, &r);
	if (cli->json) {
		cli_json_print(o);
	} else {
		cli_print_fields(o);
		printf("counts   ");
		json_object_foreach(json_object_get(o, "counts"), k, v)
			printf(" %s %lld", k, (long long)json_integer_value(v));
		printf("\n");
	}
	json_decref(o);
	run_clear(&r);
	return EX_OK;
}

static int
run_cmd_cancel(struct cli *cli, void *vo, int argc, char **argv)
{
	struct run	 r;
	long		 n = 0;
	char		*cause = NULL;
	int		 rc;

	if (run_lookup(cli, argv[0], &r) == -1)
		return EX_DATAERR;
	if ((rc = run_cancel(cli_db(cli), &r, &n, &cause)) == 0)
		printf("run %lld: cancelled; %ld deliver%s not yet sent "
		    "cancelled\n", (long long)r.id, n, n == 1 ? "y" : "ies");
	run_clear(&r);
	return rc == 0 ? EX_OK : cli_fail(rc, &cause);
}

static const struct token_keys *
run_keys(void *arg)
{
	struct cli	*cli = arg;

	cli_keys(cli, &cli->keys);
	return &cli->keys;
}

static int
run_cmd_release(struct cli *cli, void *vo, int argc, char **argv)
{
	const struct run_opts *o = vo;
	struct run_release_env env = { cli_config(cli), run_keys, cli };
	struct run	 r;
	long		 n = 0;
	char		*cause = NULL;
	int		 rc;

	if (run_lookup(cli, argv[0], &r) == -1)
		return EX_DATAERR;
	if ((rc = run_release(cli_db(cli), &env, &r, o->force, &n,
	    &cause)) == 0)
		printf("run %lld: %ld held deliver%s queued again; clariond "
		    "sends them\n", (long long)r.id, n, n == 1 ? "y" : "ies");
	run_clear(&r);
	return rc == 0 ? EX_OK : cli_fail(rc, &cause);
}

static int
run_cmd_resend(struct cli *cli, void *vo, int argc, char **argv)
{
	const struct run_opts *o = vo;
	struct run	 r;
	long		 n = 0;
	char		*cause = NULL;
	int		 rc;

	if (!o->to_missed)
		return cli_misuse(cli, "resend needs --to-missed (only "
		    "those with no sent record are sent again)");
	if (run_lookup(cli, argv[0], &r) == -1)
		return EX_DATAERR;
	if ((rc = run_resend(cli_db(cli), &r, &n, &cause)) == 0)
		printf("run %lld: %ld deliver%s queued again\n",
		    (long long)r.id, n, n == 1 ? "y" : "ies");
	run_clear(&r);
	return rc == 0 ? EX_OK : cli_fail(rc, &cause);
}

static const struct cli_sub run_subs[] = {
	{ "list", "ls", "isl", 1, 0, 0, run_list,
	    "run list [--item ITEM] [--state STATE] [--limit N] [--json]", NULL },
	{ "show", NULL, "", 1, 1, 1, run_show, "run show RUN [--json]", NULL },
	{ "cancel", NULL, "", 0, 1, 1, run_cmd_cancel, "run cancel RUN", NULL },
	{ "release", NULL, "f", 0, 1, 1, run_cmd_release,
	    "run release RUN [--force]", NULL },
	{ "resend", NULL, "m", 0, 1, 1, run_cmd_resend,
	    "run resend RUN --to-missed", NULL },
};

const struct cli_group cli_group_run = {
	"run", "issues of items: list, show, cancel, resend", run_text,
	run_options, NULL, sizeof(struct run_opts), run_opts_init, run_subs,
	nitems(run_subs)
};
