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

/* Address out of a DSN/ARF address field: "rfc822; <a@b> (comment)". */
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
	out = *p == '\0' || strchr(p, '@') == NULL ? NULL :
	    mail_one_line(p, strcspn(p, " \t<>"));
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
	"recipientnotfound", NULL
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
 * The one hard/soft rule. status is an enhanced status code ("5.1.1") or
 * NULL, text the server's reply or the bounce's diagnostic. Hard: the
 * status says the address or its domain is gone (5.1.1, 5.1.2, 5.1.6,
 * 5.1.10), or, when the status does not decide (none, 5.0.x, 5.4.x,
 * 5.5.x, other 5.1.x), the text says so and names no other cause (quota,
 * policy, spam, a 4xx reply). Other statuses (4.x.x, 5.2.x, 5.3.x,
 * 5.6.x, 5.7.x, 5.1.7 and 5.1.8, our own sender) are soft.
 */
int
dsn_is_hard(const char *status, const char *text)
{
	int	 cl, sub, det;

	if (status != NULL && sscanf(status, "%d.%d.%d", &cl, &sub, &det)
	    == 3) {
		if (cl != 5)
			return 0;
		if (sub == 1 && (det == 1 || det == 2 || det == 6 ||
		    det == 10))
			return 1;
		if (sub == 2 || sub == 3 || sub == 6 || sub == 7)
			return 0;
		if (sub == 1 && (det == 7 || det == 8))
			return 0;	/* our sender address, not theirs */
	}
	if (text == NULL || str_casefind_any(text, soft_words) != NULL)
		return 0;
	if (status == NULL && smtp_class(text) == '4')
		return 0;
	return str_casefind_any(text, hard_words) != NULL;
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
		if (pick->action == NULL || (!dsn_action_is(pick, "failed") &&
		    dsn_action_is(&r, "failed"))) {
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

/* Status: the Status field, made more precise by the diagnostic code. */
char *
dsn_status(const struct dsn_rcpt *r)
{
	char	 st[16], dg[16];
	int	 have = 0;

	if (r->status != NULL)
		have = dsn_status_scan(r->status, st, sizeof(st));
	if (r->diag != NULL && dsn_status_scan(r->diag, dg, sizeof(dg)) &&
	    (!have || (strcmp(st + 1, ".0.0") == 0 && dg[0] == st[0]))) {
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
