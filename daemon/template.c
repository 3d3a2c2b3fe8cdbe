/*
 * A Mustache engine held to the official specification (core modules:
 * interpolation, sections, inverted sections, comments, partials and set
 * delimiters; no lambdas, no inheritance). Templates are parsed once into
 * a tree and rendered many times against jansson data.
 *
 * Choices the specification leaves to the implementation:
 * - HTML escaping covers & < > " and also ' (as &#39;), so values are safe
 *   inside single-quoted attributes too.
 * - Falsey values: a missing name, null, false, an empty list and the
 *   empty string. Numbers, including 0, are truthy.
 * - true and false interpolate as "true" and "false"; null, objects and
 *   lists interpolate as nothing; numbers in their shortest exact form.
 * - A missing partial renders as nothing (as the spec says); a partial name
 *   holding "/" or starting with "." is an error, so templates cannot read
 *   files outside the partials directory.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "clarion.h"

#define TMPL_MAX_NESTING	100	/* sections inside sections */
#define TMPL_MAX_DELIM		16
#define TMPL_MAX_DEPTH		100	/* partials inside partials */

enum tmpl_kind {
	TN_TEXT,
	TN_VAR,		/* {{name}}: escaped when rendering HTML */
	TN_RAW,		/* {{{name}}} and {{&name}} */
	TN_SECTION,
	TN_INVERTED,
	TN_PARTIAL,
};

struct tmpl_node;
struct tmpl_list {
	struct tmpl_node *v;
	size_t		 n;
	size_t		 cap;
};

struct tmpl_node {
	enum tmpl_kind	 kind;
	int		 line;
	int		 line_start;	/* partial indent goes here */
	int		 standalone;
	char		*text;		/* or partial indentation */
	size_t		 len;
	char		*name;
	char		**parts;	/* split on dots; none for "." */
	size_t		 nparts;
	struct tmpl_list children;
};

struct tmpl {
	struct tmpl_list nodes;
};

struct tmpl_partial {
	char		*name;
	struct tmpl	*t;		/* NULL: no such partial */
};

struct tmpl_partials {
	char		*dir;
	struct tmpl_partial *v;
	size_t		 n;
};

struct tmpl_parser {
	const char	*src;
	size_t		 len;
	size_t		 pos;
	int		 line;		/* line of src[pos] */
	char		 open[TMPL_MAX_DELIM + 1];
	char		 close[TMPL_MAX_DELIM + 1];
	size_t		 olen, clen;
	char		**cause;
};

struct tmpl_tag {
	char		 type;		/* 0 for a plain variable */
	size_t		 start, end;	/* the whole tag in src */
	const char	*body;		/* content, trimmed */
	size_t		 blen;
	int		 line;
};

struct tmpl_render {
	json_t		**stack;
	size_t		 n, cap;
	struct tmpl_partials *partials;
	int		 escape;
	int		 depth;
	struct buf	*out;
	char		**cause;
};

static void	tmpl_list_free(struct tmpl_list *);
static int	line_start(const struct tmpl_parser *, size_t);
static int	parse_list(struct tmpl_parser *, struct tmpl_list *,
		    const struct tmpl_node *, int);
static int	render_list(struct tmpl_render *, const struct tmpl_list *,
		    const char *, size_t);

static struct tmpl_node *
list_push(struct tmpl_list *l, enum tmpl_kind kind, int line)
{
	struct tmpl_node *n;

	if (l->n == l->cap) {
		l->cap = l->cap == 0 ? 8 : l->cap * 2;
		l->v = xreallocarray(l->v, l->cap, sizeof *l->v);
	}
	n = &l->v[l->n++];
	memset(n, 0, sizeof *n);
	n->kind = kind;
	n->line = line;
	return n;
}

static void
node_free(struct tmpl_node *n)
{
	size_t	 i;

	free(n->text);
	free(n->name);
	for (i = 0; i < n->nparts; i++)
		free(n->parts[i]);
	free(n->parts);
	tmpl_list_free(&n->children);
}

