/*
 * The daemon's send step: claim what is due, get each message's bytes,
 * hand it to the transport (the SMTP pool, or the outbox Maildir), and
 * record each result as soon as it is known.
 *
 * Never twice, never skipped: a row is claimed ('sending') only when a
 * connection is free to take it at once, and its result is written the
 * moment it arrives. So after a crash the rows still in 'sending' are
 * the transactions that were on the wire, at most smtp.connections of
 * them; send_recover() reports them and resends or holds them.
 *
 * Each connection sends on its own thread (smtp.c); only this loop, on
 * the main thread, touches the database. A step that has run its time
 * leaves the transactions still on the wire to finish on their threads
 * and collects them in the next step, so one stalled relay connection
 * never keeps the others (or the daemon's other steps) waiting.
 *
 * A result that cannot be written (another process holds the write lock
 * past the busy timeout, a full disk) is kept in memory and written again,
 * with backoff, until it is: left in 'sending' it would be sent twice
 * after the next start. While results wait, nothing more is claimed, and
 * the connections still on the wire go on being served (each write waits
 * at most SEND_BUSY_MS, not the usual busy timeout), so a locked database
 * never turns into timeouts of healthy SMTP transactions.
 *
 * Envelope senders: deliveries use the composer's VERP address. System
 * mail uses bounces@domain (no token: a bounce of a forward or digest
 * reaches the bounce mailbox and matches no member), except confirmations
 * of an unsubscribe, which answer a member's own message and so use the
 * null sender <> as RFC 3834 section 3.3 asks of automatic responses.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clarion.h"

#define SEND_FAULT_LIMIT	5	/* server failures in a row: pause */
#define SEND_PAUSE_MIN		60
#define SEND_PAUSE_MAX		900
#define SEND_STEP_SECONDS	20	/* then let the other steps run */
#define SEND_BUSY_MS		1000	/* a write's wait while mail is on the wire */
#define SEND_RETRY_MIN_MS	250	/* backoff of unwritten results */
#define SEND_RETRY_MAX_MS	30000
#define SEND_FINISH_TRIES	6	/* at exit, writes of DB_BUSY_TIMEOUT each */

/* A result known but not yet written to the database. */
struct send_pending {
	struct delivery_outcome o;
	struct delivery_claim c;	/* for the bounce score */
	enum send_class	 class;
	char		 status[16];
	char		*reply;		/* the server's text */
};

struct send_state {
	struct smtp_pool *pool;
	char		*pool_key;	/* the settings the pool was made with */
	int		 recovered;
	int		 streak;	/* server failures in a row */
	long		 pause;
	time_t		 paused_until;
	struct send_pending *pending;	/* results not yet written */
	size_t		 npending;
	long		 retry_ms;	/* backoff, 0 = no write has failed */
	long long	 retry_at;	/* monotonic ms of the next write */
	long long	 claim_at;	/* no claim before (after a failed one) */
	long		 claim_ms;
	time_t		 fault_since;	/* wall clock: first failed write */
	char		*fault;		/* why it failed */
	struct delivery_claim *flight;	/* on the wire between steps */
	size_t		 nflight;
};
static struct send_state ss;

struct sender {
	struct daemon_ctx *ctx;
	struct smtp_pool *pool;		/* NULL: the outbox */
	struct delivery_claim *ahead;	/* due, read ahead, not claimed */
	size_t		 nahead, iahead;
	struct delivery_claim *flight;	/* claimed, on the wire */
	size_t		 nflight;
	struct smtp_result *done;	/* outbox results, not yet recorded */
	size_t		 ndone;
	long		 budget;	/* rate limit: messages left, -1 = any */
};

static time_t
mono_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static long long
mono_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
send_pause_record(struct daemon_ctx *ctx)
{
	char	 v[32];

	snprintf(v, sizeof v, "%lld", (long long)ss.paused_until);
	db_state_set(ctx->db, "send_paused_until", v, NULL);
}

