/*
 * Items (what to send to a list, and when): their rules. The checks an
 * officer's change must pass return 0, or the sysexits.h class of the
 * refusal with *cause saying why; the CLI only gathers, prints and exits.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "clarion.h"

void
item_init(struct item *it)
{
	memset(it, 0, sizeof *it);
	it->days_ahead = 7;
	it->skip_empty = 1;
}

void
item_clear(struct item *it)
{
	if (it == NULL)
		return;
	free(it->name);
	free(it->segment);
	free(it->kind);
	free(it->template);
	free(it->subject);
	free(it->content_file);
	free(it->event_kinds);
	free(it->union_filter);
	free(it->rrule);
	free(it->status);
	item_init(it);
}

/* A new item named name, active, with nothing chosen yet. */
void
item_new(struct item *it, const char *name)
{
	item_init(it);
	it->name = xstrdup(name);
	it->segment = xstrdup("");
	it->event_kinds = xstrdup("");
	it->union_filter = xstrdup("");
	it->status = xstrdup("active");
}

/* Meeting notices are items made and changed by notice.c. */
int
item_is_notice(const struct item *it)
{
	return strcmp(it->kind, "notice") == 0;
}

/*
 * What an added item leaves unsaid: its kind's template, and only a
 * bulletin skips an empty issue unless told (skip_empty_given).
 */
void
item_defaults(struct item *it, int skip_empty_given)
{
	if (it->template == NULL)
		it->template = xstrdup(it->kind);
	if (strcmp(it->kind, "bulletin") != 0 && !skip_empty_given)
		it->skip_empty = 0;
}

/* A notice's kind and time are the meeting's: notice move or cancel. */
int
item_edit_check(const struct item *it, int reschedules, char **cause)
{
	if (!item_is_notice(it) || !reschedules)
		return 0;
	*cause = xstrdup("a meeting notice is changed with clarion notice "
	    "move or cancel");
	return EX_USAGE;
}

/* A name needs a letter: a number is taken for an item's id. */
int
item_name_check(const char *name, char **cause)
{
	if (*name != '\0' && !str_has_ctl(name) &&
	    strspn(name, "0123456789") != strlen(name))
		return 0;
	xasprintf(cause, "'%s': an item name needs a letter and no control "
	    "characters", name);
	return EX_DATAERR;
}

int
item_kind_check(const char *kind, char **cause)
{
	if (strcmp(kind, "bulletin") == 0 || strcmp(kind, "newsletter") == 0 ||
	    strcmp(kind, "message") == 0)
		return 0;
	xasprintf(cause, "'%s' is not an item kind (bulletin, newsletter, "
	    "message; meeting notices are made by clarion notice add)", kind);
	return EX_DATAERR;
}

