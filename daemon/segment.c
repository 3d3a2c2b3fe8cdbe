/*
 * Segments: which members of a list an item goes to, as a small
 * expression over their attributes:
 *
 *	ward = 'Hillside' and (union != 'GMB' or has branch)
 *	ward in ('Hillside', "St Mark's") and not name = ''
 *
 * Parsed here by recursive descent into a tree and evaluated in C against
 * each subscriber: a segment never becomes SQL. Comparisons ignore ASCII
 * case; a missing attribute compares as the empty string.
 *
 *	expr	:= and ('or' and)*
 *	and	:= unary ('and' unary)*
 *	unary	:= 'not' unary | primary
 *	primary	:= '(' expr ')' | 'has' FIELD | FIELD ('=' | '!=' | '<>') VALUE
 *		 | FIELD ['not'] 'in' '(' VALUE (',' VALUE)* ')'
 *	VALUE	:= '...' | "..."  (a doubled quote stands for itself)
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "clarion.h"

#define SEGMENT_DEPTH_MAX 64
#define SEGMENT_LEN_MAX	4096

enum seg_tok {
	TOK_END,
	TOK_IDENT,
	TOK_STRING,
	TOK_LPAREN,
	TOK_RPAREN,
	TOK_COMMA,
	TOK_EQ,
	TOK_NE,
};

enum seg_op {
	SEG_OR,
	SEG_AND,
	SEG_NOT,
	SEG_EQ,
	SEG_NE,
	SEG_IN,
	SEG_HAS,
};

struct segment {
	enum seg_op	 op;
	struct segment	*left, *right;	/* OR, AND; NOT uses left */
	char		*field;		/* EQ, NE, IN, HAS */
	char		**values;	/* EQ, NE: one; IN: nvalues */
	size_t		 nvalues;
};

struct seg_parser {
	const char	*src;
	const char	*p;
	enum seg_tok	 tok;
	const char	*tok_start;
	char		*text;		/* IDENT (normalised) or STRING value */
	int		 depth;
	char		*cause;
};

/*
 * An attribute key as stored and as written in a segment: lower-case
 * ASCII, runs of spaces and punctuation become one '_'. "Ward Name" and
 * "ward-name" are the same key. NULL if nothing is left.
 */
