/*
 * The Mustache engine, rule by rule, in our own examples. The official
 * spec suite is run against `clarion template render` from outside; these
 * tests pin the same rules and our own choices and error messages.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "clarion.h"
#include "tap.h"

static char	 result[8192];

/*
 * Renders src against the JSON text data; partials are "name", "source"
 * pairs ending with NULL. Returns the output, or "ERROR: cause".
 */
static const char *
render_with(const char *src, const char *data, int escape,
    struct tmpl_partials *ps)
{
	struct tmpl	*t;
	json_t		*j;
	json_error_t	 jerr;
	struct buf	 out;
	char		*cause = NULL;

	if ((t = tmpl_parse(src, strlen(src), &cause)) == NULL) {
		snprintf(result, sizeof result, "ERROR: %s", cause);
		free(cause);
		return result;
	}
	if ((j = json_loads(data, JSON_DECODE_ANY, &jerr)) == NULL) {
		snprintf(result, sizeof result, "BAD TEST DATA: %s", jerr.text);
		tmpl_free(t);
		return result;
	}
	buf_init(&out);
	if (tmpl_render(t, j, ps, escape, &out, &cause) == -1) {
		snprintf(result, sizeof result, "ERROR: %s", cause);
		free(cause);
	} else
		snprintf(result, sizeof result, "%s", out.data);
	buf_free(&out);
	json_decref(j);
	tmpl_free(t);
	return result;
}

static const char *
html(const char *src, const char *data)
{
	return render_with(src, data, 1, NULL);
}

static const char *
text(const char *src, const char *data)
{
	return render_with(src, data, 0, NULL);
}

static const char *
with_partials(const char *src, const char *data, ...)
{
	struct tmpl_partials	*ps;
	const char		*name, *psrc, *r;
	char			*cause;
	va_list			 ap;

	ps = tmpl_partials_new(NULL);
	va_start(ap, data);
	while ((name = va_arg(ap, const char *)) != NULL) {
		psrc = va_arg(ap, const char *);
		if (tmpl_partials_add(ps, name, psrc, strlen(psrc), &cause) ==
		    -1) {
			snprintf(result, sizeof result, "ERROR: %s", cause);
			free(cause);
			va_end(ap);
			tmpl_partials_free(ps);
			return result;
		}
	}
	va_end(ap);
	r = render_with(src, data, 1, ps);
	tmpl_partials_free(ps);
	return r;
}

static void
test_interpolation(void)
{
	is_str(html("Strike at {{site}} today.", "{\"site\":\"Depot\"}"),
	    "Strike at Depot today.", "a name is replaced by its value");
	is_str(html("{{a}}|{{{a}}}|{{&a}}", "{\"a\":\"Tom & 'Jerry' <b>\\\"\"}"),
	    "Tom &amp; &#39;Jerry&#39; &lt;b&gt;&quot;|"
	    "Tom & 'Jerry' <b>\"|Tom & 'Jerry' <b>\"",
	    "{{x}} escapes & < > \" ', triple and & do not");
	is_str(text("{{a}}", "{\"a\":\"Fish & chips <3\"}"),
	    "Fish & chips <3", "text mode does not escape {{x}}");
	is_str(html("[{{missing}}][{{nul}}]", "{\"nul\":null}"), "[][]",
	    "missing names and null render as nothing");
	is_str(html("{{n}} {{big}} {{neg}}", "{\"n\":42,\"big\":9007199254740993,"
	    "\"neg\":-7}"), "42 9007199254740993 -7",
	    "integers render as integers");
	is_str(html("{{a}} {{b}} {{c}}", "{\"a\":1.210,\"b\":0.1,\"c\":2.5e-7}"),
	    "1.21 0.1 2.5e-07", "decimals render in their shortest exact form");
	is_str(html("{{t}}/{{f}}", "{\"t\":true,\"f\":false}"), "true/false",
	    "booleans render as true and false");
	is_str(html("{{ a }}{{{ a }}}{{& a }}", "{\"a\":\"x\"}"), "xxx",
	    "blanks inside tags are ignored");
	is_str(html("{{o}}{{l}}", "{\"o\":{\"k\":1},\"l\":[1]}"), "",
	    "objects and lists interpolate as nothing");
	is_str(html("  {{a}}\n", "{\"a\":\"x\"}"), "  x\n",
	    "interpolation is never standalone");
}

