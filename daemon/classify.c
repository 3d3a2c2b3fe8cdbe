/*
 * Classification of inbound mail: bounces (RFC 3464 DSNs and the common
 * non-standard formats), complaints (RFC 5965 ARF), auto-replies
 * (RFC 3834 and vacation heuristics), unsubscribe requests and human
 * replies. Pure parsing: no I/O, no database; the caller verifies the
 * token and acts. This file decides; it reads the message through
 * mailparse.c (headers, charsets, MIME parts), the reports through dsn.c
 * (DSN and ARF field blocks, and the hard/soft rule the send side uses
 * too), and judges texts with classify_text.c.
 *
 * Decisions worth knowing (see also classify.h section in clarion.h):
 * - A DSN whose recipients were only delayed, relayed, delivered or
 *   expanded is not a bounce: it is classed INBOUND_AUTOREPLY (ignored,
 *   never answered) with reason "delayed" or "delivery notice: ACTION".
 *   A DSN with Action: failed and a 4.x.x status (queue expired) is a
 *   soft bounce.
 * - Mail addressed to unsubscribe+TOKEN is an unsubscribe whatever it
 *   says, even if it also looks automatic (a mailto: List-Unsubscribe
 *   click can be sent by software); no_reply is set in that case so no
 *   confirmation goes to a robot.
 * - Non-standard bounces are checked before the auto-reply heuristics
 *   because MTAs put Auto-Submitted on their bounces.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clarion.h"

#define CLASSIFY_HDR_MAX	(256 * 1024)

/* Work state for one message. */
struct cls {
	const struct classify_opts	*opts;
	struct classify_result		*res;
	const char			*data;	/* NUL-free copy */
	size_t				 len;
	size_t				 hlen;	/* top-level header block */
	size_t				 body_off;	/* where its body starts */
	struct mail_msg			*mime;	/* NULL when not parsed */
	char				*text;	/* main text, UTF-8, lazily */
	int				 text_done;
};

static const char *const class_names[] = {
	"bounce-hard", "bounce-soft", "complaint", "auto-reply",
	"unsubscribe", "reply", "unknown",
};

const char *
inbound_class_name(enum inbound_class class)
{
	if ((size_t)class >= nitems(class_names))
		return "unknown";
	return class_names[class];
}

int
inbound_class_parse(const char *s, enum inbound_class *class)
{
	size_t	 i;

	for (i = 0; i < nitems(class_names); i++) {
		if (strcmp(s, class_names[i]) == 0) {
			*class = (enum inbound_class)i;
			return 0;
		}
	}
	return -1;
}

/* ---- addresses and tokens ---- */

static int
local_char(int c)
{
	return isalnum(c) || (c != 0 && strchr("._%+=!#$&'*/?^`{|}~-", c)
	    != NULL) || c >= 0x80;
}

static int
domain_char(int c)
{
	return isalnum(c) || c == '.' || c == '-';
}

static int
token_char(int c)
{
	return isalnum(c) || c == '_' || c == '-' || c == '=' || c == '.';
}

/*
 * Find local<delim>TOKEN@domain in s. The token is returned as it
 * appeared; it is verified later by the caller.
 */
static char *
token_scan(const char *s, size_t len, const struct classify_opts *o,
    const char *local)
{
	const char	*p, *end = s + len, *t, *d;
	size_t		 ll, dl;

	if (s == NULL || local == NULL || o->domain == NULL)
		return NULL;
	ll = strlen(local);
	dl = strlen(o->domain);
	for (p = s; (p = memchr(p, o->delimiter, (size_t)(end - p))) != NULL;
	    p++) {
		if ((size_t)(p - s) < ll || strncasecmp(p - ll, local, ll) != 0)
			continue;
		/* security (fuzz_classify): not p[-ll - 1], whose unsigned
		 * index wraps the pointer (undefined behaviour). */
		if (p - ll > s && local_char((unsigned char)*(p - ll - 1)))
			continue;
		for (t = p + 1; t < end && t - p <= TOKEN_MAX &&
		    token_char((unsigned char)*t) && *t != '@'; t++)
			;
		if (t == p + 1 || t >= end || *t != '@')
			continue;
		d = t + 1;
		if ((size_t)(end - d) < dl || strncasecmp(d, o->domain, dl))
			continue;
		if (d + dl < end && domain_char((unsigned char)d[dl]) &&
		    !(d[dl] == '.' && (d + dl + 1 >= end ||
		    !domain_char((unsigned char)d[dl + 1]))))
			continue;
		return xstrndup(p + 1, (size_t)(t - p - 1));
	}
	return NULL;
}

