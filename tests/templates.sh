#!/bin/sh
# Every shipped template renders with the sample data in tests/data/compose
# into a message whose parts say what they should (see templates-check.py).
. "$top_srcdir/tests/lib/common.sh"
[ -x /usr/bin/python3 ] || skip "/usr/bin/python3 is missing"
for t in "$top_srcdir"/templates/*.mustache; do
	if ! "$CLARION" template check "$t"; then
		fail "$(basename "$t") parses"
	fi
done
[ "$FAILED" = 0 ] && pass "every template parses"
if /usr/bin/python3 "$top_srcdir/tests/lib/templates-check.py" \
    "$top_builddir/tests/mime_dump" "$top_srcdir/tests/data/compose" \
    "$top_srcdir/templates"; then
	pass "templates render the sample data as expected"
else
	fail "templates render the sample data as expected"
fi
done_testing
