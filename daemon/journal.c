/*
 * The privacy journal: an append-only file beside the database
 * (DATABASE.journal, mode 0600) with one line per privacy action:
 * unsubscribe, suppress, erase, resubscribe, unsuppress. A backup covers
 * only the database file, so `clarion restore` of an older backup would
 * forget every such action taken since; restore replays the journal
 * (db_journal.c) to take them again.
 *
 * Each line is a JSON object: seq, at, action, hash (the keyed hash of the
 * address, as in suppressions), and where they apply list, text (the
 * suppression reason or the source) and consent (what an officer recorded
 * when a person came back). There is never a plain address in it: the
 * journal outlives erasures.
 *
 * Appends are one write(2) of a whole line on an O_APPEND descriptor,
 * then fsync(2): a line is there or it is not, and it is on disk before
 * the database records the action.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "clarion.h"

static const char *const journal_names[] = {
	[JOURNAL_UNSUBSCRIBE] = "unsubscribe",
	[JOURNAL_SUPPRESS] = "suppress",
	[JOURNAL_ERASE] = "erase",
	[JOURNAL_RESUBSCRIBE] = "resubscribe",
	[JOURNAL_UNSUPPRESS] = "unsuppress",
};

const char *
journal_action_name(enum journal_action a)
{
	return journal_names[a];
}

char *
journal_path(const char *dbpath)
{
	char	*p;

	xasprintf(&p, "%s.journal", dbpath);
	return p;
}

static char *
journal_line(const struct journal_entry *e)
{
	json_t	*o;
	char	*s, *line;

	o = json_pack("{s:I, s:I, s:s, s:s}", "seq", (json_int_t)e->seq, "at",
	    (json_int_t)e->at, "action", journal_names[e->action], "hash",
	    e->hash);
	if (e->list != 0)
		json_object_set_new(o, "list", json_integer(e->list));
	if (e->text != NULL)
		json_object_set_new(o, "text", json_string(e->text));
	if (e->consent != NULL)
		json_object_set_new(o, "consent", json_string(e->consent));
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	if (s == NULL)
		return NULL;
	xasprintf(&line, "%s\n", s);
	free(s);
	return line;
}

/* A new journal's name must survive a crash too: fsync its directory. */
static void
journal_sync_dir(const char *path)
{
	char	*copy = xstrdup(path);
	int	 fd;

	if ((fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) !=
	    -1) {
		fsync(fd);
		close(fd);
	}
	free(copy);
}

int
journal_append(const char *dbpath, const struct journal_entry *e,
    char **cause)
{
	char	*path, *line;
	ssize_t	 n;
	size_t	 len;
	int	 fd, rc = -1, created;

	if ((line = journal_line(e)) == NULL) {
		xasprintf(cause, "cannot format a journal entry");
		return -1;
	}
	len = strlen(line);
	path = journal_path(dbpath);
	created = access(path, F_OK) == -1;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd == -1)
		xasprintf(cause, "%s: %s", path, strerror(errno));
	else if ((n = write(fd, line, len)) != (ssize_t)len)
		xasprintf(cause, "%s: %s", path, n == -1 ? strerror(errno) :
		    "short write");
	else if (fsync(fd) == -1)
		xasprintf(cause, "%s: fsync: %s", path, strerror(errno));
	else
		rc = 0;
	if (fd != -1)
		close(fd);
	if (rc == 0 && created)
		journal_sync_dir(path);
	free(path);
	free(line);
	return rc;
}

static int
journal_parse(const char *line, struct journal_entry *e)
{
	json_t		*o, *v;
	json_error_t	 err;
	const char	*action, *hash;
	size_t		 i;

	memset(e, 0, sizeof *e);
	if ((o = json_loads(line, 0, &err)) == NULL)
		return -1;
	action = json_string_value(json_object_get(o, "action"));
	hash = json_string_value(json_object_get(o, "hash"));
	e->seq = json_integer_value(json_object_get(o, "seq"));
	e->at = (time_t)json_integer_value(json_object_get(o, "at"));
	e->list = json_integer_value(json_object_get(o, "list"));
	if (action == NULL || hash == NULL || strlen(hash) >= sizeof e->hash ||
	    e->seq <= 0) {
		json_decref(o);
		return -1;
	}
	memcpy(e->hash, hash, strlen(hash) + 1);
	for (i = 0; i < nitems(journal_names); i++)
		if (strcmp(action, journal_names[i]) == 0)
			break;
	e->action = (enum journal_action)i;
	if ((v = json_object_get(o, "text")) != NULL)
		e->text = xstrdup(json_string_value(v) != NULL ?
		    json_string_value(v) : "");
	if ((v = json_object_get(o, "consent")) != NULL)
		e->consent = xstrdup(json_string_value(v) != NULL ?
		    json_string_value(v) : "");
	json_decref(o);
	return i < nitems(journal_names) ? 0 : -1;
}

/*
 * Calls cb for each entry, in file order (the order the actions were
 * taken). A line that does not parse (a torn last line after a crash in
 * write(2)) is skipped and counted in *bad. A missing journal has no
 * entries.
 */
int
journal_read(const char *dbpath, int (*cb)(void *, const struct journal_entry *),
    void *arg, long *bad, char **cause)
{
	struct journal_entry e;
	FILE	*f;
	char	*path, *line = NULL;
	size_t	 size = 0;
	int	 rc = 0;

	*bad = 0;
	path = journal_path(dbpath);
	if ((f = fopen(path, "re")) == NULL) {
		if (errno == ENOENT) {
			free(path);
			return 0;
		}
		xasprintf(cause, "%s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	while (rc == 0 && getline(&line, &size, f) != -1) {
		if (journal_parse(line, &e) == -1) {
			(*bad)++;
			journal_entry_clear(&e);
			continue;
		}
		rc = cb(arg, &e);
		journal_entry_clear(&e);
	}
	if (ferror(f)) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		rc = -1;
	}
	fclose(f);
	free(line);
	free(path);
	return rc;
}

void
journal_entry_clear(struct journal_entry *e)
{
	free((char *)e->text);
	free((char *)e->consent);
	e->text = e->consent = NULL;
}
