/*
 * clarion sub: subscribers, their attributes and memberships, consent,
 * suppression, and the GDPR duties (export, erasure). The CSV import is
 * in cli_import.c.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"

static const char sub_text[] =
    "Addresses are normalised (domain lower-cased, IDN to punycode). An\n"
    "attribute with an empty value (--attr ward=) is removed. unsubscribe\n"
    "without --list unsubscribes from every list and suppresses the address.\n"
    "Someone who unsubscribed comes back only with resubscribe and their\n"
    "consent; a suppressed address only with unsuppress and their consent.\n"
    "export prints everything held on a person as JSON; erase deletes it,\n"
    "keeping only a keyed hash so an import cannot add them again.\n"
    "Segments: ward = 'Hillside' and (union != 'GMB' or has branch),\n"
    "ward in ('a', 'b'), not ...; name and address are fields too.\n";

static const struct cli_option sub_options[] = {
	{ "list", 'l', CLI_STR, offsetof(struct sub_opts, list), 0 },
	{ "name", 'n', CLI_STR, offsetof(struct sub_opts, name), 0 },
	{ "attr", 'a', CLI_ADD, offsetof(struct sub_opts, attrs), 0 },
	{ "consent", 'C', CLI_STR, offsetof(struct sub_opts, consent), 0 },
	{ "address", 'A', CLI_STR, offsetof(struct sub_opts, address), 0 },
	{ "segment", 's', CLI_STR, offsetof(struct sub_opts, segment), 0 },
	{ "status", 'S', CLI_STR, offsetof(struct sub_opts, status), 0 },
	{ "map", 'm', CLI_STR, offsetof(struct sub_opts, map), 0 },
	{ "reason", 'r', CLI_STR, offsetof(struct sub_opts, reason), 0 },
	{ "output", 'o', CLI_STR, offsetof(struct sub_opts, output), 0 },
	{ "dry-run", 'd', CLI_FLAG, offsetof(struct sub_opts, dry_run), 1 },
	{ "strict", 'x', CLI_FLAG, offsetof(struct sub_opts, strict), 1 },
	{ "progress", 'P', CLI_FLAG, offsetof(struct sub_opts, progress), 1 },
	{ NULL, 0, 0, 0, 0 },
};

/* The normalised address, or an error printed and NULL. */
char *
cli_sub_address(const char *in)
{
	char	*out, *cause;

	if (addr_normalize(in, &out, &cause) == -1) {
		cli_error(EX_DATAERR, "invalid address '%s': %s", in, cause);
		free(cause);
		return NULL;
	}
	return out;
}

static int
sub_text_ok(const char *what, const char *s)
{
	if (s != NULL && (str_has_ctl(s) || !utf8_valid(s, strlen(s)))) {
		cli_error(EX_DATAERR, "the %s may not hold control characters "
		    "or invalid UTF-8", what);
		return 0;
	}
	return 1;
}

/* --attr KEY=VALUE options into the record's parallel arrays. */
static int
sub_attrs(const struct sub_opts *o, struct sub_record *r, char ***keys)
{
	const char	*eq;
	char		*k, *tmp;
	size_t		 i;

	*keys = xcalloc(o->attrs.n + 1, sizeof **keys);
	r->keys = xcalloc(o->attrs.n + 1, sizeof *r->keys);
	r->values = xcalloc(o->attrs.n + 1, sizeof *r->values);
	for (i = 0; i < o->attrs.n; i++) {
		if ((eq = strchr(o->attrs.v[i], '=')) == NULL) {
			cli_error(EX_USAGE, "--attr %s: give KEY=VALUE",
			    o->attrs.v[i]);
			return -1;
		}
		tmp = xstrndup(o->attrs.v[i], eq - o->attrs.v[i]);
		k = attr_key_normalize(tmp);
		free(tmp);
		if (k == NULL || strcmp(k, "name") == 0 ||
		    strcmp(k, "address") == 0 || strcmp(k, "email") == 0) {
			cli_error(EX_USAGE, "--attr %s: not a usable attribute "
			    "name", o->attrs.v[i]);
			free(k);
			return -1;
		}
		if (!sub_text_ok("attribute value", eq + 1)) {
			free(k);
			return -1;
		}
		(*keys)[i] = k;
		r->keys[i] = k;
		r->values[i] = eq + 1;
		r->nattrs++;
	}
	return 0;
}

