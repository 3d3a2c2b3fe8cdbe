/*
 * The states and kinds that travel between the store and the code, each
 * an enum with its one table of names. The store keeps the names as text;
 * the backend converts at the seam, and the code compares enums.
 */
#include "config.h"

#include <string.h>

#include "clarion.h"

static const char *const run_states[] = {
	[RUN_PLANNED] = "planned",
	[RUN_COMPOSING] = "composing",
	[RUN_SENDING] = "sending",
	[RUN_HELD] = "held",
	[RUN_DONE] = "done",
	[RUN_SKIPPED] = "skipped",
	[RUN_CANCELLED] = "cancelled",
};

static const char *const run_purposes[] = {
	[PURPOSE_ISSUE] = "issue",
	[PURPOSE_NOTICE] = "notice",
	[PURPOSE_REMINDER] = "reminder",
	[PURPOSE_UPDATE] = "update",
	[PURPOSE_CANCEL] = "cancel",
	[PURPOSE_TEST] = "test",
};

static const char *const item_statuses[] = {
	[ITEM_ACTIVE] = "active",
	[ITEM_PAUSED] = "paused",
	[ITEM_CANCELLED] = "cancelled",
	[ITEM_DONE] = "done",
};

static const char *const event_statuses[] = {
	[EVENT_CONFIRMED] = "confirmed",
	[EVENT_CANCELLED] = "cancelled",
};

static const char *const member_statuses[] = {
	[MEMBER_SUBSCRIBED] = "subscribed",
	[MEMBER_UNSUBSCRIBED] = "unsubscribed",
	[MEMBER_HELD] = "held",
};

static const char *const delivery_states[] = {
	[DSTATE_QUEUED] = "queued",
	[DSTATE_SENDING] = "sending",
	[DSTATE_SENT] = "sent",
	[DSTATE_DEFERRED] = "deferred",
	[DSTATE_FAILED] = "failed",
	[DSTATE_SUPPRESSED] = "suppressed",
	[DSTATE_HELD] = "held",
	[DSTATE_CANCELLED] = "cancelled",
};

static int
parse(const char *const *names, size_t n, const char *s)
{
	size_t	 i;

	for (i = 0; s != NULL && i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	return -1;
}

static const char *
name(const char *const *names, size_t n, int v)
{
	return v >= 0 && (size_t)v < n ? names[v] : "unknown";
}

const char *
run_state_name(enum run_state v)
{
	return name(run_states, nitems(run_states), (int)v);
}

int
run_state_parse(const char *s)
{
	return parse(run_states, nitems(run_states), s);
}

const char *
run_purpose_name(enum run_purpose v)
{
	return name(run_purposes, nitems(run_purposes), (int)v);
}

int
run_purpose_parse(const char *s)
{
	return parse(run_purposes, nitems(run_purposes), s);
}

const char *
item_status_name(enum item_status v)
{
	return name(item_statuses, nitems(item_statuses), (int)v);
}

int
item_status_parse(const char *s)
{
	return parse(item_statuses, nitems(item_statuses), s);
}

const char *
event_status_name(enum event_status v)
{
	return name(event_statuses, nitems(event_statuses), (int)v);
}

int
event_status_parse(const char *s)
{
	return parse(event_statuses, nitems(event_statuses), s);
}

const char *
member_status_name(enum member_status v)
{
	return name(member_statuses, nitems(member_statuses), (int)v);
}

int
member_status_parse(const char *s)
{
	return parse(member_statuses, nitems(member_statuses), s);
}

const char *
delivery_state_name(enum delivery_state v)
{
	return name(delivery_states, nitems(delivery_states), (int)v);
}

int
delivery_state_parse(const char *s)
{
	return parse(delivery_states, nitems(delivery_states), s);
}