/* A bulletin's comma-separated event kinds. */
int
item_kinds_check(const char *kinds, char **cause)
{
	char	*s, *tok, *save;
	int	 rc = 0;

	s = xstrdup(kinds);
	for (tok = strtok_r(s, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if (!event_kind_valid(tok)) {
			xasprintf(cause, "--kinds: '%s' is not an event kind "
			    "(strike, ballot, picket, demo, meeting, other)",
			    tok);
			rc = EX_DATAERR;
			break;
		}
	}
	free(s);
	return rc;
}

int
item_subject_check(const char *subject, char **cause)
{
	if (!str_has_ctl(subject))
		return 0;
	*cause = xstrdup("the subject may not hold line breaks");
	return EX_DATAERR;
}

/*
 * An --at further back than schedule.missed_grace would never be sent
 * (the scheduler skips a run missed by more): refused unless forced.
 */
int
item_at_too_old(const struct config *conf, time_t at, int force)
{
	return !force && clock_now() - at > conf->missed_grace;
}

/*
 * A segment must parse, and name only attributes some member of the
 * list has (unless forced): "wrad != 'Hillside'" would match everyone.
 * A forced one is marked so check-config and the daemon's start-up
 * leave it to the officer who forced it; *warning says what was kept.
 */
int
item_segment_check(struct db *db, struct item *it, int force, char **warning,
    char **cause)
{
	struct segment	*seg;
	char		**keys = NULL, *why = NULL;
	size_t		 i, n = 0;
	int		 rc = 0;

	it->segment_forced = 0;
	if (it->segment == NULL || *it->segment == '\0')
		return 0;
	if ((seg = segment_parse(it->segment, cause)) == NULL)
		return EX_DATAERR;
	if (it->list_id != 0 && db_attr_keys(db, it->list_id, &keys,
	    &n) == 0 && segment_check_attrs(seg, keys, n, &why) == -1) {
		if (force) {
			xasprintf(warning, "%s (kept: --force)", why);
			it->segment_forced = 1;
		} else {
			xasprintf(cause, "%s; --force keeps it", why);
			rc = EX_DATAERR;
		}
		free(why);
	}
	for (i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
	segment_free(seg);
	return rc;
}

/* What every item but a notice (notice.c's) needs before it is stored. */
int
item_complete(const struct item *it, char **cause)
{
	if (it->kind != NULL && item_is_notice(it))
		return 0;
	if (it->list_id == 0 || it->kind == NULL || it->subject == NULL)
		*cause = xstrdup("an item needs --list, --kind and --subject");
	else if (it->send_at == 0 && it->rrule == NULL)
		*cause = xstrdup("an item needs --at or --rrule");
	else if (strcmp(it->kind, "bulletin") != 0 && it->content_file == NULL)
		xasprintf(cause, "a %s needs --content FILE.md", it->kind);
	else
		return 0;
	return EX_USAGE;
}

/*
 * An item whose template is missing would have every delivery held:
 * refused now, *cause saying which file is missing.
 */
int
item_template_check(const struct config *conf, const struct item *it,
    char **cause)
{
	return check_template(conf, it->template, cause) == 0 ? 0 : EX_CONFIG;
}

struct item_write {
	struct item	*it;
	int		 insert;
	enum item_status status;
	char		**cause;
};

static int
item_store_one(struct db *db, void *arg)
{
	struct item_write *w = arg;

	return w->insert ? db_item_insert(db, w->it, clock_now(), w->cause) :
	    db_item_update(db, w->it, clock_now(), w->cause);
}

/* Adds (insert) or updates an item, as one unit of work. */
int
item_store(struct db *db, struct item *it, int insert, char **cause)
{
	struct item_write w;

	memset(&w, 0, sizeof w);
	w.it = it;
	w.insert = insert;
	w.cause = cause;
	if (db_atomic(db, item_store_one, &w, cause) == -1)
		return insert ? EX_DATAERR : EX_SOFTWARE;
	return 0;
}

static int
item_status_one(struct db *db, void *arg)
{
	struct item_write *w = arg;

	if (db_item_set_status(db, w->it->id, w->status, clock_now()) == -1)
		return -1;
	if (w->status == ITEM_ACTIVE)
		return 0;
	return db_run_cancel_pending(db, w->it->id, NULL, w->status ==
	    ITEM_PAUSED ? "the item was paused" : "the item was cancelled",
	    clock_now());
}

/*
 * Pauses, resumes or cancels an item; where it stops, its runs not yet
 * begun are cancelled too (*n of them). Only a paused item resumes.
 */
int
item_set_status(struct db *db, const struct item *it,
    enum item_status status, int *n, char **cause)
{
	struct item_write w;

	if (status == ITEM_ACTIVE &&
	    item_status_parse(it->status) != ITEM_PAUSED) {
		xasprintf(cause, "item %s is %s, not paused", it->name,
		    it->status);
		return EX_DATAERR;
	}
	memset(&w, 0, sizeof w);
	w.it = (struct item *)it;
	w.status = status;
	if ((*n = db_atomic(db, item_status_one, &w, cause)) == -1)
		return EX_SOFTWARE;
	return 0;
}

/*
 * A one-off item is due at --at until its run is made, even if --at is
 * a moment ago ("--at now"): the scheduler takes it within the grace.
 */
static time_t
one_off_next(struct db *db, const struct config *conf, const struct item *it,
    time_t now)
{
	time_t	 last;

	if (it->send_at > now)
		return it->send_at;
	if (it->send_at == 0 || now - it->send_at > conf->missed_grace ||
	    it->id == 0 || db_run_last_due(db, it->id, "issue", &last,
	    NULL) == -1 || last >= it->send_at)
		return 0;
	return it->send_at;
}

/* The next time the item is due, or 0. */
time_t
item_next(struct db *db, const struct config *conf, const struct item *it)
{
	time_t	*occ, next = 0, now = clock_now();
	size_t	 n;
	char	*cause;

	if (item_status_parse(it->status) != ITEM_ACTIVE)
		return 0;
	if (it->rrule == NULL)
		return one_off_next(db, conf, it, now);
	if (ical_rrule_expand(it->rrule, it->dtstart, conf->timezone, now,
	    now + 800L * 86400, 1, &occ, &n, &cause) == -1) {
		free(cause);
		return 0;
	}
	if (n > 0 && (it->expires_at == 0 || occ[0] < it->expires_at))
		next = occ[0];
	free(occ);
	return next;
}
