/*
 * Building outgoing messages. The top-level header is written here, so that
 * every field is RFC 5322 / RFC 2047 correct (encoded words of at most 75
 * characters that never split a UTF-8 character, folding at 78 columns);
 * the MIME tree (multipart/alternative with text, HTML and calendar parts)
 * is written by libetpan from bodies that are quoted-printable encoded
 * here, with CRLF line ends and soft breaks so no line exceeds 76 octets.
 *
 * Header injection: display names and the subject are text for people, so
 * CR, LF, TAB and other control characters in them become spaces; every
 * other field (addresses, ids, List-*, methods) is refused with an error
 * if it holds a control character. Boundaries hold "=_", which
 * quoted-printable output can never contain; the bodies are checked anyway.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libetpan/libetpan.h>

#include "clarion.h"

#define MIME_FOLD	78	/* preferred header line length */
#define MIME_LINE_MAX	998	/* RFC 5322 hard limit, without CRLF */
#define MIME_QP_LINE	76	/* RFC 2045, soft-break "=" included */
#define MIME_EW_MAX	75	/* RFC 2047 limit for one encoded word */

struct mime_hdr {
	struct buf	*out;
	size_t		 col;
	int		 first;	/* no word yet after "Name:" */
};

/* Header writing: words are joined by a space or a fold. */
static void
hdr_begin(struct mime_hdr *h, struct buf *out, const char *name)
{
	h->out = out;
	buf_adds(out, name);
	buf_addc(out, ':');
	h->col = strlen(name) + 1;
	h->first = 1;
}

static void
hdr_word(struct mime_hdr *h, const char *w, size_t len)
{
	if (!h->first && h->col + 1 + len > MIME_FOLD) {
		buf_add(h->out, "\r\n", 2);
		h->col = 0;
	}
	buf_addc(h->out, ' ');
	buf_add(h->out, w, len);
	h->col += 1 + len;
	h->first = 0;
}

/* Appends w directly after the previous word, with no space. */
static void
hdr_glue(struct mime_hdr *h, const char *w)
{
	buf_adds(h->out, w);
	h->col += strlen(w);
}

static void
hdr_end(struct mime_hdr *h)
{
	buf_add(h->out, "\r\n", 2);
}

static void
hdr_simple(struct buf *out, const char *name, const char *value)
{
	struct mime_hdr	 h;

	hdr_begin(&h, out, name);
	hdr_word(&h, value, strlen(value));
	hdr_end(&h);
}