static int
token_try(struct cls *c, const char *s, size_t len, const char *local,
    int purpose)
{
	char	*t;

	if (c->res->token != NULL)
		return 1;
	if ((t = token_scan(s, len, c->opts, local)) == NULL)
		return 0;
	c->res->token = t;
	c->res->token_purpose = purpose;
	return 1;
}

static int
addr_is_ours(const char *addr, const char *domain)
{
	const char	*at;

	if (addr == NULL || domain == NULL || (at = strrchr(addr, '@')) == NULL)
		return 0;
	at++;
	if (strcasecmp(at, domain) == 0)
		return 1;
	return strlen(at) > strlen(domain) && at[strlen(at) -
	    strlen(domain) - 1] == '.' && strcasecmp(at + strlen(at) -
	    strlen(domain), domain) == 0;
}

/*
 * The first address-like word in [s, end) that is not ours and not
 * skip: "user@example.com". Returned in *at as a pointer into s.
 */
static char *
addr_scan(const char *s, const char *end, const char *domain,
    const char *skip, const char **where)
{
	const char	*at, *l, *r;
	char		*a;

	for (at = s; at < end && (at = memchr(at, '@', (size_t)(end - at)))
	    != NULL; at++) {
		for (l = at; l > s && local_char((unsigned char)l[-1]) &&
		    at - l < 64; l--)
			;
		while (l < at && (*l == '.' || *l == '\'' || *l == '`'))
			l++;
		for (r = at + 1; r < end && domain_char((unsigned char)*r) &&
		    r - at < 255; r++)
			;
		while (r > at + 1 && (r[-1] == '.' || r[-1] == '-'))
			r--;
		if (l == at || r == at + 1 ||
		    memchr(at + 1, '.', (size_t)(r - at - 1)) == NULL)
			continue;
		a = xstrndup(l, (size_t)(r - l));
		if (addr_is_ours(a, domain) || (skip != NULL &&
		    strcasecmp(a, skip) == 0) || strncasecmp(a, "mailto:", 7)
		    == 0) {
			free(a);
			continue;
		}
		if (where != NULL)
			*where = l;
		return a;
	}
	return NULL;
}

/* Decoded text of a text/ part in UTF-8. */
static char *
mime_text(const struct mail_part *m)
{
	char		*raw, *out;
	size_t		 len;

	if ((raw = mail_part_decoded(m, &len)) == NULL)
		return NULL;
	out = mail_to_utf8(raw, len, mail_part_charset(m));
	free(raw);
	if (mail_part_is(m, "text", "html")) {
		raw = classify_html_to_text(out, strlen(out), 0);
		free(out);
		out = raw;
	}
	return out;
}

/*
 * The message's main text in UTF-8; when strip is set and the text came
 * from HTML, quoted blocks are cut first. Without a MIME tree, the raw
 * body is used.
 */
static char *
main_text(struct cls *c, int strip, int *from_html)
{
	const struct mail_part *p;
	char		*raw, *out;
	size_t		 len;

	*from_html = 0;
	if (c->mime == NULL) {
		len = c->len - c->body_off;
		if (len > MAIL_TEXT_MAX)
			len = MAIL_TEXT_MAX;
		return mail_to_utf8(c->data + c->body_off, len, NULL);
	}
	if ((p = mail_text_part(c->mime, 0)) != NULL)
		return mime_text(p);
	if ((p = mail_text_part(c->mime, 1)) == NULL)
		return NULL;
	*from_html = 1;
	if ((raw = mail_part_decoded(p, &len)) == NULL)
		return NULL;
	out = mail_to_utf8(raw, len, mail_part_charset(p));
	free(raw);
	raw = classify_html_to_text(out, strlen(out), strip);
	free(out);
	return raw;
}

/* The main text for bounce heuristics, computed once. */
static const char *
cls_text(struct cls *c)
{
	int	 html;

	if (!c->text_done) {
		c->text = main_text(c, 0, &html);
		c->text_done = 1;
	}
	return c->text;
}

