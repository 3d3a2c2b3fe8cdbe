/*
 * CSV as spreadsheets write it (RFC 4180, plus what Excel and LibreOffice
 * do in practice): an optional UTF-8 BOM, CRLF or LF line ends, ',' or ';'
 * (or tab) separators, and quoted fields holding separators, doubled
 * quotes and line breaks. A bad record is reported with its line number
 * and skipped; parsing goes on with the next one.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "clarion.h"

#define CSV_FIELD_MAX	65536
#define CSV_FIELDS_MAX	1024

enum csv_fault {
	CSV_OK = 0,
	CSV_NUL,
	CSV_AFTER_QUOTE,
	CSV_TOO_LONG,
	CSV_TOO_MANY,
};

struct csv {
	const char	*p;
	const char	*end;
	char		 sep;
	size_t		 line;		/* physical line of p */
	size_t		 start;		/* line the current record starts on */
	struct buf	 row;		/* fields, each NUL-terminated */
	size_t		*offs;
	char		**fields;
	size_t		 nfields;
	size_t		 cap;
	enum csv_fault	 fault;
};

/* The separator the header line uses most: ',' ';' or tab. */
static char
csv_detect(const char *p, const char *end)
{
	size_t	 comma = 0, semi = 0, tab = 0;
	int	 quoted = 0;

	for (; p < end; p++) {
		if (*p == '"')
			quoted = !quoted;
		else if (quoted)
			continue;
		else if (*p == '\n' || *p == '\r')
			break;
		else if (*p == ',')
			comma++;
		else if (*p == ';')
			semi++;
		else if (*p == '\t')
			tab++;
	}
	if (semi > comma && semi >= tab)
		return ';';
	if (tab > comma && tab > semi)
		return '\t';
	return ',';
}

struct csv *
csv_new(const char *data, size_t len, char sep, char **cause)
{
	struct csv	*c;

	if (len >= 2 && (((unsigned char)data[0] == 0xff &&
	    (unsigned char)data[1] == 0xfe) || ((unsigned char)data[0] == 0xfe
	    && (unsigned char)data[1] == 0xff))) {
		xasprintf(cause, "the file is UTF-16; save it as \"CSV UTF-8\"");
		return NULL;
	}
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) {
		data += 3;
		len -= 3;
	}
	c = xcalloc(1, sizeof *c);
	c->p = data;
	c->end = data + len;
	c->line = 1;
	c->sep = sep != '\0' ? sep : csv_detect(c->p, c->end);
	buf_init(&c->row);
	return c;
}

char
csv_sep(const struct csv *c)
{
	return c->sep;
}

/* Where parsing stands: the data before it is no longer read. */
const char *
csv_pos(const struct csv *c)
{
	return c->p;
}

void
csv_free(struct csv *c)
{
	if (c == NULL)
		return;
	buf_free(&c->row);
	free(c->offs);
	free(c->fields);
	free(c);
}

static void
csv_addc(struct csv *c, size_t start, char ch)
{
	if (ch == '\0' && c->fault == CSV_OK)
		c->fault = CSV_NUL;
	if (c->row.len - start >= CSV_FIELD_MAX) {
		if (c->fault == CSV_OK)
			c->fault = CSV_TOO_LONG;
		return;
	}
	buf_addc(&c->row, ch);
}

/* A line end at p: CRLF, LF or a lone CR. Returns its length, or 0. */
static size_t
csv_eol(const struct csv *c, const char *p)
{
	if (p >= c->end)
		return 0;
	if (*p == '\n')
		return 1;
	if (*p == '\r')
		return p + 1 < c->end && p[1] == '\n' ? 2 : 1;
	return 0;
}

/* A quoted field; p is past the opening quote. -1 if it never closes. */
static int
csv_quoted(struct csv *c, size_t start)
{
	size_t	 n;

	for (;;) {
		if (c->p >= c->end)
			return -1;
		if (*c->p == '"') {
			if (c->p + 1 < c->end && c->p[1] == '"') {
				csv_addc(c, start, '"');
				c->p += 2;
				continue;
			}
			c->p++;
			break;
		}
		if ((n = csv_eol(c, c->p)) != 0) {
			/* A line break inside a cell is one LF. */
			csv_addc(c, start, '\n');
			c->p += n;
			c->line++;
			continue;
		}
		csv_addc(c, start, *c->p++);
	}
	/* Only a separator or the end of the record may follow. */
	while (c->p < c->end && *c->p != c->sep && csv_eol(c, c->p) == 0) {
		if (*c->p != ' ' && *c->p != '\t' && c->fault == CSV_OK)
			c->fault = CSV_AFTER_QUOTE;
		c->p++;
	}
	return 0;
}

static void
csv_unquoted(struct csv *c, size_t start)
{
	while (c->p < c->end && *c->p != c->sep && csv_eol(c, c->p) == 0)
		csv_addc(c, start, *c->p++);
}

