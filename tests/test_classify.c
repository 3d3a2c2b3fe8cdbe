/*
 * Inbound classification: every message in tests/data/inbound against
 * expected.tsv, then the pieces (reply text, unsubscribe intent, HTML,
 * hard/soft rules, loop protection) on their own.
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clarion.h"
#include "tap.h"

static const struct classify_opts opts = {
	"example.org", "bounces", "reply", "unsubscribe", '+', 10 * 1024 * 1024
};

static char corpus[4096];

static const char *
dash(const char *s)
{
	return s == NULL || *s == '\0' ? "-" : s;
}

static int
classify_file(const char *name, struct classify_result *r)
{
	char	 path[4200], *data, *cause = NULL;
	size_t	 len;

	snprintf(path, sizeof(path), "%s/%s", corpus, name);
	if ((data = file_read(path, &len, &cause)) == NULL) {
		printf("# %s\n", cause);
		free(cause);
		memset(r, 0, sizeof(*r));
		return -1;
	}
	classify_message(data, len, &opts, r);
	free(data);
	return 0;
}

/* One expected.tsv line: file class recipient status token purpose. */
static void
check_line(char *line)
{
	char			*f[6], *save = NULL, purpose[2] = "-";
	struct classify_result	 r;
	int			 n = 0;

	for (char *t = strtok_r(line, "\t\n", &save); t != NULL && n < 6;
	    t = strtok_r(NULL, "\t\n", &save))
		f[n++] = t;
	if (n != 6) {
		ok(0, "expected.tsv line has 6 fields");
		return;
	}
	if (classify_file(f[0], &r) == -1) {
		ok(0, "%s: readable", f[0]);
		return;
	}
	if (r.token_purpose != 0)
		purpose[0] = (char)r.token_purpose;
	is_str(inbound_class_name(r.class), f[1], "%s: class", f[0]);
	is_str(dash(r.recipient), f[2], "%s: recipient", f[0]);
	is_str(dash(r.status), f[3], "%s: status", f[0]);
	is_str(dash(r.token), f[4], "%s: token", f[0]);
	is_str(purpose, f[5], "%s: token purpose", f[0]);
	ok(r.reason != NULL && strchr(r.reason, '\n') == NULL,
	    "%s: one-line reason", f[0]);
	classify_result_free(&r);
}

/* Returns the number of files listed. */
static int
check_corpus(char *listed, size_t listed_len)
{
	char	 path[4200], line[2048];
	FILE	*fp;
	int	 n = 0;

	snprintf(path, sizeof(path), "%s/expected.tsv", corpus);
	if ((fp = fopen(path, "r")) == NULL) {
		ok(0, "open %s", path);
		return 0;
	}
	listed[0] = '\0';
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (strlen(listed) + strcspn(line, "\t") + 2 < listed_len) {
			strncat(listed, line, strcspn(line, "\t"));
			strcat(listed, "/");
		}
		check_line(line);
		n++;
	}
	fclose(fp);
	return n;
}

/* Every .eml file in the corpus must have an expectation. */
static void
check_all_listed(const char *listed)
{
	DIR		*d;
	struct dirent	*de;
	char		 key[512];
	size_t		 l;
	int		 missing = 0;

	if ((d = opendir(corpus)) == NULL) {
		ok(0, "opendir %s", corpus);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		l = strlen(de->d_name);
		if (l < 4 || strcmp(de->d_name + l - 4, ".eml") != 0)
			continue;
		snprintf(key, sizeof(key), "/%s/", de->d_name);
		if (strstr(listed, key) == NULL &&
		    strncmp(listed, key + 1, strlen(key + 1)) != 0) {
			printf("# not in expected.tsv: %s\n", de->d_name);
			missing++;
		}
	}
	closedir(d);
	is_int(missing, 0, "every corpus message has an expectation");
}

