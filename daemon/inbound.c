/*
 * Inbound mail, the pass: the child process (inbound_child.c starts it)
 * reads the IMAP mailbox (imap.c), classifies each message (classify.c),
 * applies its effect (inbound_apply.c) and files it into a folder.
 *
 * Exactly once: the inbound row (UNIQUE mailbox, UIDVALIDITY, UID), the
 * effect and the new last UID are written in one transaction; filing
 * comes after the commit. A crash between the two leaves a row with
 * filed = 0, which the next pass files without applying anything again.
 * A message already recorded under another UID (the mailbox was rebuilt
 * and UIDVALIDITY changed) is recognised by its Message-ID and only filed.
 *
 * A message that stops the process (libetpan overflowing the stack, a
 * hang the parent kills) must not stop the mailbox: each message is
 * marked in the database before it is read, and the mark goes in the
 * transaction that records it. A message found marked at the next start
 * was being read when the process died; the first time it is read again
 * (the death may have been a kill -9 or a shutdown, not the message), the
 * second time it is quarantined without being read: recorded, with the
 * owners' reports queued, in one transaction, then filed to Quarantine as
 * any recorded message is.
 *
 * Test hooks: with CLARION_TEST_CRASH_AFTER_RECORD=1 in the environment the
 * process exits with status 137 right after the first commit, before
 * filing, as a kill -9 would; tests use it to prove nothing is applied
 * twice. Builds with CLARION_TEST_HOOKS defined (tests/clariond_hooks,
 * never installed) also die by SIGSEGV on any message holding the text in
 * CLARION_TEST_CRASH_ON.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "clarion.h"

#define INBOUND_IDLE_WAIT	(28 * 60)
#define INBOUND_QUARANTINE_AFTER 2	/* processes a message may stop */

static volatile sig_atomic_t inbound_stopping;

struct inbound {
	struct inbound_env	 env;	/* what applying an effect needs */
	struct imap_conn	*imap;
	struct classify_opts	 copts;
	long			 processed;
	int			 marked;	/* a mark is in the database */
};

/* Files one recorded message and marks it filed. */
static int
file_one(struct inbound *in, int64_t id, uint32_t uid, const char *folder,
    char **cause)
{
	char	*why = NULL;

	if (imap_file(in->imap, uid, folder, cause) == -1)
		return -1;
	if (db_inbound_set_filed(in->env.db, id, &why) == -1) {
		xasprintf(cause, "cannot mark inbound %lld filed: %s",
		    (long long)id, why);
		free(why);
		return -1;
	}
	log_debug("inbound: uid %u filed to %s", uid, folder);
	return 0;
}

/*
 * Records (and applies, unless apply is 0) in one transaction, then files.
 * The test hook's crash sits between the two. -2: applying failed and
 * nothing was written.
 */
struct record_work {
	struct inbound	*in;
	struct effect	*e;
	int		 apply;
	int64_t		 id;
};

static int
record_one(struct db *db, void *arg)
{
	struct record_work *w = arg;
	struct effect	*e = w->e;

	if (w->apply && effect_apply(e) == -1)
		return -2;
	if (e->quarantine != NULL)
		effect_quarantine_report(e);
	e->rec.action = e->action;
	if (db_inbound_insert(db, &e->rec, &w->id) == -1 ||
	    db_inbound_unmark(db, NULL) == -1 ||
	    db_imap_state_set(db, w->in->env.mailbox, w->in->env.uidvalidity,
	    e->uid, NULL) == -1)
		return -1;
	return 0;
}

static int
record_and_file(struct inbound *in, struct effect *e, int apply,
    char **cause)
{
	struct record_work w;
	char	*why = NULL;
	int	 rc;

	memset(&w, 0, sizeof w);
	w.in = in;
	w.e = e;
	w.apply = apply;
	if ((rc = db_atomic(in->env.db, record_one, &w, &why)) < 0) {
		if (rc == -1)
			xasprintf(cause, "cannot record uid %u: %s", e->uid,
			    why);
		else if (e->error == NULL) {	/* what the store said */
			e->error = why;
			why = NULL;
		}
		free(why);
		return rc;
	}
	in->marked = 0;
	in->processed++;
	log_info("inbound: uid %u: %s -> %s: %s", e->uid, e->rec.class,
	    e->rec.folder, e->action != NULL ? e->action : "");
	if (getenv("CLARION_TEST_CRASH_AFTER_RECORD") != NULL)
		_exit(137);
	return file_one(in, w.id, e->uid, e->rec.folder, cause);
}