/* ---- the returned original message (bounces, complaints) ---- */

static const struct mail_part *
returned_part(struct cls *c)
{
	static const char *const subs[] = { "rfc822", "rfc822-headers",
	    "global", "global-headers", NULL };
	const char *const *s;
	const struct mail_part *m;

	for (s = subs; *s != NULL; s++) {
		if ((m = mail_find(c->mime, "message", *s)) != NULL &&
		    m != mail_body(c->mime))
			return m;
	}
	return mail_find(c->mime, "text", "rfc822-headers");
}

/* Token and Message-ID from the returned message's headers, if any. */
static void
returned_headers(struct cls *c)
{
	const struct classify_opts	*o = c->opts;
	const struct mail_part		*m;
	const char			*raw;
	size_t				 len, body;
	char				*v;

	if ((m = returned_part(c)) == NULL || (raw = mail_part_raw(m, &len)) ==
	    NULL)
		return;
	len = mail_hdr_block_len(raw, len, &body);
	if (c->res->original_message_id == NULL) {
		v = mail_hdr_get(raw, len, "Message-ID");
		c->res->original_message_id = mail_msgid(v);
		free(v);
	}
	token_try(c, raw, len, o->bounce_local, 'b');
}

/*
 * A Message-ID on our domain quoted anywhere in the body: the original
 * of a bounce that returns it as text.
 */
static void
original_id_scan(struct cls *c)
{
	const char	*p, *end = c->data + c->len, *e;
	char		*id;

	if (c->res->original_message_id != NULL || c->opts->domain == NULL)
		return;
	for (p = c->data + c->hlen; p < end &&
	    (p = str_casemem(p, (size_t)(end - p), "message-id:")) != NULL;
	    p += 11) {
		e = mail_line_end(p, end);
		if ((id = mail_msgid(p + 11)) == NULL)
			continue;
		if (strlen(id) < (size_t)(e - p) && addr_is_ours(id,
		    c->opts->domain)) {
			c->res->original_message_id = id;
			return;
		}
		free(id);
	}
}

/*
 * The VERP token of a bounce or complaint, from wherever it shows. Only
 * failing that, a reply or unsubscribe token (say, in the returned
 * List-Unsubscribe): reported, so the refusal names it, but it never
 * attributes a bounce or complaint (inbound.c, bounce.c).
 */
static void
bounce_token(struct cls *c)
{
	const struct classify_opts	*o = c->opts;

	token_try(c, c->data, c->hlen, o->bounce_local, 'b');
	if (c->mime != NULL)
		returned_headers(c);
	if (!token_try(c, c->data, c->len, o->bounce_local, 'b') &&
	    !token_try(c, c->data, c->len, o->unsubscribe_local, 'u'))
		token_try(c, c->data, c->len, o->reply_local, 'r');
	original_id_scan(c);
}

static void
bounce_set_class(struct classify_result *res, const char *text)
{
	res->class = dsn_is_hard(res->status, text) ?
	    INBOUND_BOUNCE_HARD : INBOUND_BOUNCE_SOFT;
}

static int
try_dsn(struct cls *c)
{
	struct classify_result	*res = c->res;
	const struct mail_part	*m;
	struct dsn_rcpt		 r;
	char			*body, *a;
	const char		*diag;
	size_t			 len;

	if ((m = mail_find(c->mime, "message", "delivery-status")) == NULL &&
	    (m = mail_find(c->mime, "message", "global-delivery-status")) ==
	    NULL)
		return 0;
	body = mail_part_decoded(m, &len);
	if (body == NULL || dsn_parse(body, len, &r) == 0) {
		free(body);
		return 0;	/* unreadable: let the heuristics try */
	}
	free(body);
	res->recipient = dsn_addr(r.final != NULL ? r.final : r.original);
	if (res->recipient == NULL)
		res->recipient = dsn_addr(r.original);
	res->status = dsn_status(&r);
	diag = dsn_diag_text(r.diag);
	bounce_token(c);
	if (dsn_action_is(&r, "failed") || (r.action == NULL &&
	    res->status != NULL && res->status[0] == '5')) {
		bounce_set_class(res, diag);
		res->reason = mail_one_line(diag != NULL ? diag : "failed",
		    strlen(diag != NULL ? diag : "failed"));
	} else {
		res->class = INBOUND_AUTOREPLY;
		a = mail_strip_comments(xstrdup(r.action != NULL ? r.action :
		    "unknown"));
		if (strncasecmp(a, "delayed", 7) == 0)
			res->reason = xstrdup("delayed");
		else
			xasprintf(&res->reason, "delivery notice: %.40s", a);
		free(a);
	}
	dsn_rcpt_free(&r);
	return 1;
}

