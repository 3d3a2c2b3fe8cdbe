/*
 * libFuzzer harness for inbound classification: the whole message path
 * (MIME, DSN/ARF field blocks, bounce heuristics, charsets, HTML), and
 * the text helpers and the report parsers (dsn.c) on their own. Seed it
 * from tests/data/inbound:
 *   tests/fuzz/fuzz_classify -max_len=65536 CORPUS_DIR $top_srcdir/tests/data/inbound
 */
#include "config.h"

#include "clarion.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct classify_opts o = { "example.org", "bounces",
	    "reply", "unsubscribe", '+', 4 * 1024 * 1024 };
	struct classify_result	 r;
	struct dsn_rcpt		 dr;
	struct arf_report	 ar;
	char			*s, *t;

	classify_message((const char *)data, size, &o, &r);
	(void)classify_is_loop(&r, o.domain);
	classify_result_free(&r);

	s = fuzz_cstr(data, size);
	t = classify_reply_text(s);
	(void)classify_unsubscribe_intent(t);
	free(t);
	t = classify_html_to_text(s, strlen(s), size & 1);
	free(t);
	(void)dsn_is_hard(size > 8 ? s + size - 8 : s, s);
	/* The report field blocks on their own (dsn.c). */
	if (dsn_parse(s, strlen(s), &dr) > 0) {
		t = dsn_status(&dr);
		free(t);
	}
	dsn_rcpt_free(&dr);
	arf_parse(s, strlen(s), &ar);
	arf_report_free(&ar);
	free(s);
	return 0;
}
