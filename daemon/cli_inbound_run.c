/*
 * clarion inbound run [--once]: reads the IMAP mailbox in the foreground,
 * without clariond: classifies, applies and files each new message. With
 * --once it makes one pass and exits; otherwise it waits for new mail
 * (IDLE, else imap.poll_interval) until SIGTERM or SIGINT.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include <string.h>

#include <jansson.h>

#include "cli.h"

const char cli_inbound_run_text[] =
    "Reads the mailbox set in the imap group of the configuration (even\n"
    "when imap.enabled is false), as clariond's inbound process does:\n"
    "each new message is classified, its effect applied once, and it is\n"
    "filed into a folder under imap.folder_prefix.\n\n"
    "  --once   one pass over the mailbox, then exit (69 if the server\n"
    "           cannot be reached or refuses us)\n"
    "  --json   what happened to each message, as JSON\n\n"
    "It prints how many messages of each class went to which folder, and\n"
    "what was done with each (its UID, class, folder and action).\n";

/*
 * What the pass did: the count by class and folder, then each message.
 * The rows are the pass's own (ids after the last one before it).
 */
static void
report(struct cli *cli, int64_t since, long n)
{
	struct inbound_row *v;
	size_t		 i, k, nv;
	json_t		*by = json_object(), *msgs = json_array(), *o;
	const char	*key;
	char		*cf;
	json_t		*c;

	if (db_inbound_since(cli_db(cli), since, &v, &nv) == -1)
		nv = 0;
	for (i = 0; i < nv; i++) {
		xasprintf(&cf, "%s -> %s", v[i].class, v[i].folder);
		c = json_object_get(by, cf);
		json_object_set_new(by, cf, json_integer(c != NULL ?
		    json_integer_value(c) + 1 : 1));
		free(cf);
		json_array_append_new(msgs, json_pack("{s:I, s:s, s:s, s:s}",
		    "uid", (json_int_t)v[i].uid, "class", v[i].class,
		    "folder", v[i].folder, "action", v[i].action));
	}
	if (cli->json) {
		o = json_pack("{s:I, s:O, s:O}", "processed", (json_int_t)n,
		    "by_class", by, "messages", msgs);
		cli_json_print(o);
		json_decref(o);
	} else {
		printf("inbound: %ld message%s processed\n", n, n == 1 ? "" :
		    "s");
		json_object_foreach(by, key, c)
			printf("  %3lld %s\n", (long long)json_integer_value(c),
			    key);
		for (k = 0; k < nv; k++)
			printf("  uid %u: %s -> %s: %s\n", v[k].uid, v[k].class,
			    v[k].folder, v[k].action);
	}
	for (i = 0; i < nv; i++) {
		free(v[i].class);
		free(v[i].folder);
		free(v[i].action);
	}
	free(v);
	json_decref(by);
	json_decref(msgs);
}

int
cli_inbound_run(struct cli *cli, int once)
{
	struct config	*conf;
	struct token_keys keys;
	char		*cause = NULL;
	long		 n = 0;
	int64_t		 since;
	int		 rc;

	conf = cli_config(cli);
	if (conf->imap.url == NULL || conf->imap.user == NULL)
		return cli_error(EX_CONFIG, "%s: imap.url and imap.user are "
		    "needed to read the mailbox", conf->path);
	cli_keys(cli, &keys);
	inbound_signals();
	since = db_inbound_last_id(cli_db(cli));
	rc = inbound_run(conf, cli_db(cli), &keys, once, &n, &cause);
	explicit_zero(&keys, sizeof keys);
	if (rc == -1) {
		rc = cli_error(EX_UNAVAILABLE, "%s", cause);
		free(cause);
		return rc;
	}
	report(cli, since, n);
	return EX_OK;
}
