/*
 * The IMAP client: the only file that talks libetpan's IMAP API.
 *
 * libetpan neither checks the server's certificate nor sends SNI, so we do
 * both here: SNI from the TLS callback, and after the handshake the peer's
 * chain is verified with GnuTLS against imap.ca_file (or the system store)
 * together with the URL's host name. A connection that fails the check is
 * closed before the password is sent.
 *
 * STARTTLS is done by hand so that anything the server sent after its OK
 * and before the handshake (a response injection, CVE-2020-15953) refuses
 * the connection instead of being read as if it came over TLS.
 */
#include "config.h"

#include <arpa/inet.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libetpan/libetpan.h>

#include "clarion.h"

#define IMAP_IDLE_MAX	(29 * 60)	/* RFC 2177: servers drop at 30 */
#define IMAP_CHAIN_MAX	16
#define IMAP_NOOP_EVERY	(20 * 60)	/* keep a polling session alive */

struct imap_conn {
	mailimap	*imap;
	char		*host;
	char		*mailbox;
	char		*prefix;
	char		 delim;
	int		 has_move;
	int		 has_uidplus;
	int		 has_idle;
	uint32_t	 uidvalidity;
};

const char *const imap_folder_names[IMAP_NFOLDERS] = {
	"Bounces", "Complaints", "Unsubscribed", "Replies", "AutoReplies",
	"Unknown", "Quarantine", "RSVP",
};

static const char *
imap_strerror(int r)
{
	switch (r) {
	case MAILIMAP_ERROR_STREAM:
		return "connection lost or timed out";
	case MAILIMAP_ERROR_PARSE:
		return "unparsable server response";
	case MAILIMAP_ERROR_CONNECTION_REFUSED:
		return "connection refused";
	case MAILIMAP_ERROR_LOGIN:
		return "login refused";
	case MAILIMAP_ERROR_SELECT:
		return "cannot select the mailbox";
	case MAILIMAP_ERROR_STARTTLS:
		return "STARTTLS failed";
	case MAILIMAP_ERROR_SSL:
		return "TLS handshake failed";
	case MAILIMAP_ERROR_MEMORY:
		return "out of memory";
	default:
		return "command failed";
	}
}

/* "what: reason (server said: ...)"; the server's text never holds secrets. */
static void
imap_fail(struct imap_conn *c, int r, char **cause, const char *what)
{
	const char	*resp = NULL;

	if (c != NULL && c->imap != NULL && c->imap->imap_response != NULL &&
	    *c->imap->imap_response != '\0')
		resp = c->imap->imap_response;
	if (resp != NULL && !str_has_ctl(resp))
		xasprintf(cause, "IMAP %s: %s (server said: %s)", what,
		    imap_strerror(r), resp);
	else
		xasprintf(cause, "IMAP %s: %s", what, imap_strerror(r));
}

/*
 * imaps://host[:port][/...] (implicit TLS, 993) or imap://host[:port]
 * (STARTTLS, 143). IPv6 literals go in brackets.
 */
int
imap_url_parse(const char *url, char **host, uint16_t *port, int *implicit,
    char **cause)
{
	const char	*p, *end;
	char		*q;
	long		 v;

	if (strncmp(url, "imaps://", 8) == 0) {
		*implicit = 1;
		p = url + 8;
	} else if (strncmp(url, "imap://", 7) == 0) {
		*implicit = 0;
		p = url + 7;
	} else {
		xasprintf(cause, "imap.url %s: must start with imaps:// or "
		    "imap://", url);
		return -1;
	}
	*port = *implicit ? 993 : 143;
	if (*p == '[') {
		if ((end = strchr(p, ']')) == NULL)
			goto bad;
		*host = xstrndup(p + 1, end - p - 1);
		end++;
	} else {
		end = p + strcspn(p, ":/");
		*host = xstrndup(p, end - p);
	}
	if (**host == '\0')
		goto badhost;
	if (*end == ':') {
		errno = 0;
		v = strtol(end + 1, &q, 10);
		if (errno != 0 || q == end + 1 || v < 1 || v > 65535 ||
		    (*q != '\0' && *q != '/'))
			goto badhost;
		*port = (uint16_t)v;
	} else if (*end != '\0' && *end != '/')
		goto badhost;
	return 0;
badhost:
	free(*host);
	*host = NULL;
bad:
	xasprintf(cause, "imap.url %s: cannot parse the host and port", url);
	return -1;
}

static int
host_is_ip(const char *host)
{
	unsigned char	 a[16];

	return inet_pton(AF_INET, host, a) == 1 ||
	    inet_pton(AF_INET6, host, a) == 1;
}

