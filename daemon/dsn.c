/*
 * Delivery status: RFC 3464 delivery status notifications, RFC 5965
 * abuse reports (ARF), enhanced status codes and SMTP replies, and the
 * one rule for whether a failure is hard (the address itself is gone)
 * or soft. That rule, dsn_is_hard(), serves both sides: send.c asks it
 * about an SMTP server's refusal, classify.c about a bounce that came
 * back by mail, so the same failure scores the same either way.
 *
 * Pure parsing: the field blocks come from mailparse.c's part decoding
 * (libetpan does not look inside message/delivery-status or
 * message/feedback-report bodies, so they are read here by hand).
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clarion.h"

/* ---- addresses in report fields ---- */

/*
 * Address out of a DSN/ARF address field: "rfc822; <a@b> (comment)".
 * A source route ("@relay:user@example.com") gives its last hop; a
 * pipe, a file or a bare "@host" is no address.
 */
char *
dsn_addr(const char *v)
{
	char	*s, *p, *q, *out;

	if (v == NULL)
		return NULL;
	s = xstrdup(v);
	p = strchr(s, ';');
	p = mail_strip_comments(p != NULL ? p + 1 : s);
	if (*p == '<' && (q = strchr(p, '>')) != NULL) {
		*q = '\0';
		p++;
	}
	p = str_trim(p);
	if (*p == '@' && (q = strchr(p, ':')) != NULL)
		p = q + 1;
	p[strcspn(p, " \t<>")] = '\0';
	q = strrchr(p, '@');
	out = q == NULL || q == p || q[1] == '\0' || *p == '|' ||
	    *p == '/' || strchr(q, '.') == NULL ? NULL : mail_one_line(p, strlen(p));
	free(s);
	return out;
}

/* ---- status codes and hard/soft ---- */

/* The first enhanced status code "c.s.d" in s, copied to out[16]. */
int
dsn_status_scan(const char *s, char *out, size_t outlen)
{
	const char	*p;
	size_t		 a, b, c;

	if (s == NULL)
		return 0;
	for (p = s; *p != '\0'; p++) {
		if ((*p != '2' && *p != '4' && *p != '5') || p[1] != '.')
			continue;
		if (p > s && (isdigit((unsigned char)p[-1]) || p[-1] == '.'))
			continue;
		a = strspn(p + 2, "0123456789");
		if (a < 1 || a > 3 || p[2 + a] != '.')
			continue;
		b = strspn(p + 3 + a, "0123456789");
		if (b < 1 || b > 3)
			continue;
		c = 3 + a + b;
		if (isdigit((unsigned char)p[c]) || (p[c] == '.' &&
		    isdigit((unsigned char)p[c + 1])))
			continue;
		if (c >= outlen)
			continue;
		memcpy(out, p, c);
		out[c] = '\0';
		return 1;
	}
	return 0;
}

/* Class digit of the first basic SMTP reply code ("550 ", "451-"). */
static int
smtp_class(const char *s)
{
	const char	*p;

	for (p = s; *p != '\0'; p++) {
		if ((*p != '4' && *p != '5') || (p > s &&
		    (isalnum((unsigned char)p[-1]) || p[-1] == '.')))
			continue;
		if (isdigit((unsigned char)p[1]) &&
		    isdigit((unsigned char)p[2]) && (p[3] == ' ' ||
		    p[3] == '-'))
			return *p;
	}
	return 0;
}

