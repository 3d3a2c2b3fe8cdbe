/*
 * clarion inbound: the inbound mail commands.
 *   classify FILE... [--json] [--domain D]: classify saved messages
 *     offline, as the inbound process would, without touching anything.
 *   run: read the IMAP mailbox (cli_inbound_run.c).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"

static const char inbound_text[] =
    "  classify  print how each saved message (.eml) would be classified:\n"
    "            FILE, class, recipient, status and reason, tab-separated\n"
    "            (\"-\" when empty), or one JSON object a line with --json\n"
    "  run       read the IMAP mailbox and act on each new message\n";

static const char classify_text[] =
    "Classifies each message file offline: bounce-hard, bounce-soft,\n"
    "complaint, auto-reply, unsubscribe, reply or unknown. The addresses\n"
    "(domain, local parts, delimiter) come from the configuration when it\n"
    "can be read, else the defaults with domain example.org.\n\n"
    "  --domain D   our domain (overrides the configuration)\n"
    "  --json       one JSON object per file: file, class, recipient,\n"
    "               status, reason, token, token_purpose, message_id,\n"
    "               subject\n\n"
    "A file that cannot be read is reported and skipped; the exit status\n"
    "is then 66.\n";

struct classify_cfg {
	struct classify_opts	 opts;
	struct config		*conf;
};

/* Addresses from the configuration when one can be read, else defaults. */
static void
classify_cfg_init(struct cli *cli, struct classify_cfg *cc, const char *domain)
{
	struct classify_opts	*o = &cc->opts;
	char			*cause = NULL;

	o->domain = "example.org";
	o->bounce_local = "bounces";
	o->reply_local = "reply";
	o->unsubscribe_local = "unsubscribe";
	o->delimiter = '+';
	o->max_size = 50 * 1024 * 1024;
	cc->conf = NULL;
	if (cli->config_path != NULL && access(cli->config_path, R_OK) == 0) {
		if ((cc->conf = config_load(cli->config_path, &cause)) == NULL) {
			lines_print(stderr, "clarion: ", cause);
			fprintf(stderr, "clarion: (using the defaults)\n");
			free(cause);
		}
	}
	if (cc->conf != NULL) {
		o->domain = cc->conf->domain;
		o->bounce_local = cc->conf->bounce_local;
		o->reply_local = cc->conf->reply_local;
		o->unsubscribe_local = cc->conf->unsubscribe_local;
		o->delimiter = cc->conf->delimiter;
		if (cc->conf->imap.max_message_size > 0)
			o->max_size = (size_t)cc->conf->imap.max_message_size;
	}
	if (domain != NULL)
		o->domain = domain;
}

static const char *
dash(const char *s)
{
	return s == NULL || *s == '\0' ? "-" : s;
}

static void
print_json(const char *file, const struct classify_result *r)
{
	char	 purpose[2] = { (char)r->token_purpose, '\0' };
	json_t	*o;
	char	*s;

	o = json_pack("{s:s, s:s, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?}",
	    "file", file, "class", inbound_class_name(r->class),
	    "recipient", r->recipient, "status", r->status,
	    "reason", r->reason, "token", r->token,
	    "token_purpose", r->token_purpose ? purpose : NULL,
	    "message_id", r->message_id, "subject", r->subject);
	if (o == NULL) {
		/* json_pack refuses a file name that is not UTF-8 */
		fprintf(stderr, "clarion: a file name is not UTF-8; its "
		    "result (%s) is not shown\n", inbound_class_name(r->class));
		return;
	}
	s = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
	if (s != NULL)
		printf("%s\n", s);
	free(s);
	json_decref(o);
}

static int
classify_one(const char *file, const struct classify_opts *o, int json)
{
	struct classify_result	 r;
	char			*data, *cause = NULL;
	size_t			 len;

	if ((data = file_read(file, &len, &cause)) == NULL) {
		fprintf(stderr, "clarion: %s\n", cause);
		free(cause);
		return -1;
	}
	if (classify_message(data, len, o, &r) == -1) {
		free(data);
		fprintf(stderr, "clarion: %s: cannot classify\n", file);
		return -1;
	}
	free(data);
	if (json)
		print_json(file, &r);
	else
		printf("%s\t%s\t%s\t%s\t%s\n", file,
		    inbound_class_name(r.class), dash(r.recipient),
		    dash(r.status), dash(r.reason));
	classify_result_free(&r);
	return 0;
}

struct inbound_opts {
	const char	*domain;
	int		 once;
};

static const struct cli_option inbound_options[] = {
	{ "domain", 'd', CLI_STR, offsetof(struct inbound_opts, domain), 0 },
	{ "once", 'o', CLI_FLAG, offsetof(struct inbound_opts, once), 1 },
	{ NULL, 0, 0, 0, 0 },
};

static int
inbound_classify(struct cli *cli, void *vo, int argc, char **argv)
{
	const char		*domain = ((struct inbound_opts *)vo)->domain;
	struct classify_cfg	 cc;
	int			 rc = EX_OK, i;

	if (domain != NULL && (*domain == '\0' || strchr(domain, '@')))
		return cli_misuse(cli, "--domain needs a domain name");
	classify_cfg_init(cli, &cc, domain);
	for (i = 0; i < argc; i++) {
		if (classify_one(argv[i], &cc.opts, cli->json) == -1)
			rc = EX_NOINPUT;
		fflush(stdout);
	}
	config_free(cc.conf);
	return rc;
}

static int
inbound_read(struct cli *cli, void *vo, int argc, char **argv)
{
	return cli_inbound_run(cli, ((struct inbound_opts *)vo)->once);
}

static const struct cli_sub inbound_subs[] = {
	{ "classify", NULL, "d", 1, 1, -1, inbound_classify,
	    "inbound classify [--json] [--domain D] FILE...", classify_text },
	{ "run", NULL, "o", 1, 0, 0, inbound_read,
	    "inbound run [--once] [--json]",
	    cli_inbound_run_text },
};

const struct cli_group cli_group_inbound = {
	"inbound", "classify saved mail; read the mailbox", inbound_text,
	inbound_options, NULL, sizeof(struct inbound_opts), NULL,
	inbound_subs, nitems(inbound_subs)
};
