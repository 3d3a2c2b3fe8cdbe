/*
 * The configuration file (libconfig). Every key is in one table with its
 * type; anything else is an error naming file:line and the key, because a
 * misspelt key silently ignored is how mail goes out unencrypted.
 */
#include "config.h"

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <libconfig.h>

#include "clarion.h"

enum key_type {
	K_GROUP,
	K_STR,
	K_INT,
	K_BOOL,
	K_DUR,		/* seconds: an integer or a string such as "15m" */
	K_TIMEOFDAY,	/* "21:30" -> minutes after midnight */
	K_CHAR,
	K_PATH,		/* a string; relative paths are relative to the file */
	K_TRANSPORT,
	K_LOGLEVEL,
	K_RESEND,
	K_DATE,
	K_SECRET,	/* an inline secret: the file must then be private */
	K_INBOUND,
};

struct key {
	const char	*name;
	enum key_type	 type;
	size_t		 off;
	long		 min, max;
	const char	*help;
};

#define O(f) offsetof(struct config, f)
#define NOFF ((size_t)-1)

static const struct key keys[] = {
	{ "database", K_PATH, O(database), 0, 0, NULL },
	{ "domain", K_STR, O(domain), 0, 0, NULL },
	{ "token_secret_file", K_PATH, O(token_secret_file), 0, 0, NULL },
	{ "token_old_secret_file", K_PATH, O(token_old_secret_file), 0, 0,
	    NULL },
	{ "token_old_until", K_DATE, O(token_old_until), 0, 0, NULL },
	{ "templates_dir", K_PATH, O(templates_dir), 0, 0, NULL },
	{ "timezone", K_STR, O(timezone), 0, 0, NULL },
	{ "inbound", K_INBOUND, O(inbound), 0, 0, NULL },
	{ "log_level", K_LOGLEVEL, O(log_level), 0, 0, NULL },
	{ "pid_file", K_PATH, O(pid_file), 0, 0, NULL },
	{ "tick", K_DUR, O(tick), 1, 86400, NULL },
	{ "transport", K_TRANSPORT, O(transport), 0, 0, NULL },
	{ "outbox", K_PATH, O(outbox), 0, 0, NULL },
	{ "test_address", K_STR, O(test_address), 0, 0, NULL },

	{ "smtp", K_GROUP, NOFF, 0, 0, NULL },
	{ "smtp.url", K_STR, O(smtp.url), 0, 0, NULL },
	{ "smtp.user", K_STR, O(smtp.user), 0, 0, NULL },
	{ "smtp.password", K_SECRET, O(smtp.password), 0, 0, NULL },
	{ "smtp.password_file", K_PATH, O(smtp.password_file), 0, 0, NULL },
	{ "smtp.ca_file", K_PATH, O(smtp.ca_file), 0, 0, NULL },
	{ "smtp.tls_verify", K_BOOL, O(smtp.tls_verify), 0, 0, NULL },
	{ "smtp.require_tls", K_BOOL, O(smtp.require_tls), 0, 0, NULL },
	{ "smtp.connections", K_INT, O(smtp.connections), 1, 64, NULL },
	{ "smtp.timeout", K_DUR, O(smtp.timeout), 1, 3600, NULL },
	{ "smtp.helo", K_STR, O(smtp.helo), 0, 0, NULL },

	{ "imap", K_GROUP, NOFF, 0, 0, NULL },
	{ "imap.enabled", K_BOOL, O(imap.enabled), 0, 0, NULL },
	{ "imap.url", K_STR, O(imap.url), 0, 0, NULL },
	{ "imap.user", K_STR, O(imap.user), 0, 0, NULL },
	{ "imap.password", K_SECRET, O(imap.password), 0, 0, NULL },
	{ "imap.password_file", K_PATH, O(imap.password_file), 0, 0, NULL },
	{ "imap.ca_file", K_PATH, O(imap.ca_file), 0, 0, NULL },
	{ "imap.tls_verify", K_BOOL, O(imap.tls_verify), 0, 0, NULL },
	{ "imap.starttls", K_BOOL, O(imap.starttls), 0, 0, NULL },
	{ "imap.mailbox", K_STR, O(imap.mailbox), 0, 0, NULL },
	{ "imap.folder_prefix", K_STR, O(imap.folder_prefix), 0, 0, NULL },
	{ "imap.poll_interval", K_DUR, O(imap.poll_interval), 1, 86400, NULL },
	{ "imap.idle", K_BOOL, O(imap.idle), 0, 0, NULL },
	{ "imap.timeout", K_DUR, O(imap.timeout), 1, 3600, NULL },
	{ "imap.max_message_size", K_INT, O(imap.max_message_size), 1024,
	    1L << 30, NULL },

	{ "dkim", K_GROUP, NOFF, 0, 0, NULL },
	{ "dkim.selector", K_STR, O(dkim.selector), 0, 0, NULL },
	{ "dkim.domain", K_STR, O(dkim.domain), 0, 0, NULL },
	{ "dkim.key_file", K_PATH, O(dkim.key_file), 0, 0, NULL },

	{ "rate", K_GROUP, NOFF, 0, 0, NULL },
	{ "rate.per_minute", K_INT, O(rate_per_minute), 0, 1000000, NULL },
	{ "rate.per_hour", K_INT, O(rate_per_hour), 0, 10000000, NULL },
	{ "rate.per_day", K_INT, O(rate_per_day), 0, 100000000, NULL },

	{ "quiet_hours", K_GROUP, NOFF, 0, 0, NULL },
	{ "quiet_hours.start", K_TIMEOFDAY, O(quiet_start), 0, 0, NULL },
	{ "quiet_hours.end", K_TIMEOFDAY, O(quiet_end), 0, 0, NULL },

	{ "addresses", K_GROUP, NOFF, 0, 0, NULL },
	{ "addresses.bounces", K_STR, O(bounce_local), 0, 0, NULL },
	{ "addresses.reply", K_STR, O(reply_local), 0, 0, NULL },
	{ "addresses.unsubscribe", K_STR, O(unsubscribe_local), 0, 0, NULL },
	{ "addresses.delimiter", K_CHAR, O(delimiter), 0, 0, NULL },
	{ "addresses.unsubscribe_url", K_STR, O(unsubscribe_url), 0, 0, NULL },

	{ "delivery", K_GROUP, NOFF, 0, 0, NULL },
	{ "delivery.retry_initial", K_DUR, O(retry_initial), 1, 86400, NULL },
	{ "delivery.retry_max_interval", K_DUR, O(retry_max_interval), 1,
	    7 * 86400, NULL },
	{ "delivery.max_age", K_DUR, O(retry_max_age), 60, 30 * 86400, NULL },
	{ "delivery.after_crash", K_RESEND, O(resend_in_flight), 0, 0, NULL },
	{ "delivery.batch", K_INT, O(claim_batch), 1, 10000, NULL },

	{ "schedule", K_GROUP, NOFF, 0, 0, NULL },
	{ "schedule.missed_grace", K_DUR, O(missed_grace), 0, 30 * 86400,
	    NULL },
	{ "schedule.notice_days", K_INT, O(notice_days), 0, 365, NULL },
	{ "schedule.meeting_length", K_DUR, O(meeting_length), 300,
	    86400, NULL },
	{ "schedule.reminder_before", K_DUR, O(reminder_before), 0,
	    30 * 86400, NULL },

	{ "bounces", K_GROUP, NOFF, 0, 0, NULL },
	{ "bounces.threshold", K_INT, O(bounce_threshold), 1, 1000, NULL },
	{ "bounces.window", K_DUR, O(bounce_window), 3600, 365 * 86400,
	    NULL },
	{ "bounces.digest_interval", K_DUR, O(digest_interval), 3600,
	    365 * 86400, NULL },
};

