#!/bin/sh
# End to end through clariond with the smtp transport: a list, members
# imported from CSV, a newsletter due now, one pass of the daemon; every
# member gets their own composed message over TLS with a VERP sender,
# exactly once, and a second pass sends nothing.
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/smtp.sh"
smtp_require
unset CLARION_CLOCK_FILE	# the scheduler's "now" is the real one here
SMTP_BASE=32650
sink_start sink
smtp_config "$T/c.conf"
C="$CLARION -c $T/c.conf"
$C init >/dev/null || { fail "clarion init"; exit 1; }
$C list create members --display-name "Hillside CLP" \
	--from news@example.org --owner secretary@example.org >/dev/null ||
	skip "clarion list is not available yet"
i=1
{
	echo "email,name,ward"
	while [ $i -le 40 ]; do echo "member$i@example.net,Member $i,Hillside"; i=$((i + 1)); done
} > "$T/members.csv"
$C sub import --list members --consent "test data" "$T/members.csv" >/dev/null ||
	skip "clarion sub import is not available yet"
printf '# News\n\nThe branch meets on Thursday.\n' > "$T/news.md"
now=$(TZ=Europe/London date +'%Y-%m-%d %H:%M')
$C item add news --list members --kind newsletter --at "$now" \
	--content "$T/news.md" --subject "Hillside news" >/dev/null ||
	skip "clarion item is not available yet"

"$CLARIOND" -c "$T/c.conf" --once 2>"$T/daemon.log"; rc=$?
expect_eq "clariond --once exits 0" "$rc" 0
expect_eq "40 messages at the server" "$(sink_count)" 40
expect_eq "one per member" "$(sink_rcpts | sort -u | wc -l)" 40
f=$(grep -l 'X-Envelope-To: <member7@example.net>' "$SINK_DIR"/Maildir/new/*)
check "member7 has a message" test -n "$f"
expect_contains "from a VERP sender" "$(grep '^X-Envelope-From' "$f")" "<bounces+"
expect_contains "over TLS" "$(grep '^X-Sink-TLS' "$f")" "yes"
expect_contains "composed for them" "$(grep -i '^To:' "$f")" "member7@example.net"
expect_contains "with the subject" "$(grep -i '^Subject:' "$f")" "Hillside news"
expect_eq "every delivery is recorded as sent" \
	"$(q "SELECT count(*) FROM deliveries WHERE state = 'sent'")" 40
"$CLARIOND" -c "$T/c.conf" --once 2>>"$T/daemon.log"
expect_eq "a second pass sends nothing" "$(sink_count)" 40
out=$($C queue)
expect_contains "clarion queue: nothing waiting" "$out" "queued 0, sending 0, deferred 0, held 0 (sent 40"
done_testing
