/* Memory, strings, files and time helpers shared by both programs. */
#include "config.h"

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clarion.h"

void *
xmalloc(size_t size)
{
	void	*p;

	if ((p = malloc(size == 0 ? 1 : size)) == NULL)
		fatal("malloc");
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void	*p;

	if ((p = calloc(n == 0 ? 1 : n, size == 0 ? 1 : size)) == NULL)
		fatal("calloc");
	return p;
}

void *
xrealloc(void *p, size_t size)
{
	if ((p = realloc(p, size == 0 ? 1 : size)) == NULL)
		fatal("realloc");
	return p;
}

void *
xreallocarray(void *p, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		fatalx("xreallocarray: overflow");
	return xrealloc(p, n * size);
}

char *
xstrdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		fatal("strdup");
	return p;
}

char *
xstrndup(const char *s, size_t n)
{
	char	*p;

	if ((p = strndup(s, n)) == NULL)
		fatal("strndup");
	return p;
}

int
xvasprintf(char **ret, const char *fmt, va_list ap)
{
	int	 n;

	if ((n = vasprintf(ret, fmt, ap)) == -1)
		fatal("vasprintf");
	return n;
}

int
xasprintf(char **ret, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = xvasprintf(ret, fmt, ap);
	va_end(ap);
	return n;
}

void
buf_init(struct buf *b)
{
	b->data = NULL;
	b->len = b->cap = 0;
}

static void
buf_grow(struct buf *b, size_t more)
{
	size_t	 want;

	if (more > SIZE_MAX - b->len - 1)
		fatalx("buf_grow: overflow");
	want = b->len + more + 1;
	if (want <= b->cap)
		return;
	if (b->cap == 0)
		b->cap = 64;
	while (b->cap < want)
		b->cap = b->cap > SIZE_MAX / 2 ? want : b->cap * 2;
	b->data = xrealloc(b->data, b->cap);
}

