/*
 * The outbox transport: every message becomes one file in a Maildir, so a
 * new user sees exactly what would be sent without a mail server. The
 * Maildir protocol makes each file appear whole or not at all: write to
 * tmp/ under a unique name, fsync, rename into new/.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clarion.h"

static int
outbox_mkdir(const char *path, char **cause)
{
	if (mkdir(path, 0700) == -1 && errno != EEXIST) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Creates DIR and DIR/{tmp,new,cur} if missing. */
static int
outbox_prepare(const char *maildir, char **cause)
{
	static const char *const sub[] = { "tmp", "new", "cur" };
	char		*p;
	size_t		 i;
	int		 rc = 0;

	if (outbox_mkdir(maildir, cause) == -1)
		return -1;
	for (i = 0; i < nitems(sub) && rc == 0; i++) {
		xasprintf(&p, "%s/%s", maildir, sub[i]);
		rc = outbox_mkdir(p, cause);
		free(p);
	}
	return rc;
}

/* time.pid.counter.hostname, with '/' and ':' kept out of the host part. */
static char *
outbox_name(void)
{
	static unsigned long counter;
	char		 host[HOST_NAME_MAX + 1], *p, *name;

	if (gethostname(host, sizeof host) == -1)
		strcpy(host, "localhost");
	host[sizeof host - 1] = '\0';
	for (p = host; *p != '\0'; p++)
		if (*p == '/' || *p == ':')
			*p = '_';
	xasprintf(&name, "%lld.%ld.%lu.%s", (long long)time(NULL),
	    (long)getpid(), ++counter, host);
	return name;
}

static int
outbox_write(int fd, const char *data, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		if ((n = write(fd, data, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		data += n;
		len -= (size_t)n;
	}
	return fsync(fd);
}

int
outbox_deliver(const char *maildir, const char *data, size_t len,
    char **cause)
{
	char	*name, *tmp, *new;
	int	 fd, rc = -1;

	if (outbox_prepare(maildir, cause) == -1)
		return -1;
	name = outbox_name();
	xasprintf(&tmp, "%s/tmp/%s", maildir, name);
	xasprintf(&new, "%s/new/%s", maildir, name);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1)
		xasprintf(cause, "%s: %s", tmp, strerror(errno));
	else if (outbox_write(fd, data, len) == -1) {
		xasprintf(cause, "%s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
	} else if (close(fd) == -1 || rename(tmp, new) == -1) {
		xasprintf(cause, "%s: %s", new, strerror(errno));
		unlink(tmp);
	} else
		rc = 0;
	free(name);
	free(tmp);
	free(new);
	return rc;
}

/*
 * What a real MDA would show: the envelope as Return-Path and
 * Delivered-To, then the message as it would have gone over SMTP.
 */
int
outbox_deliver_env(const char *maildir, const char *from, const char *rcpt,
    const char *data, size_t len, char **cause)
{
	struct buf	 b;
	int		 rc;

	buf_init(&b);
	buf_addf(&b, "Return-Path: <%s>\r\nDelivered-To: %s\r\n", from, rcpt);
	buf_add(&b, data, len);
	rc = outbox_deliver(maildir, b.data, b.len, cause);
	buf_free(&b);
	return rc;
}
