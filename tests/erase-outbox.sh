#!/bin/sh
# Erasure reaches the outbox transport's Maildir: `clarion sub erase`
# deletes the messages written for that person (and only theirs: joann@ is
# not ann@), after clariond --once has sent a newsletter to the outbox.
. "$top_srcdir/tests/lib/common.sh"

CLOCK="$T/clock"
export CLARION_CLOCK_FILE="$CLOCK"
date -u -d "2026-07-01 10:00" +%s > "$CLOCK"
make_config "$T/c.conf"
C="$CLARION -c $T/c.conf"
$C init >/dev/null || { fail "clarion init"; exit 1; }
$C list create members --from news@example.org \
    --owner secretary@example.org >/dev/null
for p in ann joann bob; do
	$C sub add $p@example.net --list members >/dev/null
done
printf '# News\n\nThe branch meets on Thursday.\n' > "$T/news.md"
$C item add news --list members --kind newsletter --at "2026-07-01 11:00" \
    --content "$T/news.md" --subject "News" >/dev/null
"$CLARIOND" -c "$T/c.conf" --once 2>"$T/daemon.log"
files() { grep -l -i "^Delivered-To: $1@example.net" "$T"/outbox/new/* 2>/dev/null | wc -l; }
expect_eq "one message each in the outbox" "$(files ann)$(files joann)$(files bob)" 111

out=$($C sub erase ann@example.net); rc=$?
expect_eq "erase exits 0" "$rc" 0
expect_contains "it says it deleted her outbox message" "$out" \
	"outbox: 1 message to or about them deleted"
expect_eq "ann's message is gone from the outbox" "$(files ann)" 0
expect_eq "no file in the outbox names her" \
	"$(grep -rliw 'ann@example.net' "$T/outbox" | wc -l)" 0
expect_eq "joann's and bob's stay" "$(files joann)$(files bob)" 11
done_testing
