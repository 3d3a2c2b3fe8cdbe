/*
 * Inbound mail: a child process reads the IMAP mailbox, classifies each
 * message (classify.c), applies its effect and files it into a folder.
 *
 * Exactly once: the inbound row (UNIQUE mailbox, UIDVALIDITY, UID), the
 * effect and the new last UID are written in one transaction; filing
 * comes after the commit. A crash between the two leaves a row with
 * filed = 0, which the next pass files without applying anything again.
 * A message already recorded under another UID (the mailbox was rebuilt
 * and UIDVALIDITY changed) is recognised by its Message-ID and only filed.
 *
 * Replies without a valid token: when In-Reply-To (or, in a bounce, the
 * original Message-ID) names one of our own messages (clarion.RUN.DELIVERY
 * @domain), the reply is forwarded to the owner of that delivery's list,
 * marked unverified, because Message-IDs are not secret; nothing else is
 * ever done on that basis. Anything else without a valid token goes to
 * Unknown for a person to read.
 *
 * security (attribution): a token acts only for its own purpose, checked
 * where the effect is applied. A bounce (DSN or not) or a complaint (ARF)
 * is attributed only by the bounce (VERP) token of the delivery it names:
 * in the envelope recipient bounces+T@, or in the returned original
 * (Return-Path, ARF Original-Mail-From). Reply and unsubscribe tokens sit
 * in headers every recipient sees and may forward, so a report carrying
 * one changes nothing. Nor does a complaint's Message-ID alone: ours are
 * clarion.RUN.DELIVERY@domain, visible to recipients and guessable, and
 * a From: or the address a report came to proves nothing without a
 * token, so it is filed to Unknown for a person. An unsubscribe takes
 * the unsubscribe token or the member's own reply (reply token); a reply
 * is forwarded as verified only with its reply token.
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

#include <sys/types.h>
#include <sys/wait.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "clarion.h"

#define INBOUND_BACKOFF_MAX	300	/* seconds between reconnects */
#define INBOUND_IDLE_WAIT	(28 * 60)
#define INBOUND_QUARANTINE_AFTER 2	/* processes a message may stop */

static volatile sig_atomic_t inbound_stopping;

struct inbound {
	const struct config	*conf;
	struct db		*db;
	const struct token_keys	*keys;
	struct imap_conn	*imap;
	const char		*mailbox;
	uint32_t		 uidvalidity;
	struct classify_opts	 copts;
	long			 processed;
	int			 marked;	/* a mark is in the database */
};

/* What one message did, written to its inbound row. */
struct effect {
	struct inbound		*in;
	uint32_t		 uid;
	struct classify_result	*cr;
	struct inbound_rec	 rec;
	struct delivery_ref	 ref;
	char			*action;
	char			*reason;
	char			*error;		/* why applying failed */
	int			 verified;	/* the token checked out */
	struct token_ref	 tok;		/* when verified */
	const struct inmail_quarantine *quarantine;	/* report it */
};

static void
effect_set(struct effect *e, enum imap_folder folder, const char *fmt, ...)
    PRINTFLIKE(3, 4);

static void
effect_set(struct effect *e, enum imap_folder folder, const char *fmt, ...)
{
	va_list	 ap;

	free(e->action);
	va_start(ap, fmt);
	xvasprintf(&e->action, fmt, ap);
	va_end(ap);
	e->rec.folder = imap_folder_names[folder];
}

static void
effect_reason(struct effect *e, const char *reason)
{
	free(e->reason);
	e->reason = xstrdup(reason);
	e->rec.reason = e->reason;
}

/*
 * clarion.RUN.DELIVERY.NONCE@domain (clarion.RUN.DELIVERY@domain before
 * nonces): one of our own Message-IDs. *nonce gets the nonce or NULL.
 */