static void
sub_record_free(struct sub_record *r, char **keys)
{
	size_t	 i;

	for (i = 0; keys != NULL && keys[i] != NULL; i++)
		free(keys[i]);
	free(keys);
	free(r->keys);
	free(r->values);
}

struct sub_put {
	const struct token_keys	*keys;
	int64_t			 list;
	const char		*source, *consent;
	const struct sub_record	*r;
	enum sub_result		*res;
	char			**detail, **cause;
};

static int
sub_put_one(struct db *db, void *arg)
{
	struct sub_put		*p = arg;
	struct sub_writer	*w;
	int			 rc;

	if ((w = db_sub_writer_new(db, p->keys, p->list, p->source,
	    p->consent, p->cause)) == NULL)
		return -1;
	rc = db_sub_writer_put(w, p->r, p->res, p->detail, p->cause);
	db_sub_writer_free(w);
	return rc;
}

static int
sub_write(struct cli *cli, int64_t list, const char *source,
    const struct sub_opts *o, const char *address, enum sub_result *res,
    char **detail)
{
	struct sub_put		 p;
	struct sub_record	 r;
	struct token_keys	 keys;
	char			**k = NULL, *cause = NULL;
	int			 rc = EX_OK;

	memset(&r, 0, sizeof r);
	r.address = address;
	r.name = o->name;
	if (!sub_text_ok("name", o->name) || !sub_text_ok("consent",
	    o->consent) || sub_attrs(o, &r, &k) == -1) {
		sub_record_free(&r, k);
		return EX_DATAERR;
	}
	cli_keys(cli, &keys);
	p.keys = &keys;
	p.list = list;
	p.source = source;
	p.consent = o->consent;
	p.r = &r;
	p.res = res;
	p.detail = detail;
	p.cause = &cause;
	if (db_atomic(cli_db(cli), sub_put_one, &p, &cause) == -1)
		rc = cli_fail(EX_SOFTWARE, &cause);
	sub_record_free(&r, k);
	return rc;
}

static int
sub_add(struct cli *cli, void *vo, int argc, char **argv)
{
	const char *in = argv[0];
	const struct sub_opts *o = vo;
	struct list_info	 l;
	enum sub_result		 res;
	char			*a, *detail = NULL;
	int			 rc;

	if (o->list == NULL)
		return cli_misuse(cli, "add needs --list");
	if ((a = cli_sub_address(in)) == NULL)
		return EX_DATAERR;
	if (cli_list_lookup(cli, o->list, &l) == -1) {
		free(a);
		return EX_DATAERR;
	}
	rc = sub_write(cli, l.id, "cli", o, a, &res, &detail);
	if (rc == EX_OK) {
		switch (res) {
		case SUB_ADDED:
			printf("added %s to %s\n", a, l.name);
			break;
		case SUB_UPDATED:
			printf("%s is already on %s; details updated\n", a,
			    l.name);
			break;
		case SUB_UNCHANGED:
			printf("%s is already on %s\n", a, l.name);
			break;
		case SUB_REFUSED_UNSUBSCRIBED:
			rc = cli_error(EX_DATAERR, "%s unsubscribed from %s "
			    "earlier; only 'clarion sub resubscribe %s --list "
			    "%s --consent TEXT' brings them back", a, l.name, a,
			    l.name);
			break;
		case SUB_REFUSED_SUPPRESSED:
			rc = cli_error(EX_DATAERR, "%s is suppressed (%s); see "
			    "'clarion sub unsuppress'", a, detail);
			break;
		}
	}
	free(detail);
	free(a);
	list_info_free(&l);
	return rc;
}

