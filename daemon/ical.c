/*
 * iCalendar (RFC 5545) through libical: recurrence rules evaluated in the
 * local zone, events read from feeds and files, and the invites sent with
 * meeting notices. The rest of Clarion sees only time_t and our structs.
 */
#include "config.h"

#include <ctype.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>

#include <libical/ical.h>

#include "clarion.h"

#define RRULE_MAX_STEPS 200000	/* a bound on one expansion's work */

static icaltimezone *
zone_get(const char *tz, char **cause)
{
	icaltimezone	*z;

	if (tz == NULL || strcmp(tz, "UTC") == 0)
		return icaltimezone_get_utc_timezone();
	if ((z = icaltimezone_get_builtin_timezone(tz)) == NULL)
		xasprintf(cause, "'%s' is not a time zone libical knows", tz);
	return z;
}

/* Whether libical knows the zone; see also tz_known(). */
int
ical_zone_check(const char *tz, char **cause)
{
	char	*why = NULL;

	if (zone_get(tz, &why) != NULL)
		return 0;
	xasprintf(cause, "\"%s\" is not a time zone libical knows; use a "
	    "name such as \"Europe/London\"", tz);
	free(why);
	return -1;
}

static int
rrule_parse(const char *rrule, struct icalrecurrencetype *r, char **cause)
{
	if (rrule == NULL || *rrule == '\0' || str_has_ctl(rrule)) {
		xasprintf(cause, "an empty or broken recurrence rule");
		return -1;
	}
	icalerror_clear_errno();
	*r = icalrecurrencetype_from_string(rrule);
	if (r->freq == ICAL_NO_RECURRENCE || icalerrno != ICAL_NO_ERROR) {
		icalerror_clear_errno();
		xasprintf(cause, "'%s' is not an RFC 5545 recurrence rule "
		    "(such as FREQ=WEEKLY;BYDAY=MO;BYHOUR=8;BYMINUTE=0)", rrule);
		return -1;
	}
	if (r->freq == ICAL_SECONDLY_RECURRENCE ||
	    r->freq == ICAL_MINUTELY_RECURRENCE) {
		xasprintf(cause, "'%s': a mailing cannot repeat more often "
		    "than hourly", rrule);
		return -1;
	}
	return 0;
}

int
ical_rrule_check(const char *rrule, char **cause)
{
	struct icalrecurrencetype r;

	return rrule_parse(rrule, &r, cause);
}

/*
 * The occurrences t of rrule with after < t <= until, at most max. The
 * rule is evaluated on a DTSTART that carries the zone tz, so 08:00 stays
 * 08:00 local across clock changes; results are UTC.
 */
int
ical_rrule_expand(const char *rrule, time_t dtstart, const char *tz,
    time_t after, time_t until, size_t max, time_t **out, size_t *n,
    char **cause)
{
	struct icalrecurrencetype r;
	struct icaltimetype	 start, t;
	icalrecur_iterator	*it;
	icaltimezone		*z;
	time_t			 u;
	size_t			 steps;

	*out = NULL;
	*n = 0;
	if (rrule_parse(rrule, &r, cause) == -1 ||
	    (z = zone_get(tz, cause)) == NULL)
		return -1;
	start = icaltime_from_timet_with_zone(dtstart, 0, z);
	if ((it = icalrecur_iterator_new(r, start)) == NULL) {
		xasprintf(cause, "'%s': libical cannot iterate this rule",
		    rrule);
		return -1;
	}
	for (steps = 0; steps < RRULE_MAX_STEPS && *n < max; steps++) {
		t = icalrecur_iterator_next(it);
		if (icaltime_is_null_time(t))
			break;
		u = icaltime_as_timet_with_zone(t, z);
		if (u > until)
			break;
		if (u <= after)
			continue;
		*out = xreallocarray(*out, *n + 1, sizeof **out);
		(*out)[(*n)++] = u;
	}
	icalrecur_iterator_free(it);
	return 0;
}

/* A DTSTART/DTEND as UTC: dates are local midnight, floating is local. */
static time_t
ical_time(struct icaltimetype t, icaltimezone *local)
{
	if (t.is_date) {
		t.is_date = 0;
		t.hour = t.minute = t.second = 0;
		return icaltime_as_timet_with_zone(t, local);
	}
	if (icaltime_is_utc(t))
		return icaltime_as_timet(t);
	return icaltime_as_timet_with_zone(t, t.zone != NULL ?
	    (icaltimezone *)t.zone : local);
}