static void
test_dotted(void)
{
	const char *d = "{\"list\":{\"name\":\"Members\",\"owner\":"
	    "{\"name\":\"Sam\"}},\"name\":\"top\"}";

	is_str(html("{{list.name}} / {{list.owner.name}}", d),
	    "Members / Sam", "dotted names walk into objects");
	is_str(html("[{{list.nothing.name}}][{{name.x}}]", d), "[][]",
	    "a broken chain renders as nothing");
	is_str(html("{{#list}}{{owner.name}}:{{name}}{{/list}}", d),
	    "Sam:Members", "the first part is looked up the context stack");
	is_str(html("{{#list}}{{#owner}}{{list.name}}{{/owner}}{{/list}}", d),
	    "Members", "the first part may be found in an outer context");
	is_str(html("{{#a}}[{{b.c}}]{{/a}}", "{\"a\":{\"b\":{}},"
	    "\"b\":{\"c\":\"WRONG\"}}"), "[]",
	    "later parts are looked up only in the value found first");
	is_str(html("{{#a.b}}yes{{/a.b}}{{^a.c}}no{{/a.c}}",
	    "{\"a\":{\"b\":true,\"c\":false}}"), "yesno",
	    "sections take dotted names too");
}

static void
test_sections(void)
{
	is_str(html("{{#on}}shown{{/on}}{{#off}}hidden{{/off}}",
	    "{\"on\":true,\"off\":false}"), "shown",
	    "true shows a section, false hides it");
	is_str(html("[{{#a}}x{{/a}}{{#b}}x{{/b}}{{#c}}x{{/c}}{{#d}}x{{/d}}]",
	    "{\"b\":null,\"c\":[],\"d\":\"\"}"), "[]",
	    "missing, null, empty list and empty string are falsey");
	is_str(html("{{#n}}{{.}} left{{/n}}", "{\"n\":0}"), "0 left",
	    "the number 0 is truthy");
	is_str(html("{{#days}}{{date}}: {{#events}}{{title}}; {{/events}}|"
	    "{{/days}}", "{\"days\":[{\"date\":\"Mon\",\"events\":[{\"title\":"
	    "\"A\"},{\"title\":\"B\"}]},{\"date\":\"Tue\",\"events\":[]}]}"),
	    "Mon: A; B; |Tue: |", "lists repeat the section per item");
	is_str(html("{{#list}}({{.}}){{/list}}", "{\"list\":[\"a\",1,2.5,"
	    "\"<\"]}"), "(a)(1)(2.5)(&lt;)", "{{.}} is the current item");
	is_str(html("{{#m}}{{name}} of {{union}}{{/m}}", "{\"union\":\"RMT\","
	    "\"m\":{\"name\":\"Pat\"}}"), "Pat of RMT",
	    "an object section pushes the object onto the context");
	is_str(html("{{#s}}[{{.}}]{{/s}}", "{\"s\":\"<word>\"}"),
	    "[&lt;word&gt;]",
	    "a truthy scalar becomes the current item");
	is_str(html("{{#.}}[{{v}}]{{/.}}", "[{\"v\":1},{\"v\":2}]"), "[1][2]",
	    "the root itself can be a list");
	is_str(html("{{#a}}{{#a}}in{{/a}}{{/a}}", "{\"a\":true}"), "in",
	    "sections nest, even with the same name");
	is_str(html("{{^a}}none{{/a}}{{^b}}none{{/b}}{{^c}}x{{/c}}",
	    "{\"a\":[],\"b\":false,\"c\":[1]}"), "nonenone",
	    "inverted sections show for falsey values only");
	is_str(html("{{#a}}{{#b}}{{/b}}{{/a}}", "{\"a\":{\"b\":[]}}"), "",
	    "empty sections render nothing");
}

