#!/bin/sh
# Consent at claim time: a member who left between the compose and the
# send is never mailed, whatever path brings their delivery back to the
# queue. Through clarion, clariond --once and the aiosmtpd sink; each
# case asserts on what the sink received.
#  1. held while the member unsubscribed, then `clarion queue resend`
#  2. deferred (451), the member unsubscribes, then the retry is due
#  3. hard-bounced (550 5.1.1, so suppressed), then `run resend --to-missed`
#  4. suppressed by an officer while still on the list, then retried
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/smtp.sh"
smtp_require
SMTP_BASE=32710

# setup NAME [sink options]: a fresh database, a list of three (ann, bob,
# cat @example.net), a newsletter due now, and a sink.
setup() {
	sink_stop
	rm -rf "$T/clarion.db" "$T/clarion.db-wal" "$T/clarion.db-shm" \
	    "$T/clarion.db.journal"
	echo $NOW > "$CLOCK"
	sink_start "$@"
	smtp_config "$T/c.conf" 'delivery = { after_crash = "hold"; };'
	C="$CLARION -c $T/c.conf"
	$C init >/dev/null || { fail "clarion init"; exit 1; }
	$C list create members --from news@example.org \
	    --owner secretary@example.org >/dev/null
	for p in ann bob cat; do
		$C sub add $p@example.net --list members >/dev/null
	done
	printf '# News\n\nThe branch meets on Thursday.\n' > "$T/news.md"
	$C item add news --list members --kind newsletter \
	    --at "2026-07-01 11:00" --content "$T/news.md" \
	    --subject "News" >/dev/null
}
# Restarts the sink on the same Maildir, accepting everyone.
sink_accept_all() {
	sink_stop
	rm -f "$T/$1/ready"
	sink_start "$1"
	smtp_config "$T/c.conf" 'delivery = { after_crash = "hold"; };'
}
daemon() { "$CLARIOND" -c "$T/c.conf" --once 2>>"$T/daemon.log"; }
got() { sink_rcpts | grep -c "^$1@" ; }
state_of() { q "SELECT state FROM deliveries WHERE address = '$1@example.net'"; }
past_retry() {
	t=$(q "SELECT max(next_attempt) FROM deliveries WHERE state = 'deferred'")
	echo $((t + 1)) > "$CLOCK"
}

# 1. Held, unsubscribed, released.
setup one --tempfail bob
daemon
expect_eq "1: ann and cat are sent, bob deferred" \
	"$(got ann)$(got cat)$(state_of bob)" "11deferred"
# What a crash leaves, and what clariond does with it (after_crash = hold).
q "UPDATE deliveries SET state = 'sending' WHERE address = 'bob@example.net'"
sink_accept_all one
daemon
expect_eq "1: after the crash bob's delivery is held" "$(state_of bob)" held
$C sub unsubscribe bob@example.net --list members >/dev/null
out=$($C queue resend --run 1)
expect_contains "1: queue resend queues it" "$out" "1 held delivery queued again"
daemon
expect_eq "1: bob, who left, got nothing" "$(got bob)" 0
expect_eq "1: his delivery ends suppressed" "$(state_of bob)" suppressed
expect_contains "1: with the reason" \
	"$(q "SELECT last_reply FROM deliveries WHERE address = 'bob@example.net'")" \
	"not subscribed"
expect_contains "1: run show counts it as suppressed" "$($C run show 1)" \
	"suppressed 1"
expect_contains "1: so does clarion queue" "$($C queue)" "suppressed 1"

# 2. Deferred, unsubscribed, retry due.
setup two --tempfail bob
daemon
expect_eq "2: bob deferred" "$(state_of bob)" deferred
$C sub unsubscribe bob@example.net --list members >/dev/null
sink_accept_all two
past_retry
daemon
expect_eq "2: the retry after bob left sends nothing" "$(got bob)" 0
expect_eq "2: his delivery ends suppressed" "$(state_of bob)" suppressed
expect_eq "2: ann and cat got theirs, once" "$(got ann)$(got cat)" 11

# 3. Hard bounce, resend --to-missed.
setup three --reject bob
daemon
expect_eq "3: bob's 550 fails the delivery" "$(state_of bob)" failed
expect_contains "3: and suppresses him" "$($C sub show bob@example.net)" \
	"hard-bounce"
out=$($C run resend 1 --to-missed)
expect_contains "3: resend --to-missed queues the failed one" "$out" \
	"1 delivery queued again"
sink_accept_all three
daemon
expect_eq "3: the suppressed address got nothing" "$(got bob)" 0
expect_eq "3: the delivery ends suppressed" "$(state_of bob)" suppressed

# 4. Suppressed by an officer while still subscribed, then the retry.
setup four --tempfail cat
daemon
expect_eq "4: cat deferred" "$(state_of cat)" deferred
$C sub suppress cat@example.net --reason "asked by phone" >/dev/null
sink_accept_all four
past_retry
daemon
expect_eq "4: the suppressed address got nothing" "$(got cat)" 0
expect_eq "4: the delivery ends suppressed" "$(state_of cat)" suppressed
expect_contains "4: the reason names the suppression" \
	"$(q "SELECT last_reply FROM deliveries WHERE address = 'cat@example.net'")" \
	"suppressed"

# 5. The owner's digest counts what was refused: bob (deferred) leaves,
# then cat's retry hard-bounces, which brings a digest.
setup five --tempfail bob --tempfail cat
smtp_config "$T/c.conf" 'bounces = { digest_interval = 3600; };'
daemon
$C sub unsubscribe bob@example.net --list members >/dev/null
sink_stop
rm -f "$T/five/ready"
sink_start five --reject cat
smtp_config "$T/c.conf" 'bounces = { digest_interval = 3600; };'
echo $((NOW + 7200)) > "$CLOCK"
daemon
daemon	# the digest, queued by the pass before, goes now
expect_eq "5: bob got nothing" "$(got bob)" 0
f=$(grep -l 'X-Envelope-To: <secretary@example.org>' "$SINK_DIR"/Maildir/new/* | head -1)
body=$(/usr/bin/python3 -c '
import email, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
for p in m.walk():
    if p.get_content_type() == "text/plain":
        print(" ".join(p.get_payload(decode=True).decode().split()))' "$f" 2>/dev/null)
expect_contains "5: the owner's digest names cat's bounce" "$body" "cat@example.net"
expect_contains "5: and counts bob's refused delivery as suppressed" "$body" \
	"1 message(s) were not sent because their member had left"
done_testing