static void
test_fields(void)
{
	struct classify_result	 r;

	classify_file("reply-latin1-qp.eml", &r);
	is_str(r.from, "rene@isp.test", "From address");
	is_str(r.from_name, "Ren\xc3\xa9 Dupr\xc3\xa9",
	    "From name decoded from ISO-8859-1 encoded word");
	is_str(r.new_text, "Merci, je serai l\xc3\xa0 jeudi avec "
	    "Ren\xc3\xa9" "e.", "QP Latin-1 body to UTF-8, French attribution cut");
	is_str(r.in_reply_to, "d2001.ab3cd5ef7gh2ij4k@example.org",
	    "In-Reply-To without brackets");
	is_str(r.message_id, "reply-latin1-qp@isp.test", "Message-ID");
	ok(!r.no_reply, "a human reply may be answered");
	classify_result_free(&r);

	classify_file("vacation-fr-encoded-subject.eml", &r);
	is_str(r.subject, "R\xc3\xa9ponse automatique : Hillside ward "
	    "newsletter", "RFC 2047 subject decoded");
	ok(r.no_reply, "auto-reply is never answered");
	classify_result_free(&r);

	classify_file("reply-base64-iphone.eml", &r);
	is_str(r.new_text, "I'll bring the flask and 50 leaflets. See you "
	    "there \xf0\x9f\x91\x8d", "base64 body, iPhone trailer cut");
	classify_result_free(&r);

	classify_file("reply-html-only.eml", &r);
	is_str(r.new_text, "Count me in for Saturday's stall! & I can bring "
	    "a table.", "HTML-only reply: text without the quoted block");
	classify_result_free(&r);

	classify_file("reply-wrong-charset.eml", &r);
	ok(r.new_text != NULL && strstr(r.new_text, "late.") != NULL,
	    "unknown charset still gives text");
	classify_result_free(&r);

	classify_file("postfix-real-5.1.1-user-unknown.eml", &r);
	is_str(r.original_message_id, "d1001.ab3cd5ef7gh2ij4k@example.org",
	    "original Message-ID from the returned message");
	is_str(r.reason, "unknown user: \"nosuchmember\"",
	    "reason from Diagnostic-Code without its type");
	ok(r.no_reply, "a bounce is never answered");
	classify_result_free(&r);

	classify_file("qmail-5.1.1.eml", &r);
	is_str(r.original_message_id, "d2001.ab3cd5ef7gh2ij4k@example.org",
	    "original Message-ID from a bounce that quotes it as text");
	classify_result_free(&r);

	classify_file("reply-own-domain-loop.eml", &r);
	ok(r.no_reply, "mail from our own domain is never answered");
	classify_result_free(&r);

	classify_file("garbage-deep-comment-nesting.eml", &r);
	is_str(r.from, "jo.member@isp.test",
	    "200,000 nested comments: no stack overflow, sender still read");
	classify_result_free(&r);

	classify_file("unsubscribe-empty-body.eml", &r);
	ok(!r.no_reply, "unsubscribe by mail gets its confirmation");
	classify_result_free(&r);
}

static void
test_limits(void)
{
	struct classify_opts	 small = opts;
	struct classify_result	 r;
	const char		*msg = "From: a@isp.test\r\nSubject: x\r\n\r\n"
	    "unsubscribe\r\n";

	small.max_size = 10;
	is_int(classify_message(msg, strlen(msg), &small, &r), 0,
	    "too large: still succeeds");
	is_int(r.class, INBOUND_UNKNOWN, "too large: unknown");
	is_str(r.reason, "too large", "too large: reason");
	classify_result_free(&r);
	is_int(classify_message(NULL, 0, &opts, &r), -1, "NULL data refused");
	classify_result_free(&r);
	is_int(classify_message(msg, strlen(msg), &opts, &r), 0, "small ok");
	is_int(r.class, INBOUND_UNSUBSCRIBE, "bare 'unsubscribe' body");
	classify_result_free(&r);
	classify_result_free(NULL);
	ok(1, "classify_result_free(NULL) is safe");
}

