/*
 * clarion sub import: members from a spreadsheet's CSV. Every bad row is
 * reported as FILE:LINE: reason. The file is read through a mapping and
 * the rows go in in batches, each its own unit of work of at most
 * IMPORT_BATCH_ROWS rows or IMPORT_BATCH_MS, so memory stays flat in the
 * number of rows and the write lock is released between batches: the
 * daemon and other officers' commands go on during a long import. A dry
 * run or a strict import is all-or-nothing and keeps one transaction.
 * Someone who unsubscribed from the list, or whose address is suppressed,
 * is refused: an import never brings back a person who left.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"

#define IMPORT_BATCH_ROWS 20000	/* rows in one unit of work, at most */
#define IMPORT_BATCH_MS	500	/* and how long it may hold the lock */
#define IMPORT_PAUSE_MS	110	/* lock left free between batches */
#define IMPORT_PROGRESS_MS 1000
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

struct import {
	struct cli		*cli;
	const struct sub_opts	*o;
	const char		*file;
	struct list_info	 list;
	struct col		*cols;
	size_t			 ncols;
	struct sub_writer	*w;
	struct csv		*c;
	const char		*data;		/* the mapped file */
	char			*owned;		/* or read, when not mappable */
	size_t			 len;
	size_t			 dropped;	/* bytes given back */
	int			 eof, progress, batched;
	uint64_t		 shown;		/* ms of the last progress */
	json_t			*problems;
	size_t			 rows, added, updated, unchanged, merged;
	size_t			 unsub, suppressed, invalid;
};

static uint64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
imp_progress(struct import *im, int last)
{
	uint64_t	 t;

	if (!im->progress)
		return;
	t = now_ms();
	if (!last && t - im->shown < IMPORT_PROGRESS_MS)
		return;
	im->shown = t;
	fprintf(stderr, "%s: %zu rows read, %zu added, %zu refused%s",
	    im->file, im->rows, im->added, im->unsub + im->suppressed +
	    im->invalid, last ? "\n" : isatty(STDERR_FILENO) ? "\r" : "\n");
}

