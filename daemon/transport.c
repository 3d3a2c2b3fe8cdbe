/*
 * One message, now, through the configured transport: for `clarion item
 * test`, outside the daemon's queue. The daemon's send step uses the
 * pool directly.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "clarion.h"

static int
send_smtp(const struct config *conf, const struct outmsg *m, char **reply,
    char **cause)
{
	struct smtp_config	 sc = conf->smtp;
	struct smtp_pool	*pool;
	struct smtp_result	*res = NULL;
	size_t			 n = 0;
	time_t			 deadline;
	int			 rc = -1;

	sc.connections = 1;
	if ((pool = smtp_pool_new(&sc, cause)) == NULL)
		return -1;
	if (smtp_pool_submit(pool, m->delivery_id, m->envelope_from, m->rcpt,
	    xstrndup(m->data.data, m->data.len), m->data.len, cause) == -1)
		goto out;
	deadline = time(NULL) + conf->smtp.timeout + 5;
	while (n == 0 && time(NULL) < deadline) {
		if (smtp_pool_run(pool, 1000, &res, &n) == -1)
			break;
	}
	if (n == 0)
		xasprintf(cause, "no answer from %s", conf->smtp.url);
	else if (res[0].class == SEND_OK) {
		*reply = xstrdup(res[0].reply != NULL ? res[0].reply : "");
		rc = 0;
	} else
		xasprintf(cause, "%s", res[0].reply != NULL &&
		    *res[0].reply != '\0' ? res[0].reply : "failed");
	smtp_results_free(res, n);
out:
	smtp_pool_free(pool);
	return rc;
}

int
transport_send_one(const struct config *conf, const struct outmsg *m,
    char **reply, char **cause)
{
	if (conf->transport == TRANSPORT_OUTBOX) {
		if (outbox_deliver_env(conf->outbox, m->envelope_from, m->rcpt,
		    m->data.data, m->data.len, cause) == -1)
			return -1;
		xasprintf(reply, "written to %s/new", conf->outbox);
		return 0;
	}
	return send_smtp(conf, m, reply, cause);
}
