/*
 * Classification of inbound mail: bounces (RFC 3464 DSNs and the common
 * non-standard formats), complaints (RFC 5965 ARF), auto-replies
 * (RFC 3834 and vacation heuristics), unsubscribe requests and human
 * replies. Pure parsing: no I/O, no database; the caller verifies the
 * token and acts. libetpan's MIME parser is used here and only here on
 * the inbound side; it does not look inside message/delivery-status or
 * message/feedback-report bodies, so those field blocks are read by hand.
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

#include <sys/resource.h>

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libetpan/libetpan.h>

#include "clarion.h"

#define CLASSIFY_MAX_DEPTH	16	/* MIME nesting we walk */
#define CLASSIFY_MAX_BOUNDARIES	64	/* more: do not hand it to libetpan */
#define CLASSIFY_MAX_CTYPES	1000
#define CLASSIFY_HDR_MAX	(256 * 1024)
#define CLASSIFY_TEXT_MAX	(512 * 1024)	/* decoded text examined */
#define CLASSIFY_REASON_MAX	200
#define CLASSIFY_MAX_COMMENT	32	/* "(" nesting handed to libetpan */
#define CLASSIFY_STACK_LEVEL	2048	/* stack for one libetpan level */
#define CLASSIFY_STACK_SPARE	(256 * 1024)

/* Work state for one message. */
struct cls {
	const struct classify_opts	*opts;
	struct classify_result		*res;
	const char			*data;	/* NUL-free copy */
	size_t				 len;
	size_t				 hlen;	/* top-level header block */
	size_t				 body_off;	/* where its body starts */
	struct mailmime			*mime;	/* NULL when not parsed */
	struct mailmime			*body;	/* the root message's body */
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

/* ---- small string helpers ---- */

/*
 * Case-insensitive memmem. Candidates are found with memchr on both cases
 * of the first byte, a window at a time so that the work stays in
 * proportion to the distance to the match: this runs over whole bodies
 * for dozens of phrases, and callers loop over successive matches.
 */
static const char *
ci_memmem(const char *h, size_t hlen, const char *n)
{
	size_t		 nlen = strlen(n);
	const char	*end, *w, *c, *p, *q;
	int		 cl, cu;

	if (nlen == 0 || nlen > hlen)
		return NULL;
	end = h + (hlen - nlen + 1);	/* last start + 1 */
	cl = tolower((unsigned char)n[0]);
	cu = toupper((unsigned char)n[0]);
	for (p = h; p < end;) {
		w = end - p > 256 ? p + 256 : end;
		c = memchr(p, cl, (size_t)(w - p));
		if (cu != cl && (q = memchr(p, cu, (size_t)((c != NULL ? c :
		    w) - p))) != NULL)
			c = q;
		if (c == NULL) {
			p = w;
			continue;
		}
		if (strncasecmp(c + 1, n + 1, nlen - 1) == 0)
			return c;
		p = c + 1;
	}
	return NULL;
}

static const char *
ci_find(const char *h, const char *n)
{
	return h == NULL ? NULL : ci_memmem(h, strlen(h), n);
}

/* The first of a NULL-terminated list of phrases found in s. */
static const char *
ci_find_any(const char *s, const char *const *list)
{
	for (; *list != NULL; list++)
		if (ci_find(s, *list) != NULL)
			return *list;
	return NULL;
}

static int
ci_prefix_any(const char *s, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strncasecmp(s, *list, strlen(*list)) == 0)
			return 1;
	return 0;
}

/*
 * Valid UTF-8 copy: invalid sequences become U+FFFD (counted in *bad when
 * bad is not NULL), NULs are dropped, CRLF becomes LF.
 */
static char *
utf8_clean_count(const char *s, size_t len, size_t *bad)
{
	struct buf	 b;
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	size_t		 n, i;
	uint32_t	 cp;

	buf_init(&b);
	buf_add(&b, "", 0);
	while (p < end) {
		if (*p < 0x80) {
			if (*p != '\0' && !(*p == '\r' && p + 1 < end &&
			    p[1] == '\n'))
				buf_addc(&b, (char)*p);
			p++;
			continue;
		}
		if (*p >= 0xc2 && *p <= 0xdf) {
			n = 1;
			cp = *p & 0x1f;
		} else if (*p >= 0xe0 && *p <= 0xef) {
			n = 2;
			cp = *p & 0x0f;
		} else if (*p >= 0xf0 && *p <= 0xf4) {
			n = 3;
			cp = *p & 0x07;
		} else
			goto bad;
		if ((size_t)(end - p) <= n)
			goto bad;
		for (i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				goto bad;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 &&
		    cp <= 0xdfff))) || (n == 3 && (cp < 0x10000 ||
		    cp > 0x10ffff)))
			goto bad;
		buf_add(&b, p, n + 1);
		p += n + 1;
		continue;
