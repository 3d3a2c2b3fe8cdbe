/*
 * clarion queue: what is waiting to be sent and why (queued, deferred
 * until a time with the last reply, held after a crash, paused by quiet
 * hours, a rate limit or a failing server), and the owner's decision on
 * held deliveries (resend or cancel).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"

static const char queue_text[] =
    "Lists what is waiting to be sent: counts by state, why sending may be\n"
    "paused now (quiet hours, a rate limit, a failing server), then each\n"
    "deferred delivery (next try and last reply), each held one, and (with\n"
    "--run) each failed one with its reply. Lists stop at 20 lines unless\n"
    "--all. System mail (confirmations, forwards, digests) is counted too.\n\n"
    "Deliveries that were on the wire when Clarion crashed are held when\n"
    "delivery.after_crash is \"hold\": they may or may not have arrived.\n"
    "resend queues them again (some may arrive twice); cancel drops them.\n"
    "Deliveries held because their mail could not be composed (a missing\n"
    "template, say) belong to a held run: fix the cause, then use\n"
    "clarion run release RUN, which checks the fix first.\n";

struct queue_opts {
	long long	 run;
	int		 all;
	int		 json;
};

struct queue_print {
	const struct config *conf;
	int		 shown;
	int		 limit;
	json_t		*arr;
};

static char *
fmt_time(const struct config *conf, time_t t)
{
	char	*s;

	if ((s = time_format_local(t, conf->timezone, "%Y-%m-%d %H:%M")) ==
	    NULL)
		xasprintf(&s, "%lld", (long long)t);
	return s;
}

static int
queue_entry_cb(void *arg, const struct queue_entry *e)
{
	struct queue_print *p = arg;
	char		*when;

	if (p->arr != NULL) {
		json_array_append_new(p->arr, json_pack("{s:I, s:b, s:I, s:s, "
		    "s:s?, s:i, s:I, s:i, s:s?}", "id", (json_int_t)e->id,
		    "sysmail", e->sysmail, "run", (json_int_t)e->run_id,
		    "state", e->state, "address", e->address, "attempts",
		    e->attempts, "next_attempt", (json_int_t)e->next_attempt,
		    "last_code", e->last_code, "last_reply", e->last_reply));
		return 0;
	}
	if (p->limit > 0 && p->shown == p->limit) {
		printf("    ... (--all shows the rest)\n");
		p->shown++;
		return 1;
	}
	p->shown++;
	printf("  %s %-6lld %-32s", e->sysmail ? "mail" : "dlv ",
	    (long long)e->id, e->address != NULL ? e->address : "(erased)");
	if (delivery_state_parse(e->state) == DSTATE_DEFERRED) {
		when = fmt_time(p->conf, e->next_attempt);
		printf(" next try %s, %d attempt%s", when, e->attempts,
		    e->attempts == 1 ? "" : "s");
		free(when);
	}
	printf("\n");
	if (e->last_reply != NULL && *e->last_reply != '\0')
		printf("         %s\n", e->last_reply);
	return 0;
}

static void
queue_pauses(struct db *db, const struct config *conf, json_t *o)
{
	time_t	 now = clock_now(), until;
	long	 budget;
	char	*v, *when;

	if (send_quiet(conf, now)) {
		printf("paused: quiet hours (%02d:%02d-%02d:%02d %s); system mail "
		    "still goes\n", conf->quiet_start / 60, conf->quiet_start % 60,
		    conf->quiet_end / 60, conf->quiet_end % 60, conf->timezone);
		json_object_set_new(o, "quiet_hours", json_true());
	}
	if ((budget = send_rate_budget(db, conf, now)) == 0) {
		printf("paused: a rate limit is reached (per minute %d, per hour "
		    "%d, per day %d; 0 = none)\n", conf->rate_per_minute,
		    conf->rate_per_hour, conf->rate_per_day);
		json_object_set_new(o, "rate_limited", json_true());
	}
	if ((v = db_state_get(db, "send_paused_until")) == NULL)
		return;
	until = (time_t)strtoll(v, NULL, 10);
	free(v);
	if (until <= now)
		return;
	when = fmt_time(conf, until);
	v = db_state_get(db, "last_smtp_error");
	printf("paused: the server failed repeatedly; next try %s (last: %s)\n",
	    when, v != NULL ? v : "?");
	json_object_set_new(o, "server_paused_until", json_integer(until));
	free(when);
	free(v);
}

static int
queue_section(struct db *db, const struct config *conf,
    const struct queue_opts *o, const char *state, const char *title,
    json_t *out)
{
	char		*cause = NULL;
	struct queue_print p;

	memset(&p, 0, sizeof p);
	p.conf = conf;
	p.limit = o->all ? 0 : 20;
	if (o->json) {
		p.arr = json_array();
		json_object_set_new(out, state, p.arr);
	} else
		printf("%s:\n", title);
	if (db_queue_list(db, o->run, state, queue_entry_cb, &p, &cause) == -1)
		return cli_fail(EX_SOFTWARE, &cause);
	if (!o->json && p.shown == 0)
		printf("  none\n");
	return EX_OK;
}

static json_t *
counts_json(const struct delivery_counts *c)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "queued",
	    (json_int_t)c->queued, "sending", (json_int_t)c->sending, "sent",
	    (json_int_t)c->sent, "deferred", (json_int_t)c->deferred, "failed",
	    (json_int_t)c->failed, "suppressed", (json_int_t)c->suppressed,
	    "held", (json_int_t)c->held, "cancelled",
	    (json_int_t)c->cancelled);
}

static void
counts_print(const struct config *conf, const struct delivery_counts *c,
    long sq, long sd, long sf)
{
	char	*when;

	printf("queued %ld, sending %ld, deferred %ld, held %ld", c->queued,
	    c->sending, c->deferred, c->held);
	printf(" (sent %ld, failed %ld, suppressed %ld, cancelled %ld)\n",
	    c->sent, c->failed, c->suppressed, c->cancelled);
	if (c->next_attempt != 0) {
		when = fmt_time(conf, c->next_attempt);
		printf("next retry of a deferred delivery: %s\n", when);
		free(when);
	}
	if (sq + sd + sf > 0)
		printf("system mail: queued %ld, deferred %ld, failed %ld\n", sq,
		    sd, sf);
}

static int
queue_show(struct cli *cli, void *vo, int argc, char **argv)
{
	struct queue_opts *o = vo;
	char		*cause = NULL;
	const struct config *conf = cli_config(cli);
	struct db	*db = cli_db(cli);
	struct delivery_counts c;
	json_t		*out = json_object();
	long		 sq = 0, sd = 0, sf = 0;
	int		 rc = EX_OK;

	o->json = cli->json;
	if (db_run_delivery_counts(db, o->run, &c, &cause) == -1 ||
	    (o->run == 0 && db_sysmail_counts(db, &sq, &sd, &sf,
	    &cause) == -1)) {
		json_decref(out);
		return cli_fail(EX_SOFTWARE, &cause);
	}
	if (o->json) {
		json_object_set_new(out, "counts", counts_json(&c));
		json_object_set_new(out, "sysmail", json_pack("{s:I, s:I, s:I}",
		    "queued", (json_int_t)sq, "deferred", (json_int_t)sd,
		    "failed", (json_int_t)sf));
	} else
		counts_print(conf, &c, sq, sd, sf);
	queue_pauses(db, conf, o->json ? out : NULL);
	if (rc == EX_OK)
		rc = queue_section(db, conf, o, "deferred", "deferred", out);
	if (rc == EX_OK)
		rc = queue_section(db, conf, o, "held", "held (a held run: "
		    "clarion run release RUN | cancel RUN; after a crash: "
		    "clarion queue resend | cancel)", out);
	if (rc == EX_OK && o->run != 0)
		rc = queue_section(db, conf, o, "failed", "failed", out);
	if (o->json && rc == EX_OK)
		json_dumpf(out, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (o->json)
		printf("\n");
	json_decref(out);
	return rc;
}

static int
queue_release(struct cli *cli, void *vo, int argc, char **argv)
{
	const struct queue_opts *o = vo;
	int		 cancel = strcmp(cli->sub->name, "cancel") == 0;
	struct db	*db = cli_db(cli);
	char		*cause = NULL;
	long		 n;
	int		 rc;

	if (run_held_release(db, o->run, cancel, &n, &cause) == -1) {
		rc = cli_error(EX_SOFTWARE, "%s", cause);
		free(cause);
		return rc;
	}
	printf("%ld held deliver%s %s\n", n, n == 1 ? "y" : "ies",
	    cancel ? "cancelled" : "queued again");
	return EX_OK;
}

static const struct cli_option queue_options[] = {
	{ "run", 'r', CLI_NUM, offsetof(struct queue_opts, run), 1 },
	{ "all", 'a', CLI_FLAG, offsetof(struct queue_opts, all), 1 },
	{ NULL, 0, 0, 0, 0 },
};

static const struct cli_sub queue_subs[] = {
	{ NULL, NULL, "ra", 1, 0, 0, queue_show,
	    "queue [--run RUN] [--all] [--json]", NULL },
	{ "resend", NULL, "r", 0, 0, 0, queue_release,
	    "queue resend [--run RUN]", NULL },
	{ "cancel", NULL, "r", 0, 0, 0, queue_release,
	    "queue cancel [--run RUN]", NULL },
};

const struct cli_group cli_group_queue = {
	"queue", "what is waiting to be sent, and why", queue_text,
	queue_options, "ra", sizeof(struct queue_opts), NULL, queue_subs,
	nitems(queue_subs)
};
