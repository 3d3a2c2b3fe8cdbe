/*
 * One logging API for both programs, to stderr or syslog (facility mail),
 * as in OpenSMTPD. Email addresses are personal data: at info level they
 * are shown as a short keyed hash (log_addr), in full only at debug.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "clarion.h"

static const char	*log_name = "clarion";
static int		 log_syslog;
static enum log_level	 log_level = LOG_LEVEL_INFO;
static unsigned char	 log_key[32];
static int		 log_has_key;

void
log_init(const char *name, int use_syslog, enum log_level level)
{
	log_name = name;
	log_level = level;
	if (log_syslog && !use_syslog)
		closelog();
	log_syslog = use_syslog;
	if (use_syslog)
		openlog(name, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void
log_set_level(enum log_level level)
{
	log_level = level;
}

enum log_level
log_get_level(void)
{
	return log_level;
}

int
log_level_parse(const char *s, enum log_level *out)
{
	static const char *names[] = { "error", "warn", "info", "debug" };
	size_t	 i;

	for (i = 0; i < nitems(names); i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

void
log_set_hash_key(const unsigned char *key, size_t len)
{
	crypto_hmac_sha256("clarion-log", 11, key, len, log_key);
	log_has_key = 1;
}

/*
 * An address as it may appear in the log: in full at debug level, else a
 * keyed hash ("addr:1a2b3c4d5e") that stays the same for one address so a
 * log can still be followed, but cannot be reversed without the secret.
 * Returns a static buffer, one of four so a line can hold several.
 */
const char *
log_addr(const char *address)
{
	static char	 out[4][80];
	static int	 next;
	unsigned char	 mac[32];
	char		*p;
	int		 i;

	p = out[next];
	next = (next + 1) % 4;
	if (address == NULL)
		return "(none)";
	if (log_level >= LOG_LEVEL_DEBUG) {
		snprintf(p, sizeof out[0], "<%s>", address);
		return p;
	}
	if (!log_has_key)
		memset(log_key, 0, sizeof log_key);
	crypto_hmac_sha256(log_key, sizeof log_key, address, strlen(address),
	    mac);
	strcpy(p, "addr:");
	for (i = 0; i < 5; i++)
		snprintf(p + 5 + i * 2, 3, "%02x", mac[i]);
	return p;
}

static void
log_vwrite(int pri, enum log_level level, const char *fmt, va_list ap,
    int with_errno, int saved_errno)
{
	char	 msg[4096];
	size_t	 len;

	if (level > log_level)
		return;
	vsnprintf(msg, sizeof msg, fmt, ap);
	if (with_errno) {
		len = strlen(msg);
		snprintf(msg + len, sizeof msg - len, ": %s",
		    strerror(saved_errno));
	}
	if (log_syslog)
		syslog(pri, "%s", msg);
	else {
		fprintf(stderr, "%s: %s\n", log_name, msg);
		fflush(stderr);
	}
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	log_vwrite(LOG_WARNING, LOG_LEVEL_WARN, fmt, ap, 1, saved);
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite(LOG_WARNING, LOG_LEVEL_WARN, fmt, ap, 0, 0);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite(LOG_INFO, LOG_LEVEL_INFO, fmt, ap, 0, 0);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite(LOG_DEBUG, LOG_LEVEL_DEBUG, fmt, ap, 0, 0);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	log_vwrite(LOG_CRIT, LOG_LEVEL_ERROR, fmt, ap, 1, saved);
	va_end(ap);
	exit(EX_SOFTWARE);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite(LOG_CRIT, LOG_LEVEL_ERROR, fmt, ap, 0, 0);
	va_end(ap);
	exit(EX_SOFTWARE);
}