static char *
prop_text(icalcomponent *c, icalproperty_kind kind)
{
	icalproperty	*p;
	const char	*v;

	if ((p = icalcomponent_get_first_property(c, kind)) == NULL ||
	    (v = icalproperty_get_value_as_string(p)) == NULL)
		return xstrdup("");
	return xstrdup(v);
}

static char *
prop_x(icalcomponent *c, const char *name)
{
	icalproperty	*p;
	const char	*v;

	for (p = icalcomponent_get_first_property(c, ICAL_X_PROPERTY);
	    p != NULL;
	    p = icalcomponent_get_next_property(c, ICAL_X_PROPERTY)) {
		if (strcasecmp(icalproperty_get_x_name(p), name) == 0 &&
		    (v = icalproperty_get_x(p)) != NULL)
			return xstrdup(v);
	}
	return xstrdup("");
}

/* The kind: X-CLARION-KIND, else the first CATEGORIES that is a kind. */
static char *
vevent_kind(icalcomponent *c)
{
	icalproperty	*p;
	char		*k, *s, *tok, *save;

	k = prop_x(c, "X-CLARION-KIND");
	if (event_kind_valid(k))
		return k;
	free(k);
	for (p = icalcomponent_get_first_property(c, ICAL_CATEGORIES_PROPERTY);
	    p != NULL;
	    p = icalcomponent_get_next_property(c, ICAL_CATEGORIES_PROPERTY)) {
		s = xstrdup(icalproperty_get_categories(p));
		for (tok = strtok_r(s, ",", &save); tok != NULL;
		    tok = strtok_r(NULL, ",", &save)) {
			for (k = tok; *k != '\0'; k++)
				*k = (char)tolower((unsigned char)*k);
			if (event_kind_valid(str_trim(tok))) {
				k = xstrdup(str_trim(tok));
				free(s);
				return k;
			}
		}
		free(s);
	}
	return xstrdup("other");
}

static void
vevent_times(icalcomponent *c, icaltimezone *local, struct event *ev)
{
	struct icaltimetype	 s, e;

	s = icalcomponent_get_dtstart(c);
	ev->all_day = s.is_date;
	ev->starts_at = ical_time(s, local);
	e = icalcomponent_get_dtend(c);	/* also from DURATION */
	if (!icaltime_is_null_time(e))
		ev->ends_at = ical_time(e, local);
	/* A one-day all-day event ends at the next midnight: show no end. */
	if (ev->all_day && ev->ends_at == ev->starts_at + 86400)
		ev->ends_at = 0;
	if (ev->ends_at != 0 && ev->ends_at < ev->starts_at)
		ev->ends_at = 0;
}

static int
vevent_read(icalcomponent *c, icaltimezone *local, struct event *ev)
{
	const char	*uid;

	event_init(ev);
	if ((uid = icalcomponent_get_uid(c)) == NULL || *uid == '\0' ||
	    icaltime_is_null_time(icalcomponent_get_dtstart(c)))
		return -1;
	ev->uid = xstrdup(uid);
	ev->kind = vevent_kind(c);
	ev->title = prop_text(c, ICAL_SUMMARY_PROPERTY);
	if (*ev->title == '\0') {
		free(ev->title);
		ev->title = xstrdup("(untitled)");
	}
	ev->location = prop_text(c, ICAL_LOCATION_PROPERTY);
	ev->link = prop_text(c, ICAL_URL_PROPERTY);
	ev->notes = prop_text(c, ICAL_DESCRIPTION_PROPERTY);
	ev->union_name = prop_x(c, "X-CLARION-UNION");
	ev->employer = prop_x(c, "X-CLARION-EMPLOYER");
	ev->sequence = icalcomponent_get_sequence(c);
	if (ev->sequence < 0)
		ev->sequence = 0;
	ev->status = xstrdup(icalcomponent_get_status(c) ==
	    ICAL_STATUS_CANCELLED ? "cancelled" : "confirmed");
	vevent_times(c, local, ev);
	return 0;
}

