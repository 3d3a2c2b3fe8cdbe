/*
 * clarion backup and clarion restore. A backup is a consistent copy made
 * with SQLite's online backup API, safe while clariond runs. A restore
 * refuses while the daemon runs, checks the backup in full before touching
 * anything, keeps the database it replaces, and copies the backup in as one
 * transaction.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static const char restore_text[] =
    "Replaces the database with FILE, a backup written by 'clarion backup'.\n"
    "Stop clariond first (systemctl stop clariond): restore refuses while\n"
    "it runs. FILE is checked before anything is touched (SQLite's\n"
    "integrity check, a Clarion schema no newer than this program); the\n"
    "database it replaces is kept beside it as DATABASE.before-restore-TIME.\n"
    "Then every privacy action taken since the backup (erasures,\n"
    "unsubscribes, suppressions, consents), kept in DATABASE.journal, is\n"
    "taken again, and restore says what it re-applied.\n"
    "Run it as the user clariond runs as, then 'clarion status'.\n";

static int
backup_write(struct cli *cli, void *vo, int argc, char **argv)
{
	char	*cause;
	int	 rc;

	if (access(argv[0], F_OK) == 0)
		return cli_error(EX_CANTCREAT, "%s: already exists", argv[0]);
	if (db_backup(cli_db(cli), argv[0], &cause) == -1) {
		rc = cli_error(EX_IOERR, "%s", cause);
		free(cause);
		return rc;
	}
	printf("backup: %s\n", argv[0]);
	return EX_OK;
}

static int
same_file(const char *a, const char *b)
{
	struct stat	 sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
	    sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static char *
restore_stamped(const char *database)
{
	char	 stamp[32];
	char	*kept;
	time_t	 now = time(NULL);

	strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", gmtime(&now));
	xasprintf(&kept, "%s.before-restore-%s", database, stamp);
	return kept;
}

/*
 * A database SQLite cannot read (emptied, truncated, damaged) cannot be
 * copied aside: its file is moved aside as it is, with its log, so
 * nothing that might still be rescued is lost.
 */
static int
restore_set_aside(const char *database, char **kept)
{
	char	*from, *to;

	*kept = restore_stamped(database);
	if (access(*kept, F_OK) == 0)
		return cli_error(EX_CANTCREAT, "%s: already exists; try again "
		    "in a second", *kept);
	if (rename(database, *kept) == -1)
		return cli_error(EX_CANTCREAT, "%s: cannot move it aside: %s",
		    database, strerror(errno));
	xasprintf(&from, "%s-wal", database);
	xasprintf(&to, "%s-wal", *kept);
	if (rename(from, to) == -1 && errno != ENOENT)
		cli_error(EX_CANTCREAT, "%s: %s", from, strerror(errno));
	free(from);
	free(to);
	xasprintf(&from, "%s-shm", database);
	unlink(from);
	free(from);
	return EX_OK;
}

/*
 * The live database, opened for the restore: made if it is gone, and
 * made anew (the old file kept aside in *kept) if it is empty or damaged.
 */
static struct db *
restore_target(struct cli *cli, int *existed, char **kept)
{
	struct config	*conf = cli_config(cli);
	char		*cause;

	*existed = access(conf->database, F_OK) == 0;
	if (*existed) {
		if ((cli->db = db_open(conf->database, 0, &cause)) != NULL)
			return cli->db;
		if (db_open_code() != EX_DATAERR) {
			cli_error(db_open_code(), "%s", cause);
			free(cause);
			return NULL;
		}
		printf("restore: %s is empty or damaged: it is moved aside "
		    "as it is, not copied\n", conf->database);
		free(cause);
		if (restore_set_aside(conf->database, kept) != EX_OK)
			return NULL;
		*existed = 0;
	}
	if ((cli->db = db_open(conf->database, 1, &cause)) == NULL) {
		cli_error(EX_CANTCREAT, "%s", cause);
		free(cause);
	}
	return cli->db;
}

/* A copy of the database about to be replaced, named for the time. */
static int
keep_old(struct db *db, const char *database, char **kept)
{
	char	*cause;
	int	 rc;

	*kept = restore_stamped(database);
	if (access(*kept, F_OK) == 0)
		return cli_error(EX_CANTCREAT, "%s: already exists; try again "
		    "in a second", *kept);
	if (db_backup(db, *kept, &cause) == -1) {
		rc = cli_error(EX_IOERR, "%s", cause);
		free(cause);
		return rc;
	}
	return EX_OK;
}

/* "1 erasure, 2 unsubscribes" for what a replay re-applied. */
static char *
replay_text(const struct journal_replay *r)
{
	static const char *const what[][2] = {
		[JOURNAL_UNSUBSCRIBE] = { "unsubscribe", "unsubscribes" },
		[JOURNAL_SUPPRESS] = { "suppression", "suppressions" },
		[JOURNAL_ERASE] = { "erasure", "erasures" },
		[JOURNAL_RESUBSCRIBE] = { "resubscription",
		    "resubscriptions" },
		[JOURNAL_UNSUPPRESS] = { "lifted suppression",
		    "lifted suppressions" },
	};
	static const enum journal_action order[] = { JOURNAL_ERASE,
	    JOURNAL_UNSUBSCRIBE, JOURNAL_SUPPRESS, JOURNAL_RESUBSCRIBE,
	    JOURNAL_UNSUPPRESS };
	struct buf	 b;
	size_t		 i;
	long		 n;

	buf_init(&b);
	buf_adds(&b, "");
	for (i = 0; i < nitems(order); i++) {
		if ((n = r->n[order[i]]) == 0)
			continue;
		buf_addf(&b, "%s%ld %s", b.len > 0 ? ", " : "", n,
		    what[order[i]][n != 1]);
	}
	return buf_steal(&b);
}