/* The subscriber's id, or an error printed and -1. */
static int
sub_lookup(struct cli *cli, const char *a, int64_t *id)
{
	if (db_subscriber_find(cli_db(cli), a, id) == -1) {
		cli_error(EX_DATAERR, "%s is not a subscriber", a);
		return -1;
	}
	return 0;
}

static int
sub_edit(struct cli *cli, void *vo, int argc, char **argv)
{
	const char *in = argv[0];
	const struct sub_opts *o = vo;
	enum sub_result	 res;
	char		*a, *na = NULL, *detail = NULL, *cause;
	int64_t		 id;
	int		 rc = EX_DATAERR;

	if ((a = cli_sub_address(in)) == NULL)
		return EX_DATAERR;
	if (sub_lookup(cli, a, &id) == -1)
		goto out;
	if (o->address != NULL) {
		if ((na = cli_sub_address(o->address)) == NULL)
			goto out;
		if (db_subscriber_set_address(cli_db(cli), id, na,
		    &cause) == -1) {
			cli_error(EX_DATAERR, "%s", cause);
			free(cause);
			goto out;
		}
		printf("%s is now %s\n", a, na);
	}
	rc = sub_write(cli, 0, NULL, o, na != NULL ? na : a, &res, &detail);
	if (rc == EX_OK && o->address == NULL)
		printf("%s %s\n", a, res == SUB_UPDATED ? "updated" :
		    "unchanged");
out:
	free(detail);
	free(na);
	free(a);
	return rc;
}

/* A stored time as the page promises: local "YYYY-MM-DD HH:MM". */
static char *
fmt_time(const char *tz, json_t *v)
{
	char	*s;

	if (!json_is_integer(v))
		return xstrdup("-");
	if ((s = time_format_local((time_t)json_integer_value(v), tz,
	    "%Y-%m-%d %H:%M")) == NULL)
		s = xstrdup("-");
	return s;
}

static void
show_memberships(const char *tz, json_t *ms)
{
	json_t		*m;
	size_t		 i;
	const char	*status;
	char		*t;

	printf("memberships:\n");
	if (json_array_size(ms) == 0)
		printf("  (none)\n");
	json_array_foreach(ms, i, m) {
		/*
		 * An unsubscribe sets updated; the consent time is when they
		 * joined, not when they left.
		 */
		status = json_string_value(json_object_get(m, "status"));
		t = fmt_time(tz, json_object_get(m, status != NULL &&
		    member_status_parse(status) != MEMBER_SUBSCRIBED ?
		    "updated" : "consent_at"));
		printf("  %-16s %-12s since %s, source: %s, consent: %s\n",
		    json_string_value(json_object_get(m, "list")), status, t,
		    json_string_value(json_object_get(m, "source")),
		    json_string_value(json_object_get(m, "consent")));
		free(t);
	}
}

static void
show_human(const char *tz, json_t *o)
{
	json_t		*s = json_object_get(o, "subscriber");
	json_t		*sup = json_object_get(o, "suppression");
	const char	*k;
	json_t		*v;
	char		*t;

	printf("address:     %s\n", json_string_value(json_object_get(s,
	    "address")));
	printf("name:        %s\n", json_string_value(json_object_get(s,
	    "name")));
	printf("attributes: ");
	if (json_object_size(json_object_get(o, "attributes")) == 0)
		printf(" (none)");
	json_object_foreach(json_object_get(o, "attributes"), k, v)
		printf(" %s=%s", k, json_string_value(v));
	printf("\n");
	if (json_is_object(sup)) {
		t = fmt_time(tz, json_object_get(sup, "created"));
		printf("suppressed:  yes (%s, since %s)\n", json_string_value(
		    json_object_get(sup, "reason")), t);
		free(t);
	} else
		printf("suppressed:  no\n");
	show_memberships(tz, json_object_get(o, "memberships"));
	printf("deliveries:  %zu\n", json_array_size(json_object_get(o,
	    "deliveries")));
}