/* A pause outlives a restart: a crash loop must not hammer the server. */
static void
send_pause_load(struct daemon_ctx *ctx)
{
	char	*v;

	if ((v = db_state_get(ctx->db, "send_paused_until")) == NULL)
		return;
	ss.paused_until = (time_t)strtoll(v, NULL, 10);
	free(v);
}

/* Too many server failures in a row: stop for a while, then try again. */
static void
send_pause(struct daemon_ctx *ctx, time_t now, const char *reply)
{
	if (ss.paused_until > now)
		return;
	ss.pause = ss.pause == 0 ? SEND_PAUSE_MIN : ss.pause * 2;
	if (ss.pause > SEND_PAUSE_MAX)
		ss.pause = SEND_PAUSE_MAX;
	ss.paused_until = now + ss.pause;
	log_warnx("send: %d server failures in a row (last: %s); pausing "
	    "sending for %lds, the mail stays queued", ss.streak, reply,
	    ss.pause);
	send_pause_record(ctx);
}

/* Settings that need a new pool when they change (on SIGHUP). */
static char *
send_pool_key(const struct smtp_config *sc)
{
	char	*k;

	xasprintf(&k, "%s|%s|%s|%d|%s|%s|%d|%d|%d|%d|%s", sc->url,
	    sc->user != NULL ? sc->user : "", sc->password_file != NULL ?
	    sc->password_file : "", sc->password != NULL ?
	    (int)strlen(sc->password) : -1, sc->ca_file != NULL ? sc->ca_file :
	    "", sc->helo != NULL ? sc->helo : "", sc->tls_verify,
	    sc->require_tls, sc->connections, sc->timeout, sc->password !=
	    NULL ? sc->password : "");
	return k;
}

static int
send_pool_get(struct daemon_ctx *ctx)
{
	char	*key, *cause;

	key = send_pool_key(&ctx->conf->smtp);
	if (ss.pool != NULL && strcmp(key, ss.pool_key) == 0) {
		explicit_zero(key, strlen(key));
		free(key);
		return 0;
	}
	smtp_pool_free(ss.pool);
	if (ss.pool_key != NULL) {
		explicit_zero(ss.pool_key, strlen(ss.pool_key));
		free(ss.pool_key);
	}
	ss.pool_key = key;
	if ((ss.pool = smtp_pool_new(&ctx->conf->smtp, &cause)) == NULL) {
		log_warnx("send: %s", cause);
		free(cause);
		return -1;
	}
	return 0;
}

static char *
send_sysmail_from(const struct config *conf, const char *kind)
{
	char	*from;

	if (kind != NULL && strcmp(kind, "unsubscribed") == 0)
		return xstrdup("");
	xasprintf(&from, "%s@%s", conf->bounce_local, conf->domain);
	return from;
}

/* The outbox keeps the envelope the way a delivering MDA would. */
static void
send_outbox(struct sender *s, int64_t pid, const char *from,
    const char *rcpt, const char *data, size_t len)
{
	struct smtp_result *r;
	char		*cause;

	s->done = xreallocarray(s->done, s->ndone + 1, sizeof *s->done);
	r = &s->done[s->ndone++];
	memset(r, 0, sizeof *r);
	r->id = pid;
	if (outbox_deliver_env(s->ctx->conf->outbox, from, rcpt, data, len,
	    &cause) == 0) {
		r->class = SEND_OK;
		xasprintf(&r->reply, "written to %s", s->ctx->conf->outbox);
	} else {
		r->class = SEND_TEMPFAIL;
		r->server = 1;
		r->reply = cause;
	}
}

/* Hands one message to the transport; the pool takes data. */
static int
send_submit(struct sender *s, int64_t pid, const char *from,
    const char *rcpt, char *data, size_t len, char **cause)
{
	const char	*to = rcpt;

	if (s->ctx->conf->test_address != NULL)
		to = s->ctx->conf->test_address;
	log_debug("send: %s %lld to %s", pid < 0 ? "sysmail" : "delivery",
	    (long long)(pid < 0 ? -pid : pid), log_addr(to));
	if (s->pool != NULL)
		return smtp_pool_submit(s->pool, pid, from, to, data, len,
		    cause);
	send_outbox(s, pid, from, to, data, len);
	free(data);
	return 0;
}