/* Length of the UTF-8 character at s, or 0 if it is not valid UTF-8. */
static size_t
utf8_len(const unsigned char *s, size_t left)
{
	size_t	 n, i;
	uint32_t c;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (n > left)
		return 0;
	c = s[0] & (0x7f >> n);
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
	    (n == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;
	return n;
}

/*
 * Text for people in a header: control characters (CR and LF above all)
 * become spaces, runs of blanks one space, bad UTF-8 U+FFFD; trimmed.
 */
static char *
hdr_clean_text(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 left = strlen(s), n;
	struct buf		 b;
	int			 space = 0;

	buf_init(&b);
	while (left > 0) {
		if (*p < 0x20 || *p == 0x7f || *p == ' ') {
			space = b.len > 0;
			p++;
			left--;
			continue;
		}
		if (space)
			buf_addc(&b, ' ');
		space = 0;
		if ((n = utf8_len(p, left)) == 0) {
			buf_adds(&b, "\xef\xbf\xbd");
			n = 1;
		} else
			buf_add(&b, p, n);
		p += n;
		left -= n;
	}
	return buf_steal(&b);
}

static int
has_8bit(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return 1;
	return 0;
}

/* Safe unencoded in a Q encoded word anywhere, phrases included. */
static int
q_plain(unsigned char c)
{
	return isalnum(c) || c == '!' || c == '*' || c == '+' || c == '-' ||
	    c == '/';
}

/* The Q encoding of one byte, safe in phrases too; returns its length. */
static size_t
q_byte(unsigned char c, char *to)
{
	if (c == ' ') {
		to[0] = '_';
		return 1;
	}
	if (q_plain(c)) {
		to[0] = (char)c;
		return 1;
	}
	snprintf(to, 4, "=%02X", c);
	return 3;
}

static void
ew_flush(struct mime_hdr *h, int b64, const unsigned char *s, size_t n)
{
	static const char	 b64c[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				     "abcdefghijklmnopqrstuvwxyz0123456789+/";
	struct buf		 w;
	char			 q[4];
	size_t			 i;
	uint32_t		 v;

	buf_init(&w);
	buf_adds(&w, b64 ? "=?UTF-8?B?" : "=?UTF-8?Q?");
	for (i = 0; !b64 && i < n; i++)
		buf_add(&w, q, q_byte(s[i], q));
	for (i = 0; b64 && i < n; i += 3) {
		v = (uint32_t)s[i] << 16 | (i + 1 < n ? s[i + 1] << 8 : 0) |
		    (i + 2 < n ? s[i + 2] : 0);
		buf_addc(&w, b64c[v >> 18 & 63]);
		buf_addc(&w, b64c[v >> 12 & 63]);
		buf_addc(&w, i + 1 < n ? b64c[v >> 6 & 63] : '=');
		buf_addc(&w, i + 2 < n ? b64c[v & 63] : '=');
	}
	buf_adds(&w, "?=");
	hdr_word(h, w.data, w.len);
	buf_free(&w);
}

static size_t
ew_len(int b64, const unsigned char *s, size_t n)
{
	char	 q[4];
	size_t	 i, len = 0;

	if (b64)
		return (n + 2) / 3 * 4;
	for (i = 0; i < n; i++)
		len += q_byte(s[i], q);
	return len;
}

/*
 * Writes s as RFC 2047 encoded words of at most 75 characters, each
 * holding whole UTF-8 characters. Q keeps mostly-Latin text readable; B
 * is used when it is much shorter (emoji, non-Latin scripts).
 */
static void
hdr_encoded(struct mime_hdr *h, const char *str)
{
	/* Room for the encoded text in "=?UTF-8?Q?...?=". */
	const size_t		 room = MIME_EW_MAX - 12;
	const unsigned char	*s = (const unsigned char *)str, *start;
	size_t			 left = strlen(str), n, chunk = 0;
	int			 b64;

	b64 = 3 * ew_len(1, s, left) < 2 * ew_len(0, s, left);
	start = s;
	while (left > 0) {
		if ((n = utf8_len(s, left)) == 0)
			n = 1;
		if (chunk > 0 && ew_len(b64, start, chunk + n) > room) {
			ew_flush(h, b64, start, chunk);
			start += chunk;
			chunk = 0;
		}
		chunk += n;
		s += n;
		left -= n;
	}
	if (chunk > 0)
		ew_flush(h, b64, start, chunk);
}

/* Unstructured text (the subject): plain words unless encoding is needed. */
static void
hdr_text(struct mime_hdr *h, const char *s)
{
	const char	*w, *sp;

	if (has_8bit(s) || strstr(s, "=?") != NULL) {
		hdr_encoded(h, s);
		return;
	}
	for (w = s; *w != '\0'; w = *sp != '\0' ? sp + 1 : sp) {
		if ((sp = strchr(w, ' ')) == NULL)
			sp = w + strlen(w);
		if (sp - w > MIME_EW_MAX) {
			/* A word too long to fold around: encode it all. */
			hdr_encoded(h, s);
			return;
		}
	}
	for (w = s; *w != '\0'; w = *sp != '\0' ? sp + 1 : sp) {
		if ((sp = strchr(w, ' ')) == NULL)
			sp = w + strlen(w);
		hdr_word(h, w, (size_t)(sp - w));
	}
}

/* RFC 5322 atext, for display names that need no quotes. */
static int
is_atext(unsigned char c)
{
	return isalnum(c) || strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* A display name: atoms, a quoted string, or encoded words. */
static void
hdr_phrase(struct mime_hdr *h, const char *name)
{
	struct buf	 q;
	const char	*s;
	int		 atoms = 1;

	for (s = name; *s != '\0'; s++)
		if (*s != ' ' && !is_atext((unsigned char)*s))
			atoms = 0;
	if (atoms) {
		hdr_text(h, name);
		return;
	}
	if (has_8bit(name) || strstr(name, "=?") != NULL ||
	    strlen(name) > 60) {
		hdr_encoded(h, name);
		return;
	}
	buf_init(&q);
	buf_addc(&q, '"');
	for (s = name; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			buf_addc(&q, '\\');
		buf_addc(&q, *s);
	}
	buf_addc(&q, '"');
	hdr_word(h, q.data, q.len);
	buf_free(&q);
}

/* RFC 5322 dot-atom-text: atext runs joined by single dots. */
static int
dot_atom_valid(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0 || s[0] == '.' || s[len - 1] == '.')
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] == '.' ? s[i + 1] == '.' :
		    !is_atext((unsigned char)s[i]))
			return 0;
	}
	return 1;
}

