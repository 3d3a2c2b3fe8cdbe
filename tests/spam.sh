#!/bin/sh
# Messages members get (built by mime_build from the shipped templates and
# sample data) must not look like spam: SpamAssassin, local tests only,
# scores each at or below 0.
. "$top_srcdir/tests/lib/common.sh"
command -v spamassassin >/dev/null 2>&1 ||
	skip "spamassassin is not installed (apt-get install spamassassin)"
HOME="$T"	# keeps SpamAssassin's per-user files out of the real home
export HOME
for n in bulletin bulletin-15 newsletter newsletter-image notice reminder; do
	if ! "$top_builddir/tests/mime_dump" \
	    "$top_srcdir/tests/data/compose/$n.json" > "$T/$n.eml"; then
		fail "$n: message built"
		continue
	fi
	spamassassin -t -L < "$T/$n.eml" > "$T/$n.out" 2>"$T/$n.err"
	score=$(sed -n 's/^X-Spam-Status: [A-Za-z]*, score=\(-\{0,1\}[0-9.]*\) .*/\1/p' "$T/$n.out")
	if [ -z "$score" ]; then
		fail "$n: SpamAssassin gave no score"
		sed 's/^/# /' "$T/$n.err"
	elif awk -v s="$score" 'BEGIN { exit !(s <= 0) }'; then
		pass "$n: SpamAssassin score $score <= 0"
	else
		fail "$n: SpamAssassin score $score > 0"
		sed -n '/^Content analysis details/,$p' "$T/$n.out" | sed 's/^/# /'
	fi
done
done_testing
