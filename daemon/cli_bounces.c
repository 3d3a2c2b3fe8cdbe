/*
 * clarion bounces [--list NAME] [--json]: the addresses disabled by
 * bounces (why and when) and the current soft-bounce scores, decayed to
 * now. The owners' digest reports the same disabled addresses.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"

#define SCORE_SHOWN	0.01	/* smaller scores have decayed away */

static const char bounces_text[] =
    "Shows the addresses disabled after bounces (hard: at once; soft: when\n"
    "the score reaches bounces.threshold), with the reason and the time,\n"
    "what attributed the bounce that disabled it (the bounce token of a\n"
    "delivery, or our own SMTP session), and the current soft-bounce\n"
    "score of every other address that bounced. Scores decay with a\n"
    "half-life of bounces.window.\n\n"
    "  --list NAME   only members (or former members) of this list\n"
    "  --json        machine-readable output\n";

/* What attributed the disabling bounce; null when not recorded. */
static json_t *
via_json(const struct bounce_row *r)
{
	json_t	*o;
	char	*s;

	if (r->via_source == NULL)
		return json_null();
	s = bounce_row_via(r);
	o = json_pack("{s:s, s:o, s:I, s:o, s:s}", "source", r->via_source,
	    "token", r->via_token != NULL ? json_string(r->via_token) :
	    json_null(), "delivery", (json_int_t)r->via_delivery, "run",
	    r->via_run > 0 ? json_integer(r->via_run) : json_null(),
	    "text", s);
	free(s);
	return o;
}

static json_t *
row_json(const struct bounce_row *r, double score)
{
	json_t	*o;
	char	*t;

	o = json_pack("{s:s, s:s, s:f}", "address", r->address, "name",
	    r->name, "score", score);
	t = time_format_iso(r->last_bounce_at);
	json_object_set_new(o, "last_bounce_at", json_string(t));
	free(t);
	if (r->disabled_at != 0) {
		t = time_format_iso(r->disabled_at);
		json_object_set_new(o, "disabled_at", json_string(t));
		json_object_set_new(o, "reason", json_string(r->reason));
		json_object_set_new(o, "attributed_by", via_json(r));
		free(t);
	}
	return o;
}

static void
print_json(const struct config *conf, const struct bounce_row *rows,
    size_t n, time_t now)
{
	json_t	*o, *dis, *scores;
	double	 s;
	size_t	 i;

	dis = json_array();
	scores = json_array();
	for (i = 0; i < n; i++) {
		s = bounce_row_score(&rows[i], conf, now);
		if (rows[i].disabled_at != 0)
			json_array_append_new(dis, row_json(&rows[i], s));
		else if (s >= SCORE_SHOWN)
			json_array_append_new(scores, row_json(&rows[i], s));
	}
	o = json_pack("{s:o, s:o, s:i, s:i}", "disabled", dis, "scores",
	    scores, "threshold", conf->bounce_threshold, "window",
	    conf->bounce_window);
	cli_json_print(o);
	json_decref(o);
}

static void
print_text(const struct config *conf, const struct bounce_row *rows,
    size_t n, time_t now)
{
	size_t	 i, shown = 0;
	double	 s;
	char	*t, *via;

	printf("Disabled after bounces:\n");
	for (i = 0; i < n; i++) {
		if (rows[i].disabled_at == 0)
			continue;
		t = time_format_local(rows[i].disabled_at, conf->timezone,
		    "%Y-%m-%d %H:%M");
		via = bounce_row_via(&rows[i]);
		printf("  %-32s %s  %s\n  %-32s attributed by: %s\n",
		    rows[i].address, t, rows[i].reason, "", via);
		free(via);
		free(t);
		shown++;
	}
	if (shown == 0)
		printf("  (none)\n");
	printf("\nSoft-bounce scores (disabled at %d):\n",
	    conf->bounce_threshold);
	for (i = 0, shown = 0; i < n; i++) {
		s = bounce_row_score(&rows[i], conf, now);
		if (rows[i].disabled_at != 0 || s < SCORE_SHOWN)
			continue;
		t = time_format_local(rows[i].last_bounce_at,
		    conf->timezone, "%Y-%m-%d %H:%M");
		printf("  %-32s %5.2f  last bounce %s\n", rows[i].address, s,
		    t);
		free(t);
		shown++;
	}
	if (shown == 0)
		printf("  (none)\n");
}

struct bounces_opts {
	const char	*list;
};

static const struct cli_option bounces_options[] = {
	{ "list", 'l', CLI_STR, offsetof(struct bounces_opts, list), 0 },
	{ NULL, 0, 0, 0, 0 },
};

static int
bounces_show(struct cli *cli, void *vo, int argc, char **argv)
{
	const char	*list = ((struct bounces_opts *)vo)->list;
	char		*cause = NULL;
	struct list_info l;
	struct bounce_row *rows;
	size_t		 n;

	if (list != NULL) {
		if (db_list_by_name(cli_db(cli), list, &l) == -1)
			return cli_error(EX_DATAERR, "%s: no such list", list);
		list_info_free(&l);
	}
	if (db_bounce_report(cli_db(cli), list, &rows, &n, &cause) == -1)
		return cli_fail(EX_SOFTWARE, &cause);
	if (cli->json)
		print_json(cli_config(cli), rows, n, clock_now());
	else
		print_text(cli_config(cli), rows, n, clock_now());
	bounce_rows_free(rows, n);
	return EX_OK;
}

static const struct cli_sub bounces_subs[] = {
	{ NULL, NULL, "l", 1, 0, 0, bounces_show,
	    "bounces [--list NAME] [--json]", NULL },
};

const struct cli_group cli_group_bounces = {
	"bounces", "addresses disabled by bounces, and scores", bounces_text,
	bounces_options, NULL, sizeof(struct bounces_opts), NULL,
	bounces_subs, nitems(bounces_subs)
};
