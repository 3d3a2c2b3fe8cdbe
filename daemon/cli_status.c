/* clarion status: the daemon's health and what the database holds. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"

static const char status_text[] =
    "Shows whether clariond is running, its last tick and last errors, the\n"
    "schema version, and counts of lists, subscribers, events, items, runs\n"
    "and deliveries by state. With --check, exits 69 (EX_UNAVAILABLE) when\n"
    "the daemon is not running, has not ticked recently, or cannot write\n"
    "to the database, for monitoring.\n";

struct health {
	long	 pid;
	int	 alive;
	time_t	 last_tick;
	long	 tick;
	int	 stale;
	char	*smtp_error;
	char	*imap_error;
	long	 inbound_crashes;	/* the inbound child died */
	char	*inbound_last_crash;
	long	 quarantined;		/* messages that killed it */
	time_t	 last_quarantined;
	char	*db_fault;	/* the running daemon cannot write, now */
	char	*db_error;	/* the last time it could not */
};

static long
state_long(struct db *db, const char *key)
{
	char	*v;
	long	 n;

	if ((v = db_state_get(db, key)) == NULL)
		return 0;
	n = strtol(v, NULL, 10);
	free(v);
	return n;
}

static void
health_get(struct db *db, const struct config *conf, struct health *h)
{
	memset(h, 0, sizeof *h);
	/* The daemon's lock says it runs; the pid in the database may lie. */
	h->pid = daemon_lock_holder(conf->database);
	h->alive = h->pid > 0;
	h->last_tick = (time_t)state_long(db, "last_tick");
	h->tick = state_long(db, "tick");
	if (h->tick <= 0)
		h->tick = conf->tick;
	/* A daemon blocked in a long send still ticks within a few ticks. */
	h->stale = h->last_tick == 0 ||
	    clock_now() - h->last_tick > 3 * h->tick + 60;
	h->smtp_error = db_state_get(db, "last_smtp_error");
	h->imap_error = db_state_get(db, "last_imap_error");
	h->inbound_crashes = state_long(db, "inbound_crashes");
	h->inbound_last_crash = db_state_get(db, "inbound_last_crash");
	db_inbound_quarantined(db, &h->quarantined, &h->last_quarantined);
	h->db_error = db_state_get(db, "last_db_error");
	if (h->alive)
		h->db_fault = daemon_lock_note_get(conf->database);
}

static json_t *
counts_json(const struct db_count *c, size_t n)
{
	json_t	*o = json_object();
	size_t	 i;

	for (i = 0; i < n; i++)
		json_object_set_new(o, c[i].name, json_integer(c[i].count));
	return o;
}

static void
print_json(const struct db_status *s, const struct health *h)
{
	json_t	*o, *d;

	d = json_pack("{s:b, s:I, s:I, s:s?, s:s?, s:I, s:s?, s:I, s:s?, s:s?}",
	    "running", h->alive, "pid", (json_int_t)h->pid, "last_tick",
	    (json_int_t)h->last_tick, "last_smtp_error", h->smtp_error,
	    "last_imap_error", h->imap_error, "inbound_crashes",
	    (json_int_t)h->inbound_crashes, "inbound_last_crash",
	    h->inbound_last_crash, "quarantined", (json_int_t)h->quarantined,
	    "database_write_error", h->db_fault, "last_database_error",
	    h->db_error);
	o = json_pack("{s:o, s:i, s:I, s:I, s:I, s:I, s:o, s:o}", "daemon", d,
	    "schema_version", s->version, "lists", (json_int_t)s->lists,
	    "subscribers", (json_int_t)s->subscribers, "events",
	    (json_int_t)s->events, "items", (json_int_t)s->items, "runs",
	    counts_json(s->runs, s->nruns), "deliveries",
	    counts_json(s->deliveries, s->ndeliveries));
	cli_json_print(o);
	json_decref(o);
}

static void
print_counts(const char *title, const struct db_count *c, size_t n)
{
	size_t	 i;

	printf("%-16s", title);
	if (n == 0)
		printf("none");
	for (i = 0; i < n; i++)
		printf("%s%s %ld", i ? ", " : "", c[i].name, c[i].count);
	printf("\n");
}