/* SNI names a host, never an address (RFC 6066, section 3). */
static void
tls_callback(struct mailstream_ssl_context *ssl, void *arg)
{
	const char	*host = arg;

	if (!host_is_ip(host))
		mailstream_ssl_set_server_name(ssl, (char *)host);
}

static int
tls_verify(struct imap_conn *c, const char *ca_file, char **cause)
{
	struct crypto_der der[IMAP_CHAIN_MAX];
	MMAPString	*m;
	carray		*chain;
	unsigned int	 i, n = 0;
	char		*why = NULL;
	int		 rc;

	chain = mailstream_get_certificate_chain(c->imap->imap_stream);
	if (chain == NULL) {
		xasprintf(cause, "IMAP TLS: no certificate chain (not a TLS "
		    "connection?)");
		return -1;
	}
	for (i = 0; i < carray_count(chain) && i < IMAP_CHAIN_MAX; i++) {
		m = carray_get(chain, i);
		der[n].data = (const unsigned char *)m->str;
		der[n++].len = m->len;
	}
	if ((rc = crypto_verify_chain(der, n, ca_file, c->host, &why)) == -1) {
		xasprintf(cause, "IMAP TLS: %s", why);
		free(why);
	}
	mailstream_certificate_chain_free(chain);
	return rc;
}

static int
starttls(struct imap_conn *c, int timeout, char **cause)
{
	mailstream_low	*low, *tls;
	int		 r, fd;

	r = mailimap_starttls(c->imap);
	/*
	 * Bytes read before the handshake were not protected by it (newer
	 * libetpan refuses them too, as a plain STARTTLS error).
	 */
	if (c->imap->imap_stream->read_buffer_len != 0) {
		xasprintf(cause, "IMAP STARTTLS: the server sent data after "
		    "its STARTTLS reply (response injection?); refused");
		return -1;
	}
	if (r != MAILIMAP_NO_ERROR) {
		imap_fail(c, r, cause, "STARTTLS");
		return -1;
	}
	low = mailstream_get_low(c->imap->imap_stream);
	if ((fd = mailstream_low_get_fd(low)) == -1) {
		xasprintf(cause, "IMAP STARTTLS: no socket");
		return -1;
	}
	tls = mailstream_low_tls_open_with_callback_timeout(fd, timeout,
	    tls_callback, c->host);
	if (tls == NULL) {
		xasprintf(cause, "IMAP STARTTLS: TLS handshake failed");
		return -1;
	}
	mailstream_low_free(low);
	mailstream_set_low(c->imap->imap_stream, tls);
	/* The pre-TLS capabilities may have been forged: ask again. */
	return 0;
}

static int
transport_open(struct imap_conn *c, const struct imap_config *ic,
    char **cause)
{
	uint16_t	 port;
	int		 implicit, r;

	if (imap_url_parse(ic->url, &c->host, &port, &implicit, cause) == -1)
		return -1;
	if (ic->starttls && implicit) {
		xasprintf(cause, "imap.starttls is set but imap.url %s is "
		    "imaps:// (use imap://HOST:143 for STARTTLS)", ic->url);
		return -1;
	}
	/* Never a password over plain text: imap:// means STARTTLS. */
	if (!ic->starttls && !implicit) {
		xasprintf(cause, "imap.url %s is imap:// without "
		    "imap.starttls = true (use imaps:// or set it)", ic->url);
		return -1;
	}
	if (implicit)
		r = mailimap_ssl_connect_with_callback(c->imap, c->host, port,
		    tls_callback, c->host);
	else
		r = mailimap_socket_connect(c->imap, c->host, port);
	if (r != MAILIMAP_NO_ERROR_AUTHENTICATED &&
	    r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED) {
		imap_fail(c, r, cause, "connect");
		return -1;
	}
	if (!implicit && starttls(c, ic->timeout, cause) == -1)
		return -1;
	if (!ic->tls_verify) {
		log_warnx("imap: tls_verify is off: %s is not authenticated",
		    c->host);
		return 0;
	}
	return tls_verify(c, ic->ca_file, cause);
}