static int64_t
msgid_delivery(const char *id, const char *domain, int64_t *run,
    char **nonce)
{
	long long	 r, delivery;
	char		 at[256], nc[TOKEN_NONCE_MAX + 1];
	int		 n = 0;

	*nonce = NULL;
	if (id == NULL || strncmp(id, "clarion.", 8) != 0 ||
	    !isdigit((unsigned char)id[8]))
		return 0;
	if (sscanf(id, "clarion.%lld.%lld.%32[0-9a-f]@%255s%n", &r, &delivery,
	    nc, at, &n) == 4 && id[n] == '\0')
		*nonce = xstrdup(nc);
	else if (sscanf(id, "clarion.%lld.%lld@%255s%n", &r, &delivery, at,
	    &n) != 3 || id[n] != '\0')
		return 0;
	if (delivery <= 0 || strcasecmp(at, domain) != 0) {
		free(*nonce);
		*nonce = NULL;
		return 0;
	}
	*run = r;
	return delivery;
}

/* Both without a nonce (mail from before nonces), or the same one. */
static int
nonce_same(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/*
 * Checks a token against the nonce of the run its delivery belongs to:
 * after a restore the same delivery id may belong to another member.
 */
static int
token_check_run(struct effect *e, enum token_purpose purpose,
    const char *token)
{
	uint64_t	 v;
	char		*nonce;
	int		 rc;

	if (token_parse(token, &v) == -1)
		return TOKEN_BAD;
	nonce = db_delivery_nonce(e->in->db, (int64_t)v);
	rc = token_verify_nonce(e->in->keys, purpose, token, nonce, &e->tok);
	free(nonce);
	return rc;
}

/* A Message-ID we can quote in In-Reply-To: local@domain, printable. */
static int
msgid_plain(const char *id)
{
	const char	*p;

	if (id == NULL || strchr(id, '@') == NULL)
		return 0;
	for (p = id; *p != '\0'; p++)
		if (*p <= ' ' || *p >= 127 || *p == '<' || *p == '>')
			return 0;
	return 1;
}

static enum token_purpose
token_purpose_of(int p)
{
	switch (p) {
	case TOKEN_BOUNCE:
	case TOKEN_REPLY:
	case TOKEN_UNSUBSCRIBE:
		return p;
	default:
		return TOKEN_REPLY;
	}
}

/*
 * Finds the delivery a message is about: by its token (verified), or for
 * replies by a Message-ID of ours (unverified). 0 found, -1 none (the
 * effect is then set to Unknown with the reason).
 */
static int
effect_delivery(struct effect *e)
{
	struct classify_result *cr = e->cr;
	int64_t		 id = 0, run = 0;
	char		*nonce = NULL, *run_nonce = NULL;
	int		 rc;

	if (cr->token != NULL) {
		if ((rc = token_check_run(e,
		    token_purpose_of(cr->token_purpose), cr->token)) ==
		    TOKEN_EXPIRED) {
			effect_set(e, IMAP_UNKNOWN, "nothing: the token was "
			    "signed with the old secret, whose grace period "
			    "(token_old_until) has ended");
			effect_reason(e, "expired token");
			return -1;
		}
		if (rc != 0) {
			effect_set(e, IMAP_UNKNOWN, "nothing: the token failed "
			    "its check");
			effect_reason(e, "bad token");
			return -1;
		}
		e->verified = 1;
		id = e->tok.delivery_id;
	} else if (cr->class == INBOUND_REPLY) {
		if ((id = msgid_delivery(cr->in_reply_to,
		    e->in->conf->domain, &run, &nonce)) == 0)
			id = msgid_delivery(cr->original_message_id,
			    e->in->conf->domain, &run, &nonce);
	}
	if (id == 0) {
		effect_set(e, IMAP_UNKNOWN, "nothing: no token");
		effect_reason(e, "no token");
		return -1;
	}
	/*
	 * Unverified, the run and its nonce must match too: guessing is a
	 * little harder, and a reply to mail sent before a restore is not
	 * taken for one to the run that now has its ids.
	 */
	if (!e->verified)
		run_nonce = db_delivery_nonce(e->in->db, id);
	if (db_inbound_delivery(e->in->db, id, &e->ref) == -1 ||
	    (!e->verified && (e->ref.run_id != run ||
	    !nonce_same(nonce, run_nonce)))) {
		free(nonce);
		free(run_nonce);
		effect_set(e, IMAP_UNKNOWN, "nothing: delivery %lld not found",
		    (long long)id);
		effect_reason(e, "unknown delivery");
		return -1;
	}
	free(nonce);
	free(run_nonce);
	e->rec.delivery_id = e->ref.delivery_id;
	e->rec.subscriber_id = e->ref.subscriber_id;
	e->rec.list_id = e->ref.list_id;
	return 0;
}

/*
 * The token verified, but for another purpose than this message's
 * effect: nothing is done and a person reads it in Unknown.
 */
static int
token_refused(struct effect *e, const char *what)
{
	const char	*p = e->verified ? token_purpose_name(e->tok.purpose) :
			    "missing";

	effect_set(e, IMAP_UNKNOWN, "nothing: %s %s token cannot attribute "
	    "%s", *p == 'u' ? "an" : "a", p, what);
	effect_reason(e, "wrong token purpose");
	log_info("inbound: %s for delivery %lld carries %s %s token: ignored",
	    what, (long long)e->ref.delivery_id, *p == 'u' ? "an" : "a", p);
	return 0;
}

static int
apply_bounce(struct effect *e, int hard)
{
	int	 rc;

	if (!e->verified || e->tok.purpose != TOKEN_BOUNCE)
		return token_refused(e, "a bounce");
	if (e->ref.subscriber_id <= 0) {
		effect_set(e, IMAP_BOUNCES, "nothing: the member was erased");
		return 0;
	}
	rc = bounce_record(e->in->db, e->in->conf, e->in->keys,
	    e->ref.subscriber_id, e->ref.delivery_id, hard, e->cr->status,
	    e->cr->reason, &e->tok);
	if (rc == -1)
		return -1;
	effect_set(e, IMAP_BOUNCES, "%s bounce recorded%s", hard ? "hard" :
	    "soft", rc == 1 ? "; address disabled" : "");
	return 0;
}

static int
apply_complaint(struct effect *e)
{
	int	 rc;

	if (!e->verified || e->tok.purpose != TOKEN_BOUNCE)
		return token_refused(e, "a complaint");
	rc = bounce_complaint(e->in->db, e->in->keys, e->ref.subscriber_id,
	    e->ref.delivery_id, &e->tok, e->cr->reason);
	if (rc == 0)
		effect_set(e, IMAP_COMPLAINTS, "nothing: the member was "
		    "erased");
	else if (rc == 1)
		effect_set(e, IMAP_COMPLAINTS, "unsubscribed from every list; "
		    "suppressed (complaint, bounce token of delivery %lld)",
		    (long long)e->ref.delivery_id);
	return rc == -1 ? -1 : 0;
}

static char *
effect_dedupe(const struct effect *e, const char *kind)
{
	char	*s;

	if (e->cr->message_id != NULL)
		xasprintf(&s, "%s:%s", kind, e->cr->message_id);
	else
		xasprintf(&s, "%s:%s/%u/%u", kind, e->in->mailbox,
		    e->in->uidvalidity, e->uid);
	return s;
}

static int
apply_unsubscribe(struct effect *e)
{
	char	*dedupe, *cause = NULL;
	int	 rc;

	/* The unsubscribe address, or the member's own reply asking. */
	if (!e->verified || (e->tok.purpose != TOKEN_UNSUBSCRIBE &&
	    e->tok.purpose != TOKEN_REPLY))
		return token_refused(e, "an unsubscribe");
	if (e->ref.subscriber_id <= 0) {
		effect_set(e, IMAP_UNSUBSCRIBED, "nothing: the member was "
		    "erased");
		return 0;
	}
	if (db_unsubscribe(e->in->db, e->in->keys, e->ref.subscriber_id,
	    e->ref.list_id, "email") == -1)
		return -1;
	if (e->cr->no_reply || classify_is_loop(e->cr, e->in->conf->domain)) {
		effect_set(e, IMAP_UNSUBSCRIBED, "unsubscribed from list %lld; "
		    "no confirmation (automatic sender)",
		    (long long)e->ref.list_id);
		return 0;
	}
	dedupe = effect_dedupe(e, "unsubscribed");
	rc = inmail_unsubscribed(e->in->db, e->in->conf, e->ref.subscriber_id,
	    e->ref.list_id, msgid_plain(e->cr->message_id) ? e->cr->message_id :
	    NULL, dedupe, &cause);
	free(dedupe);
	if (rc == -1) {
		e->error = cause;
		return -1;
	}
	effect_set(e, IMAP_UNSUBSCRIBED, "unsubscribed from list %lld; "
	    "confirmation %s", (long long)e->ref.list_id, rc == 0 ? "queued" :
	    "already queued");
	return 0;
}

static int
apply_reply(struct effect *e)
{
	struct inmail_forward f;
	char	*dedupe, *cause = NULL;
	int	 rc;

	if (classify_is_loop(e->cr, e->in->conf->domain)) {
		effect_set(e, IMAP_REPLIES, "not forwarded (loop protection)");
		return 0;
	}
	memset(&f, 0, sizeof f);
	f.cr = e->cr;
	f.ref = &e->ref;
	/* Only the reply token says the member wrote it. */
	f.verified = e->verified && e->tok.purpose == TOKEN_REPLY;
	dedupe = effect_dedupe(e, "forward");
	rc = inmail_forward(e->in->db, e->in->conf, &f, dedupe, &cause);
	free(dedupe);
	if (rc == -1) {
		e->error = cause;
		return -1;
	}
	effect_set(e, IMAP_REPLIES, "forwarded to the owner of list %lld%s",
	    (long long)e->ref.list_id, f.verified ? "" : e->verified ?
	    " (unverified: not the reply token)" : " (unverified: no token, "
	    "matched by In-Reply-To)");
	return 0;
}

/* The effect of one classified message; runs inside the transaction. */
static int
effect_apply(struct effect *e)
{
	switch (e->cr->class) {
	case INBOUND_AUTOREPLY:
		effect_set(e, IMAP_AUTOREPLIES, "nothing (auto-reply)");
		return 0;
	case INBOUND_UNKNOWN:
		effect_set(e, IMAP_UNKNOWN, "nothing");
		return 0;
	default:
		break;
	}
	if (effect_delivery(e) == -1)
		return 0;
	switch (e->cr->class) {
	case INBOUND_BOUNCE_HARD:
		return apply_bounce(e, 1);
	case INBOUND_BOUNCE_SOFT:
		return apply_bounce(e, 0);
	case INBOUND_COMPLAINT:
		return apply_complaint(e);
	case INBOUND_UNSUBSCRIBE:
		return apply_unsubscribe(e);
	default:
		return apply_reply(e);
	}
}

static void
effect_init(struct effect *e, struct inbound *in, uint32_t uid,
    struct classify_result *cr)
{
	memset(e, 0, sizeof *e);
	e->in = in;
	e->uid = uid;
	e->cr = cr;
	e->rec.mailbox = in->mailbox;
	e->rec.uidvalidity = in->uidvalidity;
	e->rec.uid = uid;
	e->rec.message_id = cr->message_id;
	e->rec.class = inbound_class_name(cr->class);
	e->rec.status_code = cr->status;
	e->rec.reason = cr->reason;
	e->rec.folder = imap_folder_names[IMAP_UNKNOWN];
}

static void
effect_free(struct effect *e)
{
	delivery_ref_free(&e->ref);
	free(e->action);
	free(e->reason);
	free(e->error);
}

/* Files one recorded message and marks it filed. */
static int
file_one(struct inbound *in, int64_t id, uint32_t uid, const char *folder,
    char **cause)
{
	char	*why = NULL;

	if (imap_file(in->imap, uid, folder, cause) == -1)
		return -1;
	if (db_inbound_set_filed(in->db, id, &why) == -1) {
		xasprintf(cause, "cannot mark inbound %lld filed: %s",
		    (long long)id, why);
		free(why);
		return -1;
	}
	log_debug("inbound: uid %u filed to %s", uid, folder);
	return 0;
}

/*
 * The owners' reports of a quarantined message, in the transaction that
 * records it. Failing to queue them must not keep the message (and the
 * mail behind it) in the mailbox: the action says so instead.
 */
static void
quarantine_report(struct effect *e)
{
	char	*cause = NULL;
	int	 n;

	n = inmail_quarantined(e->in->db, e->in->conf, e->quarantine, &cause);
	if (cause != NULL)
		log_warnx("inbound: uid %u: cannot tell an owner: %s", e->uid,
		    cause);
	effect_set(e, IMAP_QUARANTINE, "nothing: it stopped the inbound "
	    "process %d times; quarantined unread; %s",
	    e->quarantine->attempts, n > 0 ? "the owners were told" :
	    n == 0 ? "no owner to tell" : "the owners could not be told");
	free(cause);
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
		quarantine_report(e);
	e->rec.action = e->action;
	if (db_inbound_insert(db, &e->rec, &w->id) == -1 ||
	    db_inbound_unmark(db, NULL) == -1 ||
	    db_imap_state_set(db, w->in->mailbox, w->in->uidvalidity,
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
	if ((rc = db_atomic(in->db, record_one, &w, &why)) < 0) {
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
	effect_init(&e, in, m->uid, &cr);
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
	struct inmail_quarantine q;
	struct classify_result cr;
	struct effect	 e;
	int		 rc;

	log_warnx("inbound: uid %u stopped the inbound process %d times; "
	    "quarantining it unread", m->uid, attempts);
	memset(&q, 0, sizeof q);
	q.mailbox = in->mailbox;
	q.folder = imap_folder_names[IMAP_QUARANTINE];
	q.uidvalidity = in->uidvalidity;
	q.uid = m->uid;
	q.size = m->size;
	q.attempts = attempts;
	memset(&cr, 0, sizeof cr);
	cr.class = INBOUND_UNKNOWN;
	cr.reason = "quarantined";
	effect_init(&e, in, m->uid, &cr);
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

	attempts = db_inbound_marked(in->db, in->mailbox, in->uidvalidity,
	    m->uid);
	if (attempts >= INBOUND_QUARANTINE_AFTER)
		return quarantine(in, m, attempts, cause) == -1 ? -1 : 1;
	if (attempts > 0)
		log_warnx("inbound: uid %u was being read when the inbound "
		    "process stopped; reading it once more", m->uid);
	if (db_inbound_mark(in->db, in->mailbox, in->uidvalidity, m->uid,
	    attempts + 1, &why) == -1) {
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

	dup = db_inbound_seen(in->db, in->mailbox, in->uidvalidity, uid,
	    cr->message_id, &seen, cause);
	if (dup == -1)
		return -1;
	effect_init(&e, in, uid, cr);
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
	if ((rc = db_inbound_seen(in->db, in->mailbox, in->uidvalidity, m->uid,
	    NULL, &seen, cause)) != 0) {
		if (rc == 1)
			rc = file_one(in, seen.id, m->uid, seen.folder, cause);
		free(seen.folder);
		return rc;
	}
	if ((rc = mark_message(in, m, cause)) != 0)
		return rc == 1 ? 0 : -1;
	if (in->conf->imap.max_message_size > 0 &&
	    m->size > (size_t)in->conf->imap.max_message_size)
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
	if (db_inbound_unmark(in->db, &why) == -1) {
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

	if (db_inbound_unfiled(in->db, in->mailbox, in->uidvalidity, &p,
	    &n, cause) == -1)
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

	if ((rc = db_imap_state_get(in->db, in->mailbox, &uv, last,
	    cause)) == -1)
		return -1;
	if (rc == 0 && uv == in->uidvalidity)
		return 0;
	if (rc == 0)
		log_warnx("inbound: %s: UIDVALIDITY changed from %u to %u; "
		    "reading it again from the start (messages seen before "
		    "are recognised by Message-ID)", in->mailbox, uv,
		    in->uidvalidity);
	*last = 0;
	if (db_imap_state_set(in->db, in->mailbox, in->uidvalidity, 0,
	    cause) == -1)
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

	in->uidvalidity = imap_uidvalidity(in->imap);
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
	int	 wait = in->conf->imap.poll_interval;
	size_t	 seen;

	if ((in->imap = imap_open(&in->conf->imap, cause)) == NULL)
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
	in.conf = conf;
	in.db = db;
	in.keys = keys;
	in.mailbox = conf->imap.mailbox;
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

/* The parent's view of its child. */
static pid_t	 child_pid;
static int	 child_failures;
static time_t	 child_started, child_restart_at;
static char	*child_print;	/* the settings it was started with */

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
 * restarting it with backoff, and sends the owners' bounce digests.
 */
int
inbound_step(struct daemon_ctx *ctx)
{
	char	*cause = NULL;
	int	 rc = 0;

	if (bounce_digest(ctx->db, ctx->conf, clock_now(), &cause) == -1) {
		log_warnx("bounce digest: %s", cause);
		free(cause);
		rc = -1;
	}
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