static void
classify_str(const char *msg, struct classify_result *r)
{
	classify_message(msg, strlen(msg), &opts, r);
}

static void
test_inline(void)
{
	struct classify_result	 r;

	classify_str("From: jo@isp.test\nTo: reply+tok1@example.org\n"
	    "Auto-Submitted: no\nSubject: Re: news\n\nSee you Thursday\n", &r);
	is_str(inbound_class_name(r.class), "reply", "Auto-Submitted: no is human");
	classify_result_free(&r);
	classify_str("From: jo@isp.test\nTo: reply+tok1@example.org\n"
	    "Precedence: bulk\nSubject: Re: news\n\nSee you Thursday\n", &r);
	is_str(inbound_class_name(r.class), "reply",
	    "Precedence: bulk without a vacation subject is human");
	classify_result_free(&r);
	classify_str("From: jo@isp.test\nTo: bounces+tok2@example.org\n"
	    "Subject: Out of Office\n\nI am away.\n", &r);
	is_str(inbound_class_name(r.class), "auto-reply",
	    "vacation reply sent to the bounce address");
	is_str(r.token, "tok2", "its bounce token");
	is_int(r.token_purpose, 'b', "with purpose b");
	classify_result_free(&r);
	classify_str("From: jo@isp.test\nTo: news@example.org\n"
	    "Delivered-To: unsubscribe+tok3@example.org\n"
	    "Auto-Submitted: auto-generated\nSubject: unsubscribe\n\n", &r);
	is_str(inbound_class_name(r.class), "unsubscribe",
	    "Delivered-To unsubscribe+TOKEN, even automatic");
	is_str(r.token, "tok3", "its token");
	ok(r.no_reply, "but no confirmation to a robot");
	classify_result_free(&r);
	classify_str("From: jo@isp.test\nTo: Reply <REPLY+Tok4@Example.ORG>\n"
	    "Subject: Re: x\n\nUnsubscribe.\n", &r);
	is_str(inbound_class_name(r.class), "unsubscribe",
	    "local part and domain match case-insensitively");
	is_str(r.token, "Tok4", "token kept as it appeared");
	classify_result_free(&r);
	classify_str("From: jo@isp.test\nTo: xreply+tok5@example.org, "
	    "reply+tok5@example.org.evil.test\nSubject: Re: x\n\nHi\n", &r);
	ok(r.token == NULL, "no token from look-alike addresses");
	classify_result_free(&r);
}

static void
reply_is(const char *in, const char *want, const char *what)
{
	char	*got = classify_reply_text(in);

	is_str(got, want, "reply text: %s", what);
	free(got);
}

static void
test_reply_text(void)
{
	reply_is("Yes, count me in.\n\nOn Mon, 7 Dec 2026 at 10:00, Hillside "
	    "CLP <news@example.org> wrote:\n> unsubscribe\n",
	    "Yes, count me in.", "one-line attribution");
	reply_is("Yes.\nOn Mon, 7 Dec 2026 at 10:00, Hillside CLP\n"
	    "<news@example.org> wrote:\n> hi\n", "Yes.",
	    "attribution split over two lines");
	reply_is("Top\n> quoted\nInline answer\n> more\n", "Top\nInline answer",
	    "inline replies keep the member's lines");
	reply_is("Fine\r\n-- \r\nJo Bloggs\r\nBranch secretary\r\n", "Fine",
	    "signature after '-- ' with CRLF");
	reply_is("Fine\n--\nJo\n", "Fine", "signature after '--'");
	reply_is("Noted\n\n-----Original Message-----\nFrom: x\n", "Noted",
	    "Outlook original message marker");
	reply_is("OK\n\nFrom: Hillside CLP <news@example.org>\nSent: Monday\n"
	    "To: me\n", "OK", "Outlook From/Sent header block");
	reply_is("D'accord\n\nLe lun. 7 d\xc3\xa9" "c. 2026 \xc3\xa0 10:00, "
	    "Hillside <news@example.org> a \xc3\xa9" "crit :\n> x\n",
	    "D'accord", "French attribution");
	reply_is("Gut\n\nAm 07.12.2026 um 10:00 schrieb Hillside CLP "
	    "<news@example.org>:\n> x\n", "Gut", "German attribution");
	reply_is("On my way\n\nSent from my iPhone\n", "On my way",
	    "phone trailer");
	reply_is("From: the heart, I agree.\nThanks\n",
	    "From: the heart, I agree.\nThanks",
	    "a line starting From: alone is not a quote header");
	reply_is("> all quoted\n> nothing new\n", "", "only quotes");
}