/*
 * Signs at the last moment, list mail and Clarion's own alike, so the
 * signature covers exactly the bytes the relay gets.
 */
static int
send_sign(struct sender *s, char **data, size_t *len, char **cause)
{
	struct daemon_ctx	*ctx = s->ctx;
	struct buf		 b;

	if (ctx->conf->dkim.key_file == NULL)
		return 0;
	if (ctx->dkim == NULL && dkim_signer_new(ctx->conf, &ctx->dkim,
	    cause) == -1)
		return -1;
	b.data = *data;
	b.len = *len;
	b.cap = *len + 1;
	if (dkim_sign_message(ctx->dkim, &b, cause) == -1)
		return -1;
	*data = b.data;
	*len = b.len;
	return 0;
}

/* The message of one claim, handed over; -1 (and *cause) if it has none. */
static int
send_start(struct sender *s, struct delivery_claim *c, char **cause)
{
	struct outmsg	 m;
	char		*from, *data;
	int		 rc;

	if (c->sysmail) {
		if (c->address == NULL || c->message == NULL) {
			xasprintf(cause, "no recipient or message");
			return -1;
		}
		if (send_sign(s, &c->message, &c->len, cause) == -1)
			return -1;
		from = send_sysmail_from(s->ctx->conf, c->kind);
		data = c->message;
		c->message = NULL;
		rc = send_submit(s, -c->id, from, c->address, data, c->len,
		    cause);
		free(from);
		return rc;
	}
	memset(&m, 0, sizeof m);
	if (compose_message(s->ctx, c->id, &m, cause) == -1)
		return -1;
	if (send_sign(s, &m.data.data, &m.data.len, cause) == -1) {
		outmsg_free(&m);
		return -1;
	}
	data = m.data.data;
	rc = send_submit(s, c->id, m.envelope_from, m.rcpt, data, m.data.len,
	    cause);
	buf_init(&m.data);
	if (rc == -1)
		free(data);
	outmsg_free(&m);
	return rc;
}

static void	send_pending_add(const struct delivery_outcome *,
		    struct delivery_claim *, const struct smtp_result *);
static int	send_flush(struct daemon_ctx *);

/*
 * A row that cannot be started is held with the reason, never dropped.
 * The same reason again (a missing template holds every delivery of a
 * run) is logged at debug: the run's own line says it once, with the
 * count and the way out (compose.c).
 */
static void
send_hold(struct sender *s, struct delivery_claim *c, char *cause)
{
	static char		*last;
	struct delivery_outcome	 o;

	if (last != NULL && strcmp(last, cause) == 0)
		log_debug("send: %s %lld held: %s", c->sysmail ? "sysmail" :
		    "delivery", (long long)c->id, cause);
	else {
		log_warnx("send: %s %lld held: %s (the same for others is "
		    "logged at debug)", c->sysmail ? "sysmail" : "delivery",
		    (long long)c->id, cause);
		free(last);
		last = xstrdup(cause);
	}
	memset(&o, 0, sizeof o);
	o.id = c->id;
	o.sysmail = c->sysmail;
	o.state = DELIVERY_HELD;
	xasprintf(&o.reply, "cannot send: %s", cause);
	send_pending_add(&o, c, NULL);
	free(cause);
	send_flush(s->ctx);
}

/*
 * Reads the next batch of due rows: system mail first, deliveries only
 * outside quiet hours. Returns how many, or -1.
 */