static int
login(struct imap_conn *c, const struct imap_config *ic, char **cause)
{
	struct mailimap_capability_data *cap = NULL;
	char		*pw;
	int		 r;

	if (config_password(ic->password, ic->password_file, &pw,
	    cause) == -1)
		return -1;
	if (pw == NULL) {
		xasprintf(cause, "imap: no password configured");
		return -1;
	}
	r = mailimap_login(c->imap, ic->user, pw);
	explicit_zero(pw, strlen(pw));
	free(pw);
	if (r != MAILIMAP_NO_ERROR) {
		imap_fail(c, r, cause, "login");
		return -1;
	}
	/* MOVE is announced only after login (Dovecot). */
	if ((r = mailimap_capability(c->imap, &cap)) != MAILIMAP_NO_ERROR) {
		imap_fail(c, r, cause, "CAPABILITY");
		return -1;
	}
	mailimap_capability_data_free(cap);
	c->has_move = mailimap_has_extension(c->imap, "MOVE");
	c->has_uidplus = mailimap_has_extension(c->imap, "UIDPLUS");
	c->has_idle = ic->idle && mailimap_has_idle(c->imap);
	/* Test hook: exercise the COPY + STORE + EXPUNGE path. */
	if (getenv("CLARION_TEST_IMAP_NO_MOVE") != NULL)
		c->has_move = 0;
	return 0;
}

static char *
folder_path(const struct imap_conn *c, const char *name)
{
	char	*s;

	xasprintf(&s, "%s%c%s", c->prefix, c->delim, name);
	return s;
}

/* The hierarchy delimiter: LIST "" "" answers with it (RFC 3501 6.3.8). */
static int
delimiter_get(struct imap_conn *c, char **cause)
{
	struct mailimap_mailbox_list *mb;
	clist		*res = NULL;
	int		 r;

	if ((r = mailimap_list(c->imap, "", "", &res)) != MAILIMAP_NO_ERROR) {
		imap_fail(c, r, cause, "LIST");
		return -1;
	}
	c->delim = '/';
	if (res != NULL && clist_begin(res) != NULL) {
		mb = clist_content(clist_begin(res));
		if (mb->mb_delimiter != '\0')
			c->delim = mb->mb_delimiter;
	}
	if (res != NULL)
		mailimap_list_result_free(res);
	return 0;
}

static int
folder_exists(struct imap_conn *c, const char *path, char **cause)
{
	clist	*res = NULL;
	int	 r, found;

	if ((r = mailimap_list(c->imap, "", path, &res)) != MAILIMAP_NO_ERROR) {
		imap_fail(c, r, cause, "LIST");
		return -1;
	}
	found = res != NULL && clist_begin(res) != NULL;
	if (res != NULL)
		mailimap_list_result_free(res);
	return found;
}

static int
folders_create(struct imap_conn *c, char **cause)
{
	char	*path;
	int	 i, r;

	if (delimiter_get(c, cause) == -1)
		return -1;
	for (i = 0; i < IMAP_NFOLDERS; i++) {
		path = folder_path(c, imap_folder_names[i]);
		if ((r = folder_exists(c, path, cause)) == 0) {
			log_info("imap: creating folder %s", path);
			if ((r = mailimap_create(c->imap, path)) !=
			    MAILIMAP_NO_ERROR) {
				imap_fail(c, r, cause, "CREATE");
				r = -1;
			}
		}
		free(path);
		if (r == -1)
			return -1;
	}
	return 0;
}

static int
mailbox_select(struct imap_conn *c, char **cause)
{
	int	 r;

	if ((r = mailimap_select(c->imap, c->mailbox)) != MAILIMAP_NO_ERROR) {
		imap_fail(c, r, cause, "SELECT");
		return -1;
	}
	if (c->imap->imap_selection_info == NULL ||
	    c->imap->imap_selection_info->sel_uidvalidity == 0) {
		xasprintf(cause, "IMAP SELECT %s: the server gave no "
		    "UIDVALIDITY", c->mailbox);
		return -1;
	}
	c->uidvalidity = c->imap->imap_selection_info->sel_uidvalidity;
	return 0;
}

/*
 * Connects, verifies TLS, logs in, makes the folders and selects the
 * mailbox. Timeouts: imap.timeout for connecting and for every read.
 */
struct imap_conn *
imap_open(const struct imap_config *ic, char **cause)
{
	struct imap_conn *c;

	mailstream_network_delay.tv_sec = ic->timeout;
	mailstream_network_delay.tv_usec = 0;
	c = xcalloc(1, sizeof *c);
	c->mailbox = xstrdup(ic->mailbox);
	c->prefix = xstrdup(ic->folder_prefix);
	if ((c->imap = mailimap_new(0, NULL)) == NULL) {
		xasprintf(cause, "IMAP: out of memory");
		imap_close(c);
		return NULL;
	}
	mailimap_set_timeout(c->imap, ic->timeout);
	if (transport_open(c, ic, cause) == -1 || login(c, ic, cause) == -1 ||
	    folders_create(c, cause) == -1 || mailbox_select(c, cause) == -1) {
		imap_close(c);
		return NULL;
	}
	log_debug("imap: %s selected (uidvalidity %u, move %d, uidplus %d, "
	    "idle %d)", c->mailbox, c->uidvalidity, c->has_move,
	    c->has_uidplus, c->has_idle);
	return c;
}

