#!/bin/sh
# Whole messages, byte for byte: bulletin, newsletter, message and a meeting notice
# with its invitation, from fixed data (date and boundary seed included).
# After a deliberate change to a template, mime.c or markdown.c, run
# `make regen-golden` and review the diff of tests/data/golden.
. "$top_srcdir/tests/lib/common.sh"
for n in bulletin newsletter message notice; do
	if ! "$top_builddir/tests/mime_dump" \
	    "$top_srcdir/tests/data/compose/$n.json" > "$T/$n.eml"; then
		fail "$n: message built"
	elif cmp -s "$T/$n.eml" "$top_srcdir/tests/data/golden/$n.eml"; then
		pass "$n: same bytes as tests/data/golden/$n.eml"
	else
		fail "$n: differs from tests/data/golden/$n.eml"
		diff "$top_srcdir/tests/data/golden/$n.eml" "$T/$n.eml" |
		    head -20 | sed 's/^/# /'
	fi
done
done_testing
