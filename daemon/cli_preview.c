/*
 * clarion item preview / clarion item test: exactly what one person would
 * get, printed, or sent once (marked as a test) through the configured
 * transport. Both build the next due issue (its due time, so its date and
 * event window) with the same code as the daemon. A preview does it
 * inside a transaction it rolls back: it leaves no run behind. A test
 * keeps its run of purpose "test", which never has members' deliveries,
 * because a reply to the test is matched through it.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"

const char cli_preview_text[] =
    "preview prints the next due issue of ITEM (its date and its events)\n"
    "as one member will get it (by default the first member the item's\n"
    "segment selects): the text part (--text, the default), the HTML part\n"
    "(--html) or the whole message as sent (--raw). It records nothing.\n"
    "test sends one copy, marked as a test, to ADDRESS through the\n"
    "configured transport.\n";

/* The issue a preview shows: the next due, else the last one. */
static time_t
preview_due(struct cli *cli, const struct item *item)
{
	time_t	 due;

	if ((due = cli_item_next(cli, item)) != 0)
		return due;
	return item->send_at != 0 ? item->send_at : clock_now();
}

/*
 * The run to render: for a preview, the real issue's (its context as
 * frozen, if the daemon has begun it, else built now); for a test, a run
 * of purpose "test" for the same due time, its context built afresh.
 */
static int
preview_run(struct cli *cli, const struct item *item, int test, time_t due,
    int64_t *run)
{
	struct db	*db = cli_db(cli);
	enum run_purpose purpose;
	char		*cause = NULL;
	int		 empty = 0;

	purpose = test ? PURPOSE_TEST : item_is_notice(item) ?
	    PURPOSE_NOTICE : PURPOSE_ISSUE;
	if (db_run_insert(db, item->id, due, purpose, test ? RUN_DONE :
	    RUN_PLANNED, test ? "preview" : NULL, 0, run, &cause) == -1 ||
	    (test && db_run_thaw_test(db, *run, &cause) == -1)) {
		cli_error(EX_SOFTWARE, "cannot record the test run: %s", cause);
		free(cause);
		return EX_SOFTWARE;
	}
	switch (run_context_freeze(db, cli->conf, item, *run, 0, clock_now(),
	    &empty, &cause)) {
	case RCTX_FROZEN:
	case RCTX_EMPTY:
		break;
	case RCTX_UNBUILT:
		cli_error(EX_DATAERR, "%s: %s", item->name, cause);
		free(cause);
		return EX_DATAERR;
	case RCTX_UNSTORED:
		return cli_fail(EX_SOFTWARE, &cause);
	}
	if (empty)
		fprintf(stderr, "clarion: note: %s has nothing to send for this "
		    "issue; it would be skipped\n", item->name);
	return EX_OK;
}

struct first_member {
	int64_t		 id;
};

static int
first_member_cb(void *arg, const struct recipient *r)
{
	struct first_member *f = arg;

	if (r->suppressed)
		return 0;
	f->id = r->subscriber_id;
	return 1;	/* stop the walk */
}

/* The first member the item would really go to; 0 if none. */
static int64_t
segment_member(struct cli *cli, const struct item *item)
{
	struct first_member f;
	char		*cause = NULL;

	f.id = 0;
	cli_keys(cli, &cli->keys);
	subscriber_recipients(cli_db(cli), &cli->keys, item->list_id,
	    item->segment, first_member_cb, &f, &cause);
	free(cause);
	return f.id;
}

/* Says so when the member asked for is outside the item's segment. */
static void
segment_warn(const struct item *item, const struct recipient *r)
{
	struct segment	*seg;
	char		*cause = NULL;

	if (*item->segment == '\0' ||
	    (seg = segment_parse(item->segment, &cause)) == NULL) {
		free(cause);
		return;
	}
	if (!segment_match(seg, r->address, r->name, r->attrs))
		fprintf(stderr, "clarion: note: %s is outside the segment %s: "
		    "they would not get this\n", r->address, item->segment);
	segment_free(seg);
}

/* The member a preview is for; a stand-in when the list is empty. */
static int
pick_member(struct cli *cli, const struct item *item, const char *want,
    struct recipient *r, char **addr, char **name, json_t **attrs)
{
	struct db	*db = cli_db(cli);
	int64_t		 id = 0;
	char		*norm = NULL, *cause = NULL;

	if (want != NULL && addr_normalize(want, &norm, &cause) == -1) {
		cli_error(EX_DATAERR, "%s: %s", want, cause);
		free(cause);
		return EX_DATAERR;
	}
	memset(r, 0, sizeof *r);
	if (norm != NULL)
		db_preview_subscriber(db, item->list_id, norm, &id);
	else
		id = segment_member(cli, item);
	if (id != 0 && subscriber_get(db, id, addr, name, attrs) == 0) {
		free(norm);
		r->subscriber_id = id;
		r->address = *addr;
		r->name = *name;
		r->attrs = *attrs;
		return EX_OK;
	}
	if (norm != NULL) {
		cli_error(EX_NOUSER, "%s: no such subscriber", norm);
		free(norm);
		return EX_NOUSER;
	}
	*addr = xstrdup("member@example.org");
	*name = xstrdup("A. Member");
	*attrs = json_object();
	r->address = *addr;
	r->name = *name;
	r->attrs = *attrs;
	return EX_OK;
}