void
buf_add(struct buf *b, const void *p, size_t n)
{
	buf_grow(b, n);
	if (n != 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void
buf_addc(struct buf *b, char c)
{
	buf_add(b, &c, 1);
}

void
buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;
	int	 n;

	va_start(ap, fmt);
	n = xvasprintf(&s, fmt, ap);
	va_end(ap);
	buf_add(b, s, (size_t)n);
	free(s);
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

/* Hands the string to the caller; the buffer is empty afterwards. */
char *
buf_steal(struct buf *b)
{
	char	*s;

	s = b->data != NULL ? b->data : xstrdup("");
	buf_init(b);
	return s;
}

void
buf_free(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

/* Reads a whole file; the result is NUL-terminated. */
char *
file_read(const char *path, size_t *lenp, char **cause)
{
	struct buf	 b;
	char		 chunk[65536];
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return NULL;
	}
	buf_init(&b);
	buf_grow(&b, 0);
	while ((n = read(fd, chunk, sizeof chunk)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			xasprintf(cause, "%s: %s", path, strerror(errno));
			close(fd);
			buf_free(&b);
			return NULL;
		}
		buf_add(&b, chunk, (size_t)n);
	}
	close(fd);
	if (lenp != NULL)
		*lenp = b.len;
	return buf_steal(&b);
}

static int
write_all(int fd, const void *p, size_t len)
{
	const char	*s = p;
	ssize_t		 n;

	while (len > 0) {
		if ((n = write(fd, s, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Writes through a temporary file, fsyncs and renames: all or nothing. */
int
file_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
    char **cause)
{
	char	*tmp;
	int	 fd, saved;

	xasprintf(&tmp, "%s.tmp.%ld", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd == -1) {
		xasprintf(cause, "%s: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	if (write_all(fd, data, len) == -1 || fsync(fd) == -1 ||
	    close(fd) == -1) {
		saved = errno;
		close(fd);
		unlink(tmp);
		xasprintf(cause, "%s: %s", tmp, strerror(saved));
		free(tmp);
		return -1;
	}
	if (rename(tmp, path) == -1) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}

/*
 * A file holding a secret must belong to us and be unreadable by group and
 * others, as msmtp requires of its configuration.
 */
int
file_private_check(const char *path, char **cause)
{
	struct stat	 sb;

	if (stat(path, &sb) == -1) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (sb.st_uid != geteuid()) {
		xasprintf(cause, "%s: holds a secret but is owned by uid %ld, "
		    "not by this user (uid %ld); fix: chown %ld %s", path,
		    (long)sb.st_uid, (long)geteuid(), (long)geteuid(), path);
		return -1;
	}
	if ((sb.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		xasprintf(cause, "%s: holds a secret but is readable by group "
		    "or others (mode %04o); fix: chmod 600 %s", path,
		    (unsigned)(sb.st_mode & 07777), path);
		return -1;
	}
	return 0;
}

/* Reads a secret (trailing newline removed) from a private file. */
int
secret_file_read(const char *path, char **secret, size_t *lenp, char **cause)
{
	char	*s;
	size_t	 len;

	if (file_private_check(path, cause) == -1)
		return -1;
	if ((s = file_read(path, &len, cause)) == NULL)
		return -1;
	while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r'))
		s[--len] = '\0';
	if (len == 0) {
		xasprintf(cause, "%s: the secret file is empty", path);
		free(s);
		return -1;
	}
	*secret = s;
	if (lenp != NULL)
		*lenp = len;
	return 0;
}

/* A relative path is taken relative to the directory of base (a file). */
char *
path_resolve(const char *base, const char *path)
{
	const char	*slash;
	char		*out;

	if (path[0] == '/' || base == NULL || (slash = strrchr(base, '/')) == NULL)
		return xstrdup(path);
	xasprintf(&out, "%.*s/%s", (int)(slash - base), base, path);
	return out;
}

void
explicit_zero(void *p, size_t len)
{
	explicit_bzero(p, len);
}

/*
 * The clock. Tests set CLARION_NOW to a fixed epoch, or CLARION_CLOCK_FILE
 * to a file holding the epoch, which a test advances while the daemon runs.
 */
time_t
clock_now(void)
{
	const char	*s;
	char		 line[64];
	FILE		*f;
	long long	 v;

	if ((s = getenv("CLARION_NOW")) != NULL && *s != '\0')
		return (time_t)strtoll(s, NULL, 10);
	if ((s = getenv("CLARION_CLOCK_FILE")) != NULL && *s != '\0' &&
	    (f = fopen(s, "r")) != NULL) {
		v = -1;
		if (fgets(line, sizeof line, f) != NULL)
			v = strtoll(line, NULL, 10);
		fclose(f);
		if (v > 0)
			return (time_t)v;
	}
	return time(NULL);
}

/* Prints each line of text with prefix: one error per line stays greppable. */
void
lines_print(FILE *f, const char *prefix, const char *text)
{
	const char	*p = text, *nl;

	do {
		nl = strchr(p, '\n');
		fprintf(f, "%s%.*s\n", prefix, nl != NULL ? (int)(nl - p) :
		    (int)strlen(p), p);
		p = nl + 1;
	} while (nl != NULL);
}

/*
 * Whether the C library knows zone tz from the tz database. It would
 * take an unknown name ("Europe/Londn") as UTC without a word, so the
 * name must be a TZif file under TZDIR (default /usr/share/zoneinfo).
 */
int
tz_known(const char *tz, char **cause)
{
	const char	*dir, *p;
	char		*path, magic[4];
	FILE		*f;
	size_t		 n = 0;

	if (strcmp(tz, "UTC") == 0)
		return 0;
	for (p = tz; *p != '\0'; p++) {
		if (!isalnum((unsigned char)*p) && strchr("/_+-", *p) == NULL)
			break;
	}
	if (*tz == '\0' || *p != '\0' || *tz == '/' || strstr(tz, "..")) {
		xasprintf(cause, "\"%s\" is not a time zone name (such as "
		    "\"Europe/London\")", tz);
		return -1;
	}
	if ((dir = getenv("TZDIR")) == NULL || *dir == '\0')
		dir = "/usr/share/zoneinfo";
	xasprintf(&path, "%s/%s", dir, tz);
	if ((f = fopen(path, "r")) != NULL) {
		n = fread(magic, 1, sizeof magic, f);
		fclose(f);
	}
	free(path);
	if (n != sizeof magic || memcmp(magic, "TZif", 4) != 0) {
		xasprintf(cause, "\"%s\" is not in the time zone database "
		    "(%s); use a name such as \"Europe/London\"", tz, dir);
		return -1;
	}
	return 0;
}

/*
 * Runs f with TZ set to tz (NULL = UTC), restoring it after. An unknown
 * zone would silently be UTC; the configuration refuses one, so meeting
 * one here is a bug, and carrying on would send mail at the wrong hour.
 */
static void
tz_push(const char *tz, char **saved)
{
	static char	*known;
	const char	*old;
	char		*cause;

	if (tz != NULL && (known == NULL || strcmp(known, tz) != 0)) {
		if (tz_known(tz, &cause) == -1)
			fatalx("time zone: %s", cause);
		free(known);
		known = xstrdup(tz);
	}
	old = getenv("TZ");
	*saved = old != NULL ? xstrdup(old) : NULL;
	setenv("TZ", tz != NULL ? tz : "UTC", 1);
	tzset();
}

static void
tz_pop(char *saved)
{
	if (saved != NULL) {
		setenv("TZ", saved, 1);
		free(saved);
	} else
		unsetenv("TZ");
	tzset();
}

/*
 * Parses "YYYY-MM-DD HH:MM[:SS]" or "YYYY-MM-DDTHH:MM" or "YYYY-MM-DD"
 * as wall-clock time in zone tz.
 */
int
time_parse_local(const char *s, const char *tz, time_t *out, char **cause)
{
	struct tm	 tm;
	char		*saved, extra;
	int		 y, mo, d, h = 0, mi = 0, sec = 0, n;
	time_t		 t;

	n = sscanf(s, "%4d-%2d-%2d%*[ T]%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi,
	    &sec, &extra);
	if (n < 3 || n == 4 || n == 7 || mo < 1 || mo > 12 || d < 1 ||
	    d > 31 || h > 23 || mi > 59 || sec > 60 || h < 0 || mi < 0 ||
	    sec < 0) {
		xasprintf(cause, "'%s' is not a date and time "
		    "(use YYYY-MM-DD HH:MM)", s);
		return -1;
	}
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	tm.tm_isdst = -1;
	tz_push(tz, &saved);
	t = mktime(&tm);
	tz_pop(saved);
	if (t == (time_t)-1 || tm.tm_mday != d) {
		xasprintf(cause, "'%s' is not a valid date", s);
		return -1;
	}
	*out = t;
	return 0;
}

char *
time_format_local(time_t t, const char *tz, const char *fmt)
{
	struct tm	 tm;
	char		 out[256], *saved;

	tz_push(tz, &saved);
	localtime_r(&t, &tm);
	if (strftime(out, sizeof out, fmt, &tm) == 0)
		out[0] = '\0';
	tz_pop(saved);
	return xstrdup(out);
}

/* RFC 5322 date in UTC, locale-independent. */
char *
time_format_rfc5322(time_t t)
{
	static const char *days[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
	    "Fri", "Sat" };
	static const char *months[] = { "Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm	 tm;
	char		*s;

	gmtime_r(&t, &tm);
	xasprintf(&s, "%s, %02d %s %04d %02d:%02d:%02d +0000",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	return s;
}

char *
time_format_iso(time_t t)
{
	struct tm	 tm;
	char		*s;

	gmtime_r(&t, &tm);
	xasprintf(&s, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	return s;
}

/* "90", "90s", "15m", "2h", "1d", "3w" -> seconds. */
int
duration_parse(const char *s, long *out, char **cause)
{
	char	*end;
	long	 v, mult = 1;

	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || errno != 0 || v < 0)
		goto bad;
	switch (*end) {
	case '\0':
	case 's':
		break;
	case 'm':
		mult = 60;
		break;
	case 'h':
		mult = 3600;
		break;
	case 'd':
		mult = 86400;
		break;
	case 'w':
		mult = 7 * 86400;
		break;
	default:
		goto bad;
	}
	if (*end != '\0' && end[1] != '\0')
		goto bad;
	if (v > LONG_MAX / mult)
		goto bad;
	*out = v * mult;
	return 0;
bad:
	xasprintf(cause, "'%s' is not a duration (such as 90s, 15m, 2h, 1d)",
	    s);
	return -1;
}

char *
str_trim(char *s)
{
	char	*end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* True if s holds a control character (CR, LF, NUL-less C0, DEL). */
int
str_has_ctl(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return 1;
	}
	return 0;
}

/* True if s starts with prefix, ignoring ASCII case. */
int
str_casecmp_prefix(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/*
 * Case-insensitive memmem. Candidates are found with memchr on both cases
 * of the first byte, a window at a time so that the work stays in
 * proportion to the distance to the match: this runs over whole bodies
 * for dozens of phrases, and callers loop over successive matches.
 */
const char *
str_casemem(const char *h, size_t hlen, const char *n)
{
	size_t		 nlen = strlen(n);
	const char	*end, *w, *c, *p, *q;
	int		 cl, cu;

	if (nlen == 0 || nlen > hlen)
		return NULL;
	end = h + (hlen - nlen + 1);	/* last start + 1 */
	cl = tolower((unsigned char)n[0]);
	cu = toupper((unsigned char)n[0]);
	for (p = h; p < end;) {
		w = end - p > 256 ? p + 256 : end;
		c = memchr(p, cl, (size_t)(w - p));
		if (cu != cl && (q = memchr(p, cu, (size_t)((c != NULL ? c :
		    w) - p))) != NULL)
			c = q;
		if (c == NULL) {
			p = w;
			continue;
		}
		if (strncasecmp(c + 1, n + 1, nlen - 1) == 0)
			return c;
		p = c + 1;
	}
	return NULL;
}

const char *
str_casefind(const char *h, const char *n)
{
	return h == NULL ? NULL : str_casemem(h, strlen(h), n);
}

/* The first of a NULL-terminated list of phrases found in s. */
const char *
str_casefind_any(const char *s, const char *const *list)
{
	for (; *list != NULL; list++)
		if (str_casefind(s, *list) != NULL)
			return *list;
	return NULL;
}

int
str_caseprefix_any(const char *s, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strncasecmp(s, *list, strlen(*list)) == 0)
			return 1;
	return 0;
}