/*
 * An address we can put in a header: ASCII local@domain, both dot-atoms
 * (so no blanks, controls, brackets, quotes or other specials).
 */
static int
addr_valid(const char *a)
{
	const char	*at;

	if (a == NULL || (at = strrchr(a, '@')) == NULL || strlen(a) > 254)
		return 0;
	return dot_atom_valid(a, (size_t)(at - a)) &&
	    dot_atom_valid(at + 1, strlen(at + 1));
}

/* A message id without its brackets: id-left "@" id-right, dot-atoms. */
static int
msgid_valid(const char *id)
{
	return addr_valid(id) && strlen(id) < 200;
}

static int
no_controls(const char *what, const char *v, char **cause)
{
	const unsigned char	*s;

	for (s = (const unsigned char *)v; *s != '\0'; s++) {
		if (*s < 0x20 || *s >= 0x7f) {
			xasprintf(cause, "%s holds a control or non-ASCII "
			    "character (0x%02x)", what, *s);
			return -1;
		}
	}
	return 0;
}

static int
hdr_mailbox(struct buf *out, const char *field, const char *name,
    const char *addr, char **cause)
{
	struct mime_hdr	 h;
	char		*clean, *angle;

	if (!addr_valid(addr)) {
		xasprintf(cause, "%s: bad address \"%s\"", field,
		    addr != NULL ? addr : "");
		return -1;
	}
	hdr_begin(&h, out, field);
	clean = name != NULL ? hdr_clean_text(name) : xstrdup("");
	if (*clean != '\0')
		hdr_phrase(&h, clean);
	free(clean);
	xasprintf(&angle, "<%s>", addr);
	hdr_word(&h, angle, strlen(angle));
	free(angle);
	hdr_end(&h);
	return 0;
}

static int
hdr_msgids(struct buf *out, const char *field, const char *ids, int many,
    char **cause)
{
	struct mime_hdr	 h;
	char		*copy, *id, *last, *angle;
	int		 n = 0;

	if (no_controls(field, ids, cause) == -1)
		return -1;
	copy = xstrdup(ids);
	hdr_begin(&h, out, field);
	for (id = strtok_r(copy, " ,", &last); id != NULL;
	    id = strtok_r(NULL, " ,", &last)) {
		if (*id == '<' && id[strlen(id) - 1] == '>') {
			id[strlen(id) - 1] = '\0';
			id++;
		}
		if (!msgid_valid(id) || (n > 0 && !many)) {
			xasprintf(cause, "%s: bad message id \"%s\"", field,
			    id);
			free(copy);
			return -1;
		}
		xasprintf(&angle, "<%s>", id);
		hdr_word(&h, angle, strlen(angle));
		free(angle);
		n++;
	}
	free(copy);
	if (n == 0) {
		xasprintf(cause, "%s: no message id", field);
		return -1;
	}
	hdr_end(&h);
	return 0;
}

/* List-Id: an optional phrase and <list.id> (RFC 2919). */
static int
hdr_list_id(struct buf *out, const char *v, char **cause)
{
	struct mime_hdr	 h;
	const char	*lt = strrchr(v, '<');
	char		*phrase, *clean, *id;
	size_t		 len;

	if (lt == NULL || (len = strlen(lt)) < 3 || lt[len - 1] != '>') {
		xasprintf(cause, "List-Id: \"%s\" needs the form "
		    "\"Name <list.example.org>\"", v);
		return -1;
	}
	id = xstrndup(lt + 1, len - 2);
	if (!dot_atom_valid(id, strlen(id)) || strchr(id, '.') == NULL) {
		xasprintf(cause, "List-Id: bad list id \"%s\"", id);
		free(id);
		return -1;
	}
	phrase = xstrndup(v, (size_t)(lt - v));
	clean = hdr_clean_text(phrase);
	hdr_begin(&h, out, "List-Id");
	if (*clean != '\0')
		hdr_phrase(&h, clean);
	free(phrase);
	free(clean);
	xasprintf(&phrase, "<%s>", id);
	hdr_word(&h, phrase, strlen(phrase));
	hdr_end(&h);
	free(phrase);
	free(id);
	return 0;
}