static const char *const hard_words[] = {
	"user unknown", "unknown user", "no such user", "no such recipient",
	"no such mailbox", "no mailbox", "does not exist", "doesn't exist",
	"does not exists", "not exist", "unknown recipient",
	"recipient unknown", "recipient not found", "mailbox not found",
	"user not found", "address not found", "invalid recipient",
	"invalid mailbox", "address rejected", "no such domain",
	"domain not found", "host not found", "couldn't find any host",
	"could not be found", "couldn't be found", "unrouteable address",
	"unroutable address", "null mx", "does not accept mail",
	"user doesn't have a", "account has been deleted",
	"no longer exists", "has moved", "unknown or illegal alias",
	"not a valid mailbox", "invalid address", "recipnotfound",
	"recipientnotfound", "doesn't have an account",
	"does not have an account", "no such person", "unknown local part",
	"not our customer", "no valid recipients", "not listed in",
	"recipient name is not recognized", "no smtp service",
	"no mx record", "host unknown", "mail-box not found",
	"not a known user", "no mailbox found", "no mail box",
	"name or service not known", "bad_recipient", "bad recipient",
	"not an active address", "invalid final delivery",
	/* Japanese: "does not exist", "cannot be found", "not in the list",
	 * "unknown addressee" */
	"\xe5\xad\x98\xe5\x9c\xa8\xe3\x81\x97\xe3\x81\xbe"
	    "\xe3\x81\x9b\xe3\x82\x93",
	"\xe8\xa6\x8b\xe3\x81\xa4\xe3\x81\x8b\xe3\x82\x8a"
	    "\xe3\x81\xbe\xe3\x81\x9b\xe3\x82\x93",
	"\xe3\x83\xaa\xe3\x82\xb9\xe3\x83\x88\xe3\x81\xab"
	    "\xe3\x81\x82\xe3\x82\x8a\xe3\x81\xbe\xe3\x81\x9b"
	    "\xe3\x82\x93",
	"\xe5\xae\x9b\xe5\x85\x88\xe4\xb8\x8d\xe6\x98\x8e",
	NULL
};

/*
 * Words that say the address is gone whatever status code came with
 * them (MTAs put 5.2.1, 5.4.1, 5.5.0 or 5.7.1 on "user unknown", and
 * Outlook.com says "Recipient address rejected: Access denied" for an
 * address it does not have): they beat those statuses, but not a full
 * mailbox or a 4xx. (Postfix's "Recipient address rejected: REASON" is
 * only a prefix: the reason decides.)
 */
static const char *const gone_words[] = {
	"user unknown", "unknown user", "no such user", "no such recipient",
	"no such mailbox", "unknown recipient", "recipient unknown",
	"recipient not found", "user not found", "mailbox not found",
	"address rejected: access denied", "doesn't have an account",
	"does not have an account", "user doesn't have a",
	"does not exist", "doesn't exist", "no such person",
	"recipnotfound", "recipientnotfound", "unrouteable address",
	"not listed in", "recipient name is not recognized", "host unknown",
	"invalid recipient", "mailbox unavailable", "mail-box not found",
	"not a known user", "no mailbox found", "no mail box",
	"bad_recipient", "not an active address", "invalid final delivery",
	"domain is not reachable",
	"unroutable address", "no such domain", "null mx", NULL
};

/*
 * A full mailbox or a message too big, whatever else the text mentions
 * (a 5.1.1 in passing): not the address.
 */
static const char *const full_words[] = {
	"quota", "mailbox full", "mailbox is full", "mailbox size limit",
	"insufficient storage", "mailbox has exceeded", "storage space",
	"mailfolder is full", "is over the limit", "mail box full",
	"message size exceeded", "size limit", "message too large",
	"message is too large", NULL
};

/*
 * A rejection in reply to the message's content (after DATA): the
 * address was accepted first, so whatever the words, it is not gone.
 */
static const char *const after_data_words[] = {
	"end of data", "after data", "our data", NULL
};

/* Words that make a failure about something other than the address. */
static const char *const soft_words[] = {
	"quota", "mailbox full", "mailbox is full", "insufficient",
	"spam", "blocked", "blacklist", "blocklist", "policy", "denied",
	"too large", "too big", "size limit", "exceeds", "rate limit",
	"too many", "temporar", "try again", "disabled", "suspended",
	"inactive", "greylist", "sender address rejected", "reputation",
	NULL
};

/*
 * The one hard/soft rule; hard means the address itself is gone
 * (design.md). status is an enhanced status code or NULL, text the
 * server's reply or the bounce's diagnostic. In this order:
 * - soft: a 2.x.x or 4.x.x status, a 4xx reply without one, a full
 *   mailbox or a message too big whatever code it carries (some MTAs put
 *   5.1.1 on a full mailbox), a refusal after DATA under a generic status
 *   (the address was accepted, the message was not);
 * - hard: 5.1.1, 5.1.2, 5.1.3 (bad address), 5.1.6, 5.1.10 and 5.7.27
 *   (null MX), 5.4.4 (no host to route to) unless DNS itself failed;
 * - soft: 5.1.7 and 5.1.8 (our own sender);
 * - hard: Outlook.com's "Recipient address rejected: Access denied", and
 *   the plain words for a gone address (gone_words) under a status that
 *   does not decide: none, X.Y.0, other 5.1.x, 5.2.1 (MTAs put it on
 *   "user unknown"), 5.4.x, 5.5.x, and 5.7.0 or 5.7.1 without spam or policy
 *   words;
 * - soft: any other 5.2.x, 5.3.x, 5.6.x or 5.7.x;
 * - otherwise hard only if the text says the address is gone
 *   (hard_words) and names no other cause (soft_words).
 */