/* The keys, for the man page drift test. */
const char *const *
config_known_keys(void)
{
	static const char	*names[nitems(keys) + 1];
	size_t			 i;

	for (i = 0; i < nitems(keys); i++)
		names[i] = keys[i].name;
	names[i] = NULL;
	return names;
}

static void
config_defaults(struct config *c)
{
	c->database = xstrdup(LOCALSTATEDIR "/lib/clarion/clarion.db");
	c->timezone = xstrdup("Europe/London");
	c->templates_dir = xstrdup(PKGDATADIR "/templates");
	c->log_level = LOG_LEVEL_INFO;
	c->tick = 60;
	c->transport = TRANSPORT_OUTBOX;
	c->smtp.tls_verify = 1;
	c->smtp.require_tls = 1;
	c->smtp.connections = 4;
	c->smtp.timeout = 60;
	c->imap.mailbox = xstrdup("INBOX");
	c->imap.folder_prefix = xstrdup("Clarion");
	c->imap.tls_verify = 1;
	c->imap.poll_interval = 300;
	c->imap.idle = 1;
	c->imap.timeout = 60;
	c->imap.max_message_size = 10L * 1024 * 1024;
	c->quiet_start = c->quiet_end = -1;
	c->bounce_local = xstrdup("bounces");
	c->reply_local = xstrdup("reply");
	c->unsubscribe_local = xstrdup("unsubscribe");
	c->delimiter = '+';
	c->retry_initial = 300;
	c->retry_max_interval = 4 * 3600;
	c->retry_max_age = 3 * 86400;
	c->resend_in_flight = RESEND_RESEND;
	c->claim_batch = 50;
	c->missed_grace = 6 * 3600;
	c->notice_days = 7;
	c->reminder_before = 86400;
	c->meeting_length = 7200;
	c->bounce_threshold = 5;
	c->bounce_window = 30 * 86400;
	c->digest_interval = 7 * 86400;
}

