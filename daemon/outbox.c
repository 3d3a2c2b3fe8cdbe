/*
 * The outbox transport: every message becomes one file in a Maildir, so a
 * new user sees exactly what would be sent without a mail server. The
 * Maildir protocol makes each file appear whole or not at all: write to
 * tmp/ under a unique name, fsync, rename into new/.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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

/*
 * Erasure reaches the outbox too: the files of the person at address go.
 * A file is theirs if it names the address anywhere: its envelope
 * recipient (the Delivered-To line outbox_deliver_env writes), its To:,
 * or a forward or digest that quotes them. Matching by address rather than by
 * Message-ID: the erasure has already withdrawn the address from the
 * database, so it is the one key left, and it finds confirmations and
 * forwards as well as deliveries. Case is ignored; the address must stand
 * alone (joann@ is not ann@).
 */
static int
outbox_addr_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '%' ||
	    c == '+' || c == '-';
}

static int
outbox_names(const char *data, size_t len, const char *address)
{
	size_t	 alen = strlen(address), i, end;

	if (alen == 0 || len < alen)
		return 0;
	for (i = 0; i + alen <= len; i++) {
		if (strncasecmp(data + i, address, alen) != 0)
			continue;
		if (i > 0 && outbox_addr_char((unsigned char)data[i - 1]))
			continue;
		end = i + alen;
		/* "ann@example.net." ends a sentence; ".uk" goes on. */
		if (end < len && (outbox_addr_char((unsigned char)data[end]) &&
		    !(data[end] == '.' && (end + 1 == len ||
		    !outbox_addr_char((unsigned char)data[end + 1])))))
			continue;
		return 1;
	}
	return 0;
}

static int
outbox_erase_dir(const char *dir, const char *address, long *n,
    char **cause)
{
	struct dirent	*de;
	DIR		*d;
	char		*path, *data, *why;
	size_t		 len;
	int		 rc = 0;

	if ((d = opendir(dir)) == NULL)
		return errno == ENOENT ? 0 : (xasprintf(cause, "%s: %s", dir,
		    strerror(errno)), -1);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		xasprintf(&path, "%s/%s", dir, de->d_name);
		if ((data = file_read(path, &len, &why)) == NULL)
			free(why);	/* gone meanwhile, or not a file */
		else if (outbox_names(data, len, address)) {
			if (unlink(path) == 0)
				(*n)++;
			else if (errno != ENOENT) {
				xasprintf(cause, "%s: %s", path,
				    strerror(errno));
				rc = -1;
			}
		}
		if (data != NULL) {
			explicit_zero(data, len);
			free(data);
		}
		free(path);
		if (rc == -1)
			break;
	}
	closedir(d);
	return rc;
}

/* Deletes the outbox messages that concern address; *n says how many. */
int
outbox_erase(const char *maildir, const char *address, long *n, char **cause)
{
	static const char *const sub[] = { "new", "cur", "tmp" };
	char	*dir;
	size_t	 i;
	int	 rc = 0;

	*n = 0;
	for (i = 0; i < nitems(sub) && rc == 0; i++) {
		xasprintf(&dir, "%s/%s", maildir, sub[i]);
		rc = outbox_erase_dir(dir, address, n, cause);
		free(dir);
	}
	return rc;
}