/* Not downloaded: filed to Unknown for a person to look at. */
static int
too_large(struct inbound *in, const struct imap_msg *m, char **cause)
{
	struct classify_result cr;
	struct effect	 e;
	int		 rc;

	memset(&cr, 0, sizeof cr);
	cr.class = INBOUND_UNKNOWN;
	cr.reason = "too large";
	effect_init(&e, &in->env, m->uid, &cr);
	effect_set(&e, IMAP_UNKNOWN, "nothing: %zu bytes is over "
	    "imap.max_message_size", m->size);
	rc = record_and_file(in, &e, 0, cause);
	effect_free(&e);
	return rc;
}

/* Recorded and filed to Quarantine, unread. */
static int
quarantine(struct inbound *in, const struct imap_msg *m, int attempts,
    char **cause)
{
	struct sysmail_quarantine q;
	struct classify_result cr;
	struct effect	 e;
	int		 rc;

	log_warnx("inbound: uid %u stopped the inbound process %d times; "
	    "quarantining it unread", m->uid, attempts);
	memset(&q, 0, sizeof q);
	q.mailbox = in->env.mailbox;
	q.folder = imap_folder_names[IMAP_QUARANTINE];
	q.uidvalidity = in->env.uidvalidity;
	q.uid = m->uid;
	q.size = m->size;
	q.attempts = attempts;
	memset(&cr, 0, sizeof cr);
	cr.class = INBOUND_UNKNOWN;
	cr.reason = "quarantined";
	effect_init(&e, &in->env, m->uid, &cr);
	effect_set(&e, IMAP_QUARANTINE, "quarantined");
	e.quarantine = &q;
	rc = record_and_file(in, &e, 0, cause);
	effect_free(&e);
	return rc;
}

/*
 * Marks the message before it is read. 1 when it stopped the process too
 * often and was quarantined instead, 0 to go on, -1 on error.
 */
static int
mark_message(struct inbound *in, const struct imap_msg *m, char **cause)
{
	char	*why = NULL;
	int	 attempts;

	attempts = db_inbound_marked(in->env.db, in->env.mailbox, in->env.uidvalidity,
	    m->uid);
	if (attempts >= INBOUND_QUARANTINE_AFTER)
		return quarantine(in, m, attempts, cause) == -1 ? -1 : 1;
	if (attempts > 0)
		log_warnx("inbound: uid %u was being read when the inbound "
		    "process stopped; reading it once more", m->uid);
	if (db_inbound_mark(in->env.db, in->env.mailbox, in->env.uidvalidity,
	    m->uid, attempts + 1, &why) == -1) {
		xasprintf(cause, "cannot mark uid %u: %s", m->uid, why);
		free(why);
		return -1;
	}
	in->marked = 1;
	return 0;
}

#ifdef CLARION_TEST_HOOKS
/* Test builds only: a message that crashes the process, on demand. */
static void
test_crash_on(const char *data, size_t len)
{
	const char	*s = getenv("CLARION_TEST_CRASH_ON");

	if (s != NULL && *s != '\0' && memmem(data, len, s, strlen(s)) !=
	    NULL) {
		signal(SIGSEGV, SIG_DFL);
		raise(SIGSEGV);
	}
}
#endif

static int
classified(struct inbound *in, uint32_t uid, struct classify_result *cr,
    char **cause)
{
	struct inbound_seen seen;
	struct effect	 e;
	int		 rc, dup;

	dup = db_inbound_seen(in->env.db, in->env.mailbox, in->env.uidvalidity,
	    uid, cr->message_id, &seen, cause);
	if (dup == -1)
		return -1;
	effect_init(&e, &in->env, uid, cr);
	if (dup == 1) {
		/* The same message under another UID: applied already. */
		effect_set(&e, IMAP_UNKNOWN, "nothing: already applied as "
		    "inbound %lld", (long long)seen.id);
		e.rec.folder = seen.folder;
		rc = record_and_file(in, &e, 0, cause);
	} else if ((rc = record_and_file(in, &e, 1, cause)) == -2) {
		/*
		 * A message whose effect cannot be applied (say, a From that
		 * cannot be put in a header) must not block the mailbox: it
		 * goes to Unknown, recorded, for a person to handle.
		 */
		log_warnx("inbound: uid %u: cannot apply: %s", uid,
		    e.error != NULL ? e.error : "unknown error");
		effect_set(&e, IMAP_UNKNOWN, "not applied: %s", e.error !=
		    NULL ? e.error : "unknown error");
		effect_reason(&e, "error");
		rc = record_and_file(in, &e, 0, cause);
	}
	effect_free(&e);
	free(seen.folder);
	return rc;
}

