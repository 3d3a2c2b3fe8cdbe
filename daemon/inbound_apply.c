/*
 * Applying the effect of one classified message, inside the transaction
 * the pass (inbound.c) records it in: finding the delivery it is about,
 * checking its token's purpose, and scoring a bounce (bounce.c),
 * unsubscribing, or queueing a confirmation or a forward (sysmail.c).
 * Each effect says what it did (the action) and where the message is
 * filed; the pass writes both to the message's inbound row.
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
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clarion.h"

void
effect_set(struct effect *e, enum imap_folder folder, const char *fmt, ...)
{
	va_list	 ap;

	free(e->action);
	va_start(ap, fmt);
	xvasprintf(&e->action, fmt, ap);
	va_end(ap);
	e->rec.folder = imap_folder_names[folder];
}

void
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
	rc = sysmail_unsubscribed(e->in->db, e->in->conf, e->ref.subscriber_id,
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
	struct sysmail_forward f;
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
	rc = sysmail_forward(e->in->db, e->in->conf, &f, dedupe, &cause);
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

/*
 * A meeting reply: only the reply token of the member's own invite (in
 * the address it was sent to) names the member, and the UID must be
 * that invite's meeting; the ATTENDEE and From lines prove nothing.
 */
static int
apply_rsvp(struct effect *e)
{
	int64_t	 ev = 0;
	int	 rc;

	if (!e->verified || e->tok.purpose != TOKEN_REPLY)
		return token_refused(e, "a meeting reply");
	rc = db_rsvp_record(e->in->db, e->ref.delivery_id, e->cr->rsvp_uid,
	    e->in->conf->domain, e->cr->rsvp_answer, &ev);
	if (rc == -1)
		return -1;
	if (rc == 1) {
		effect_set(e, IMAP_UNKNOWN, "nothing: the reply's UID is not "
		    "that of the meeting delivery %lld invited to",
		    (long long)e->ref.delivery_id);
		effect_reason(e, "unknown meeting");
		return 0;
	}
	effect_set(e, IMAP_RSVP, "%s recorded for meeting %lld",
	    e->cr->rsvp_answer, (long long)ev);
	return 0;
}

/* Written by a person (not a program, not our own mail coming back). */
static int
from_person(const struct effect *e)
{
	struct classify_result	 r = *e->cr;

	/*
	 * classify_is_loop() never answers unknown mail; forwarding it to
	 * an owner is no answer, so judge its sender as a reply's. Mail
	 * too large or too complex to read stays where it is.
	 */
	if (r.class == INBOUND_UNKNOWN) {
		if (r.from == NULL || (r.reason != NULL &&
		    strcmp(r.reason, "empty message") != 0 &&
		    strcmp(r.reason, "not recognised") != 0))
			return 0;
		r.class = INBOUND_REPLY;
		r.no_reply = 0;
	}
	return !r.no_reply && !classify_is_loop(&r, e->in->conf->domain);
}

/*
 * A person's message that names no delivery: filed where it was going,
 * and forwarded to the owners so a person reads it (the action says so).
 */
static int
forward_unmatched(struct effect *e)
{
	char	*dedupe, *cause = NULL, *was;
	int	 rc;

	if (!from_person(e))
		return 0;
	dedupe = effect_dedupe(e, "forward-unmatched");
	rc = sysmail_forward_owners(e->in->db, e->in->conf, e->cr, dedupe,
	    &cause);
	free(dedupe);
	if (rc == -1) {
		e->error = cause;
		return -1;
	}
	was = e->action;
	e->action = NULL;
	xasprintf(&e->action, "%s; forwarded to the list owners (unverified: "
	    "it names no delivery)%s", was != NULL ? was : "nothing",
	    rc == 0 ? ", already queued" : "");
	free(was);
	return 0;
}

/*
 * "Unsubscribe" to the plain address, no token: From can be forged, so
 * nothing changes; the member's own address gets a confirmation request
 * with a signed unsubscribe address. From an address that is no member's,
 * or one that has had no mail, it goes to the owners.
 */
static int
unsubscribe_request(struct effect *e)
{
	char	*dedupe, *cause = NULL;
	int64_t	 sub;
	int	 rc;

	if (!from_person(e) || e->cr->from == NULL ||
	    db_subscriber_find(e->in->db, e->cr->from, &sub) == -1)
		return forward_unmatched(e);
	dedupe = effect_dedupe(e, "unsubscribe-request");
	rc = sysmail_unsubscribe_request(e->in->db, e->in->conf, e->in->keys,
	    sub, msgid_plain(e->cr->message_id) ? e->cr->message_id : NULL,
	    dedupe, &cause);
	free(dedupe);
	if (rc == -1) {
		e->error = cause;
		return -1;
	}
	if (rc == 2)
		return forward_unmatched(e);
	e->rec.subscriber_id = sub;
	effect_set(e, IMAP_UNKNOWN, "nothing changed (no token); a "
	    "confirmation request with a signed unsubscribe address %s to the "
	    "member's address", rc == 0 ? "queued" : "already queued");
	effect_reason(e, "unsubscribe without a token");
	return 0;
}

/* The effect of one classified message; runs inside the transaction. */
int
effect_apply(struct effect *e)
{
	switch (e->cr->class) {
	case INBOUND_AUTOREPLY:
		effect_set(e, IMAP_AUTOREPLIES, "nothing (auto-reply)");
		return 0;
	case INBOUND_UNKNOWN:
		effect_set(e, IMAP_UNKNOWN, "nothing");
		return forward_unmatched(e);
	default:
		break;
	}
	if (effect_delivery(e) == -1) {
		if (e->cr->class == INBOUND_UNSUBSCRIBE && e->cr->token == NULL)
			return unsubscribe_request(e);
		if (e->cr->class == INBOUND_REPLY ||
		    e->cr->class == INBOUND_UNSUBSCRIBE)
			return forward_unmatched(e);
		return 0;
	}
	switch (e->cr->class) {
	case INBOUND_BOUNCE_HARD:
		return apply_bounce(e, 1);
	case INBOUND_BOUNCE_SOFT:
		return apply_bounce(e, 0);
	case INBOUND_COMPLAINT:
		return apply_complaint(e);
	case INBOUND_UNSUBSCRIBE:
		return apply_unsubscribe(e);
	case INBOUND_RSVP:
		return apply_rsvp(e);
	default:
		return apply_reply(e);
	}
}

void
effect_init(struct effect *e, const struct inbound_env *in, uint32_t uid,
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

void
effect_free(struct effect *e)
{
	delivery_ref_free(&e->ref);
	free(e->action);
	free(e->reason);
	free(e->error);
}

/*
 * The owners' reports of a quarantined message, in the transaction that
 * records it. Failing to queue them must not keep the message (and the
 * mail behind it) in the mailbox: the action says so instead.
 */
void
effect_quarantine_report(struct effect *e)
{
	char	*cause = NULL;
	int	 n;

	n = sysmail_quarantined(e->in->db, e->in->conf, e->quarantine, &cause);
	if (cause != NULL)
		log_warnx("inbound: uid %u: cannot tell an owner: %s", e->uid,
		    cause);
	effect_set(e, IMAP_QUARANTINE, "nothing: it stopped the inbound "
	    "process %d times; quarantined unread; %s",
	    e->quarantine->attempts, n > 0 ? "the owners were told" :
	    n == 0 ? "no owner to tell" : "the owners could not be told");
	free(cause);
}
