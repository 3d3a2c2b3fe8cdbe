/*
 * Runs (one issue of an item): what an officer may do to one and in which
 * states, each as one unit of work so it happens whole or not at all.
 * The calls officers make return 0, or the sysexits.h class of the
 * refusal with *cause saying why; the CLI only prints and exits.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "clarion.h"

void
run_clear(struct run *r)
{
	if (r == NULL)
		return;
	free(r->reason);
	free(r->item_name);
	memset(r, 0, sizeof *r);
}

void
runs_free(struct run *v, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		run_clear(&v[i]);
	free(v);
}

struct run_edit {
	int64_t	 id;
	int	 cancel;
	long	*n;
};

static int
run_cancel_one(struct db *db, void *arg)
{
	struct run_edit	*e = arg;

	return db_run_cancel(db, e->id, clock_now(), e->n);
}

/* Cancels a run and its deliveries not yet sent (*n of them). */
static int
run_cancel_unsent(struct db *db, int64_t id, long *n, char **cause)
{
	struct run_edit	 e = { id, 0, n };

	return db_atomic(db, run_cancel_one, &e, cause) == -1 ? -1 : 0;
}

static int
run_release_one(struct db *db, void *arg)
{
	struct run_edit	*e = arg;

	return db_delivery_release_held(db, e->id, e->cancel, e->n);
}

/* Queues a run's held deliveries again, or cancels them (*n of them). */
int
run_held_release(struct db *db, int64_t id, int cancel, long *n,
    char **cause)
{
	struct run_edit	 e = { id, cancel, n };

	return db_atomic(db, run_release_one, &e, cause) == -1 ? -1 : 0;
}

static int
run_resend_one(struct db *db, void *arg)
{
	struct run_edit	*e = arg;

	return db_run_resend_missed(db, e->id, clock_now(), e->n);
}

/* Queues again a run's deliveries with no sent record (*n of them). */
static int
run_missed_resend(struct db *db, int64_t id, long *n, char **cause)
{
	struct run_edit	 e = { id, 0, n };

	return db_atomic(db, run_resend_one, &e, cause) == -1 ? -1 : 0;
}

/* Why a held run is stuck: its own reason, else its deliveries'. */
char *
run_held_why(struct db *db, const struct run *r)
{
	char	*why;

	if (*r->reason != '\0')
		return xstrdup(r->reason);
	if ((why = db_run_hold_reason(db, r->id)) == NULL)
		why = xstrdup("held");
	return why;
}

/* A run ended (done, skipped, cancelled) cannot be cancelled. */
int
run_cancel(struct db *db, const struct run *r, long *n, char **cause)
{
	if (r->state == RUN_DONE || r->state == RUN_SKIPPED ||
	    r->state == RUN_CANCELLED) {
		xasprintf(cause, "run %lld is %s already", (long long)r->id,
		    run_state_name(r->state));
		return EX_DATAERR;
	}
	return run_cancel_unsent(db, r->id, n, cause) == -1 ? EX_SOFTWARE : 0;
}

/*
 * Composes one held delivery again, so a release before the fix says so
 * instead of holding every delivery a second time. The keys are loaded
 * only when there is one to compose.
 */
static int
run_release_check(struct db *db, const struct run_release_env *env,
    const struct run *r, char **cause)
{
	struct composer	*c;
	struct outmsg	 m;
	int64_t		 id;
	int		 rc;

	if ((id = db_run_held_one(db, r->id)) == 0)
		return 0;
	c = composer_new(db, env->conf, env->keys(env->arg));
	memset(&m, 0, sizeof m);
	if ((rc = composer_message(c, id, &m, cause)) == 0)
		outmsg_free(&m);
	composer_free(c);
	return rc;
}

/*
 * Queues a run's held deliveries again (*n of them): only a run that has
 * some, and, unless forced, only once one of them can be composed.
 */
int
run_release(struct db *db, const struct run_release_env *env,
    const struct run *r, int force, long *n, char **cause)
{
	char	*why = NULL;

	if (r->state != RUN_HELD && db_run_held_one(db, r->id) == 0) {
		xasprintf(cause, "run %lld has no held deliveries (it is %s)",
		    (long long)r->id, run_state_name(r->state));
		return EX_DATAERR;
	}
	if (!force && run_release_check(db, env, r, &why) == -1) {
		xasprintf(cause, "run %lld: its mail still cannot be composed: "
		    "%s; fix that first (--force releases anyway)",
		    (long long)r->id, why);
		free(why);
		return EX_CONFIG;
	}
	return run_held_release(db, r->id, 0, n, cause) == -1 ?
	    EX_SOFTWARE : 0;
}

/* Only a run that has sent something has missed deliveries to resend. */
int
run_resend(struct db *db, const struct run *r, long *n, char **cause)
{
	if (r->state == RUN_PLANNED || r->state == RUN_COMPOSING ||
	    r->state == RUN_SKIPPED) {
		xasprintf(cause, "run %lld is %s: nothing was sent to resend",
		    (long long)r->id, run_state_name(r->state));
		return EX_DATAERR;
	}
	return run_missed_resend(db, r->id, n, cause) == -1 ? EX_SOFTWARE : 0;
}
