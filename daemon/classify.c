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

#include <jansson.h>

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
	"unsubscribe", "reply", "unknown", "rsvp",
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
 * One of our own role addresses (bounces+TOKEN@, reply@, ...): never the
 * recipient a bounce is about. Other addresses on our domain may be
 * members' or officers' own.
 */
static int
addr_is_role(const char *addr, const struct classify_opts *o)
{
	const char *const	 locals[] = { o->bounce_local, o->reply_local,
	    o->unsubscribe_local };
	size_t			 i, n;

	if (!addr_is_ours(addr, o->domain))
		return 0;
	for (i = 0; i < sizeof(locals) / sizeof(locals[0]); i++) {
		if (locals[i] == NULL)
			continue;
		n = strlen(locals[i]);
		if (strncasecmp(addr, locals[i], n) == 0 && (addr[n] == '@' ||
		    addr[n] == o->delimiter))
			return 1;
	}
	return 0;
}

/* Whether p (in [s, ...)) is on a line of message identifiers. */
static int
addr_in_id_line(const char *s, const char *p)
{
	static const char *const ids[] = { "message-id:", "references:",
	    "in-reply-to:", "x-message-id:", "original-envelope-id:",
	    "x-original-message-id:", NULL };
	const char	*b;

	for (b = p; b > s && b[-1] != '\n'; b--)
		;
	for (const char *const *i = ids; *i != NULL; i++)
		if (strncasecmp(b, *i, strlen(*i)) == 0)
			return 1;
	return 0;
}

/*
 * The first address-like word in [s, end) that is not one of our role
 * addresses, not in the NULL-terminated list skip and not a message
 * identifier: "user@example.com".
 * Returned in *where as a pointer into s. Of a source route
 * ("@relay:user@example.com") only the address is taken; a pipe or a
 * file name never.
 */
