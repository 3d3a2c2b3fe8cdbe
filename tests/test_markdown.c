/* Markdown to HTML (safe) and to plain text for the text part. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "clarion.h"
#include "tap.h"

static char	 res[16384];

static const char *
html(const char *md)
{
	struct buf	 b;

	buf_init(&b);
	if (md_to_html(md, &b) == -1)
		snprintf(res, sizeof res, "ERROR");
	else
		snprintf(res, sizeof res, "%s", b.data);
	buf_free(&b);
	return res;
}

static const char *
text(const char *md)
{
	struct buf	 b;

	buf_init(&b);
	if (md_to_text(md, &b) == -1)
		snprintf(res, sizeof res, "ERROR");
	else
		snprintf(res, sizeof res, "%s", b.data);
	buf_free(&b);
	return res;
}

static int
max_width(const char *s)
{
	int	 w = 0, max = 0;

	for (; *s != '\0'; s++) {
		if (*s == '\n') {
			w = 0;
			continue;
		}
		if (((unsigned char)*s & 0xc0) != 0x80 && ++w > max)
			max = w;
	}
	return max;
}

#define P	"<p style=\"margin:0 0 16px;\">"
#define A	"<a style=\"color:#0b57d0;text-decoration:underline;\" "

static void
test_html(void)
{
	is_str(html("# Strike\n\nWalk out at *six*, **all** of us.\n"),
	    "<h2>Strike</h2>\n" P "Walk out at <em>six</em>, <strong>all"
	    "</strong> of us.</p>\n", "headings one level down, emphasis and "
	    "paragraphs");
	is_str(html("Hi <script>alert(1)</script> there\n\n<div onclick=x>"
	    "raw</div>\n"), P "Hi <!-- raw HTML omitted -->alert(1)<!-- raw "
	    "HTML omitted --> there</p>\n<!-- raw HTML omitted -->\n",
	    "raw HTML, inline or block, is dropped");
	is_str(html("[click](javascript:alert(1)) [x](vbscript:y) "
	    "[ok](https://example.org/a?b=1&c=2)\n"),
	    P A "href=\"\">click</a> " A "href=\"\">x</a> "
	    A "href=\"https://example.org/a?b=1&amp;c=2\">ok</a></p>\n",
	    "javascript: and vbscript: links lose their target");
	is_str(html("- a\n- b\n"), "<ul style=\"margin:0 0 16px;padding:0 0 "
	    "0 24px;\">\n<li>a</li>\n<li>b</li>\n</ul>\n", "lists");
	is_str(html("Fish & chips < £5\n"), P "Fish &amp; chips &lt; £5</p>\n",
	    "text is escaped, UTF-8 kept");
	is_str(html("Say <img src=x> and <td>\n"), P "Say <!-- raw HTML "
	    "omitted --> and <!-- raw HTML omitted --></p>\n",
	    "tags typed in the text are dropped, not styled");
	is_str(html("`<img src=x>`\n"), P "<code>&lt;img src=x&gt;</code>"
	    "</p>\n", "and code showing a tag stays text");
	is_str(html("![Picket](https://example.org/p.jpg)\n"), P "<img "
	    "width=\"560\" style=\"display:block;max-width:100%;height:auto;"
	    "border:0;\" src=\"https://example.org/p.jpg\" alt=\"Picket\" />"
	    "</p>\n", "an image shrinks to the column and has a width");
	ok(strstr(html("| Ward | Turnout |\n|---|--:|\n| Hill | 41% |\n"),
	    "<table style=\"border-collapse:collapse;width:100%;") != NULL &&
	    strstr(res, "<td style=\"border:1px solid #cccccc;padding:6px 8px;"
	    "vertical-align:top;\" align=\"right\">41%</td>") != NULL &&
	    strstr(res, "<thead>") != NULL, "tables (GFM), styled cells");
	is_str(html("~~old~~ new, www.example.org\n"), P "<del>old</del> new, "
	    A "href=\"http://www.example.org\">www.example.org</a></p>\n",
	    "strikethrough and autolinks (GFM)");
	is_str(html("###### Six\n"), "<h6>Six</h6>\n",
	    "a sixth-level heading stays at six");
}

static void
test_text(void)
{
	is_str(text("| Ward | Turnout |\n|---|--:|\n| Hill | 41% |\n"),
	    "Ward | Turnout\n--------------\nHill | 41%\n",
	    "a table in text: rows of cells, the header underlined");
	is_str(text("~~old~~ new\n"), "old new\n",
	    "strikethrough in text: the words");
	is_str(text("# Weekly bulletin\n\n## Pickets\n\n### Gate A\n\nText.\n"),
	    "Weekly bulletin\n===============\n\nPickets\n-------\n\nGate A\n\n"
	    "Text.\n", "headings underlined (level 1 and 2) or plain");
	is_str(text("Walk out at *six*, **all** of us, `now`.\n"),
	    "Walk out at six, all of us, now.\n",
	    "emphasis and code without markup");
	is_str(text("See [the result](https://example.org/ballot) or "
	    "<https://example.org/x> or <sec@example.org>.\n"),
	    "See the result <https://example.org/ballot> or "
	    "<https://example.org/x>\nor <mailto:sec@example.org>.\n",
	    "links as text <url>, autolinks once");
	is_str(text("[click](javascript:alert(1)) here\n"), "click here\n",
	    "a javascript: link keeps only its words");
	is_str(text("- Gate A, 6am\n- Gate B\n  with tea\n\n1. First\n2. Second\n"
	    "\nThen:\n\n7. Seventh\n8. Eighth\n"),
	    "- Gate A, 6am\n- Gate B with tea\n\n1. First\n2. Second\n\n"
	    "Then:\n\n7. Seventh\n8. Eighth\n",
	    "bullet and numbered lists, numbers from the start given");
	is_str(text("- one\n\n  more about one\n- two\n"),
	    "- one\n\n  more about one\n\n- two\n",
	    "a loose list item's paragraphs line up under the text");
	is_str(text("- outer\n  - inner\n"), "- outer\n  - inner\n",
	    "nested lists indent");
	is_str(text("> Solidarity\n> forever.\n"), "> Solidarity forever.\n",
	    "block quotes keep their >");
	is_str(text("Hi <b>there</b>\n\n<div>gone</div>\n\nEnd\n"),
	    "Hi there\n\nEnd\n", "no raw HTML in the text part");
	is_str(text("    code  line\n"), "    code  line\n",
	    "code blocks kept as they are");
	is_str(text("one  \ntwo\n"), "one\ntwo\n", "hard line breaks kept");
	is_str(text("a\n\n---\n\nb\n"),
	    "a\n\n----------------------------------------\n\nb\n",
	    "thematic break");
	text("Members of the union at the depot will walk out on Monday and "
	    "Tuesday, with accents café naïve £5 and more words to pass the "
	    "seventy-two column limit several times over in one paragraph.\n");
	ok(max_width(res) <= 72 && strchr(res, '\n') != strrchr(res, '\n'),
	    "paragraphs wrap at 72 columns, counting characters not bytes");
	text("https://example.org/a/very/long/url/that/cannot/be/broken/at/all"
	    "/because/it/has/no/spaces/whatsoever/in/it\n");
	ok(strchr(res, '\n') == res + strlen(res) - 1,
	    "a word longer than a line is not broken");
	is_str(text(""), "", "empty input, empty output");
}

int
main(void)
{
	test_html();
	test_text();
	return tap_done();
}