/* List-Unsubscribe: <uri>, <uri> (RFC 2369), folded after the commas. */
static int
hdr_list_unsub(struct buf *out, const char *v, char **cause)
{
	struct mime_hdr	 h;
	char		*copy, *uri, *last;

	if (no_controls("List-Unsubscribe", v, cause) == -1)
		return -1;
	copy = xstrdup(v);
	hdr_begin(&h, out, "List-Unsubscribe");
	for (uri = strtok_r(copy, ", ", &last); uri != NULL;
	    uri = strtok_r(NULL, ", ", &last)) {
		if (uri[0] != '<' || uri[strlen(uri) - 1] != '>' ||
		    strlen(uri) > MIME_LINE_MAX - 2 ||
		    strpbrk(uri + 1, "<>") != uri + strlen(uri) - 1) {
			xasprintf(cause, "List-Unsubscribe: \"%s\" is not "
			    "<uri>", uri);
			free(copy);
			return -1;
		}
		if (!h.first)
			hdr_glue(&h, ",");
		hdr_word(&h, uri, strlen(uri));
	}
	free(copy);
	if (h.first) {
		xasprintf(cause, "List-Unsubscribe: empty");
		return -1;
	}
	hdr_end(&h);
	return 0;
}

static int
hdr_subject(struct buf *out, const char *subject)
{
	struct mime_hdr	 h;
	char		*clean;

	clean = hdr_clean_text(subject != NULL ? subject : "");
	hdr_begin(&h, out, "Subject");
	if (*clean != '\0')
		hdr_text(&h, clean);
	hdr_end(&h);
	free(clean);
	return 0;
}

static int
hdr_fixed_choice(struct buf *out, const char *field, const char *v,
    const char *const *allowed, char **cause)
{
	for (; *allowed != NULL; allowed++) {
		if (strcmp(v, *allowed) == 0) {
			hdr_simple(out, field, v);
			return 0;
		}
	}
	xasprintf(cause, "%s: \"%s\" is not an allowed value", field, v);
	return -1;
}

static int
write_headers(const struct message *m, struct buf *out, char **cause)
{
	static const char *const autos[] = { "auto-generated",
	    "auto-replied", "auto-notified", "no", NULL };
	char	*date, *mid;

	date = time_format_rfc5322(m->date);
	hdr_simple(out, "Date", date);
	free(date);
	if (hdr_mailbox(out, "From", m->from_name, m->from_addr, cause) == -1 ||
	    hdr_mailbox(out, "To", m->to_name, m->to_addr, cause) == -1)
		return -1;
	hdr_subject(out, m->subject);
	if (m->message_id == NULL || !msgid_valid(m->message_id)) {
		xasprintf(cause, "Message-ID: bad message id \"%s\"",
		    m->message_id != NULL ? m->message_id : "");
		return -1;
	}
	xasprintf(&mid, "<%s>", m->message_id);
	hdr_simple(out, "Message-ID", mid);
	free(mid);
	if (m->reply_to != NULL &&
	    hdr_mailbox(out, "Reply-To", NULL, m->reply_to, cause) == -1)
		return -1;
	if (m->in_reply_to != NULL &&
	    hdr_msgids(out, "In-Reply-To", m->in_reply_to, 0, cause) == -1)
		return -1;
	if (m->references != NULL &&
	    hdr_msgids(out, "References", m->references, 1, cause) == -1)
		return -1;
	if (m->list_id != NULL && hdr_list_id(out, m->list_id, cause) == -1)
		return -1;
	if (m->list_unsubscribe != NULL &&
	    hdr_list_unsub(out, m->list_unsubscribe, cause) == -1)
		return -1;
	if (m->one_click && m->list_unsubscribe != NULL)
		hdr_simple(out, "List-Unsubscribe-Post",
		    "List-Unsubscribe=One-Click");
	if (m->feedback_id != NULL) {
		if (m->feedback_id[strspn(m->feedback_id, "abcdefghijklmnopqrstu"
		    "vwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:")] != '\0') {
			xasprintf(cause, "Feedback-ID: bad value \"%s\"",
			    m->feedback_id);
			return -1;
		}
		hdr_simple(out, "Feedback-ID", m->feedback_id);
	}
	if (m->bulk)
		hdr_simple(out, "Precedence", "bulk");
	if (m->auto_submitted != NULL && hdr_fixed_choice(out,
	    "Auto-Submitted", m->auto_submitted, autos, cause) == -1)
		return -1;
	if (m->test)
		hdr_simple(out, "X-Clarion-Test", "yes");
	hdr_simple(out, "MIME-Version", "1.0");
	return 0;
}

