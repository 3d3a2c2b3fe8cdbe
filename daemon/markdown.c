/*
 * Markdown to the two bodies of a message, with cmark. HTML uses cmark's
 * safe default (raw HTML and javascript:/vbscript:/file:/data: links
 * dropped; CMARK_OPT_UNSAFE is never passed: officers paste text from
 * anywhere). The text part is our own walk of the same tree: headings
 * underlined, "- " and "1. " lists, links as "text <url>", emphasis as
 * plain words, paragraphs wrapped at 72 columns, no HTML at all.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <cmark.h>

#include "clarion.h"

#define MD_WIDTH	72

struct md_text {
	struct buf	*out;
};

static void	md_blocks(struct md_text *, cmark_node *, const char *,
		    const char *, int);

int
md_to_html(const char *md, struct buf *out)
{
	char	*html;

	html = cmark_markdown_to_html(md, strlen(md),
	    CMARK_OPT_DEFAULT | CMARK_OPT_VALIDATE_UTF8);
	if (html == NULL)
		return -1;
	buf_adds(out, html);
	free(html);
	return 0;
}

/* Links worth printing in a text part; others keep only their words. */
static int
url_printable(const char *url)
{
	return url != NULL && (str_casecmp_prefix(url, "http://") ||
	    str_casecmp_prefix(url, "https://") ||
	    str_casecmp_prefix(url, "mailto:") ||
	    str_casecmp_prefix(url, "tel:"));
}

/* The inline content of a block as one string; '\n' marks hard breaks. */
static void
md_inlines(cmark_node *n, struct buf *b)
{
	cmark_node	*c;
	const char	*url;
	size_t		 start;

	for (c = cmark_node_first_child(n); c != NULL;
	    c = cmark_node_next(c)) {
		switch (cmark_node_get_type(c)) {
		case CMARK_NODE_TEXT:
		case CMARK_NODE_CODE:
			buf_adds(b, cmark_node_get_literal(c));
			break;
		case CMARK_NODE_SOFTBREAK:
			buf_addc(b, ' ');
			break;
		case CMARK_NODE_LINEBREAK:
			buf_addc(b, '\n');
			break;
		case CMARK_NODE_LINK:
		case CMARK_NODE_IMAGE:
			start = b->len;
			md_inlines(c, b);
			url = cmark_node_get_url(c);
			if (!url_printable(url))
				break;
			if (b->data != NULL && strcmp(b->data + start, url) ==
			    0)
				b->len = start;	/* an autolink: once */
			else if (str_casecmp_prefix(url, "mailto:") &&
			    strcmp(b->data + start, url + 7) == 0)
				b->len = start;
			buf_addf(b, "%s<%s>", b->len > start ? " " : "", url);
			break;
		case CMARK_NODE_HTML_INLINE:
			break;
		default:
			md_inlines(c, b);	/* emphasis, strong */
			break;
		}
	}
}

/* Display width in characters (UTF-8 continuation bytes do not count). */
static size_t
md_width(const char *s, size_t len)
{
	size_t	 w = 0, i;

	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			w++;
	return w;
}

/* Writes words wrapped at MD_WIDTH, each line after its prefix. */
static void
md_wrap(struct buf *out, const char *text, const char *first,
    const char *rest)
{
	const char	*s = text, *w, *prefix = first;
	size_t		 col, len, pw;
	int		 line_empty;

	for (;;) {
		buf_adds(out, prefix);
		pw = md_width(prefix, strlen(prefix));
		col = pw;
		line_empty = 1;
		for (;;) {
			while (*s == ' ')
				s++;
			if (*s == '\0' || *s == '\n')
				break;
			w = s;
			len = strcspn(s, " \n");
			if (!line_empty && col + 1 + md_width(w, len) >
			    MD_WIDTH)
				break;
			if (!line_empty) {
				buf_addc(out, ' ');
				col++;
			}
			buf_add(out, w, len);
			col += md_width(w, len);
			line_empty = 0;
			s += len;
		}
		buf_addc(out, '\n');
		if (*s == '\n')
			s++;
		else if (*s == '\0')
			return;
		prefix = rest;
	}
}

static void
md_underline(struct buf *out, const char *prefix, const char *text, char c)
{
	size_t	 i, w = md_width(text, strlen(text));

	buf_adds(out, prefix);
	for (i = 0; i < w && i < MD_WIDTH; i++)
		buf_addc(out, c);
	buf_addc(out, '\n');
}

