/*
 * mime_build: exact bytes for small cases, folding and encoding rules, and
 * refusals. tests/mime.sh reads whole messages back with Python's email
 * package; this file pins what we write.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "clarion.h"
#include "tap.h"

static char	 got[65536];

static void
base(struct message *m)
{
	memset(m, 0, sizeof *m);
	m->from_name = "Hillside CLP";
	m->from_addr = "news@example.org";
	m->to_name = "Sam Member";
	m->to_addr = "sam@example.net";
	m->subject = "Strike on Monday";
	m->message_id = "d1.r2@example.org";
	m->date = 1765152000;	/* Mon, 08 Dec 2025 00:00:00 +0000 */
	m->text = "Hello\n";
	m->boundary_seed = "seed";
}

/* Builds m; returns the message, or "ERROR: cause". */
static const char *
build(const struct message *m)
{
	struct buf	 out;
	char		*cause;

	buf_init(&out);
	if (mime_build(m, &out, &cause) == -1) {
		snprintf(got, sizeof got, "ERROR: %s", cause);
		free(cause);
	} else
		snprintf(got, sizeof got, "%s", out.data);
	buf_free(&out);
	return got;
}

/* The value of the first header called name, folds kept. */
static const char *
header(const char *msg, const char *name)
{
	static char	 v[4096];
	const char	*s = msg, *e;
	size_t		 n = strlen(name);

	for (;;) {
		if (strncasecmp(s, name, n) == 0 && s[n] == ':') {
			s += n + 2;
			for (e = s; !(e[0] == '\r' && e[2] != ' ' &&
			    e[2] != '\t'); e++)
				;
			snprintf(v, sizeof v, "%.*s", (int)(e - s), s);
			return v;
		}
		if ((s = strstr(s, "\r\n")) == NULL || s[2] == '\r')
			return "(none)";
		s += 2;
	}
}

static const char *
body(const char *msg)
{
	const char	*b = strstr(msg, "\r\n\r\n");

	return b != NULL ? b + 4 : "(none)";
}

static int
max_line(const char *s, const char *end)
{
	const char	*nl;
	int		 max = 0;

	for (; s < end && (nl = strstr(s, "\r\n")) != NULL; s = nl + 2)
		if (nl - s > max)
			max = (int)(nl - s);
	return max;
}

static void
test_simple(void)
{
	struct message	 m;

	base(&m);
	is_str(build(&m),
	    "Date: Mon, 08 Dec 2025 00:00:00 +0000\r\n"
	    "From: Hillside CLP <news@example.org>\r\n"
	    "To: Sam Member <sam@example.net>\r\n"
	    "Subject: Strike on Monday\r\n"
	    "Message-ID: <d1.r2@example.org>\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=\"UTF-8\"\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n"
	    "\r\n"
	    "Hello\r\n", "a text-only message is one text/plain part");
	m.html = "<p>Hello</p>";
	build(&m);
	is_str(header(got, "Content-Type"), "multipart/alternative; "
	    "boundary=\"=_clarion_2cfad118d3ecc02c_0\"",
	    "with HTML: multipart/alternative, boundary from the seed");
	ok(strstr(got, "\r\n--=_clarion_2cfad118d3ecc02c_0\r\n"
	    "Content-Type: text/plain; charset=\"UTF-8\"\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\nHello\r\n\r\n"
	    "--=_clarion_2cfad118d3ecc02c_0\r\n"
	    "Content-Type: text/html; charset=\"UTF-8\"\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
	    "<p>Hello</p>=\r\n\r\n--=_clarion_2cfad118d3ecc02c_0--\r\n") !=
	    NULL, "text then HTML, each quoted-printable UTF-8");
	m.ics = "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n";
	m.ics_method = "REQUEST";
	ok(strstr(build(&m), "Content-Type: text/calendar; charset=\"UTF-8\"; "
	    "method=\"REQUEST\"\r\n") != NULL &&
	    strstr(got, "multipart/alternative") != NULL,
	    "an invite adds text/calendar with its method to the alternative");
	m.boundary_seed = "other";
	ok(strstr(build(&m), "2cfad118d3ecc02c") == NULL,
	    "another seed, another boundary");
}