/* ---- (b) RFC 5965 abuse reports ---- */

static int
try_arf(struct cls *c)
{
	struct classify_result	*res = c->res;
	const struct mail_part	*m, *ret;
	struct arf_report	 arf;
	char			*body, *v;
	const char		*raw;
	size_t			 len, body_off;

	if ((m = mail_find(c->mime, "message", "feedback-report")) == NULL)
		return 0;
	body = mail_part_decoded(m, &len);
	if (body == NULL)
		body = xstrdup("");
	arf_parse(body, len, &arf);
	free(body);
	res->class = INBOUND_COMPLAINT;
	res->recipient = arf.recipient;
	arf.recipient = NULL;
	xasprintf(&res->reason, "complaint: %.40s", arf.type != NULL &&
	    *arf.type ? arf.type : "abuse");
	if (arf.mail_from != NULL)
		token_try(c, arf.mail_from, strlen(arf.mail_from),
		    c->opts->bounce_local, 'b');
	arf_report_free(&arf);
	bounce_token(c);
	if (res->recipient == NULL && (ret = returned_part(c)) != NULL &&
	    (raw = mail_part_raw(ret, &len)) != NULL) {
		len = mail_hdr_block_len(raw, len, &body_off);
		if ((v = mail_hdr_get(raw, len, "To")) != NULL)
			res->recipient = addr_scan(v, v + strlen(v),
			    c->opts->domain, NULL, NULL);
		free(v);
	}
	return 1;
}

static const char *auto_header(struct cls *);

/* ---- (e) mail to unsubscribe+TOKEN ---- */

static const char *const rcpt_fields[] = {
	"To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To",
	"X-Envelope-To", "X-Delivered-To", NULL
};

/* A token for local in our own recipient headers. */
static int
rcpt_token(struct cls *c, const char *local, int purpose)
{
	const char *const *f;
	char		*v;
	int		 found = 0;

	for (f = rcpt_fields; *f != NULL && !found; f++) {
		if ((v = mail_hdr_get(c->data, c->hlen, *f)) == NULL)
			continue;
		found = token_try(c, v, strlen(v), local, purpose);
		free(v);
	}
	return found;
}

static int
try_unsubscribe_address(struct cls *c)
{
	if (c->res->token != NULL || !rcpt_token(c, c->opts->unsubscribe_local,
	    'u'))
		return 0;
	c->res->class = INBOUND_UNSUBSCRIBE;
	c->res->reason = xstrdup("sent to the unsubscribe address");
	if (auto_header(c) != NULL)
		c->res->no_reply = 1;	/* act, but do not answer a robot */
	return 1;
}

/* ---- (d) non-standard bounces ---- */

static const char *const daemon_locals[] = {
	"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon", NULL
};

static const char *const daemon_names[] = {
	"mail delivery subsystem", "mail delivery system", "mailer-daemon",
	"mailer daemon", "postmaster", "mail delivery service", NULL
};

static const char *const bounce_subjects[] = {
	"undeliverable", "undelivered mail", "delivery status notification",
	"mail delivery failed", "delivery failure", "failure notice",
	"returned mail", "delivery has failed", "could not be delivered",
	"unzustellbar", "non remis", "nondeliverable", "mail system error",
	"delivery failed", "message not delivered", "delivery notification",
	"unable to deliver", "undeliverable mail", "returned to sender",
	"warning: could not send", "delayed mail", "delivery delayed", NULL
};

static const char *const reply_prefixes[] = {
	"re:", "fw:", "fwd:", "aw:", "wg:", "sv:", "tr:", "rv:", NULL
};