/*
 * The privacy actions taken since the backup (the journal beside the
 * database) are taken again before anything can be sent.
 */
static int
restore_replay(struct cli *cli)
{
	struct journal_replay r;
	struct token_keys keys;
	char		*cause, *text;
	int		 rc;

	cli_keys(cli, &keys);
	if (db_journal_replay(cli_db(cli), &keys, &r, &cause) == -1) {
		rc = cli_error(EX_SOFTWARE, "%s; the privacy actions taken "
		    "since the backup are NOT re-applied: do not start "
		    "clariond; run 'clarion restore' again once fixed", cause);
		free(cause);
		return rc;
	}
	text = replay_text(&r);
	if (*text != '\0')
		printf("restore: re-applied from the privacy journal: %s\n",
		    text);
	else
		printf("restore: the privacy journal holds nothing newer than "
		    "the backup (%ld entr%s since it)\n", r.entries,
		    r.entries == 1 ? "y" : "ies");
	if (r.bad > 0)
		fprintf(stderr, "clarion: warning: %ld unreadable line%s in the "
		    "privacy journal skipped\n", r.bad, r.bad == 1 ? "" : "s");
	free(text);
	return EX_OK;
}

static int
restore_into(struct cli *cli, const char *file)
{
	const char	*database = cli_config(cli)->database;
	struct db	*db;
	char		*cause, *kept = NULL;
	long		 pid;
	int		 rc, existed;

	/* The daemon's lock says it runs, however it was started. */
	if ((pid = daemon_lock_holder(database)) != 0)
		return cli_error(EX_TEMPFAIL, "clariond (pid %ld) is running "
		    "on %s: stop it first (systemctl stop clariond)", pid,
		    database);
	if ((db = restore_target(cli, &existed, &kept)) == NULL) {
		free(kept);
		return EX_CANTCREAT;
	}
	if (existed && (rc = keep_old(db, database, &kept)) != EX_OK) {
		free(kept);
		kept = NULL;
		/* Damage found only by reading it all: move it aside. */
		if (!db_damaged(db))
			return rc;
		db_close(cli->db);
		if ((rc = restore_set_aside(database, &kept)) != EX_OK ||
		    (db = cli->db = db_open(database, 1, &cause)) == NULL) {
			if (rc == EX_OK) {
				rc = cli_error(EX_CANTCREAT, "%s", cause);
				free(cause);
			}
			free(kept);
			return rc;
		}
	}
	if (db_restore(db, file, &cause) == -1) {
		rc = cli_error(EX_IOERR, "%s", cause);
		free(cause);
		free(kept);
		return rc;
	}
	if (kept != NULL)
		printf("restore: the previous database is kept as %s\n", kept);
	free(kept);
	/* Reopen, so a backup from an older Clarion is migrated now. */
	db_close(cli->db);
	cli->db = NULL;
	db_damaged_clear();	/* the damage was in the file now set aside */
	printf("restore: %s now holds %s (schema version %d)\n", database,
	    file, db_user_version(cli_db(cli)));
	return restore_replay(cli);
}

static int
restore_read(struct cli *cli, void *vo, int argc, char **argv)
{
	struct config	*conf;
	char		*cause;
	int		 rc, version;

	if (access(argv[0], R_OK) == -1)
		return cli_error(EX_NOINPUT, "%s: %s", argv[0],
		    strerror(errno));
	conf = cli_config(cli);
	if (same_file(argv[0], conf->database))
		return cli_error(EX_USAGE, "%s: is the database itself",
		    argv[0]);
	/* The replay needs the token secret: fail now, not half-way. */
	cli_keys(cli, &cli->keys);
	if (db_backup_verify(argv[0], &version, &cause) == -1) {
		rc = cli_error(EX_DATAERR, "%s", cause);
		free(cause);
		return rc;
	}
	printf("restore: %s is sound (schema version %d)\n", argv[0], version);
	return restore_into(cli, argv[0]);
}

static const struct cli_sub backup_subs[] = {
	{ NULL, NULL, "", 0, 1, 1, backup_write, "backup FILE", NULL },
};

const struct cli_group cli_group_backup = {
	"backup", "write a consistent copy of the database",
	"Writes a consistent copy of the database to FILE (mode 0600),\n"
	"safe while clariond runs. To restore it: stop clariond, then\n"
	"'clarion restore FILE'.\n", NULL, NULL, 0, NULL, backup_subs,
	nitems(backup_subs)
};

static const struct cli_sub restore_subs[] = {
	{ NULL, NULL, "", 0, 1, 1, restore_read, "restore FILE", NULL },
};

const struct cli_group cli_group_restore = {
	"restore", "replace the database with a backup", restore_text, NULL,
	NULL, 0, NULL, restore_subs, nitems(restore_subs)
};