void
imap_close(struct imap_conn *c)
{
	if (c == NULL)
		return;
	if (c->imap != NULL) {
		if (c->imap->imap_stream != NULL)
			mailimap_logout(c->imap);
		mailimap_free(c->imap);
	}
	free(c->host);
	free(c->mailbox);
	free(c->prefix);
	free(c);
}

uint32_t
imap_uidvalidity(const struct imap_conn *c)
{
	return c->uidvalidity;
}

static struct mailimap_msg_att_static *
att_find(struct mailimap_msg_att *att, int type)
{
	struct mailimap_msg_att_item *item;
	clistiter	*it;

	for (it = clist_begin(att->att_list); it != NULL; it = clist_next(it)) {
		item = clist_content(it);
		if (item->att_type == MAILIMAP_MSG_ATT_ITEM_STATIC &&
		    item->att_data.att_static != NULL &&
		    item->att_data.att_static->att_type == type)
			return item->att_data.att_static;
	}
	return NULL;
}

static int
msg_cmp(const void *a, const void *b)
{
	const struct imap_msg *x = a, *y = b;

	return x->uid < y->uid ? -1 : x->uid > y->uid;
}

/*
 * The messages with a UID above after, with their sizes, in UID order.
 * "after+1:*" also matches the highest message when none is newer, so
 * the result is filtered.
 */
int
imap_list_new(struct imap_conn *c, uint32_t after, struct imap_msg **out,
    size_t *n, char **cause)
{
	struct mailimap_fetch_type *ft;
	struct mailimap_set *set;
	struct mailimap_msg_att_static *uid, *size;
	clist		*res = NULL;
	clistiter	*it;
	int		 r;

	*out = NULL;
	*n = 0;
	set = mailimap_set_new_interval(after + 1, 0);
	ft = mailimap_fetch_type_new_fetch_att_list_empty();
	mailimap_fetch_type_new_fetch_att_list_add(ft,
	    mailimap_fetch_att_new_uid());
	mailimap_fetch_type_new_fetch_att_list_add(ft,
	    mailimap_fetch_att_new_rfc822_size());
	r = mailimap_uid_fetch(c->imap, set, ft, &res);
	mailimap_fetch_type_free(ft);
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR) {
		imap_fail(c, r, cause, "UID FETCH");
		return -1;
	}
	for (it = clist_begin(res); it != NULL; it = clist_next(it)) {
		uid = att_find(clist_content(it), MAILIMAP_MSG_ATT_UID);
		size = att_find(clist_content(it), MAILIMAP_MSG_ATT_RFC822_SIZE);
		if (uid == NULL || uid->att_data.att_uid <= after)
			continue;
		*out = xreallocarray(*out, *n + 1, sizeof **out);
		(*out)[*n].uid = uid->att_data.att_uid;
		(*out)[*n].size = size != NULL ?
		    size->att_data.att_rfc822_size : 0;
		(*n)++;
	}
	mailimap_fetch_list_free(res);
	if (*n > 1)
		qsort(*out, *n, sizeof **out, msg_cmp);
	return 0;
}

/* The whole message, without setting \Seen (BODY.PEEK[]). */
int
imap_fetch(struct imap_conn *c, uint32_t uid, char **data, size_t *len,
    char **cause)
{
	struct mailimap_fetch_type *ft;
	struct mailimap_set *set;
	struct mailimap_msg_att_static *body = NULL;
	clist		*res = NULL;
	int		 r;

	set = mailimap_set_new_single(uid);
	ft = mailimap_fetch_type_new_fetch_att_list_empty();
	mailimap_fetch_type_new_fetch_att_list_add(ft,
	    mailimap_fetch_att_new_body_peek_section(
	    mailimap_section_new(NULL)));
	r = mailimap_uid_fetch(c->imap, set, ft, &res);
	mailimap_fetch_type_free(ft);
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR) {
		imap_fail(c, r, cause, "UID FETCH BODY.PEEK[]");
		return -1;
	}
	if (clist_begin(res) != NULL)
		body = att_find(clist_content(clist_begin(res)),
		    MAILIMAP_MSG_ATT_BODY_SECTION);
	if (body == NULL || body->att_data.att_body_section == NULL ||
	    body->att_data.att_body_section->sec_body_part == NULL) {
		mailimap_fetch_list_free(res);
		xasprintf(cause, "IMAP UID FETCH %u: no such message", uid);
		return 1;
	}
	/* The list owns the bytes: copy before freeing it. */
	*len = body->att_data.att_body_section->sec_length;
	*data = xmalloc(*len + 1);
	memcpy(*data, body->att_data.att_body_section->sec_body_part, *len);
	(*data)[*len] = '\0';
	mailimap_fetch_list_free(res);
	return 0;
}