static void
imp_pause(void)
{
	struct timespec	 ts = { 0, IMPORT_PAUSE_MS * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/*
 * Gives back the pages of the mapping already parsed, so the resident
 * size does not grow with the file (they are read again from it only if
 * touched, which the parser never does).
 */
static void
imp_drop(struct import *im)
{
	size_t	 page = (size_t)sysconf(_SC_PAGESIZE);
	size_t	 done = (size_t)(csv_pos(im->c) - im->data) / page * page;

	if (im->owned == NULL && done > im->dropped) {
		madvise((char *)im->data + im->dropped, done - im->dropped,
		    MADV_DONTNEED);
		im->dropped = done;
	}
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

static int
imp_result(struct import *im, size_t line, const char *a,
    enum sub_result res, const char *detail, char **causep)
{
	size_t	 first;
	char	*lower, *p;

	if (res == SUB_REFUSED_UNSUBSCRIBED) {
		im->unsub++;
		imp_problem(im, line, "unsubscribed", "refused: %s unsubscribed "
		    "from %s earlier", a, im->list.name);
		return 0;
	}
	if (res == SUB_REFUSED_SUPPRESSED) {
		im->suppressed++;
		imp_problem(im, line, "suppressed", "refused: %s is suppressed "
		    "(%s)", a, detail != NULL ? detail : "");
		return 0;
	}
	/* Ann@ and ann@ are one person here, as in the database. */
	lower = xstrdup(a);
	for (p = lower; *p != '\0'; p++)
		*p = tolower((unsigned char)*p);
	if (db_sub_seen(cli_db(im->cli), lower, line, &first, causep) == -1) {
		free(lower);
		return -1;
	}
	free(lower);
	if (first != 0) {
		im->merged++;
		if (!im->cli->json)
			printf("%s:%zu: duplicate of line %zu, merged\n",
			    im->file, line, first);
		return 0;
	}
	if (res == SUB_ADDED)
		im->added++;
	else if (res == SUB_UPDATED)
		im->updated++;
	else
		im->unchanged++;
	return 0;
}

static int
imp_row(struct import *im, const struct csv_row *row, struct sub_record *rec)
{
	enum sub_result	 res;
	const char	*raw;
	char		*a, *name, *cause, *detail, *p;
	int		 rc;

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
	rc = imp_result(im, row->line, a, res, detail, &cause);
	free(detail);
	if (rc == -1) {
		cli_error(EX_SOFTWARE, "%s:%zu: %s", im->file, row->line,
		    cause);
		free(cause);
		free(a);
		free(name);
		return -1;
	}
	free(a);
	free(name);
	return 0;
}

/*
 * Rows until the end of the file or, when batched, until the batch is
 * full: 1 more rows wait, 0 the end, -1 an error (said).
 */
static int
imp_rows(struct import *im)
{
	struct sub_record	 rec;
	struct csv_row		 row;
	char			*cause;
	uint64_t		 start = now_ms();
	size_t			 n = 0;
	int			 rc;

	memset(&rec, 0, sizeof rec);
	rec.keys = xcalloc(im->ncols + 1, sizeof *rec.keys);
	rec.values = xcalloc(im->ncols + 1, sizeof *rec.values);
	for (;;) {
		if (im->batched && (n >= IMPORT_BATCH_ROWS ||
		    now_ms() - start >= IMPORT_BATCH_MS)) {
			rc = 1;
			break;
		}
		if ((rc = csv_next(im->c, &row, &cause)) == 0)
			break;
		n++;
		if (rc == -1) {
			im->rows++;
			im->invalid++;
			imp_problem(im, row.line, "format", "%s", cause);
			free(cause);
			continue;
		}
		if (row_blank(&row))
			continue;
		im->rows++;
		imp_progress(im, 0);
		if (imp_row(im, &row, &rec) == -1) {
			rc = -1;
			break;
		}
		if ((n & 255) == 0)
			imp_drop(im);
	}
	imp_drop(im);
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
	const struct token_keys	*keys;
	const char		*source;
	char			**cause;
	int			 more;
};

/*
 * One unit of work: a batch, or all the rows of an all-or-nothing import
 * (kept unless a dry run, or strict with a bad row).
 */
static int
imp_write(struct db *db, void *arg)
{
	struct imp_work	*wk = arg;
	struct import	*im = wk->im;
	int		 rc;

	if ((im->w = db_sub_writer_new(db, wk->keys, im->list.id, wk->source,
	    im->o->consent, wk->cause)) == NULL)
		return -1;
	rc = imp_rows(im);
	db_sub_writer_free(im->w);
	im->w = NULL;
	if (rc == -1)
		return -2;
	wk->more = rc == 1;
	if (im->batched)
		return 0;
	if (im->o->dry_run || (im->o->strict && im->unsub + im->suppressed +
	    im->invalid > 0))
		return DB_UNDO;
	return 0;
}

static int
imp_run(struct import *im)
{
	struct imp_work		 wk;
	struct token_keys	 keys;
	struct csv_row		 hdr;
	const char		*base;
	char			*source, *cause = NULL;
	int			 rc, commit;

	if ((rc = csv_next(im->c, &hdr, &cause)) <= 0) {
		rc = cli_error(EX_DATAERR, "%s:1: %s", im->file, rc == 0 ?
		    "the file is empty" : cause);
		free(cause);
		return rc;
	}
	if ((rc = imp_header(im, &hdr)) != EX_OK)
		return rc;
	if (db_sub_seen_open(cli_db(im->cli), &cause) == -1)
		return cli_fail(EX_SOFTWARE, &cause);
	cli_keys(im->cli, &keys);
	base = strrchr(im->file, '/') != NULL ? strrchr(im->file, '/') + 1 :
	    im->file;
	xasprintf(&source, "import %s", base);
	memset(&wk, 0, sizeof wk);
	wk.im = im;
	wk.keys = &keys;
	wk.source = source;
	wk.cause = &cause;
	im->batched = !im->o->dry_run && !im->o->strict;
	/*
	 * A writer waiting for the lock polls every 100 ms (SQLite's busy
	 * handler), so taking it again at once would starve it: the pause
	 * is what lets `clarion sub add` or the daemon in between batches.
	 */
	for (;;) {
		wk.more = 0;
		rc = db_atomic(cli_db(im->cli), imp_write, &wk, &cause);
		if (rc != 0 || !wk.more)
			break;
		imp_pause();
	}
	free(source);
	imp_progress(im, 1);
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

/* The file mapped read-only; an empty file maps to "". */
static int
imp_map(struct import *im, char **cause)
{
	struct stat	 sb;
	void		*p;
	int		 fd;

	if ((fd = open(im->file, O_RDONLY)) == -1 || fstat(fd, &sb) == -1) {
		xasprintf(cause, "%s: %s", im->file, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	if (!S_ISREG(sb.st_mode)) {	/* a pipe: read whole, as before */
		close(fd);
		if ((im->owned = file_read(im->file, &im->len, cause)) == NULL)
			return -1;
		im->data = im->owned;
		return 0;
	}
	im->len = (size_t)sb.st_size;
	if (im->len == 0) {
		close(fd);
		im->data = "";
		return 0;
	}
	p = mmap(NULL, im->len, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		xasprintf(cause, "%s: %s", im->file, strerror(errno));
		return -1;
	}
	madvise(p, im->len, MADV_SEQUENTIAL);
	im->data = p;
	return 0;
}

int
cli_sub_import(struct cli *cli, void *vo, int argc, char **argv)
{
	const char *file = argv[0];
	const struct sub_opts *o = vo;
	struct import	 im;
	char		*cause;
	size_t		 i;
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
	im.progress = o->progress || isatty(STDERR_FILENO);
	if (cli_list_lookup(cli, o->list, &im.list) == -1)
		return EX_DATAERR;
	if (imp_map(&im, &cause) == -1) {
		list_info_free(&im.list);
		rc = cli_error(EX_NOINPUT, "%s", cause);
		free(cause);
		return rc;
	}
	if ((im.c = csv_new(im.data, im.len, 0, &cause)) == NULL) {
		rc = cli_error(EX_DATAERR, "%s: %s", file, cause);
		free(cause);
	} else {
		im.problems = json_array();
		rc = imp_run(&im);
		json_decref(im.problems);
	}
	csv_free(im.c);
	for (i = 0; i < im.ncols; i++)
		free(im.cols[i].key);
	free(im.cols);
	list_info_free(&im.list);
	if (im.owned != NULL) {
		explicit_zero(im.owned, im.len);
		free(im.owned);
	} else if (im.len > 0)
		munmap((void *)im.data, im.len);
	return rc;
}
