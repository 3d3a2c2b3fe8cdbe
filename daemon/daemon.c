/*
 * What the daemon's steps share with clariond.c's loop, in the library so
 * the steps can also run from tests and the CLI: the stop request, and the
 * lock that makes a daemon the only one on its database.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clarion.h"

volatile sig_atomic_t daemon_got_term;

/* Lets a step that runs long notice a stop request between messages. */
int
daemon_stopping(struct daemon_ctx *ctx)
{
	sigset_t	 pending;

	if (daemon_got_term)
		ctx->stopping = 1;
	if (!ctx->stopping && sigpending(&pending) == 0 &&
	    (sigismember(&pending, SIGTERM) || sigismember(&pending, SIGINT)))
		ctx->stopping = 1;
	return ctx->stopping;
}

/*
 * One daemon per database, always: <database>.lock, locked (fcntl) by the
 * daemon for its whole life, pid file or not. The kernel drops the lock
 * when the daemon dies however it dies, so a live holder is a live daemon,
 * and the rows it left in 'sending' are its own, not a crash's. The file
 * also carries, below the pid, a fault the daemon wants `clarion status`
 * to see even when the database itself cannot be written.
 *
 * fcntl locks belong to the process and go with any close() of the file:
 * the daemon opens it once and never again (so never calls
 * daemon_lock_holder() itself). A forked child does not inherit the lock.
 */
static int	 daemon_lock_fd = -1;

static char *
daemon_lock_path(const char *database)
{
	char	*path;

	xasprintf(&path, "%s.lock", database);
	return path;
}

/* The pid of the daemon holding the database's lock, or 0. */
long
daemon_lock_holder(const char *database)
{
	struct flock	 fl;
	char		*path = daemon_lock_path(database);
	int		 fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd == -1)
		return 0;
	memset(&fl, 0, sizeof fl);
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_GETLK, &fl) == -1 || fl.l_type == F_UNLCK)
		fl.l_pid = 0;
	close(fd);
	return (long)fl.l_pid;
}

static int
daemon_lock_write(int fd, const char *note)
{
	char	*text;
	int	 rc = 0;

	xasprintf(&text, "%ld\n%s%s", (long)getpid(), note != NULL ? note :
	    "", note != NULL ? "\n" : "");
	if (ftruncate(fd, 0) == -1 ||
	    pwrite(fd, text, strlen(text), 0) != (ssize_t)strlen(text))
		rc = -1;
	free(text);
	return rc;
}

/*
 * Takes the lock; -1 with *cause if it cannot, and *holder the pid of the
 * daemon that has it (0 if the failure is something else).
 */
int
daemon_lock(const char *database, long *holder, char **cause)
{
	struct flock	 fl;
	char		*path = daemon_lock_path(database);
	int		 fd;

	*holder = 0;
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	memset(&fl, 0, sizeof fl);
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_SETLK, &fl) == -1) {
		if (errno == EACCES || errno == EAGAIN) {
			close(fd);
			*holder = daemon_lock_holder(database);
			xasprintf(cause, "another clariond (pid %ld) is running "
			    "on %s (it holds %s); only one daemon may use a "
			    "database", *holder, database, path);
		} else {
			xasprintf(cause, "%s: lock: %s", path, strerror(errno));
			close(fd);
		}
		free(path);
		return -1;
	}
	free(path);
	if (daemon_lock_write(fd, NULL) == -1) {
		xasprintf(cause, "%s.lock: %s", database, strerror(errno));
		close(fd);
		return -1;
	}
	daemon_lock_fd = fd;
	return 0;
}

/* A fault for `clarion status` (NULL clears it); only in the lock holder. */
void
daemon_lock_note(const char *note)
{
	if (daemon_lock_fd != -1)
		daemon_lock_write(daemon_lock_fd, note);
}

/* The fault the running daemon noted, or NULL. */
char *
daemon_lock_note_get(const char *database)
{
	char	*path = daemon_lock_path(database), *line = NULL, *nl;
	size_t	 size = 0;
	FILE	*f;

	f = fopen(path, "re");
	free(path);
	if (f == NULL)
		return NULL;
	if (getline(&line, &size, f) == -1 ||
	    getline(&line, &size, f) == -1 || line[0] == '\n') {
		free(line);
		fclose(f);
		return NULL;
	}
	fclose(f);
	if ((nl = strchr(line, '\n')) != NULL)
		*nl = '\0';
	return line;
}
