/* Segment expressions: who they select, and how bad ones are refused. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "clarion.h"
#include "tap.h"

struct person {
	const char	*address, *name, *attrs;	/* attrs: JSON */
};

static const struct person people[] = {
	{ "ann@x.org", "Ann Hill", "{\"ward\": \"Hillside\", \"union\": \"GMB\"}" },
	{ "bob@x.org", "Bob Vale", "{\"ward\": \"Hillside\", \"union\": \"Unite\","
	    " \"branch\": \"North\"}" },
	{ "cat@y.org", "Cat", "{\"ward\": \"Riverside\", \"union\": \"unison\"}" },
	{ "dan@y.org", "", "{\"ward\": \"St Mark's\"}" },
	{ "eve@z.org", "Eve", "{}" },
};

/* The initials of the selected, e.g. "abd"; or "ERROR: cause". */
static char *
selected(const char *expr)
{
	struct segment	*seg;
	json_t		*attrs;
	char		*cause, out[16];
	size_t		 i, n = 0;

	if ((seg = segment_parse(expr, &cause)) == NULL) {
		char *e;

		xasprintf(&e, "ERROR: %s", cause);
		free(cause);
		return e;
	}
	for (i = 0; i < nitems(people); i++) {
		attrs = json_loads(people[i].attrs, 0, NULL);
		if (segment_match(seg, people[i].address, people[i].name, attrs))
			out[n++] = people[i].address[0];
		json_decref(attrs);
	}
	out[n] = '\0';
	segment_free(seg);
	return xstrdup(out);
}

static void
sel(const char *expr, const char *want)
{
	char	*got = selected(expr);

	is_str(got, want, "%s", expr);
	free(got);
}

/* The names a segment uses that no member has, each once, in order. */
static void
unknown(const char *expr, const char *want)
{
	static char	*known[] = { "union", "ward" };
	struct segment	*seg;
	struct buf	 b;
	char		**u, *cause;
	size_t		 n, i;

	buf_init(&b);
	buf_adds(&b, "");
	if ((seg = segment_parse(expr, &cause)) == NULL) {
		ok(0, "%s: %s", expr, cause);
		free(cause);
		return;
	}
	n = segment_unknown_attrs(seg, known, nitems(known), &u);
	for (i = 0; i < n; i++) {
		buf_addf(&b, "%s%s", i > 0 ? "," : "", u[i]);
		free(u[i]);
	}
	free(u);
	is_str(b.data, want, "unknown attributes of %s", expr);
	buf_free(&b);
	segment_free(seg);
}