static char *
addr_scan(const char *s, const char *end, const struct classify_opts *o,
    const char *const *skip, const char **where)
{
	const char	*at, *l, *r;
	char		*a;
	int		 skipped;

	for (at = s; at < end && (at = memchr(at, '@', (size_t)(end - at)))
	    != NULL; at++) {
		for (l = at; l > s && local_char((unsigned char)l[-1]) &&
		    at - l < 64; l--)
			;
		while (l < at && (*l == '.' || *l == '\'' || *l == '`' ||
		    *l == '|' || *l == '/'))
			l++;
		if (at - l > 5 && strncasecmp(l, "smtp=", 5) == 0)
			l += 5;		/* X.400 "dda:SMTP=user@host" */
		for (r = at + 1; r < end && domain_char((unsigned char)*r) &&
		    r - at < 255; r++)
			;
		while (r > at + 1 && (r[-1] == '.' || r[-1] == '-'))
			r--;
		if (l == at || r == at + 1 ||
		    memchr(at + 1, '.', (size_t)(r - at - 1)) == NULL)
			continue;
		if (memchr(l, '/', (size_t)(at - l)) != NULL)
			continue;	/* a file or program */
		if (addr_in_id_line(s, l))
			continue;
		a = xstrndup(l, (size_t)(r - l));
		skipped = (o != NULL && addr_is_role(a, o)) ||
		    strncasecmp(a, "mailto:", 7) == 0;
		for (const char *const *k = skip; k != NULL && *k != NULL &&
		    !skipped; k++)
			skipped = strcasecmp(a, *k) == 0;
		if (skipped) {
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
/*
 * Whether the body's boundary never occurs in it (an MTA that wrote one
 * boundary in the header and another between the parts): what libetpan
 * makes of such a body is not its text.
 */
static int
boundary_lost(struct cls *c)
{
	const char	*b;
	char		*delim;
	int		 lost;

	if ((b = mail_part_param(mail_body(c->mime), "boundary")) == NULL ||
	    *b == '\0')
		return 0;
	xasprintf(&delim, "--%s", b);
	lost = memmem(c->data + c->body_off, c->len - c->body_off, delim,
	    strlen(delim)) == NULL;
	free(delim);
	return lost;
}

static char *
main_text(struct cls *c, int strip, int *from_html)
{
	const struct mail_part *p;
	char		*raw, *out;
	size_t		 len;

	*from_html = 0;
	if (c->mime == NULL || boundary_lost(c)) {
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
		/*
		 * No text part in the structure (a multipart whose boundary
		 * parameter an MTA folded badly, so its parts cannot be
		 * found): for the bounce heuristics the raw body is still the
		 * best text there is. A person's attachment alone stays
		 * without text.
		 */
		if (c->text == NULL && c->mime != NULL)
			c->text = mail_to_utf8(c->data + c->body_off,
			    c->len - c->body_off > MAIL_TEXT_MAX ? MAIL_TEXT_MAX :
			    c->len - c->body_off, NULL);
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

/*
 * The recipient when the report names none we can use: the
 * X-Failed-Recipients field, else the returned message's To: (Exchange
 * 2003 and ARF reports without Original-Rcpt-To name it only there).
 */
static void
failed_recipient(struct cls *c)
{
	const struct mail_part *ret;
	const char	*raw;
	size_t		 len, body_off;
	char		*v;

	if ((v = mail_hdr_get(c->data, c->hlen, "X-Failed-Recipients")) != NULL)
		c->res->recipient = addr_scan(v, v + strlen(v), c->opts, NULL,
		    NULL);
	free(v);
	if (c->res->recipient != NULL || c->mime == NULL ||
	    (ret = returned_part(c)) == NULL ||
	    (raw = mail_part_raw(ret, &len)) == NULL)
		return;
	len = mail_hdr_block_len(raw, len, &body_off);
	if ((v = mail_hdr_get(raw, len, "To")) != NULL)
		c->res->recipient = addr_scan(v, v + strlen(v), c->opts, NULL,
		    NULL);
	free(v);
}

static void
bounce_set_class(struct classify_result *res, const char *text)
{
	res->class = dsn_is_hard(res->status, text) ?
	    INBOUND_BOUNCE_HARD : INBOUND_BOUNCE_SOFT;
}

/* s with each run of white space (a folded field) as one space. */
static char *
ws_squeeze(const char *s)
{
	char		*out, *w;
	const char	*r;

	if (s == NULL)
		return NULL;
	out = w = xstrdup(s);
	for (r = s; *r != '\0'; r++) {
		if (!isspace((unsigned char)*r))
			*w++ = *r;
		else if (w > out && w[-1] != ' ')
			*w++ = ' ';
	}
	*w = '\0';
	return out;
}

static int
try_dsn(struct cls *c)
{
	struct classify_result	*res = c->res;
	const struct mail_part	*m;
	struct dsn_rcpt		 r;
	char			*body, *a, *squeezed;
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
	if (res->recipient == NULL)
		failed_recipient(c);
	res->status = dsn_status(&r);
	diag = dsn_diag_text(r.diag);
	bounce_token(c);
	if (dsn_action_failed(&r) || (r.action == NULL &&
	    res->status != NULL && res->status[0] == '5')) {
		squeezed = ws_squeeze(diag);
		bounce_set_class(res, squeezed);
		free(squeezed);
		/*
		 * Postfix says in its notice, not in the DSN, that the reply
		 * came after DATA ("in reply to end of DATA command"): the
		 * address was accepted, the message was not.
		 */
		if (res->class == INBOUND_BOUNCE_HARD &&
		    dsn_after_data(cls_text(c)) && (res->status == NULL ||
		    strcmp(res->status + 1, ".0.0") == 0))
			res->class = INBOUND_BOUNCE_SOFT;
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

/* Subject prefixes of a reply or a forward, written by a person. */
static const char *const reply_prefixes[] = {
	"re:", "fw:", "fwd:", "aw:", "wg:", "sv:", "tr:", "rv:", NULL
};

static const char *const complaint_subjects[] = {
	"complaint about message from", "abuse report", "spam report",
	"spam complaint", "feedback report", NULL
};

/*
 * A complaint in the older form some providers still send (Outlook.com's
 * JMRP, some ISPs' feedback loops): no feedback-report part, only the
 * complained-of message attached under a subject that says so. The
 * recipient is the attached message's addressee.
 */
static int
try_jmrp(struct cls *c)
{
	struct classify_result	*res = c->res;

	if (res->subject == NULL || str_caseprefix_any(res->subject,
	    reply_prefixes) || str_casefind_any(res->subject, complaint_subjects) ==
	    NULL || returned_part(c) == NULL)
		return 0;
	res->class = INBOUND_COMPLAINT;
	res->reason = xstrdup("complaint: abuse");
	bounce_token(c);
	failed_recipient(c);
	return 1;
}


static int
try_arf(struct cls *c)
{
	struct classify_result	*res = c->res;
	const struct mail_part	*m;
	struct arf_report	 arf;
	char			*body;
	size_t			 len;

	if ((m = mail_find(c->mime, "message", "feedback-report")) == NULL)
		return try_jmrp(c);
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
	if (res->recipient == NULL)
		failed_recipient(c);
	return 1;
}

/* ---- (b2) Amazon SES notifications (JSON, by mail through SNS) ---- */

/*
 * The JSON object that starts at p, with the "!" CR LF SP line breaks
 * SNS inserts into long lines taken out again.
 */
static json_t *
ses_json(const char *p)
{
	json_error_t	 err;
	json_t		*j;
	char		*buf, *w;
	const char	*r;

	buf = w = xmalloc(strlen(p) + 1);
	for (r = p; *r != '\0'; r++) {
		if (r[0] == '!' && r[1] == '\r' && r[2] == '\n' && r[3] == ' ')
			r += 3;
		else if (r[0] == '!' && r[1] == '\n' && r[2] == ' ')
			r += 2;
		else
			*w++ = *r;
	}
	*w = '\0';
	j = json_loads(buf, JSON_DISABLE_EOF_CHECK, &err);
	free(buf);
	return j;
}

static const char *
ses_str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* The first element of o.list[] as an object. */
static json_t *
ses_first(json_t *o, const char *key)
{
	return json_array_get(json_object_get(o, key), 0);
}

/*
 * A bounce, complaint or delivery notification of Amazon SES: a JSON
 * document as the whole text ({"notificationType": "Bounce", ...} or,
 * from event publishing, "eventType"). Not a reply: nobody wrote it.
 */
static int
try_ses(struct cls *c)
{
	struct classify_result	*res = c->res;
	const char		*text, *p, *type, *addr, *st, *diag, *bt, *msg;
	json_t			*j, *b, *r;
	char			 code[16];

	if ((text = cls_text(c)) == NULL)
		return 0;
	for (p = text; *p == ' ' || *p == '\t' || *p == '\r' || *p == '\n';
	    p++)
		;
	if (*p != '{' || (str_casefind(p, "notificationType") == NULL &&
	    str_casefind(p, "eventType") == NULL) || (j = ses_json(p)) == NULL)
		return 0;
	if ((msg = ses_str(j, "Message")) != NULL && *msg == '{') {
		/* the SNS envelope of a notification sent as JSON */
		b = json_loads(msg, JSON_DISABLE_EOF_CHECK, NULL);
		json_decref(j);
		if ((j = b) == NULL)
			return 0;
	}
	if ((type = ses_str(j, "notificationType")) == NULL)
		type = ses_str(j, "eventType");
	if (type == NULL) {
		json_decref(j);
		return 0;
	}
	if (strcasecmp(type, "Bounce") == 0) {
		b = json_object_get(j, "bounce");
		r = ses_first(b, "bouncedRecipients");
		addr = ses_str(r, "emailAddress");
		st = ses_str(r, "status");
		diag = ses_str(r, "diagnosticCode");
		bt = ses_str(b, "bounceType");
		if (st != NULL && dsn_status_scan(st, code, sizeof(code)))
			res->status = xstrdup(code);
		else if (diag != NULL && dsn_status_scan(diag, code, sizeof(code)))
			res->status = xstrdup(code);
		if (bt != NULL && strcasecmp(bt, "Transient") == 0)
			res->class = INBOUND_BOUNCE_SOFT;
		else
			bounce_set_class(res, diag != NULL ? dsn_diag_text(diag) :
			    bt);
		diag = diag != NULL ? dsn_diag_text(diag) : bt != NULL ? bt :
		    "failed";
		res->reason = mail_one_line(diag, strlen(diag));
	} else if (strcasecmp(type, "Complaint") == 0) {
		b = json_object_get(j, "complaint");
		addr = ses_str(ses_first(b, "complainedRecipients"),
		    "emailAddress");
		res->class = INBOUND_COMPLAINT;
		bt = ses_str(b, "complaintFeedbackType");
		xasprintf(&res->reason, "complaint: %.40s", bt != NULL ? bt :
		    "abuse");
	} else if (strcasecmp(type, "Delivery") == 0) {
		b = json_object_get(j, "delivery");
		addr = json_string_value(json_array_get(json_object_get(b,
		    "recipients"), 0));
		res->class = INBOUND_AUTOREPLY;
		res->reason = xstrdup("delivery notice: delivered");
	} else {
		json_decref(j);
		return 0;
	}
	if (addr == NULL)
		addr = json_string_value(json_array_get(json_object_get(
		    json_object_get(j, "mail"), "destination"), 0));
	if (addr != NULL && strchr(addr, '@') != NULL)
		res->recipient = mail_one_line(addr, strcspn(addr, " \t<>"));
	json_decref(j);
	bounce_token(c);
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
	"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon",
	"mdaemon", "post_master", NULL
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
	"warning: could not send", "delayed mail", "delivery delayed",
	"non-delivery", "delivery warning", "user unknown",
	/* Japanese: "mail error", "delivery error", "undelivered" (x2) */
	"\xe3\x83\xa1\xe3\x83\xbc\xe3\x83\xab\xe3\x82\xa8\xe3\x83\xa9\xe3\x83\xbc",
	"\xe9\x85\x8d\xe4\xbf\xa1\xe3\x82\xa8\xe3\x83\xa9\xe3\x83\xbc",
	"\xe6\x9c\xaa\xe9\x81\x94", "\xe4\xb8\x8d\xe9\x81\x94", NULL
};

/* Phrases that open the list of failed recipients in bounce texts. */
static const char *const failure_anchors[] = {
	"Delivery has failed to these recipients or groups",
	"Your message to ", "Your message wasn't delivered to",
	"I'm afraid I wasn't able to deliver your message",
	"Sorry, we were unable to deliver your message",
	"The following addresses had permanent fatal errors",
	"The following addresses had", "following recipients",
	"did not reach the following recipient",
	"could not be delivered to the following user",
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
	"warning: could not send", "delivery is delayed",
	"delivery warning", NULL
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
	"copy of the message", "original message follows",
	"original message ---", "--- original message", "original message:",
	"Original message headers",
	"Below this line is a copy", "^returned message", "message follows",
	"Received: ", "\nReturn-Path:", NULL
};

/*
 * Where marker m first occurs in s; "^" before a marker: only as a line
 * of its own (after dashes), not in prose ("delete your own text from
 * the attached returned message").
 */
static const char *
marker_find(const char *s, const char *m)
{
	const char	*p, *b;

	if (*m != '^')
		return str_casefind(s, m);
	for (p = s; (p = str_casefind(p, m + 1)) != NULL; p++) {
		for (b = p; b > s && strchr(" \t-=*", b[-1]) != NULL; b--)
			;
		if (b == s || b[-1] == '\n')
			return p;
	}
	return NULL;
}

static size_t
diag_region(const char *s)
{
	const char	*best = NULL, *p;

	for (const char *const *m = copy_markers; *m != NULL; m++)
		if ((p = marker_find(s, *m)) != NULL && (best == NULL ||
		    p < best))
			best = p;
	return best == NULL ? strlen(s) : (size_t)(best - s);
}

static const char *const system_locals[] = {
	"postmaster", "mailer-daemon", "mail-daemon", "abuse", "root", NULL
};

static int
addr_is_system(const char *a)
{
	size_t	 n = strcspn(a, "@");

	for (const char *const *l = system_locals; *l != NULL; l++)
		if (strlen(*l) == n && strncasecmp(a, *l, n) == 0)
			return 1;
	return 0;
}

/*
 * The failed recipient in a bounce text [s, end). MTAs list it at the
 * start of a line ("<a@b>: reason", "a@b [User unknown]", ">>> a@b"),
 * so an address that opens a line is taken first; then any address.
 * Never the bounce's own sender or addressee (our envelope sender: a
 * mailing list's bounce address) nor an address to contact, and the
 * reporting system's postmaster only when nothing else is named.
 */
static char *
text_recipient(struct cls *c, const char *s, const char *end)
{
	const char	*skip[3], *p, *e, *b, *where;
	char		*to = NULL, *v, *a = NULL, *sys = NULL;
	int		 pass;

	if ((v = mail_hdr_get(c->data, c->hlen, "To")) != NULL)
		to = addr_scan(v, v + strlen(v), NULL, NULL, NULL);
	free(v);
	skip[0] = c->res->from;
	skip[1] = skip[0] != NULL ? to : NULL;
	if (skip[0] == NULL)
		skip[0] = to;
	skip[2] = NULL;
	for (pass = 0; pass < 2 && a == NULL; pass++) {
		for (p = s; p < end && a == NULL; p = e + 1) {
			e = mail_line_end(p, end);
			b = p;
			if (str_casemem(p, (size_t)(e - p), "contact") != NULL) {
				if (e >= end)
					break;
				continue;	/* "please contact <support@...>" */
			}
			while (b < e && (*b == ' ' || *b == '\t' || *b == '>' ||
			    *b == '<' || *b == '"' || *b == '-' || *b == '*'))
				b++;
			while ((v = addr_scan(b, e, c->opts, skip, &where)) !=
			    NULL) {
				if (pass == 0 && where != b) {
					free(v);
					break;
				}
				if (!addr_is_system(v)) {
					a = v;
					break;
				}
				b = where + strlen(v);
				if (sys == NULL)
					sys = v;
				else
					free(v);
			}
			if (e >= end)
				break;
		}
	}
	free(to);
	if (a == NULL)
		return sys;
	free(sys);
	return a;
}

/*
 * The To: of an original returned inline in the text after the notice
 * (no message/rfc822 part): the only place some MTAs name the address.
 */
static char *
quoted_to(struct cls *c, const char *s)
{
	const char	*p, *e;

	for (p = s; *p != '\0'; p = *e == '\0' ? e : e + 1) {
		e = p + strcspn(p, "\n");
		if (strncasecmp(p, "To:", 3) == 0)
			return addr_scan(p + 3, e, c->opts, NULL, NULL);
	}
	return NULL;
}

/*
 * A delivery-status report carried inline in a text bounce (a relay that
 * forwards the original DSN as plain text): its Final-Recipient line
 * names the address more surely than the prose around it.
 */
static char *
inline_final_recipient(struct cls *c, const char *text)
{
	const char	*p, *e, *semi;

	for (p = text; (p = str_casefind(p, "Final-Recipient:")) != NULL;
	    p++) {
		if (p != text && p[-1] != '\n')
			continue;
		e = p + strcspn(p, "\n");
		if ((semi = memchr(p, ';', (size_t)(e - p))) == NULL)
			semi = p + 16;
		return addr_scan(semi + 1, e, c->opts, NULL, NULL);
	}
	return NULL;
}

/* Recipient, status and reason from a human-readable bounce text. */
static void
bounce_text(struct cls *c, const char *text)
{
	struct classify_result	*res = c->res;
	const char		*a = NULL, *p;
	char			*region, *v, st[16];
	size_t			 n;

	/* the earliest anchor: a later one may be in the returned message */
	for (const char *const *f = failure_anchors; *f != NULL; f++)
		if ((p = str_casefind(text, *f)) != NULL && (a == NULL || p < a))
			a = p;
	if (a == NULL)
		a = text;
	n = diag_region(a);
	region = xstrndup(a, n);
	if ((v = mail_hdr_get(c->data, c->hlen, "X-Failed-Recipients")) != NULL)
		res->recipient = addr_scan(v, v + strlen(v), c->opts,
		    NULL, NULL);
	free(v);
	if (res->recipient == NULL)
		res->recipient = inline_final_recipient(c, text);
	if (res->recipient == NULL)
		res->recipient = text_recipient(c, region, region + n);
	if (res->recipient == NULL && a != text)
		res->recipient = text_recipient(c, text, a);
	if (res->recipient == NULL)
		failed_recipient(c);
	if (res->recipient == NULL)
		res->recipient = quoted_to(c, a + n);
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
		a = text;	/* the subject said it */
	c->res->recipient = text_recipient(c, a, a + diag_region(a));
	/* "Delivery to this address: <a> has been postponed ..." */
	if (c->res->recipient == NULL && a != text)
		c->res->recipient = text_recipient(c, text, a);
}

/*
 * Whether the message calls itself a delivery report (multipart/report;
 * report-type=delivery-status) even where its status part is too
 * malformed to read: what MTAs write so, is a bounce.
 */
static int
report_is_dsn(struct cls *c)
{
	const char	*t;

	return c->mime != NULL && (t = mail_part_param(mail_body(c->mime),
	    "report-type")) != NULL && strcasecmp(t, "delivery-status") == 0;
}

static int
try_nonstandard_bounce(struct cls *c)
{
	struct classify_result	*res = c->res;
	const char		*text;
	int			 to_bounce, strong;

	to_bounce = rcpt_token(c, c->opts->bounce_local, 'b');
	text = cls_text(c);
	strong = from_is_daemon(c) || subject_is_bounce(res->subject) ||
	    report_is_dsn(c);
	/*
	 * Otherwise a failure phrase must come with other evidence: sent to
	 * our bounce address, or the returned message attached (au/KDDI's
	 * notices come from no-reply@ with the subject "Mail").
	 */
	if (!strong && !((to_bounce || (c->mime != NULL &&
	    mail_find(c->mime, "message", "rfc822") != NULL &&
	    !str_caseprefix_any(res->subject != NULL ? res->subject : "",
	    reply_prefixes))) && text != NULL &&
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

/* ---- (e2) meeting replies ---- */

/*
 * An iTIP reply (RFC 5546 METHOD:REPLY) in a text/calendar part. The
 * member is named by the reply token of the address it was sent to: our
 * recipient headers, else the ORGANIZER it answers (our reply+TOKEN).
 * ATTENDEE and From are whatever the sender wrote and name nobody.
 */
static int
try_rsvp(struct cls *c)
{
	const struct mail_part	*p;
	struct ical_reply	 r;
	char			*ics;
	size_t			 len;

	if (c->mime == NULL || (p = mail_find(c->mime, "text",
	    "calendar")) == NULL || (ics = mail_part_decoded(p, &len)) == NULL)
		return 0;
	if (ical_reply_parse(ics, &r) == -1) {
		free(ics);
		return 0;
	}
	free(ics);
	c->res->class = INBOUND_RSVP;
	c->res->rsvp_uid = r.uid;
	r.uid = NULL;
	c->res->rsvp_answer = r.answer;
	xasprintf(&c->res->reason, "meeting reply: %s", r.answer);
	if (!rcpt_token(c, c->opts->reply_local, 'r') && r.organizer != NULL)
		token_try(c, r.organizer, strlen(r.organizer),
		    c->opts->reply_local, 'r');
	ical_reply_free(&r);
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
	if (try_dsn(c) || try_arf(c) || try_ses(c) || try_rsvp(c) ||
	    try_unsubscribe_address(c) ||
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
	size_t		 skip;

	memset(res, 0, sizeof(*res));
	res->class = INBOUND_UNKNOWN;
	if (data == NULL || opts == NULL)
		return -1;
	if (opts->max_size != 0 && len > opts->max_size) {
		res->reason = xstrdup("too large");
		res->no_reply = 1;
		return 0;
	}
	skip = mail_mbox_line(data, len);
	data += skip;
	len -= skip;
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
	free(res->rsvp_uid);
	memset(res, 0, sizeof(*res));
}