int
dsn_is_hard(const char *status, const char *text)
{
	int	 cl = 0, sub = 0, det = 0, generic, override;

	if (status != NULL && sscanf(status, "%d.%d.%d", &cl, &sub, &det)
	    != 3)
		cl = 0;
	if (cl == 4 || cl == 2)
		return 0;
	if (status == NULL && text != NULL && smtp_class(text) == '4')
		return 0;
	if (text != NULL && str_casefind_any(text, full_words) != NULL)
		return 0;
	generic = cl == 0 || det == 0;	/* X.Y.0: "other" in its subject */
	if (generic && text != NULL &&
	    str_casefind_any(text, after_data_words) != NULL)
		return 0;
	if (cl == 5 && ((sub == 1 && (det == 1 || det == 2 || det == 3 ||
	    det == 6 || det == 10)) || (sub == 7 && det == 27)))
		return 1;
	/* 5.4.4 unable to route: no such domain, unless DNS itself failed */
	if (cl == 5 && sub == 4 && det == 4 && (text == NULL ||
	    (str_casefind(text, "malformed") == NULL &&
	    str_casefind_any(text, soft_words) == NULL)))
		return 1;
	if (cl == 5 && sub == 1 && (det == 7 || det == 8))
		return 0;	/* our sender address, not theirs */
	if (text == NULL)
		return 0;
	if (str_casefind(text, "address rejected: access denied") != NULL)
		return 1;	/* Outlook.com: no such address, whatever the code */
	if (sub == 7)
		override = (det == 0 || det == 1) &&
		    str_casefind_any(text, soft_words) == NULL;
	else
		override = generic || sub == 1 || (sub == 2 && det == 1) ||
		    sub == 4 || sub == 5;
	if (override && str_casefind_any(text, gone_words) != NULL)
		return 1;
	if (cl == 5 && (sub == 2 || sub == 3 || sub == 6 || sub == 7))
		return 0;
	if (str_casefind_any(text, soft_words) != NULL)
		return 0;
	return str_casefind_any(text, hard_words) != NULL;
}

/* Whether text says the failure came in reply to the message (DATA). */
int
dsn_after_data(const char *text)
{
	return text != NULL && str_casefind_any(text, after_data_words) !=
	    NULL;
}

/* ---- (a) RFC 3464 delivery status notifications ---- */

void
dsn_rcpt_free(struct dsn_rcpt *r)
{
	free(r->final);
	free(r->original);
	free(r->action);
	free(r->status);
	free(r->diag);
	memset(r, 0, sizeof(*r));
}

static void
dsn_field(struct dsn_rcpt *r, const char *n, size_t nl, const char *v,
    size_t vl)
{
	char	**dst = NULL;

	if (nl == 15 && strncasecmp(n, "Final-Recipient", nl) == 0)
		dst = &r->final;
	else if (nl == 18 && strncasecmp(n, "Original-Recipient", nl) == 0)
		dst = &r->original;
	else if (nl == 6 && strncasecmp(n, "Action", nl) == 0)
		dst = &r->action;
	else if (nl == 6 && strncasecmp(n, "Status", nl) == 0)
		dst = &r->status;
	else if (nl == 15 && strncasecmp(n, "Diagnostic-Code", nl) == 0)
		dst = &r->diag;
	if (dst != NULL && *dst == NULL)
		*dst = mail_hdr_value(v, vl);
}

int
dsn_action_is(const struct dsn_rcpt *r, const char *action)
{
	char	*a;
	int	 is;

	if (r->action == NULL)
		return 0;
	a = mail_strip_comments(xstrdup(r->action));
	is = strncasecmp(a, action, strlen(action)) == 0;
	free(a);
	return is;
}

