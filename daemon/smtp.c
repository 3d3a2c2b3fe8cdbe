/*
 * The SMTP client: a pool of N connections, each an easy handle driven by
 * its own worker thread with curl_easy_perform. libcurl waits for the
 * reply to the final dot with a blocking loop (smtp_block_statemach, curl
 * issue #8555), so in a multi handle one slow reply held up every other
 * connection; here a slow or hung relay holds up only its own thread. Each
 * easy handle keeps its connection from one message to the next; a
 * connection that fails is closed by curl and the next message on that
 * slot opens a new one. One recipient per transaction, so each result
 * belongs to one delivery.
 *
 * The threads touch nothing but their own slot: results go back through a
 * queue under the pool's lock, and the caller (the daemon's main loop)
 * records them. No thread ever sees the database. curl is used only in
 * this file.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "clarion.h"

struct smtp_pool;

struct smtp_slot {
	struct smtp_pool *pool;
	CURL		*easy;
	pthread_t	 thread;
	int		 started;	/* the thread runs */
	pthread_cond_t	 wake;		/* a job, or quit */
	int		 job;		/* set by the caller, under the lock */
	int		 busy;		/* the caller's view: job or result */
	int64_t		 id;
	char		*data;		/* the message, owned */
	size_t		 len, off;
	struct curl_slist *rcpt;
	char		*from;
	struct buf	 cur;		/* the reply being read */
	struct buf	 last;		/* the last complete reply */
	char		 err[CURL_ERROR_SIZE];
};

struct smtp_done {
	struct smtp_result r;
	int		 slot;
};

struct smtp_pool {
	pthread_mutex_t	 lock;
	pthread_cond_t	 done_cond;	/* a result was queued */
	struct smtp_done *done;		/* finished, not yet returned */
	size_t		 ndone, donesz;
	int		 quit;
	struct smtp_slot *slots;
	int		 nslots;
	int		 busy;
	char		*url;
	char		*password;
};

static size_t
smtp_read_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct smtp_slot *s = arg;
	size_t		 n = size * nmemb;

	if (n > s->len - s->off)
		n = s->len - s->off;
	memcpy(ptr, s->data + s->off, n);
	s->off += n;
	return n;
}

/*
 * curl hands every server reply line to the header callback. Keep the
 * last complete reply (all its lines): that is what a person needs to
 * see on the delivery.
 */
static size_t
smtp_header_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct smtp_slot *s = arg;
	size_t		 n = size * nmemb, len = n;

	while (len > 0 && (ptr[len - 1] == '\r' || ptr[len - 1] == '\n'))
		len--;
	if (s->cur.len > 0)
		buf_adds(&s->cur, " / ");
	buf_add(&s->cur, ptr, len);
	if (len < 3 || !isdigit((unsigned char)ptr[0]) ||
	    (len > 3 && ptr[3] == '-'))
		return n;
	/* The answer to curl's QUIT after a failure says nothing new. */
	if (strncmp(s->cur.data, "221", 3) == 0 && s->last.len > 0) {
		buf_reset(&s->cur);
		return n;
	}
	buf_reset(&s->last);
	buf_add(&s->last, s->cur.data, s->cur.len);
	buf_reset(&s->cur);
	return n;
}

static int
smtp_slot_init(struct smtp_pool *p, struct smtp_slot *s,
    const struct smtp_config *sc, char **cause)
{
	CURL	*e;

	if ((e = s->easy = curl_easy_init()) == NULL) {
		xasprintf(cause, "cannot create a curl handle");
		return -1;
	}
	curl_easy_setopt(e, CURLOPT_URL, p->url);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(e, CURLOPT_READFUNCTION, smtp_read_cb);
	curl_easy_setopt(e, CURLOPT_READDATA, s);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, smtp_header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, s);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->err);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, (long)sc->timeout);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, (long)sc->timeout);
	curl_easy_setopt(e, CURLOPT_USE_SSL, sc->require_tls ?
	    (long)CURLUSESSL_ALL : (long)CURLUSESSL_TRY);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, sc->tls_verify ? 1L : 0L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, sc->tls_verify ? 2L : 0L);
	if (sc->ca_file != NULL)
		curl_easy_setopt(e, CURLOPT_CAINFO, sc->ca_file);
	if (sc->user != NULL)
		curl_easy_setopt(e, CURLOPT_USERNAME, sc->user);
	if (p->password != NULL)
		curl_easy_setopt(e, CURLOPT_PASSWORD, p->password);
	return 0;
}