/*
 * Quoted-printable, one input line (no line end) at a time, gathered into
 * output lines of at most 76 octets (the soft-break "=" included).
 */
static void
qp_line(struct buf *out, const unsigned char *s, size_t len, int soft_end)
{
	static const char	 hex[] = "0123456789ABCDEF";
	char			 line[MIME_QP_LINE + 3];
	size_t			 i, col = 0, tok;
	int			 plain;

	for (i = 0; i < len; i++) {
		plain = (s[i] >= 33 && s[i] <= 126 && s[i] != '=') ||
		    ((s[i] == ' ' || s[i] == '\t') &&
		    (i + 1 < len || soft_end));
		/* "From " at a line start is mangled by mbox tools. */
		if (i == 0 && len >= 5 && memcmp(s, "From ", 5) == 0)
			plain = 0;
		/* A lone "." line means end of data to some SMTP code. */
		if (i == 0 && s[i] == '.')
			plain = 0;
		tok = plain ? 1 : 3;
		/* The last token of a hard line may take column 76. */
		if (col + tok > (i + 1 == len && !soft_end ? MIME_QP_LINE :
		    MIME_QP_LINE - 1)) {
			line[col++] = '=';
			line[col++] = '\r';
			line[col++] = '\n';
			buf_add(out, line, col);
			col = 0;
		}
		if (plain)
			line[col++] = (char)s[i];
		else {
			line[col++] = '=';
			line[col++] = hex[s[i] >> 4];
			line[col++] = hex[s[i] & 15];
		}
	}
	buf_add(out, line, col);
}

/*
 * Encodes text as QP with CRLF line ends (any of CRLF, LF or CR in the
 * input ends a line). Text not ending in a line end gets a final soft
 * break, so it decodes exactly, without a newline added.
 */
static void
qp_encode(struct buf *out, const char *text)
{
	const char	*s = text, *eol, *end = text + strlen(text);

	buf_add(out, "", 0);
	while (s < end) {
		eol = s + strcspn(s, "\r\n");
		qp_line(out, (const unsigned char *)s, (size_t)(eol - s),
		    eol == end);
		if (eol == end) {
			buf_add(out, "=\r\n", 3);
			break;
		}
		buf_add(out, "\r\n", 2);
		if (*eol == '\r' && eol[1] == '\n')
			eol++;
		s = eol + 1;
	}
}