static void
test_headers(void)
{
	struct message	 m;

	base(&m);
	m.reply_to = "reply+tok@example.org";
	m.list_id = "Members <members.example.org>";
	m.list_unsubscribe = "<mailto:unsubscribe+TOKEN@example.org>, "
	    "<https://example.org/u/TOKEN>";
	m.one_click = m.bulk = m.test = 1;
	m.auto_submitted = "auto-generated";
	m.in_reply_to = "orig@example.com";
	m.references = "a@example.com orig@example.com";
	build(&m);
	is_str(header(got, "Reply-To"), "<reply+tok@example.org>", "Reply-To");
	is_str(header(got, "List-Id"), "Members <members.example.org>",
	    "List-Id");
	is_str(header(got, "List-Unsubscribe"),
	    "<mailto:unsubscribe+TOKEN@example.org>,\r\n"
	    " <https://example.org/u/TOKEN>",
	    "List-Unsubscribe folded after the comma");
	is_str(header(got, "List-Unsubscribe-Post"),
	    "List-Unsubscribe=One-Click", "RFC 8058 one-click");
	is_str(header(got, "Precedence"), "bulk", "Precedence: bulk");
	is_str(header(got, "Auto-Submitted"), "auto-generated",
	    "Auto-Submitted");
	is_str(header(got, "X-Clarion-Test"), "yes", "test marker");
	is_str(header(got, "In-Reply-To"), "<orig@example.com>", "In-Reply-To");
	is_str(header(got, "References"), "<a@example.com> <orig@example.com>",
	    "References");
	m.one_click = 0;
	m.list_unsubscribe = NULL;
	m.bulk = m.test = 0;
	build(&m);
	ok(strstr(got, "List-Unsubscribe") == NULL &&
	    strstr(got, "Precedence") == NULL &&
	    strstr(got, "X-Clarion-Test") == NULL, "optional headers only "
	    "when asked for");
}

static void
test_encoding(void)
{
	struct message	 m;
	const char	*s, *e;
	int		 longest = 0;

	base(&m);
	m.subject = "Grève à Hillside";
	m.to_name = "Zoë";
	build(&m);
	is_str(header(got, "Subject"), "=?UTF-8?Q?Gr=C3=A8ve_=C3=A0_Hillside?=",
	    "non-ASCII subject as a Q encoded word");
	is_str(header(got, "To"), "=?UTF-8?Q?Zo=C3=AB?= <sam@example.net>",
	    "non-ASCII display name encoded");
	m.subject = "🚩🚩🚩🚩🚩🚩🚩🚩🚩🚩🚩🚩🚩🚩🚩🚩🚩🚩🚩🚩";
	build(&m);
	is_str(header(got, "Subject"),
	    "=?UTF-8?B?8J+aqfCfmqnwn5qp8J+aqfCfmqnwn5qp8J+aqfCfmqnwn5qp8J+aqfCfmqk=?=\r\n"
	    " =?UTF-8?B?8J+aqfCfmqnwn5qp8J+aqfCfmqnwn5qp8J+aqfCfmqnwn5qp?=",
	    "emoji: B words of whole characters, each within 75");
	for (s = strstr(got, "=?"); s != NULL; s = strstr(e, "=?")) {
		e = strstr(s + 2, "?=") + 2;
		e = strstr(e - 2, "?=") + 2;
		if (e - s > longest)
			longest = (int)(e - s);
	}
	ok(longest <= 75 && longest > 0, "no encoded word over 75 (%d)",
	    longest);
	m.subject = "Notes from the branch meeting on the national ballot, "
	    "the picket rota, the hardship fund and the social on Friday";
	build(&m);
	is_str(header(got, "Subject"), "Notes from the branch meeting on the "
	    "national ballot, the picket\r\n rota, the hardship fund and the "
	    "social on Friday", "a long ASCII subject folds at a space");
	m.subject = "Look =?UTF-8?Q?x?= here";
	build(&m);
	ok(strncmp(header(got, "Subject"), "=?UTF-8?Q?Look_=3D=3FUTF-8", 26) ==
	    0, "text that looks like an encoded word is encoded: %s",
	    header(got, "Subject"));
	m.subject = "Hi";
	m.from_name = "Smith, Jo \"the rep\"";
	build(&m);
	is_str(header(got, "From"), "\"Smith, Jo \\\"the rep\\\"\" "
	    "<news@example.org>", "specials in a name: a quoted string");
}

