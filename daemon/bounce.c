/*
 * Bounce scoring. A hard bounce (the address itself is gone) disables the
 * member at once. Soft bounces add one point each to a score that decays
 * exponentially with a half-life of bounces.window:
 *
 *	score(t) = score(t0) * 2^(-(t - t0) / window) + 1
 *
 * so a point is worth 1/2 after one window, 1/4 after two. The member is
 * disabled when the score reaches bounces.threshold. With the defaults
 * (5 points, 30 days) five bounces in a few days disable an address, a
 * weekly list that bounces every issue does so on the 9th week, and an
 * occasional full mailbox never does. A delivered message resets the
 * score (bounce_success). Owners hear about disabled members, complaints
 * and inbound mail filed without an effect in a digest every
 * bounces.digest_interval.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "clarion.h"

/* 2^-x for x >= 0, without libm: halving for the whole part, a series for the rest. */
static double
pow2_neg(double x)
{
	double	 r = 1, sum = 1, term = 1, y;
	int	 i;

	if (x > 1100)
		return 0;
	for (; x >= 1; x -= 1)
		r /= 2;
	y = -x * 0.69314718055994530942;	/* ln 2 */
	for (i = 1; i < 24; i++) {
		term *= y / i;
		sum += term;
	}
	return r * sum;
}

double
bounce_decay(double score, time_t last, time_t now, int window)
{
	if (score <= 0 || now <= last || window <= 0)
		return score;
	return score * pow2_neg((double)(now - last) / window);
}

struct bounce_args {
	struct db		*db;
	const struct config	*conf;
	const struct token_keys	*keys;
	int64_t			 subscriber_id;
	int64_t			 delivery_id;
	int			 hard;
	const char		*status;
	const char		*reason;
	const struct token_ref	*tok;		/* NULL: our own SMTP session */
	int64_t			 bounce_id;	/* the row this one wrote */
	time_t			 now;
	int			 was_disabled;	/* disabled before, not reset */
	int			 disabled;
};

/* Unsubscribes everywhere and suppresses the address. */
static int
disable(struct bounce_args *a, const char *why, const char *detail)
{
	char		*address = NULL, *name = NULL;
	json_t		*attrs = NULL;
	int		 rc;

	if (subscriber_get(a->db, a->subscriber_id, &address, &name,
	    &attrs) == -1) {
		log_warnx("bounce: subscriber %lld is gone",
		    (long long)a->subscriber_id);
		return 0;
	}
	/* Two bounces of mail sent before the first: report it once. */
	if (a->was_disabled && subscriber_suppressed(a->db, a->keys,
	    address) == 1) {
		free(address);
		free(name);
		json_decref(attrs);
		return 0;
	}
	rc = db_unsubscribe(a->db, a->keys, a->subscriber_id, 0, why);
	if (rc != -1)
		rc = subscriber_suppress(a->db, a->keys, address, why, detail,
		    NULL);
	if (rc != -1)
		rc = db_bounce_disabled(a->db, a->subscriber_id, a->now,
		    detail, a->bounce_id);
	if (rc != -1) {
		log_info("bounce: %s disabled (%s)", log_addr(address), detail);
		a->disabled = 1;
	}
	free(address);
	free(name);
	json_decref(attrs);
	return rc == -1 ? -1 : 0;
}

static char *
describe(const char *status, const char *reason)
{
	char	*s;

	xasprintf(&s, "%s%s%s", status != NULL ? status : "",
	    status != NULL && *status != '\0' && reason != NULL &&
	    *reason != '\0' ? " " : "", reason != NULL ? reason : "");
	return s;
}

static int
record_hard(struct bounce_args *a)
{
	char	*what, *detail;
	int	 rc;

	what = describe(a->status, a->reason);
	xasprintf(&detail, "hard bounce: %s", what);
	rc = disable(a, "hard-bounce", detail);
	free(what);
	free(detail);
	return rc;
}

static int
record_soft(struct bounce_args *a)
{
	double	 score;
	time_t	 last, disabled_at;
	char	*what, *detail;
	int	 rc;

	if (db_bounce_score_get(a->db, a->subscriber_id, &score, &last,
	    &disabled_at) == -1)
		return -1;
	score = bounce_decay(score, last, a->now,
	    a->conf->bounce_window) + 1;
	if (db_bounce_score_set(a->db, a->subscriber_id, score, a->now) == -1)
		return -1;
	/* Only the bounce that crosses the threshold disables. */
	if (score < a->conf->bounce_threshold ||
	    score - 1 >= a->conf->bounce_threshold)
		return 0;
	what = describe(a->status, a->reason);
	xasprintf(&detail, "soft bounces: score %.1f reached %d (last: %s)",
	    score, a->conf->bounce_threshold, what);
	rc = disable(a, "soft-bounce", detail);
	free(what);
	free(detail);
	return rc;
}

static int
record(struct db *db, void *arg)
{
	struct bounce_args *a = arg;
	double	 score;
	time_t	 last, disabled_at;