static void
test_standalone(void)
{
	is_str(html("Dear all,\n{{#x}}\nStrike on.\n{{/x}}\nSolidarity\n",
	    "{\"x\":true}"), "Dear all,\nStrike on.\nSolidarity\n",
	    "section tags alone on a line take the line with them");
	is_str(html("a\r\n  {{^x}}  \r\nb\r\n\t{{/x}}\r\nc", "{}"),
	    "a\r\nb\r\nc", "standalone lines with blanks and CRLF go whole");
	is_str(html("a\n{{! note\nspanning lines }}\nb\n", "{}"), "a\nb\n",
	    "a standalone comment, even over lines, leaves no line");
	is_str(html("{{#x}}\nfirst{{/x}}", "{\"x\":true}"), "first",
	    "a standalone tag on the first line goes too");
	is_str(html("end\n{{#x}}{{/x}}", "{}"), "end\n",
	    "a standalone tag on the last line without a newline");
	is_str(html(" x {{#a}}y{{/a}} \n", "{\"a\":1}"), " x y \n",
	    "a tag sharing its line with text is not standalone");
	is_str(html("a {{! hidden }}b", "{}"), "a b", "inline comments vanish");
}

static void
test_delimiters(void)
{
	is_str(html("{{=<% %>=}}<%a%> {{a}} <%{a}%> <%& a%>",
	    "{\"a\":\"&\"}"), "&amp; {{a}} & &",
	    "set delimiters change the tags that follow");
	is_str(html("{{= [[ ]] =}}\n[[#l]][[.]][[/l]]\n[[={{ }}=]]\n{{l.0}}",
	    "{\"l\":[1,2]}"), "12\n", "set-delimiter tags can be standalone "
	    "and be changed back");
	is_str(with_partials("{{=| |=}}|>p| |x|", "{\"x\":1}", "p", "{{x}}",
	    NULL), "1 1", "partials are parsed with the default delimiters");
	is_str(html("{{=%% %%=}}%%#s%%[%%.%%]%%/s%%", "{\"s\":[1]}"), "[1]",
	    "delimiters may be the same on both sides");
}

static void
test_partials(void)
{
	is_str(with_partials("<{{>p}}>", "{\"who\":\"us\"}", "p", "by {{who}}",
	    NULL), "<by us>", "a partial renders in the current context");
	is_str(with_partials("<{{>nope}}>", "{}", NULL), "<>",
	    "a missing partial renders as nothing");
	is_str(with_partials("Hi\n  {{>p}}\nBye\n", "{\"v\":\"a\\nb\"}", "p",
	    "one\n{{v}}\ntwo\n", NULL), "Hi\n  one\n  a\nb\n  two\nBye\n",
	    "a standalone partial's indentation goes on each of its lines, "
	    "not inside values");
	is_str(with_partials("\t{{>outer}}", "{}", "outer", "o\n {{>inner}}\n",
	    "inner", "i1\ni2\n", NULL), "\to\n\t i1\n\t i2\n",
	    "indentation adds up through nested partials");
	is_str(with_partials("{{>node}}", "{\"v\":1,\"kids\":[{\"v\":2,"
	    "\"kids\":[{\"v\":3,\"kids\":[]}]}]}", "node",
	    "{{v}}({{#kids}}{{>node}}{{/kids}})", NULL), "1(2(3()))",
	    "partials may recurse while the data ends");
	ok(strstr(with_partials("{{>loop}}", "{}", "loop", "x{{>loop}}", NULL),
	    "ERROR: line 1: partial \"loop\" nested more than 100 deep") ==
	    result, "endless partial recursion stops with an error: %s",
	    result);
	is_str(with_partials("{{>sub/etc}}", "{}", NULL),
	    "ERROR: partial name \"sub/etc\" is not allowed",
	    "partial names cannot leave the directory");
	is_str(with_partials("{{>../etc}}", "{}", NULL),
	    "ERROR: line 1: bad name \"../etc\"",
	    "partial names cannot climb up");
	is_str(with_partials("x", "{}", "bad", "{{#a}}", NULL),
	    "ERROR: partial \"bad\": line 1: section \"a\" is not closed",
	    "a partial with a syntax error is refused when added");
}