/*
 * "failed" (some MTAs write "failure"), or "expired": the queue gave up,
 * also a final failure, though RFC 3464 has no such action.
 */
int
dsn_action_failed(const struct dsn_rcpt *r)
{
	return dsn_action_is(r, "fail") || dsn_action_is(r, "expired");
}

/*
 * Read the per-recipient blocks; keep the first failed recipient, else
 * the first one at all. Returns the number of recipient blocks.
 */
int
dsn_parse(const char *s, size_t len, struct dsn_rcpt *pick)
{
	struct mail_hdr_iter	 it = { s, s + len };
	struct dsn_rcpt	 r;
	const char	*n, *v;
	size_t		 nl, vl;
	int		 blocks = 0;

	memset(pick, 0, sizeof(*pick));
	while (it.p < it.end) {
		memset(&r, 0, sizeof(r));
		while (mail_hdr_next(&it, &n, &nl, &v, &vl))
			dsn_field(&r, n, nl, v, vl);
		while (it.p < it.end && mail_blank_line(it.p, it.end))
			it.p = mail_line_end(it.p, it.end) + 1;
		if (r.final == NULL && r.original == NULL && r.action ==
		    NULL) {
			dsn_rcpt_free(&r);
			continue;
		}
		blocks++;
		if (pick->action == NULL || (!dsn_action_failed(pick) &&
		    dsn_action_failed(&r))) {
			dsn_rcpt_free(pick);
			*pick = r;
		} else
			dsn_rcpt_free(&r);
	}
	return blocks;
}

/* Diagnostic text without the "smtp;" type prefix. */
const char *
dsn_diag_text(const char *d)
{
	const char	*semi;

	if (d == NULL)
		return NULL;
	semi = strchr(d, ';');
	if (semi != NULL && semi - d < 16)
		d = semi + 1;
	while (*d == ' ')
		d++;
	return d;
}

/*
 * Status: the Status field, made more precise by the diagnostic code
 * (the remote server's own code, where the reporting MTA wrote a
 * generic one or its own guess of the same class).
 */
char *
dsn_status(const struct dsn_rcpt *r)
{
	char	 st[16], dg[16];
	int	 have = 0;

	if (r->status != NULL)
		have = dsn_status_scan(r->status, st, sizeof(st));
	if (r->diag != NULL && dsn_status_scan(r->diag, dg, sizeof(dg)) &&
	    (!have || dg[0] == st[0])) {
		memcpy(st, dg, sizeof(st));
		have = 1;
	}
	return have ? xstrdup(st) : NULL;
}

/* A short reason: the line holding the status or the first hard word. */
char *
dsn_diag_line(const char *s, size_t len)
{
	const char	*p = NULL, *b, *e, *end = s + len;
	char		 st[16];
	char		*r;

	r = xstrndup(s, len);
	if (dsn_status_scan(r, st, sizeof(st)))
		p = s + (strstr(r, st) - r);
	free(r);
	for (const char *const *w = hard_words; p == NULL && *w; w++)
		p = str_casemem(s, len, *w);
	for (const char *const *w = soft_words; p == NULL && *w; w++)
		p = str_casemem(s, len, *w);
	if (p == NULL)
		return NULL;
	for (b = p; b > s && b[-1] != '\n'; b--)
		;
	e = mail_line_end(p, end);
	return mail_one_line(b, (size_t)(e - b));
}

/* ---- (b) RFC 5965 abuse reports ---- */

/* The fields of a message/feedback-report block we use. */
void
arf_parse(const char *s, size_t len, struct arf_report *r)
{
	char	*v;

	memset(r, 0, sizeof *r);
	v = mail_hdr_get(s, len, "Original-Rcpt-To");
	r->recipient = dsn_addr(v);
	free(v);
	r->type = mail_hdr_get(s, len, "Feedback-Type");
	if (r->type != NULL)
		mail_strip_comments(r->type);
	r->mail_from = mail_hdr_get(s, len, "Original-Mail-From");
}

void
arf_report_free(struct arf_report *r)
{
	free(r->recipient);
	free(r->type);
	free(r->mail_from);
	memset(r, 0, sizeof *r);
}