char *
attr_key_normalize(const char *in)
{
	struct buf	 b;
	int		 pending = 0;

	buf_init(&b);
	for (; *in != '\0'; in++) {
		unsigned char c = *in;

		if (isalnum(c) || c >= 0x80 || c == '_') {
			if (pending && b.len > 0)
				buf_addc(&b, '_');
			pending = 0;
			buf_addc(&b, c >= 0x80 ? c : tolower(c));
		} else
			pending = 1;
	}
	if (b.len == 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

/* "1:12": the line and the column (in characters) of p. */
static void
seg_error(struct seg_parser *sp, const char *at, const char *fmt, ...)
{
	const char	*q;
	char		*msg;
	int		 line = 1, col = 1;
	va_list		 ap;

	if (sp->cause != NULL)
		return;
	for (q = sp->src; q < at; q++) {
		if (*q == '\n') {
			line++;
			col = 1;
		} else if (((unsigned char)*q & 0xc0) != 0x80)
			col++;
	}
	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	xasprintf(&sp->cause, "segment: %d:%d: %s", line, col, msg);
	free(msg);
}

static int
seg_identc(unsigned char c, int first)
{
	return isalnum(c) || c == '_' || c >= 0x80 ||
	    (!first && (c == '-' || c == '.'));
}

static int
seg_string(struct seg_parser *sp)
{
	struct buf	 b;
	char		 q = *sp->p++;

	buf_init(&b);
	for (;;) {
		if (*sp->p == '\0') {
			buf_free(&b);
			seg_error(sp, sp->tok_start, "a quoted value is not "
			    "closed (missing %c)", q);
			return -1;
		}
		if (*sp->p == q) {
			if (sp->p[1] != q)
				break;
			sp->p++;
		}
		buf_addc(&b, *sp->p++);
	}
	sp->p++;
	buf_addc(&b, '\0');
	sp->text = buf_steal(&b);
	sp->tok = TOK_STRING;
	return 0;
}

static int
seg_next(struct seg_parser *sp)
{
	const char	*s;

	free(sp->text);
	sp->text = NULL;
	while (isspace((unsigned char)*sp->p))
		sp->p++;
	sp->tok_start = s = sp->p;
	switch (*s) {
	case '\0':
		sp->tok = TOK_END;
		return 0;
	case '(':
		sp->tok = TOK_LPAREN;
		break;
	case ')':
		sp->tok = TOK_RPAREN;
		break;
	case ',':
		sp->tok = TOK_COMMA;
		break;
	case '=':
		sp->tok = TOK_EQ;
		break;
	case '\'':
	case '"':
		return seg_string(sp);
	case '!':
	case '<':
		if (s[1] == (*s == '!' ? '=' : '>')) {
			sp->tok = TOK_NE;
			sp->p += 2;
			return 0;
		}
		/* FALLTHROUGH */
	default:
		if (!seg_identc(*s, 1)) {
			if (isprint((unsigned char)*s))
				seg_error(sp, s, "unexpected '%c'", *s);
			else
				seg_error(sp, s, "unexpected byte 0x%02x",
				    (unsigned char)*s);
			return -1;
		}
		while (seg_identc(*sp->p, sp->p == s))
			sp->p++;
		sp->text = xstrndup(s, sp->p - s);
		sp->tok = TOK_IDENT;
		return 0;
	}
	sp->p++;
	return 0;
}

/* What was found, for messages: 'ward', the end, or the character. */
static char *
seg_found(struct seg_parser *sp)
{
	char	*s;

	if (sp->tok == TOK_END)
		return xstrdup("the end");
	if (sp->tok == TOK_STRING)
		xasprintf(&s, "the value '%s'", sp->text);
	else if (sp->tok == TOK_IDENT)
		xasprintf(&s, "'%s'", sp->text);
	else
		xasprintf(&s, "'%.*s'", sp->tok == TOK_NE ? 2 : 1,
		    sp->tok_start);
	return s;
}

static void
seg_expected(struct seg_parser *sp, const char *what)
{
	char	*found = seg_found(sp);

	seg_error(sp, sp->tok_start, "expected %s, found %s", what, found);
	free(found);
}

static int
seg_keyword(struct seg_parser *sp, const char *kw)
{
	return sp->tok == TOK_IDENT && strcasecmp(sp->text, kw) == 0;
}

static struct segment *
seg_node(enum seg_op op, struct segment *l, struct segment *r)
{
	struct segment	*n = xcalloc(1, sizeof *n);

	n->op = op;
	n->left = l;
	n->right = r;
	return n;
}

static struct segment *seg_or(struct seg_parser *);

static int
seg_value(struct seg_parser *sp, struct segment *n)
{
	if (sp->tok != TOK_STRING) {
		seg_expected(sp, "a quoted value");
		return -1;
	}
	n->values = xreallocarray(n->values, n->nvalues + 1,
	    sizeof *n->values);
	n->values[n->nvalues++] = sp->text;
	sp->text = NULL;
	return seg_next(sp);
}

static int
seg_in_list(struct seg_parser *sp, struct segment *n)
{
	if (sp->tok != TOK_LPAREN) {
		seg_expected(sp, "'(' after 'in'");
		return -1;
	}
	do {
		if (seg_next(sp) == -1 || seg_value(sp, n) == -1)
			return -1;
	} while (sp->tok == TOK_COMMA);
	if (sp->tok != TOK_RPAREN) {
		seg_expected(sp, "',' or ')'");
		return -1;
	}
	return seg_next(sp);
}

static int
seg_field(struct seg_parser *sp, struct segment *n)
{
	static const char *const reserved[] = { "and", "or", "not", "in",
	    "has" };
	size_t	 i;

	for (i = 0; sp->tok == TOK_IDENT && i < nitems(reserved); i++) {
		if (strcasecmp(sp->text, reserved[i]) == 0)
			break;
	}
	if (sp->tok != TOK_IDENT || i < nitems(reserved) ||
	    (n->field = attr_key_normalize(sp->text)) == NULL) {
		seg_expected(sp, "a field name");
		return -1;
	}
	return seg_next(sp);
}

static struct segment *
seg_compare(struct seg_parser *sp)
{
	struct segment	*n = seg_node(SEG_EQ, NULL, NULL);
	int		 negate = 0;

	if (seg_field(sp, n) == -1)
		goto fail;
	if (sp->tok == TOK_EQ || sp->tok == TOK_NE) {
		n->op = sp->tok == TOK_EQ ? SEG_EQ : SEG_NE;
		if (seg_next(sp) == -1 || seg_value(sp, n) == -1)
			goto fail;
		return n;
	}
	if (seg_keyword(sp, "not")) {
		negate = 1;
		if (seg_next(sp) == -1)
			goto fail;
	}
	if (!seg_keyword(sp, "in")) {
		seg_expected(sp, negate ? "'in'" : "'=', '!=' or 'in'");
		goto fail;
	}
	n->op = SEG_IN;
	if (seg_next(sp) == -1 || seg_in_list(sp, n) == -1)
		goto fail;
	return negate ? seg_node(SEG_NOT, n, NULL) : n;
fail:
	segment_free(n);
	return NULL;
}

static struct segment *
seg_primary(struct seg_parser *sp)
{
	struct segment	*n;

	if (sp->tok == TOK_LPAREN) {
		if (seg_next(sp) == -1 || (n = seg_or(sp)) == NULL)
			return NULL;
		if (sp->tok != TOK_RPAREN) {
			seg_expected(sp, "')'");
			segment_free(n);
			return NULL;
		}
		if (seg_next(sp) == -1) {
			segment_free(n);
			return NULL;
		}
		return n;
	}
	if (seg_keyword(sp, "has")) {
		n = seg_node(SEG_HAS, NULL, NULL);
		if (seg_next(sp) == -1 || seg_field(sp, n) == -1) {
			segment_free(n);
			return NULL;
		}
		return n;
	}
	return seg_compare(sp);
}

static struct segment *
seg_unary(struct seg_parser *sp)
{
	struct segment	*n;

	if (++sp->depth > SEGMENT_DEPTH_MAX) {
		seg_error(sp, sp->tok_start, "nested too deeply");
		return NULL;
	}
	if (seg_keyword(sp, "not")) {
		if (seg_next(sp) == -1 || (n = seg_unary(sp)) == NULL)
			return NULL;
		n = seg_node(SEG_NOT, n, NULL);
	} else
		n = seg_primary(sp);
	sp->depth--;
	return n;
}

static struct segment *
seg_and(struct seg_parser *sp)
{
	struct segment	*l, *r;

	if ((l = seg_unary(sp)) == NULL)
		return NULL;
	while (seg_keyword(sp, "and")) {
		if (seg_next(sp) == -1 || (r = seg_unary(sp)) == NULL) {
			segment_free(l);
			return NULL;
		}
		l = seg_node(SEG_AND, l, r);
	}
	return l;
}

static struct segment *
seg_or(struct seg_parser *sp)
{
	struct segment	*l, *r;

	if ((l = seg_and(sp)) == NULL)
		return NULL;
	while (seg_keyword(sp, "or")) {
		if (seg_next(sp) == -1 || (r = seg_and(sp)) == NULL) {
			segment_free(l);
			return NULL;
		}
		l = seg_node(SEG_OR, l, r);
	}
	return l;
}

/*
 * Parses a segment expression. NULL with *cause ("segment: 1:12: expected
 * a quoted value, found 'Hillside'") if it is not one. An empty or blank
 * expression is an error here: callers treat "" as "everyone" themselves.
 */
struct segment *
segment_parse(const char *expr, char **cause)
{
	struct seg_parser	 sp;
	struct segment		*n = NULL;

	/* and/or chains build deep trees; matching recurses over them. */
	if (strlen(expr) > SEGMENT_LEN_MAX) {
		xasprintf(cause, "segment: longer than %d characters",
		    SEGMENT_LEN_MAX);
		return NULL;
	}
	memset(&sp, 0, sizeof sp);
	sp.src = sp.p = expr;
	if (seg_next(&sp) == 0) {
		if (sp.tok == TOK_END)
			seg_error(&sp, sp.tok_start, "empty expression");
		else if ((n = seg_or(&sp)) != NULL && sp.tok != TOK_END) {
			seg_expected(&sp, "'and', 'or' or the end");
			segment_free(n);
			n = NULL;
		}
	}
	free(sp.text);
	if (n == NULL) {
		*cause = sp.cause != NULL ? sp.cause :
		    xstrdup("segment: invalid expression");
		return NULL;
	}
	return n;
}

void
segment_free(struct segment *n)
{
	size_t	 i;

	if (n == NULL)
		return;
	segment_free(n->left);
	segment_free(n->right);
	for (i = 0; i < n->nvalues; i++)
		free(n->values[i]);
	free(n->values);
	free(n->field);
	free(n);
}

/* Fields every subscriber has, whatever their attributes. */
static int
seg_builtin(const char *field)
{
	return strcmp(field, "address") == 0 || strcmp(field, "email") == 0 ||
	    strcmp(field, "name") == 0;
}

/*
 * Edit distance with adjacent transpositions counted as one edit, so
 * "wrad" is one step from "ward".
 */
static size_t
seg_distance(const char *a, const char *b)
{
	size_t	 la = strlen(a), lb = strlen(b), i, j, c, *d, v;

	d = xcalloc((la + 1) * (lb + 1), sizeof *d);
#define D(x, y) d[(x) * (lb + 1) + (y)]
	for (i = 0; i <= la; i++)
		D(i, 0) = i;
	for (j = 0; j <= lb; j++)
		D(0, j) = j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			c = a[i - 1] != b[j - 1];
			v = D(i - 1, j - 1) + c;
			if (D(i - 1, j) + 1 < v)
				v = D(i - 1, j) + 1;
			if (D(i, j - 1) + 1 < v)
				v = D(i, j - 1) + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && D(i - 2, j - 2) + 1 < v)
				v = D(i - 2, j - 2) + 1;
			D(i, j) = v;
		}
	}
	v = D(la, lb);
