/*
 * The inbound child, seen from the daemon: the loop's inbound step keeps
 * one child process reading the mailbox (inbound.c's pass) while
 * imap.enabled, restarts it with backoff when it dies (each death is
 * recorded for `clarion status`) or when a reload changes its settings,
 * and stops it at shutdown. The child has its own database connection;
 * it talks to the daemon only through the database.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clarion.h"

/* The parent's view of its child. */
static pid_t	 child_pid;
static int	 child_failures;
static time_t	 child_started, child_restart_at;
static char	*child_print;	/* the settings it was started with */

/* The child: its own database connection, never the parent's. */
static void NORETURN
child_main(const struct config *conf, const struct token_keys *keys)
{
	struct db	*db;
	char		*cause = NULL;

	inbound_signals();
#ifdef __linux__
	/* An orphan would keep reading mail (and clariond's pid file lock). */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
	if (getppid() == 1)
		_exit(0);
	if ((db = db_open(conf->database, 0, &cause)) == NULL) {
		log_warnx("inbound: %s", cause);
		_exit(EX_SOFTWARE);
	}
	log_info("inbound: reading %s (pid %ld)", conf->imap.mailbox,
	    (long)getpid());
	inbound_run(conf, db, keys, 0, NULL, &cause);
	db_close(db);
	_exit(0);
}

static time_t
mono_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/*
 * For `clarion status`, another process: how often the child died and
 * how the last time. Every exit reaped here is unexpected (a stop is
 * waited for by inbound_stop()).
 */
static void
crash_record(struct db *db, int status)
{
	char	*when, *v, *n, *why = NULL;

	if ((v = db_state_get(db, "inbound_crashes")) == NULL)
		v = xstrdup("0");
	xasprintf(&n, "%ld", strtol(v, NULL, 10) + 1);
	free(v);
	when = time_format_iso(clock_now());
	if (WIFSIGNALED(status))
		xasprintf(&v, "%s killed by signal %d (%s)", when != NULL ?
		    when : "", WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		xasprintf(&v, "%s exited with status %d", when != NULL ? when :
		    "", WEXITSTATUS(status));
	if (db_state_set(db, "inbound_crashes", n, &why) == -1 ||
	    db_state_set(db, "inbound_last_crash", v, &why) == -1)
		log_warnx("inbound: cannot record the child's exit: %s", why);
	free(why);
	free(when);
	free(v);
	free(n);
}

static void
child_reap(struct db *db)
{
	int	 status = 0;
	pid_t	 pid;
	time_t	 ran, delay;

	if (child_pid <= 0 ||
	    (pid = waitpid(child_pid, &status, WNOHANG)) == 0)
		return;
	if (pid == -1 && errno == EINTR)
		return;
	ran = mono_now() - child_started;
	if (ran > 600)
		child_failures = 0;
	child_failures++;
	delay = (time_t)5 << (child_failures > 6 ? 6 : child_failures - 1);
	if (delay > INBOUND_BACKOFF_MAX)
		delay = INBOUND_BACKOFF_MAX;
	if (WIFSIGNALED(status))
		log_warnx("inbound: child %ld killed by signal %d; restarting "
		    "in %lds", (long)child_pid, WTERMSIG(status), (long)delay);
	else
		log_warnx("inbound: child %ld exited with status %d; "
		    "restarting in %lds", (long)child_pid, WEXITSTATUS(status),
		    (long)delay);
	if (pid == child_pid)
		crash_record(db, status);
	child_pid = 0;
	child_restart_at = mono_now() + delay;
}

/*
 * What the child runs with, so a reload (SIGHUP) that changes any of it
 * restarts the child. Secrets enter only as keyed hashes.
 */
static char *
child_fingerprint(const struct daemon_ctx *ctx)
{
	const struct config	*c = ctx->conf;
	const struct imap_config *i = &c->imap;
	char			 pw[80] = "", key[80], *s;

	if (i->password != NULL)
		token_hash_address(&ctx->keys, i->password, pw, sizeof pw);
	token_hash_address(&ctx->keys, "clarion inbound key check", key,
	    sizeof key);
	xasprintf(&s, "%s|%s|%s|%s|%s|%d|%d|%s|%s|%d|%d|%d|%ld|%s|%s|%s|%s|"
	    "%c|%s|%s|%s|%d|%d|%s|%d|%lld", i->url != NULL ? i->url : "",
	    i->user != NULL ? i->user : "", i->password_file != NULL ?
	    i->password_file : "", pw, i->ca_file != NULL ? i->ca_file : "",
	    i->tls_verify, i->starttls, i->mailbox, i->folder_prefix,
	    i->poll_interval, i->idle, i->timeout, i->max_message_size,
	    c->domain != NULL ? c->domain : "", c->bounce_local, c->reply_local, c->unsubscribe_local,
	    c->delimiter, c->database, c->templates_dir, c->timezone,
	    c->bounce_threshold, c->bounce_window, key, ctx->keys.has_old,
	    (long long)ctx->keys.old_until);
	return s;
}

static int
settings_changed(const struct daemon_ctx *ctx)
{
	char	*now = child_fingerprint(ctx);
	int	 changed;

	changed = child_print == NULL || strcmp(now, child_print) != 0;
	free(now);
	return changed;
}

static int
child_start(struct daemon_ctx *ctx)
{
	pid_t	 pid;

	/*
	 * The SMTP connections' threads must be idle at the fork: one in the
	 * middle of a transfer may hold a lock (GnuTLS, libc) the child would
	 * then wait for forever. Usually nothing is on the wire here.
	 */
	send_drain(ctx);
	if ((pid = fork()) == -1) {
		log_warn("inbound: fork");
		return -1;
	}
	if (pid == 0)
		child_main(ctx->conf, &ctx->keys);
	child_pid = pid;
	child_started = mono_now();
	free(child_print);
	child_print = child_fingerprint(ctx);
	return 0;
}

/*
 * The daemon loop's step: keeps the child running while imap.enabled,
 * restarting it with backoff.
 */
int
inbound_step(struct daemon_ctx *ctx)
{
	int	 rc = 0;

	child_reap(ctx->db);
	if (!ctx->conf->imap.enabled) {
		if (child_pid > 0)
			inbound_stop(ctx);
		return rc;
	}
	if (child_pid > 0 && settings_changed(ctx)) {
		log_info("inbound: settings changed; restarting the child");
		inbound_stop(ctx);
	}
	if (child_pid == 0 && !ctx->stopping &&
	    mono_now() >= child_restart_at && child_start(ctx) == -1)
		rc = -1;
	return rc;
}

/*
 * At shutdown: SIGTERM, then wait (SIGKILL after imap.timeout + 5 s).
 * SIGTERM is repeated each second: one that lands just before the child
 * blocks in poll() sets its flag but cannot wake it; the next one does.
 */
void
inbound_stop(struct daemon_ctx *ctx)
{
	struct timespec	 ts = { 0, 100 * 1000 * 1000 };
	int		 status, i, limit;

	if (child_pid <= 0)
		return;
	limit = (ctx->conf->imap.timeout + 5) * 10;
	for (i = 0; i < limit; i++) {
		if (i % 10 == 0)
			kill(child_pid, SIGTERM);
		if (waitpid(child_pid, &status, WNOHANG) != 0)
			break;
		nanosleep(&ts, NULL);
	}
	if (i == limit) {
		log_warnx("inbound: child %ld did not stop; killing it",
		    (long)child_pid);
		kill(child_pid, SIGKILL);
		waitpid(child_pid, &status, 0);
	}
	child_pid = 0;
}