static void
json_out(json_t *o)
{
	cli_json_print(o);
}

static int
sub_show(struct cli *cli, void *vo, int argc, char **argv)
{
	const char		*in = argv[0];
	int			 gdpr = strcmp(cli->sub->name, "export") == 0;
	struct token_keys	 keys;
	json_t			*o, *part;
	char			*a;
	int64_t			 id;

	if ((a = cli_sub_address(in)) == NULL)
		return EX_DATAERR;
	cli_keys(cli, &keys);
	if (!gdpr && sub_lookup(cli, a, &id) == -1) {
		free(a);
		return EX_DATAERR;
	}
	o = subscriber_export(cli_db(cli), &keys, a);
	if (gdpr)
		json_out(o);
	else if (cli->json) {
		/* show: the person, not their whole history */
		part = json_pack("{s:O, s:O, s:O, s:O}", "subscriber",
		    json_object_get(o, "subscriber"), "attributes",
		    json_object_get(o, "attributes"), "memberships",
		    json_object_get(o, "memberships"), "suppression",
		    json_object_get(o, "suppression"));
		json_out(part);
		json_decref(part);
	} else
		show_human(cli_config(cli)->timezone, o);
	json_decref(o);
	free(a);
	return EX_OK;
}

/* 1 if subscribed (or held) on the list; else says why not, and 0. */
static int
sub_is_member(struct cli *cli, int64_t id, const struct list_info *l,
    const char *a)
{
	char		*cause = NULL;
	char	*status = NULL;
	int	 r, member;

	r = db_membership_status(cli_db(cli), id, l->id, &status, &cause);
	member = r == 1 &&
	    member_status_parse(status) != MEMBER_UNSUBSCRIBED;
	if (r == 1 && !member)
		cli_error(EX_DATAERR, "%s already unsubscribed from %s", a,
		    l->name);
	else if (r == 0)
		cli_error(EX_DATAERR, "%s is not on %s", a, l->name);
	else if (r == -1)
		cli_fail(EX_SOFTWARE, &cause);
	free(status);
	return member;
}

static int
sub_membership(struct cli *cli, void *vo, int argc, char **argv)
{
	const struct sub_opts	*o = vo;
	const char		*in = argv[0], *verb = cli->sub->name;
	struct list_info	 l;
	struct token_keys	 keys;
	char			*a, *cause = NULL;
	int64_t			 id;
	int			 rc = EX_DATAERR, r;

	if (strcmp(verb, "remove") == 0 && o->list == NULL)
		return cli_misuse(cli, "remove needs --list");
	memset(&l, 0, sizeof l);
	if ((a = cli_sub_address(in)) == NULL)
		return EX_DATAERR;
	if (sub_lookup(cli, a, &id) == -1 || (o->list != NULL &&
	    cli_list_lookup(cli, o->list, &l) == -1))
		goto out;
	if (strcmp(verb, "remove") == 0) {
		if ((r = db_membership_remove(cli_db(cli), id, l.id)) == 0)
			cli_error(EX_DATAERR, "%s is not on %s", a, l.name);
		else if (r == 1) {
			printf("removed %s from %s\n", a, l.name);
			rc = EX_OK;
		}
		goto out;
	}
	/* unsubscribe; everywhere also suppresses */
	if (o->list != NULL && !sub_is_member(cli, id, &l, a))
		goto out;
	cli_keys(cli, &keys);
	if (subscriber_unsubscribe(cli_db(cli), &keys, id, l.id, a, "cli",
	    &cause) == -1) {
		rc = cli_error(EX_SOFTWARE, "%s", cause);
		free(cause);
		goto out;
	}
	if (o->list != NULL)
		printf("unsubscribed %s from %s\n", a, l.name);
	else
		printf("unsubscribed %s from every list and suppressed the "
		    "address\n", a);
	rc = EX_OK;
out:
	list_info_free(&l);
	free(a);
	return rc;
}