	if (db_bounce_score_get(a->db, a->subscriber_id, &score, &last,
	    &disabled_at) == -1)
		return -1;
	a->was_disabled = disabled_at != 0;
	if (db_bounce_insert(a->db, a->subscriber_id, a->delivery_id, a->now,
	    a->hard, a->status, a->reason, a->tok != NULL ? "dsn" : "smtp",
	    a->tok != NULL ? token_purpose_name(a->tok->purpose) : NULL,
	    &a->bounce_id) == -1)
		return -1;
	return a->hard ? record_hard(a) : record_soft(a);
}

/*
 * security (attribution): a bounce or complaint reported by mail may act
 * on a member only through the bounce (VERP) token of the delivery it
 * names. Reply and unsubscribe tokens travel in headers any recipient of
 * a forwarded newsletter or a CC'd reply can copy; they never count
 * here, whatever the caller parsed.
 */
static int
attributed(const struct token_ref *tok, int64_t delivery_id,
    const char *what)
{
	if (tok == NULL) {
		log_warnx("%s: refused: no token names delivery %lld", what,
		    (long long)delivery_id);
		return 0;
	}
	if (tok->purpose == TOKEN_BOUNCE && tok->delivery_id == delivery_id)
		return 1;
	log_warnx("%s: refused: the %s token of delivery %lld cannot "
	    "attribute it to delivery %lld", what,
	    token_purpose_name(tok->purpose), (long long)tok->delivery_id,
	    (long long)delivery_id);
	return 0;
}

/*
 * Records one bounce, inside the caller's transaction if one is open.
 * tok is NULL for a refusal in our own SMTP session, else the verified
 * token of the report by mail, which must be the delivery's bounce
 * token. Returns 1 when this bounce disabled the member, 0 when it was
 * only recorded, -1 on error or a token that cannot attribute a bounce
 * (nothing recorded).
 */
int
bounce_record(struct db *db, const struct config *conf,
    const struct token_keys *keys, int64_t subscriber_id,
    int64_t delivery_id, int hard, const char *status, const char *reason,
    const struct token_ref *tok)
{
	struct bounce_args a;

	if (tok != NULL && !attributed(tok, delivery_id, "bounce"))
		return -1;

	memset(&a, 0, sizeof a);
	a.db = db;
	a.conf = conf;
	a.keys = keys;
	a.subscriber_id = subscriber_id;
	a.delivery_id = delivery_id;
	a.hard = hard;
	a.status = status;
	a.reason = reason;
	a.tok = tok;
	a.now = clock_now();
	if (subscriber_id <= 0)
		return -1;
	if (db_atomic(db, record, &a, NULL) == -1)
		return -1;
	return a.disabled;
}

/*
 * A complaint (an abuse report) about a delivery: the member leaves every
 * list and the address is suppressed. Only the delivery's bounce token
 * attributes it, as for bounces. 1 applied, 0 the member is gone, -1 on
 * error or a token that cannot attribute it.
 */
int
bounce_complaint(struct db *db, const struct token_keys *keys,
    int64_t subscriber_id, int64_t delivery_id, const struct token_ref *tok,
    const char *reason)
{
	char	*address = NULL, *name = NULL, *detail;
	json_t	*attrs = NULL;
	int	 rc;

	if (!attributed(tok, delivery_id, "complaint"))
		return -1;
	if (subscriber_id <= 0 || subscriber_get(db, subscriber_id,
	    &address, &name, &attrs) == -1)
		return 0;
	xasprintf(&detail, "%s (bounce token of delivery %lld)",
	    reason != NULL ? reason : "abuse report",
	    (long long)delivery_id);
	rc = db_unsubscribe(db, keys, subscriber_id, 0, "complaint");
	if (rc != -1)
		rc = subscriber_suppress(db, keys, address, "complaint",
		    detail, NULL);
	if (rc != -1)
		log_info("complaint from %s: unsubscribed from every list",
		    log_addr(address));
	free(detail);
	free(address);
	free(name);
	json_decref(attrs);
	return rc == -1 ? -1 : 1;
}

int
bounce_success(struct db *db, int64_t subscriber_id)
{
	return db_bounce_reset(db, subscriber_id);
}

/*
 * What attributed the bounce that disabled a member, for a person: the
 * token (by purpose) or our own SMTP session, and the delivery it named.
 */
char *
bounce_row_via(const struct bounce_row *r)
{
	char	 run[32] = "", *s;

	if (r->via_source == NULL)
		return xstrdup("attribution not recorded");
	if (r->via_run > 0)
		snprintf(run, sizeof run, " (run %lld)", (long long)r->via_run);
	if (strcmp(r->via_source, "smtp") == 0)
		xasprintf(&s, "refused in our SMTP session for delivery %lld%s",
		    (long long)r->via_delivery, run);
	else
		xasprintf(&s, "%s token of delivery %lld%s", r->via_token !=
		    NULL ? r->via_token : "no", (long long)r->via_delivery,
		    run);
	return s;
}