/*
 * Errors are collected, one line each, so that one run of check-config
 * shows every mistake in the file rather than the first.
 */
struct loader {
	struct config	*conf;
	const char	*file;
	const char	*secret_key;	/* an inline secret seen */
	const config_setting_t *set[nitems(keys)];	/* where each key is */
	struct buf	 errs;
	int		 nerrs;
};

static void PRINTFLIKE(2, 3)
add_error(struct loader *l, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	if (l->nerrs++ > 0)
		buf_addc(&l->errs, '\n');
	buf_adds(&l->errs, msg);
	free(msg);
}

static int
fail(struct loader *l, const config_setting_t *s, const char *key,
    const char *fmt, ...) PRINTFLIKE(4, 5);

static int
fail(struct loader *l, const config_setting_t *s, const char *key,
    const char *fmt, ...)
{
	va_list		 ap;
	char		*msg;
	const char	*file;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	file = s != NULL ? config_setting_source_file(s) : NULL;
	if (s != NULL && config_setting_source_line(s) > 0)
		add_error(l, "%s:%d: %s: %s", file != NULL ? file : l->file,
		    (int)config_setting_source_line(s), key, msg);
	else
		add_error(l, "%s: %s: %s", l->file, key, msg);
	free(msg);
	return -1;
}

static const struct key *
key_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < nitems(keys); i++) {
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	}
	return NULL;
}

/* Where the file sets a known key, or NULL. */
static const config_setting_t *
key_setting(const struct loader *l, const char *name)
{
	const struct key	*k = key_find(name);

	return k != NULL ? l->set[k - keys] : NULL;
}

/* An error about a known key, at its line if the file sets it. */
static int PRINTFLIKE(3, 4)
fail_key(struct loader *l, const char *key, const char *fmt, ...)
{
	va_list		 ap;
	char		*msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	fail(l, key_setting(l, key), key, "%s", msg);
	free(msg);
	return -1;
}

static const char *
type_name(int t)
{
	switch (t) {
	case CONFIG_TYPE_GROUP:
		return "a group";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return "an integer";
	case CONFIG_TYPE_FLOAT:
		return "a number";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_BOOL:
		return "true or false";
	case CONFIG_TYPE_ARRAY:
		return "an array";
	case CONFIG_TYPE_LIST:
		return "a list";
	}
	return "a value";
}

static int
want_type(struct loader *l, const config_setting_t *s, const char *key,
    int want, const char *what)
{
	int	 t = config_setting_type(s);

	if (t == want || (want == CONFIG_TYPE_INT && t == CONFIG_TYPE_INT64))
		return 0;
	return fail(l, s, key, "must be %s, not %s", what, type_name(t));
}

static void
set_str(struct config *c, size_t off, char *v)
{
	char	**p = (char **)((char *)c + off);

	free(*p);
	*p = v;
}

