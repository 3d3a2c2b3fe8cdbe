/*
 * When the sender may send: the backoff after a temporary failure, the
 * quiet hours, and the rate limits counted from the database. Kept apart
 * from send.c so they can be tested alone.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "clarion.h"

/*
 * Seconds before the next try after the attempts-th failure: retry_initial
 * doubling up to retry_max_interval, less up to a fifth so that a list
 * deferred together does not come back together.
 */
long
send_backoff(const struct config *conf, int64_t id, int attempts)
{
	long		 iv = conf->retry_initial;
	unsigned long	 h;
	int		 i;

	for (i = 1; i < attempts && iv < conf->retry_max_interval; i++)
		iv *= 2;
	if (iv > conf->retry_max_interval)
		iv = conf->retry_max_interval;
	h = ((unsigned long)id * 2654435761UL + (unsigned long)attempts *
	    40503UL) % 1000;
	iv -= iv * (long)h / 5000;
	return iv > 0 ? iv : 1;
}

/* Whether now falls in the quiet hours (local time), when no bulk goes. */
int
send_quiet(const struct config *conf, time_t now)
{
	char	*s;
	int	 h = 0, m = 0, t;

	if (conf->quiet_start < 0 || conf->quiet_end < 0 ||
	    conf->quiet_start == conf->quiet_end)
		return 0;
	if ((s = time_format_local(now, conf->timezone, "%H %M")) == NULL)
		return 0;
	if (sscanf(s, "%d %d", &h, &m) != 2)
		h = m = 0;
	free(s);
	t = h * 60 + m;
	if (conf->quiet_start < conf->quiet_end)
		return t >= conf->quiet_start && t < conf->quiet_end;
	return t >= conf->quiet_start || t < conf->quiet_end;
}

/*
 * How many more messages the rate limits allow now (-1: no limit), counted
 * from the database so the limits hold across restarts and runs.
 */
long
send_rate_budget(struct db *db, const struct config *conf, time_t now)
{
	static const int windows[] = { 60, 3600, 86400 };
	const int	 limits[] = { conf->rate_per_minute,
	    conf->rate_per_hour, conf->rate_per_day };
	long		 left = -1, used;
	size_t		 i;

	for (i = 0; i < nitems(windows); i++) {
		if (limits[i] <= 0)
			continue;
		if ((used = db_sent_since(db, now - windows[i] + 1)) < 0)
			return 0;
		used = limits[i] > used ? limits[i] - used : 0;
		if (left == -1 || used < left)
			left = used;
	}
	return left;
}