/* Control characters would break mail headers and later invites. */
static void
event_flatten(struct event *ev)
{
	char	**f[] = { &ev->title, &ev->location, &ev->link,
	    &ev->union_name, &ev->employer };
	char	 *s;
	size_t	  i;

	for (i = 0; i < nitems(f); i++) {
		for (s = *f[i]; *s != '\0'; s++) {
			if ((unsigned char)*s < 0x20 || *s == 0x7f)
				*s = ' ';
		}
	}
}

/*
 * Recurring events are expanded into one event per occurrence within the
 * horizon bulletins look at (an item looks at most 366 days ahead), each
 * keyed by UID and RECURRENCE-ID so a re-import finds the same rows.
 */
#define RECUR_PAST	(1L * 86400)	/* keep updating today's events */
#define RECUR_AHEAD	(400L * 86400)
#define RECUR_MAX	1000		/* occurrences of one event */

struct recur_ctx {
	icaltimezone	*local;
	const char	*tz;
	time_t		 from, until;
	icalcomponent	*cal;
	struct {
		const char	*uid;	/* owned by the parsed calendar */
		time_t		 rid;
	}		*ov;
	size_t		 nov;
};

/* "UID/20261209T070000Z", or "UID/20261209" for an all-day occurrence. */
static char *
recur_key(const struct recur_ctx *rc, const char *uid, time_t rid,
    int all_day)
{
	char	*when, *key;

	when = all_day ? time_format_local(rid, rc->tz, "%Y%m%d") :
	    time_format_local(rid, "UTC", "%Y%m%dT%H%M%SZ");
	xasprintf(&key, "%s/%s", uid, when != NULL ? when : "?");
	free(when);
	return key;
}

/* Whether an override (a VEVENT with this UID and RECURRENCE-ID) exists. */
static int
recur_overridden(const struct recur_ctx *rc, const char *uid, time_t rid)
{
	size_t	 i;

	for (i = 0; i < rc->nov; i++) {
		if (rc->ov[i].rid == rid && strcmp(rc->ov[i].uid, uid) == 0)
			return 1;
	}
	return 0;
}

/*
 * The overrides, gathered before the expansion: libical has one component
 * iterator per parent, so the VEVENT walk cannot be nested.
 */
static void
recur_overrides(struct recur_ctx *rc)
{
	icalcomponent	*c;
	icalproperty	*p;
	const char	*u;

	for (c = icalcomponent_get_first_component(rc->cal,
	    ICAL_VEVENT_COMPONENT); c != NULL;
	    c = icalcomponent_get_next_component(rc->cal,
	    ICAL_VEVENT_COMPONENT)) {
		if ((p = icalcomponent_get_first_property(c,
		    ICAL_RECURRENCEID_PROPERTY)) == NULL ||
		    (u = icalcomponent_get_uid(c)) == NULL)
			continue;
		rc->ov = xreallocarray(rc->ov, rc->nov + 1, sizeof *rc->ov);
		rc->ov[rc->nov].uid = u;
		rc->ov[rc->nov++].rid = ical_time(
		    icalproperty_get_recurrenceid(p), rc->local);
	}
}

static int
recur_excluded(const struct recur_ctx *rc, icalcomponent *c, time_t t)
{
	icalproperty	*p;

	for (p = icalcomponent_get_first_property(c, ICAL_EXDATE_PROPERTY);
	    p != NULL;
	    p = icalcomponent_get_next_property(c, ICAL_EXDATE_PROPERTY)) {
		if (ical_time(icalproperty_get_exdate(p), rc->local) == t)
			return 1;
	}
	return 0;
}

static void
list_add(struct event_list *out, struct event *ev)
{
	event_flatten(ev);
	out->v = xreallocarray(out->v, out->n + 1, sizeof *out->v);
	out->v[out->n++] = *ev;
}

/* One occurrence of a recurring event: a copy of it at time t. */
static void
recur_emit(const struct recur_ctx *rc, icalcomponent *c,
    const struct event *master, time_t t, struct event_list *out)
{
	struct event	 ev;

	if (vevent_read(c, rc->local, &ev) == -1) {
		event_clear(&ev);
		return;
	}
	free(ev.uid);
	ev.uid = recur_key(rc, master->uid, t, master->all_day);
	if (ev.ends_at != 0)
		ev.ends_at = t + (master->ends_at - master->starts_at);
	ev.starts_at = t;
	list_add(out, &ev);
}