bad:
		buf_adds(&b, "\xef\xbf\xbd");
		if (bad != NULL)
			(*bad)++;
		p++;
	}
	return buf_steal(&b);
}

static char *
utf8_clean(const char *s, size_t len)
{
	return utf8_clean_count(s, len, NULL);
}

static int
text_is_utf8(const char *s, size_t len)
{
	size_t	 bad = 0;

	free(utf8_clean_count(s, len, &bad));
	return bad == 0;
}

static char *
latin1_to_utf8(const char *s, size_t len)
{
	struct buf	 b;
	size_t		 i;
	unsigned char	 c;

	buf_init(&b);
	buf_add(&b, "", 0);
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c == '\0' || (c == '\r' && i + 1 < len && s[i + 1] == '\n'))
			continue;
		if (c < 0x80)
			buf_addc(&b, (char)c);
		else {
			buf_addc(&b, (char)(0xc0 | (c >> 6)));
			buf_addc(&b, (char)(0x80 | (c & 0x3f)));
		}
	}
	return buf_steal(&b);
}

/*
 * Text in a declared charset to clean UTF-8. An unknown charset, or
 * undeclared 8-bit text that is not UTF-8, is read as Latin-1 so every
 * byte still shows as something.
 */
static char *
text_to_utf8(const char *s, size_t len, const char *charset)
{
	char	*conv = NULL, *out;

	if (charset == NULL || strcasecmp(charset, "us-ascii") == 0 ||
	    strcasecmp(charset, "utf-8") == 0 ||
	    strcasecmp(charset, "utf8") == 0) {
		if (text_is_utf8(s, len))
			return utf8_clean(s, len);
		return latin1_to_utf8(s, len);
	}
	if (charconv("utf-8", charset, s, len, &conv) ==
	    MAIL_CHARCONV_NO_ERROR && conv != NULL) {
		out = utf8_clean(conv, strlen(conv));
		free(conv);
		return out;
	}
	free(conv);
	if (text_is_utf8(s, len))
		return utf8_clean(s, len);
	return latin1_to_utf8(s, len);
}

/* One line for a person: controls become spaces, runs collapse, capped. */
static char *
one_line(const char *s, size_t len)
{
	struct buf	 b;
	size_t		 i;
	unsigned char	 c;
	char		*u, *out;

	u = utf8_clean(s, len);
	buf_init(&b);
	buf_add(&b, "", 0);
	for (i = 0; u[i] != '\0'; i++) {
		c = (unsigned char)u[i];
		if (c < 0x20 || c == 0x7f)
			c = ' ';
		if (c == ' ' && (b.len == 0 || b.data[b.len - 1] == ' '))
			continue;
		if (b.len >= CLASSIFY_REASON_MAX && (c & 0xc0) != 0x80)
			break;
		buf_addc(&b, (char)c);
	}
	free(u);
	while (b.len > 0 && b.data[b.len - 1] == ' ')
		b.data[--b.len] = '\0';
	out = buf_steal(&b);
	if (*out == '\0') {
		free(out);
		return NULL;
	}
	return out;
}

/* ---- raw header blocks (RFC 5322 fields, also DSN/ARF blocks) ---- */

struct hdr_iter {
	const char	*p;
	const char	*end;
};

static const char *
line_end(const char *p, const char *end)
{
	const char	*nl = memchr(p, '\n', (size_t)(end - p));

	return nl == NULL ? end : nl;
}

static int
is_blank_line(const char *p, const char *end)
{
	return p < end && (*p == '\n' || (*p == '\r' && p + 1 < end &&
	    p[1] == '\n'));
}

static int
field_name_ok(const char *p, size_t n)
{
	size_t	 i;

	if (n == 0 || n > 76)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] <= ' ' || (unsigned char)p[i] >= 0x7f)
			return 0;
	return 1;
}

/*
 * Next field of a block: name and raw (folded) value. Stops at a blank
 * line, leaving it->p on it. Lines that are not fields are skipped.
 */
static int
hdr_next(struct hdr_iter *it, const char **name, size_t *nlen,
    const char **val, size_t *vlen)
{
	const char	*p, *eol, *next, *colon;

	while ((p = it->p) < it->end && !is_blank_line(p, it->end)) {
		eol = line_end(p, it->end);
		next = eol < it->end ? eol + 1 : eol;
		while (next < it->end && (*next == ' ' || *next == '\t')) {
			eol = line_end(next, it->end);
			next = eol < it->end ? eol + 1 : eol;
		}
		it->p = next;
		colon = memchr(p, ':', (size_t)(eol - p));
		if (colon == NULL)
			continue;
		*nlen = (size_t)(colon - p);
		while (*nlen > 0 && (p[*nlen - 1] == ' ' || p[*nlen - 1] == '\t'))
			(*nlen)--;
		if (!field_name_ok(p, *nlen))
			continue;
		*name = p;
		*val = colon + 1;
		*vlen = (size_t)(eol - *val);
		return 1;
	}
	return 0;
}