int
main(void)
{
	char	*deep, *k;

	unknown("ward = 'Hillside'", "");
	unknown("wrad != 'Hillside'", "wrad");
	unknown("Wrad = 'x' or (unoin in ('a') and not has wrad) or name = ''",
	    "wrad,unoin");
	unknown("email = 'a@b' and address = 'a@b' and has union", "");

	sel("ward = 'Hillside'", "ab");
	sel("ward = \"Hillside\"", "ab");
	sel("WARD = 'hillside'", "ab");
	sel("ward != 'Hillside'", "cde");
	sel("ward <> 'Hillside'", "cde");
	sel("ward = 'Hillside' and union != 'GMB'", "b");
	sel("ward = 'Hillside' AND union != 'gmb'", "b");
	sel("ward = 'Riverside' or union = 'GMB'", "ac");
	sel("not ward = 'Hillside'", "cde");
	sel("not (ward = 'Hillside' or ward = 'Riverside')", "de");
	sel("ward = 'Hillside' and (union = 'GMB' or branch = 'North')", "ab");
	sel("ward = 'Hillside' and union = 'GMB' or ward = 'Riverside'", "ac");
	sel("ward = 'Riverside' or ward = 'Hillside' and union = 'GMB'", "ac");
	sel("ward = 'St Mark''s'", "d");
	sel("ward = \"St Mark's\"", "d");
	sel("ward in ('Riverside', \"St Mark's\")", "cd");
	sel("ward not in ('Riverside', 'Hillside')", "de");
	sel("has branch", "b");
	sel("not has union", "de");
	sel("union = ''", "de");
	sel("name = 'Cat'", "c");
	sel("name = ''", "d");
	sel("address = 'EVE@z.org'", "e");
	sel("email in ('ann@x.org', 'dan@y.org')", "ad");
	sel("Branch-Name = ''", "abcde");
	sel("  ward\n=\t'Hillside'  ", "ab");
	sel("ward = 'x' or 1 = 'y'", "");

	/* Refused, with the position of the problem. */
	sel("ward = Hillside",
	    "ERROR: segment: 1:8: expected a quoted value, found 'Hillside'");
	sel("ward = 'x' or 1=1; DROP TABLE subscribers; --",
	    "ERROR: segment: 1:17: expected a quoted value, found '1'");
	sel("ward = 'x'; DROP TABLE subscribers; --",
	    "ERROR: segment: 1:11: unexpected ';'");
	sel("ward = 'x' -- comment", "ERROR: segment: 1:12: unexpected '-'");
	sel("ward = 'Hillside", "ERROR: segment: 1:8: a quoted value is not "
	    "closed (missing ')");
	sel("ward = \"Hillside'", "ERROR: segment: 1:8: a quoted value is not "
	    "closed (missing \")");
	sel("ward == 'x'", "ERROR: segment: 1:7: expected a quoted value, "
	    "found '='");
	sel("ward ~ 'x'", "ERROR: segment: 1:6: unexpected '~'");
	sel("ward > 'x'", "ERROR: segment: 1:6: unexpected '>'");
	sel("ward like 'x%'", "ERROR: segment: 1:6: expected '=', '!=' or "
	    "'in', found 'like'");
	sel("ward = 'x' and", "ERROR: segment: 1:15: expected a field name, "
	    "found the end");
	sel("ward = 'x' union = 'y'", "ERROR: segment: 1:12: expected 'and', "
	    "'or' or the end, found 'union'");
	sel("(ward = 'x'", "ERROR: segment: 1:12: expected ')', found the end");
	sel("ward = 'x')", "ERROR: segment: 1:11: expected 'and', 'or' or the "
	    "end, found ')'");
	sel("and = 'x'", "ERROR: segment: 1:1: expected a field name, found "
	    "'and'");
	sel("ward in 'x'", "ERROR: segment: 1:9: expected '(' after 'in', "
	    "found the value 'x'");
	sel("ward in ('x' 'y')", "ERROR: segment: 1:14: expected ',' or ')', "
	    "found the value 'y'");
	sel("ward not = 'x'", "ERROR: segment: 1:10: expected 'in', found '='");
	sel("has 'ward'", "ERROR: segment: 1:5: expected a field name, found "
	    "the value 'ward'");
	sel("", "ERROR: segment: 1:1: empty expression");
	sel("   ", "ERROR: segment: 1:4: empty expression");
	sel("ward = 'x' and\nunion = y", "ERROR: segment: 2:9: expected a "
	    "quoted value, found 'y'");
	sel("naïve = 'x' and ward = x", "ERROR: segment: 1:24: expected a "
	    "quoted value, found 'x'");
	sel("ward = 'x' \x01", "ERROR: segment: 1:12: unexpected byte 0x01");

	/* Deep nesting is refused, not a stack overflow. */
	deep = xmalloc(4011);
	memset(deep, '(', 2000);
	strcpy(deep + 2000, "ward = 'x'");
	memset(deep + 2010, ')', 2000);
	deep[4010] = '\0';
	{
		char *got = selected(deep);
		ok(strstr(got, "nested too deeply") != NULL,
		    "2,000 parentheses: refused (%s)", got);
		free(got);
	}
	free(deep);

	/* A long or-chain (a deep tree) is refused before it is built. */
	{
		struct buf	 b;
		char		*got;
		int		 i;

		buf_init(&b);
		buf_adds(&b, "ward = 'x'");
		for (i = 0; i < 500; i++)
			buf_adds(&b, " or ward = 'x'");
		got = selected(b.data);
		is_str(got, "ERROR: segment: longer than 4096 characters",
		    "a 7,000-character segment: refused");
		free(got);
		buf_free(&b);
	}

	k = attr_key_normalize("  Ward Name ");
	is_str(k, "ward_name", "attribute key: spaces");
	free(k);
	k = attr_key_normalize("Phone (home)");
	is_str(k, "phone_home", "attribute key: punctuation");
	free(k);
	k = attr_key_normalize("Union-Branch");
	is_str(k, "union_branch", "attribute key: dash");
	free(k);
	k = attr_key_normalize("Cangen Rhif");
	is_str(k, "cangen_rhif", "attribute key: case");
	free(k);
	ok(attr_key_normalize(" -- ") == NULL, "attribute key: nothing left");
	return tap_done();
}