static int
read_message(struct inbound *in, const struct imap_msg *m, char **cause)
{
	struct classify_result cr;
	struct inbound_seen seen;
	char		*data;
	size_t		 len;
	int		 rc;

	/* Recorded and filed, yet still here (filing half done): refile. */
	if ((rc = db_inbound_seen(in->env.db, in->env.mailbox, in->env.uidvalidity, m->uid,
	    NULL, &seen, cause)) != 0) {
		if (rc == 1)
			rc = file_one(in, seen.id, m->uid, seen.folder, cause);
		free(seen.folder);
		return rc;
	}
	if ((rc = mark_message(in, m, cause)) != 0)
		return rc == 1 ? 0 : -1;
	if (in->env.conf->imap.max_message_size > 0 &&
	    m->size > (size_t)in->env.conf->imap.max_message_size)
		return too_large(in, m, cause);
	if ((rc = imap_fetch(in->imap, m->uid, &data, &len, cause)) != 0) {
		if (rc == -1)
			return -1;
		/* Gone (another client moved it): nothing to do. */
		log_info("inbound: %s", *cause);
		free(*cause);
		*cause = NULL;
		return 0;
	}
#ifdef CLARION_TEST_HOOKS
	test_crash_on(data, len);
#endif
	if (classify_message(data, len, &in->copts, &cr) == -1) {
		memset(&cr, 0, sizeof cr);
		cr.class = INBOUND_UNKNOWN;
		cr.reason = xstrdup("unreadable");
	}
	free(data);
	rc = classified(in, m->uid, &cr, cause);
	classify_result_free(&cr);
	return rc;
}

/*
 * One message. Recording it clears its mark; any other way out (an
 * error, the message gone) clears it here, so that a mark found at the
 * next start means the process died while reading that message.
 */
static int
process_message(struct inbound *in, const struct imap_msg *m, char **cause)
{
	char	*why = NULL;
	int	 rc;

	rc = read_message(in, m, cause);
	if (!in->marked)
		return rc;
	if (db_inbound_unmark(in->env.db, &why) == -1) {
		if (rc == 0)
			xasprintf(cause, "cannot clear the mark of uid %u: %s",
			    m->uid, why);
		free(why);
		return -1;
	}
	in->marked = 0;
	return rc;
}

/* Rows recorded before a crash but never filed: file them now. */
static int
file_pending(struct inbound *in, char **cause)
{
	struct inbound_pending *p;
	size_t	 n, i;
	int	 rc = 0;

	if (db_inbound_unfiled(in->env.db, in->env.mailbox,
	    in->env.uidvalidity, &p, &n, cause) == -1)
		return -1;
	for (i = 0; i < n && rc == 0; i++) {
		log_warnx("inbound: uid %u was recorded but not filed; filing "
		    "it to %s without applying it again", p[i].uid,
		    p[i].folder);
		rc = file_one(in, p[i].id, p[i].uid, p[i].folder, cause);
	}
	inbound_pending_free(p, n);
	return rc;
}

/* Where to start: the last UID done, or 0 after a UIDVALIDITY change. */
static int
start_uid(struct inbound *in, uint32_t *last, char **cause)
{
	uint32_t	 uv;
	int		 rc;

	if ((rc = db_imap_state_get(in->env.db, in->env.mailbox, &uv, last,
	    cause)) == -1)
		return -1;
	if (rc == 0 && uv == in->env.uidvalidity)
		return 0;
	if (rc == 0)
		log_warnx("inbound: %s: UIDVALIDITY changed from %u to %u; "
		    "reading it again from the start (messages seen before "
		    "are recognised by Message-ID)", in->env.mailbox, uv,
		    in->env.uidvalidity);
	*last = 0;
	if (db_imap_state_set(in->env.db, in->env.mailbox, in->env.uidvalidity,
	    0, cause) == -1)
		return -1;
	return 0;
}