#undef D
	free(d);
	return v;
}

/* The known name nearest to field, if near enough to be a typo. */
static const char *
seg_nearest(const char *field, char *const *known, size_t nknown)
{
	static const char *const builtin[] = { "address", "email", "name" };
	const char	*best = NULL;
	size_t		 i, d, bestd = (size_t)-1, limit;

	limit = strlen(field) < 6 ? 2 : strlen(field) / 3 + 1;
	for (i = 0; i < nknown + nitems(builtin); i++) {
		const char *k = i < nknown ? known[i] : builtin[i - nknown];

		if ((d = seg_distance(field, k)) < bestd) {
			bestd = d;
			best = k;
		}
	}
	return bestd <= limit ? best : NULL;
}

/*
 * Whether every attribute the segment names is one some member has
 * (known: the list's attribute keys; address, email and name always
 * are). A typo would otherwise quietly match everyone (!=) or no one
 * (=). -1 with *cause naming each unknown one and the nearest known.
 */
int
segment_check_attrs(const struct segment *seg, char *const *known,
    size_t nknown, char **cause)
{
	struct buf	 b;
	const char	*near;
	char		**unknown;
	size_t		 i, n;

	if ((n = segment_unknown_attrs(seg, known, nknown, &unknown)) == 0)
		return 0;
	buf_init(&b);
	for (i = 0; i < n; i++) {
		buf_addf(&b, "%sno member has the attribute '%s'",
		    i > 0 ? "; " : "", unknown[i]);
		if ((near = seg_nearest(unknown[i], known, nknown)) != NULL)
			buf_addf(&b, " (did you mean %s?)", near);
		free(unknown[i]);
	}
	free(unknown);
	xasprintf(cause, "segment: %s", b.data);
	buf_free(&b);
	return -1;
}

