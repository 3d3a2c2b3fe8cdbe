/*
 * Subscribers: the rules about people and their memberships, above the
 * store (db_subscriber.c holds only the queries).
 */
#include "config.h"

#include <string.h>

#include "clarion.h"

struct unsub_work {
	const struct token_keys *keys;
	int64_t		 id, list_id;
	const char	*address;
	const char	*source;
};

static int
unsubscribe_one(struct db *db, void *arg)
{
	struct unsub_work *w = arg;

	if (db_unsubscribe(db, w->keys, w->id, w->list_id, w->source) == -1)
		return -1;
	if (w->list_id == 0 && db_suppress(db, w->keys, w->address,
	    "unsubscribed", "clarion sub unsubscribe", NULL) == -1)
		return -1;
	return 0;
}

/*
 * Unsubscribes a subscriber from one list, or (list_id 0) from every list
 * and suppresses the address, in one unit of work.
 */
int
subscriber_unsubscribe(struct db *db, const struct token_keys *keys,
    int64_t id, int64_t list_id, const char *address, const char *source,
    char **cause)
{
	struct unsub_work w;

	memset(&w, 0, sizeof w);
	w.keys = keys;
	w.id = id;
	w.list_id = list_id;
	w.address = address;
	w.source = source;
	return db_atomic(db, unsubscribe_one, &w, cause);
}