static long
send_read_ahead(struct sender *s, time_t now)
{
	const struct config *conf = s->ctx->conf;
	int	 batch = conf->claim_batch > 0 ? conf->claim_batch : 50;

	delivery_claims_free(s->ahead, s->nahead);
	s->ahead = NULL;
	s->nahead = s->iahead = 0;
	if (db_delivery_due(s->ctx->db, now, batch, 1, &s->ahead,
	    &s->nahead) == -1)
		return -1;
	if (s->nahead == 0 && !send_quiet(conf, now)) {
		free(s->ahead);
		if (db_delivery_due(s->ctx->db, now, batch, 0, &s->ahead,
		    &s->nahead) == -1)
			return -1;
	}
	return (long)s->nahead;
}

/* Claims the next up to max rows read ahead and starts each. */
static long
send_take(struct sender *s, time_t now, int max)
{
	struct delivery_claim *c = &s->ahead[s->iahead];
	size_t		 k = s->nahead - s->iahead, i;
	int		*taken;
	char		*cause;
	long		 got;

	if ((size_t)max < k)
		k = (size_t)max;
	taken = xcalloc(k, sizeof *taken);
	if ((got = db_delivery_take(s->ctx->db, &s->ctx->keys, now, c, k,
	    taken)) == -1) {
		free(taken);
		return -1;
	}
	s->iahead += k;
	for (i = 0; i < k; i++) {
		if (!taken[i])
			continue;
		if (send_start(s, &c[i], &cause) == -1) {
			send_hold(s, &c[i], cause);
			continue;
		}
		s->flight = xreallocarray(s->flight, s->nflight + 1,
		    sizeof *s->flight);
		s->flight[s->nflight++] = c[i];
		memset(&c[i], 0, sizeof c[i]);
	}
	free(taken);
	return got;
}

/*
 * Claims up to max rows, just before sending them, and starts each.
 * Returns how many were claimed (0: nothing is due), or -1. It reads
 * ahead again as often as needed to fill every free connection: one left
 * idle would wait for the next reply, which a slow relay gives late.
 */
static long
send_claim(struct sender *s, time_t now, int max)
{
	long	 got = 0, r = 0;

	if (s->budget >= 0 && s->budget < max)
		max = (int)s->budget;
	while (got < max) {
		if (s->iahead == s->nahead &&
		    (r = send_read_ahead(s, now)) <= 0)
			break;
		if ((r = send_take(s, now, (int)(max - got))) == -1)
			break;
		got += r;
	}
	if (r == -1 && got == 0)
		return -1;
	if (s->budget > 0)
		s->budget -= got;
	return got;
}

static struct delivery_claim *
send_flight_take(struct sender *s, int64_t pid, struct delivery_claim *out)
{
	size_t	 i;

	for (i = 0; i < s->nflight; i++) {
		if (s->flight[i].id != (pid < 0 ? -pid : pid) ||
		    s->flight[i].sysmail != (pid < 0))
			continue;
		*out = s->flight[i];
		s->flight[i] = s->flight[--s->nflight];
		return out;
	}
	return NULL;
}

/* A temporary failure: try again later, or give up when too old. */
static void
send_defer(struct sender *s, const struct delivery_claim *c,
    const struct smtp_result *r, time_t now, struct delivery_outcome *o)
{
	const struct config *conf = s->ctx->conf;

	if (r->server && ss.streak >= SEND_FAULT_LIMIT) {
		send_pause(s->ctx, now, r->reply);
		o->state = DELIVERY_REQUEUED;
		o->reply = xstrdup(r->reply);
		return;
	}
	if (now - c->created >= conf->retry_max_age) {
		o->state = DELIVERY_FAILED;
		xasprintf(&o->reply, "gave up after %d attempts: %s",
		    c->attempts + 1, r->reply);
		return;
	}
	o->state = DELIVERY_DEFERRED;
	o->next_attempt = now + send_backoff(conf, c->id, c->attempts + 1);
	o->reply = xstrdup(r->reply);
}

/* Logged once per run of failures, and shown by `clarion status`. */
static void
send_server_error(struct daemon_ctx *ctx, time_t now, const char *reply)
{
	char	*when, *v;

	log_warnx("send: %s", reply);
	when = time_format_iso(now);
	xasprintf(&v, "%s %s", when != NULL ? when : "", reply);
	db_state_set(ctx->db, "last_smtp_error", v, NULL);
	free(when);
	free(v);
}

