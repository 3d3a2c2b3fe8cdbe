/*
 * clariond(8): the daemon. It runs in the foreground (systemd style) and
 * loops: schedule -> compose -> send -> inbound, once a tick, sooner when
 * a step says it has more to do. SIGTERM/SIGINT finish the step in hand and
 * exit 0; SIGHUP re-reads the configuration and keeps the old one if the
 * new one is bad.
 */
#include "config.h"

#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "clarion.h"

static volatile sig_atomic_t got_hup;

struct step {
	const char	*name;
	int		(*fn)(struct daemon_ctx *);
};

static int	housekeeping_step(struct daemon_ctx *);

/*
 * The loop's steps, in order. A step returns -1 on error (logged, the loop
 * goes on), 0 when it is done for this tick, 1 when it has more to do now.
 */
static const struct step steps[] = {
	{ "housekeeping", housekeeping_step },
	{ "schedule", schedule_step },
	{ "compose", compose_step },
	{ "send", send_step },
	{ "digest", bounce_digest_step },
	{ "inbound", inbound_step },
};

static void
usage(void)
{
	fprintf(stderr, "usage: clariond [-dhnsV] [--once] [-c FILE] "
	    "[-p PIDFILE]\n"
	    "  -c FILE    configuration (default $CLARION_CONFIG, else %s)\n"
	    "  -n         check the configuration and exit (78 if bad)\n"
	    "  -d         debug: log everything to stderr\n"
	    "  -s         log to syslog (facility mail) instead of stderr\n"
	    "  -p FILE    write and lock a pid file\n"
	    "  --once     run the loop until no work is left, then exit\n"
	    "  -V         print the version\n", CONFIG_DEFAULT_PATH);
}

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else
		daemon_got_term = 1;
}

static void
signals_setup(sigset_t *waitmask)
{
	struct sigaction sa;
	sigset_t	 block;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);	/* peers close sockets under us */
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	/*
	 * The signals stay blocked except while we sleep in ppoll, so one
	 * that arrives between a check and the sleep still wakes it.
	 */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, waitmask);
	sigdelset(waitmask, SIGTERM);
	sigdelset(waitmask, SIGINT);
	sigdelset(waitmask, SIGHUP);
}

static int
pidfile_open(const char *path)
{
	char	 line[32];
	int	 fd;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd == -1)
		fatal("%s", path);
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK)
			fatalx("%s: another clariond is running", path);
		fatal("%s: flock", path);
	}
	snprintf(line, sizeof line, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || write(fd, line, strlen(line)) == -1)
		fatal("%s", path);
	return fd;
}

/* A cause may hold several errors, one per line: one log line each. */
static void
log_lines(const char *prefix, const char *cause)
{
	char	*copy, *p, *line;

	p = copy = xstrdup(cause);
	while ((line = strsep(&p, "\n")) != NULL)
		log_warnx("%s%s", prefix, line);
	free(copy);
}

static void
notify(const char *state)
{
#ifdef HAVE_SYSTEMD
	sd_notify(0, state);
#else
	(void)state;
#endif
}

/*
 * SIGHUP: the new configuration replaces the old only if it is valid in
 * full. The database cannot change under a running daemon.
 */
static void
reload(struct daemon_ctx *ctx)
{
	struct config	*conf;
	struct token_keys keys;
	char		*cause;

	notify("RELOADING=1");
	log_info("SIGHUP: reloading %s", ctx->conf->path);
	if ((conf = config_load(ctx->conf->path, &cause)) == NULL ||
	    token_keys_load(conf, &keys, &cause) == -1 ||
	    check_setup(conf, ctx->db, &cause) == -1) {
		log_lines("reload failed, keeping the old configuration: ",
		    cause);
		free(cause);
		config_free(conf);
		notify("READY=1");
		return;
	}
	if (strcmp(conf->database, ctx->conf->database) != 0) {
		log_warnx("reload: database cannot change while running "
		    "(restart clariond to use %s); keeping %s", conf->database,
		    ctx->conf->database);
		free(conf->database);
		conf->database = xstrdup(ctx->conf->database);
	}
	/* The composer's templates and the SMTP pool follow the new config. */
	composer_free(ctx->composer);
	ctx->composer = NULL;
	send_drain(ctx);	/* what is on the wire ends on the old pool */
	dkim_signer_free(ctx->dkim);
	ctx->dkim = NULL;
	send_shutdown();
	config_free(ctx->conf);
	ctx->conf = conf;
	ctx->keys = keys;
	explicit_zero(&keys, sizeof keys);
	log_set_level(conf->log_level > log_get_level() ? conf->log_level :
	    log_get_level());
	log_set_hash_key(ctx->keys.key, sizeof ctx->keys.key);
	log_info("configuration reloaded");
	notify("READY=1");
}