static void
intent_is(const char *text, int want)
{
	char	*d = xstrdup(text);

	for (char *p = d; *p != '\0'; p++)
		if (*p == '\n')
			*p = '|';	/* TAP descriptions are one line */
	is_int(classify_unsubscribe_intent(text), want, "intent %d: \"%s\"",
	    want, d);
	free(d);
}

static void
test_intent(void)
{
	intent_is("unsubscribe", 1);
	intent_is("Unsubscribe please", 1);
	intent_is("UNSUBSCRIBE!!!", 1);
	intent_is("Please unsubscribe me.", 1);
	intent_is("please unsubscribe me from this list, thanks", 1);
	intent_is("Remove me", 1);
	intent_is("Could you please remove me from this mailing list?", 1);
	intent_is("Take me off your list", 1);
	intent_is("opt out", 1);
	intent_is("STOP", 1);
	intent_is("Stop sending me these emails", 1);
	intent_is("No more emails please", 1);
	intent_is("Hi Sam, please unsubscribe me. Thanks, Mary Jones", 1);
	intent_is("Please unsubscribe me\n\nMary", 1);
	intent_is("Bitte abmelden", 1);
	intent_is("Should I unsubscribe my husband?", 0);
	intent_is("Please don't unsubscribe me", 0);
	intent_is("Stop the cuts!", 0);
	intent_is("Unsubscribe my husband, he has moved to Leeds", 0);
	intent_is("I can't make Thursday, sorry", 0);
	intent_is("", 0);
	intent_is("I saw the note about how to unsubscribe but please keep "
	    "sending these, they are great and my whole street reads them "
	    "now, thank you all for the work you do for the branch", 0);
}

static void
html_is(const char *in, int strip, const char *want, const char *what)
{
	char	*got = classify_html_to_text(in, strlen(in), strip);

	is_str(got, want, "html: %s", what);
	free(got);
}

static void
test_html(void)
{
	html_is("<p>One</p><p>Two &amp; three</p>", 0, "One\n\nTwo & three",
	    "paragraphs and entities");
	html_is("<style>x{}</style><script>alert(1)</script>Hi&#33; &#x41;",
	    0, "Hi! A", "script/style dropped, numeric entities");
	html_is("Yes<br><blockquote>unsubscribe</blockquote>", 1, "Yes",
	    "blockquote cut when stripping quotes");
	html_is("Yes<br><blockquote>no</blockquote>", 0, "Yes\n\nno",
	    "blockquote kept otherwise");
	html_is("<b>unterminated", 0, "unterminated", "unterminated tag");
	html_is("a &bogus; b <", 0, "a &bogus; b", "unknown entity, stray <");
}