static int
file_by_copy(struct imap_conn *c, struct mailimap_set *set, const char *path,
    char **cause)
{
	struct mailimap_flag_list *fl;
	struct mailimap_store_att_flags *sf;
	int	 r;

	if ((r = mailimap_uid_copy(c->imap, set, path)) != MAILIMAP_NO_ERROR) {
		imap_fail(c, r, cause, "UID COPY");
		return -1;
	}
	fl = mailimap_flag_list_new_empty();
	mailimap_flag_list_add(fl, mailimap_flag_new_deleted());
	sf = mailimap_store_att_flags_new_add_flags_silent(fl);
	r = mailimap_uid_store(c->imap, set, sf);
	mailimap_store_att_flags_free(sf);
	if (r != MAILIMAP_NO_ERROR) {
		imap_fail(c, r, cause, "UID STORE");
		return -1;
	}
	/* Without UIDPLUS, EXPUNGE also removes others' \Deleted messages. */
	if (c->has_uidplus)
		r = mailimap_uid_expunge(c->imap, set);
	else
		r = mailimap_expunge(c->imap);
	if (r != MAILIMAP_NO_ERROR) {
		imap_fail(c, r, cause, "EXPUNGE");
		return -1;
	}
	return 0;
}

/* Moves one message into PREFIX<delim>folder. */
int
imap_file(struct imap_conn *c, uint32_t uid, const char *folder,
    char **cause)
{
	struct mailimap_set *set;
	char	*path;
	int	 r, rc = 0;

	path = folder_path(c, folder);
	set = mailimap_set_new_single(uid);
	if (c->has_move) {
		if ((r = mailimap_uid_move(c->imap, set, path)) !=
		    MAILIMAP_NO_ERROR) {
			imap_fail(c, r, cause, "UID MOVE");
			rc = -1;
		}
	} else
		rc = file_by_copy(c, set, path, cause);
	mailimap_set_free(set);
	free(path);
	return rc;
}

/*
 * Without IDLE: sleep, with a NOOP every IMAP_NOOP_EVERY so the server
 * does not log us out (RFC 3501 allows it after 30 idle minutes). A
 * signal ends the sleep early.
 */
static int
poll_wait(struct imap_conn *c, int seconds, char **cause)
{
	struct timespec	 ts;
	int		 r, chunk;

	while (seconds > 0) {
		chunk = seconds > IMAP_NOOP_EVERY ? IMAP_NOOP_EVERY : seconds;
		ts.tv_sec = chunk;
		ts.tv_nsec = 0;
		if (nanosleep(&ts, NULL) == -1)
			return 0;
		seconds -= chunk;
		if (seconds > 0 &&
		    (r = mailimap_noop(c->imap)) != MAILIMAP_NO_ERROR) {
			imap_fail(c, r, cause, "NOOP");
			return -1;
		}
	}
	return 0;
}

/*
 * Waits for new mail: IDLE for at most the given time (capped below the
 * server's 30-minute limit) when offered, else a plain sleep. A signal
 * ends the wait early. Returns 0, or -1 when the connection failed.
 */
int
imap_wait(struct imap_conn *c, int seconds, char **cause)
{
	mailstream	*s = c->imap->imap_stream;
	int		 r;

	if (!c->has_idle)
		return poll_wait(c, seconds, cause);
	if (seconds > IMAP_IDLE_MAX)
		seconds = IMAP_IDLE_MAX;
	if ((r = mailimap_idle(c->imap)) != MAILIMAP_NO_ERROR) {
		imap_fail(c, r, cause, "IDLE");
		return -1;
	}
	/* Something may already sit in the buffer, unseen by poll. */
	if (s->read_buffer_len == 0) {
		if (mailstream_setup_idle(s) == 0) {
			mailstream_wait_idle(s, seconds);
			mailstream_unsetup_idle(s);
		}
	}
	if ((r = mailimap_idle_done(c->imap)) != MAILIMAP_NO_ERROR) {
		imap_fail(c, r, cause, "IDLE DONE");
		return -1;
	}
	return 0;
}

int
imap_has_idle(const struct imap_conn *c)
{
	return c->has_idle;
}