/* The URL's path is the EHLO name for curl: smtp://host:port/helo. */
static char *
smtp_url(const struct smtp_config *sc)
{
	const char	*host;
	char		*url;
	size_t		 len = strlen(sc->url);

	if (sc->helo == NULL)
		return xstrdup(sc->url);
	host = strstr(sc->url, "://");
	host = host != NULL ? host + 3 : sc->url;
	if (strchr(host, '/') != NULL)
		return xstrdup(sc->url);
	xasprintf(&url, "%.*s/%s", (int)len, sc->url, sc->helo);
	return url;
}

static int
smtp_global_init(char **cause)
{
	static int	 done;

	/* Once, before any thread exists: curl_global_init is not thread-safe. */
	if (done)
		return 0;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		xasprintf(cause, "cannot initialise libcurl");
		return -1;
	}
	done = 1;
	return 0;
}

static void
smtp_slot_clear(struct smtp_slot *s)
{
	free(s->data);
	s->data = NULL;
	s->len = s->off = 0;
	free(s->from);
	s->from = NULL;
	curl_slist_free_all(s->rcpt);
	s->rcpt = NULL;
	buf_reset(&s->cur);
	buf_reset(&s->last);
	s->err[0] = '\0';
}

/* "550 5.1.1 <x>: ..." -> "5.1.1"; empty if the reply has none. */
static void
smtp_enhanced(const char *reply, char *out, size_t outlen)
{
	size_t	 n;

	out[0] = '\0';
	if (strlen(reply) < 5 || !isdigit((unsigned char)reply[4]))
		return;
	reply += 4;
	n = strspn(reply, "0123456789.");
	if (n < 5 || n >= outlen || reply[1] != '.')
		return;
	memcpy(out, reply, n);
	out[n] = '\0';
}

/*
 * A failure that is about the server or the connection, not about this
 * recipient: no reply at all, the login, TLS, or the server refusing our
 * MAIL FROM. Such a failure must never fail a member's delivery for good.
 */
static int
smtp_server_fault(CURLcode rc, long code, const char *err)
{
	if (code < 400 || rc == CURLE_LOGIN_DENIED || rc == CURLE_AUTH_ERROR ||
	    rc == CURLE_USE_SSL_FAILED || rc == CURLE_PEER_FAILED_VERIFICATION)
		return 1;
	if (strncmp(err, "RCPT failed", 11) == 0 ||
	    strncmp(err, "DATA failed", 11) == 0 ||
	    rc == CURLE_WEIRD_SERVER_REPLY)
		return 0;
	return 1;
}

static void
smtp_result_fill(struct smtp_slot *s, CURLcode rc, struct smtp_result *r)
{
	long	 code = 0;
	char	*last = s->last.data != NULL ? s->last.data : "";

	curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &code);
	memset(r, 0, sizeof *r);
	r->id = s->id;
	if (rc == CURLE_OK && code >= 200 && code < 300) {
		r->class = SEND_OK;
		r->code = (int)code;
		r->reply = xstrdup(last);
	} else if (code >= 400 && code < 600) {
		r->server = smtp_server_fault(rc, code, s->err);
		r->class = code >= 500 && !r->server ? SEND_PERMFAIL :
		    SEND_TEMPFAIL;
		r->code = (int)code;
		if (rc == CURLE_LOGIN_DENIED || rc == CURLE_AUTH_ERROR)
			xasprintf(&r->reply, "authentication failed: %s", last);
		else
			r->reply = xstrdup(last);
	} else {
		r->class = SEND_TEMPFAIL;
		r->server = 1;
		xasprintf(&r->reply, "no reply from the server: %s",
		    s->err[0] != '\0' ? s->err : curl_easy_strerror(rc));
	}
	smtp_enhanced(r->reply, r->status, sizeof r->status);
	if (r->class != SEND_OK && strncmp(r->reply, "authentication", 14) == 0)
		smtp_enhanced(last, r->status, sizeof r->status);
}