static int
sub_resubscribe(struct cli *cli, void *vo, int argc, char **argv)
{
	const char *in = argv[0];
	const struct sub_opts *o = vo;
	char		*cause = NULL;
	struct list_info	 l;
	struct token_keys	 keys;
	char			*a, *reason = NULL;
	int64_t			 id;
	int			 rc = EX_DATAERR;

	if (o->list == NULL || o->consent == NULL || *o->consent == '\0')
		return cli_misuse(cli, "resubscribe needs --list and "
		    "--consent (what the person said, and when)");
	if (!sub_text_ok("consent", o->consent) ||
	    (a = cli_sub_address(in)) == NULL)
		return EX_DATAERR;
	memset(&l, 0, sizeof l);
	cli_keys(cli, &keys);
	if (sub_lookup(cli, a, &id) == -1 ||
	    cli_list_lookup(cli, o->list, &l) == -1)
		goto out;
	if (subscriber_suppression_reason(cli_db(cli), &keys, a,
	    &reason) == 1) {
		cli_error(EX_DATAERR, "%s is suppressed (%s); lift that first "
		    "with 'clarion sub unsuppress %s --consent TEXT'", a,
		    reason, a);
		goto out;
	}
	if (db_resubscribe(cli_db(cli), &keys, id, l.id, o->consent,
	    "resubscribed", &cause) == -1) {
		rc = cli_fail(EX_SOFTWARE, &cause);
		goto out;
	}
	printf("resubscribed %s to %s\n", a, l.name);
	rc = EX_OK;
out:
	free(reason);
	list_info_free(&l);
	free(a);
	return rc;
}

static int
sub_suppress(struct cli *cli, void *vo, int argc, char **argv)
{
	const struct sub_opts	*o = vo;
	const char		*in = argv[0];
	int			 lift = strcmp(cli->sub->name, "unsuppress") == 0;
	char		*cause = NULL;
	struct token_keys	 keys;
	char			*a;
	int			 rc = EX_OK, r;

	if (lift && (o->consent == NULL || *o->consent == '\0'))
		return cli_misuse(cli, "unsuppress needs --consent (what "
		    "the person said, and when)");
	if (!sub_text_ok("reason", o->reason) || !sub_text_ok("consent",
	    o->consent) || (a = cli_sub_address(in)) == NULL)
		return EX_DATAERR;
	cli_keys(cli, &keys);
	if (!lift) {
		if (subscriber_suppress(cli_db(cli), &keys, a, "manual",
		    o->reason != NULL ? o->reason : "", &cause) == -1)
			rc = cli_fail(EX_SOFTWARE, &cause);
		else
			printf("suppressed %s\n", a);
	} else if ((r = subscriber_unsuppress(cli_db(cli), &keys, a, o->consent,
	    &cause)) == -1)
		rc = cli_fail(EX_SOFTWARE, &cause);
	else if (r == 0)
		rc = cli_error(EX_DATAERR, "%s is not suppressed", a);
	else {
		printf("%s is no longer suppressed (consent: %s)\n", a,
		    o->consent);
	}
	free(a);
	return rc;
}