static void
send_outcome(struct sender *s, const struct delivery_claim *c,
    const struct smtp_result *r, time_t now, struct delivery_outcome *o)
{
	memset(o, 0, sizeof *o);
	o->id = c->id;
	o->sysmail = c->sysmail;
	o->code = r->code;
	o->at = now;
	if (r->server) {
		if (ss.streak++ == 0)
			send_server_error(s->ctx, now, r->reply);
	} else {
		ss.streak = 0;
		if (r->class == SEND_OK)
			ss.pause = 0;
	}
	switch (r->class) {
	case SEND_OK:
		o->state = DELIVERY_SENT;
		o->reply = xstrdup(r->reply);
		break;
	case SEND_PERMFAIL:
		o->state = DELIVERY_FAILED;
		o->reply = xstrdup(r->reply);
		/* Servers quote the address in their text: debug only. */
		log_info("send: %s %lld to %s failed: %d %s", c->sysmail ?
		    "sysmail" : "delivery", (long long)c->id,
		    log_addr(c->address != NULL ? c->address : ""), r->code,
		    r->status);
		log_debug("send: %s", r->reply);
		break;
	case SEND_TEMPFAIL:
		send_defer(s, c, r, now, o);
		break;
	}
}

/* Keeps a result (taking o's reply and c's strings) until it is written. */
static void
send_pending_add(const struct delivery_outcome *o, struct delivery_claim *c,
    const struct smtp_result *r)
{
	struct send_pending *p;

	ss.pending = xreallocarray(ss.pending, ss.npending + 1,
	    sizeof *ss.pending);
	p = &ss.pending[ss.npending++];
	memset(p, 0, sizeof *p);
	p->o = *o;
	p->c = *c;
	memset(c, 0, sizeof *c);
	p->class = r != NULL ? r->class : SEND_TEMPFAIL;
	if (r != NULL) {
		memcpy(p->status, r->status, sizeof p->status);
		p->reply = xstrdup(r->reply != NULL ? r->reply : "");
	}
}

static void
send_pending_clear(void)
{
	size_t	 i;

	for (i = 0; i < ss.npending; i++) {
		free(ss.pending[i].o.reply);
		free(ss.pending[i].reply);
		delivery_claims_free_one(&ss.pending[i].c);
	}
	free(ss.pending);
	ss.pending = NULL;
	ss.npending = 0;
}

/* A refusal of the recipient scores a bounce: hard if the address is gone. */
static void
send_bounce(struct daemon_ctx *ctx, const struct send_pending *p)
{
	int	 hard;

	if (p->class != SEND_PERMFAIL || p->c.sysmail ||
	    p->c.subscriber_id == 0)
		return;
	hard = dsn_is_hard(p->status[0] != '\0' ? p->status : NULL,
	    p->reply);
	if (bounce_record(ctx->db, ctx->conf, &ctx->keys, p->c.subscriber_id,
	    p->c.id, hard, p->status, p->reply, NULL) == -1)
		log_warnx("send: delivery %lld: cannot record the bounce",
		    (long long)p->c.id);
}

/*
 * Shown by `clarion status`: while the database cannot be written, in the
 * daemon's lock file (status can always read that); once it can, in the
 * database, so the fault stays visible after it has passed.
 */
static void
send_fault_note(struct daemon_ctx *ctx, int written)
{
	char	*since, *now, *v;

	since = time_format_iso(ss.fault_since);
	if (!written) {
		xasprintf(&v, "since %s: %zu send results not yet written to "
		    "the database (%s); retrying, no more mail is claimed until "
		    "they are", since != NULL ? since : "?", ss.npending,
		    ss.fault);
		daemon_lock_note(v);
	} else {
		now = time_format_iso(clock_now());
		xasprintf(&v, "%s: send results could not be written for "
		    "%llds (%s); all written at %s, none lost", since != NULL ?
		    since : "?", (long long)(clock_now() - ss.fault_since),
		    ss.fault, now != NULL ? now : "?");
		free(now);
		daemon_lock_note(NULL);
		if (db_state_set(ctx->db, "last_db_error", v, NULL) == -1)
			log_warnx("send: cannot record the write failure for "
			    "clarion status");
	}
	free(since);
	free(v);
}

