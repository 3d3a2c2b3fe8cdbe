/*
 * The text side of inbound classification, kept apart from the MIME
 * reading in mailparse.c and the decisions in classify.c: crude HTML to text, the member's own new text
 * of a reply (quotes, attributions, signatures and phone trailers cut),
 * and the rule that decides whether that text asks to unsubscribe.
 *
 * The unsubscribe rule errs towards a human: a message is a request only
 * when it is short (at most 30 words after quotes and signature are
 * gone), names the request ("unsubscribe", "remove me", "take me off",
 * "opt out", "stop", ...), and every other word is politeness or list
 * vocabulary ("please", "thanks", "me", "from", "this", "list",
 * "emails", a greeting and a sign-off with a name). Any other word
 * ("should I unsubscribe my husband?", "don't unsubscribe me", "stop the
 * cuts") makes it a reply that the list owner reads.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clarion.h"

#define INTENT_MAX_WORDS	30

/* ---- HTML to text ---- */

/* Where a reply's quoted part starts in HTML (blockquote and friends). */
static size_t
html_quote_start(const char *h, size_t len)
{
	static const char *const markers[] = {
		"<blockquote", "gmail_quote", "divRplyFwdMsg", "appendonsend",
		"moz-cite-prefix", "yahoo_quoted", "OutlookMessageHeader",
		NULL
	};
	size_t		 best = len, i, n;
	const char	*const *m;

	for (m = markers; *m != NULL; m++) {
		n = strlen(*m);
		for (i = 0; i + n <= best; i++) {
			/* first byte before the call: this runs on every byte */
			if (tolower((unsigned char)h[i]) != tolower((unsigned char)
			    (*m)[0]) || strncasecmp(h + i, *m, n) != 0)
				continue;
			while (i > 0 && h[i] != '<')
				i--;
			best = i;
			break;
		}
	}
	return best;
}

static void
utf8_put(struct buf *b, unsigned long cp)
{
	if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		cp = 0xfffd;
	if (cp < 0x80)
		buf_addc(b, (char)cp);
	else if (cp < 0x800) {
		buf_addc(b, (char)(0xc0 | (cp >> 6)));
		buf_addc(b, (char)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		buf_addc(b, (char)(0xe0 | (cp >> 12)));
		buf_addc(b, (char)(0x80 | ((cp >> 6) & 0x3f)));
		buf_addc(b, (char)(0x80 | (cp & 0x3f)));
	} else {
		buf_addc(b, (char)(0xf0 | (cp >> 18)));
		buf_addc(b, (char)(0x80 | ((cp >> 12) & 0x3f)));
		buf_addc(b, (char)(0x80 | ((cp >> 6) & 0x3f)));
		buf_addc(b, (char)(0x80 | (cp & 0x3f)));
	}
}

/* Decode the entity at p (p[0] == '&'); returns the bytes consumed. */
static size_t
html_entity(const char *p, const char *end, struct buf *b)
{
	static const struct {
		const char	*name;
		unsigned long	 cp;
	} ents[] = {
		{ "amp;", '&' }, { "lt;", '<' }, { "gt;", '>' },
		{ "quot;", '"' }, { "apos;", '\'' }, { "nbsp;", ' ' },
		{ "ndash;", 0x2013 }, { "mdash;", 0x2014 },
		{ "rsquo;", 0x2019 }, { "lsquo;", 0x2018 },
		{ "hellip;", 0x2026 }, { "pound;", 0xa3 }, { "euro;", 0x20ac },
	};
	size_t		 i, n;
	unsigned long	 cp;
	char		*e;

	if (end - p > 2 && p[1] == '#') {
		if (p[2] == 'x' || p[2] == 'X')
			cp = strtoul(p + 3, &e, 16);
		else
			cp = strtoul(p + 2, &e, 10);
		if (e > p + 2 && e < end && *e == ';' && e - p < 12) {
			utf8_put(b, cp == 0xa0 ? ' ' : cp);
			return (size_t)(e - p) + 1;
		}
	}
	for (i = 0; i < nitems(ents); i++) {
		n = strlen(ents[i].name);
		if ((size_t)(end - p - 1) >= n &&
		    strncmp(p + 1, ents[i].name, n) == 0) {
			utf8_put(b, ents[i].cp);
			return n + 1;
		}
	}
	buf_addc(b, '&');
	return 1;
}

static int
tag_is(const char *name, size_t n, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strlen(*list) == n && strncasecmp(name, *list, n) == 0)
			return 1;
	return 0;
}