/*
 * The occurrences of a VEVENT with an RRULE inside the horizon, less its
 * EXDATEs and the ones an override replaces. 0 if it has no RRULE.
 */
static int
recur_expand(const struct recur_ctx *rc, icalcomponent *c,
    const struct event *master, struct event_list *out)
{
	struct icalrecurrencetype r;
	struct icaltimetype	 start, t;
	icalrecur_iterator	*it;
	icalproperty		*p;
	time_t			 u;
	size_t			 steps, n = 0;

	if ((p = icalcomponent_get_first_property(c,
	    ICAL_RRULE_PROPERTY)) == NULL)
		return 0;
	r = icalproperty_get_rrule(p);
	/* No bulletin lists an event every minute: keep the first only. */
	if (r.freq == ICAL_SECONDLY_RECURRENCE ||
	    r.freq == ICAL_MINUTELY_RECURRENCE || r.freq == ICAL_NO_RECURRENCE)
		return 0;
	start = icalcomponent_get_dtstart(c);
	if ((it = icalrecur_iterator_new(r, start)) == NULL)
		return 0;	/* a rule libical cannot follow: the first only */
	for (steps = 0; steps < RRULE_MAX_STEPS && n < RECUR_MAX; steps++) {
		t = icalrecur_iterator_next(it);
		if (icaltime_is_null_time(t))
			break;
		t.zone = start.zone;
		if ((u = ical_time(t, rc->local)) > rc->until)
			break;
		if (u < rc->from || recur_excluded(rc, c, u) ||
		    recur_overridden(rc, master->uid, u))
			continue;
		recur_emit(rc, c, master, u, out);
		n++;
	}
	icalrecur_iterator_free(it);
	return 1;
}

/* An override of one occurrence, keyed as the occurrence it replaces. */
static void
recur_override(const struct recur_ctx *rc, icalcomponent *c,
    struct event *ev, struct event_list *out)
{
	icalproperty	*p;
	time_t		 rid;
	char		*key;

	p = icalcomponent_get_first_property(c, ICAL_RECURRENCEID_PROPERTY);
	rid = ical_time(icalproperty_get_recurrenceid(p), rc->local);
	if (ev->starts_at < rc->from && rid < rc->from) {
		event_clear(ev);
		return;
	}
	key = recur_key(rc, ev->uid, rid,
	    icalproperty_get_recurrenceid(p).is_date);
	free(ev->uid);
	ev->uid = key;
	list_add(out, ev);
}

/*
 * The VEVENTs of an iCalendar text. A recurring one (RRULE) becomes one
 * event per occurrence from yesterday to RECUR_AHEAD, less EXDATEs, with
 * RECURRENCE-ID overrides in place of the occurrences they replace.
 */
int
ical_parse_events(const char *data, const char *tz, struct event_list *out,
    char **cause)
{
	struct recur_ctx rc;
	icalcomponent	*root, *cal, *c;
	struct event	 ev;
	time_t		 now = clock_now();

	out->v = NULL;
	out->n = 0;
	memset(&rc, 0, sizeof rc);
	if ((rc.local = zone_get(tz, cause)) == NULL)
		return -1;
	rc.tz = tz != NULL ? tz : "UTC";
	rc.from = now - RECUR_PAST;
	rc.until = now + RECUR_AHEAD;
	icalerror_set_errors_are_fatal(0);
	cal = root = icalparser_parse_string(data);
	if (root != NULL && icalcomponent_isa(root) == ICAL_XROOT_COMPONENT)
		cal = icalcomponent_get_first_component(root,
		    ICAL_VCALENDAR_COMPONENT);
	if (cal == NULL || icalcomponent_isa(cal) != ICAL_VCALENDAR_COMPONENT) {
		if (root != NULL)
			icalcomponent_free(root);
		xasprintf(cause, "not an iCalendar file (no VCALENDAR)");
		return -1;
	}
	rc.cal = cal;
	recur_overrides(&rc);
	for (c = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
	    c != NULL;
	    c = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT)) {
		if (vevent_read(c, rc.local, &ev) == -1) {
			event_clear(&ev);
			continue;
		}
		if (icalcomponent_get_first_property(c,
		    ICAL_RECURRENCEID_PROPERTY) != NULL)
			recur_override(&rc, c, &ev, out);
		else if (recur_expand(&rc, c, &ev, out))
			event_clear(&ev);
		else
			list_add(out, &ev);
	}
	free(rc.ov);
	icalcomponent_free(root);
	return 0;
}