static void
test_partials_dir(void)
{
	struct tmpl_partials	*ps;
	char			 dir[] = "/tmp/test_template.XXXXXX", path[256];
	FILE			*f;

	if (mkdtemp(dir) == NULL) {
		ok(0, "mkdtemp");
		return;
	}
	snprintf(path, sizeof path, "%s/foot.mustache", dir);
	f = fopen(path, "w");
	fputs("-- {{list}}\n", f);
	fclose(f);
	ps = tmpl_partials_new(dir);
	is_str(render_with("Body\n{{>foot}}", "{\"list\":\"Members\"}", 1, ps),
	    "Body\n-- Members\n", "partials are read from DIR/name.mustache");
	unlink(path);
	is_str(render_with("{{>foot}}", "{\"list\":\"Again\"}", 1, ps),
	    "-- Again\n", "a partial read once is kept for later renders");
	tmpl_partials_free(ps);
	snprintf(path, sizeof path, "%s/broken.mustache", dir);
	f = fopen(path, "w");
	fputs("ok\n{{/x}}\n", f);
	fclose(f);
	ps = tmpl_partials_new(dir);
	ok(strstr(render_with("{{>broken}}", "{}", 1, ps),
	    "broken.mustache: line 2: closing tag \"x\" has no open section") !=
	    NULL, "a broken partial file is reported with its path and line: "
	    "%s", result);
	tmpl_partials_free(ps);
	unlink(path);
	rmdir(dir);
}

static void
test_errors(void)
{
	char	 deep[101 * 6 + 1];
	int	 i;

	is_str(html("a\n{{#x}}\nb\n", "{}"),
	    "ERROR: line 2: section \"x\" is not closed",
	    "an unclosed section is reported with the line it opened on");
	is_str(html("{{#a}}\n{{#b}}\n{{/a}}\n{{/b}}", "{}"),
	    "ERROR: line 3: closing tag \"a\" does not match section \"b\" "
	    "opened on line 2", "a mismatched close names both tags");
	is_str(html("x\n\n{{/a}}", "{}"),
	    "ERROR: line 3: closing tag \"a\" has no open section",
	    "a stray closing tag");
	is_str(html("ok\n{{name", "{}"), "ERROR: line 2: tag opened with "
	    "\"{{\" is not closed (expected \"}}\")", "an unclosed tag");
	is_str(html("{{{a}}", "{}"), "ERROR: line 1: tag opened with \"{{\" is "
	    "not closed (expected \"}}}\")", "a triple mustache missing a brace");
	is_str(html("{{=<%=}}", "{}"),
	    "ERROR: line 1: bad set-delimiter tag \"<%\"",
	    "a set-delimiter tag needs two delimiters");
	is_str(html("{{=< % >=}}", "{}"),
	    "ERROR: line 1: bad set-delimiter tag \"< % >\"",
	    "a set-delimiter tag with three parts");
	is_str(html("{{= a= b =}}", "{}"),
	    "ERROR: line 1: bad set-delimiter tag \"a= b\"",
	    "delimiters may not contain =");
	is_str(html("{{}}", "{}"), "ERROR: line 1: empty tag", "an empty tag");
	is_str(html("{{first name}}", "{}"),
	    "ERROR: line 1: bad name \"first name\"", "a name with a space");
	is_str(html("{{a..b}}", "{}"), "ERROR: line 1: bad name \"a..b\"",
	    "a name with an empty part");
	deep[0] = '\0';
	for (i = 0; i < 101; i++)
		strcat(deep, "{{#a}}");
	ok(strstr(html(deep, "{}"), "nested more than 100 deep") != NULL,
	    "sections nested absurdly deep are refused: %s", result);
	ok(tmpl_parse("a\0b", 3, NULL) == NULL, "a NUL byte is refused");
}

static void
test_render_many(void)
{
	struct tmpl	*t;
	json_t		*j;
	struct buf	 out;
	char		 want[64];
	int		 i, good = 1;

	t = tmpl_parse("Dear {{name}},", 14, NULL);
	buf_init(&out);
	for (i = 0; i < 1000 && t != NULL; i++) {
		j = json_pack("{s:i}", "name", i);
		buf_reset(&out);
		if (tmpl_render(t, j, NULL, 1, &out, NULL) == -1)
			good = 0;
		snprintf(want, sizeof want, "Dear %d,", i);
		if (strcmp(out.data, want) != 0)
			good = 0;
		json_decref(j);
	}
	ok(t != NULL && good, "one parsed template renders many times");
	buf_free(&out);
	tmpl_free(t);
	tmpl_free(NULL);
	tmpl_partials_free(NULL);
}

int
main(void)
{
	test_interpolation();
	test_dotted();
	test_sections();
	test_standalone();
	test_delimiters();
	test_partials();
	test_partials_dir();
	test_errors();
	test_render_many();
	return tap_done();
}