/* Length of the header block at s (up to, not including, the blank line). */
static size_t
hdr_block_len(const char *s, size_t len, size_t *body)
{
	const char	*p = s, *end = s + len, *eol;

	while (p < end && !is_blank_line(p, end)) {
		eol = line_end(p, end);
		p = eol < end ? eol + 1 : eol;
	}
	*body = (size_t)(p - s);
	if (p < end)
		*body += *p == '\r' ? 2 : 1;
	return (size_t)(p - s);
}

/* Unfolded value, comments kept, control characters as spaces, trimmed. */
static char *
hdr_value(const char *v, size_t len)
{
	char	*s, *u;
	size_t	 i;

	u = utf8_clean(v, len);
	for (i = 0; u[i] != '\0'; i++)
		if ((unsigned char)u[i] < 0x20 || u[i] == 0x7f)
			u[i] = ' ';
	s = xstrdup(str_trim(u));
	free(u);
	return s;
}

static char *
hdr_get(const char *block, size_t len, const char *name)
{
	struct hdr_iter	 it = { block, block + len };
	const char	*n, *v;
	size_t		 nl, vl;

	while (hdr_next(&it, &n, &nl, &v, &vl))
		if (nl == strlen(name) && strncasecmp(n, name, nl) == 0)
			return hdr_value(v, vl);
	return NULL;
}

static int
hdr_has(const char *block, size_t len, const char *name)
{
	char	*v = hdr_get(block, len, name);

	free(v);
	return v != NULL;
}

/* Drop RFC 5322 comments "(...)" in place (nested), then trim. */
static char *
strip_comments(char *s)
{
	char	*r, *w;
	int	 depth = 0, quoted = 0;

	for (r = w = s; *r != '\0'; r++) {
		if (*r == '"' && depth == 0)
			quoted = !quoted;
		if (!quoted && *r == '(')
			depth++;
		else if (!quoted && *r == ')' && depth > 0)
			depth--;
		else if (depth == 0)
			*w++ = *r;
	}
	*w = '\0';
	return str_trim(s);
}

/* "<id@host>" or "id@host" -> malloced id without the brackets. */
static char *
msgid_clean(const char *v)
{
	const char	*lt, *gt;
	size_t		 n;

	if (v == NULL)
		return NULL;
	if ((lt = strchr(v, '<')) != NULL && (gt = strchr(lt, '>')) != NULL) {
		if (gt - lt < 2)
			return NULL;
		return one_line(lt + 1, (size_t)(gt - lt - 1));
	}
	while (*v == ' ')
		v++;
	n = strcspn(v, " \t");
	return n == 0 ? NULL : one_line(v, n);
}

/* RFC 2047 decoded header text (Subject, display names) as UTF-8. */
static char *
decode_words(const char *v)
{
	size_t	 idx = 0;
	char	*out = NULL, *clean;

	if (v == NULL)
		return NULL;
	if (mailmime_encoded_phrase_parse("iso-8859-1", v, strlen(v), &idx,
	    "utf-8", &out) != MAILIMF_NO_ERROR || out == NULL)
		return one_line(v, strlen(v));
	clean = one_line(out, strlen(out));
	free(out);
	return clean;
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

/* Address out of a DSN/ARF address field: "rfc822; <a@b> (comment)". */
static char *
dsn_addr(const char *v)
{
	char	*s, *p, *q, *out;

	if (v == NULL)
		return NULL;
	s = xstrdup(v);
	p = strchr(s, ';');
	p = strip_comments(p != NULL ? p + 1 : s);
	if (*p == '<' && (q = strchr(p, '>')) != NULL) {
		*q = '\0';
		p++;
	}
	p = str_trim(p);
	out = *p == '\0' || strchr(p, '@') == NULL ? NULL :
	    one_line(p, strcspn(p, " \t<>"));
	free(s);
	return out;
}

/* ---- status codes and hard/soft ---- */

/* The first enhanced status code "c.s.d" in s, copied to out[16]. */
static int
status_scan(const char *s, char *out, size_t outlen)
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

int
classify_bounce_is_hard(const char *status, const char *text)
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
	if (text == NULL || ci_find_any(text, soft_words) != NULL)
		return 0;
	if (status == NULL && smtp_class(text) == '4')
		return 0;
	return ci_find_any(text, hard_words) != NULL;
}

/* ---- MIME walking ---- */