/* Handle the tag at p; returns where to continue. */
static const char *
html_tag(const char *p, const char *end, struct buf *b)
{
	static const char *const skip[] = { "script", "style", "head",
	    "title", NULL };
	static const char *const breaks[] = { "br", "p", "div", "tr", "li",
	    "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "hr", "table",
	    "ul", "ol", "pre", NULL };
	const char	*q = p + 1, *name, *gt, *close;
	size_t		 n;
	int		 closing = 0;
	char		 pat[16];

	if (end - p >= 4 && strncmp(p, "<!--", 4) == 0) {
		for (q = p + 4; q + 3 <= end && strncmp(q, "-->", 3) != 0; q++)
			;
		return q + 3 <= end ? q + 3 : end;
	}
	if (q < end && *q == '/') {
		closing = 1;
		q++;
	}
	for (name = q; q < end && isalnum((unsigned char)*q); q++)
		;
	n = (size_t)(q - name);
	if ((gt = memchr(p, '>', (size_t)(end - p))) == NULL)
		return end;
	if (!closing && tag_is(name, n, skip)) {
		snprintf(pat, sizeof(pat), "</%.*s", (int)n, name);
		for (close = gt; close < end && (close = memchr(close, '<',
		    (size_t)(end - close))) != NULL; close++)
			if ((size_t)(end - close) >= strlen(pat) &&
			    strncasecmp(close, pat, strlen(pat)) == 0)
				break;
		if (close == NULL || close >= end)
			return end;
		gt = memchr(close, '>', (size_t)(end - close));
		return gt == NULL ? end : gt + 1;
	}
	if (tag_is(name, n, breaks))
		buf_addc(b, '\n');
	else if (n == 2 && (strncasecmp(name, "td", 2) == 0 ||
	    strncasecmp(name, "th", 2) == 0))
		buf_addc(b, ' ');
	return gt + 1;
}

/* Trim each line, and keep at most one blank line in a row. */
static char *
text_tidy(const char *s)
{
	struct buf	 b;
	const char	*p = s, *e, *l, *r;
	int		 blanks = 1;

	buf_init(&b);
	buf_add(&b, "", 0);
	while (*p != '\0') {
		e = strchr(p, '\n');
		if (e == NULL)
			e = p + strlen(p);
		for (l = p; l < e && (*l == ' ' || *l == '\t'); l++)
			;
		for (r = e; r > l && (r[-1] == ' ' || r[-1] == '\t' ||
		    r[-1] == '\r'); r--)
			;
		if (r == l) {
			if (!blanks++)
				buf_addc(&b, '\n');
		} else {
			buf_add(&b, l, (size_t)(r - l));
			buf_addc(&b, '\n');
			blanks = 0;
		}
		p = *e == '\n' ? e + 1 : e;
	}
	while (b.len > 0 && b.data[b.len - 1] == '\n')
		b.data[--b.len] = '\0';
	return buf_steal(&b);
}

char *
classify_html_to_text(const char *html, size_t len, int strip_quotes)
{
	struct buf	 b;
	const char	*p = html, *end;
	char		*out;

	if (strip_quotes)
		len = html_quote_start(html, len);
	end = html + len;
	buf_init(&b);
	buf_add(&b, "", 0);
	while (p < end) {
		if (*p == '<')
			p = html_tag(p, end, &b);
		else if (*p == '&')
			p += html_entity(p, end, &b);
		else if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
			if (b.len > 0 && b.data[b.len - 1] != ' ' &&
			    b.data[b.len - 1] != '\n')
				buf_addc(&b, ' ');
			p++;
		} else
			buf_addc(&b, *p++);
	}
	out = text_tidy(b.data);
	buf_free(&b);
	return out;
}

/* ---- the new text of a reply ---- */

static const char *const trailers[] = {
	"sent from my ", "sent from outlook", "get outlook for",
	"sent from mail for windows", "sent from yahoo mail",
	"sent from samsung", "sent from proton", "sent via ",
	"envoyé de mon ", "envoye de mon ", "von meinem ",
	"enviado desde mi ", "inviato da ", "verstuurd vanaf mijn ", NULL
};

static const char *const wrote_suffixes[] = {
	"wrote:", "a écrit :", "a écrit:", "a ecrit :", "schrieb:",
	"escribió:", "ha scritto:", "schreef:", "skrev:", "napisał:",
	"kirjoitti:", NULL
};

static const char *const attribution_starts[] = {
	"On ", "Le ", "Am ", "El ", "Il ", "Op ", "Den ", "W dniu ", NULL
};

static const char *const original_markers[] = {
	"original message", "ursprüngliche nachricht", "message d'origine",
	"mensaje original", "messaggio originale", "oorspronkelijk bericht",
	"forwarded message", "message transféré", NULL
};

static const char *const header_starts[] = {
	"Sent:", "Date:", "To:", "Subject:", "Gesendet:", "Envoyé :",
	"Envoyé:", "Datum:", "An:", "Betreff:", "Objet :", "À :", NULL
};

