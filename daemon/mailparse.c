/*
 * Reading mail: raw header blocks (RFC 5322 fields, and the DSN and ARF
 * field blocks, which share their syntax), charsets, and the MIME tree.
 * This is the only reader of libetpan's MIME and IMF parsers; mime.c is
 * its writer. Callers get our types: a parsed message (struct mail_msg)
 * and its parts (struct mail_part, libetpan's node under an opaque name).
 *
 * libetpan is handed only what it can take safely: mail_copy() makes the
 * NUL-free copy with "(" nesting capped, and mail_parse() refuses a
 * message whose MIME nesting could overflow the stack or whose boundaries
 * would make its multipart parser quadratic.
 */
#include "config.h"

#include <sys/resource.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libetpan/libetpan.h>

#include "clarion.h"

#define MAIL_MAX_DEPTH		16	/* MIME nesting we walk */
#define MAIL_MAX_BOUNDARIES	64	/* more: do not hand it to libetpan */
#define MAIL_MAX_CTYPES		1000
#define MAIL_LINE_MAX		200	/* mail_one_line() */
#define MAIL_MAX_COMMENT	32	/* "(" nesting handed to libetpan */
#define MAIL_STACK_LEVEL	2048	/* stack for one libetpan level */
#define MAIL_STACK_SPARE	(256 * 1024)

struct mail_msg {
	struct mailmime	*root;
	struct mailmime	*body;	/* the root message's body */
};

/* ---- charsets and one-line text ---- */

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

char *
mail_utf8_clean(const char *s, size_t len)
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
char *
mail_to_utf8(const char *s, size_t len, const char *charset)
{
	char	*conv = NULL, *out;

	/*
	 * ISO-2022-JP is 7-bit and names itself with its escapes; Japanese
	 * MTAs' notices often do not declare it.
	 */
	if ((charset == NULL || strcasecmp(charset, "us-ascii") == 0) &&
	    (str_casemem(s, len, "\033$B") != NULL ||
	    str_casemem(s, len, "\033$@") != NULL))
		charset = "iso-2022-jp";
	if (charset == NULL || strcasecmp(charset, "us-ascii") == 0 ||
	    strcasecmp(charset, "utf-8") == 0 ||
	    strcasecmp(charset, "utf8") == 0) {
		if (text_is_utf8(s, len))
			return mail_utf8_clean(s, len);
		return latin1_to_utf8(s, len);
	}
	if (charconv("utf-8", charset, s, len, &conv) ==
	    MAIL_CHARCONV_NO_ERROR && conv != NULL) {
		out = mail_utf8_clean(conv, strlen(conv));
		free(conv);
		return out;
	}
	free(conv);
	if (text_is_utf8(s, len))
		return mail_utf8_clean(s, len);
	return latin1_to_utf8(s, len);
}