static void
md_code(struct buf *out, const char *code, const char *first,
    const char *rest)
{
	const char	*s = code, *nl, *prefix = first;

	while (*s != '\0') {
		nl = strchr(s, '\n');
		buf_adds(out, prefix);
		buf_adds(out, "    ");
		buf_add(out, s, nl != NULL ? (size_t)(nl - s) : strlen(s));
		buf_addc(out, '\n');
		if (nl == NULL)
			break;
		s = nl + 1;
		prefix = rest;
	}
}

static void
md_list(struct md_text *t, cmark_node *list, const char *first,
    const char *rest)
{
	cmark_node	*item;
	char		*f, *r, marker[24];
	int		 num = cmark_node_get_list_start(list);
	int		 tight = cmark_node_get_list_tight(list);

	for (item = cmark_node_first_child(list); item != NULL;
	    item = cmark_node_next(item), num++) {
		if (cmark_node_get_list_type(list) == CMARK_ORDERED_LIST)
			snprintf(marker, sizeof marker, "%d. ", num);
		else
			snprintf(marker, sizeof marker, "- ");
		xasprintf(&f, "%s%s", item == cmark_node_first_child(list) ?
		    first : rest, marker);
		xasprintf(&r, "%s%*s", rest, (int)strlen(marker), "");
		if (item != cmark_node_first_child(list) && !tight)
			buf_addc(t->out, '\n');
		md_blocks(t, item, f, r, tight);
		free(f);
		free(r);
	}
}

static void
md_block(struct md_text *t, cmark_node *n, const char *first,
    const char *rest)
{
	struct buf	 b;
	char		*q1, *q2;

	buf_init(&b);
	switch (cmark_node_get_type(n)) {
	case CMARK_NODE_PARAGRAPH:
		md_inlines(n, &b);
		md_wrap(t->out, b.data != NULL ? b.data : "", first, rest);
		break;
	case CMARK_NODE_HEADING:
		md_inlines(n, &b);
		md_wrap(t->out, b.data != NULL ? b.data : "", first, rest);
		if (cmark_node_get_heading_level(n) <= 2)
			md_underline(t->out, rest, b.data != NULL ? b.data :
			    "", cmark_node_get_heading_level(n) == 1 ? '=' :
			    '-');
		break;
	case CMARK_NODE_LIST:
		md_list(t, n, first, rest);
		break;
	case CMARK_NODE_BLOCK_QUOTE:
		xasprintf(&q1, "%s> ", first);
		xasprintf(&q2, "%s> ", rest);
		md_blocks(t, n, q1, q2, 0);
		free(q1);
		free(q2);
		break;
	case CMARK_NODE_CODE_BLOCK:
		md_code(t->out, cmark_node_get_literal(n), first, rest);
		break;
	case CMARK_NODE_THEMATIC_BREAK:
		buf_adds(t->out, first);
		buf_adds(t->out, "----------------------------------------\n");
		break;
	default:	/* raw HTML blocks are never shown */
		break;
	}
	buf_free(&b);
}

/* The blocks inside n, a blank line between them unless tight. */
static void
md_blocks(struct md_text *t, cmark_node *n, const char *first,
    const char *rest, int tight)
{
	cmark_node	*c;
	const char	*prefix = first;
	size_t		 before, i;
	int		 started = 0;

	for (c = cmark_node_first_child(n); c != NULL;
	    c = cmark_node_next(c)) {
		if (cmark_node_get_type(c) == CMARK_NODE_HTML_BLOCK)
			continue;
		before = t->out->len;
		if (started && !tight) {
			/* The blank line keeps a quote's ">" but no blanks. */
			for (i = strlen(rest); i > 0 && rest[i - 1] == ' '; i--)
				;
			buf_add(t->out, rest, i);
			buf_addc(t->out, '\n');
		}
		md_block(t, c, prefix, rest);
		if (t->out->len > before) {
			prefix = rest;
			started = 1;
		}
	}
}

int
md_to_text(const char *md, struct buf *out)
{
	struct md_text	 t;
	cmark_node	*doc;

	doc = cmark_parse_document(md, strlen(md), CMARK_OPT_DEFAULT |
	    CMARK_OPT_VALIDATE_UTF8);
	if (doc == NULL)
		return -1;
	t.out = out;
	buf_add(out, "", 0);
	md_blocks(&t, doc, "", "", 0);
	cmark_node_free(doc);
	return 0;
}