/* Line i of split_lines() (trimmed, NUL-terminated). */
static char *
line_at(char **lines, size_t i)
{
	return lines[i];
}

static int
ends_with_wrote(const char *l)
{
	size_t	 n = strlen(l);

	for (const char *const *s = wrote_suffixes; *s != NULL; s++) {
		size_t	 sl = strlen(*s);

		if (n >= sl && strcasecmp(l + n - sl, *s) == 0)
			return 1;
	}
	/* "Am 7. Dez. 2026 schrieb Jo <jo@example.com>:" */
	return strncmp(l, "Am ", 3) == 0 && strstr(l, " schrieb ") != NULL &&
	    n > 0 && l[n - 1] == ':';
}

static int
is_attribution(char **lines, size_t i, size_t n)
{
	const char	*l = line_at(lines, i);

	if (ends_with_wrote(l))
		return 1;
	for (const char *const *s = attribution_starts; *s != NULL; s++)
		if (strncmp(l, *s, strlen(*s)) == 0 && i + 1 < n &&
		    ends_with_wrote(line_at(lines, i + 1)))
			return 1;
	return 0;
}

static int
is_separator(const char *l)
{
	size_t	 n = strlen(l), dashes = strspn(l, "-"), unders;
	char	*low;
	int	 found = 0;

	if (strcmp(l, "--") == 0 || strcmp(l, "-- ") == 0)
		return 1;
	unders = strspn(l, "_");
	if (unders >= 10 && unders == n)
		return 1;	/* Outlook's rule above the quoted header */
	if (dashes < 2 && strspn(l, "=") < 2 && strspn(l, "_") < 2)
		return 0;
	low = xstrdup(l);
	for (char *p = low; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	for (const char *const *m = original_markers; *m != NULL && !found;
	    m++)
		found = strstr(low, *m) != NULL;
	free(low);
	return found;
}

/* Outlook's quoted header: "From: ..." followed by "Sent:" and friends. */
static int
is_quoted_header(char **lines, size_t i, size_t n)
{
	const char	*l = line_at(lines, i);
	size_t		 j;

	if (strncmp(l, "From:", 5) != 0 && strncmp(l, "De :", 4) != 0 &&
	    strncmp(l, "Von:", 4) != 0 && strncmp(l, "De:", 3) != 0)
		return 0;
	for (j = i + 1; j < n && j <= i + 4; j++)
		for (const char *const *h = header_starts; *h != NULL; h++)
			if (strncmp(line_at(lines, j), *h, strlen(*h)) == 0)
				return 1;
	return 0;
}

static int
is_trailer(const char *l)
{
	for (const char *const *t = trailers; *t != NULL; t++)
		if (strncasecmp(l, *t, strlen(*t)) == 0)
			return 1;
	return 0;
}

/* Split into trimmed lines (modifies s). */
static char **
split_lines(char *s, size_t *np)
{
	char	**lines = NULL, *p = s, *e;
	size_t	 n = 0;

	while (*p != '\0') {
		if ((e = strchr(p, '\n')) != NULL)
			*e = '\0';
		lines = xreallocarray(lines, n + 1, sizeof(*lines));
		lines[n++] = p;
		if (e == NULL)
			break;
		p = e + 1;
	}
	for (size_t i = 0; i < n; i++) {
		size_t	 l = strlen(lines[i]);

		while (l > 0 && (lines[i][l - 1] == '\r' ||
		    lines[i][l - 1] == '\t' || (lines[i][l - 1] == ' ' &&
		    strcmp(lines[i], "-- ") != 0)))
			lines[i][--l] = '\0';
		while (*lines[i] == ' ' || *lines[i] == '\t')
			lines[i]++;
	}
	*np = n;
	return lines;
}

char *
classify_reply_text(const char *text)
{
	struct buf	 b;
	char		*copy, **lines, *out;
	size_t		 n, i;

	if (text == NULL)
		return xstrdup("");
	copy = xstrdup(text);
	lines = split_lines(copy, &n);
	buf_init(&b);
	buf_add(&b, "", 0);
	for (i = 0; i < n; i++) {
		const char	*l = lines[i];

		if (*l == '>')
			continue;
		if (is_separator(l) || is_trailer(l) ||
		    is_attribution(lines, i, n) || is_quoted_header(lines, i, n))
			break;
		buf_adds(&b, l);
		buf_addc(&b, '\n');
	}
	out = text_tidy(b.data);
	buf_free(&b);
	free(lines);
	free(copy);
	return out;
}

/* ---- does the new text ask to unsubscribe? ---- */

/* Words that name the request. */
static const char *const intent_words[] = {
	"unsubscribe", "unsubscribed", "unsubscribing", "unsub", "unsubcribe",
	"unsuscribe", "unsubscibe", "remove", "optout", "opt", "stop",
	"cancel",
	"delete", "désabonner", "désinscrire", "desabonner", "desinscrire",
	"abmelden", "abbestellen", "austragen", NULL
};

/* Politeness and list vocabulary that may surround the request. */
static const char *const filler_words[] = {
	"please", "pls", "plz", "kindly", "can", "could", "would", "will",
	"you", "i", "d", "m", "ve", "ll", "want", "wish", "like", "to", "be",
	"me", "my", "us", "our", "we", "myself", "from", "off", "out",
	"of", "on", "the", "this", "these", "that", "a", "an", "all",
	"any", "your", "list", "lists", "mailing", "newsletter",
	"newsletters", "emails", "email", "e", "mail", "mails", "mailings",
	"messages", "message", "communications", "updates", "further",
	"more", "no", "longer", "now", "asap", "immediately", "right",
	"away", "just", "and", "or", "for", "it", "them", "sending", "send",
	"receiving", "receive", "get", "getting", "contact", "contacting",
	"database", "address", "subscription", "request", "requesting",
	"take", "ok", "okay", "yes", "also", "again", "sorry",
	"thanks", "thank", "thx", "ta", "cheers", "regards", "best",
	"kind", "many", "sincerely", "wishes", "hi", "hello", "dear", "hey",
	"sir", "madam", "is", "am", "are", "been", "have", "has", "there",
	"here", "x", "xx", "xxx", "uk", "org", "com", "at", "in", "as",
	"bitte", "merci", "svp", "moi", "danke", NULL
};

static const char *const greetings[] = {
	"hi", "hello", "dear", "hey", "hiya", "morning", "afternoon", NULL
};

static const char *const signoffs[] = {
	"thanks", "thank", "cheers", "regards", "best", "sincerely", "thx",
	"ta", "love", "yours", "wishes", "merci", "danke", NULL
};

static int
word_in(const char *w, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(w, *list) == 0)
			return 1;
	return 0;
}