/*
 * A transfer that failed before the server said anything at all cannot
 * have delivered the message: it was a kept connection the server had
 * already closed (curl keeps one open after some failures). Run it again
 * once, on a new connection, instead of deferring the member's mail.
 */
static CURLcode
smtp_slot_send(struct smtp_slot *s)
{
	CURLcode	 rc;

	curl_easy_setopt(s->easy, CURLOPT_MAIL_FROM, s->from);
	curl_easy_setopt(s->easy, CURLOPT_MAIL_RCPT, s->rcpt);
	curl_easy_setopt(s->easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t)s->len);
	rc = curl_easy_perform(s->easy);
	if (rc == CURLE_OK || s->last.len > 0 || s->cur.len > 0)
		return rc;
	s->off = 0;
	s->err[0] = '\0';
	curl_easy_setopt(s->easy, CURLOPT_FRESH_CONNECT, 1L);
	rc = curl_easy_perform(s->easy);
	curl_easy_setopt(s->easy, CURLOPT_FRESH_CONNECT, 0L);
	return rc;
}

/* Queues a result for the caller and wakes it. Called with the lock held. */
static void
smtp_done_add(struct smtp_pool *p, struct smtp_slot *s,
    const struct smtp_result *r)
{
	if (p->ndone == p->donesz) {
		p->donesz = p->donesz == 0 ? (size_t)p->nslots : p->donesz * 2;
		p->done = xreallocarray(p->done, p->donesz, sizeof *p->done);
	}
	p->done[p->ndone].r = *r;
	p->done[p->ndone].slot = (int)(s - p->slots);
	p->ndone++;
	pthread_cond_signal(&p->done_cond);
}

/* One connection's thread: waits for a message, sends it, queues the result. */
static void *
smtp_worker(void *arg)
{
	struct smtp_slot *s = arg;
	struct smtp_pool *p = s->pool;
	struct smtp_result r;
	CURLcode	 rc;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!s->job && !p->quit)
			pthread_cond_wait(&s->wake, &p->lock);
		if (p->quit)
			break;
		pthread_mutex_unlock(&p->lock);
		rc = smtp_slot_send(s);
		smtp_result_fill(s, rc, &r);
		smtp_slot_clear(s);
		pthread_mutex_lock(&p->lock);
		s->job = 0;
		smtp_done_add(p, s, &r);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* Starts the slots' threads with every signal blocked: the main loop's. */
static int
smtp_pool_start(struct smtp_pool *p, char **cause)
{
	sigset_t	 all, old;
	int		 i, e = 0;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (i = 0; i < p->nslots && e == 0; i++) {
		if ((e = pthread_create(&p->slots[i].thread, NULL, smtp_worker,
		    &p->slots[i])) == 0)
			p->slots[i].started = 1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0) {
		xasprintf(cause, "cannot start an SMTP connection thread: %s",
		    strerror(e));
		return -1;
	}
	return 0;
}

struct smtp_pool *
smtp_pool_new(const struct smtp_config *sc, char **cause)
{
	struct smtp_pool *p;
	pthread_condattr_t ca;
	int		 i;

	if (sc->url == NULL) {
		xasprintf(cause, "smtp.url is not set");
		return NULL;
	}
	if (smtp_global_init(cause) == -1)
		return NULL;
	p = xcalloc(1, sizeof *p);
	pthread_mutex_init(&p->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->done_cond, &ca);
	pthread_condattr_destroy(&ca);
	p->url = smtp_url(sc);
	p->nslots = sc->connections > 0 ? sc->connections : 1;
	p->slots = xcalloc(p->nslots, sizeof *p->slots);
	for (i = 0; i < p->nslots; i++) {
		p->slots[i].pool = p;
		pthread_cond_init(&p->slots[i].wake, NULL);
	}
	if (config_password(sc->password, sc->password_file, &p->password,
	    cause) == -1) {
		smtp_pool_free(p);
		return NULL;
	}
	for (i = 0; i < p->nslots; i++) {
		if (smtp_slot_init(p, &p->slots[i], sc, cause) == -1) {
			smtp_pool_free(p);
			return NULL;
		}
	}
	if (smtp_pool_start(p, cause) == -1) {
		smtp_pool_free(p);
		return NULL;
	}
	return p;
}

