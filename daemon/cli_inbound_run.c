/*
 * clarion inbound run [--once]: reads the IMAP mailbox in the foreground,
 * without clariond: classifies, applies and files each new message. With
 * --once it makes one pass and exits; otherwise it waits for new mail
 * (IDLE, else imap.poll_interval) until SIGTERM or SIGINT.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

const char cli_inbound_run_text[] =
    "Reads the mailbox set in the imap group of the configuration (even\n"
    "when imap.enabled is false), as clariond's inbound process does:\n"
    "each new message is classified, its effect applied once, and it is\n"
    "filed into a folder under imap.folder_prefix.\n\n"
    "  --once   one pass over the mailbox, then exit (69 if the server\n"
    "           cannot be reached or refuses us)\n";

int
cli_inbound_run(struct cli *cli, int once)
{
	struct config	*conf;
	struct token_keys keys;
	char		*cause = NULL;
	long		 n = 0;
	int		 rc;

	conf = cli_config(cli);
	if (conf->imap.url == NULL || conf->imap.user == NULL)
		return cli_error(EX_CONFIG, "%s: imap.url and imap.user are "
		    "needed to read the mailbox", conf->path);
	cli_keys(cli, &keys);
	inbound_signals();
	rc = inbound_run(conf, cli_db(cli), &keys, once, &n, &cause);
	explicit_zero(&keys, sizeof keys);
	if (rc == -1) {
		rc = cli_error(EX_UNAVAILABLE, "%s", cause);
		free(cause);
		return rc;
	}
	printf("inbound: %ld message%s processed\n", n, n == 1 ? "" : "s");
	return EX_OK;
}