static int
housekeeping_step(struct daemon_ctx *ctx)
{
	static time_t	 last_checkpoint;
	char		 v[32];
	time_t		 now = time(NULL);

	snprintf(v, sizeof v, "%lld", (long long)clock_now());
	db_state_set(ctx->db, "last_tick", v, NULL);
	snprintf(v, sizeof v, "%d", ctx->conf->tick);
	db_state_set(ctx->db, "tick", v, NULL);
	/* Keep the WAL from growing without bound. */
	if (now - last_checkpoint >= 300) {
		db_checkpoint(ctx->db);
		last_checkpoint = now;
	}
	return 0;
}

/*
 * A damaged database fails the same way every tick, and whatever the
 * daemon writes meanwhile may make it worse: stop, and say what to do.
 */
static void
damaged_stop(struct daemon_ctx *ctx)
{
	log_warnx("%s: the database is damaged (%s); clariond is stopping. "
	    "Restore the last backup with 'clarion restore BACKUP' (it keeps "
	    "the damaged file beside the database), then start clariond "
	    "again", ctx->conf->database, db_damage_reason());
	ctx->stopping = 1;
}

/* One pass of every step; returns 1 if any step has more to do now. */
static int
loop_once(struct daemon_ctx *ctx)
{
	size_t	 i;
	int	 rc, more = 0;

	for (i = 0; i < nitems(steps) && !daemon_stopping(ctx); i++) {
		rc = steps[i].fn(ctx);
		if (db_damaged(ctx->db)) {
			damaged_stop(ctx);
			return 0;
		}
		if (rc == -1)
			log_warnx("%s step failed; will retry next tick",
			    steps[i].name);
		else if (rc > 0)
			more = 1;
	}
	return more;
}

static void
loop(struct daemon_ctx *ctx, const sigset_t *waitmask, int once)
{
	struct timespec	 ts;
	int		 more;

	while (!daemon_stopping(ctx)) {
		if (got_hup) {
			got_hup = 0;
			reload(ctx);
		}
		more = loop_once(ctx);
		if (once && !more) {
			/* One more pass records what the last one finished. */
			loop_once(ctx);
			break;
		}
		if (more)
			continue;
		ts.tv_sec = ctx->conf->tick;
		ts.tv_nsec = 0;
		if (ppoll(NULL, 0, &ts, waitmask) == -1 && errno != EINTR)
			log_warn("ppoll");
	}
}

/*
 * A database copied back by hand (not with clarion restore) may lack
 * privacy actions the journal holds: take them again before anything is
 * sent. Usually there is nothing to do.
 */
static int
journal_catch_up(struct daemon_ctx *ctx, char **cause)
{
	struct journal_replay r;
	long	 n = 0;
	size_t	 i;

	if (db_journal_replay(ctx->db, &ctx->keys, &r, cause) == -1)
		return -1;
	for (i = 0; i < nitems(r.n); i++)
		n += r.n[i];
	if (n > 0)
		log_warnx("privacy journal: %ld action%s taken since this "
		    "database was copied re-applied (restore a backup with "
		    "'clarion restore')", n, n == 1 ? "" : "s");
	return 0;
}

/*
 * The configuration, the keys, the lock that makes this the database's
 * only daemon, then the database. On failure *code is the exit status.
 */
static struct daemon_ctx *
setup(const char *path, int *code, char **cause)
{
	struct daemon_ctx *ctx;
	struct config	*conf;
	char		*w;
	long		 holder;

	*code = EX_CONFIG;
	if ((conf = config_load(path, cause)) == NULL)
		return NULL;
	ctx = xcalloc(1, sizeof *ctx);
	ctx->conf = conf;
	/* A missing database makes no lock file: db_open() says what to do. */
	if (access(conf->database, F_OK) == 0 &&
	    daemon_lock(conf->database, &holder, cause) == -1) {
		*code = holder != 0 ? EX_TEMPFAIL : EX_CANTCREAT;
		goto fail;
	}
	if ((ctx->db = db_open(conf->database, 0, cause)) == NULL) {
		*code = db_open_code();
		goto fail;
	}
	/* What check-config refuses, the daemon refuses to run with. */
	if (token_keys_load(conf, &ctx->keys, cause) == -1 ||
	    check_setup(conf, ctx->db, cause) == -1) {
		/* Damage found by the checks' reads is damage, not config. */
		if (db_damaged(ctx->db)) {
			free(*cause);
			xasprintf(cause, "%s: the database is damaged (%s); "
			    "Clarion will not use it. Restore the last backup "
			    "with 'clarion restore BACKUP' (it keeps the damaged "
			    "file beside the database)", conf->database,
			    db_damage_reason());
			*code = EX_DATAERR;
		}
		db_close(ctx->db);
		goto fail;
	}
	log_set_hash_key(ctx->keys.key, sizeof ctx->keys.key);
	if ((w = check_warnings(conf, ctx->db)) != NULL) {
		log_lines("warning: ", w);
		free(w);
	}
	if (journal_catch_up(ctx, cause) == -1) {
		db_close(ctx->db);
		*code = EX_IOERR;
		goto fail;
	}
	return ctx;
fail:
	explicit_zero(&ctx->keys, sizeof ctx->keys);
	config_free(conf);
	free(ctx);
	return NULL;
}

