#!/bin/sh
# Crash safety: kill -9 the sending process at random moments during a
# 5,000-recipient run, restart it, five times. At the end every recipient
# has the message, and the duplicates never exceed the transactions that
# were on the wire at the kills (at most smtp.connections each time).
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/smtp.sh"
smtp_require
SMTP_BASE=32600
CONNS=4
RCPTS=5000
KILLS=5
sink_start sink
smtp_config "$T/c.conf"
db_init "$T/c.conf"
add_run 1 $RCPTS

rand_delay() { # 0.00-0.49 s, from the kernel's random numbers
	od -An -N2 -tu2 /dev/urandom | awk '{ printf "%.2f", ($1 % 50) / 100 }'
}
inflight=0
k=0
while [ $k -lt $KILLS ]; do
	prev=$(sink_count)
	"$DRIVE" -c "$T/c.conf" >>"$T/drive.out" 2>>"$T/drive.log" &
	DP=$!
	# Kill while it is sending: after it has stored a few more, plus a
	# random fraction of a second.
	wait_for sh -c "[ \$(find '$SINK_DIR/Maildir/new' -type f | wc -l) -ge $((prev + 25)) ]"
	d=$(rand_delay)
	sleep "$d"
	kill -9 $DP
	wait $DP 2>/dev/null
	k=$((k + 1))
	n=$(q "SELECT count(*) FROM deliveries WHERE state = 'sending'")
	inflight=$((inflight + n))
	echo "# kill $k (+${d}s): $n deliveries in flight, $(sink_count) messages at the server"
done
left=$(q "SELECT count(*) FROM deliveries WHERE state <> 'sent'")
check "the kills came before the end ($left of $RCPTS not yet sent)" test "$left" -gt 0
: > "$T/drive.log"
drive "$T/c.conf"
expect_contains "the restart reports the uncertain ones" "$(cat "$T/drive.log")" "were being sent when Clarion stopped unexpectedly; sending them again"
expect_eq "every delivery is sent" "$(q "SELECT count(*) FROM deliveries WHERE state = 'sent'")" $RCPTS
expect_eq "every recipient has the message" "$(sink_rcpts | sort -u | wc -l)" $RCPTS
extra=$(sink_extra)
echo "# duplicates: $extra; in flight at the $KILLS kills: $inflight (at most $((KILLS * CONNS)))"
check "duplicates ($extra) <= deliveries in flight at the kills ($inflight)" test "$extra" -le "$inflight"
check "in flight at the kills ($inflight) <= kills x connections ($((KILLS * CONNS)))" test "$inflight" -le $((KILLS * CONNS))
expect_eq "nothing else was sent" "$(sink_count)" $((RCPTS + extra))
done_testing