static void
test_hard_soft(void)
{
	is_int(dsn_is_hard("5.1.1", NULL), 1, "5.1.1 hard");
	is_int(dsn_is_hard("5.1.2", NULL), 1, "5.1.2 hard");
	is_int(dsn_is_hard("5.1.10", NULL), 1, "5.1.10 hard");
	is_int(dsn_is_hard("5.1.6", NULL), 1, "5.1.6 hard");
	is_int(dsn_is_hard("5.1.0", "550 user unknown"), 1,
	    "5.1.0 with user unknown hard");
	is_int(dsn_is_hard("5.1.0", "550 sender denied"), 0,
	    "5.1.0 otherwise soft");
	is_int(dsn_is_hard("5.2.2", "user unknown"), 0,
	    "5.2.2 soft whatever the text");
	is_int(dsn_is_hard("5.2.1", NULL), 0, "5.2.1 soft");
	is_int(dsn_is_hard("5.7.1", "554 5.7.1 rejected"), 0,
	    "5.7.1 soft");
	is_int(dsn_is_hard("5.3.4", NULL), 0, "5.3.4 soft");
	is_int(dsn_is_hard("4.4.7", "user unknown"), 0,
	    "4.x soft");
	is_int(dsn_is_hard("5.1.8", NULL), 0,
	    "5.1.8 (our sender domain) soft");
	is_int(dsn_is_hard(NULL, "550 No such user here"), 1,
	    "text only: no such user hard");
	is_int(dsn_is_hard(NULL, "Unrouteable address"), 1,
	    "text only: unrouteable hard");
	is_int(dsn_is_hard(NULL, "450 mailbox does not exist"),
	    0, "text only 4xx soft");
	is_int(dsn_is_hard(NULL, "552 mailbox over quota"), 0,
	    "text only: quota soft");
	is_int(dsn_is_hard(NULL, "connection timed out"), 0,
	    "text only: unknown soft");
}

static void
test_loop(void)
{
	struct classify_result	 r;

	memset(&r, 0, sizeof(r));
	r.class = INBOUND_REPLY;
	r.from = (char *)"jo@isp.test";
	r.message_id = (char *)"abc@isp.test";
	is_int(classify_is_loop(&r, "example.org"), 0, "plain reply");
	r.message_id = (char *)"abc@mail.example.org";
	is_int(classify_is_loop(&r, "example.org"), 1,
	    "our Message-ID domain (subdomain)");
	r.message_id = (char *)"abc@isp.test";
	r.from = (char *)"News@Example.ORG";
	is_int(classify_is_loop(&r, "example.org"), 1, "from our domain");
	r.from = NULL;
	is_int(classify_is_loop(&r, "example.org"), 1, "no sender");
	r.from = (char *)"jo@isp.test";
	r.class = INBOUND_AUTOREPLY;
	is_int(classify_is_loop(&r, "example.org"), 1, "auto-reply");
	r.class = INBOUND_BOUNCE_SOFT;
	is_int(classify_is_loop(&r, "example.org"), 1, "bounce");
	r.class = INBOUND_UNSUBSCRIBE;
	r.no_reply = 1;
	is_int(classify_is_loop(&r, "example.org"), 1, "no_reply flag");
}

static void
test_names(void)
{
	enum inbound_class	 c;

	is_str(inbound_class_name(INBOUND_BOUNCE_HARD), "bounce-hard", "name");
	is_str(inbound_class_name(INBOUND_AUTOREPLY), "auto-reply", "name");
	is_str(inbound_class_name((enum inbound_class)99), "unknown",
	    "out of range name");
	ok(inbound_class_parse("reply", &c) == 0 && c == INBOUND_REPLY,
	    "parse reply");
	ok(inbound_class_parse("nope", &c) == -1, "parse bad name");
}

int
main(void)
{
	const char	*src = getenv("top_srcdir");
	char		 listed[16384];

	snprintf(corpus, sizeof(corpus), "%s/tests/data/inbound",
	    src != NULL ? src : ".");
	ok(check_corpus(listed, sizeof(listed)) >= 50,
	    "corpus has at least 50 messages");
	check_all_listed(listed);
	test_fields();
	test_limits();
	test_inline();
	test_reply_text();
	test_intent();
	test_html();
	test_hard_soft();
	test_loop();
	test_names();
	return tap_done();
}
