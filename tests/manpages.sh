#!/bin/sh
# The man pages are clean under mandoc -Tlint, down to STYLE messages (all
# but "referenced manual not found", which depends on what this machine has
# installed).
. "$top_srcdir/tests/lib/common.sh"

command -v mandoc >/dev/null 2>&1 || skip "mandoc is not installed (package mandoc)"
for p in clarion.1 clariond.8 clarion.conf.5; do
	f=$top_srcdir/doc/$p
	check "$p exists" test -f "$f"
	out=$(mandoc -Tlint -Wstyle "$f" 2>&1 |
		grep -v -e 'referenced manual not found' -e 'outdated mandoc.db')
	expect_eq "mandoc -Tlint $p is clean" "$out" ""
	out=$(mandoc -Tlint -Wwarning "$f" 2>&1); rc=$?
	expect_eq "mandoc -Tlint -Wwarning $p exits 0" "$rc" 0
done
# The lint must be able to fail.
printf '.Dd November 23, 2026\n.Dt X 1\n.Os\n.Sh NAME\n.Nm x\n.Sh DESCRIPTION\n.Bl -tag\n.It Cm a\n' > "$T/bad.1"
out=$(mandoc -Tlint -Wstyle "$T/bad.1" 2>&1)
check "mandoc -Tlint reports a broken page" test -n "$out"
done_testing