static int
parse_timeofday(const char *v, int *out)
{
	int	 h, m;
	char	 extra;

	if (sscanf(v, "%2d:%2d%c", &h, &m, &extra) != 2 || h < 0 || h > 23 ||
	    m < 0 || m > 59)
		return -1;
	*out = h * 60 + m;
	return 0;
}

static int
load_int(struct loader *l, const config_setting_t *s, const struct key *k,
    long *out)
{
	long long	 v;
	long		 dur;
	char		*cause;

	if (k->type == K_DUR && config_setting_type(s) == CONFIG_TYPE_STRING) {
		if (duration_parse(config_setting_get_string(s), &dur,
		    &cause) == -1) {
			fail(l, s, k->name, "%s", cause);
			free(cause);
			return -1;
		}
		v = dur;
	} else {
		if (want_type(l, s, k->name, CONFIG_TYPE_INT, k->type == K_DUR ?
		    "a duration (seconds, or a string such as \"15m\")" :
		    "an integer") == -1)
			return -1;
		v = config_setting_get_int64(s);
	}
	if (v < k->min || v > k->max)
		return fail(l, s, k->name, "%lld is out of range (%ld to %ld)",
		    v, k->min, k->max);
	*out = (long)v;
	return 0;
}

static int
load_enum(struct loader *l, const config_setting_t *s, const struct key *k,
    const char *v)
{
	struct config	*c = l->conf;
	enum log_level	 level;

	switch (k->type) {
	case K_TRANSPORT:
		if (strcmp(v, "outbox") == 0)
			c->transport = TRANSPORT_OUTBOX;
		else if (strcmp(v, "smtp") == 0)
			c->transport = TRANSPORT_SMTP;
		else
			return fail(l, s, k->name, "must be \"outbox\" or "
			    "\"smtp\", not \"%s\"", v);
		return 0;
	case K_LOGLEVEL:
		if (log_level_parse(v, &level) == -1)
			return fail(l, s, k->name, "must be error, warn, info "
			    "or debug, not \"%s\"", v);
		c->log_level = level;
		return 0;
	case K_INBOUND:
		if (strcmp(v, "imap") == 0)
			c->inbound = INBOUND_IMAP;
		else if (strcmp(v, "external") == 0)
			c->inbound = INBOUND_EXTERNAL;
		else
			return fail(l, s, k->name, "must be \"imap\" or "
			    "\"external\", not \"%s\"", v);
		return 0;
	case K_RESEND:
		if (strcmp(v, "resend") == 0)
			c->resend_in_flight = RESEND_RESEND;
		else if (strcmp(v, "hold") == 0)
			c->resend_in_flight = RESEND_HOLD;
		else
			return fail(l, s, k->name, "must be \"resend\" or "
			    "\"hold\", not \"%s\"", v);
		return 0;
	default:
		return fail(l, s, k->name, "internal: not an enum");
	}
}

static int
load_string_key(struct loader *l, const config_setting_t *s,
    const struct key *k)
{
	struct config	*c = l->conf;
	const char	*v;
	int		 minutes;

	if (want_type(l, s, k->name, CONFIG_TYPE_STRING, "a string") == -1)
		return -1;
	v = config_setting_get_string(s);
	if (str_has_ctl(v))
		return fail(l, s, k->name, "contains a control character");
	switch (k->type) {
	case K_STR:
		set_str(c, k->off, xstrdup(v));
		return 0;
	case K_PATH:
		if (*v == '\0')
			return fail(l, s, k->name, "must not be empty");
		set_str(c, k->off, path_resolve(l->file, v));
		return 0;
	case K_TIMEOFDAY:
		if (parse_timeofday(v, &minutes) == -1)
			return fail(l, s, k->name, "must be a time of day such "
			    "as \"21:30\", not \"%s\"", v);
		*(int *)((char *)c + k->off) = minutes;
		return 0;
	case K_CHAR:
		if (strlen(v) != 1 || strchr("+-_=", v[0]) == NULL)
			return fail(l, s, k->name, "must be one of + - _ =");
		c->delimiter = v[0];
		return 0;
	case K_DATE:
		/* Read once the zone is known: see date_keys_load(). */
		return 0;
	case K_SECRET:
		/* Checked with the file's mode once everything is read. */
		l->secret_key = k->name;
		set_str(c, k->off, xstrdup(v));
		return 0;
	default:
		return load_enum(l, s, k, v);
	}
}

