/* The CSV reader and writer, on what spreadsheets really produce. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "clarion.h"
#include "tap.h"

/* Every record of data as "line:f1|f2|..." or "line:ERROR cause", joined by "\n". */
static char *
dump(const char *data, size_t len)
{
	struct csv	*c;
	struct csv_row	 row;
	struct buf	 b;
	char		*cause = NULL;
	size_t		 i;
	int		 rc;

	buf_init(&b);
	if ((c = csv_new(data, len, 0, &cause)) == NULL) {
		buf_addf(&b, "OPEN %s", cause);
		free(cause);
		return buf_steal(&b);
	}
	buf_addf(&b, "sep=%c", csv_sep(c) == '\t' ? 'T' : csv_sep(c));
	while ((rc = csv_next(c, &row, &cause)) != 0) {
		buf_addf(&b, "\n%zu:", row.line);
		if (rc == -1) {
			buf_addf(&b, "ERROR %s", cause);
			free(cause);
			cause = NULL;
			continue;
		}
		for (i = 0; i < row.nfields; i++)
			buf_addf(&b, "%s%s", i ? "|" : "", row.fields[i]);
	}
	csv_free(c);
	return buf_steal(&b);
}

static void
check(const char *name, const char *data, size_t len, const char *want)
{
	char	*got = dump(data, len);

	is_str(got, want, "%s", name);
	free(got);
}
#define CHECK(name, lit, want) check(name, lit, sizeof(lit) - 1, want)

static void
quote(const char *in, char sep, const char *want)
{
	struct buf	 b;
	static int	 n;

	buf_init(&b);
	csv_quote(&b, in, sep);
	buf_addc(&b, '\0');
	is_str(b.data, want, "csv_quote case %d", ++n);
	buf_free(&b);
}

int
main(void)
{
	CHECK("simple", "email,name\na@x.org,Ann\n",
	    "sep=,\n1:email|name\n2:a@x.org|Ann");
	CHECK("no newline at the end", "a,b\n1,2",
	    "sep=,\n1:a|b\n2:1|2");
	CHECK("BOM and CRLF", "\xef\xbb\xbf" "email,name\r\nb@x.org,Bo\r\n",
	    "sep=,\n1:email|name\n2:b@x.org|Bo");
	CHECK("quoted comma and doubled quote",
	    "a,b\n\"Smith, Jo\",\"say \"\"hi\"\"\"\n",
	    "sep=,\n1:a|b\n2:Smith, Jo|say \"hi\"");
	CHECK("a line break in a quoted field counts for the line numbers",
	    "a,b\r\n\"1 High St\r\nLeeds\",x\r\nlast,y\r\n",
	    "sep=,\n1:a|b\n2:1 High St\nLeeds|x\n4:last|y");
	CHECK("semicolons detected from the header",
	    "email;name;ward\nc@x.org;\"Lee, C\";Hillside\n",
	    "sep=;\n1:email|name|ward\n2:c@x.org|Lee, C|Hillside");
	CHECK("a semicolon inside quotes does not count",
	    "\"a;b;c\",d\n1,2\n", "sep=,\n1:a;b;c|d\n2:1|2");
	CHECK("tabs", "email\tname\nd@x.org\tDee\n",
	    "sep=T\n1:email|name\n2:d@x.org|Dee");
	CHECK("blank lines are skipped", "a,b\n\n1,2\r\n\r\n3,4\n\n",
	    "sep=,\n1:a|b\n3:1|2\n5:3|4");
	CHECK("empty fields", "a,b,c\n,,\nx,,\n",
	    "sep=,\n1:a|b|c\n2:||\n3:x||");
	CHECK("lone CR line ends", "a,b\r1,2\r", "sep=,\n1:a|b\n2:1|2");
	CHECK("a quote inside an unquoted field is kept", "a\n5\" screen\n",
	    "sep=,\n1:a\n2:5\" screen");
	CHECK("NUL byte", "a,b\n1,x\0y\n2,z\n",
	    "sep=,\n1:a|b\n2:ERROR a NUL byte (is this really a CSV file?)"
	    "\n3:2|z");
	CHECK("invalid UTF-8", "a,b\n1,caf\xe9\n2,caf\xc3\xa9\n",
	    "sep=,\n1:a|b\n2:ERROR invalid UTF-8 in field 2 (save the file as "
	    "\"CSV UTF-8\")\n3:2|caf\xc3\xa9");
	CHECK("text after a closing quote", "a,b\n\"x\"y,1\n2,3\n",
	    "sep=,\n1:a|b\n2:ERROR text after the closing quote of a field"
	    "\n3:2|3");
	CHECK("spaces after a closing quote are fine", "a,b\n\"x\"  ,1\n",
	    "sep=,\n1:a|b\n2:x|1");
	CHECK("a quote never closed", "a,b\n1,2\n3,\"oops\n4,5\n6,7\n",
	    "sep=,\n1:a|b\n2:1|2\n3:ERROR a quoted field is never closed");
	CHECK("a quote never closed, opened on a later line",
	    "a,b\n\"x\ny\",\"oops\n4,5\n",
	    "sep=,\n1:a|b\n2:ERROR a quoted field opened on line 3 is never "
	    "closed");
	CHECK("UTF-16", "\xff\xfe" "a\0,\0b\0",
	    "OPEN the file is UTF-16; save it as \"CSV UTF-8\"");
	CHECK("empty file", "", "sep=,");

	ok(utf8_valid("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14),
	    "valid UTF-8 (2, 3 and 4 byte forms)");
	ok(!utf8_valid("\xc0\x80", 2), "overlong NUL refused");
	ok(!utf8_valid("\xe0\x80\xaf", 3), "overlong 3-byte form refused");
	ok(!utf8_valid("\xed\xa0\x80", 3), "surrogate refused");
	ok(!utf8_valid("\xf4\x90\x80\x80", 4), "above U+10FFFF refused");
	ok(!utf8_valid("\xe2\x82", 2), "truncated sequence refused");
	ok(!utf8_valid("\x80", 1), "stray continuation byte refused");

	quote("plain", ',', "plain");
	quote("Smith, Jo", ',', "\"Smith, Jo\"");
	quote("Smith, Jo", ';', "Smith, Jo");
	quote("say \"hi\"", ',', "\"say \"\"hi\"\"\"");
	quote("two\nlines", ',', "\"two\nlines\"");
	quote("=HYPERLINK(\"http://evil\")", ',',
	    "\"'=HYPERLINK(\"\"http://evil\"\")\"");
	quote("=1+2", ',', "'=1+2");
	quote("+44 113 000", ',', "'+44 113 000");
	quote("-5", ',', "'-5");
	quote("@SUM(A1)", ',', "'@SUM(A1)");
	quote(" padded", ',', "\" padded\"");
	quote("", ',', "");
	return tap_done();
}