/*
 * A one-event calendar for a meeting notice: METHOD:REQUEST to add or
 * update it, METHOD:CANCEL to take it out. The same uid with a higher
 * sequence makes calendar clients update the entry, not add another.
 */
char *
ical_invite(const struct event *ev, const char *uid, const char *method,
    int sequence, const char *organizer, const char *organizer_name,
    const char *description, time_t dtstamp)
{
	icalcomponent	*cal, *ve;
	icalproperty	*org;
	int		 cancel = strcmp(method, "CANCEL") == 0;
	char		*s, *mailto;

	cal = icalcomponent_new(ICAL_VCALENDAR_COMPONENT);
	icalcomponent_add_property(cal,
	    icalproperty_new_prodid("-//Clarion//Clarion " CLARION_VERSION
	    "//EN"));
	icalcomponent_add_property(cal, icalproperty_new_version("2.0"));
	icalcomponent_add_property(cal, icalproperty_new_method(cancel ?
	    ICAL_METHOD_CANCEL : ICAL_METHOD_REQUEST));
	ve = icalcomponent_new(ICAL_VEVENT_COMPONENT);
	icalcomponent_set_uid(ve, uid);
	icalcomponent_set_sequence(ve, sequence);
	icalcomponent_set_dtstamp(ve, icaltime_from_timet_with_zone(dtstamp,
	    0, icaltimezone_get_utc_timezone()));
	icalcomponent_set_dtstart(ve, icaltime_from_timet_with_zone(
	    ev->starts_at, 0, icaltimezone_get_utc_timezone()));
	if (ev->ends_at != 0)
		icalcomponent_set_dtend(ve, icaltime_from_timet_with_zone(
		    ev->ends_at, 0, icaltimezone_get_utc_timezone()));
	icalcomponent_set_summary(ve, ev->title);
	if (ev->location != NULL && *ev->location != '\0')
		icalcomponent_set_location(ve, ev->location);
	if (description != NULL && *description != '\0')
		icalcomponent_set_description(ve, description);
	if (organizer != NULL && *organizer != '\0') {
		xasprintf(&mailto, "mailto:%s", organizer);
		org = icalproperty_new_organizer(mailto);
		if (organizer_name != NULL && *organizer_name != '\0')
			icalproperty_add_parameter(org,
			    icalparameter_new_cn(organizer_name));
		icalcomponent_add_property(ve, org);
		free(mailto);
	}
	icalcomponent_set_status(ve, cancel ? ICAL_STATUS_CANCELLED :
	    ICAL_STATUS_CONFIRMED);
	icalcomponent_add_component(cal, ve);
	s = xstrdup(icalcomponent_as_ical_string(cal));
	icalcomponent_free(cal);
	return s;
}

/*
 * The frozen invite made personal (RFC 5546): ORGANIZER is the member's
 * reply address (with its token), so Accept and Decline come back to
 * Clarion and name the delivery, and ATTENDEE is the member, which a
 * REQUEST and a CANCEL must carry. NULL if ics does not parse.
 */