static int
sub_erase(struct cli *cli, void *vo, int argc, char **argv)
{
	const char *in = argv[0];
	struct token_keys	 keys;
	struct erase_result	 r;
	char			*a, *cause;
	long			 nout;
	int			 rc;

	if ((a = cli_sub_address(in)) == NULL)
		return EX_DATAERR;
	cli_keys(cli, &keys);
	if (subscriber_erase(cli_db(cli), &keys, a, &r, &cause) == -1) {
		rc = cli_error(EX_SOFTWARE, "%s", cause);
		free(cause);
		free(a);
		return rc;
	}
	printf("erased %s: %s; %ld deliveries, %ld inbound records and %ld "
	    "system messages anonymised, %ld bounces deleted; a keyed hash "
	    "is kept so they cannot be imported again\n", a, r.subscriber ?
	    "subscriber deleted" : "no subscriber record", r.deliveries,
	    r.inbound, r.sysmail, r.bounces);
	if (outbox_erase(cli_config(cli)->outbox, a, &nout, &cause) == -1) {
		fprintf(stderr, "clarion: warning: the outbox: %s\n", cause);
		free(cause);
	} else if (nout > 0)
		printf("outbox: %ld message%s to or about them deleted\n", nout,
		    nout == 1 ? "" : "s");
	if (!r.checkpointed)
		fprintf(stderr, "clarion: warning: the write-ahead log could "
		    "not be emptied (is clariond reading?); it will be at its "
		    "next checkpoint\n");
	explicit_zero(a, strlen(a));
	free(a);
	return EX_OK;
}

/* Listing. */

struct ls_state {
	struct cli	*cli;
	json_t		*arr;
	size_t		 n;
};

static void
ls_attrs(json_t *attrs, struct buf *b)
{
	const char	*k;
	json_t		*v;

	const char	*p;

	json_object_foreach(attrs, k, v) {
		buf_addf(b, "%s%s=", b->len > 0 ? " " : "", k);
		/* One line per person: line breaks in a value are shown. */
		for (p = json_string_value(v); *p != '\0'; p++) {
			if (*p == '\n')
				buf_adds(b, "\\n");
			else if ((unsigned char)*p < 0x20 || *p == 0x7f)
				buf_addc(b, '?');
			else
				buf_addc(b, *p);
		}
	}
}

/* Prints s in a column of width characters (UTF-8 counted as such). */
static void
ls_cell(const char *s, int width)
{
	const char	*p;
	int		 n = 0;

	for (p = s; *p != '\0'; p++)
		n += ((unsigned char)*p & 0xc0) != 0x80;
	fputs(s, stdout);
	for (; n < width; n++)
		putchar(' ');
	putchar(' ');
}

static int
ls_row(void *arg, const struct sub_row *r)
{
	struct ls_state	*s = arg;
	struct buf	 b;

	s->n++;
	if (s->cli->json) {
		json_array_append_new(s->arr, json_pack("{s:I, s:s, s:s, s:s?, "
		    "s:O, s:b}", "id", (json_int_t)r->id, "address", r->address,
		    "name", r->name, "status", r->status, "attributes",
		    r->attrs, "suppressed", r->suppressed));
		return 0;
	}
	buf_init(&b);
	ls_attrs(r->attrs, &b);
	ls_cell(r->address, 32);
	ls_cell(r->name, 24);
	ls_cell(r->suppressed ? "suppressed" : r->status != NULL ? r->status :
	    "-", 12);
	printf("%s\n", b.data != NULL ? b.data : "");
	buf_free(&b);
	return 0;
}

