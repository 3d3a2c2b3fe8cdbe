/*
 * The database: one SQLite file in WAL mode, shared by clarion and
 * clariond. This file holds the connection, the migrations and small
 * helpers; the queries of each area live in db_<area>.c.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "clarion.h"
#include "db_sqlite.h"

/*
 * Migrations, in order: migration N takes the schema from version N-1 to
 * N. Each runs in one transaction with its version bump. Never edit one
 * that has shipped; add another.
 */
static const char *const migrations[] = {
	/* 1: the schema of the design */
	"CREATE TABLE lists ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  display_name TEXT NOT NULL DEFAULT '',"
	"  from_addr TEXT NOT NULL,"
	"  owner_addr TEXT NOT NULL,"
	"  footer TEXT NOT NULL DEFAULT '',"
	"  created INTEGER NOT NULL,"
	"  updated INTEGER NOT NULL);"
	"CREATE TABLE subscribers ("
	"  id INTEGER PRIMARY KEY,"
	"  address TEXT NOT NULL UNIQUE,"	/* normalised */
	"  name TEXT NOT NULL DEFAULT '',"
	"  created INTEGER NOT NULL,"
	"  updated INTEGER NOT NULL);"
	"CREATE TABLE subscriber_attrs ("
	"  subscriber_id INTEGER NOT NULL REFERENCES subscribers(id)"
	"    ON DELETE CASCADE,"
	"  key TEXT NOT NULL,"
	"  value TEXT NOT NULL,"
	"  PRIMARY KEY (subscriber_id, key)) WITHOUT ROWID;"
	"CREATE TABLE memberships ("
	"  subscriber_id INTEGER NOT NULL REFERENCES subscribers(id)"
	"    ON DELETE CASCADE,"
	"  list_id INTEGER NOT NULL REFERENCES lists(id) ON DELETE CASCADE,"
	"  status TEXT NOT NULL DEFAULT 'subscribed'"
	"    CHECK (status IN ('subscribed', 'unsubscribed', 'held')),"
	"  source TEXT NOT NULL DEFAULT '',"
	"  consent TEXT NOT NULL DEFAULT '',"
	"  consent_at INTEGER,"
	"  created INTEGER NOT NULL,"
	"  updated INTEGER NOT NULL,"
	"  PRIMARY KEY (subscriber_id, list_id));"
	"CREATE INDEX memberships_list ON memberships(list_id, status);"
	/*
	 * address_hash is an HMAC of the normalised address under the token
	 * secret: after erasure it is all that remains, and still stops a
	 * re-import.
	 */
	"CREATE TABLE suppressions ("
	"  id INTEGER PRIMARY KEY,"
	"  address_hash TEXT NOT NULL UNIQUE,"
	"  address TEXT,"
	"  reason TEXT NOT NULL CHECK (reason IN ('unsubscribed',"
	"    'hard-bounce', 'soft-bounce', 'complaint', 'erased', 'manual')),"
	"  detail TEXT NOT NULL DEFAULT '',"
	"  created INTEGER NOT NULL);"
	"CREATE TABLE feeds ("
	"  id INTEGER PRIMARY KEY,"
	"  url TEXT NOT NULL UNIQUE,"
	"  etag TEXT,"
	"  last_modified TEXT,"
	"  last_fetch INTEGER,"
	"  last_error TEXT);"
	"CREATE TABLE events ("
	"  id INTEGER PRIMARY KEY,"
	"  uid TEXT NOT NULL UNIQUE,"
	"  kind TEXT NOT NULL CHECK (kind IN ('strike', 'ballot', 'picket',"
	"    'demo', 'meeting', 'other')),"
	"  title TEXT NOT NULL,"
	"  union_name TEXT NOT NULL DEFAULT '',"
	"  employer TEXT NOT NULL DEFAULT '',"
	"  location TEXT NOT NULL DEFAULT '',"
	"  link TEXT NOT NULL DEFAULT '',"
	"  notes TEXT NOT NULL DEFAULT '',"
	"  starts_at INTEGER NOT NULL,"	/* UTC */
	"  ends_at INTEGER,"
	"  all_day INTEGER NOT NULL DEFAULT 0,"
	"  status TEXT NOT NULL DEFAULT 'confirmed'"
	"    CHECK (status IN ('confirmed', 'cancelled')),"
	"  sequence INTEGER NOT NULL DEFAULT 0,"
	"  feed_id INTEGER REFERENCES feeds(id) ON DELETE SET NULL,"
	"  created INTEGER NOT NULL,"
	"  updated INTEGER NOT NULL);"
	"CREATE INDEX events_start ON events(starts_at);"
	"CREATE TABLE items ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  list_id INTEGER NOT NULL REFERENCES lists(id),"
	"  segment TEXT NOT NULL DEFAULT '',"
	"  kind TEXT NOT NULL CHECK (kind IN ('bulletin', 'newsletter',"
	"    'notice', 'message')),"
	"  template TEXT NOT NULL,"
	"  subject TEXT NOT NULL,"	/* a Mustache template too */
	"  content_file TEXT,"		/* Markdown */
	"  event_kinds TEXT NOT NULL DEFAULT '',"	/* "strike,ballot" */
	"  days_ahead INTEGER NOT NULL DEFAULT 14,"
	"  union_filter TEXT NOT NULL DEFAULT '',"
	"  send_at INTEGER,"		/* one-off */
	"  rrule TEXT,"			/* recurrence, in local time */
	"  dtstart INTEGER,"
	"  skip_empty INTEGER NOT NULL DEFAULT 1,"
	"  expires_at INTEGER,"
	"  event_id INTEGER REFERENCES events(id),"	/* a meeting */
	"  notice_days INTEGER,"
	"  reminder_before INTEGER,"
	"  priority INTEGER NOT NULL DEFAULT 0,"	/* higher first */
	"  status TEXT NOT NULL DEFAULT 'active'"
	"    CHECK (status IN ('active', 'paused', 'cancelled', 'done')),"
	"  created INTEGER NOT NULL,"
	"  updated INTEGER NOT NULL);"
	/*
	 * One issue of an item. UNIQUE(item, due, purpose): the scheduler
	 * can run twice, or two daemons at once, and create it once.
	 */
	"CREATE TABLE runs ("
	"  id INTEGER PRIMARY KEY,"
	"  item_id INTEGER NOT NULL REFERENCES items(id),"
	"  due_at INTEGER NOT NULL,"
	"  purpose TEXT NOT NULL DEFAULT 'issue' CHECK (purpose IN ('issue',"
	"    'notice', 'reminder', 'update', 'cancel', 'test')),"
	"  state TEXT NOT NULL DEFAULT 'planned' CHECK (state IN ('planned',"
	"    'composing', 'sending', 'done', 'skipped', 'cancelled')),"
	"  reason TEXT NOT NULL DEFAULT '',"
	"  context TEXT,"		/* JSON frozen at compose time */
	"  sequence INTEGER NOT NULL DEFAULT 0,"
	"  created INTEGER NOT NULL,"
	"  started INTEGER,"
	"  finished INTEGER,"
	"  UNIQUE (item_id, due_at, purpose));"
	"CREATE INDEX runs_state ON runs(state);"
	/*
	 * One message to one person. UNIQUE(run, subscriber): composing
	 * twice cannot queue twice. State is written before (sending) and
	 * after (sent, deferred, failed) each SMTP transaction.
	 */
	"CREATE TABLE deliveries ("
	"  id INTEGER PRIMARY KEY,"
	"  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
	"  subscriber_id INTEGER REFERENCES subscribers(id)"
	"    ON DELETE SET NULL,"
	"  address TEXT,"		/* NULL after erasure */
	"  state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued',"
	"    'sending', 'sent', 'deferred', 'failed', 'suppressed', 'held',"
	"    'cancelled')),"
	"  priority INTEGER NOT NULL DEFAULT 0,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_attempt INTEGER NOT NULL DEFAULT 0,"
	"  claimed_at INTEGER,"
	"  last_code INTEGER,"
	"  last_reply TEXT,"
	"  sent_at INTEGER,"
	"  created INTEGER NOT NULL,"
	"  UNIQUE (run_id, subscriber_id));"
	"CREATE INDEX deliveries_queue ON deliveries(state, next_attempt);"
	"CREATE INDEX deliveries_subscriber ON deliveries(subscriber_id);"
	/* Mail Clarion sends outside runs: confirmations, forwards, digests. */
	"CREATE TABLE sysmail ("
	"  id INTEGER PRIMARY KEY,"
	"  kind TEXT NOT NULL CHECK (kind IN ('unsubscribed', 'forward',"
	"    'digest', 'test')),"
	"  list_id INTEGER REFERENCES lists(id) ON DELETE SET NULL,"
	"  to_addr TEXT,"
	"  message BLOB,"		/* the complete message */
	"  state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued',"
	"    'sending', 'sent', 'deferred', 'failed')),"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_attempt INTEGER NOT NULL DEFAULT 0,"
	"  last_reply TEXT,"
	"  dedupe TEXT UNIQUE,"		/* e.g. the inbound message it answers */
	"  created INTEGER NOT NULL,"
	"  sent_at INTEGER);"
	/* Every message read over IMAP, so nothing is applied twice. */
	"CREATE TABLE inbound ("
	"  id INTEGER PRIMARY KEY,"
	"  mailbox TEXT NOT NULL,"
	"  uidvalidity INTEGER NOT NULL,"
	"  uid INTEGER NOT NULL,"
	"  message_id TEXT,"
	"  received_at INTEGER NOT NULL,"
	"  class TEXT NOT NULL,"
	"  delivery_id INTEGER REFERENCES deliveries(id) ON DELETE SET NULL,"
	"  subscriber_id INTEGER REFERENCES subscribers(id)"
	"    ON DELETE SET NULL,"
	"  list_id INTEGER REFERENCES lists(id) ON DELETE SET NULL,"
	"  status_code TEXT,"
	"  reason TEXT,"
	"  action TEXT NOT NULL DEFAULT '',"
	"  folder TEXT NOT NULL,"
	"  filed INTEGER NOT NULL DEFAULT 0,"
	"  UNIQUE (mailbox, uidvalidity, uid));"
	"CREATE INDEX inbound_message_id ON inbound(message_id);"
	"CREATE TABLE imap_state ("
	"  mailbox TEXT PRIMARY KEY,"
	"  uidvalidity INTEGER NOT NULL,"
	"  last_uid INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE bounce_scores ("
	"  subscriber_id INTEGER PRIMARY KEY REFERENCES subscribers(id)"
	"    ON DELETE CASCADE,"
	"  score REAL NOT NULL DEFAULT 0,"
	"  last_bounce_at INTEGER,"
	"  disabled_at INTEGER,"
	"  reason TEXT NOT NULL DEFAULT '',"
	"  digested INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE bounces ("
	"  id INTEGER PRIMARY KEY,"
	"  subscriber_id INTEGER REFERENCES subscribers(id)"
	"    ON DELETE CASCADE,"
	"  delivery_id INTEGER REFERENCES deliveries(id) ON DELETE SET NULL,"
	"  at INTEGER NOT NULL,"
	"  hard INTEGER NOT NULL,"
	"  status TEXT NOT NULL DEFAULT '',"
	"  reason TEXT NOT NULL DEFAULT '',"
	"  source TEXT NOT NULL CHECK (source IN ('smtp', 'dsn', 'manual')));"
	"CREATE INDEX bounces_subscriber ON bounces(subscriber_id, at);"
	/* Small daemon facts for `clarion status`: last tick, errors. */
	"CREATE TABLE daemon_state ("
	"  key TEXT PRIMARY KEY,"
	"  value TEXT NOT NULL) WITHOUT ROWID;",
	/*
	 * 2: spreadsheets disagree on the case of an address's local part;
	 * imports find Ann@ and ann@ as one person through this index.
	 */
	"CREATE INDEX subscribers_address_nocase ON subscribers("
	"  address COLLATE NOCASE);",
	/*
	 * 3: what a person said when a suppression was lifted or they came
	 * back to a list (GDPR accountability). Keyed like suppressions;
	 * erasure deletes it.
	 */
	"CREATE TABLE consent_log ("
	"  id INTEGER PRIMARY KEY,"
	"  address_hash TEXT NOT NULL,"
	"  list_id INTEGER REFERENCES lists(id) ON DELETE SET NULL,"
	"  action TEXT NOT NULL CHECK (action IN ('unsuppressed',"
	"    'resubscribed')),"
	"  consent TEXT NOT NULL,"
	"  at INTEGER NOT NULL);"
	"CREATE INDEX consent_log_hash ON consent_log(address_hash);",
	/*
	 * 4: what attributed each bounce (the bounce token of a report by
	 * mail, or our own SMTP session) and which bounce disabled a member,
	 * for `clarion bounces`: a hard bounce disables an address
	 * everywhere, so an officer must be able to see why.
	 */
	"ALTER TABLE bounces ADD COLUMN token_purpose TEXT;"
	"ALTER TABLE bounces ADD COLUMN run_id INTEGER;"
	"ALTER TABLE bounce_scores ADD COLUMN bounce_id INTEGER"
	"  REFERENCES bounces(id) ON DELETE SET NULL;",
	/*
	 * 5: an item whose segment names an attribute no member has was
	 * kept with --force; check-config and the daemon's start-up leave
	 * it to the officer who forced it instead of refusing to start.
	 */
	"ALTER TABLE items ADD COLUMN segment_forced INTEGER NOT NULL"
	"  DEFAULT 0;",
	/*
	 * 6: members' answers to a meeting's invite (iTIP REPLY), the
	 * latest per meeting and member, and the delivery whose reply
	 * token named them.
	 */
	"CREATE TABLE rsvps ("
	"  event_id INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,"
	"  subscriber_id INTEGER NOT NULL REFERENCES subscribers(id)"
	"    ON DELETE CASCADE,"
	"  answer TEXT NOT NULL CHECK (answer IN ('accepted', 'declined',"
	"    'tentative')),"
	"  delivery_id INTEGER REFERENCES deliveries(id) ON DELETE SET NULL,"
	"  at INTEGER NOT NULL,"
	"  PRIMARY KEY (event_id, subscriber_id));",
};