static void
test_quoted_printable(void)
{
	struct message	 m;
	char		 line[200];

	base(&m);
	memset(line, 'a', 100);
	strcpy(line + 100, "\n");
	m.text = line;
	build(&m);
	is_str(body(got), "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaa=\r\naaaaaaaaaaaaaaaaaaaaaaaaa\r\n",
	    "a long line gets a soft break, no line over 76");
	m.text = "tab\t\nspace \n= sign\nFrom the chair\n.\ncafé £5";
	build(&m);
	is_str(body(got), "tab=09\r\nspace=20\r\n=3D sign\r\n=46rom the "
	    "chair\r\n=2E\r\ncaf=C3=A9 =C2=A35=\r\n",
	    "trailing blanks, =, From, a lone dot, UTF-8 and no final newline");
	m.text = "unix\nmac\rdos\r\n";
	build(&m);
	is_str(body(got), "unix\r\nmac\r\ndos\r\n", "any line end becomes CRLF");
	ok(max_line(got, got + strlen(got)) <= 76, "lines within 76");
}

static void
test_injection(void)
{
	struct message	 m;

	base(&m);
	m.subject = "Hi\r\nBcc: victim@example.com";
	m.from_name = "Evil\nX-Injected: yes";
	build(&m);
	is_str(header(got, "Subject"), "Hi Bcc: victim@example.com",
	    "CR LF in the subject become a space");
	is_str(header(got, "From"), "\"Evil X-Injected: yes\" "
	    "<news@example.org>", "and in a display name");
	ok(strstr(got, "\r\nBcc:") == NULL && strstr(got, "\r\nX-Injected") ==
	    NULL, "no header was added");
	base(&m);
	m.to_addr = "sam@example.net\r\nBcc: victim@example.com";
	is_str(build(&m), "ERROR: To: bad address \"sam@example.net\r\nBcc: "
	    "victim@example.com\"", "CR LF in an address is refused");
	base(&m);
	m.list_unsubscribe = "<mailto:u@example.org>\nX-Evil: 1";
	is_str(build(&m), "ERROR: List-Unsubscribe holds a control or "
	    "non-ASCII character (0x0a)", "in List-Unsubscribe too");
	base(&m);
	m.message_id = "a b@example.org";
	ok(strncmp(build(&m), "ERROR: Message-ID", 17) == 0,
	    "a message id with a space is refused");
	base(&m);
	m.references = "ok@example.org\r\nX-Evil: 1";
	ok(strncmp(build(&m), "ERROR: References", 17) == 0,
	    "References with CR LF is refused");
	base(&m);
	m.list_id = "Members <members.example.org>\r\nX-Evil: 1";
	ok(strncmp(build(&m), "ERROR: List-Id", 14) == 0, "and List-Id");
	base(&m);
	m.auto_submitted = "auto-generated\r\nX-Evil: 1";
	ok(strncmp(build(&m), "ERROR: Auto-Submitted", 21) == 0,
	    "Auto-Submitted takes known values only");
	base(&m);
	m.text = "--=_clarion_2cfad118d3ecc02c_0\n";
	m.html = "--=_clarion_2cfad118d3ecc02c_0--\n";
	build(&m);
	ok(strstr(got, "\r\n--=_clarion_2cfad118d3ecc02c_0\r\nContent-Type: "
	    "text/plain") != NULL && strstr(got, "\r\n\r\n"
	    "--=3D_clarion_2cfad118d3ecc02c_0\r\n\r\n") != NULL &&
	    strstr(got, "\r\n--=3D_clarion_2cfad118d3ecc02c_0--\r\n") != NULL,
	    "a boundary in the content is QP-encoded (=3D) and cannot match");
}

static void
test_errors(void)
{
	struct message	 m;

	base(&m);
	m.text = NULL;
	is_str(build(&m), "ERROR: a message needs a text part",
	    "the text part is required");
	base(&m);
	m.ics = "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n";
	is_str(build(&m), "ERROR: a calendar part needs the method REQUEST, "
	    "CANCEL or PUBLISH", "an invite needs its method");
	base(&m);
	m.from_addr = "not an address";
	is_str(build(&m), "ERROR: From: bad address \"not an address\"",
	    "a bad From address");
	base(&m);
	m.to_addr = "jose@exämple.org";
	ok(strncmp(build(&m), "ERROR: To: bad address", 22) == 0,
	    "a non-ASCII address is refused (IDN must be punycode first)");
}

int
main(void)
{
	test_simple();
	test_headers();
	test_encoding();
	test_quoted_printable();
	test_injection();
	test_errors();
	return tap_done();
}