/* FNV-1a: a stable, well-spread hash of the seed for the boundary. */
static uint64_t
seed_hash(const char *s)
{
	uint64_t	 h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

struct mime_part {
	const char	*type;
	const char	*method;	/* text/calendar only */
	struct buf	 body;		/* quoted-printable */
};

static struct mailmime *
part_new(struct mime_part *p)
{
	struct mailmime_content	*ct;
	struct mailmime		*mm;

	ct = mailmime_content_new_with_str(p->type);
	/* libetpan copies the name and value. */
	clist_append(ct->ct_parameters, mailmime_param_new_with_data(
	    (char *)"charset", (char *)"UTF-8"));
	if (p->method != NULL)
		clist_append(ct->ct_parameters, mailmime_param_new_with_data(
		    (char *)"method", (char *)p->method));
	mm = mailmime_new_empty(ct, mailmime_fields_new_encoding(
	    MAILMIME_MECHANISM_QUOTED_PRINTABLE));
	/* Already encoded: libetpan writes it as it is. */
	mm->mm_data.mm_single = mailmime_data_new_data(
	    MAILMIME_MECHANISM_QUOTED_PRINTABLE, 1, p->body.data, p->body.len);
	return mm;
}

/*
 * The multipart root, built directly: mailmime_new_empty() would make up
 * a random boundary (calling uname and getpid) for us to throw away.
 */
static struct mailmime *
root_new(const char *type, const char *boundary)
{
	struct mailmime_content	*ct;

	ct = mailmime_content_new_with_str(type);
	clist_append(ct->ct_parameters, mailmime_param_new_with_data(
	    (char *)"boundary", (char *)boundary));
	return mailmime_new(MAILMIME_MULTIPLE, NULL, 0,
	    mailmime_fields_new_empty(), ct, NULL, NULL, NULL, clist_new(),
	    NULL, NULL);
}

/*
 * The invite again as an attachment, invite.ics (application/ics), for
 * clients that show only one part of an alternative (RFC 5546 and the
 * way Outlook and Apple Mail offer "add to calendar").
 */
static struct mailmime *
attachment_new(const char *ics, struct buf *b)
{
	struct mailmime_content	*ct;
	struct mailmime		*mm;
	const char		*p;

	/* iCalendar lines end in CRLF (RFC 5545), as in the QP part. */
	for (p = ics; *p != '\0'; p++) {
		if (*p == '\r' && p[1] == '\n')
			continue;
		if (*p == '\r' || *p == '\n')
			buf_adds(b, "\r\n");
		else
			buf_addc(b, *p);
	}

	ct = mailmime_content_new_with_str("application/ics");
	clist_append(ct->ct_parameters, mailmime_param_new_with_data(
	    (char *)"name", (char *)"invite.ics"));
	mm = mailmime_new_empty(ct, mailmime_fields_new_filename(
	    MAILMIME_DISPOSITION_TYPE_ATTACHMENT, xstrdup("invite.ics"),
	    MAILMIME_MECHANISM_BASE64));
	/* Not encoded yet: libetpan writes it as base64. */
	mm->mm_data.mm_single = mailmime_data_new_data(
	    MAILMIME_MECHANISM_BASE64, 0, b->data != NULL ? b->data : "",
	    b->len);
	return mm;
}

static int
write_body(struct mime_part *parts, size_t n, const char *boundary,
    const char *attach, struct buf *out, char **cause)
{
	struct mailmime	*root, *mm, *alt = NULL;
	MMAPString	*s;
	struct buf	 ab;
	char		*mixed;
	size_t		 i;
	int		 col = 0, r = MAILIMF_NO_ERROR;

	if (n == 1)
		root = part_new(&parts[0]);
	else {
		root = root_new("multipart/alternative", boundary);
		for (i = 0; i < n; i++) {
			mm = part_new(&parts[i]);
			if (mailmime_smart_add_part(root, mm) !=
			    MAILIMF_NO_ERROR) {
				mailmime_free(mm);
				r = MAILIMF_ERROR_MEMORY;
			}
		}
	}
	buf_init(&ab);
	if (attach != NULL) {
		/* "=_mixed..." is no prefix of the inner boundary, nor it of it. */
		xasprintf(&mixed, "=_mixed%s", boundary + 2);
		alt = root;
		root = root_new("multipart/mixed", mixed);
		free(mixed);
		if (mailmime_smart_add_part(root, alt) != MAILIMF_NO_ERROR ||
		    mailmime_smart_add_part(root, (mm = attachment_new(
		    attach, &ab))) != MAILIMF_NO_ERROR)
			r = MAILIMF_ERROR_MEMORY;
	}
	s = mmap_string_new("");
	/* The root's own fields go in the message header. */
	if (r == MAILIMF_NO_ERROR)
		r = mailmime_content_write_mem(s, &col, root->mm_content_type);
	if (r == MAILIMF_NO_ERROR && root->mm_mime_fields != NULL && n == 1 &&
	    attach == NULL)
		r = mailmime_fields_write_mem(s, &col, root->mm_mime_fields);
	if (r == MAILIMF_NO_ERROR && mmap_string_append(s, "\r\n") == NULL)
		r = MAILIMF_ERROR_MEMORY;
	if (r == MAILIMF_NO_ERROR)
		r = mailmime_write_mem(s, &col, root);
	if (r == MAILIMF_NO_ERROR)
		buf_add(out, s->str, s->len);
	else
		xasprintf(cause, "libetpan could not write the message (%d)",
		    r);
	mmap_string_free(s);
	mailmime_free(root);
	buf_free(&ab);
	return r == MAILIMF_NO_ERROR ? 0 : -1;
}

/* A boundary found in no part (QP bodies never hold "=_"; still check). */
static void
choose_boundary(const struct message *m, struct mime_part *parts, size_t n,
    char *b, size_t size)
{
	const char	*seed;
	size_t		 i;
	int		 tries, clash;

	seed = m->boundary_seed != NULL ? m->boundary_seed :
	    m->message_id != NULL ? m->message_id : "clarion";
	for (tries = 0;; tries++) {
		snprintf(b, size, "=_clarion_%016llx_%d",
		    (unsigned long long)seed_hash(seed), tries);
		clash = 0;
		for (i = 0; i < n; i++)
			if (memmem(parts[i].body.data, parts[i].body.len, b,
			    strlen(b)) != NULL)
				clash = 1;
		if (!clash)
			return;
	}
}

/* Every line CRLF-terminated and at most 998 octets long. */
static int
check_lines(const struct buf *out, char **cause)
{
	const char	*s = out->data, *end = out->data + out->len, *nl;

	for (; s < end; s = nl + 1) {
		if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL ||
		    nl == s || nl[-1] != '\r' ||
		    memchr(s, '\r', (size_t)(nl - 1 - s)) != NULL) {
			xasprintf(cause, "internal error: a line without CRLF");
			return -1;
		}
		if (nl - 1 - s > MIME_LINE_MAX) {
			xasprintf(cause, "a header line is longer than %d "
			    "octets", MIME_LINE_MAX);
			return -1;
		}
	}
	return 0;
}