static int
sub_ls(struct cli *cli, void *vo, int argc, char **argv)
{
	const struct sub_opts	*o = vo;
	const char		*text = argc == 1 ? argv[0] : NULL;
	struct list_info	 l;
	struct token_keys	 keys;
	struct ls_state		 s;
	struct sub_record	 r;
	char			**k = NULL, *cause = NULL;
	int			 rc;

	if (strcmp(cli->sub->name, "search") == 0 && text == NULL &&
	    o->attrs.n != 1)
		return cli_misuse(cli, "sub search: give TEXT or one --attr");
	memset(&l, 0, sizeof l);
	memset(&r, 0, sizeof r);
	if (o->list != NULL && cli_list_lookup(cli, o->list, &l) == -1)
		return EX_DATAERR;
	if ((o->segment != NULL || o->status != NULL) && o->list == NULL)
		return cli_misuse(cli, "--segment and --status need "
		    "--list");
	if (o->status != NULL && member_status_parse(o->status) == -1)
		return cli_misuse(cli, "--status is subscribed, "
		    "unsubscribed or held");
	if (o->attrs.n > 1 || sub_attrs(o, &r, &k) == -1) {
		sub_record_free(&r, k);
		list_info_free(&l);
		return o->attrs.n > 1 ? cli_misuse(cli, "search takes one "
		    "--attr") : EX_USAGE;
	}
	/* A bad segment is reported before any output. */
	if (o->segment != NULL && *o->segment != '\0') {
		struct segment *seg;

		if ((seg = segment_parse(o->segment, &cause)) == NULL) {
			rc = cli_error(EX_DATAERR, "%s", cause);
			free(cause);
			sub_record_free(&r, k);
			list_info_free(&l);
			return rc;
		}
		segment_free(seg);
	}
	cli_keys(cli, &keys);
	memset(&s, 0, sizeof s);
	s.cli = cli;
	s.arr = json_array();
	if (!cli->json)
		printf("%-32s %-24s %-12s %s\n", "ADDRESS", "NAME", "STATUS",
		    "ATTRIBUTES");
	if (text != NULL || r.nattrs > 0)
		rc = subscriber_search(cli_db(cli), &keys, l.id, text,
		    r.nattrs > 0 ? r.keys[0] : NULL, r.nattrs > 0 ?
		    r.values[0] : NULL, ls_row, &s, &cause);
	else
		/* With a segment: who a send would select, so subscribed. */
		rc = subscriber_each(cli_db(cli), &keys, l.id, o->status != NULL ?
		    o->status : o->segment != NULL ? "subscribed" : NULL,
		    o->segment, ls_row, &s, &cause);
	if (rc == -1)	/* the segment was checked above */
		rc = cli_fail(EX_SOFTWARE, &cause);
	else if (cli->json) {
		json_out(s.arr);
		rc = EX_OK;
	} else {
		printf("%zu subscriber%s\n", s.n, s.n == 1 ? "" : "s");
		rc = EX_OK;
	}
	json_decref(s.arr);
	sub_record_free(&r, k);
	list_info_free(&l);
	return rc;
}

/* export-all: a CSV of the list's members, safe to open in a spreadsheet. */
struct csv_out {
	struct buf	 b;
	char		**keys;
	size_t		 nkeys;
	size_t		 n;
};

static int
csv_row(void *arg, const struct sub_row *r)
{
	struct csv_out	*c = arg;
	const char	*v;
	size_t		 i;

	if (r->status != NULL &&
	    member_status_parse(r->status) == MEMBER_UNSUBSCRIBED)
		return 0;
	csv_quote(&c->b, r->address, ',');
	buf_addc(&c->b, ',');
	csv_quote(&c->b, r->name, ',');
	for (i = 0; i < c->nkeys; i++) {
		buf_addc(&c->b, ',');
		v = json_string_value(json_object_get(r->attrs, c->keys[i]));
		csv_quote(&c->b, v != NULL ? v : "", ',');
	}
	buf_adds(&c->b, "\r\n");
	c->n++;
	return 0;
}