/* Lower-case words (bytes >= 0x80 count as letters); returns the count. */
static size_t
words_split(const char *s, char ***wp)
{
	char	**w = NULL, *cur;
	size_t	 n = 0, len;

	while (*s != '\0') {
		while (*s != '\0' && !isalnum((unsigned char)*s) &&
		    (unsigned char)*s < 0x80)
			s++;
		for (len = 0; s[len] != '\0' && (isalnum((unsigned char)
		    s[len]) || (unsigned char)s[len] >= 0x80); len++)
			;
		if (len == 0)
			break;
		cur = xstrndup(s, len);
		for (char *p = cur; *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
		w = xreallocarray(w, n + 1, sizeof(*w));
		w[n++] = cur;
		s += len;
	}
	*wp = w;
	return n;
}

/* Drop a last line that is only a name (one to three words). */
static char *
drop_name_line(const char *text)
{
	char		*copy = xstrdup(text), *last, **w;
	size_t		 n, i;
	int		 keep = 0;

	while ((last = strrchr(copy, '\n')) != NULL && last[1] == '\0')
		*last = '\0';
	if ((last = strrchr(copy, '\n')) == NULL)
		return copy;
	n = words_split(last + 1, &w);
	for (i = 0; i < n; i++)
		if (word_in(w[i], intent_words))
			keep = 1;
	for (i = 0; i < n; i++)
		free(w[i]);
	free(w);
	if (n >= 1 && n <= 3 && !keep)
		*last = '\0';
	return copy;
}

int
classify_unsubscribe_intent(const char *text)
{
	char	**w, *t;
	size_t	 n, i, end;
	int	 intent = 0, other = 0, no_more = 0, take = 0, off = 0;

	if (text == NULL)
		return 0;
	t = drop_name_line(text);
	n = words_split(t, &w);
	free(t);
	end = n;
	/* A sign-off and the few words after it (a name) do not count. */
	for (i = 1; i < n; i++)
		if (word_in(w[i], signoffs) && n - i <= 4) {
			end = i;
			break;
		}
	for (i = 0; i < end; i++) {
		if (i == 1 && word_in(w[0], greetings) &&
		    !word_in(w[i], filler_words) && !word_in(w[i], intent_words))
			continue;	/* "Hi Sam" */
		take |= strcmp(w[i], "take") == 0;
		off |= strcmp(w[i], "off") == 0;
		if (word_in(w[i], intent_words))
			intent = 1;
		else if (i + 1 < end && strcmp(w[i], "no") == 0 &&
		    strcmp(w[i + 1], "more") == 0)
			no_more = 1;
		else if (!word_in(w[i], filler_words))
			other++;
	}
	for (i = 0; i < n; i++)
		free(w[i]);
	free(w);
	return (intent || no_more || (take && off)) && other == 0 && n <= INTENT_MAX_WORDS;
}