static int
check_message(const struct message *m, char **cause)
{
	if (m->text == NULL) {
		xasprintf(cause, "a message needs a text part");
		return -1;
	}
	if (m->ics != NULL && (m->ics_method == NULL ||
	    (strcmp(m->ics_method, "REQUEST") != 0 &&
	    strcmp(m->ics_method, "CANCEL") != 0 &&
	    strcmp(m->ics_method, "PUBLISH") != 0))) {
		xasprintf(cause, "a calendar part needs the method REQUEST, "
		    "CANCEL or PUBLISH");
		return -1;
	}
	if (m->boundary_seed != NULL &&
	    no_controls("boundary seed", m->boundary_seed, cause) == -1)
		return -1;
	return 0;
}

int
mime_build(const struct message *m, struct buf *out, char **cause)
{
	struct mime_part	 parts[3];
	struct buf		 msg;
	char			 boundary[64];
	size_t			 n = 0, i;
	int			 rc = -1;

	if (check_message(m, cause) == -1)
		return -1;
	memset(parts, 0, sizeof parts);
	parts[n++].type = "text/plain";
	if (m->html != NULL)
		parts[n++].type = "text/html";
	if (m->ics != NULL) {
		parts[n].type = "text/calendar";
		parts[n++].method = m->ics_method;
	}
	for (i = 0; i < n; i++) {
		buf_init(&parts[i].body);
		qp_encode(&parts[i].body, i == 0 ? m->text :
		    strcmp(parts[i].type, "text/html") == 0 ? m->html : m->ics);
	}
	choose_boundary(m, parts, n, boundary, sizeof boundary);
	buf_init(&msg);
	if (write_headers(m, &msg, cause) == 0 &&
	    write_body(parts, n, boundary, m->ics, &msg, cause) == 0 &&
	    check_lines(&msg, cause) == 0) {
		buf_add(out, msg.data, msg.len);
		rc = 0;
	}
	buf_free(&msg);
	for (i = 0; i < n; i++)
		buf_free(&parts[i].body);
	return rc;
}