/* Phrases that open the list of failed recipients in bounce texts. */
static const char *const failure_anchors[] = {
	"Delivery has failed to these recipients or groups",
	"Your message to ", "Your message wasn't delivered to",
	"I'm afraid I wasn't able to deliver your message",
	"Sorry, we were unable to deliver your message",
	"The following addresses had permanent fatal errors",
	"following address(es) failed", "following addresses failed",
	"could not be delivered to one or more of its recipients",
	"Delivery to the following recipient failed",
	"Delivery to the following recipients failed",
	"could not be delivered to the following", "was undeliverable",
	"Address not found", "This is the mail system at host",
	"permanent error", "could not be delivered", "wasn't delivered",
	"couldn't be delivered", "Delivery has failed",
	"Message not delivered", "undeliverable", NULL
};

static const char *const delay_phrases[] = {
	"has been delayed", "is delayed", "still being retried",
	"will continue to try", "will keep trying", "will retry",
	"has not yet been delivered", "not yet been delivered",
	"delivery delayed", "delayed mail", "(delay)",
	"warning: could not send", "delivery is delayed", NULL
};

static int
from_is_daemon(struct cls *c)
{
	const char	*from = c->res->from, *name = c->res->from_name;
	size_t		 n;

	if (name != NULL && str_casefind_any(name, daemon_names) != NULL)
		return 1;
	if (from == NULL)
		return 0;
	n = strcspn(from, "@");
	for (const char *const *l = daemon_locals; *l != NULL; l++)
		if (strlen(*l) == n && strncasecmp(from, *l, n) == 0)
			return 1;
	return 0;
}

static int
subject_is_bounce(const char *subject)
{
	if (subject == NULL || str_caseprefix_any(subject, reply_prefixes))
		return 0;
	return str_casefind_any(subject, bounce_subjects) != NULL;
}

/* Lines from the anchor, up to where the returned message starts. */
static const char *const copy_markers[] = {
	"copy of the message", "original message", "Original message headers",
	"Below this line is a copy", "returned message", "message follows",
	"Received: ", "\nReturn-Path:", NULL
};

static size_t
diag_region(const char *s)
{
	const char	*best = NULL, *p;

	for (const char *const *m = copy_markers; *m != NULL; m++)
		if ((p = str_casefind(s, *m)) != NULL && (best == NULL || p < best))
			best = p;
	return best == NULL ? strlen(s) : (size_t)(best - s);
}

/* Recipient, status and reason from a human-readable bounce text. */
static void
bounce_text(struct cls *c, const char *text)
{
	struct classify_result	*res = c->res;
	const char		*a = NULL, *p, *where;
	char			*region, *v, st[16];
	size_t			 n;

	for (const char *const *f = failure_anchors; *f != NULL && !a; f++)
		a = str_casefind(text, *f);
	if (a == NULL)
		a = text;
	n = diag_region(a);
	region = xstrndup(a, n);
	if ((v = mail_hdr_get(c->data, c->hlen, "X-Failed-Recipients")) != NULL)
		res->recipient = addr_scan(v, v + strlen(v), c->opts->domain,
		    NULL, NULL);
	free(v);
	if (res->recipient == NULL)
		res->recipient = addr_scan(region, region + n,
		    c->opts->domain, res->from, &where);
	p = region;
	if (dsn_status_scan(p, st, sizeof(st)))
		res->status = xstrdup(st);
	res->reason = dsn_diag_line(region, n);
	if (res->reason == NULL)
		res->reason = mail_one_line(a, mail_line_end(a, a + strlen(a)) - a);
	bounce_set_class(res, region);
	free(region);
}

/* The address a text delay warning is about, for the log. */
static void
delay_recipient(struct cls *c, const char *text)
{
	const char	*a = NULL;

	for (const char *const *f = delay_phrases; *f != NULL && !a; f++)
		a = str_casefind(text, *f);
	if (a == NULL)
		return;
	c->res->recipient = addr_scan(a, a + diag_region(a), c->opts->domain,
	    c->res->from, NULL);
}