static void
send_flush_failed(struct daemon_ctx *ctx, const char *cause)
{
	const char	*why = cause != NULL ? cause : "the write failed";

	ss.retry_ms = ss.retry_ms == 0 ? SEND_RETRY_MIN_MS : ss.retry_ms * 2;
	if (ss.retry_ms > SEND_RETRY_MAX_MS)
		ss.retry_ms = SEND_RETRY_MAX_MS;
	ss.retry_at = mono_ms() + ss.retry_ms;
	if (ss.fault == NULL) {
		ss.fault_since = clock_now();
		ss.fault = xstrdup(why);
		log_warnx("send: results of %zu messages not recorded (%s); "
		    "keeping them and writing them again until it works; no "
		    "more mail is claimed meanwhile", ss.npending, why);
	}
	send_fault_note(ctx, 0);
}

/*
 * Writes the waiting results in one transaction, then scores bounces.
 * Returns 0 when none wait any more, -1 if they still do (not yet time
 * to try again, or the write failed).
 */
static int
send_flush(struct daemon_ctx *ctx)
{
	struct delivery_outcome *o;
	size_t		 i;
	char		*cause = NULL;
	int		 rc;

	if (ss.npending == 0)
		return 0;
	if (ss.retry_ms != 0 && mono_ms() < ss.retry_at)
		return -1;
	o = xcalloc(ss.npending, sizeof *o);
	for (i = 0; i < ss.npending; i++)
		o[i] = ss.pending[i].o;
	rc = db_delivery_record(ctx->db, o, ss.npending, &cause);
	free(o);
	if (rc == -1) {
		send_flush_failed(ctx, cause);
		free(cause);
		return -1;
	}
	if (ss.fault != NULL) {
		log_warnx("send: the results of %zu messages waiting since the "
		    "write failed are recorded now", ss.npending);
		send_fault_note(ctx, 1);
		free(ss.fault);
		ss.fault = NULL;
	}
	ss.retry_ms = 0;
	for (i = 0; i < ss.npending; i++)
		send_bounce(ctx, &ss.pending[i]);
	send_pending_clear();
	return 0;
}

/* Turns results into outcomes, keeps them, and writes them if it can. */
static void
send_results(struct sender *s, struct smtp_result *r, size_t n)
{
	struct delivery_outcome o;
	struct delivery_claim c;
	time_t		 now = clock_now();
	size_t		 i;

	for (i = 0; i < n; i++) {
		if (send_flight_take(s, r[i].id, &c) == NULL)
			continue;
		send_outcome(s, &c, &r[i], now, &o);
		send_pending_add(&o, &c, &r[i]);
	}
	send_flush(s->ctx);
}

/* Waits for transfers to finish (up to timeout_ms) and records them. */
static int
send_collect(struct sender *s, int timeout_ms)
{
	struct smtp_result *r;
	size_t		 n;

	if (s->pool == NULL) {
		send_results(s, s->done, s->ndone);
		smtp_results_free(s->done, s->ndone);
		s->done = NULL;
		s->ndone = 0;
		return 0;
	}
	if (smtp_pool_run(s->pool, timeout_ms, &r, &n) == -1) {
		log_warnx("send: the SMTP pool failed");
		return -1;
	}
	send_results(s, r, n);
	smtp_results_free(r, n);
	return 0;
}

static int
send_free_slots(struct sender *s)
{
	if (s->pool != NULL)
		return smtp_pool_idle(s->pool);
	return s->ctx->conf->claim_batch;
}