/* One line for a person: controls become spaces, runs collapse, capped. */
char *
mail_one_line(const char *s, size_t len)
{
	struct buf	 b;
	size_t		 i;
	unsigned char	 c;
	char		*u, *out;

	u = mail_utf8_clean(s, len);
	buf_init(&b);
	buf_add(&b, "", 0);
	for (i = 0; u[i] != '\0'; i++) {
		c = (unsigned char)u[i];
		if (c < 0x20 || c == 0x7f)
			c = ' ';
		if (c == ' ' && (b.len == 0 || b.data[b.len - 1] == ' '))
			continue;
		if (b.len >= MAIL_LINE_MAX && (c & 0xc0) != 0x80)
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

const char *
mail_line_end(const char *p, const char *end)
{
	const char	*nl = memchr(p, '\n', (size_t)(end - p));

	return nl == NULL ? end : nl;
}

int
mail_blank_line(const char *p, const char *end)
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
int
mail_hdr_next(struct mail_hdr_iter *it, const char **name, size_t *nlen,
    const char **val, size_t *vlen)
{
	const char	*p, *eol, *next, *colon;

	while ((p = it->p) < it->end && !mail_blank_line(p, it->end)) {
		eol = mail_line_end(p, it->end);
		next = eol < it->end ? eol + 1 : eol;
		while (next < it->end && (*next == ' ' || *next == '\t')) {
			eol = mail_line_end(next, it->end);
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
size_t
mail_hdr_block_len(const char *s, size_t len, size_t *body)
{
	const char	*p = s, *end = s + len, *eol;

	while (p < end && !mail_blank_line(p, end)) {
		eol = mail_line_end(p, end);
		p = eol < end ? eol + 1 : eol;
	}
	*body = (size_t)(p - s);
	if (p < end)
		*body += *p == '\r' ? 2 : 1;
	return (size_t)(p - s);
}

/* Unfolded value, comments kept, control characters as spaces, trimmed. */
char *
mail_hdr_value(const char *v, size_t len)
{
	char	*s, *u;
	size_t	 i;

	/* ISO-2022-JP in a report field (a DSN's Diagnostic-Code) */
	u = str_casemem(v, len, "\033$B") != NULL ? mail_to_utf8(v, len, NULL) :
	    mail_utf8_clean(v, len);
	for (i = 0; u[i] != '\0'; i++)
		if ((unsigned char)u[i] < 0x20 || u[i] == 0x7f)
			u[i] = ' ';
	s = xstrdup(str_trim(u));
	free(u);
	return s;
}

char *
mail_hdr_get(const char *block, size_t len, const char *name)
{
	struct mail_hdr_iter	 it = { block, block + len };
	const char	*n, *v;
	size_t		 nl, vl;

	while (mail_hdr_next(&it, &n, &nl, &v, &vl))
		if (nl == strlen(name) && strncasecmp(n, name, nl) == 0)
			return mail_hdr_value(v, vl);
	return NULL;
}

int
mail_hdr_has(const char *block, size_t len, const char *name)
{
	char	*v = mail_hdr_get(block, len, name);

	free(v);
	return v != NULL;
}

/* Drop RFC 5322 comments "(...)" in place (nested), then trim. */
char *
mail_strip_comments(char *s)
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
char *
mail_msgid(const char *v)
{
	const char	*lt, *gt;
	size_t		 n;

	if (v == NULL)
		return NULL;
	if ((lt = strchr(v, '<')) != NULL && (gt = strchr(lt, '>')) != NULL) {
		if (gt - lt < 2)
			return NULL;
		return mail_one_line(lt + 1, (size_t)(gt - lt - 1));
	}
	while (*v == ' ')
		v++;
	n = strcspn(v, " \t");
	return n == 0 ? NULL : mail_one_line(v, n);
}

/* RFC 2047 decoded header text (Subject, display names) as UTF-8. */
char *
mail_decode_words(const char *v)
{
	size_t	 idx = 0;
	char	*out = NULL, *clean;

	if (v == NULL)
		return NULL;
	/* raw 8-bit text is taken as UTF-8 where it is valid UTF-8 */
	if (mailmime_encoded_phrase_parse(text_is_utf8(v, strlen(v)) ?
	    "utf-8" : "iso-8859-1", v, strlen(v), &idx,
	    "utf-8", &out) != MAILIMF_NO_ERROR || out == NULL)
		return mail_one_line(v, strlen(v));
	clean = mail_one_line(out, strlen(out));
	free(out);
	return clean;
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
part_is(const struct mailmime *m, const char *type, const char *sub)
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

/* Depth-first search for type/sub (sub NULL: any), not inside messages. */
static struct mailmime *
mime_find(struct mailmime *m, const char *type, const char *sub, int depth)
{
	clistiter	*it;
	struct mailmime	*r;

	if (m == NULL || depth > MAIL_MAX_DEPTH)
		return NULL;
	if (part_is(m, type, sub))
		return m;
	if (m->mm_type != MAILMIME_MULTIPLE)
		return NULL;
	for (it = clist_begin(m->mm_data.mm_multipart.mm_mp_list); it != NULL;
	    it = clist_next(it))
		if ((r = mime_find(clist_content(it), type, sub, depth + 1)) !=
		    NULL)
			return r;
	return NULL;
}

/* Raw bytes of a part as transmitted (for message/ parts: the message). */
static const char *
part_raw(const struct mailmime *m, size_t *len)
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
part_decoded(const struct mailmime *m, size_t *len)
{
	const struct mailmime_data	*d;
	const char			*raw;
	char				*res = NULL, *out;
	size_t				 rawlen, idx = 0, rl = 0, i;

	*len = 0;
	if (m->mm_type != MAILMIME_SINGLE ||
	    (raw = part_raw(m, &rawlen)) == NULL)
		return NULL;
	if (rawlen > MAIL_TEXT_MAX)
		rawlen = MAIL_TEXT_MAX;
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

/* The best human text part: text/plain preferred, then text/html. */
static struct mailmime *
mime_text_part(struct mailmime *m, int html, int depth)
{
	clistiter	*it;
	struct mailmime	*r;

	if (m == NULL || depth > MAIL_MAX_DEPTH)
		return NULL;
	if (m->mm_type == MAILMIME_SINGLE) {
		if (mime_is_attachment(m))
			return NULL;
		return part_is(m, "text", html ? "html" : "plain") ? m : NULL;
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

/* ---- what libetpan is handed ---- */

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
mail_depth_bound(const char *s, size_t len, int limit)
{
	const char	*p = s, *end = s + len;
	int		 ctypes = 0;

	while (ctypes <= limit && p < end && (p = str_casemem(p,
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
	if (rl.rlim_cur <= MAIL_STACK_SPARE)
		return 0;
	return (int)((rl.rlim_cur - MAIL_STACK_SPARE) / MAIL_STACK_LEVEL);
}

/*
 * Why a message must not go to libetpan's MIME parser, or NULL. Its
 * recursion is bounded above (and by MAIL_MAX_CTYPES), and its
 * multipart parser is quadratic in nesting depth, so a message with more
 * boundaries than any real mail is read without it.
 */
static const char *
mime_too_complex(const char *s, size_t len)
{
	const char	*p;
	int		 boundaries = 0, bound;

	bound = mail_depth_bound(s, len, MAIL_MAX_CTYPES);
	if (bound > 2 * MAIL_MAX_CTYPES + 2)
		return "too many MIME parts";
	if (bound > stack_levels())
		return "MIME parts nested too deep for the stack";
	for (p = s; p < s + len && (p = str_casemem(p, (size_t)(s + len - p),
	    "boundary")) != NULL; p += 8)
		if (++boundaries > MAIL_MAX_BOUNDARIES)
			return "too many MIME parts";
	return NULL;
}

/*
 * The copy every parser works on. libetpan and our scanners take C
 * strings, so NULs become spaces; and libetpan parses RFC 5322 comments
 * recursively (a From: with 300,000 "(" overflows the stack), so a "("
 * nested deeper than MAIL_MAX_COMMENT within one logical line (a
 * field with its folds) becomes a space.
 */
/*
 * Length of a leading mbox "From " separator line (a message saved from
 * a mailbox, or handed over by an MDA that writes one), else 0. It is
 * not a header field: left in place it ends the header block at once.
 */
size_t
mail_mbox_line(const char *data, size_t len)
{
	const char	*nl;

	if (len < 5 || memcmp(data, "From ", 5) != 0 ||
	    (nl = memchr(data, '\n', len)) == NULL)
		return 0;
	return (size_t)(nl - data) + 1;
}

char *
mail_copy(const char *data, size_t len)
{
	char	*copy = xmalloc(len + 1);
	size_t	 i, depth = 0;

	for (i = 0; i < len; i++) {
		copy[i] = data[i] == '\0' ? ' ' : data[i];
		if (data[i] == '\n' && (i + 1 >= len || (data[i + 1] != ' ' &&
		    data[i + 1] != '\t')))
			depth = 0;
		else if (data[i] == '(' && ++depth > MAIL_MAX_COMMENT)
			copy[i] = ' ';
		else if (data[i] == ')' && depth > 0)
			depth--;
	}
	copy[len] = '\0';
	return copy;
}

/* ---- the parsed message, for callers ---- */

/*
 * A part handed out is libetpan's own node under an opaque name: callers
 * can hold it and ask about it here, never reach into it.
 */
static const struct mailmime *
node(const struct mail_part *p)
{
	return (const struct mailmime *)(const void *)p;
}

static const struct mail_part *
part(const struct mailmime *m)
{
	return (const struct mail_part *)(const void *)m;
}

/*
 * The message's MIME tree, or NULL: with *why set when it was refused as
 * too complex, left NULL when libetpan could not parse it. s is a
 * mail_copy() of the message.
 */
struct mail_msg *
mail_parse(const char *s, size_t len, const char **why)
{
	struct mail_msg	*msg;
	struct mailmime	*root = NULL;
	size_t		 idx = 0;

	if ((*why = mime_too_complex(s, len)) != NULL)
		return NULL;
	if (mailmime_parse(s, len, &idx, &root) != MAILIMF_NO_ERROR)
		return NULL;
	msg = xcalloc(1, sizeof *msg);
	msg->root = msg->body = root;
	if (root->mm_type == MAILMIME_MESSAGE)
		msg->body = root->mm_data.mm_message.mm_msg_mime;
	return msg;
}

void
mail_msg_free(struct mail_msg *msg)
{
	if (msg == NULL)
		return;
	mailmime_free(msg->root);
	free(msg);
}

/* Parts of a message that could not be parsed (NULL) are never found. */
const struct mail_part *
mail_body(const struct mail_msg *msg)
{
	return msg == NULL ? NULL : part(msg->body);
}

/* The first part of type/sub (sub NULL: any), not inside attached messages. */
const struct mail_part *
mail_find(const struct mail_msg *msg, const char *type, const char *sub)
{
	return msg == NULL ? NULL : part(mime_find(msg->body, type, sub, 0));
}

/* The best human text part, not an attachment: text/plain or text/html. */
const struct mail_part *
mail_text_part(const struct mail_msg *msg, int html)
{
	return msg == NULL ? NULL : part(mime_text_part(msg->body, html, 0));
}

int
mail_part_is(const struct mail_part *p, const char *type, const char *sub)
{
	return part_is(node(p), type, sub);
}

const char *
mail_part_raw(const struct mail_part *p, size_t *len)
{
	return part_raw(node(p), len);
}

char *
mail_part_decoded(const struct mail_part *p, size_t *len)
{
	return part_decoded(node(p), len);
}

/* The charset parameter of a part's Content-Type, or NULL. */
const char *
mail_part_charset(const struct mail_part *p)
{
	const struct mailmime	*m = node(p);

	if (m->mm_content_type == NULL)
		return NULL;
	return mailmime_content_param_get(m->mm_content_type,
	    (char *)"charset");
}

/* A parameter of a part's Content-Type ("boundary"), or NULL. */
const char *
mail_part_param(const struct mail_part *p, const char *name)
{
	const struct mailmime	*m = node(p);

	if (m->mm_content_type == NULL)
		return NULL;
	return mailmime_content_param_get(m->mm_content_type, (char *)name);
}

/*
 * The first mailbox of an address field (From:): its address as one line
 * and its display name decoded. -1 when libetpan cannot read the field.
 */
int
mail_mailbox(const char *v, char **addr, char **name)
{
	struct mailimf_mailbox_list *mbl = NULL;
	struct mailimf_mailbox	*mb;
	size_t			 idx = 0;
	int			 rc = -1;

	*addr = *name = NULL;
	if (mailimf_mailbox_list_parse(v, strlen(v), &idx, &mbl) ==
	    MAILIMF_NO_ERROR && mbl != NULL &&
	    clist_begin(mbl->mb_list) != NULL) {
		mb = clist_content(clist_begin(mbl->mb_list));
		*addr = mail_one_line(mb->mb_addr_spec,
		    strlen(mb->mb_addr_spec));
		if (mb->mb_display_name != NULL)
			*name = mail_decode_words(mb->mb_display_name);
		rc = 0;
	}
	if (mbl != NULL)
		mailimf_mailbox_list_free(mbl);
	return rc;
}