static int
load_key(struct loader *l, const config_setting_t *s, const struct key *k)
{
	long	 v = 0;

	switch (k->type) {
	case K_GROUP:
		return want_type(l, s, k->name, CONFIG_TYPE_GROUP,
		    "a group { ... }");
	case K_BOOL:
		if (want_type(l, s, k->name, CONFIG_TYPE_BOOL,
		    "true or false") == -1)
			return -1;
		*(int *)((char *)l->conf + k->off) = config_setting_get_bool(s);
		return 0;
	case K_INT:
	case K_DUR:
		if (load_int(l, s, k, &v) == -1)
			return -1;
		if (k->off == O(imap.max_message_size))
			l->conf->imap.max_message_size = v;
		else
			*(int *)((char *)l->conf + k->off) = (int)v;
		return 0;
	default:
		return load_string_key(l, s, k);
	}
}

/* Walks every setting: unknown keys are errors, known ones are loaded. */
static void
load_group(struct loader *l, const config_setting_t *group,
    const char *prefix)
{
	config_setting_t	*s;
	const struct key	*k;
	char			*name;
	int			 i;

	for (i = 0; (s = config_setting_get_elem(group, i)) != NULL; i++) {
		if (*prefix != '\0')
			xasprintf(&name, "%s.%s", prefix,
			    config_setting_name(s));
		else
			name = xstrdup(config_setting_name(s));
		/* An error does not stop the walk: all are reported. */
		if ((k = key_find(name)) == NULL)
			fail(l, s, name, "unknown key");
		else {
			l->set[k - keys] = s;
			if (load_key(l, s, k) == 0 && k->type == K_GROUP)
				load_group(l, s, name);
		}
		free(name);
	}
}

static void
check_file_key(struct loader *l, const char *key, const char *path,
    int secret)
{
	char	*cause;

	if (path == NULL)
		return;
	if (access(path, R_OK) == -1)
		fail_key(l, key, "%s: %s", path, strerror(errno));
	else if (secret && file_private_check(path, &cause) == -1) {
		fail_key(l, key, "%s", cause);
		free(cause);
	}
}

/*
 * Both converters must know the zone: the C library (TZ, for dates shown
 * and typed) and libical (recurrences, feeds, invitations). Either would
 * otherwise take an unknown name as UTC and every time would be off.
 */
static void
check_timezone(struct loader *l)
{
	char	*cause;

	if (tz_known(l->conf->timezone, &cause) == -1 ||
	    ical_zone_check(l->conf->timezone, &cause) == -1) {
		fail_key(l, "timezone", "%s", cause);
		free(cause);
	}
}

static void
check_templates_dir(struct loader *l)
{
	const char	*dir = l->conf->templates_dir;
	struct stat	 sb;

	if (stat(dir, &sb) == -1)
		fail_key(l, "templates_dir", "%s: %s%s", dir, strerror(errno),
		    key_setting(l, "templates_dir") == NULL ? " (the default, "
		    "made by make install)" : "");
	else if (!S_ISDIR(sb.st_mode))
		fail_key(l, "templates_dir", "%s: not a directory", dir);
}

/* One-click unsubscribe (RFC 8058) must be https, and it goes in a header. */
static void
check_unsubscribe_url(struct loader *l)
{
	const char	*u = l->conf->unsubscribe_url;

	if (u == NULL || *u == '\0')
		return;
	if (strncasecmp(u, "https://", 8) != 0 || u[8] == '\0' ||
	    u[8] == '/' || strpbrk(u, " \t<>\"',") != NULL)
		fail_key(l, "addresses.unsubscribe_url", "must be an https:// "
		    "address (RFC 8058 one-click unsubscribe), not \"%s\"", u);
}

/*
 * Every message gives members reply+TOKEN and unsubscribe+TOKEN
 * addresses and a bounce address. Real mail with nothing reading those
 * loses unsubscribe requests, so it needs saying out loud.
 */