static void
tmpl_list_free(struct tmpl_list *l)
{
	size_t	 i;

	for (i = 0; i < l->n; i++)
		node_free(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

void
tmpl_free(struct tmpl *t)
{
	if (t == NULL)
		return;
	tmpl_list_free(&t->nodes);
	free(t);
}

static void
partials_collect(const struct tmpl_list *l, char ***names, size_t *n)
{
	size_t	 i, j;

	for (i = 0; i < l->n; i++) {
		if (l->v[i].kind == TN_PARTIAL) {
			for (j = 0; j < *n; j++)
				if (strcmp((*names)[j], l->v[i].name) == 0)
					break;
			if (j == *n) {
				*names = xreallocarray(*names, *n + 1,
				    sizeof **names);
				(*names)[(*n)++] = xstrdup(l->v[i].name);
			}
		}
		partials_collect(&l->v[i].children, names, n);
	}
}

/*
 * The partials t names, each once; the caller frees them. A missing
 * partial renders as nothing, so check-config asks for them here.
 */
size_t
tmpl_partial_names(const struct tmpl *t, char ***names)
{
	size_t	 n = 0;

	*names = NULL;
	partials_collect(&t->nodes, names, &n);
	return n;
}

static int
parse_error(struct tmpl_parser *p, int line, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	if (p->cause != NULL)
		xasprintf(p->cause, "line %d: %s", line, msg);
	free(msg);
	return -1;
}

static const char *
find(const char *hay, size_t hlen, const char *needle, size_t nlen)
{
	return memmem(hay, hlen, needle, nlen);
}

static int
count_lines(const char *s, size_t len)
{
	int	 n = 0;

	while (len-- > 0)
		if (*s++ == '\n')
			n++;
	return n;
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Finds the next tag from p->pos; returns 0 if there is none, -1 on error. */
static int
next_tag(struct tmpl_parser *p, struct tmpl_tag *tag)
{
	const char	*s = p->src, *o, *c, *b;
	const char	*closer;
	char		 want[TMPL_MAX_DELIM + 2];
	size_t		 i, wlen;

	o = find(s + p->pos, p->len - p->pos, p->open, p->olen);
	if (o == NULL)
		return 0;
	tag->start = (size_t)(o - s);
	tag->line = p->line + count_lines(s + p->pos, tag->start - p->pos);
	i = tag->start + p->olen;
	tag->type = i < p->len && s[i] != '\0' &&
	    strchr("#^/!>&{=", s[i]) != NULL ? s[i] : 0;
	if (tag->type != 0)
		i++;
	/* {{{x}}} ends with "}" and {{=a b=}} with "=" before the delimiter. */
	wlen = 0;
	if (tag->type == '{' || tag->type == '=')
		want[wlen++] = tag->type == '{' ? '}' : '=';
	memcpy(want + wlen, p->close, p->clen);
	wlen += p->clen;
	closer = find(s + i, p->len - i, want, wlen);
	if (closer == NULL)
		return parse_error(p, tag->line, "tag opened with \"%s\" is "
		    "not closed (expected \"%.*s\")", p->open, (int)wlen,
		    want);
	c = closer;
	b = s + i;
	tag->end = (size_t)(c - s) + wlen;
	while (b < c && isspace((unsigned char)*b))
		b++;
	while (c > b && isspace((unsigned char)c[-1]))
		c--;
	tag->body = b;
	tag->blen = (size_t)(c - b);
	return 1;
}

/*
 * A tag other than an interpolation is standalone when it is alone on its
 * line apart from blanks: then the blanks and the line ending go with it.
 * Sets *ls to the start of the line and *after to the start of the next.
 */
static int
standalone(struct tmpl_parser *p, const struct tmpl_tag *tag, size_t *ls,
    size_t *after)
{
	const char	*s = p->src;
	size_t		 i;

	if (tag->type == 0 || tag->type == '&' || tag->type == '{')
		return 0;
	for (i = tag->start; i > 0 && is_blank(s[i - 1]); i--)
		;
	if (i > 0 && s[i - 1] != '\n')
		return 0;
	*ls = i;
	for (i = tag->end; i < p->len && is_blank(s[i]); i++)
		;
	if (i == p->len) {
		*after = i;
		return 1;
	}
	if (s[i] == '\n') {
		*after = i + 1;
		return 1;
	}
	if (s[i] == '\r' && i + 1 < p->len && s[i + 1] == '\n') {
		*after = i + 2;
		return 1;
	}
	return 0;
}

static void
add_text(struct tmpl_parser *p, struct tmpl_list *l, size_t from, size_t to)
{
	struct tmpl_node *n;

	if (to <= from)
		return;
	n = list_push(l, TN_TEXT, p->line);
	n->line_start = line_start(p, from);
	n->text = xstrndup(p->src + from, to - from);
	n->len = to - from;
}

static int
set_name(struct tmpl_parser *p, struct tmpl_node *n,
    const struct tmpl_tag *tag)
{
	const char	*s = tag->body, *end = s + tag->blen, *dot;
	size_t		 i;

	if (tag->blen == 0)
		return parse_error(p, tag->line, "empty tag");
	for (i = 0; i < tag->blen; i++)
		if (isspace((unsigned char)s[i]))
			return parse_error(p, tag->line, "bad name \"%.*s\"",
			    (int)tag->blen, s);
	n->name = xstrndup(s, tag->blen);
	if (tag->blen == 1 && *s == '.')
		return 0;
	n->parts = xcalloc(tag->blen / 2 + 1, sizeof *n->parts);
	for (;;) {
		if ((dot = memchr(s, '.', (size_t)(end - s))) == NULL)
			dot = end;
		if (dot == s)
			return parse_error(p, tag->line, "bad name \"%s\"",
			    n->name);
		n->parts[n->nparts++] = xstrndup(s, (size_t)(dot - s));
		if (dot == end)
			return 0;
		s = dot + 1;
	}
}

static int
set_delimiters(struct tmpl_parser *p, const struct tmpl_tag *tag)
{
	const char	*s = tag->body, *end = s + tag->blen, *sp;
	size_t		 olen, clen;

	for (sp = s; sp < end && !isspace((unsigned char)*sp); sp++)
		;
	olen = (size_t)(sp - s);
	while (sp < end && isspace((unsigned char)*sp))
		sp++;
	clen = (size_t)(end - sp);
	if (olen == 0 || clen == 0 || olen > TMPL_MAX_DELIM ||
	    clen > TMPL_MAX_DELIM || memchr(s, '=', olen) != NULL ||
	    memchr(sp, '=', clen) != NULL)
		return parse_error(p, tag->line, "bad set-delimiter tag "
		    "\"%.*s\"", (int)tag->blen, tag->body);
	if (memchr(sp, ' ', clen) != NULL || memchr(sp, '\t', clen) != NULL)
		return parse_error(p, tag->line, "bad set-delimiter tag "
		    "\"%.*s\"", (int)tag->blen, tag->body);
	memcpy(p->open, tag->body, olen);
	p->open[olen] = '\0';
	p->olen = olen;
	memcpy(p->close, sp, clen);
	p->close[clen] = '\0';
	p->clen = clen;
	return 0;
}

/* Handles one tag; returns 1 when it closes the section being parsed. */
static int
parse_tag(struct tmpl_parser *p, struct tmpl_list *l,
    const struct tmpl_node *sect, const struct tmpl_tag *tag, int nesting)
{
	struct tmpl_node	*n;
	enum tmpl_kind		 kind;

	switch (tag->type) {
	case '!':
		return 0;
	case '=':
		return set_delimiters(p, tag);
	case '/':
		if (sect == NULL)
			return parse_error(p, tag->line, "closing tag "
			    "\"%.*s\" has no open section", (int)tag->blen,
			    tag->body);
		if (strlen(sect->name) != tag->blen ||
		    memcmp(sect->name, tag->body, tag->blen) != 0)
			return parse_error(p, tag->line, "closing tag \"%.*s\" "
			    "does not match section \"%s\" opened on line %d",
			    (int)tag->blen, tag->body, sect->name, sect->line);
		return 1;
	}
	switch (tag->type) {
	case '#':
		kind = TN_SECTION;
		break;
	case '^':
		kind = TN_INVERTED;
		break;
	case '>':
		kind = TN_PARTIAL;
		break;
	case '&':
	case '{':
		kind = TN_RAW;
		break;
	default:
		kind = TN_VAR;
		break;
	}
	n = list_push(l, kind, tag->line);
	n->line_start = line_start(p, tag->start);
	if (set_name(p, n, tag) == -1)
		return -1;
	if (kind != TN_SECTION && kind != TN_INVERTED)
		return 0;
	if (nesting >= TMPL_MAX_NESTING)
		return parse_error(p, tag->line, "sections nested more than "
		    "%d deep", TMPL_MAX_NESTING);
	return parse_list(p, &n->children, n, nesting + 1) == -1 ? -1 : 0;
}

static int
line_start(const struct tmpl_parser *p, size_t at)
{
	return at == 0 || p->src[at - 1] == '\n';
}

/*
 * A tag that yields no output but shares its line with other text still
 * begins the line: keep an empty text node so partial indentation lands.
 */
static void
mark_line_start(struct tmpl_parser *p, struct tmpl_list *l)
{
	struct tmpl_node *n;

	n = list_push(l, TN_TEXT, p->line);
	n->line_start = 1;
	n->text = xstrdup("");
}

/* The blanks before a standalone partial are its indentation. */
static void
node_finish(struct tmpl_parser *p, struct tmpl_node *n,
    const struct tmpl_tag *tag, int alone, size_t ls)
{
	n->standalone = alone;
	if (n->kind != TN_PARTIAL || !alone)
		return;
	free(n->text);
	n->text = xstrndup(p->src + ls, tag->start - ls);
	n->len = tag->start - ls;
}

static void
advance(struct tmpl_parser *p, size_t to)
{
	p->line += count_lines(p->src + p->pos, to - p->pos);
	p->pos = to;
}

/* Parses nodes into l until the end of sect (or of the input). */
static int
parse_list(struct tmpl_parser *p, struct tmpl_list *l,
    const struct tmpl_node *sect, int nesting)
{
	struct tmpl_tag	 tag = { 0 };
	size_t		 ls = 0, after = 0, text_end, before;
	int		 rc, alone;

	for (;;) {
		if ((rc = next_tag(p, &tag)) == -1)
			return -1;
		if (rc == 0) {
			add_text(p, l, p->pos, p->len);
			advance(p, p->len);
			if (sect != NULL)
				return parse_error(p, sect->line, "section "
				    "\"%s\" is not closed", sect->name);
			return 0;
		}
		alone = standalone(p, &tag, &ls, &after);
		text_end = alone ? ls : tag.start;
		add_text(p, l, p->pos, text_end);
		advance(p, alone ? after : tag.end);
		before = l->n;
		if ((rc = parse_tag(p, l, sect, &tag, nesting)) == -1)
			return -1;
		if (l->n > before)
			node_finish(p, &l->v[before], &tag, alone, ls);
		else if (!alone && line_start(p, tag.start))
			mark_line_start(p, l);
		if (rc == 1)
			return 0;
	}
}

struct tmpl *
tmpl_parse(const char *src, size_t len, char **cause)
{
	struct tmpl_parser	 p;
	struct tmpl		*t;

	memset(&p, 0, sizeof p);
	p.src = src;
	p.len = len;
	p.line = 1;
	memcpy(p.open, "{{", 3);
	memcpy(p.close, "}}", 3);
	p.olen = p.clen = 2;
	p.cause = cause;
	t = xcalloc(1, sizeof *t);
	if (memchr(src, '\0', len) != NULL) {
		parse_error(&p, 1 + count_lines(src,
		    (size_t)((const char *)memchr(src, '\0', len) - src)),
		    "NUL byte in template");
		tmpl_free(t);
		return NULL;
	}
	if (parse_list(&p, &t->nodes, NULL, 0) == -1) {
		tmpl_free(t);
		return NULL;
	}
	return t;
}

struct tmpl *
tmpl_parse_file(const char *path, char **cause)
{
	struct tmpl	*t;
	char		*src, *why;
	size_t		 len;

	if ((src = file_read(path, &len, cause)) == NULL)
		return NULL;
	t = tmpl_parse(src, len, &why);
	free(src);
	if (t == NULL) {
		xasprintf(cause, "%s: %s", path, why);
		free(why);
	}
	return t;
}

struct tmpl_partials *
tmpl_partials_new(const char *dir)
{
	struct tmpl_partials	*ps;

	ps = xcalloc(1, sizeof *ps);
	ps->dir = dir != NULL ? xstrdup(dir) : NULL;
	return ps;
}

void
tmpl_partials_free(struct tmpl_partials *ps)
{
	size_t	 i;

	if (ps == NULL)
		return;
	for (i = 0; i < ps->n; i++) {
		free(ps->v[i].name);
		tmpl_free(ps->v[i].t);
	}
	free(ps->v);
	free(ps->dir);
	free(ps);
}

static struct tmpl_partial *
partial_find(struct tmpl_partials *ps, const char *name)
{
	size_t	 i;

	for (i = 0; i < ps->n; i++)
		if (strcmp(ps->v[i].name, name) == 0)
			return &ps->v[i];
	return NULL;
}

static void
partial_store(struct tmpl_partials *ps, const char *name, struct tmpl *t)
{
	struct tmpl_partial	*pp;

	if ((pp = partial_find(ps, name)) != NULL) {
		tmpl_free(pp->t);
		pp->t = t;
		return;
	}
	ps->v = xreallocarray(ps->v, ps->n + 1, sizeof *ps->v);
	ps->v[ps->n].name = xstrdup(name);
	ps->v[ps->n].t = t;
	ps->n++;
}

int
tmpl_partials_add(struct tmpl_partials *ps, const char *name,
    const char *src, size_t len, char **cause)
{
	struct tmpl	*t;
	char		*why;

	if ((t = tmpl_parse(src, len, &why)) == NULL) {
		xasprintf(cause, "partial \"%s\": %s", name, why);
		free(why);
		return -1;
	}
	partial_store(ps, name, t);
	return 0;
}

/* Finds a partial, reading DIR/name.mustache the first time. */
static int
partial_get(struct tmpl_partials *ps, const char *name, struct tmpl **tp,
    char **cause)
{
	struct tmpl_partial	*pp;
	char			*path;

	*tp = NULL;
	if (ps == NULL)
		return 0;
	if ((pp = partial_find(ps, name)) != NULL) {
		*tp = pp->t;
		return 0;
	}
	if (strchr(name, '/') != NULL || name[0] == '.') {
		xasprintf(cause, "partial name \"%s\" is not allowed", name);
		return -1;
	}
	if (ps->dir == NULL) {
		partial_store(ps, name, NULL);
		return 0;
	}
	xasprintf(&path, "%s/%s.mustache", ps->dir, name);
	if (access(path, F_OK) == -1 && errno == ENOENT) {
		free(path);
		partial_store(ps, name, NULL);
		return 0;
	}
	*tp = tmpl_parse_file(path, cause);
	free(path);
	if (*tp == NULL)
		return -1;
	partial_store(ps, name, *tp);
	return 0;
}

static json_t *
lookup(const struct tmpl_render *r, const struct tmpl_node *n)
{
	json_t	*v = NULL;
	size_t	 i;

	if (n->nparts == 0)
		return r->n > 0 ? r->stack[r->n - 1] : NULL;
	for (i = r->n; i > 0; i--) {
		if (json_is_object(r->stack[i - 1]) &&
		    (v = json_object_get(r->stack[i - 1], n->parts[0])) != NULL)
			break;
	}
	/* The rest of a dotted name is looked up in that value only. */
	for (i = 1; v != NULL && i < n->nparts; i++)
		v = json_is_object(v) ? json_object_get(v, n->parts[i]) : NULL;
	return v;
}

static int
truthy(const json_t *v)
{
	if (v == NULL || json_is_null(v) || json_is_false(v))
		return 0;
	if (json_is_array(v))
		return json_array_size(v) > 0;
	if (json_is_string(v))
		return json_string_length(v) > 0;
	return 1;
}

static void
push(struct tmpl_render *r, json_t *v)
{
	if (r->n == r->cap) {
		r->cap = r->cap == 0 ? 16 : r->cap * 2;
		r->stack = xreallocarray(r->stack, r->cap, sizeof *r->stack);
	}
	r->stack[r->n++] = v;
}

static void
add_escaped(struct buf *out, const char *s, size_t len)
{
	const char	*run = s, *end = s + len, *rep;

	for (; s < end; s++) {
		switch (*s) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = "&quot;";
			break;
		case '\'':
			rep = "&#39;";
			break;
		default:
			continue;
		}
		buf_add(out, run, (size_t)(s - run));
		buf_adds(out, rep);
		run = s + 1;
	}
	buf_add(out, run, (size_t)(end - run));
}

/* The shortest decimal form that reads back as the same double. */
static void
format_real(double d, char *s, size_t size)
{
	int	 prec;

	for (prec = 1; prec <= 17; prec++) {
		snprintf(s, size, "%.*g", prec, d);
		if (strtod(s, NULL) == d)
			return;
	}
}

static void
interpolate(struct tmpl_render *r, const json_t *v, int escape)
{
	char	 num[64];

	if (json_is_string(v)) {
		if (escape)
			add_escaped(r->out, json_string_value(v),
			    json_string_length(v));
		else
			buf_add(r->out, json_string_value(v),
			    json_string_length(v));
	} else if (json_is_integer(v))
		buf_addf(r->out, "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
	else if (json_is_real(v)) {
		format_real(json_real_value(v), num, sizeof num);
		buf_adds(r->out, num);
	} else if (json_is_true(v))
		buf_adds(r->out, "true");
	else if (json_is_false(v))
		buf_adds(r->out, "false");
}

static int
render_section(struct tmpl_render *r, const struct tmpl_node *n,
    const char *indent, size_t ilen)
{
	json_t	*v = lookup(r, n);
	size_t	 i;
	int	 rc = 0;

	if (n->kind == TN_INVERTED)
		return truthy(v) ? 0 : render_list(r, &n->children, indent,
		    ilen);
	if (!truthy(v))
		return 0;
	if (!json_is_array(v)) {
		push(r, v);
		rc = render_list(r, &n->children, indent, ilen);
		r->n--;
		return rc;
	}
	for (i = 0; rc == 0 && i < json_array_size(v); i++) {
		push(r, json_array_get(v, i));
		rc = render_list(r, &n->children, indent, ilen);
		r->n--;
	}
	return rc;
}

static int
render_partial(struct tmpl_render *r, const struct tmpl_node *n,
    const char *indent, size_t ilen)
{
	struct tmpl	*t;
	char		*sub;
	int		 rc;

	if (partial_get(r->partials, n->name, &t, r->cause) == -1)
		return -1;
	if (t == NULL)
		return 0;
	if (r->depth >= TMPL_MAX_DEPTH) {
		xasprintf(r->cause, "line %d: partial \"%s\" nested more than "
		    "%d deep (does it include itself with no end?)", n->line,
		    n->name, TMPL_MAX_DEPTH);
		return -1;
	}
	r->depth++;
	if (!n->standalone)
		rc = render_list(r, &t->nodes, "", 0);
	else {
		/* Indentation adds up through nested standalone partials. */
		sub = xmalloc(ilen + n->len + 1);
		memcpy(sub, indent, ilen);
		memcpy(sub + ilen, n->text, n->len);
		sub[ilen + n->len] = '\0';
		rc = render_list(r, &t->nodes, sub, ilen + n->len);
		free(sub);
	}
	r->depth--;
	return rc;
}

/* Text, with the partial's indentation at the start of each line. */
static void
render_text(struct tmpl_render *r, const struct tmpl_node *n,
    const char *indent, size_t ilen)
{
	const char	*s = n->text, *end = n->text + n->len, *nl;

	if (ilen == 0) {
		buf_add(r->out, n->text, n->len);
		return;
	}
	if (n->line_start)
		buf_add(r->out, indent, ilen);
	while ((nl = memchr(s, '\n', (size_t)(end - s))) != NULL) {
		buf_add(r->out, s, (size_t)(nl + 1 - s));
		s = nl + 1;
		if (s < end)
			buf_add(r->out, indent, ilen);
	}
	buf_add(r->out, s, (size_t)(end - s));
}

static int
render_list(struct tmpl_render *r, const struct tmpl_list *l,
    const char *indent, size_t ilen)
{
	const struct tmpl_node	*n;
	size_t			 i;

	for (i = 0; i < l->n; i++) {
		n = &l->v[i];
		if (n->kind == TN_TEXT) {
			render_text(r, n, indent, ilen);
			continue;
		}
		if (ilen > 0 && n->line_start && !n->standalone)
			buf_add(r->out, indent, ilen);
		switch (n->kind) {
		case TN_VAR:
			interpolate(r, lookup(r, n), r->escape);
			break;
		case TN_RAW:
			interpolate(r, lookup(r, n), 0);
			break;
		case TN_SECTION:
		case TN_INVERTED:
			if (render_section(r, n, indent, ilen) == -1)
				return -1;
			break;
		case TN_PARTIAL:
			if (render_partial(r, n, indent, ilen) == -1)
				return -1;
			break;
		case TN_TEXT:
			break;
		}
	}
	return 0;
}

int
tmpl_render(const struct tmpl *t, json_t *data, struct tmpl_partials *ps,
    int escape_html, struct buf *out, char **cause)
{
	struct tmpl_render	 r;
	int			 rc;

	memset(&r, 0, sizeof r);
	r.partials = ps;
	r.escape = escape_html;
	r.out = out;
	r.cause = cause;
	if (data != NULL)
		push(&r, data);
	if (out->data == NULL)
		buf_add(out, "", 0);
	rc = render_list(&r, &t->nodes, "", 0);
	free(r.stack);
	return rc;
}