int
db_schema_version(void)
{
	return (int)nitems(migrations);
}

const char *
db_errmsg(struct db *db)
{
	return sqlite3_errmsg(db->sql);
}

/* The store's own error as a cause, for a function that failed on it. */
void
db_cause(struct db *db, char **cause)
{
	if (cause != NULL && *cause == NULL)
		xasprintf(cause, "%s: %s", db->path, db_errmsg(db));
}

int
db_exec(struct db *db, const char *sql, char **cause)
{
	char	*err = NULL;

	if (sqlite3_exec(db->sql, sql, NULL, NULL, &err) != SQLITE_OK) {
		if (cause != NULL)
			xasprintf(cause, "%s: %s", db->path,
			    err != NULL ? err : db_errmsg(db));
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

int
db_begin(struct db *db)
{
	char	*cause;

	if (db_exec(db, "BEGIN IMMEDIATE", &cause) == -1) {
		log_warnx("%s", cause);
		free(cause);
		return -1;
	}
	return 0;
}

int
db_commit(struct db *db)
{
	char	*cause;

	if (db_exec(db, "COMMIT", &cause) == -1) {
		log_warnx("%s", cause);
		free(cause);
		db_rollback(db);
		return -1;
	}
	return 0;
}

void
db_rollback(struct db *db)
{
	if (!sqlite3_get_autocommit(db->sql))
		sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
}

/*
 * The one way to run a unit of work: fn runs inside a transaction, its
 * own BEGIN IMMEDIATE when none is open, else a savepoint in the caller's
 * (so the outer unit decides). A negative return from fn (DB_UNDO for a
 * dry run) rolls back and is passed on; anything else commits and is returned. When fn fails
 * and says nothing, the cause is the store's own error, read before the
 * rollback clears it.
 */
int
db_atomic(struct db *db, int (*fn)(struct db *, void *), void *arg,
    char **cause)
{
	int	 own = sqlite3_get_autocommit(db->sql), rc;

	if (own ? db_begin(db) == -1 :
	    sqlite3_exec(db->sql, "SAVEPOINT atomic", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		if (cause != NULL)
			xasprintf(cause, "%s: cannot begin a transaction: %s",
			    db->path, db_errmsg(db));
		return -1;
	}
	if ((rc = fn(db, arg)) < 0 && rc != DB_UNDO)
		db_cause(db, cause);
	if (own) {
		if (rc < 0)
			db_rollback(db);
		else if (db_commit(db) == -1) {
			if (cause != NULL && *cause == NULL)
				xasprintf(cause, "%s: cannot commit", db->path);
			return -1;
		}
		return rc;
	}
	if (rc < 0)
		sqlite3_exec(db->sql, "ROLLBACK TO atomic", NULL, NULL, NULL);
	sqlite3_exec(db->sql, "RELEASE atomic", NULL, NULL, NULL);
	return rc;
}

/*
 * A unit of work that is never kept (a preview builds its run and shows
 * it): fn's return is passed on, and everything it wrote is rolled back.
 */
int
db_trial(struct db *db, int (*fn)(struct db *, void *), void *arg,
    char **cause)
{
	int	 rc;

	if (db_begin(db) == -1) {
		if (cause != NULL)
			xasprintf(cause, "%s: cannot begin a transaction: %s",
			    db->path, db_errmsg(db));
		return -1;
	}
	rc = fn(db, arg);
	db_rollback(db);
	return rc;
}

int
db_user_version(struct db *db)
{
	sqlite3_stmt	*st;
	int		 v = -1;

	if (sqlite3_prepare_v2(db->sql, "PRAGMA user_version", -1, &st,
	    NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int
db_migrate(struct db *db, char **cause)
{
	char	*sql;
	int	 v, n = db_schema_version();

	if ((v = db_user_version(db)) == -1) {
		xasprintf(cause, "%s: cannot read the schema version: %s",
		    db->path, db_errmsg(db));
		return -1;
	}
	if (v > n) {
		xasprintf(cause, "%s: the database has schema version %d but "
		    "this Clarion (%s) knows only up to %d; it was written by "
		    "a newer Clarion: upgrade Clarion, or restore a backup",
		    db->path, v, CLARION_VERSION, n);
		return -1;
	}
	for (; v < n; v++) {
		if (db_exec(db, "BEGIN IMMEDIATE", cause) == -1)
			return -1;
		xasprintf(&sql, "%s; PRAGMA user_version = %d;", migrations[v],
		    v + 1);
		if (db_exec(db, sql, cause) == -1 ||
		    db_exec(db, "COMMIT", cause) == -1) {
			free(sql);
			db_rollback(db);
			return -1;
		}
		free(sql);
		log_debug("%s: migrated to schema version %d", db->path, v + 1);
	}
	return 0;
}

/*
 * Creates the file (and its -wal and -shm companions) private from the
 * first instant: subscriber data is special-category personal data.
 */
static int
db_create_private(const char *path, char **cause)
{
	int	 fd;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd == -1) {
		xasprintf(cause, "%s: cannot create the database: %s", path,
		    strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

static int
db_pragmas(struct db *db, char **cause)
{
	sqlite3_stmt	*st;
	const char	*mode;
	int		 ok = 0;

	if (sqlite3_prepare_v2(db->sql, "PRAGMA journal_mode=WAL", -1, &st,
	    NULL) != SQLITE_OK) {
		xasprintf(cause, "%s: %s", db->path, db_errmsg(db));
		return -1;
	}
	if (sqlite3_step(st) == SQLITE_ROW &&
	    (mode = (const char *)sqlite3_column_text(st, 0)) != NULL)
		ok = strcmp(mode, "wal") == 0;
	sqlite3_finalize(st);
	if (!ok) {
		xasprintf(cause, "%s: cannot switch the database to WAL mode "
		    "(is it on a network file system?)", db->path);
		return -1;
	}
	return db_exec(db, "PRAGMA foreign_keys=ON; "
	    "PRAGMA synchronous=NORMAL;", cause);
}

/*
 * clarion_address_hash(address, old): the keyed hash suppressions are
 * stored under, with the current token key (old 0) or the old one during
 * its grace period (old 1; NULL when there is none). It lets a claim test
 * suppressions inside its own UPDATE. Without keys (db_use_keys) it is an
 * error, so a claim that cannot check fails rather than sends. It is
 * registered as deterministic (it is, within a statement: keys change only
 * between them) so the look-up uses the suppressions index: otherwise
 * SQLite scans suppressions and hashes once per row (measured: 10,000
 * members and 5,000 suppressions took 268 s to send instead of 7 s).
 */
static void
sql_address_hash(struct sqlite3_context *cx, int argc, sqlite3_value **argv)
{
	struct db	*db = sqlite3_user_data(cx);
	const unsigned char *a = sqlite3_value_text(argv[0]);
	char		 hash[DB_HASH_HEX];

	(void)argc;
	if (db->keys == NULL) {
		sqlite3_result_error(cx, "no token secret loaded: suppressions "
		    "cannot be checked", -1);
		return;
	}
	if (a == NULL || db_address_hash(db->keys, (const char *)a,
	    sqlite3_value_int(argv[1]), hash) == -1) {
		sqlite3_result_null(cx);
		return;
	}
	sqlite3_result_text(cx, hash, -1, SQLITE_TRANSIENT);
}

/* The keys clarion_address_hash() uses from now on (a private copy). */
int
db_use_keys(struct db *db, const struct token_keys *keys)
{
	if (keys == NULL)
		return -1;
	if (db->keys == NULL)
		db->keys = xmalloc(sizeof *db->keys);
	memcpy(db->keys, keys, sizeof *db->keys);
	return 0;
}

/*
 * Why the last db_open() failed, as a sysexits code: a missing file is
 * EX_NOINPUT, an empty or damaged one EX_DATAERR, anything else
 * EX_SOFTWARE. The programs exit with it.
 */
static int	 db_open_failure = EX_SOFTWARE;
static int	 db_damage_seen;
static const char *db_damage_what = "database disk image is malformed";

int
db_open_code(void)
{
	return db_open_failure;
}

/*
 * SQLite reports every error to this hook, including corruption found deep
 * in a query whose caller only sees "-1". The daemon checks db_damaged()
 * after each step and stops instead of failing the same way every tick.
 */
static void
db_log_hook(void *arg, int code, const char *msg)
{
	(void)arg;
	(void)msg;
	if ((code & 0xff) == SQLITE_CORRUPT || (code & 0xff) == SQLITE_NOTADB) {
		db_damage_seen = 1;
		db_damage_what = sqlite3_errstr(code);
	}
}

/* After a restore has replaced the damaged file. */
void
db_damaged_clear(void)
{
	db_damage_seen = 0;
}

/* SQLite's words for the damage db_damaged() saw. */
const char *
db_damage_reason(void)
{
	return db_damage_what;
}

void
db_library_init(void)
{
	static int	 done;

	if (done)
		return;
	done = 1;
	/* Fails (harmlessly) if SQLite was already used in this process. */
	sqlite3_config(SQLITE_CONFIG_LOG, db_log_hook, NULL);
}

int
db_damaged(struct db *db)
{
	int	 rc;

	if (db != NULL && db->sql != NULL) {
		rc = sqlite3_errcode(db->sql) & 0xff;
		if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB) {
			db_damage_seen = 1;
			db_damage_what = sqlite3_errstr(rc);
		}
	}
	return db_damage_seen;
}

static void
db_damaged_cause(const char *path, const char *what, char **cause)
{
	db_open_failure = EX_DATAERR;
	xasprintf(cause, "%s: the database is damaged (%s); Clarion will not "
	    "use it. Stop clariond and restore the last backup with "
	    "'clarion restore BACKUP' (it keeps the damaged file beside the "
	    "database)", path, what);
}

/*
 * A file with no schema at all (emptied with ": > file", or never
 * initialised) must not silently become a new, empty database: every
 * member, suppression and unsubscribe would be gone without a word. Only
 * 'clarion init' (create) makes one. Read-only checks, so the file is left
 * exactly as it was.
 */
static int
db_check_blank(struct db *db, char **cause)
{
	sqlite3_stmt	*st;
	int		 rc, n = -1;

	if (sqlite3_prepare_v2(db->sql, "SELECT count(*) FROM sqlite_master",
	    -1, &st, NULL) != SQLITE_OK) {
		rc = sqlite3_errcode(db->sql);
		if ((rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) ==
		    SQLITE_NOTADB)
			db_damaged_cause(db->path, db_errmsg(db), cause);
		else
			xasprintf(cause, "%s: %s", db->path, db_errmsg(db));
		return -1;
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	rc = sqlite3_errcode(db->sql);
	sqlite3_finalize(st);
	if (n == -1) {
		if ((rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) ==
		    SQLITE_NOTADB)
			db_damaged_cause(db->path, sqlite3_errstr(rc), cause);
		else
			xasprintf(cause, "%s: %s", db->path, sqlite3_errstr(rc));
		return -1;
	}
	if (n > 0)
		return 0;
	db_open_failure = EX_DATAERR;
	xasprintf(cause, "%s: the database file is empty (no Clarion data in "
	    "it); Clarion will not start a new one in its place. If the data "
	    "was lost, restore the last backup with 'clarion restore BACKUP'; "
	    "for a new installation, run 'clarion init'",
	    db->path);
	return -1;
}

/* Damage found while migrating or setting up says what to do, too. */
static void
db_open_damaged(struct db *db, char **cause)
{
	int	 rc;

	if (db->sql == NULL || db_open_failure == EX_DATAERR)
		return;
	rc = sqlite3_errcode(db->sql) & 0xff;
	if (rc != SQLITE_CORRUPT && rc != SQLITE_NOTADB) {
		if (!db_damage_seen)
			return;
		rc = SQLITE_CORRUPT;
	}
	free(*cause);
	db_damaged_cause(db->path, sqlite3_errstr(rc), cause);
}

/*
 * Opens the database. With create ('clarion init', a restore into a
 * missing file), a missing or empty file is made into a new database;
 * otherwise both are errors (so a typo in the path or an emptied file is
 * never a new, empty database).
 */
struct db *
db_open(const char *path, int create, char **cause)
{
	struct db	*db;
	mode_t		 old;
	int		 rc, flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;

	db_library_init();
	db_open_failure = EX_SOFTWARE;
	if (access(path, F_OK) == -1) {
		if (!create) {
			db_open_failure = EX_NOINPUT;
			xasprintf(cause, "%s: no database here; for a new "
			    "installation run 'clarion init' first; if the "
			    "database was lost, restore the last backup with "
			    "'clarion restore BACKUP'", path);
			return NULL;
		}
		if (db_create_private(path, cause) == -1)
			return NULL;
	}
	db = xcalloc(1, sizeof *db);
	db->path = xstrdup(path);
	old = umask(077);
	rc = sqlite3_open_v2(path, &db->sql, flags, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(db->sql, DB_BUSY_TIMEOUT);
		sqlite3_create_function(db->sql, "clarion_address_hash", 2,
		    SQLITE_UTF8 | SQLITE_DETERMINISTIC, db, sql_address_hash,
		    NULL, NULL);
		sqlite3_extended_result_codes(db->sql, 1);
		if ((!create && db_check_blank(db, cause) == -1) ||
		    db_pragmas(db, cause) == -1 || db_migrate(db, cause) == -1)
			rc = SQLITE_ERROR;
	} else
		xasprintf(cause, "%s: %s", path, sqlite3_errstr(rc));
	umask(old);
	if (rc != SQLITE_OK) {
		db_open_damaged(db, cause);
		db_close(db);
		return NULL;
	}
	return db;
}

/* How long a write waits for another process's write lock. */
void
db_busy_timeout(struct db *db, int ms)
{
	sqlite3_busy_timeout(db->sql, ms);
}

void
db_close(struct db *db)
{
	if (db == NULL)
		return;
	if (db->sql != NULL)
		sqlite3_close_v2(db->sql);
	if (db->keys != NULL) {
		explicit_zero(db->keys, sizeof *db->keys);
		free(db->keys);
	}
	free(db->path);
	free(db);
}

static int
db_state_set_store(struct db *db, const char *key, const char *value)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (sqlite3_prepare_v2(db->sql, "INSERT INTO daemon_state(key, value)"
	    " VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = "
	    "excluded.value", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
db_state_set(struct db *db, const char *key, const char *value, char **cause)
{
	int	 rc;

	if ((rc = db_state_set_store(db, key, value)) == -1 && cause != NULL)
		db_cause(db, cause);
	return rc;
}

char *
db_state_get(struct db *db, const char *key)
{
	sqlite3_stmt	*st;
	char		*v = NULL;

	if (sqlite3_prepare_v2(db->sql, "SELECT value FROM daemon_state "
	    "WHERE key = ?", -1, &st, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return v;
}

/*
 * The database's nonce, made on first use. It goes into each run's frozen
 * context, so into its Message-IDs and token MACs: a restored backup
 * hands out run and delivery ids again, and with a new nonce (see
 * db_nonce_renew) what it sends cannot repeat what was sent before.
 */
char *
db_nonce(struct db *db)
{
	char	*v, n[TOKEN_NONCE_MAX + 1];

	if ((v = db_state_get(db, "nonce")) != NULL && *v != '\0')
		return v;
	free(v);
	token_nonce_new(n, sizeof n);
	if (db_state_set(db, "nonce", n, NULL) == -1)
		return NULL;
	return xstrdup(n);
}

int
db_nonce_renew(struct db *db)
{
	char	 n[TOKEN_NONCE_MAX + 1];

	token_nonce_new(n, sizeof n);
	return db_state_set(db, "nonce", n, NULL);
}

/* The nonce of the run a delivery belongs to; NULL if none or no row. */
char *
db_delivery_nonce(struct db *db, int64_t delivery)
{
	sqlite3_stmt	*st;
	char		*v = NULL;

	if (sqlite3_prepare_v2(db->sql, "SELECT json_extract(r.context, "
	    "'$.nonce') FROM deliveries d JOIN runs r ON r.id = d.run_id "
	    "WHERE d.id = ?", -1, &st, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_int64(st, 1, delivery);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) == SQLITE_TEXT)
		v = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return v;
}

int
db_checkpoint(struct db *db)
{
	return sqlite3_wal_checkpoint_v2(db->sql, NULL,
	    SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

/* A consistent copy while the daemon runs: SQLite's online backup API. */
int
db_backup(struct db *db, const char *path, char **cause)
{
	sqlite3		*dst;
	sqlite3_backup	*b;
	int		 rc;

	if (db_create_private(path, cause) == -1)
		return -1;
	if ((rc = sqlite3_open(path, &dst)) != SQLITE_OK) {
		xasprintf(cause, "%s: %s", path, sqlite3_errstr(rc));
		sqlite3_close(dst);
		return -1;
	}
	if ((b = sqlite3_backup_init(dst, "main", db->sql, "main")) == NULL) {
		xasprintf(cause, "%s: %s", path, sqlite3_errmsg(dst));
		sqlite3_close(dst);
		return -1;
	}
	while ((rc = sqlite3_backup_step(b, 256)) == SQLITE_OK ||
	    rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
		sqlite3_sleep(10);
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE) {
		xasprintf(cause, "%s: backup failed: %s", path,
		    sqlite3_errstr(rc));
		sqlite3_close(dst);
		return -1;
	}
	sqlite3_close(dst);
	return 0;
}

static long
count_one(struct db *db, const char *sql)
{
	sqlite3_stmt	*st;
	long		 n = -1;

	if (sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static int
count_by(struct db *db, const char *sql, struct db_count **out, size_t *n)
{
	sqlite3_stmt	*st;
	int		 rc;

	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = xreallocarray(*out, *n + 1, sizeof **out);
		(*out)[*n].name = xstrdup((const char *)
		    sqlite3_column_text(st, 0));
		(*out)[*n].count = sqlite3_column_int64(st, 1);
		(*n)++;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int
db_status_get_store(struct db *db, struct db_status *s)
{
	memset(s, 0, sizeof *s);
	s->version = db_user_version(db);
	s->lists = count_one(db, "SELECT count(*) FROM lists");
	s->subscribers = count_one(db, "SELECT count(*) FROM subscribers");
	s->events = count_one(db, "SELECT count(*) FROM events");
	s->items = count_one(db, "SELECT count(*) FROM items");
	if (count_by(db, "SELECT state, count(*) FROM runs GROUP BY state "
	    "ORDER BY state", &s->runs, &s->nruns) == -1 ||
	    count_by(db, "SELECT state, count(*) FROM deliveries GROUP BY "
	    "state ORDER BY state", &s->deliveries, &s->ndeliveries) == -1)
		return -1;
	return 0;
}

int
db_status_get(struct db *db, struct db_status *s, char **cause)
{
	int	 rc;

	if ((rc = db_status_get_store(db, s)) == -1 && cause != NULL)
		db_cause(db, cause);
	return rc;
}

void
db_status_free(struct db_status *s)
{
	size_t	 i;

	for (i = 0; i < s->nruns; i++)
		free(s->runs[i].name);
	for (i = 0; i < s->ndeliveries; i++)
		free(s->deliveries[i].name);
	free(s->runs);
	free(s->deliveries);
}

/*
 * Statement helpers shared by the db_*.c files. Two error styles: the
 * _log ones log and return NULL/-1; the others fill cause (when given).
 */
sqlite3_stmt *
db_prep(struct db *db, const char *sql)
{
	sqlite3_stmt	*st;

	if (sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL) != SQLITE_OK) {
		log_warnx("%s: %s", db->path, db_errmsg(db));
		return NULL;
	}
	return st;
}

/* Steps a statement that returns no rows and finalizes it. */
int
db_step_log(struct db *db, sqlite3_stmt *st)
{
	int	 rc = sqlite3_step(st);

	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		log_warnx("%s: %s", db->path, db_errmsg(db));
		return -1;
	}
	return 0;
}

int
db_prepare(struct db *db, const char *sql, sqlite3_stmt **st, char **cause)
{
	if (sqlite3_prepare_v2(db->sql, sql, -1, st, NULL) != SQLITE_OK) {
		if (cause != NULL)
			xasprintf(cause, "%s: %s", db->path, db_errmsg(db));
		return -1;
	}
	return 0;
}

int
db_step_done(struct db *db, sqlite3_stmt *st, char **cause)
{
	int	 rc = sqlite3_step(st);

	if (rc != SQLITE_DONE && cause != NULL)
		xasprintf(cause, "%s: %s", db->path, db_errmsg(db));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* A text column as a new string; NULL becomes "". */
char *
db_col_text_or_empty(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return xstrdup(s != NULL ? (const char *)s : "");
}

/* A text column as a new string, or NULL. */
char *
db_col_text_or_null(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return s != NULL ? xstrdup((const char *)s) : NULL;
}

void
db_bind_text_or_empty(sqlite3_stmt *st, int i, const char *s)
{
	sqlite3_bind_text(st, i, s != NULL ? s : "", -1, SQLITE_TRANSIENT);
}

void
db_bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

void
db_bind_text_null_if_empty(sqlite3_stmt *st, int i, const char *s)
{
	db_bind_text_or_null(st, i, s != NULL && *s != '\0' ? s : NULL);
}

void
db_bind_int_or_null(sqlite3_stmt *st, int i, int64_t v)
{
	if (v == 0)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_int64(st, i, v);
}

void
db_bind_id_or_null(sqlite3_stmt *st, int i, int64_t v)
{
	if (v > 0)
		sqlite3_bind_int64(st, i, v);
	else
		sqlite3_bind_null(st, i);
}