static int
try_nonstandard_bounce(struct cls *c)
{
	struct classify_result	*res = c->res;
	const char		*text;
	int			 to_bounce, strong;

	to_bounce = rcpt_token(c, c->opts->bounce_local, 'b');
	text = cls_text(c);
	strong = from_is_daemon(c) || subject_is_bounce(res->subject);
	if (!strong && !(to_bounce && text != NULL &&
	    str_casefind_any(text, failure_anchors) != NULL))
		return 0;
	if (text == NULL)
		text = "";
	bounce_token(c);
	if ((res->subject != NULL && str_casefind_any(res->subject,
	    delay_phrases) != NULL) || (str_casefind_any(text, delay_phrases) !=
	    NULL && str_casefind_any(text, failure_anchors + 3) == NULL)) {
		res->class = INBOUND_AUTOREPLY;
		res->reason = xstrdup("delayed");
		delay_recipient(c, text);
		return 1;
	}
	bounce_text(c, text);
	return 1;
}

/* ---- (c) RFC 3834 auto-replies ---- */

static const char *const vacation_any[] = {
	"out of office", "out-of-office", "automatic reply", "auto-reply",
	"autoreply", "auto reply", "automatische antwort",
	"abwesenheitsnotiz", "réponse automatique", "reponse automatique",
	"respuesta automática", "risposta automatica",
	"automatisch antwoord", "afwezigheidsmelding", "vacation reply",
	"absence notice", "auto-response", "autoresponse", NULL
};

static const char *const vacation_prefix[] = {
	"auto:", "i am away", "i'm away", "away from", "on leave",
	"on vacation", "on holiday", "vacation", "urlaub", "abwesend",
	"absent", "absence", "congé", "conges", "en vacances", NULL
};

static int
subject_is_vacation(const char *s)
{
	if (s == NULL)
		return 0;
	if (str_casefind_any(s, vacation_any) != NULL)
		return !str_caseprefix_any(s, reply_prefixes);
	return str_caseprefix_any(s, vacation_prefix);
}

/* Header evidence only: Auto-Submitted, X-Autoreply and friends. */
static const char *
auto_header(struct cls *c)
{
	char		*v;
	const char	*why = NULL;

	if ((v = mail_hdr_get(c->data, c->hlen, "Auto-Submitted")) != NULL) {
		mail_strip_comments(v);
		v[strcspn(v, "; ")] = '\0';
		if (*v != '\0' && strcasecmp(v, "no") != 0)
			why = "Auto-Submitted";
		free(v);
		if (why != NULL)
			return why;
	}
	if (mail_hdr_has(c->data, c->hlen, "X-Autoreply"))
		return "X-Autoreply";
	if (mail_hdr_has(c->data, c->hlen, "X-Autorespond"))
		return "X-Autorespond";
	if (mail_hdr_has(c->data, c->hlen, "X-Autoresponder"))
		return "X-Autoresponder";
	if ((v = mail_hdr_get(c->data, c->hlen, "Precedence")) != NULL) {
		if (strcasecmp(v, "auto_reply") == 0)
			why = "Precedence: auto_reply";
		else if ((strcasecmp(v, "bulk") == 0 ||
		    strcasecmp(v, "junk") == 0 || strcasecmp(v, "list") == 0) &&
		    subject_is_vacation(c->res->subject))
			why = "Precedence and subject";
		free(v);
	}
	return why;
}

static int
try_autoreply(struct cls *c)
{
	const char	*why;

	if ((why = auto_header(c)) == NULL) {
		if (!subject_is_vacation(c->res->subject))
			return 0;
		why = "vacation subject";
	}
	c->res->class = INBOUND_AUTOREPLY;
	xasprintf(&c->res->reason, "auto-reply (%s)", why);
	if (!rcpt_token(c, c->opts->reply_local, 'r'))
		rcpt_token(c, c->opts->bounce_local, 'b');
	return 1;
}

/* ---- (f) replies ---- */

static int
try_reply(struct cls *c)
{
	struct classify_result	*res = c->res;
	char			*text;
	int			 html, to_reply;

	to_reply = rcpt_token(c, c->opts->reply_local, 'r');
	text = main_text(c, 1, &html);
	if (text != NULL) {
		res->new_text = classify_reply_text(text);
		free(text);
	}
	if (res->from == NULL && !to_reply) {
		res->reason = xstrdup("no sender and no text we understand");
		return 0;
	}
	if ((res->new_text == NULL || *res->new_text == '\0') && !to_reply) {
		res->reason = xstrdup("empty message");
		return 0;
	}
	if (res->new_text != NULL && classify_unsubscribe_intent(
	    res->new_text)) {
		res->class = INBOUND_UNSUBSCRIBE;
		res->reason = xstrdup("reply asks to unsubscribe");
	} else {
		res->class = INBOUND_REPLY;
		res->reason = xstrdup(html ? "reply (from HTML)" : "reply");
	}
	return 1;
}