/*
 * Stops the threads. A thread still sending finishes its transaction
 * first (at most smtp.timeout): the caller waits for what is on the wire
 * before it frees the pool, so that is rare.
 */
void
smtp_pool_free(struct smtp_pool *p)
{
	struct smtp_slot *s;
	size_t		 j;
	int		 i;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->quit = 1;
	for (i = 0; i < p->nslots; i++)
		pthread_cond_signal(&p->slots[i].wake);
	pthread_mutex_unlock(&p->lock);
	for (i = 0; i < p->nslots; i++) {
		s = &p->slots[i];
		if (s->started)
			pthread_join(s->thread, NULL);
		if (s->easy != NULL)
			curl_easy_cleanup(s->easy);
		smtp_slot_clear(s);
		buf_free(&s->cur);
		buf_free(&s->last);
		pthread_cond_destroy(&s->wake);
	}
	for (j = 0; j < p->ndone; j++)
		free(p->done[j].r.reply);
	free(p->done);
	pthread_cond_destroy(&p->done_cond);
	pthread_mutex_destroy(&p->lock);
	free(p->slots);
	free(p->url);
	if (p->password != NULL) {
		explicit_zero(p->password, strlen(p->password));
		free(p->password);
	}
	free(p);
}

int
smtp_pool_idle(struct smtp_pool *p)
{
	return p->nslots - p->busy;
}

int
smtp_pool_busy(struct smtp_pool *p)
{
	return p->busy;
}

/*
 * Hands one transaction to a free connection's thread. The pool takes
 * data (freed when the result is returned). from "" is the null sender <>.
 */
int
smtp_pool_submit(struct smtp_pool *p, int64_t id, const char *from,
    const char *rcpt, char *data, size_t len, char **cause)
{
	struct smtp_slot *s = NULL;
	int		 i;

	for (i = 0; i < p->nslots && s == NULL; i++)
		if (!p->slots[i].busy)
			s = &p->slots[i];
	if (s == NULL) {
		xasprintf(cause, "no free SMTP connection");
		return -1;
	}
	/* The thread is waiting: nothing else touches the slot now. */
	s->id = id;
	s->data = data;
	s->len = len;
	s->off = 0;
	s->from = xstrdup(from);
	s->rcpt = curl_slist_append(NULL, rcpt);
	pthread_mutex_lock(&p->lock);
	s->job = 1;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&p->lock);
	s->busy = 1;
	p->busy++;
	return 0;
}

/* Moves the queued results to *out. Called with the lock held. */
static void
smtp_pool_take(struct smtp_pool *p, struct smtp_result **out, size_t *nout)
{
	size_t	 i;

	if (p->ndone == 0)
		return;
	*out = xreallocarray(NULL, p->ndone, sizeof **out);
	for (i = 0; i < p->ndone; i++) {
		(*out)[i] = p->done[i].r;
		p->slots[p->done[i].slot].busy = 0;
		p->busy--;
	}
	*nout = p->ndone;
	p->ndone = 0;
}

/*
 * Returns the finished transactions in *out (the caller frees them with
 * smtp_results_free). It waits (up to timeout_ms) only when none has
 * finished, so a free connection is refilled at once.
 */
int
smtp_pool_run(struct smtp_pool *p, int timeout_ms, struct smtp_result **out,
    size_t *nout)
{
	struct timespec	 ts;
	int		 e = 0;

	*out = NULL;
	*nout = 0;
	if (p->busy == 0)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&p->lock);
	while (p->ndone == 0 && e != ETIMEDOUT)
		e = pthread_cond_timedwait(&p->done_cond, &p->lock, &ts);
	smtp_pool_take(p, out, nout);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

void
smtp_results_free(struct smtp_result *r, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		free(r[i].reply);
	free(r);
}