static const char *
mime_type(const struct mailmime *m)
{
	const struct mailmime_content	*ct = m->mm_content_type;
	const struct mailmime_type	*t;

	if (ct == NULL || (t = ct->ct_type) == NULL)
		return m->mm_type == MAILMIME_MESSAGE ? "message" : "text";
	if (t->tp_type == MAILMIME_TYPE_DISCRETE_TYPE) {
		switch (t->tp_data.tp_discrete_type->dt_type) {
		case MAILMIME_DISCRETE_TYPE_TEXT:
			return "text";
		case MAILMIME_DISCRETE_TYPE_IMAGE:
			return "image";
		case MAILMIME_DISCRETE_TYPE_AUDIO:
			return "audio";
		case MAILMIME_DISCRETE_TYPE_VIDEO:
			return "video";
		case MAILMIME_DISCRETE_TYPE_APPLICATION:
			return "application";
		default:
			return t->tp_data.tp_discrete_type->dt_extension ?
			    t->tp_data.tp_discrete_type->dt_extension : "";
		}
	}
	switch (t->tp_data.tp_composite_type->ct_type) {
	case MAILMIME_COMPOSITE_TYPE_MESSAGE:
		return "message";
	case MAILMIME_COMPOSITE_TYPE_MULTIPART:
		return "multipart";
	default:
		return t->tp_data.tp_composite_type->ct_token ?
		    t->tp_data.tp_composite_type->ct_token : "";
	}
}

static int
mime_is(const struct mailmime *m, const char *type, const char *sub)
{
	const char	*s;

	if (m == NULL || strcasecmp(mime_type(m), type) != 0)
		return 0;
	if (sub == NULL)
		return 1;
	s = m->mm_content_type != NULL ? m->mm_content_type->ct_subtype : NULL;
	return s != NULL && strcasecmp(s, sub) == 0;
}

static int
mime_is_attachment(const struct mailmime *m)
{
	clistiter			*it;
	const struct mailmime_field	*f;

	if (m->mm_mime_fields == NULL)
		return 0;
	for (it = clist_begin(m->mm_mime_fields->fld_list); it != NULL;
	    it = clist_next(it)) {
		f = clist_content(it);
		if (f->fld_type == MAILMIME_FIELD_DISPOSITION &&
		    f->fld_data.fld_disposition != NULL &&
		    f->fld_data.fld_disposition->dsp_type != NULL &&
		    f->fld_data.fld_disposition->dsp_type->dsp_type ==
		    MAILMIME_DISPOSITION_TYPE_ATTACHMENT)
			return 1;
	}
	return 0;
}

/* Depth-first search for type/sub (sub NULL: any), not inside skip_msg. */
static struct mailmime *
mime_find(struct mailmime *m, const char *type, const char *sub,
    int into_messages, int depth)
{
	clistiter	*it;
	struct mailmime	*r;

	if (m == NULL || depth > CLASSIFY_MAX_DEPTH)
		return NULL;
	if (mime_is(m, type, sub))
		return m;
	if (m->mm_type == MAILMIME_MULTIPLE) {
		for (it = clist_begin(m->mm_data.mm_multipart.mm_mp_list);
		    it != NULL; it = clist_next(it))
			if ((r = mime_find(clist_content(it), type, sub,
			    into_messages, depth + 1)) != NULL)
				return r;
	} else if (m->mm_type == MAILMIME_MESSAGE && into_messages &&
	    depth > 0)
		return mime_find(m->mm_data.mm_message.mm_msg_mime, type, sub,
		    into_messages, depth + 1);
	return NULL;
}

/* Raw bytes of a part as transmitted (for message/ parts: the message). */
static const char *
mime_raw(const struct mailmime *m, size_t *len)
{
	const struct mailmime_data	*d = m->mm_body;

	if (m->mm_type == MAILMIME_SINGLE)
		d = m->mm_data.mm_single;
	if (d != NULL && d->dt_type == MAILMIME_DATA_TEXT &&
	    d->dt_data.dt_text.dt_data != NULL) {
		*len = d->dt_data.dt_text.dt_length;
		return d->dt_data.dt_text.dt_data;
	}
	*len = 0;
	return NULL;
}

/* Transfer-decoded body of a single part, NULs replaced; malloced. */
static char *
mime_decoded(const struct mailmime *m, size_t *len)
{
	const struct mailmime_data	*d;
	const char			*raw;
	char				*res = NULL, *out;
	size_t				 rawlen, idx = 0, rl = 0, i;

	*len = 0;
	if (m->mm_type != MAILMIME_SINGLE ||
	    (raw = mime_raw(m, &rawlen)) == NULL)
		return NULL;
	if (rawlen > CLASSIFY_TEXT_MAX)
		rawlen = CLASSIFY_TEXT_MAX;
	d = m->mm_data.mm_single;
	if (d->dt_encoded && (d->dt_encoding == MAILMIME_MECHANISM_BASE64 ||
	    d->dt_encoding == MAILMIME_MECHANISM_QUOTED_PRINTABLE)) {
		if (mailmime_part_parse(raw, rawlen, &idx, d->dt_encoding,
		    &res, &rl) != MAILIMF_NO_ERROR || res == NULL)
			return NULL;
		out = xmalloc(rl + 1);
		memcpy(out, res, rl);
		mmap_string_unref(res);
	} else {
		rl = rawlen;
		out = xmalloc(rl + 1);
		memcpy(out, raw, rl);
	}
	for (i = 0; i < rl; i++)
		if (out[i] == '\0')
			out[i] = ' ';
	out[rl] = '\0';
	*len = rl;
	return out;
}

