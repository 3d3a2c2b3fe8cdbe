/*
 * clarion sub import: members from a spreadsheet's CSV. Every bad row is
 * reported as FILE:LINE: reason; the good rows go in one transaction.
 * Someone who unsubscribed from the list, or whose address is suppressed,
 * is refused: an import never brings back a person who left.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "cli.h"

#define IMPORT_PROGRESS 10000
#define IMPORT_PARTIAL	1	/* some rows refused; the rest are in */

enum col_kind {
	COL_IGNORE,
	COL_ADDRESS,
	COL_NAME,
	COL_FIRST,
	COL_LAST,
	COL_ATTR,
};

struct col {
	enum col_kind	 kind;
	char		*key;		/* COL_ATTR */
};

/* Addresses already seen in this file, and on which line. */
struct seen {
	char	**keys;
	size_t	 *lines;
	size_t	  cap, n;
};

struct import {
	struct cli		*cli;
	const struct sub_opts	*o;
	const char		*file;
	struct list_info	 list;
	struct col		*cols;
	size_t			 ncols;
	struct sub_writer	*w;
	struct seen		 seen;
	json_t			*problems;
	size_t			 rows, added, updated, unchanged, merged;
	size_t			 unsub, suppressed, invalid;
};

static uint64_t
seen_hash(const char *s)
{
	uint64_t	 h = 1469598103934665603ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static void seen_put(struct seen *, char *, size_t);

static void
seen_grow(struct seen *s)
{
	struct seen	 old = *s;
	size_t		 i;

	s->cap = old.cap == 0 ? 1024 : old.cap * 2;
	s->keys = xcalloc(s->cap, sizeof *s->keys);
	s->lines = xcalloc(s->cap, sizeof *s->lines);
	s->n = 0;
	for (i = 0; i < old.cap; i++) {
		if (old.keys[i] != NULL)
			seen_put(s, old.keys[i], old.lines[i]);
	}
	free(old.keys);
	free(old.lines);
}

static void
seen_put(struct seen *s, char *key, size_t line)
{
	size_t	 i;

	if (2 * (s->n + 1) > s->cap)
		seen_grow(s);
	i = seen_hash(key) & (s->cap - 1);
	while (s->keys[i] != NULL)
		i = (i + 1) & (s->cap - 1);
	s->keys[i] = key;
	s->lines[i] = line;
	s->n++;
}

/* The line the address was first seen on, or 0 (and it is remembered). */
static size_t
seen_check(struct seen *s, const char *key, size_t line)
{
	size_t	 i;

	if (s->cap > 0) {
		i = seen_hash(key) & (s->cap - 1);
		for (; s->keys[i] != NULL; i = (i + 1) & (s->cap - 1)) {
			if (strcmp(s->keys[i], key) == 0)
				return s->lines[i];
		}
	}
	seen_put(s, xstrdup(key), line);
	return 0;
}

static void
seen_free(struct seen *s)
{
	size_t	 i;

	for (i = 0; i < s->cap; i++)
		free(s->keys[i]);
	free(s->keys);
	free(s->lines);
}

/* A copy safe to print: control characters become '?'. */
static char *
printable(const char *s)
{
	char	*p, *c = xstrdup(s);

	for (p = c; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	}
	return c;
}

static void PRINTFLIKE(4, 5)
imp_problem(struct import *im, size_t line, const char *kind,
    const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	if (im->cli->json)
		json_array_append_new(im->problems, json_pack("{s:I, s:s, "
		    "s:s}", "line", (json_int_t)line, "problem", kind,
		    "message", msg));
	else
		printf("%s:%zu: %s\n", im->file, line, msg);
	free(msg);
}

static int
key_in(const char *k, const char *const *set)
{
	for (; *set != NULL; set++) {
		if (strcmp(k, *set) == 0)
			return 1;
	}
	return 0;
}

static const char *const email_keys[] = { "email", "e_mail",
    "email_address", "e_mail_address", "mail", "email_addr", NULL };
static const char *const name_keys[] = { "name", "full_name", "fullname",
    NULL };
static const char *const first_keys[] = { "first_name", "firstname",
    "first", "forename", "forenames", "given_name", NULL };
static const char *const last_keys[] = { "last_name", "lastname", "last",
    "surname", "family_name", NULL };

/* What a column (or a --map target) means; key is normalised. */
static enum col_kind
col_kind_of(const char *key, int mapped)
{
	if (key == NULL || strcmp(key, "ignore") == 0)
		return COL_IGNORE;
	if (key_in(key, email_keys) || (mapped && strcmp(key, "address") == 0))
		return COL_ADDRESS;
	if (key_in(key, name_keys))
		return COL_NAME;
	if (key_in(key, first_keys))
		return COL_FIRST;
	if (key_in(key, last_keys))
		return COL_LAST;
	return COL_ATTR;
}

/* --map COLUMN=FIELD,...: the FIELD for a header cell, or NULL. */
static const char *
map_find(const char *map, const char *header, char **field, int *used)
{
	const char	*p, *eq, *end;
	size_t		 n, i = 0;

	*field = NULL;
	for (p = map; p != NULL && *p != '\0'; p = *end ? end + 1 : end, i++) {
		end = p + strcspn(p, ",");
		eq = memchr(p, '=', end - p);
		if (eq == NULL)
			continue;
		n = eq - p;
		if (strlen(header) == n && strncasecmp(p, header, n) == 0) {
			used[i] = 1;
			*field = xstrndup(eq + 1, end - eq - 1);
			return *field;
		}
	}
	return NULL;
}

static int
map_check(const char *map, const int *used, const char *file)
{
	const char	*p, *end;
	size_t		 i = 0;

	for (p = map; p != NULL && *p != '\0'; p = *end ? end + 1 : end, i++) {
		end = p + strcspn(p, ",");
		if (memchr(p, '=', end - p) == NULL) {
			cli_error(EX_USAGE, "--map: '%.*s' is not COLUMN=FIELD",
			    (int)(end - p), p);
			return -1;
		}
		if (!used[i]) {
			cli_error(EX_USAGE, "--map: %s has no column '%.*s'",
			    file, (int)strcspn(p, "="), p);
			return -1;
		}
	}
	return 0;
}

static void
col_set(struct col *c, const char *cell, const char *map, int *used)
{
	char	*field, *k;
	int	 mapped;

	mapped = map_find(map, cell, &field, used) != NULL;
	k = attr_key_normalize(mapped ? field : cell);	/* "-": NULL */
	free(field);
	c->kind = col_kind_of(k, mapped);
	c->key = c->kind == COL_ATTR ? k : NULL;
	if (c->kind != COL_ATTR)
		free(k);
}

/* Maps the header; an "address" column is the email only if none is. */
static int
imp_header(struct import *im, const struct csv_row *h)
{
	const char	*p;
	int		*used;
	size_t		 i, nmap = 1, naddr = 0, postal = SIZE_MAX;

	for (p = im->o->map; p != NULL && *p != '\0'; p++)
		nmap += *p == ',';
	im->ncols = h->nfields;
	im->cols = xcalloc(h->nfields, sizeof *im->cols);
	used = xcalloc(nmap, sizeof *used);
	for (i = 0; i < h->nfields; i++) {
		col_set(&im->cols[i], str_trim(h->fields[i]), im->o->map, used);
		if (im->cols[i].kind == COL_ADDRESS && naddr++ > 0)
			im->cols[i].kind = COL_IGNORE;
		if (im->cols[i].kind == COL_ATTR &&
		    strcmp(im->cols[i].key, "address") == 0 &&
		    postal == SIZE_MAX)
			postal = i;
	}
	if (naddr == 0 && postal != SIZE_MAX) {
		im->cols[postal].kind = COL_ADDRESS;
		naddr = 1;
	}
	if (map_check(im->o->map, used, im->file) == -1) {
		free(used);
		return EX_USAGE;
	}
	free(used);
	if (naddr == 0)
		return cli_error(EX_DATAERR, "%s: no email column in the header "
		    "line; name one 'email' or use --map COLUMN=email",
		    im->file);
	return EX_OK;
}

/* Collapses white space (line breaks too) to single spaces. */
static char *
clean_name(const char *first, const char *last)
{
	struct buf	 b;
	const char	*parts[2] = { first, last };
	const char	*p;
	int		 i, space = 0;

	buf_init(&b);
	for (i = 0; i < 2; i++) {
		for (p = parts[i]; p != NULL && *p != '\0'; p++) {
			if (isspace((unsigned char)*p) ||
			    (unsigned char)*p < 0x20) {
				space = 1;
				continue;
			}
			if (space && b.len > 0)
				buf_addc(&b, ' ');
			space = 0;
			buf_addc(&b, *p);
		}
		space = 1;
	}
	buf_addc(&b, '\0');
	return buf_steal(&b);
}

static int
row_blank(const struct csv_row *r)
{
	size_t	 i;

	for (i = 0; i < r->nfields; i++) {
		if (*str_trim(r->fields[i]) != '\0')
			return 0;
	}
	return 1;
}

/* Fills rec from the row; returns the raw address cell. */
static const char *
row_record(struct import *im, const struct csv_row *row,
    struct sub_record *rec, char **name)
{
	const char	*addr = "", *full = NULL, *first = NULL, *last = NULL;
	const char	*v;
	size_t		 i;

	rec->nattrs = 0;
	for (i = 0; i < im->ncols; i++) {
		v = str_trim(row->fields[i]);
		switch (im->cols[i].kind) {
		case COL_ADDRESS: addr = v; break;
		case COL_NAME: full = v; break;
		case COL_FIRST: first = v; break;
		case COL_LAST: last = v; break;
		case COL_IGNORE: break;
		case COL_ATTR:
			if (*v == '\0')
				break;
			rec->keys[rec->nattrs] = im->cols[i].key;
			rec->values[rec->nattrs++] = v;
			break;
		}
	}
	*name = full != NULL && *full != '\0' ? clean_name(full, NULL) :
	    clean_name(first, last);
	rec->name = *name;
	return addr;
}

static void
imp_result(struct import *im, size_t line, const char *a,
    enum sub_result res, const char *detail)
{
	size_t	 first;
	char	*lower, *p;

	if (res == SUB_REFUSED_UNSUBSCRIBED) {
		im->unsub++;
		imp_problem(im, line, "unsubscribed", "refused: %s unsubscribed "
		    "from %s earlier", a, im->list.name);
		return;
	}
	if (res == SUB_REFUSED_SUPPRESSED) {
		im->suppressed++;
		imp_problem(im, line, "suppressed", "refused: %s is suppressed "
		    "(%s)", a, detail != NULL ? detail : "");
		return;
	}
	/* Ann@ and ann@ are one person here, as in the database. */
	lower = xstrdup(a);
	for (p = lower; *p != '\0'; p++)
		*p = tolower((unsigned char)*p);
	first = seen_check(&im->seen, lower, line);
	free(lower);
	if (first != 0) {
		im->merged++;
		if (!im->cli->json)
			printf("%s:%zu: duplicate of line %zu, merged\n",
			    im->file, line, first);
		return;
	}
	if (res == SUB_ADDED)
		im->added++;
	else if (res == SUB_UPDATED)
		im->updated++;
	else
		im->unchanged++;
}

static int
imp_row(struct import *im, const struct csv_row *row, struct sub_record *rec)
{
	enum sub_result	 res;
	const char	*raw;
	char		*a, *name, *cause, *detail, *p;

	if (row->nfields != im->ncols) {
		im->invalid++;
		imp_problem(im, row->line, "fields", "wrong number of fields: "
		    "expected %zu, found %zu", im->ncols, row->nfields);
		return 0;
	}
	raw = row_record(im, row, rec, &name);
	if (*raw == '\0') {
		im->invalid++;
		imp_problem(im, row->line, "missing", "missing address");
		free(name);
		return 0;
	}
	rec->address = NULL;
	if (addr_normalize(raw, &a, &cause) == -1) {
		im->invalid++;
		p = printable(raw);
		imp_problem(im, row->line, "invalid", "invalid address \"%s\": "
		    "%s", p, cause);
		free(p);
		free(cause);
		free(name);
		return 0;
	}
	rec->address = a;
	if (db_sub_writer_put(im->w, rec, &res, &detail, &cause) == -1) {
		cli_error(EX_SOFTWARE, "%s:%zu: %s", im->file, row->line,
		    cause);
		free(cause);
		free(a);
		free(name);
		return -1;
	}
	imp_result(im, row->line, a, res, detail);
	free(detail);
	free(a);
	free(name);
	return 0;
}

static int
imp_rows(struct import *im, struct csv *c)
{
	struct sub_record	 rec;
	struct csv_row		 row;
	char			*cause;
	int			 rc;

	memset(&rec, 0, sizeof rec);
	rec.keys = xcalloc(im->ncols + 1, sizeof *rec.keys);
	rec.values = xcalloc(im->ncols + 1, sizeof *rec.values);
	while ((rc = csv_next(c, &row, &cause)) != 0) {
		if (rc == -1) {
			im->rows++;
			im->invalid++;
			imp_problem(im, row.line, "format", "%s", cause);
			free(cause);
			continue;
		}
		if (row_blank(&row))
			continue;
		if (++im->rows % IMPORT_PROGRESS == 0)
			fprintf(stderr, "%s: %zu rows\n", im->file, im->rows);
		if (imp_row(im, &row, &rec) == -1) {
			rc = -1;
			break;
		}
	}
	free(rec.keys);
	free(rec.values);
	return rc;
}

static void
imp_summary(struct import *im, int committed)
{
	size_t	 bad = im->unsub + im->suppressed + im->invalid;

	if (im->cli->json) {
		json_t *o = json_pack("{s:s, s:s, s:b, s:b, s:I, s:I, s:I, s:I, "
		    "s:I, s:I, s:I, s:I, s:O}", "file", im->file, "list",
		    im->list.name, "dry_run", im->o->dry_run, "committed",
		    committed, "rows", (json_int_t)im->rows, "added",
		    (json_int_t)im->added, "updated", (json_int_t)im->updated,
		    "unchanged", (json_int_t)im->unchanged, "merged",
		    (json_int_t)im->merged, "refused_unsubscribed",
		    (json_int_t)im->unsub, "refused_suppressed",
		    (json_int_t)im->suppressed, "invalid",
		    (json_int_t)im->invalid, "problems", im->problems);
		cli_json_print(o);
		json_decref(o);
		return;
	}
	printf("%s: %zu rows\n  added:      %zu\n  updated:    %zu\n"
	    "  unchanged:  %zu\n  merged:     %zu (duplicates within the "
	    "file)\n  refused:    %zu (%zu unsubscribed earlier, %zu "
	    "suppressed)\n  invalid:    %zu\n", im->file, im->rows, im->added,
	    im->updated, im->unchanged, im->merged, im->unsub + im->suppressed,
	    im->unsub, im->suppressed, im->invalid);
	if (im->o->dry_run)
		printf("dry run: nothing was written\n");
	else if (!committed)
		printf("strict: nothing was imported (%zu bad row%s)\n", bad,
		    bad == 1 ? "" : "s");
	else
		printf("imported into %s\n", im->list.name);
}

/*
 * 0: every row is in; IMPORT_PARTIAL (1): imported, but some rows were
 * refused or invalid (each is listed); 65: nothing was imported (every
 * row bad, or --strict kept the file out). A dry run answers the same
 * for what it would do.
 */
static int
imp_status(const struct import *im, int commit)
{
	size_t	 bad = im->unsub + im->suppressed + im->invalid;
	size_t	 good = im->added + im->updated + im->unchanged + im->merged;

	if (bad == 0)
		return EX_OK;
	if (good == 0 || (!commit && !im->o->dry_run))
		return EX_DATAERR;
	return IMPORT_PARTIAL;
}

struct imp_work {
	struct import		*im;
	struct csv		*c;
	const struct token_keys	*keys;
	const char		*source;
	char			**cause;
};

/* The rows in one unit of work: kept unless a dry run or strict refuses. */
static int
imp_write(struct db *db, void *arg)
{
	struct imp_work	*wk = arg;
	struct import	*im = wk->im;
	int		 rc;

	if ((im->w = db_sub_writer_new(db, wk->keys, im->list.id, wk->source,
	    im->o->consent, wk->cause)) == NULL)
		return -1;
	rc = imp_rows(im, wk->c);
	db_sub_writer_free(im->w);
	im->w = NULL;
	if (rc == -1)
		return -2;
	if (im->o->dry_run || (im->o->strict && im->unsub + im->suppressed +
	    im->invalid > 0))
		return DB_UNDO;
	return 0;
}

static int
imp_run(struct import *im, struct csv *c)
{
	struct imp_work		 wk;
	struct token_keys	 keys;
	struct csv_row		 hdr;
	const char		*base;
	char			*source, *cause = NULL;
	int			 rc, commit;

	if ((rc = csv_next(c, &hdr, &cause)) <= 0) {
		rc = cli_error(EX_DATAERR, "%s:1: %s", im->file, rc == 0 ?
		    "the file is empty" : cause);
		free(cause);
		return rc;
	}
	if ((rc = imp_header(im, &hdr)) != EX_OK)
		return rc;
	cli_keys(im->cli, &keys);
	base = strrchr(im->file, '/') != NULL ? strrchr(im->file, '/') + 1 :
	    im->file;
	xasprintf(&source, "import %s", base);
	memset(&wk, 0, sizeof wk);
	wk.im = im;
	wk.c = c;
	wk.keys = &keys;
	wk.source = source;
	wk.cause = &cause;
	rc = db_atomic(cli_db(im->cli), imp_write, &wk, &cause);
	free(source);
	if (rc == -2) {		/* imp_rows said why */
		free(cause);
		return EX_SOFTWARE;
	}
	if (rc == -1)
		return cli_fail(EX_SOFTWARE, &cause);
	commit = rc == 0;
	imp_summary(im, commit);
	return imp_status(im, commit);
}

int
cli_sub_import(struct cli *cli, void *vo, int argc, char **argv)
{
	const char *file = argv[0];
	const struct sub_opts *o = vo;
	struct import	 im;
	struct csv	*c;
	char		*data, *cause;
	size_t		 len, i;
	int		 rc;

	if (o->list == NULL)
		return cli_error(EX_USAGE, "import needs --list NAME");
	if (o->consent != NULL && str_has_ctl(o->consent))
		return cli_error(EX_DATAERR, "the consent text may not hold "
		    "control characters");
	memset(&im, 0, sizeof im);
	im.cli = cli;
	im.o = o;
	im.file = file;
	if (cli_list_lookup(cli, o->list, &im.list) == -1)
		return EX_DATAERR;
	if ((data = file_read(file, &len, &cause)) == NULL) {
		list_info_free(&im.list);
		rc = cli_error(EX_NOINPUT, "%s", cause);
		free(cause);
		return rc;
	}
	if ((c = csv_new(data, len, 0, &cause)) == NULL) {
		rc = cli_error(EX_DATAERR, "%s: %s", file, cause);
		free(cause);
	} else {
		im.problems = json_array();
		rc = imp_run(&im, c);
		json_decref(im.problems);
	}
	csv_free(c);
	for (i = 0; i < im.ncols; i++)
		free(im.cols[i].key);
	free(im.cols);
	seen_free(&im.seen);
	list_info_free(&im.list);
	explicit_zero(data, len);
	free(data);
	return rc;
}