static void
check_inbound(struct loader *l)
{
	const struct config	*c = l->conf;

	if (c->transport == TRANSPORT_SMTP && !c->imap.enabled &&
	    c->inbound != INBOUND_EXTERNAL)
		fail_key(l, "transport", "\"smtp\" sends real mail, but "
		    "imap.enabled is false: nothing reads the replies, "
		    "bounces and unsubscribe requests sent to %s%c...@%s; "
		    "enable imap, or set inbound = \"external\" if something "
		    "else handles that mail", c->unsubscribe_local,
		    c->delimiter, c->domain != NULL ? c->domain : "DOMAIN");
	if (c->imap.enabled && c->inbound == INBOUND_EXTERNAL)
		fail_key(l, "inbound", "\"external\" says something other than "
		    "Clarion reads the replies, but imap.enabled is true");
}

/*
 * A selector is a DNS label (or dotted labels); the key is a secret, so
 * its file must be private like a password file.
 */
static void
check_dkim(struct loader *l)
{
	const struct dkim_config *d = &l->conf->dkim;
	const char		*p;

	if (key_setting(l, "dkim") == NULL)
		return;
	if (d->selector == NULL || d->key_file == NULL) {
		fail_key(l, "dkim", "selector and key_file are required");
		return;
	}
	for (p = d->selector; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.' &&
		    *p != '_')
			break;
	if (*d->selector == '\0' || *p != '\0')
		fail_key(l, "dkim.selector", "\"%s\" is not a DNS label",
		    d->selector);
	if (d->domain != NULL && (*d->domain == '\0' ||
	    strpbrk(d->domain, "@ \t") != NULL))
		fail_key(l, "dkim.domain", "\"%s\" is not a domain", d->domain);
	check_file_key(l, "dkim.key_file", d->key_file, 1);
}

/* Dates are read once the zone they are in is known. */
static void
date_keys_load(struct loader *l)
{
	const config_setting_t	*s = key_setting(l, "token_old_until");
	char			*cause;

	if (s == NULL || config_setting_type(s) != CONFIG_TYPE_STRING)
		return;
	if (time_parse_local(config_setting_get_string(s), l->conf->timezone,
	    &l->conf->token_old_until, &cause) == -1) {
		fail(l, s, "token_old_until", "%s", cause);
		free(cause);
	}
}

static void
check_required(struct loader *l)
{
	struct config	*c = l->conf;

	if (c->domain == NULL || *c->domain == '\0' ||
	    strchr(c->domain, '@') != NULL || strchr(c->domain, ' ') != NULL)
		fail_key(l, "domain", "required: the mail domain Clarion's own "
		    "addresses use, such as \"example.org\"");
	if (c->transport == TRANSPORT_SMTP && c->smtp.url == NULL)
		fail_key(l, "smtp.url", "required when transport is \"smtp\"");
	if (c->imap.enabled && (c->imap.url == NULL || c->imap.user == NULL ||
	    (c->imap.password_file == NULL && c->imap.password == NULL)))
		fail_key(l, "imap", "url, user and password_file are required "
		    "when imap.enabled is true");
	/* Whether set, not their values: a bad time is reported once. */
	if ((key_setting(l, "quiet_hours.start") == NULL) !=
	    (key_setting(l, "quiet_hours.end") == NULL))
		fail_key(l, "quiet_hours", "give both start and end");
}

/* What cannot be checked key by key: required keys and combinations. */
static void
config_validate(struct loader *l)
{
	struct config	*c = l->conf;

	if (key_setting(l, "templates_dir") != NULL)
		c->templates_dir_line = config_setting_source_line(
		    key_setting(l, "templates_dir"));
	check_required(l);
	check_timezone(l);
	date_keys_load(l);
	check_templates_dir(l);
	check_unsubscribe_url(l);
	check_inbound(l);
	check_dkim(l);
	if (c->token_secret_file == NULL)
		c->token_secret_file = path_resolve(c->database, "token.key");
	if (c->outbox == NULL)
		c->outbox = path_resolve(c->database, "outbox");
	/* Files are checked where they are used: an outbox needs no relay. */
	if (c->transport == TRANSPORT_SMTP) {
		check_file_key(l, "smtp.password_file", c->smtp.password_file,
		    1);
		check_file_key(l, "smtp.ca_file", c->smtp.ca_file, 0);
	}
	if (c->imap.enabled) {
		check_file_key(l, "imap.password_file", c->imap.password_file,
		    1);
		check_file_key(l, "imap.ca_file", c->imap.ca_file, 0);
	}
}