/* A claim that failed (the database is locked): try again later. */
static void
send_claim_failed(void)
{
	ss.claim_ms = ss.claim_ms == 0 ? SEND_RETRY_MIN_MS : ss.claim_ms * 2;
	if (ss.claim_ms > SEND_RETRY_MAX_MS)
		ss.claim_ms = SEND_RETRY_MAX_MS;
	ss.claim_at = mono_ms() + ss.claim_ms;
}

/* Claims more if it may: no results wait, a connection is free. */
static int
send_more(struct sender *s, time_t now)
{
	long	 n;
	int	 free_slots;

	if (ss.npending > 0 || mono_ms() < ss.claim_at ||
	    (free_slots = send_free_slots(s)) <= 0)
		return 1;
	if ((n = send_claim(s, now, free_slots)) == -1) {
		send_claim_failed();
		return 1;
	}
	ss.claim_ms = 0;
	ss.claim_at = 0;
	return n > 0;
}

/* How long to wait for the wire: until the next write or claim is due. */
static int
send_wait_ms(void)
{
	long long	 now = mono_ms(), at = now + 1000;

	if (ss.npending > 0 && ss.retry_at < at)
		at = ss.retry_at;
	else if (ss.npending == 0 && ss.claim_at > now && ss.claim_at < at)
		at = ss.claim_at;
	return at > now ? (int)(at - now) : 0;
}

/*
 * Claims and sends until nothing is due, a limit is reached, the step has
 * run long enough (returns 1: more to do) or a stop is asked for. What is
 * on the wire is always finished before returning, and its results are
 * recorded, or kept (returns 1) if the database cannot be written now.
 */
static int
send_loop(struct sender *s)
{
	struct timespec	 ts;
	time_t		 start = mono_now(), now;
	int		 more = 0, claiming = 1, ms;

	while (claiming || s->nflight > 0 || ss.npending > 0) {
		now = clock_now();
		if (claiming && (daemon_stopping(s->ctx) ||
		    ss.paused_until > now))
			claiming = 0;
		if ((claiming || ss.npending > 0) &&
		    mono_now() - start >= SEND_STEP_SECONDS) {
			claiming = 0;
			more = 1;
		}
		if (claiming && s->budget == 0)
			claiming = 0;
		send_flush(s->ctx);
		/* The step's time is up: what is on the wire carries on. */
		if (more && s->pool != NULL && s->ndone == 0 &&
		    ss.npending == 0 && !daemon_stopping(s->ctx))
			break;
		if (claiming && !send_more(s, now))
			claiming = 0;
		if (s->nflight == 0 && s->ndone == 0) {
			if (ss.npending == 0 && mono_ms() >= ss.claim_at)
				continue;
			/* Nothing on the wire: wait for the next try. */
			if (daemon_stopping(s->ctx) || more)
				break;
			ms = send_wait_ms();
			ts.tv_sec = ms / 1000;
			ts.tv_nsec = (long)(ms % 1000) * 1000000;
			nanosleep(&ts, NULL);
			continue;
		}
		if (send_collect(s, send_wait_ms()) == -1)
			return -1;
	}
	return more || ss.npending > 0 || s->nflight > 0;
}

/*
 * Once per daemon start: deliveries left in 'sending' by a crash are the
 * only ones whose fate is unknown. Report them, then resend or hold them
 * as delivery.after_crash says. Only the holder of the database's daemon
 * lock gets here, so no live daemon is sending them.
 */
int
send_recover(struct daemon_ctx *ctx)
{
	long	 ndel, nsys;
	int	 hold = ctx->conf->resend_in_flight == RESEND_HOLD;

	if (ss.recovered)
		return 0;
	if (db_delivery_recover(ctx->db, ctx->conf->resend_in_flight, &ndel,
	    &nsys) == -1)
		return -1;
	ss.recovered = 1;
	if (ndel > 0)
		log_warnx("send: %ld deliveries were being sent when Clarion "
		    "stopped unexpectedly; %s", ndel, hold ? "they are held: "
		    "`clarion queue resend` (or `clarion run resend RUN "
		    "--to-missed`) sends them, some may arrive twice; "
		    "`clarion queue cancel` drops them" : "sending them again "
		    "(some may arrive twice)");
	if (nsys > 0)
		log_warnx("send: %ld system messages were being sent when "
		    "Clarion stopped unexpectedly; sending them again", nsys);
	return 0;
}

