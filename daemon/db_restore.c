/*
 * Restoring a backup made by db_backup(): check that the file is a sound
 * Clarion database this program can use, then copy it into the live
 * database with SQLite's backup API. The copy is one write transaction on
 * the live file, so a crash part-way leaves the old database whole, and
 * the file keeps its owner and mode.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "clarion.h"
#include "db_sqlite.h"

/*
 * A read-only, immutable view of a backup: no locks, and no -wal or -shm
 * file is made beside it. A file with a write-ahead log of its own (a
 * copy of a live database, not a backup) is refused, since immutable mode
 * would not see what the log holds.
 */
static sqlite3 *
backup_open(const char *path, char **cause)
{
	struct buf	 uri;
	struct stat	 sb;
	sqlite3		*sql = NULL;
	char		*wal;
	const char	*p;
	int		 rc;

	xasprintf(&wal, "%s-wal", path);
	rc = stat(wal, &sb);
	free(wal);
	if (rc == 0 && sb.st_size > 0) {
		xasprintf(cause, "%s: has a write-ahead log (%s-wal) beside "
		    "it, so it is a live database, not a backup; make one with "
		    "'clarion backup'", path, path);
		return NULL;
	}
	buf_init(&uri);
	buf_adds(&uri, "file:");
	for (p = path; *p != '\0'; p++) {
		if (*p == '%' || *p == '?' || *p == '#')
			buf_addf(&uri, "%%%02X", (unsigned char)*p);
		else
			buf_addc(&uri, *p);
	}
	buf_adds(&uri, "?immutable=1");
	rc = sqlite3_open_v2(uri.data, &sql, SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_URI, NULL);
	buf_free(&uri);
	if (rc != SQLITE_OK) {
		xasprintf(cause, "%s: %s", path, sqlite3_errstr(rc));
		sqlite3_close(sql);
		return NULL;
	}
	return sql;
}

/* The first column of the first row of a one-statement query, or NULL. */
static char *
query_text(sqlite3 *sql, const char *q, char **cause)
{
	sqlite3_stmt	*st;
	const unsigned char *v;
	char		*out = NULL;

	if (sqlite3_prepare_v2(sql, q, -1, &st, NULL) != SQLITE_OK) {
		*cause = xstrdup(sqlite3_errmsg(sql));
		return NULL;
	}
	if (sqlite3_step(st) == SQLITE_ROW &&
	    (v = sqlite3_column_text(st, 0)) != NULL)
		out = xstrdup((const char *)v);
	else
		*cause = xstrdup(sqlite3_errmsg(sql));
	sqlite3_finalize(st);
	return out;
}

static int
verify_open(sqlite3 *sql, const char *path, int *version, char **cause)
{
	char	*v, *why = NULL;

	if ((v = query_text(sql, "PRAGMA integrity_check", &why)) == NULL ||
	    strcmp(v, "ok") != 0) {
		xasprintf(cause, "%s: fails the integrity check: %s", path,
		    v != NULL ? v : why);
		free(v);
		free(why);
		return -1;
	}
	free(v);
	v = query_text(sql, "SELECT count(*) FROM sqlite_master WHERE "
	    "type = 'table' AND name = 'daemon_state'", &why);
	if (v == NULL || strcmp(v, "1") != 0) {
		xasprintf(cause, "%s: not a Clarion database", path);
		free(v);
		free(why);
		return -1;
	}
	free(v);
	if ((v = query_text(sql, "PRAGMA user_version", &why)) == NULL) {
		xasprintf(cause, "%s: %s", path, why);
		free(why);
		return -1;
	}
	*version = atoi(v);
	free(v);
	if (*version > db_schema_version()) {
		xasprintf(cause, "%s: has schema version %d but this Clarion "
		    "(%s) knows only up to %d: restore it with a newer Clarion",
		    path, *version, CLARION_VERSION, db_schema_version());
		return -1;
	}
	return 0;
}

int
db_backup_verify(const char *path, int *version, char **cause)
{
	sqlite3	*sql;
	int	 rc;

	if ((sql = backup_open(path, cause)) == NULL)
		return -1;
	rc = verify_open(sql, path, version, cause);
	sqlite3_close(sql);
	return rc;
}

int
db_restore(struct db *db, const char *path, char **cause)
{
	sqlite3		*src;
	sqlite3_backup	*b;
	int		 rc, tries = 0;

	if ((src = backup_open(path, cause)) == NULL)
		return -1;
	if ((b = sqlite3_backup_init(db->sql, "main", src, "main")) == NULL) {
		xasprintf(cause, "%s: %s", db->path, db_errmsg(db));
		sqlite3_close(src);
		return -1;
	}
	/* All pages in one step: one transaction on the live database. */
	while (((rc = sqlite3_backup_step(b, -1)) == SQLITE_BUSY ||
	    rc == SQLITE_LOCKED) && ++tries < 10)
		sqlite3_sleep(100);
	sqlite3_backup_finish(b);
	sqlite3_close(src);
	if (rc != SQLITE_DONE) {
		xasprintf(cause, "%s: restore from %s failed: %s", db->path,
		    path, sqlite3_errstr(rc));
		return -1;
	}
	/*
	 * The pid the backup recorded is not a daemon of this database; and
	 * ids are handed out again from the backup's: a new nonce keeps new
	 * Message-IDs and tokens from repeating those sent since.
	 */
	if (db_state_set(db, "pid", "0", NULL) == -1 ||
	    db_nonce_renew(db) == -1) {
		xasprintf(cause, "%s: %s", db->path, db_errmsg(db));
		return -1;
	}
	return 0;
}