static int
read_file_checked(struct loader *l, config_t *cfg)
{
	struct stat	 sb;

	if (stat(l->file, &sb) == -1) {
		add_error(l, "%s: cannot read the configuration: %s", l->file,
		    strerror(errno));
		return -1;
	}
	if (config_read_file(cfg, l->file) == CONFIG_TRUE)
		return 0;
	if (config_error_type(cfg) == CONFIG_ERR_FILE_IO)
		add_error(l, "%s: cannot read the configuration: %s",
		    config_error_file(cfg) != NULL ? config_error_file(cfg) :
		    l->file, strerror(errno));
	else
		add_error(l, "%s:%d: syntax error: %s",
		    config_error_file(cfg) != NULL ? config_error_file(cfg) :
		    l->file, config_error_line(cfg), config_error_text(cfg));
	return -1;
}

/*
 * Reads and checks the file. On any error: NULL, and *cause holds every
 * error found, one per line ("file:line: key: message"), with a count
 * line last when there is more than one.
 */
struct config *
config_load(const char *path, char **cause)
{
	struct loader	 l;
	config_t	 cfg;
	char		*pc;

	memset(&l, 0, sizeof l);
	buf_init(&l.errs);
	l.file = path;
	l.conf = xcalloc(1, sizeof *l.conf);
	l.conf->path = xstrdup(path);
	config_defaults(l.conf);
	config_init(&cfg);
	if (read_file_checked(&l, &cfg) == 0) {
		load_group(&l, config_root_setting(&cfg), "");
		config_validate(&l);
	}
	config_destroy(&cfg);
	if (l.secret_key != NULL &&
	    file_private_check(path, &pc) == -1) {
		add_error(&l, "%s: %s: a password is set here, so the file "
		    "must be private: %s", path, l.secret_key, pc);
		free(pc);
	}
	if (l.nerrs == 0) {
		buf_free(&l.errs);
		return l.conf;
	}
	if (l.nerrs > 1)
		buf_addf(&l.errs, "\n%s: %d errors", path, l.nerrs);
	config_free(l.conf);
	*cause = buf_steal(&l.errs);
	return NULL;
}

void
config_free(struct config *c)
{
	if (c == NULL)
		return;
	free(c->path);
	free(c->database);
	free(c->domain);
	free(c->token_secret_file);
	free(c->token_old_secret_file);
	free(c->templates_dir);
	free(c->timezone);
	free(c->pid_file);
	free(c->outbox);
	free(c->test_address);
	free(c->smtp.url);
	free(c->smtp.user);
	free(c->smtp.password_file);
	if (c->smtp.password != NULL) {
		explicit_zero(c->smtp.password, strlen(c->smtp.password));
		free(c->smtp.password);
	}
	if (c->imap.password != NULL) {
		explicit_zero(c->imap.password, strlen(c->imap.password));
		free(c->imap.password);
	}
	free(c->smtp.ca_file);
	free(c->smtp.helo);
	free(c->imap.url);
	free(c->imap.user);
	free(c->imap.password_file);
	free(c->imap.ca_file);
	free(c->imap.mailbox);
	free(c->imap.folder_prefix);
	free(c->bounce_local);
	free(c->reply_local);
	free(c->unsubscribe_local);
	free(c->unsubscribe_url);
	free(c->dkim.selector);
	free(c->dkim.domain);
	free(c->dkim.key_file);
	free(c);
}

/*
 * Reads the token secret (hex or raw) from its private file. The old
 * secret, if any and still within its grace period, comes second.
 */
int
config_load_secret(const struct config *c, unsigned char **secret,
    size_t *len, char **cause)
{
	char	*s;

	if (secret_file_read(c->token_secret_file, &s, len, cause) == -1)
		return -1;
	*secret = (unsigned char *)s;
	return 0;
}

/*
 * A server password: inline (only allowed in a private config file) or
 * from a private file. The caller zeroes and frees it after use.
 */
int
config_password(const char *inline_pw, const char *file, char **out,
    char **cause)
{
	if (inline_pw != NULL) {
		*out = xstrdup(inline_pw);
		return 0;
	}
	if (file == NULL) {
		*out = NULL;
		return 0;
	}
	return secret_file_read(file, out, NULL, cause);
}