static void
teardown(struct daemon_ctx *ctx)
{
	inbound_stop(ctx);
	send_finish(ctx);
	send_shutdown();
	composer_free(ctx->composer);
	dkim_signer_free(ctx->dkim);
	db_state_set(ctx->db, "pid", "0", NULL);
	db_close(ctx->db);
	config_free(ctx->conf);
	explicit_zero(&ctx->keys, sizeof ctx->keys);
	free(ctx);
}

static int
check_only(const char *path)
{
	struct config	*conf;
	struct token_keys keys;
	struct db	*db = NULL;
	char		*cause;
	int		 bad = 0;

	if ((conf = config_load(path, &cause)) == NULL) {
		lines_print(stderr, "clariond: ", cause);
		free(cause);
		return EX_CONFIG;
	}
	if (access(conf->token_secret_file, F_OK) == 0 &&
	    token_keys_load(conf, &keys, &cause) == -1) {
		lines_print(stderr, "clariond: ", cause);
		free(cause);
		bad = 1;
	}
	explicit_zero(&keys, sizeof keys);
	/* Without a database yet, the shipped templates are still checked. */
	if (access(conf->database, F_OK) == 0 &&
	    (db = db_open(conf->database, 0, &cause)) == NULL) {
		lines_print(stderr, "clariond: ", cause);
		free(cause);
		bad = 1;
	}
	if (check_setup(conf, db, &cause) == -1) {
		lines_print(stderr, "clariond: ", cause);
		free(cause);
		bad = 1;
	}
	db_close(db);
	if (!bad)
		printf("%s: OK\n", path);
	config_free(conf);
	return bad ? EX_CONFIG : EX_OK;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "once", no_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct daemon_ctx *ctx;
	sigset_t	 waitmask;
	const char	*path, *pidpath = NULL;
	char		*pidcopy = NULL, pidstr[32];
	char		*cause;
	int		 ch, check = 0, debug = 0, use_syslog = 0, once = 0;
	int		 pidfd = -1, code;

	if ((path = getenv("CLARION_CONFIG")) == NULL)
		path = CONFIG_DEFAULT_PATH;
	/* Under systemd, the journal takes syslog with the right levels. */
	use_syslog = getenv("INVOCATION_ID") != NULL;
	while ((ch = getopt_long(argc, argv, "c:dhnp:sV", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'd':
			debug = 1;
			use_syslog = 0;
			break;
		case 'n':
			check = 1;
			break;
		case 'o':
			once = 1;
			break;
		case 'p':
			pidpath = optarg;
			break;
		case 's':
			use_syslog = 1;
			break;
		case 'V':
			printf("clariond %s\n", CLARION_VERSION);
			return EX_OK;
		case 'h':
			usage();
			return EX_OK;
		default:
			usage();
			return EX_USAGE;
		}
	}
	if (optind != argc) {
		usage();
		return EX_USAGE;
	}
	if (check)
		return check_only(path);

	log_init("clariond", use_syslog, debug ? LOG_LEVEL_DEBUG :
	    LOG_LEVEL_INFO);
	umask(077);
	signals_setup(&waitmask);
	if ((ctx = setup(path, &code, &cause)) == NULL) {
		log_lines("", cause);
		free(cause);
		return code;
	}
	if (!debug)
		log_set_level(ctx->conf->log_level);
	if (pidpath == NULL && ctx->conf->pid_file != NULL)
		pidpath = pidcopy = xstrdup(ctx->conf->pid_file);
	if (pidpath != NULL)
		pidfd = pidfile_open(pidpath);
	/* Only the instance that holds the pid file says it is the daemon. */
	snprintf(pidstr, sizeof pidstr, "%ld", (long)getpid());
	db_state_set(ctx->db, "pid", pidstr, NULL);
	log_info("clariond %s started (pid %ld, tick %ds, transport %s)",
	    CLARION_VERSION, (long)getpid(), ctx->conf->tick,
	    ctx->conf->transport == TRANSPORT_SMTP ? "smtp" : "outbox");
	/* Deliveries a crash left in "sending" are resent or held, never lost. */
	if (send_recover(ctx) == -1)
		log_warnx("could not check for deliveries left by a crash");
	notify("READY=1");
	loop(ctx, &waitmask, once);
	notify("STOPPING=1");
	log_info("clariond stopping");
	code = db_damaged(ctx->db) ? EX_DATAERR : EX_OK;
	teardown(ctx);
	if (pidfd != -1) {
		unlink(pidpath);
		close(pidfd);
	}
	free(pidcopy);
	return code;
}
