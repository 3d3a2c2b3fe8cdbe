/*
 * Unit tests for db.c: migrations from empty, re-open at the current
 * version, a newer database refused, file mode, WAL, and the UNIQUE
 * constraints that make scheduling and delivery idempotent.
 */
#include "config.h"

#include <sys/stat.h>

#include <stdlib.h>
#include <unistd.h>

#include <sqlite3.h>

#include "clarion.h"
#include "db_sqlite.h"	/* white-box: the SQLite backend */
#include "tap.h"

static char	 dir[] = "/tmp/clarion-db-XXXXXX";

static int
exec_ok(struct db *db, const char *sql)
{
	char	*cause = NULL;
	int	 rc;

	rc = db_exec(db, sql, &cause);
	free(cause);
	return rc == 0;
}

static long
scalar(struct db *db, const char *sql)
{
	sqlite3_stmt	*st;
	long		 v = -1;

	if (sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void
test_create(const char *path)
{
	struct db	*db;
	struct stat	 sb;
	char		*cause = NULL;

	ok(db_open(path, 0, &cause) == NULL, "without create, no new file");
	ok(cause != NULL && strstr(cause, "run 'clarion init' first") != NULL,
	    "and the error says what to do");
	free(cause);
	umask(022);
	db = db_open(path, 1, &cause);
	ok(db != NULL, "created from empty");
	if (db == NULL)
		return;
	is_int(db_user_version(db), db_schema_version(),
	    "migrated to the current version (%d)", db_schema_version());
	ok(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600,
	    "database file is 0600 even with umask 022 (mode %o)",
	    (unsigned)(sb.st_mode & 0777));
	is_int(scalar(db, "PRAGMA foreign_keys"), 1, "foreign keys on");
	{
		sqlite3_stmt	*st;
		const char	*m = NULL;

		sqlite3_prepare_v2(db->sql, "PRAGMA journal_mode", -1, &st,
		    NULL);
		if (sqlite3_step(st) == SQLITE_ROW)
			m = (const char *)sqlite3_column_text(st, 0);
		is_str(m, "wal", "journal mode is WAL");
		sqlite3_finalize(st);
	}
	db_close(db);
}

static void
test_constraints(const char *path)
{
	struct db	*db;
	char		*cause = NULL;

	if ((db = db_open(path, 0, &cause)) == NULL)
		return;
	ok(exec_ok(db, "INSERT INTO lists(id, name, from_addr, owner_addr, "
	    "created, updated) VALUES (1, 'members', 'a@example.org', "
	    "'o@example.org', 0, 0)"), "insert a list");
	ok(exec_ok(db, "INSERT INTO items(id, name, list_id, kind, template,"
	    " subject, created, updated) VALUES (1, 'weekly', 1, 'bulletin', "
	    "'bulletin', 'S', 0, 0)"), "insert an item");
	ok(exec_ok(db, "INSERT INTO runs(id, item_id, due_at, created) "
	    "VALUES (1, 1, 1000, 0)"), "insert a run");
	ok(!exec_ok(db, "INSERT INTO runs(item_id, due_at, created) "
	    "VALUES (1, 1000, 0)"), "the same run twice is refused");
	ok(exec_ok(db, "INSERT INTO runs(item_id, due_at, created) VALUES "
	    "(1, 1000, 0) ON CONFLICT DO NOTHING"),
	    "a scheduler that plans twice creates it once");
	is_int(scalar(db, "SELECT count(*) FROM runs"), 1, "one run");
	ok(exec_ok(db, "INSERT INTO subscribers(id, address, created, "
	    "updated) VALUES (1, 'alice@example.org', 0, 0)"), "subscriber");
	ok(exec_ok(db, "INSERT INTO deliveries(run_id, subscriber_id, "
	    "address, created) VALUES (1, 1, 'alice@example.org', 0)"),
	    "a delivery");
	ok(!exec_ok(db, "INSERT INTO deliveries(run_id, subscriber_id, "
	    "address, created) VALUES (1, 1, 'alice@example.org', 0)"),
	    "the same person twice in one run is refused");
	ok(!exec_ok(db, "INSERT INTO deliveries(run_id, subscriber_id, "
	    "created) VALUES (99, 1, 0)"), "a delivery needs its run (FK)");
	ok(!exec_ok(db, "UPDATE deliveries SET state = 'lost'"),
	    "states are checked");
	ok(!exec_ok(db, "INSERT INTO inbound(mailbox, uidvalidity, uid, "
	    "received_at, class, folder) VALUES ('INBOX', 1, 5, 0, 'x', 'F'),"
	    " ('INBOX', 1, 5, 0, 'x', 'F')"),
	    "one inbound record per mailbox, UIDVALIDITY and UID");
	db_close(db);
}

static void
test_reopen_and_future(const char *path)
{
	struct db	*db;
	char		*cause = NULL, *want;

	db = db_open(path, 0, &cause);
	ok(db != NULL, "re-open at the current version");
	if (db == NULL)
		return;
	is_int(db_user_version(db), db_schema_version(), "version kept");
	is_int(scalar(db, "SELECT count(*) FROM lists"), 1, "data kept");
	exec_ok(db, "PRAGMA user_version = 999");
	db_close(db);
	ok(db_open(path, 0, &cause) == NULL, "a newer database is refused");
	xasprintf(&want, "%s: the database has schema version 999 but this "
	    "Clarion (%s) knows only up to %d; it was written by a newer "
	    "Clarion: upgrade Clarion, or restore a backup", path,
	    CLARION_VERSION, db_schema_version());
	is_str(cause, want, "with a clear message");
	free(want);
	free(cause);
}

static void
test_state_and_backup(const char *path)
{
	struct db	*db, *copy;
	char		*cause = NULL, *v, *bpath;
	struct stat	 sb;

	if ((db = db_open(path, 1, &cause)) == NULL)
		return;
	ok(db_state_set(db, "last_tick", "123", NULL) == 0, "state set");
	ok(db_state_set(db, "last_tick", "456", NULL) == 0, "state overwritten");
	v = db_state_get(db, "last_tick");
	is_str(v, "456", "state read back");
	free(v);
	xasprintf(&bpath, "%s/backup.db", dir);
	ok(db_backup(db, bpath, &cause) == 0, "online backup");
	ok(stat(bpath, &sb) == 0 && (sb.st_mode & 0777) == 0600,
	    "backup is 0600");
	copy = db_open(bpath, 0, &cause);
	ok(copy != NULL, "the backup opens");
	if (copy != NULL) {
		v = db_state_get(copy, "last_tick");
		is_str(v, "456", "and holds the data");
		free(v);
	}
	db_close(copy);
	db_close(db);
	free(bpath);
}

int
main(void)
{
	char	*path, *path2;

	log_init("test_db", 0, LOG_LEVEL_ERROR);
	if (mkdtemp(dir) == NULL)
		fatal("mkdtemp");
	xasprintf(&path, "%s/a.db", dir);
	xasprintf(&path2, "%s/b.db", dir);
	test_create(path);
	test_constraints(path);
	test_reopen_and_future(path);
	test_state_and_backup(path2);
	free(path);
	free(path2);
	return tap_done();
}
