#!/bin/sh
# Messages from mime_build() read back by Python's email package: parts,
# types, decoded headers and bodies equal the input; injection refused.
. "$top_srcdir/tests/lib/common.sh"
dump="$top_builddir/tests/mime_dump"
[ -x /usr/bin/python3 ] || skip "/usr/bin/python3 is missing"
if /usr/bin/python3 "$top_srcdir/tests/lib/mime-check.py" "$dump" "$T"; then
	pass "messages read back by Python's email package"
else
	fail "messages read back by Python's email package"
fi
done_testing
