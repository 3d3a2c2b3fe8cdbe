#!/bin/sh
# A poison message: MIME parts nested so deep that libetpan's recursive
# parser would overflow the stack. However the Content-Type field is
# spelled (blanks before the colon, folded, mixed case, comments, encoded),
# `clarion inbound classify` must give a clear result, not a crash.
. "$top_srcdir/tests/lib/common.sh"

CLARION_CONFIG="$T/none.conf"; export CLARION_CONFIG

# deep FILE N FIELD: a message with N message/rfc822 parts nested, each
# header holding FIELD (printf format, CRLF line ends).
deep() {
	awk -v n="$2" -v f="$3" 'BEGIN {
		printf "From: a@poison.test\r\nTo: unsubscribe@example.org\r\n"
		printf "Subject: deep\r\nMessage-ID: <deep@poison.test>\r\n"
		printf "MIME-Version: 1.0\r\n"
		for (i = 0; i < n; i++) printf f "\r\n"
		printf "hello\r\n"
	}' > "$1"
}

classify_ok() { # classify_ok NAME FILE: exits 0 with a reason, no crash
	out=$("$CLARION" inbound classify "$2" 2>"$T/err"); rc=$?
	expect_eq "$1: classify exits 0 (no crash)" "$rc" 0
	expect_eq "$1: unknown, refused as too many MIME parts" \
	    "$(printf '%s\n' "$out" | cut -f2,5)" "$(printf 'unknown\ttoo many MIME parts')"
}

deep "$T/space.eml" 30000 'Content-Type : message/rfc822\r\n'
classify_ok "30,000 deep, 'Content-Type :'" "$T/space.eml"
deep "$T/fold.eml" 30000 'Content-Type\r\n :\r\n message/rfc822\r\n'
classify_ok "30,000 deep, folded before and after the colon" "$T/fold.eml"
deep "$T/case.eml" 30000 'cOnTeNt-tYpE:MESSAGE/RFC822\r\n'
classify_ok "30,000 deep, mixed case, no blank" "$T/case.eml"
deep "$T/comment.eml" 30000 'CONTENT-TYPE\t: message/rfc822 (x)\r\n'
classify_ok "30,000 deep, upper case, a tab before the colon, a comment after" "$T/comment.eml"
deep "$T/ew.eml" 30000 'Content-Type\t: =?us-ascii?Q?message/rfc822?=\r\n'
classify_ok "30,000 deep, a tab and an encoded word" "$T/ew.eml"

# The limit follows the stack: 900 levels fit in 8 MB but not in 256 KB.
deep "$T/mid.eml" 900 'Content-Type : message/rfc822\r\n'
out=$(ulimit -s 256 2>/dev/null && "$CLARION" inbound classify "$T/mid.eml" 2>"$T/err"); rc=$?
expect_eq "900 deep with a 256 KB stack: exits 0 (no crash)" "$rc" 0
expect_eq "and says why it was not parsed" "$(printf '%s\n' "$out" | cut -f5)" \
    "MIME parts nested too deep for the stack"
out=$("$CLARION" inbound classify "$T/mid.eml"); rc=$?
expect_eq "900 deep with the usual stack: parsed, no crash" "$rc:$(printf '%s\n' "$out" | cut -f2)" "0:unknown"

# Real nesting still works: a reply quoting a message three levels down.
deep "$T/ok.eml" 3 'Content-Type: message/rfc822\r\n'
out=$("$CLARION" inbound classify "$T/ok.eml"); rc=$?
expect_eq "3 deep: classified, not refused" "$rc:$(printf '%s\n' "$out" | cut -f2,5 | grep -c 'MIME parts')" "0:0"
done_testing
