/*
 * smtp_drive: runs the daemon's send step against a real server, for the
 * integration tests (tests/smtp.sh, tests/smtp-crash.sh, bench/smtp.sh).
 * Not a test by itself (not in TESTS).
 *
 *   smtp_drive -c CONFIG [--once]
 *
 * It recovers deliveries left in 'sending', then calls send_step() until
 * it has nothing more to do (or once), exactly as clariond's loop does.
 * SIGTERM/SIGINT stay blocked, so daemon_stopping() sees them pending, as
 * in clariond.
 *
 * The message of each delivery comes from this file's compose_message(),
 * not the composer's: a plain message with the delivery's address and id
 * inside and the VERP envelope sender made with the real token code, so
 * the tests can insert thousands of deliveries directly without lists,
 * templates and runs. (It takes precedence over compose.c's at link time;
 * nothing else here needs compose.o.) Bounces go to the real
 * bounce_record().
 */
#include "config.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clarion.h"

int
compose_message(struct daemon_ctx *ctx, int64_t id, struct outmsg *m,
    char **cause)
{
	struct delivery_claim d;
	char		 tok[TOKEN_MAX];
	const char	*size;
	long		 pad = 0;

	memset(m, 0, sizeof *m);
	memset(&d, 0, sizeof d);
	if (db_delivery_get(ctx->db, id, &d) == -1 || d.address == NULL) {
		xasprintf(cause, "delivery %lld: no such delivery or no address",
		    (long long)id);
		return -1;
	}
	token_make(&ctx->keys, TOKEN_BOUNCE, id, tok, sizeof tok);
	m->delivery_id = id;
	xasprintf(&m->envelope_from, "%s%c%s@%s", ctx->conf->bounce_local,
	    ctx->conf->delimiter, tok, ctx->conf->domain);
	m->rcpt = d.address;
	buf_init(&m->data);
	buf_addf(&m->data, "From: Members <list@%s>\r\nTo: <%s>\r\n"
	    "Subject: Run %lld\r\nMessage-ID: <d%lld@%s>\r\n"
	    "X-Clarion-Delivery: %lld\r\n\r\nHello %s, this is delivery "
	    "%lld.\r\n", ctx->conf->domain, d.address, (long long)d.run_id,
	    (long long)id, ctx->conf->domain, (long long)id, d.address,
	    (long long)id);
	if ((size = getenv("SMTP_DRIVE_SIZE")) != NULL)
		pad = strtol(size, NULL, 10) - (long)m->data.len;
	for (; pad > 0; pad -= 72)
		buf_adds(&m->data, "Lorem ipsum dolor sit amet, consectetur "
		    "adipiscing elit, sed do eiusmod.\r\n");
	return 0;
}

void
outmsg_free(struct outmsg *m)
{
	if (m == NULL)
		return;
	free(m->envelope_from);
	free(m->rcpt);
	buf_free(&m->data);
}

static struct daemon_ctx *
drive_setup(const char *path)
{
	struct daemon_ctx *ctx;
	unsigned char	*secret;
	size_t		 len;
	long		 holder;
	char		*cause;

	ctx = xcalloc(1, sizeof *ctx);
	if ((ctx->conf = config_load(path, &cause)) == NULL ||
	    config_load_secret(ctx->conf, &secret, &len, &cause) == -1)
		fatalx("%s", cause);
	if (token_keys_init(&ctx->keys, secret, len, NULL, 0) == -1)
		fatalx("token secret too short");
	explicit_zero(secret, len);
	free(secret);
	/* It recovers rows in 'sending': only as the database's one daemon. */
	if (daemon_lock(ctx->conf->database, &holder, &cause) == -1)
		fatalx("%s", cause);
	if ((ctx->db = db_open(ctx->conf->database, 0, &cause)) == NULL)
		fatalx("%s", cause);
	log_set_hash_key(ctx->keys.key, sizeof ctx->keys.key);
	return ctx;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "once", no_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	struct daemon_ctx *ctx;
	struct sigaction sa;
	sigset_t	 block;
	const char	*path = NULL;
	int		 ch, once = 0, rc;

	while ((ch = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
		if (ch == 'c')
			path = optarg;
		else if (ch == 'o')
			once = 1;
		else
			return EX_USAGE;
	}
	if (path == NULL) {
		fprintf(stderr, "usage: smtp_drive -c CONFIG [--once]\n");
		return EX_USAGE;
	}
	log_init("smtp_drive", 0, getenv("DRIVE_DEBUG") != NULL ?
	    LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, NULL);
	ctx = drive_setup(path);
	if (send_recover(ctx) == -1)
		return 1;
	do
		rc = send_step(ctx);
	while (rc == 1 && !once && !daemon_stopping(ctx));
	send_finish(ctx);
	send_shutdown();
	db_close(ctx->db);
	config_free(ctx->conf);
	free(ctx);
	return rc == -1 ? 1 : 0;
}