static const char *
seg_lookup(const char *field, const char *address, const char *name,
    json_t *attrs)
{
	const char	*v;

	if (strcmp(field, "address") == 0 || strcmp(field, "email") == 0)
		return address != NULL ? address : "";
	if (strcmp(field, "name") == 0)
		return name != NULL ? name : "";
	if (attrs == NULL ||
	    (v = json_string_value(json_object_get(attrs, field))) == NULL)
		return "";
	return v;
}

/* 1 if the subscriber (attrs: a JSON object of strings) is selected. */
int
segment_match(const struct segment *n, const char *address, const char *name,
    json_t *attrs)
{
	const char	*v;
	size_t		 i;

	switch (n->op) {
	case SEG_OR:
		return segment_match(n->left, address, name, attrs) ||
		    segment_match(n->right, address, name, attrs);
	case SEG_AND:
		return segment_match(n->left, address, name, attrs) &&
		    segment_match(n->right, address, name, attrs);
	case SEG_NOT:
		return !segment_match(n->left, address, name, attrs);
	case SEG_HAS:
		return *seg_lookup(n->field, address, name, attrs) != '\0';
	case SEG_EQ:
	case SEG_NE:
		v = seg_lookup(n->field, address, name, attrs);
		return (strcasecmp(v, n->values[0]) == 0) == (n->op == SEG_EQ);
	case SEG_IN:
		v = seg_lookup(n->field, address, name, attrs);
		for (i = 0; i < n->nvalues; i++) {
			if (strcasecmp(v, n->values[i]) == 0)
				return 1;
		}
		return 0;
	}
	return 0;
}

static void
unknown_collect(const struct segment *n, char *const *known, size_t nknown,
    char ***out, size_t *nout)
{
	size_t	 i;

	if (n == NULL)
		return;
	unknown_collect(n->left, known, nknown, out, nout);
	unknown_collect(n->right, known, nknown, out, nout);
	if (n->field == NULL || seg_builtin(n->field))
		return;
	for (i = 0; i < nknown; i++)
		if (strcmp(known[i], n->field) == 0)
			return;
	for (i = 0; i < *nout; i++)
		if (strcmp((*out)[i], n->field) == 0)
			return;
	*out = xreallocarray(*out, *nout + 1, sizeof **out);
	(*out)[(*nout)++] = xstrdup(n->field);
}

/*
 * The attributes seg names that are neither built in (address, email,
 * name) nor among known (normalised keys, as db_attr_keys gives them):
 * each once, in *out, which the caller frees. Returns how many. Such a
 * name compares as empty for everyone, so the segment matches all or none.
 */
size_t
segment_unknown_attrs(const struct segment *seg, char *const *known,
    size_t nknown, char ***out)
{
	size_t	 n = 0;

	*out = NULL;
	unknown_collect(seg, known, nknown, out, &n);
	return n;
}