static int
sub_export_all(struct cli *cli, void *vo, int argc, char **argv)
{
	const struct sub_opts *o = vo;
	struct list_info	 l;
	struct csv_out		 c;
	char			*cause = NULL;
	size_t			 i;
	int			 rc = EX_OK;

	if (o->list == NULL)
		return cli_misuse(cli, "export-all needs --list");
	if (cli_list_lookup(cli, o->list, &l) == -1)
		return EX_DATAERR;
	memset(&c, 0, sizeof c);
	buf_init(&c.b);
	db_attr_keys(cli_db(cli), l.id, &c.keys, &c.nkeys);
	buf_adds(&c.b, "email,name");
	for (i = 0; i < c.nkeys; i++) {
		buf_addc(&c.b, ',');
		csv_quote(&c.b, c.keys[i], ',');
	}
	buf_adds(&c.b, "\r\n");
	if (subscriber_each(cli_db(cli), NULL, l.id, NULL, NULL, csv_row, &c,
	    &cause) == -1)
		rc = cli_fail(EX_SOFTWARE, &cause);
	else if (o->output == NULL)
		fwrite(c.b.data, 1, c.b.len, stdout);
	else if (file_write_atomic(o->output, c.b.data, c.b.len, 0600,
	    &cause) == -1)
		rc = cli_error(EX_CANTCREAT, "%s", cause);
	else
		printf("%s: %zu members of %s\n", o->output, c.n, l.name);
	free(cause);
	for (i = 0; i < c.nkeys; i++)
		free(c.keys[i]);
	free(c.keys);
	explicit_zero(c.b.data, c.b.len);
	buf_free(&c.b);
	list_info_free(&l);
	return rc;
}

static const struct cli_sub sub_subs[] = {
	{ "add", NULL, "lnaC", 0, 1, 1, sub_add,
	    "sub add ADDRESS --list NAME [--name TEXT] [--attr KEY=VALUE]...\n"
	    "           [--consent TEXT]", NULL },
	{ "show", NULL, "", 1, 1, 1, sub_show, "sub show ADDRESS [--json]",
	    NULL },
	{ "edit", NULL, "naA", 0, 1, 1, sub_edit,
	    "sub edit ADDRESS [--name TEXT] [--attr KEY=VALUE]...\n"
	    "           [--address NEW-ADDRESS]", NULL },
	{ "remove", NULL, "l", 0, 1, 1, sub_membership,
	    "sub remove ADDRESS --list NAME", NULL },
	{ "unsubscribe", NULL, "l", 0, 1, 1, sub_membership,
	    "sub unsubscribe ADDRESS [--list NAME]", NULL },
	{ "resubscribe", NULL, "lC", 0, 1, 1, sub_resubscribe,
	    "sub resubscribe ADDRESS --list NAME --consent TEXT", NULL },
	{ "ls", NULL, "lsS", 1, 0, 0, sub_ls,
	    "sub ls [--list NAME] [--segment EXPR] [--status STATUS] [--json]",
	    NULL },
	{ "search", NULL, "la", 1, 0, 1, sub_ls,
	    "sub search [TEXT] [--list NAME] [--attr KEY=VALUE] [--json]",
	    NULL },
	{ "import", NULL, "lmCdxP", 1, 1, 1, cli_sub_import,
	    "sub import --list NAME FILE.csv [--map COLUMN=FIELD,...]\n"
	    "           [--consent TEXT] [--dry-run] [--strict] [--progress]\n"
	    "           [--json]", NULL },
	{ "export", NULL, "", 0, 1, 1, sub_show, "sub export ADDRESS", NULL },
	{ "export-all", NULL, "lo", 0, 0, 0, sub_export_all,
	    "sub export-all --list NAME [-o FILE]", NULL },
	{ "erase", NULL, "", 0, 1, 1, sub_erase, "sub erase ADDRESS", NULL },
	{ "suppress", NULL, "r", 0, 1, 1, sub_suppress,
	    "sub suppress ADDRESS [--reason TEXT]", NULL },
	{ "unsuppress", NULL, "C", 0, 1, 1, sub_suppress,
	    "sub unsuppress ADDRESS --consent TEXT", NULL },
};

const struct cli_group cli_group_sub = {
	"sub", "subscribers: add, import, segments, GDPR export/erase",
	sub_text, sub_options, "o", sizeof(struct sub_opts), NULL, sub_subs,
	nitems(sub_subs)
};