/* ---- the whole message ---- */

static void
common_fields(struct cls *c)
{
	struct classify_result	*res = c->res;
	char			*v;

	v = mail_hdr_get(c->data, c->hlen, "Message-ID");
	res->message_id = mail_msgid(v);
	free(v);
	v = mail_hdr_get(c->data, c->hlen, "In-Reply-To");
	res->in_reply_to = mail_msgid(v);
	free(v);
	v = mail_hdr_get(c->data, c->hlen, "Subject");
	res->subject = mail_decode_words(v);
	free(v);
	if ((v = mail_hdr_get(c->data, c->hlen, "From")) == NULL)
		return;
	if (mail_mailbox(v, &res->from, &res->from_name) == -1)
		res->from = addr_scan(v, v + strlen(v), NULL, NULL, NULL);
	free(v);
}

static void
classify_run(struct cls *c)
{
	const char	*why = NULL;

	c->hlen = mail_hdr_block_len(c->data, c->len < CLASSIFY_HDR_MAX ?
	    c->len : CLASSIFY_HDR_MAX, &c->body_off);
	common_fields(c);
	if ((c->mime = mail_parse(c->data, c->len, &why)) == NULL &&
	    why != NULL) {
		c->res->reason = xstrdup(why);
		return;		/* refused as too complex */
	}
	if (try_dsn(c) || try_arf(c) || try_unsubscribe_address(c) ||
	    try_nonstandard_bounce(c) || try_autoreply(c))
		return;
	if (try_reply(c))
		return;
	c->res->class = INBOUND_UNKNOWN;
	free(c->res->new_text);
	c->res->new_text = NULL;
	if (c->res->token == NULL)
		rcpt_token(c, c->opts->bounce_local, 'b');
	if (c->res->reason == NULL)
		c->res->reason = xstrdup("not recognised");
}

int
classify_message(const char *data, size_t len,
    const struct classify_opts *opts, struct classify_result *res)
{
	struct cls	 c;
	char		*copy;

	memset(res, 0, sizeof(*res));
	res->class = INBOUND_UNKNOWN;
	if (data == NULL || opts == NULL)
		return -1;
	if (opts->max_size != 0 && len > opts->max_size) {
		res->reason = xstrdup("too large");
		res->no_reply = 1;
		return 0;
	}
	copy = mail_copy(data, len);
	memset(&c, 0, sizeof(c));
	c.opts = opts;
	c.res = res;
	c.data = copy;
	c.len = len;
	classify_run(&c);
	res->no_reply = classify_is_loop(res, opts->domain);
	mail_msg_free(c.mime);
	free(c.text);
	free(copy);
	return 0;
}

/*
 * Whether answering this message could start a loop or reach a robot:
 * bounces, complaints, auto-replies and unknown mail are never
 * answered, nor is anything that carries our own Message-ID domain or
 * comes from one of our own addresses.
 */
int
classify_is_loop(const struct classify_result *res, const char *domain)
{
	switch (res->class) {
	case INBOUND_UNSUBSCRIBE:
	case INBOUND_REPLY:
		break;
	default:
		return 1;
	}
	if (res->no_reply)
		return 1;
	if (res->from == NULL || strchr(res->from, '@') == NULL)
		return 1;
	if (domain != NULL && (addr_is_ours(res->message_id, domain) ||
	    addr_is_ours(res->from, domain)))
		return 1;
	if (res->reason != NULL && strncmp(res->reason, "auto", 4) == 0)
		return 1;
	return 0;
}

void
classify_result_free(struct classify_result *res)
{
	if (res == NULL)
		return;
	free(res->recipient);
	free(res->status);
	free(res->reason);
	free(res->token);
	free(res->message_id);
	free(res->from);
	free(res->from_name);
	free(res->subject);
	free(res->in_reply_to);
	free(res->new_text);
	free(res->original_message_id);
	memset(res, 0, sizeof(*res));
}