/*
 * One pass: file leftovers, then every message above the last UID; *seen
 * says how many new messages it found.
 */
static int
inbound_pass(struct inbound *in, size_t *seen, char **cause)
{
	struct imap_msg	*msgs;
	uint32_t	 last;
	size_t		 n, i;
	int		 rc = 0;

	in->env.uidvalidity = imap_uidvalidity(in->imap);
	if (start_uid(in, &last, cause) == -1 || file_pending(in, cause) == -1)
		return -1;
	if (imap_list_new(in->imap, last, &msgs, &n, cause) == -1)
		return -1;
	*seen = n;
	for (i = 0; i < n && rc == 0 && !inbound_stopping; i++)
		rc = process_message(in, &msgs[i], cause);
	free(msgs);
	return rc;
}

static void
state_error(struct db *db, const char *cause)
{
	char	*when, *v;

	when = time_format_iso(clock_now());
	xasprintf(&v, "%s %s", when != NULL ? when : "", cause);
	db_state_set(db, "last_imap_error", v, NULL);
	free(when);
	free(v);
}

static void
nap(int seconds)
{
	struct timespec	 ts;

	ts.tv_sec = seconds;
	ts.tv_nsec = 0;
	nanosleep(&ts, NULL);	/* a signal ends it early */
}

/* One connection: passes and waits until an error or a stop. */
static int
inbound_session(struct inbound *in, int once, char **cause)
{
	int	 wait = in->env.conf->imap.poll_interval;
	size_t	 seen;

	if ((in->imap = imap_open(&in->env.conf->imap, cause)) == NULL)
		return -1;
	if (imap_has_idle(in->imap))
		wait = INBOUND_IDLE_WAIT;
	for (;;) {
		if (inbound_pass(in, &seen, cause) == -1)
			break;
		if (once || inbound_stopping)
			break;
		/*
		 * Mail that arrived during a pass was announced (EXISTS) in
		 * the replies to its commands, which libetpan takes in
		 * silently; IDLE would not announce it again. So after a
		 * pass that found mail, look again before waiting.
		 */
		if (seen > 0)
			continue;
		if (imap_wait(in->imap, wait, cause) == -1)
			break;
		if (inbound_stopping)
			break;
	}
	imap_close(in->imap);
	in->imap = NULL;
	return *cause != NULL ? -1 : 0;
}

/*
 * Reads the mailbox: once (one pass, then return) or until a stop signal,
 * reconnecting with backoff after any error. The last error, with its
 * time, goes to daemon_state (last_imap_error) for `clarion status`, as
 * the SMTP side does with last_smtp_error.
 */
int
inbound_run(const struct config *conf, struct db *db,
    const struct token_keys *keys, int once, long *processed, char **cause)
{
	struct inbound	 in;
	char		*err;
	int		 backoff = 1, rc = 0;

	memset(&in, 0, sizeof in);
	in.env.conf = conf;
	in.env.db = db;
	in.env.keys = keys;
	in.env.mailbox = conf->imap.mailbox;
	in.copts.domain = conf->domain;
	in.copts.bounce_local = conf->bounce_local;
	in.copts.reply_local = conf->reply_local;
	in.copts.unsubscribe_local = conf->unsubscribe_local;
	in.copts.delimiter = conf->delimiter;
	in.copts.max_size = (size_t)conf->imap.max_message_size;
	while (!inbound_stopping) {
		err = NULL;
		if (inbound_session(&in, once, &err) == 0) {
			backoff = 1;
			if (once)
				break;
			continue;
		}
		log_warnx("inbound: %s", err);
		state_error(db, err);
		if (once) {
			*cause = err;
			rc = -1;
			break;
		}
		free(err);
		nap(backoff);
		backoff = backoff * 2 > INBOUND_BACKOFF_MAX ?
		    INBOUND_BACKOFF_MAX : backoff * 2;
	}
	if (processed != NULL)
		*processed = in.processed;
	return rc;
}

static void
on_stop(int sig)
{
	(void)sig;
	inbound_stopping = 1;
}

/* SIGTERM/SIGINT end the wait (no SA_RESTART) and stop between messages. */
void
inbound_signals(void)
{
	struct sigaction sa;
	sigset_t	 set;

	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}