/* Only when there were any: a quiet status for a healthy mailbox. */
static void
print_inbound_faults(const struct health *h, const struct config *conf)
{
	char	*when;

	if (h->inbound_crashes > 0)
		printf("%-16s%ld crash%s of the inbound child, the last %s\n",
		    "inbound:", h->inbound_crashes, h->inbound_crashes == 1 ?
		    "" : "es", h->inbound_last_crash != NULL ?
		    h->inbound_last_crash : "unknown");
	if (h->quarantined > 0) {
		when = time_format_local(h->last_quarantined, conf->timezone,
		    "%Y-%m-%d %H:%M:%S %Z");
		printf("%-16s%ld message%s, the last %s (folder %s under %s)\n",
		    "quarantined:", h->quarantined, h->quarantined == 1 ? "" :
		    "s", when, imap_folder_names[IMAP_QUARANTINE],
		    conf->imap.folder_prefix);
		free(when);
	}
}

static void
print_text(const struct db_status *s, const struct health *h,
    const struct config *conf)
{
	char	*when;

	if (h->alive) {
		when = time_format_local(h->last_tick, conf->timezone,
		    "%Y-%m-%d %H:%M:%S %Z");
		printf("%-16srunning (pid %ld), last tick %s%s\n", "daemon:",
		    h->pid, when, h->stale ? " (STALE)" : "");
		free(when);
	} else
		printf("%-16snot running\n", "daemon:");
	if (h->smtp_error != NULL)
		printf("%-16s%s\n", "last SMTP error:", h->smtp_error);
	if (h->imap_error != NULL)
		printf("%-16s%s\n", "last IMAP error:", h->imap_error);
	print_inbound_faults(h, conf);
	if (h->db_fault != NULL)
		printf("%-16s%s\n", "DB WRITE ERROR:", h->db_fault);
	if (h->db_error != NULL)
		printf("%-16s%s\n", "last DB error:", h->db_error);
	printf("%-16s%s (schema version %d)\n", "database:", conf->database,
	    s->version);
	printf("%-16s%ld\n", "lists:", s->lists);
	printf("%-16s%ld\n", "subscribers:", s->subscribers);
	printf("%-16s%ld\n", "events:", s->events);
	printf("%-16s%ld\n", "items:", s->items);
	print_counts("runs:", s->runs, s->nruns);
	print_counts("deliveries:", s->deliveries, s->ndeliveries);
}

struct status_opts {
	int		 check;
};

static const struct cli_option status_options[] = {
	{ "check", 'k', CLI_FLAG, offsetof(struct status_opts, check), 1 },
	{ NULL, 0, 0, 0, 0 },
};

static int
status_show(struct cli *cli, void *vo, int argc, char **argv)
{
	char		*cause = NULL;
	struct db_status s;
	struct health	 h;
	struct db	*db;
	int		 check = ((struct status_opts *)vo)->check, faulty;

	db = cli_db(cli);
	if (db_status_get(db, &s, &cause) == -1)
		return cli_fail(EX_SOFTWARE, &cause);
	health_get(db, cli->conf, &h);
	if (cli->json)
		print_json(&s, &h);
	else
		print_text(&s, &h, cli->conf);
	db_status_free(&s);
	faulty = h.db_fault != NULL;
	free(h.smtp_error);
	free(h.imap_error);
	free(h.inbound_last_crash);
	free(h.db_fault);
	free(h.db_error);
	if (check && (!h.alive || h.stale || faulty))
		return EX_UNAVAILABLE;
	return EX_OK;
}

static const struct cli_sub status_subs[] = {
	{ NULL, NULL, "k", 1, 0, 0, status_show, "status [--check] [--json]",
	    NULL },
};

const struct cli_group cli_group_status = {
	"status", "show the daemon's health and the counts", status_text,
	status_options, NULL, sizeof(struct status_opts), NULL, status_subs,
	nitems(status_subs)
};
