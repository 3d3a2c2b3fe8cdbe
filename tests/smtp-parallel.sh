#!/bin/sh
# smtp.connections really send in parallel (issue 19). libcurl blocks on
# the reply to the final dot, and in one multi handle that held up every
# connection behind the slowest reply; each connection now has its own
# thread. No timing: the sink holds the answers to the final dots until
# something only parallel connections can bring about has happened (with
# a generous cap so a regression fails instead of hanging). The last part
# takes about 25 s: a stall must outlast the daemon's 20 s send step.
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/smtp.sh"
smtp_require
SMTP_BASE=32760

# conf FILE: 4 connections over SMTPS; the time limit is well above the
# sink's caps, so a serialised sender shows as "gave up", not as a timeout.
conf() { # conf FILE [extra lines]
	f=$1; shift
	make_config "$f" 'transport = "smtp";' 'inbound = "external";' \
		"smtp = { url = \"smtps://localhost:$SMTPS_PORT\"; user = \"alice\"; password = \"secret\"; ca_file = \"$T/certs/ca.pem\"; connections = 4; timeout = 60; };" \
		"$@"
}
sessions() { # distinct connections the stored messages came over
	grep -h -m1 '^X-Sink-Session:' "$SINK_DIR"/Maildir/new/* |
		tr -d '\r' | sort -u | wc -l | tr -d ' '
}

# --- four transactions wait at the final dot at the same time ----------
sink_start gather --gather 4 --gather-max 20
conf "$T/g.conf"
db_init "$T/g.conf"
add_run 1 8
drive "$T/g.conf"
expect_eq "8 messages arrive" "$(sink_count)" 8
expect_eq "every delivery is sent" "$(q "SELECT count(*) FROM deliveries WHERE state = 'sent'")" 8
expect_contains "4 sessions waited for the answer to their dot at once" \
	"$(cat "$SINK_DIR/sink.log")" "gathered 4 sessions"
check "over more than one connection" test "$(sessions)" -gt 1
sink_stop

# --- one stalled recipient does not hold up the others -----------------
# The sink answers slow-1's dot only once the 11 other messages are stored.
rm -f "$T/clarion.db" "$T/clarion.db-wal" "$T/clarion.db-shm"
sink_start stall --stall 'slow-*' --stall-until 11 --stall-max 20
conf "$T/s.conf"
db_init "$T/s.conf"
add_run 1 1 slow-
add_run 2 11 fast-
drive "$T/s.conf"
expect_eq "12 messages arrive" "$(sink_count)" 12
expect_contains "the others were accepted while slow-1 stalled" \
	"$(cat "$SINK_DIR/sink.log")" "stall released after 11 others"
expect_not_contains "the stall did not run out" \
	"$(cat "$SINK_DIR/sink.log")" "gave up"
expect_eq "every delivery is sent, the stalled one too" \
	"$(q "SELECT count(*) FROM deliveries WHERE state = 'sent' AND attempts = 1")" 12
sink_stop

# --- a stall that outlasts the send step (20 s) -------------------------
# slow-1 is answered only once 150 others are stored, which the 3 other
# connections take about 25 s to send (the sink answers each dot after
# 0.5 s). A step that waited at its end for what was on the wire would
# wait for slow-1, which waits for the others: the sink's cap ends it.
rm -f "$T/clarion.db" "$T/clarion.db-wal" "$T/clarion.db-shm"
sink_start long --delay 0.5 --stall 'slow-*' --stall-until 150 --stall-max 120
conf "$T/l.conf"
db_init "$T/l.conf"
add_run 1 1 slow-
add_run 2 150 fast-
drive "$T/l.conf"
expect_contains "the others went on sending across steps while slow-1 stalled" \
	"$(cat "$SINK_DIR/sink.log")" "stall released after 150 others"
expect_eq "every delivery is sent once" \
	"$(q "SELECT count(*) FROM deliveries WHERE state = 'sent' AND attempts = 1")" 151
expect_eq "no recipient twice" "$(sink_dups)" 0
done_testing