static void
csv_push(struct csv *c, size_t start)
{
	if (c->nfields == CSV_FIELDS_MAX) {
		if (c->fault == CSV_OK)
			c->fault = CSV_TOO_MANY;
		c->row.len = start;
		return;
	}
	buf_addc(&c->row, '\0');
	if (c->nfields == c->cap) {
		c->cap = c->cap == 0 ? 16 : c->cap * 2;
		c->offs = xreallocarray(c->offs, c->cap, sizeof *c->offs);
		c->fields = xreallocarray(c->fields, c->cap,
		    sizeof *c->fields);
	}
	c->offs[c->nfields++] = start;
}

/* RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF. */
int
utf8_valid(const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s, *e = p + len;
	unsigned int		 cp, n, i;

	while (p < e) {
		if (*p < 0x80) {
			p++;
			continue;
		}
		if (*p >= 0xc2 && *p <= 0xdf)
			n = 1, cp = *p & 0x1f;
		else if (*p >= 0xe0 && *p <= 0xef)
			n = 2, cp = *p & 0x0f;
		else if (*p >= 0xf0 && *p <= 0xf4)
			n = 3, cp = *p & 0x07;
		else
			return 0;
		if ((size_t)(e - p) <= n)
			return 0;
		for (i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return 0;
		p += n + 1;
	}
	return 1;
}

static int
csv_fail(struct csv *c, size_t opened, char **cause)
{
	switch (c->fault) {
	case CSV_NUL:
		xasprintf(cause, "a NUL byte (is this really a CSV file?)");
		break;
	case CSV_AFTER_QUOTE:
		xasprintf(cause, "text after the closing quote of a field");
		break;
	case CSV_TOO_LONG:
		xasprintf(cause, "a field is longer than %d bytes",
		    CSV_FIELD_MAX);
		break;
	case CSV_TOO_MANY:
		xasprintf(cause, "more than %d fields", CSV_FIELDS_MAX);
		break;
	case CSV_OK:
		if (opened != c->start)
			xasprintf(cause, "a quoted field opened on line %zu is "
			    "never closed", opened);
		else
			xasprintf(cause, "a quoted field is never closed");
		break;
	}
	return -1;
}

/* Reads one record into fields; a bad one still ends at its record end. */
static int
csv_record(struct csv *c, char **cause)
{
	size_t	 start, opened, n;

	for (;;) {
		start = c->row.len;
		if (c->p < c->end && *c->p == '"') {
			opened = c->line;
			c->p++;
			if (csv_quoted(c, start) == -1) {
				c->fault = CSV_OK;
				return csv_fail(c, opened, cause);
			}
		} else
			csv_unquoted(c, start);
		csv_push(c, start);
		if (c->p >= c->end)
			break;
		if (*c->p == c->sep) {
			c->p++;
			continue;
		}
		n = csv_eol(c, c->p);
		c->p += n;
		c->line++;
		break;
	}
	return c->fault != CSV_OK ? csv_fail(c, 0, cause) : 0;
}

/*
 * The next record: 1 with row filled (valid until the next call), 0 at the
 * end, -1 for a bad record (row->line and *cause say where and why).
 * Blank lines are skipped.
 */
int
csv_next(struct csv *c, struct csv_row *row, char **cause)
{
	size_t	 i;

	memset(row, 0, sizeof *row);
	for (;;) {
		if (c->p >= c->end)
			return 0;
		row->line = c->start = c->line;
		buf_reset(&c->row);
		c->nfields = 0;
		c->fault = CSV_OK;
		if (csv_eol(c, c->p) != 0) {
			c->p += csv_eol(c, c->p);
			c->line++;
			continue;
		}
		if (csv_record(c, cause) == -1)
			return -1;
		break;
	}
	for (i = 0; i < c->nfields; i++) {
		c->fields[i] = c->row.data + c->offs[i];
		if (!utf8_valid(c->fields[i], strlen(c->fields[i]))) {
			xasprintf(cause, "invalid UTF-8 in field %zu (save the "
			    "file as \"CSV UTF-8\")", i + 1);
			return -1;
		}
	}
	row->fields = c->fields;
	row->nfields = c->nfields;
	return 1;
}

/*
 * Appends one field, quoted when it must be. A cell starting with = + - @
 * (or tab or CR) is prefixed with ' so a spreadsheet shows it as text
 * rather than running it as a formula (CSV injection).
 */
void
csv_quote(struct buf *b, const char *s, char sep)
{
	int	 formula, quote;

	formula = s[0] != '\0' && strchr("=+-@\t\r", s[0]) != NULL;
	quote = strchr(s, sep) != NULL || strpbrk(s, "\"\r\n") != NULL ||
	    s[0] == ' ' || (s[0] != '\0' && s[strlen(s) - 1] == ' ');
	if (quote)
		buf_addc(b, '"');
	if (formula)
		buf_addc(b, '\'');
	for (; *s != '\0'; s++) {
		if (*s == '"')
			buf_addc(b, '"');
		buf_addc(b, *s);
	}
	if (quote)
		buf_addc(b, '"');
}