int
send_step(struct daemon_ctx *ctx)
{
	struct sender	 s;
	time_t		 now = clock_now();
	int		 rc;

	if (!ss.recovered && send_recover(ctx) == -1)
		return -1;
	send_pause_load(ctx);
	/* Paused, but results from the last step may still come in. */
	if (ss.paused_until > now && ss.nflight == 0)
		return 0;
	if (ss.paused_until != 0 && ss.paused_until <= now) {
		ss.paused_until = 0;
		send_pause_record(ctx);
	}
	memset(&s, 0, sizeof s);
	s.ctx = ctx;
	if (ctx->conf->transport == TRANSPORT_SMTP) {
		if (send_pool_get(ctx) == -1)
			return -1;
		s.pool = ss.pool;
	}
	s.flight = ss.flight;
	s.nflight = ss.nflight;
	s.budget = send_rate_budget(ctx->db, ctx->conf, now);
	/* With mail on the wire, a write must not wait out the relay. */
	if (s.pool != NULL)
		db_busy_timeout(ctx->db, SEND_BUSY_MS);
	rc = send_loop(&s);
	db_busy_timeout(ctx->db, DB_BUSY_TIMEOUT);
	delivery_claims_free(s.ahead, s.nahead);
	ss.flight = s.flight;
	ss.nflight = s.nflight;
	if (ss.nflight == 0) {
		free(ss.flight);
		ss.flight = NULL;
	}
	return rc;
}

/*
 * Waits for the transactions a step left on the wire and records their
 * results (before the pool is closed: at exit, on SIGHUP). A result that
 * cannot be written stays pending, as in the loop.
 */
void
send_drain(struct daemon_ctx *ctx)
{
	struct sender	 s;

	if (ss.nflight == 0 || ss.pool == NULL)
		return;
	memset(&s, 0, sizeof s);
	s.ctx = ctx;
	s.pool = ss.pool;
	s.flight = ss.flight;
	s.nflight = ss.nflight;
	db_busy_timeout(ctx->db, SEND_BUSY_MS);
	while (s.nflight > 0 && smtp_pool_busy(s.pool) > 0)
		if (send_collect(&s, 1000) == -1)
			break;
	db_busy_timeout(ctx->db, DB_BUSY_TIMEOUT);
	delivery_claims_free(s.flight, s.nflight);
	ss.flight = NULL;
	ss.nflight = 0;
}

/*
 * At exit: results still unwritten get a few more tries, with the full
 * busy timeout (nothing is on the wire now). If they still cannot be
 * written, their rows stay in 'sending' and the next start handles them
 * as after a crash; say so.
 */
void
send_finish(struct daemon_ctx *ctx)
{
	int	 i;

	send_drain(ctx);
	for (i = 0; i < SEND_FINISH_TRIES && ss.npending > 0; i++) {
		ss.retry_ms = 0;
		if (send_flush(ctx) == 0)
			break;
	}
	if (ss.npending == 0)
		return;
	log_warnx("send: the results of %zu messages could not be recorded "
	    "(%s); their deliveries stay 'sending' and the next start handles "
	    "them as after a crash (delivery.after_crash)", ss.npending,
	    ss.fault != NULL ? ss.fault : "?");
	send_pending_clear();
}

/* Closes the connections (at daemon exit). */
void
send_shutdown(void)
{
	smtp_pool_free(ss.pool);
	ss.pool = NULL;
	if (ss.pool_key != NULL) {
		explicit_zero(ss.pool_key, strlen(ss.pool_key));
		free(ss.pool_key);
		ss.pool_key = NULL;
	}
}