/* Decoded text of a text/ part in UTF-8. */
static char *
mime_text(const struct mailmime *m)
{
	char		*raw, *out;
	const char	*cs = NULL;
	size_t		 len;

	if ((raw = mime_decoded(m, &len)) == NULL)
		return NULL;
	if (m->mm_content_type != NULL)
		cs = mailmime_content_param_get(m->mm_content_type,
		    (char *)"charset");
	out = text_to_utf8(raw, len, cs);
	free(raw);
	if (mime_is(m, "text", "html")) {
		raw = classify_html_to_text(out, strlen(out), 0);
		free(out);
		out = raw;
	}
	return out;
}

/* The best human text part: text/plain preferred, then text/html. */
static struct mailmime *
mime_text_part(struct mailmime *m, int html, int depth)
{
	clistiter	*it;
	struct mailmime	*r;

	if (m == NULL || depth > CLASSIFY_MAX_DEPTH)
		return NULL;
	if (m->mm_type == MAILMIME_SINGLE) {
		if (mime_is_attachment(m))
			return NULL;
		return mime_is(m, "text", html ? "html" : "plain") ? m : NULL;
	}
	if (m->mm_type != MAILMIME_MULTIPLE)
		return NULL;
	for (it = clist_begin(m->mm_data.mm_multipart.mm_mp_list); it != NULL;
	    it = clist_next(it))
		if ((r = mime_text_part(clist_content(it), html, depth + 1))
		    != NULL)
			return r;
	return NULL;
}

/*
 * The message's main text in UTF-8; when strip is set and the text came
 * from HTML, quoted blocks are cut first. Without a MIME tree, the raw
 * body is used.
 */
