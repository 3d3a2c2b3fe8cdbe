/*
 * clarion item preview / clarion item test: exactly what one person would
 * get, printed, or sent once (marked as a test) through the configured
 * transport. Both make a run of purpose "test" so the content is built by
 * the same code as a real issue; that run never has members' deliveries.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"

static const char preview_usage[] =
    "usage: clarion item preview ITEM [--subscriber ADDRESS] "
    "[--text | --html | --raw]\n"
    "       clarion item test ITEM --to ADDRESS [--subscriber ADDRESS]\n\n"
    "preview prints what the next issue of ITEM would look like for one\n"
    "member (by default the list's first member): the text part (--text,\n"
    "the default), the HTML part (--html) or the whole message as sent\n"
    "(--raw). test sends one copy, marked as a test, to ADDRESS through the\n"
    "configured transport.\n";

struct preview_opts {
	const char	*subscriber;
	const char	*to;
	int		 mode;	/* 't' text, 'h' html, 'r' raw */
};

/* A run of purpose "test" with its context frozen, never sent to members. */
static int
test_run(struct cli *cli, const struct item *item, int64_t *run)
{
	struct db	*db = cli_db(cli);
	json_t		*jc;
	char		*text, *cause = NULL;
	int		 empty = 0;
	time_t		 now = clock_now();

	if (db_run_insert(db, item->id, now, "test", "done", "preview", 0,
	    run) == -1)
		return cli_error(EX_SOFTWARE, "cannot record the test run: %s",
		    db_errmsg(db));
	if ((text = db_run_context(db, *run)) != NULL) {
		free(text);
		return EX_OK;
	}
	if (run_context_build(db, cli->conf, *run, &jc, &empty, &cause) == -1) {
		cli_error(EX_DATAERR, "%s: %s", item->name, cause);
		free(cause);
		return EX_DATAERR;
	}
	if (empty)
		fprintf(stderr, "clarion: note: %s has nothing to send now; a "
		    "real issue would be skipped\n", item->name);
	text = json_dumps(jc, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(jc);
	if (db_run_freeze(db, *run, text) == -1) {
		free(text);
		return cli_error(EX_SOFTWARE, "%s", db_errmsg(db));
	}
	free(text);
	return EX_OK;
}

/* The member a preview is for; a stand-in when the list is empty. */
static int
pick_member(struct cli *cli, const struct item *item, const char *want,
    struct recipient *r, char **addr, char **name, json_t **attrs)
{
	struct db	*db = cli_db(cli);
	int64_t		 id;
	char		*norm = NULL, *cause = NULL;

	if (want != NULL && addr_normalize(want, &norm, &cause) == -1) {
		cli_error(EX_DATAERR, "%s: %s", want, cause);
		free(cause);
		return EX_DATAERR;
	}
	memset(r, 0, sizeof *r);
	if (db_preview_subscriber(db, item->list_id, norm, &id) == 0 &&
	    db_subscriber_get(db, id, addr, name, attrs) == 0) {
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
	if (db_delivery_test(cli->db, run, norm, clock_now(), &delivery) == -1) {
		free(norm);
		return cli_error(EX_SOFTWARE, "%s", db_errmsg(cli->db));
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

static int
preview_parse(int argc, char **argv, struct preview_opts *o, int test)
{
	static const struct option opts[] = {
		{ "subscriber", required_argument, NULL, 's' },
		{ "to", required_argument, NULL, 'T' },
		{ "text", no_argument, NULL, 't' },
		{ "html", no_argument, NULL, 'h' },
		{ "raw", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	int	 ch;

	memset(o, 0, sizeof *o);
	o->mode = 't';
	optind = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			o->subscriber = optarg;
			break;
		case 'T':
			o->to = optarg;
			break;
		case 't':
		case 'h':
		case 'r':
			o->mode = ch;
			break;
		case 'H':
			return cli_usage(preview_usage, NULL) == EX_OK ? -2 : -1;
		default:
			return -1;
		}
	}
	if (optind + 1 != argc || (test && o->to == NULL) || (!test &&
	    o->to != NULL))
		return -1;
	return optind;
}

/* argv[0] is "preview" or "test"; argv[1..] its arguments. */
int
cli_item_preview(struct cli *cli, int argc, char **argv)
{
	struct preview_opts o;
	struct item	 item;
	struct recipient r;
	struct composer	*c;
	int64_t		 run;
	char		*addr = NULL, *name = NULL;
	json_t		*attrs = NULL;
	int		 i, rc, test = strcmp(argv[0], "test") == 0;

	if ((i = preview_parse(argc, argv, &o, test)) < 0)
		return i == -2 ? EX_OK : cli_usage(preview_usage, "bad usage");
	item_init(&item);
	if (db_item_find(cli_db(cli), argv[i], &item) == -1)
		return cli_error(EX_NOINPUT, "%s: no such item", argv[i]);
	if ((rc = test_run(cli, &item, &run)) != EX_OK ||
	    (rc = pick_member(cli, &item, o.subscriber, &r, &addr, &name,
	    &attrs)) != EX_OK) {
		item_clear(&item);
		return rc;
	}
	cli_keys(cli, &cli->keys);
	c = composer_new(cli->db, cli->conf, &cli->keys);
	if (test)
		rc = send_test(cli, c, run, &r, o.to);
	else
		rc = print_preview(c, run, &r, o.mode);
	composer_free(c);
	item_clear(&item);
	free(addr);
	free(name);
	json_decref(attrs);
	return rc;
}