char *
ical_personal(const char *ics, const char *organizer, const char *org_name,
    const char *attendee, const char *att_name, int rsvp)
{
	icalcomponent	*cal, *ve;
	icalproperty	*p;
	char		*mailto, *s;

	if ((cal = icalparser_parse_string(ics)) == NULL)
		return NULL;
	if ((ve = icalcomponent_get_first_component(cal,
	    ICAL_VEVENT_COMPONENT)) == NULL) {
		icalcomponent_free(cal);
		return NULL;
	}
	while ((p = icalcomponent_get_first_property(ve,
	    ICAL_ORGANIZER_PROPERTY)) != NULL ||
	    (p = icalcomponent_get_first_property(ve,
	    ICAL_ATTENDEE_PROPERTY)) != NULL) {
		icalcomponent_remove_property(ve, p);
		icalproperty_free(p);
	}
	xasprintf(&mailto, "mailto:%s", organizer);
	p = icalproperty_new_organizer(mailto);
	if (org_name != NULL && *org_name != '\0')
		icalproperty_add_parameter(p, icalparameter_new_cn(org_name));
	icalcomponent_add_property(ve, p);
	free(mailto);
	xasprintf(&mailto, "mailto:%s", attendee);
	p = icalproperty_new_attendee(mailto);
	if (att_name != NULL && *att_name != '\0')
		icalproperty_add_parameter(p, icalparameter_new_cn(att_name));
	icalproperty_add_parameter(p, icalparameter_new_role(
	    ICAL_ROLE_REQPARTICIPANT));
	icalproperty_add_parameter(p, icalparameter_new_partstat(
	    ICAL_PARTSTAT_NEEDSACTION));
	icalproperty_add_parameter(p, icalparameter_new_rsvp(rsvp ?
	    ICAL_RSVP_TRUE : ICAL_RSVP_FALSE));
	icalcomponent_add_property(ve, p);
	free(mailto);
	s = xstrdup(icalcomponent_as_ical_string(cal));
	icalcomponent_free(cal);
	return s;
}

/* "mailto:a@b" or "MAILTO:a@b" -> "a@b" */
static char *
ical_mailto(const char *v)
{
	if (v == NULL)
		return NULL;
	if (strncasecmp(v, "mailto:", 7) == 0)
		v += 7;
	return *v != '\0' ? xstrdup(v) : NULL;
}

static const char *
ical_partstat_name(icalparameter_partstat ps)
{
	switch (ps) {
	case ICAL_PARTSTAT_ACCEPTED:
		return "accepted";
	case ICAL_PARTSTAT_DECLINED:
		return "declined";
	case ICAL_PARTSTAT_TENTATIVE:
		return "tentative";
	default:
		return NULL;
	}
}

/*
 * A meeting reply (RFC 5546 METHOD:REPLY): the UID, the ORGANIZER it was
 * sent to and the first ATTENDEE's answer. Clients differ in the rest
 * (Outlook adds X- properties, Apple a DTSTAMP only, Gmail repeats the
 * whole event) and none of it is needed. 0, or -1 if it is not a reply
 * with an answer.
 */
int
ical_reply_parse(const char *ics, struct ical_reply *r)
{
	icalcomponent	*cal, *ve;
	icalproperty	*p;
	icalparameter	*pa;
	const char	*s;
	int		 rc = -1;

	memset(r, 0, sizeof *r);
	if ((cal = icalparser_parse_string(ics)) == NULL)
		return -1;
	if (icalcomponent_isa(cal) != ICAL_VCALENDAR_COMPONENT ||
	    icalcomponent_get_method(cal) != ICAL_METHOD_REPLY ||
	    (ve = icalcomponent_get_first_component(cal,
	    ICAL_VEVENT_COMPONENT)) == NULL ||
	    (s = icalcomponent_get_uid(ve)) == NULL || *s == '\0')
		goto out;
	r->uid = xstrdup(s);
	if ((p = icalcomponent_get_first_property(ve,
	    ICAL_ORGANIZER_PROPERTY)) != NULL)
		r->organizer = ical_mailto(icalproperty_get_organizer(p));
	if ((p = icalcomponent_get_first_property(ve,
	    ICAL_ATTENDEE_PROPERTY)) == NULL ||
	    (pa = icalproperty_get_first_parameter(p,
	    ICAL_PARTSTAT_PARAMETER)) == NULL ||
	    (r->answer = ical_partstat_name(icalparameter_get_partstat(pa))) ==
	    NULL)
		goto out;
	r->attendee = ical_mailto(icalproperty_get_attendee(p));
	rc = 0;
out:
	icalcomponent_free(cal);
	if (rc == -1)
		ical_reply_free(r);
	return rc;
}

void
ical_reply_free(struct ical_reply *r)
{
	free(r->uid);
	free(r->organizer);
	free(r->attendee);
	memset(r, 0, sizeof *r);
}