static char *
main_text(struct cls *c, int strip, int *from_html)
{
	struct mailmime	*p;
	char		*raw, *out;
	const char	*cs = NULL;
	size_t		 len;

	*from_html = 0;
	if (c->mime == NULL) {
		len = c->len - c->body_off;
		if (len > CLASSIFY_TEXT_MAX)
			len = CLASSIFY_TEXT_MAX;
		return text_to_utf8(c->data + c->body_off, len, NULL);
	}
	if ((p = mime_text_part(c->body, 0, 0)) != NULL)
		return mime_text(p);
	if ((p = mime_text_part(c->body, 1, 0)) == NULL)
		return NULL;
	*from_html = 1;
	if ((raw = mime_decoded(p, &len)) == NULL)
		return NULL;
	if (p->mm_content_type != NULL)
		cs = mailmime_content_param_get(p->mm_content_type,
		    (char *)"charset");
	out = text_to_utf8(raw, len, cs);
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

static struct mailmime *
returned_part(struct cls *c)
{
	static const char *const subs[] = { "rfc822", "rfc822-headers",
	    "global", "global-headers", NULL };
	const char *const *s;
	struct mailmime	*m;

	for (s = subs; *s != NULL; s++) {
		if ((m = mime_find(c->body, "message", *s, 0, 0)) != NULL &&
		    m != c->body)
			return m;
	}
	return mime_find(c->body, "text", "rfc822-headers", 0, 0);
}

/* Token and Message-ID from the returned message's headers, if any. */
static void
returned_headers(struct cls *c)
{
	const struct classify_opts	*o = c->opts;
	struct mailmime			*m;
	const char			*raw;
	size_t				 len, body;
	char				*v;

	if ((m = returned_part(c)) == NULL || (raw = mime_raw(m, &len)) ==
	    NULL)
		return;
	len = hdr_block_len(raw, len, &body);
	if (c->res->original_message_id == NULL) {
		v = hdr_get(raw, len, "Message-ID");
		c->res->original_message_id = msgid_clean(v);
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
	    (p = ci_memmem(p, (size_t)(end - p), "message-id:")) != NULL;
	    p += 11) {
		e = line_end(p, end);
		if ((id = msgid_clean(p + 11)) == NULL)
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

/* ---- (a) RFC 3464 delivery status notifications ---- */

struct dsn_rcpt {
	char	*final;
	char	*original;
	char	*action;
	char	*status;
	char	*diag;
};

static void
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
		*dst = hdr_value(v, vl);
}

static int
dsn_action_is(const struct dsn_rcpt *r, const char *action)
{
	char	*a;
	int	 is;

	if (r->action == NULL)
		return 0;
	a = strip_comments(xstrdup(r->action));
	is = strncasecmp(a, action, strlen(action)) == 0;
	free(a);
	return is;
}

/*
 * Read the per-recipient blocks; keep the first failed recipient, else
 * the first one at all. Returns the number of recipient blocks.
 */
static int
dsn_parse(const char *s, size_t len, struct dsn_rcpt *pick)
{
	struct hdr_iter	 it = { s, s + len };
	struct dsn_rcpt	 r;
	const char	*n, *v;
	size_t		 nl, vl;
	int		 blocks = 0;

	memset(pick, 0, sizeof(*pick));
	while (it.p < it.end) {
		memset(&r, 0, sizeof(r));
		while (hdr_next(&it, &n, &nl, &v, &vl))
			dsn_field(&r, n, nl, v, vl);
		while (it.p < it.end && is_blank_line(it.p, it.end))
			it.p = line_end(it.p, it.end) + 1;
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
static const char *
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
static void
dsn_status(struct classify_result *res, const struct dsn_rcpt *r)
{
	char	 st[16], dg[16];
	int	 have = 0;

	if (r->status != NULL)
		have = status_scan(r->status, st, sizeof(st));
	if (r->diag != NULL && status_scan(r->diag, dg, sizeof(dg)) &&
	    (!have || (strcmp(st + 1, ".0.0") == 0 && dg[0] == st[0]))) {
		memcpy(st, dg, sizeof(st));
		have = 1;
	}
	if (have)
		res->status = xstrdup(st);
}

static void
bounce_set_class(struct classify_result *res, const char *text)
{
	res->class = classify_bounce_is_hard(res->status, text) ?
	    INBOUND_BOUNCE_HARD : INBOUND_BOUNCE_SOFT;
}

static int
try_dsn(struct cls *c)
{
	struct classify_result	*res = c->res;
	struct mailmime		*m;
	struct dsn_rcpt		 r;
	char			*body, *a;
	const char		*diag;
	size_t			 len;

	if ((m = mime_find(c->body, "message", "delivery-status", 0, 0)) ==
	    NULL && (m = mime_find(c->body, "message",
	    "global-delivery-status", 0, 0)) == NULL)
		return 0;
	body = mime_decoded(m, &len);
	if (body == NULL || dsn_parse(body, len, &r) == 0) {
		free(body);
		return 0;	/* unreadable: let the heuristics try */
	}
	free(body);
	res->recipient = dsn_addr(r.final != NULL ? r.final : r.original);
	if (res->recipient == NULL)
		res->recipient = dsn_addr(r.original);
	dsn_status(res, &r);
	diag = dsn_diag_text(r.diag);
	bounce_token(c);
	if (dsn_action_is(&r, "failed") || (r.action == NULL &&
	    res->status != NULL && res->status[0] == '5')) {
		bounce_set_class(res, diag);
		res->reason = one_line(diag != NULL ? diag : "failed",
		    strlen(diag != NULL ? diag : "failed"));
	} else {
		res->class = INBOUND_AUTOREPLY;
		a = strip_comments(xstrdup(r.action != NULL ? r.action :
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
	struct mailmime		*m, *ret;
	char			*body, *v, *type;
	const char		*raw;
	size_t			 len, body_off;

	if ((m = mime_find(c->body, "message", "feedback-report", 0, 0)) ==
	    NULL)
		return 0;
	body = mime_decoded(m, &len);
	if (body == NULL)
		body = xstrdup("");
	res->class = INBOUND_COMPLAINT;
	v = hdr_get(body, len, "Original-Rcpt-To");
	res->recipient = dsn_addr(v);
	free(v);
	type = hdr_get(body, len, "Feedback-Type");
	if (type != NULL)
		strip_comments(type);
	xasprintf(&res->reason, "complaint: %.40s", type != NULL && *type ?
	    type : "abuse");
	free(type);
	v = hdr_get(body, len, "Original-Mail-From");
	if (v != NULL)
		token_try(c, v, strlen(v), c->opts->bounce_local, 'b');
	free(v);
	free(body);
	bounce_token(c);
	if (res->recipient == NULL && (ret = returned_part(c)) != NULL &&
	    (raw = mime_raw(ret, &len)) != NULL) {
		len = hdr_block_len(raw, len, &body_off);
		if ((v = hdr_get(raw, len, "To")) != NULL)
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
		if ((v = hdr_get(c->data, c->hlen, *f)) == NULL)
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

	if (name != NULL && ci_find_any(name, daemon_names) != NULL)
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
	if (subject == NULL || ci_prefix_any(subject, reply_prefixes))
		return 0;
	return ci_find_any(subject, bounce_subjects) != NULL;
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
		if ((p = ci_find(s, *m)) != NULL && (best == NULL || p < best))
			best = p;
	return best == NULL ? strlen(s) : (size_t)(best - s);
}

/* A short reason: the line holding the status or the first hard word. */
static char *
diag_line(const char *s, size_t len)
{
	const char	*p = NULL, *b, *e, *end = s + len;
	char		 st[16];
	char		*r;

	r = xstrndup(s, len);
	if (status_scan(r, st, sizeof(st)))
		p = s + (strstr(r, st) - r);
	free(r);
	for (const char *const *w = hard_words; p == NULL && *w; w++)
		p = ci_memmem(s, len, *w);
	for (const char *const *w = soft_words; p == NULL && *w; w++)
		p = ci_memmem(s, len, *w);
	if (p == NULL)
		return NULL;
	for (b = p; b > s && b[-1] != '\n'; b--)
		;
	e = line_end(p, end);
	return one_line(b, (size_t)(e - b));
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
		a = ci_find(text, *f);
	if (a == NULL)
		a = text;
	n = diag_region(a);
	region = xstrndup(a, n);
	if ((v = hdr_get(c->data, c->hlen, "X-Failed-Recipients")) != NULL)
		res->recipient = addr_scan(v, v + strlen(v), c->opts->domain,
		    NULL, NULL);
	free(v);
	if (res->recipient == NULL)
		res->recipient = addr_scan(region, region + n,
		    c->opts->domain, res->from, &where);
	p = region;
	if (status_scan(p, st, sizeof(st)))
		res->status = xstrdup(st);
	res->reason = diag_line(region, n);
	if (res->reason == NULL)
		res->reason = one_line(a, line_end(a, a + strlen(a)) - a);
	bounce_set_class(res, region);
	free(region);
}

/* The address a text delay warning is about, for the log. */
static void
delay_recipient(struct cls *c, const char *text)
{
	const char	*a = NULL;

	for (const char *const *f = delay_phrases; *f != NULL && !a; f++)
		a = ci_find(text, *f);
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
	    ci_find_any(text, failure_anchors) != NULL))
		return 0;
	if (text == NULL)
		text = "";
	bounce_token(c);
	if ((res->subject != NULL && ci_find_any(res->subject,
	    delay_phrases) != NULL) || (ci_find_any(text, delay_phrases) !=
	    NULL && ci_find_any(text, failure_anchors + 3) == NULL)) {
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
	if (ci_find_any(s, vacation_any) != NULL)
		return !ci_prefix_any(s, reply_prefixes);
	return ci_prefix_any(s, vacation_prefix);
}

/* Header evidence only: Auto-Submitted, X-Autoreply and friends. */
static const char *
auto_header(struct cls *c)
{
	char		*v;
	const char	*why = NULL;

	if ((v = hdr_get(c->data, c->hlen, "Auto-Submitted")) != NULL) {
		strip_comments(v);
		v[strcspn(v, "; ")] = '\0';
		if (*v != '\0' && strcasecmp(v, "no") != 0)
			why = "Auto-Submitted";
		free(v);
		if (why != NULL)
			return why;
	}
	if (hdr_has(c->data, c->hlen, "X-Autoreply"))
		return "X-Autoreply";
	if (hdr_has(c->data, c->hlen, "X-Autorespond"))
		return "X-Autorespond";
	if (hdr_has(c->data, c->hlen, "X-Autoresponder"))
		return "X-Autoresponder";
	if ((v = hdr_get(c->data, c->hlen, "Precedence")) != NULL) {
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
	struct mailimf_mailbox_list *mbl = NULL;
	struct mailimf_mailbox	*mb;
	char			*v;
	size_t			 idx = 0;

	v = hdr_get(c->data, c->hlen, "Message-ID");
	res->message_id = msgid_clean(v);
	free(v);
	v = hdr_get(c->data, c->hlen, "In-Reply-To");
	res->in_reply_to = msgid_clean(v);
	free(v);
	v = hdr_get(c->data, c->hlen, "Subject");
	res->subject = decode_words(v);
	free(v);
	if ((v = hdr_get(c->data, c->hlen, "From")) == NULL)
		return;
	if (mailimf_mailbox_list_parse(v, strlen(v), &idx, &mbl) ==
	    MAILIMF_NO_ERROR && mbl != NULL &&
	    clist_begin(mbl->mb_list) != NULL) {
		mb = clist_content(clist_begin(mbl->mb_list));
		res->from = one_line(mb->mb_addr_spec, strlen(mb->mb_addr_spec));
		if (mb->mb_display_name != NULL)
			res->from_name = decode_words(mb->mb_display_name);
	} else
		res->from = addr_scan(v, v + strlen(v), NULL, NULL, NULL);
	if (mbl != NULL)
		mailimf_mailbox_list_free(mbl);
	free(v);
}

/*
 * How deep libetpan's mailmime_parse can recurse on this message, at most.
 * It recurses (mailmime_parse_with_default) once per message/rfc822 part
 * that is not QP or base64 encoded, and twice per multipart part with a
 * boundary; a part without a Content-Type field is text/plain, except
 * directly inside multipart/digest, where it is a message (one more
 * level). Each level's type comes from a Content-Type field in its own
 * header, after every ancestor's: libetpan takes a field name as one run
 * of non-blank bytes up to the colon and compares it with strcasecmp, so
 * however the rest is spelled ("Content-Type :", folds or comments before
 * the colon, an RFC 2047 value, RFC 2231 parameters), each level costs
 * its own case-insensitive "content-type" bytes. Counting those, and
 * nothing more specific, cannot be spelled around: the root, plus two
 * levels per field, bounds the depth. Counting stops past limit.
 */
int
classify_mime_depth_bound(const char *s, size_t len, int limit)
{
	const char	*p = s, *end = s + len;
	int		 ctypes = 0;

	while (ctypes <= limit && p < end && (p = ci_memmem(p,
	    (size_t)(end - p), "content-type")) != NULL) {
		ctypes++;
		p += 12;
	}
	return 2 * ctypes + 2;
}

/*
 * Levels of libetpan recursion the stack has room for. One level took
 * about 320 bytes in a -O2 build (a 27,000-deep message overflowed 8 MB);
 * 2 KB a level leaves room for sanitizer builds, and 256 KB for the rest.
 */
static int
stack_levels(void)
{
	struct rlimit	 rl;

	if (getrlimit(RLIMIT_STACK, &rl) == -1 || rl.rlim_cur == RLIM_INFINITY)
		return INT_MAX;
	if (rl.rlim_cur <= CLASSIFY_STACK_SPARE)
		return 0;
	return (int)((rl.rlim_cur - CLASSIFY_STACK_SPARE) / CLASSIFY_STACK_LEVEL);
}

/*
 * Why a message must not go to libetpan's MIME parser, or NULL. Its
 * recursion is bounded above (and by CLASSIFY_MAX_CTYPES), and its
 * multipart parser is quadratic in nesting depth, so a message with more
 * boundaries than any real mail is read without it.
 */
static const char *
mime_too_complex(const char *s, size_t len)
{
	const char	*p;
	int		 boundaries = 0, bound;

	bound = classify_mime_depth_bound(s, len, CLASSIFY_MAX_CTYPES);
	if (bound > 2 * CLASSIFY_MAX_CTYPES + 2)
		return "too many MIME parts";
	if (bound > stack_levels())
		return "MIME parts nested too deep for the stack";
	for (p = s; p < s + len && (p = ci_memmem(p, (size_t)(s + len - p),
	    "boundary")) != NULL; p += 8)
		if (++boundaries > CLASSIFY_MAX_BOUNDARIES)
			return "too many MIME parts";
	return NULL;
}

static void
parse_mime(struct cls *c)
{
	const char	*why;
	size_t		 idx = 0;

	if ((why = mime_too_complex(c->data, c->len)) != NULL) {
		c->res->reason = xstrdup(why);
		return;
	}
	if (mailmime_parse(c->data, c->len, &idx, &c->mime) !=
	    MAILIMF_NO_ERROR) {
		c->mime = NULL;
		return;
	}
	c->body = c->mime;
	if (c->mime->mm_type == MAILMIME_MESSAGE)
		c->body = c->mime->mm_data.mm_message.mm_msg_mime;
}

static void
classify_run(struct cls *c)
{
	c->hlen = hdr_block_len(c->data, c->len < CLASSIFY_HDR_MAX ? c->len :
	    CLASSIFY_HDR_MAX, &c->body_off);
	common_fields(c);
	parse_mime(c);
	if (c->res->reason != NULL)
		return;		/* refused as too complex */
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

/*
 * The copy every parser works on. libetpan and our scanners take C
 * strings, so NULs become spaces; and libetpan parses RFC 5322 comments
 * recursively (a From: with 300,000 "(" overflows the stack), so a "("
 * nested deeper than CLASSIFY_MAX_COMMENT within one logical line (a
 * field with its folds) becomes a space.
 */
static char *
classify_copy(const char *data, size_t len)
{
	char	*copy = xmalloc(len + 1);
	size_t	 i, depth = 0;

	for (i = 0; i < len; i++) {
		copy[i] = data[i] == '\0' ? ' ' : data[i];
		if (data[i] == '\n' && (i + 1 >= len || (data[i + 1] != ' ' &&
		    data[i + 1] != '\t')))
			depth = 0;
		else if (data[i] == '(' && ++depth > CLASSIFY_MAX_COMMENT)
			copy[i] = ' ';
		else if (data[i] == ')' && depth > 0)
			depth--;
	}
	copy[len] = '\0';
	return copy;
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
	copy = classify_copy(data, len);
	memset(&c, 0, sizeof(c));
	c.opts = opts;
	c.res = res;
	c.data = copy;
	c.len = len;
	classify_run(&c);
	res->no_reply = classify_is_loop(res, opts->domain);
	if (c.mime != NULL)
		mailmime_free(c.mime);
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
