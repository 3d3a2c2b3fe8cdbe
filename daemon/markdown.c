/*
 * Markdown to the two bodies of a message, with cmark-gfm and its table,
 * strikethrough and autolink extensions. HTML uses cmark's safe default
 * (raw HTML and javascript:/vbscript:/file:/data: links dropped;
 * CMARK_OPT_UNSAFE is never passed: officers paste text from anywhere),
 * with headings one level down (the template's <h1> is the title) and the
 * inline styles mail clients need, since many drop <style>: images that
 * shrink to the column, tables, links, quotes and lists. The text part is
 * our own walk of the same tree: headings underlined, "- " and "1. "
 * lists, tables as "a | b" rows, links as "text <url>", emphasis as plain
 * words, paragraphs wrapped at 72 columns, no HTML at all.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <cmark-gfm.h>
#include <cmark-gfm-core-extensions.h>

#include "clarion.h"

#define MD_WIDTH	72
#define MD_IMG_WIDTH	"560"	/* the template's column, less padding */
#define MD_OPTS		(CMARK_OPT_DEFAULT | CMARK_OPT_VALIDATE_UTF8)

static const char *md_extensions[] = { "table", "strikethrough", "autolink" };

/* Inline styles for what cmark-gfm writes: tag prefix, its replacement. */
static const struct {
	const char	*tag, *styled;
} md_styles[] = {
	{ "<img ", "<img width=\"" MD_IMG_WIDTH "\" style=\"display:block;"
	    "max-width:100%;height:auto;border:0;\" " },
	{ "<table>", "<table style=\"border-collapse:collapse;width:100%;"
	    "margin:0 0 16px;\">" },
	{ "<th", "<th style=\"border:1px solid #cccccc;padding:6px 8px;"
	    "text-align:left;background:#f2f2f2;\"" },
	{ "<td", "<td style=\"border:1px solid #cccccc;padding:6px 8px;"
	    "vertical-align:top;\"" },
	{ "<a href", "<a style=\"color:#0b57d0;text-decoration:underline;\" "
	    "href" },
	{ "<blockquote>", "<blockquote style=\"margin:0 0 16px;padding:0 0 0 "
	    "12px;border-left:4px solid #cccccc;color:#555555;\">" },
	{ "<ul>", "<ul style=\"margin:0 0 16px;padding:0 0 0 24px;\">" },
	{ "<ol>", "<ol style=\"margin:0 0 16px;padding:0 0 0 24px;\">" },
	{ "<ol start", "<ol style=\"margin:0 0 16px;padding:0 0 0 24px;\" "
	    "start" },
	{ "<p>", "<p style=\"margin:0 0 16px;\">" },
};

struct md_text {
	struct buf	*out;
};

static void	md_blocks(struct md_text *, cmark_node *, const char *,
		    const char *, int);

/* The document with the extensions; *parser is kept for rendering. */
static cmark_node *
md_parse(const char *md, cmark_parser **parser)
{
	cmark_parser		*p;
	cmark_syntax_extension	*e;
	cmark_node		*doc;
	size_t			 i;

	cmark_gfm_core_extensions_ensure_registered();
	if ((p = cmark_parser_new(MD_OPTS)) == NULL)
		return NULL;
	for (i = 0; i < nitems(md_extensions); i++)
		if ((e = cmark_find_syntax_extension(md_extensions[i])) != NULL)
			cmark_parser_attach_syntax_extension(p, e);
	cmark_parser_feed(p, md, strlen(md));
	doc = cmark_parser_finish(p);
	*parser = p;
	return doc;
}

/* Headings one level down: the template's own <h1> is the title. */
static void
md_headings_down(cmark_node *doc)
{
	cmark_iter		*it;
	cmark_event_type	 ev;
	cmark_node		*n;
	int			 level;

	it = cmark_iter_new(doc);
	while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		n = cmark_iter_get_node(it);
		if (ev == CMARK_EVENT_ENTER &&
		    cmark_node_get_type(n) == CMARK_NODE_HEADING &&
		    (level = cmark_node_get_heading_level(n)) < 6)
			cmark_node_set_heading_level(n, level + 1);
	}
	cmark_iter_free(it);
}

/*
 * The styles go on the tags cmark-gfm writes; text that looks like a tag
 * was escaped by cmark ("&lt;img"), so only real tags match.
 */
static void
md_style(const char *html, struct buf *out)
{
	const char	*p = html;
	size_t		 i, n;

	while (*p != '\0') {
		n = strcspn(p, "<");
		buf_add(out, p, n);
		if (p[n] == '\0')
			break;
		p += n;
		for (i = 0; i < nitems(md_styles); i++) {
			n = strlen(md_styles[i].tag);
			if (strncmp(p, md_styles[i].tag, n) == 0 &&
			    (md_styles[i].tag[n - 1] != 'h' &&
			    md_styles[i].tag[n - 1] != 'd' ? 1 :
			    p[n] == '>' || p[n] == ' '))
				break;
		}
		if (i < nitems(md_styles)) {
			buf_adds(out, md_styles[i].styled);
			p += strlen(md_styles[i].tag);
		} else
			buf_addc(out, *p++);
	}
}

int
md_to_html(const char *md, struct buf *out)
{
	cmark_parser	*p;
	cmark_node	*doc;
	char		*html;

	if ((doc = md_parse(md, &p)) == NULL)
		return -1;
	md_headings_down(doc);
	html = cmark_render_html(doc, MD_OPTS,
	    cmark_parser_get_syntax_extensions(p));
	cmark_node_free(doc);
	cmark_parser_free(p);
	if (html == NULL)
		return -1;
	md_style(html, out);
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

/* A table as rows of "cell | cell", the header row underlined. */
static void
md_table(struct md_text *t, cmark_node *table, const char *first,
    const char *rest)
{
	cmark_node	*row, *cell;
	struct buf	 line;
	const char	*prefix = first;

	for (row = cmark_node_first_child(table); row != NULL;
	    row = cmark_node_next(row)) {
		buf_init(&line);
		buf_add(&line, "", 0);
		for (cell = cmark_node_first_child(row); cell != NULL;
		    cell = cmark_node_next(cell)) {
			if (cell != cmark_node_first_child(row))
				buf_adds(&line, " | ");
			md_inlines(cell, &line);
		}
		buf_adds(t->out, prefix);
		buf_adds(t->out, line.data);
		buf_addc(t->out, '\n');
		if (row == cmark_node_first_child(table))
			md_underline(t->out, rest, line.data, '-');
		prefix = rest;
		buf_free(&line);
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
	default:
		/* raw HTML blocks are never shown */
		if (strcmp(cmark_node_get_type_string(n), "table") == 0)
			md_table(t, n, first, rest);
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
	cmark_parser	*p;
	cmark_node	*doc;

	if ((doc = md_parse(md, &p)) == NULL)
		return -1;
	t.out = out;
	buf_add(out, "", 0);
	md_blocks(&t, doc, "", "", 0);
	cmark_node_free(doc);
	cmark_parser_free(p);
	return 0;
}
