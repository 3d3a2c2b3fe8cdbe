/*
 * Runs (one issue of an item): what an officer may do to one, each as one
 * unit of work so it happens whole or not at all.
 */
#include "config.h"

#include <string.h>

#include "clarion.h"

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
int
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
int
run_missed_resend(struct db *db, int64_t id, long *n, char **cause)
{
	struct run_edit	 e = { id, 0, n };

	return db_atomic(db, run_resend_one, &e, cause) == -1 ? -1 : 0;
}