/* The current score of a row, decayed to now. */
double
bounce_row_score(const struct bounce_row *r, const struct config *conf,
    time_t now)
{
	return bounce_decay(r->score, r->last_bounce_at, now,
	    conf->bounce_window);
}

/*
 * One list's digest: the members disabled since the last one, and the
 * complaints and messages filed without an effect among the inbound
 * rows after..upto (with_none: also those that name no list, which go
 * to each owner once, on the owner's first list). Nothing to report,
 * no mail.
 */
static int
digest_list(struct db *db, const struct config *conf,
    const struct list_info *l, int with_none, int64_t after, int64_t upto,
    time_t not_before, time_t since, time_t now, char **cause)
{
	struct bounce_row *rows;
	struct inbound_digest_row *in;
	size_t		 n, nin;
	char		*dedupe;
	long		 refused;
	int		 rc;

	if (db_bounce_undigested(db, l->id, &rows, &n) == -1)
		return -1;	/* the unit of work says why */
	if (db_inbound_digest(db, after, upto, not_before, l->id, with_none,
	    &in, &nin) == -1) {
		bounce_rows_free(rows, n);
		return -1;
	}
	xasprintf(&dedupe, "digest:%lld:%lld", (long long)l->id,
	    (long long)now);
	refused = db_delivery_refused_since(db, l->id, since);
	rc = n + nin == 0 ? 0 : sysmail_digest(db, conf, l, rows, n, in, nin,
	    refused, dedupe, cause);
	if (rc != -1 && n + nin > 0)
		log_info("bounce digest: %zu disabled address%s, %zu inbound "
		    "message%s for the owner of %s", n, n == 1 ? "" : "es",
		    nin, nin == 1 ? "" : "s", l->name);
	free(dedupe);
	bounce_rows_free(rows, n);
	inbound_digest_free(in, nin);
	return rc == -1 ? -1 : 0;
}

struct digest_args {
	const struct config *conf;
	time_t		 since, now;
	char		**cause;
};

static int
digest_all(struct db *db, void *arg)
{
	struct digest_args *d = arg;
	struct list_info *v;
	size_t	 n, i, j;
	char	*last, v1[32], v2[32];
	int64_t	 after = 0, upto;
	time_t	 not_before = 0;
	int	 rc = 0;

	/*
	 * Before the first digest that reported inbound mail (a database
	 * from an older version), only what came after the last digest.
	 */
	if ((last = db_state_get(db, "last_digest_inbound")) != NULL)
		after = strtoll(last, NULL, 10);
	else
		not_before = d->since;
	free(last);
	upto = db_inbound_last_id(db);
	if (db_list_all(db, &v, &n, d->cause) == -1)
		return -1;
	for (i = 0; i < n && rc == 0; i++) {
		/* What names no list goes to each owner once. */
		for (j = 0; j < i; j++)
			if (strcasecmp(v[j].owner_addr, v[i].owner_addr) == 0)
				break;
		rc = digest_list(db, d->conf, &v[i], j == i, after, upto,
		    not_before, d->since, d->now, d->cause);
	}
	for (i = 0; i < n; i++)
		list_info_free(&v[i]);
	free(v);
	if (rc == -1)
		return -1;
	snprintf(v1, sizeof v1, "%lld", (long long)d->now);
	snprintf(v2, sizeof v2, "%lld", (long long)upto);
	if (db_bounce_mark_digested(db) == -1 ||
	    db_state_set(db, "last_bounce_digest", v1, NULL) == -1 ||
	    db_state_set(db, "last_digest_inbound", v2, NULL) == -1)
		return -1;
	return 0;
}

/*
 * Every bounces.digest_interval: one digest per list owner of the members
 * disabled, the complaints and the messages filed without an effect since
 * the last one. The disabled are then marked digested and the last inbound
 * row reported is remembered (state last_digest_inbound), in one
 * transaction so each is reported exactly once.
 */
int
bounce_digest(struct db *db, const struct config *conf, time_t now,
    char **cause)
{
	struct digest_args d;
	char	*last;
	time_t	 since = 0;

	if ((last = db_state_get(db, "last_bounce_digest")) != NULL)
		since = (time_t)strtoll(last, NULL, 10);
	free(last);
	if (since != 0 && now - since < conf->digest_interval)
		return 0;
	d.conf = conf;
	d.since = since;
	d.now = now;
	d.cause = cause;
	return db_atomic(db, digest_all, &d, cause);
}

/* The daemon loop's step: the owners' digests, when one is due. */
int
bounce_digest_step(struct daemon_ctx *ctx)
{
	char	*cause = NULL;

	if (bounce_digest(ctx->db, ctx->conf, clock_now(), &cause) == -1) {
		log_warnx("bounce digest: %s", cause);
		free(cause);
		return -1;
	}
	return 0;
}