/* On stderr, so stdout stays the message: which issue, whom, how many. */
static void
preview_note(struct cli *cli, const struct item *item, time_t due,
    const struct recipient *r)
{
	long	 reach, total;
	char	*when = cli_local(cli, due), *cause = NULL;

	fprintf(stderr, "clarion: preview of the issue due %s for %s", when,
	    r->subscriber_id != 0 ? r->address : "a stand-in member");
	free(when);
	if (subscriber_reach(cli_db(cli), item->list_id, item->segment, &reach,
	    &total, &cause) == 0)
		fprintf(stderr, "; %s reaches %ld of the list's %ld subscribed "
		    "member%s", item->name, reach, total, total == 1 ? "" : "s");
	free(cause);
	fprintf(stderr, "\n");
	if (r->subscriber_id != 0)
		segment_warn(item, r);
}

/* Prints the text part (with its subject), the HTML, or the message. */
static int
print_preview(struct composer *c, int64_t run, const struct recipient *r,
    int mode)
{
	struct outmsg	 out;
	struct buf	 subject, text, html;
	char		*cause = NULL;
	int		 rc = EX_OK;

	if (mode == 'r') {
		if (composer_render(c, run, 0, r, 0, &out, &cause) == -1)
			goto bad;
		fwrite(out.data.data, 1, out.data.len, stdout);
		outmsg_free(&out);
		return EX_OK;
	}
	buf_init(&subject);
	buf_init(&text);
	buf_init(&html);
	if (composer_render_parts(c, run, 0, r, 0, &subject, &text, &html,
	    &cause) == -1)
		rc = -1;
	else if (mode == 'h')
		fputs(html.data != NULL ? html.data : "", stdout);
	else
		printf("Subject: %s\n\n%s", subject.data != NULL ?
		    subject.data : "", text.data != NULL ? text.data : "");
	buf_free(&subject);
	buf_free(&text);
	buf_free(&html);
	if (rc == EX_OK)
		return EX_OK;
bad:
	rc = cli_error(EX_DATAERR, "%s", cause);
	free(cause);
	return rc;
}

static int
send_test(struct cli *cli, struct composer *c, int64_t run,
    struct recipient *r, const char *to)
{
	struct outmsg	 out;
	int64_t		 delivery;
	char		*norm, *cause = NULL, *reply = NULL;
	int		 rc;

	if (addr_normalize(to, &norm, &cause) == -1) {
		rc = cli_error(EX_DATAERR, "%s: %s", to, cause);
		free(cause);
		return rc;
	}
	/* A delivery of its own: a reply to the test finds its way back. */
	if (db_delivery_test(cli->db, run, norm, clock_now(), &delivery,
	    &cause) == -1) {
		free(norm);
		return cli_fail(EX_SOFTWARE, &cause);
	}
	r->address = norm;
	memset(&out, 0, sizeof out);
	rc = composer_render(c, run, delivery, r, 1, &out, &cause);
	if (rc == 0)
		rc = transport_send_one(cli->conf, &out, &reply, &cause);
	if (rc == 0)
		printf("test sent to %s (%s)\n", norm, reply != NULL ? reply :
		    "ok");
	else
		cli_error(EX_UNAVAILABLE, "test to %s: %s", norm, cause);
	outmsg_free(&out);
	free(reply);
	free(cause);
	free(norm);
	return rc == 0 ? EX_OK : EX_UNAVAILABLE;
}

struct preview_args {
	struct cli	*cli;
	const struct preview_opts *o;
	struct item	*item;
	int		 test;
	time_t		 due;
};

/* Builds the run and shows it (or sends the test). */
static int
preview_show(struct db *db, void *arg)
{
	struct preview_args *a = arg;
	struct cli	*cli = a->cli;
	struct recipient r;
	struct composer	*c;
	int64_t		 run;
	char		*addr = NULL, *name = NULL;
	json_t		*attrs = NULL;
	int		 rc;

	if ((rc = preview_run(cli, a->item, a->test, a->due, &run)) != EX_OK ||
	    (rc = pick_member(cli, a->item, a->o->subscriber, &r, &addr, &name,
	    &attrs)) != EX_OK)
		return rc;
	cli_keys(cli, &cli->keys);
	c = composer_new(db, cli->conf, &cli->keys);
	if (a->test)
		rc = send_test(cli, c, run, &r, a->o->to);
	else {
		preview_note(cli, a->item, a->due, &r);
		rc = print_preview(c, run, &r, a->o->mode);
	}
	composer_free(c);
	free(addr);
	free(name);
	json_decref(attrs);
	return rc;
}

/* The item key's next issue previewed, or (test) sent to o->to. */
int
cli_item_preview(struct cli *cli, const char *key,
    const struct preview_opts *o, int test)
{
	struct preview_args a;
	struct item	 item;
	struct db	*db;
	char		*cause = NULL;
	int		 rc;

	if (test && o->to == NULL)
		return cli_misuse(cli, "test needs --to ADDRESS");
	db = cli_db(cli);
	item_init(&item);
	if (db_item_find(db, key, &item, NULL) == -1)
		return cli_error(EX_NOINPUT, "%s: no such item", key);
	a.cli = cli;
	a.o = o;
	a.item = &item;
	a.test = test;
	a.due = preview_due(cli, &item);
	/* A preview's run is built in a unit of work that is rolled back. */
	if (test)
		rc = preview_show(db, &a);
	else if ((rc = db_trial(db, preview_show, &a, &cause)) == -1) {
		rc = cli_error(EX_SOFTWARE, "%s", cause != NULL ? cause :
		    "cannot build the preview");
		free(cause);
	}
	item_clear(&item);
	return rc;
}
