#!/bin/sh
# The daemon's own faults while it sends (issue 16), through clariond, the
# CLI and a real SMTP sink:
# - another process holds the database's write lock for 12 s (longer than
#   the busy timeout) in the middle of a send: no message is sent twice,
#   no healthy connection is deferred, the run finishes, and
#   `clarion status` shows the write failure;
# - a second clariond on the same database while the first sends is
#   refused (exit 75, EX_TEMPFAIL) and resends nothing; `clarion status`
#   says the first one runs.
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/smtp.sh"
smtp_require
unset CLARION_CLOCK_FILE	# the scheduler's "now" is the real one here
SMTP_BASE=32700
CONNS=4
MEMBERS=40

# setup DIR: a database in $T/DIR with a list of $MEMBERS and a newsletter
# due now; the config is $T/DIR/c.conf.
setup() {
	D="$T/$1"
	mkdir -p "$D"
	smtp_config "$D/c.conf" "tick = 1;"
	sed -i "s|$T/clarion.db|$D/clarion.db|; s|$T/outbox|$D/outbox|" "$D/c.conf"
	C="$CLARION -c $D/c.conf"
	$C init >/dev/null || { fail "clarion init"; exit 1; }
	$C list create members --display-name "Hillside CLP" \
		--from news@example.org --owner secretary@example.org >/dev/null ||
		{ fail "list create"; exit 1; }
	i=1
	{
		echo "email,name"
		while [ $i -le $MEMBERS ]; do echo "member$i@example.net,Member $i"; i=$((i + 1)); done
	} > "$D/members.csv"
	$C sub import --list members --consent "test data" "$D/members.csv" >/dev/null ||
		{ fail "sub import"; exit 1; }
	printf '# News\n\nThe branch meets on Thursday.\n' > "$D/news.md"
	now=$(TZ=Europe/London date +'%Y-%m-%d %H:%M')
	$C item add news --list members --kind newsletter --at "$now" \
		--content "$D/news.md" --subject "Hillside news" >/dev/null ||
		{ fail "item add"; exit 1; }
}
# wait_long COMMAND...: up to ~60 s (a slow sink takes its time)
wait_long() {
	i=0
	while [ $i -lt 1200 ]; do "$@" && return 0; sleep 0.05; i=$((i+1)); done
	return 1
}
dq() { sqlite3 -cmd '.timeout 5000' "$D/clarion.db" "$@"; }
stored() { find "$SINK_DIR/Maildir/new" -type f 2>/dev/null | wc -l | tr -d ' '; }

# 1. A write lock held by another process for 12 s during the send.
sink_start sink1 --delay 0.3
setup lock
"$CLARIOND" -c "$D/c.conf" --once 2>"$D/daemon.log" &
DPID=$!
stop_d() { kill -9 $DPID 2>/dev/null; return 0; }
on_exit stop_d
wait_for sh -c "[ \$(find '$SINK_DIR/Maildir/new' -type f | wc -l) -ge 8 ]" ||
	fail "the send started"
# BEGIN IMMEDIATE takes SQLite's write lock, as a long import does.
/usr/bin/python3 - "$D/clarion.db" "$D/locked" <<'EOF' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").close()
time.sleep(12)
c.execute("COMMIT")
EOF
LPID=$!
wait_for test -e "$D/locked" || fail "the lock was taken"
if wait_for sh -c "$C status 2>/dev/null | grep -q 'not yet written'"; then
	pass "while the database is locked, status shows the results waiting"
else
	fail "while the database is locked, status shows the results waiting"
	$C status | sed 's/^/#   /'
fi
wait $LPID
wait $DPID; rc=$?
expect_eq "clariond --once exits 0" "$rc" 0
expect_eq "the run finishes: nothing left in 'sending'" \
	"$(dq "SELECT count(*) FROM deliveries WHERE state = 'sending'")" 0
expect_eq "every delivery is recorded as sent" \
	"$(dq "SELECT count(*) FROM deliveries WHERE state = 'sent'")" $MEMBERS
expect_eq "no healthy connection was deferred" \
	"$(dq "SELECT count(*) FROM deliveries WHERE state = 'deferred' OR attempts > 1")" 0
expect_contains "the log says the results were kept" "$(cat "$D/daemon.log")" \
	"keeping them and writing them again"
out=$($C status)
expect_contains "status shows the write failure afterwards" "$out" \
	"send results could not be written for"
expect_contains "and that none was lost" "$out" "none lost"
"$CLARIOND" -c "$D/c.conf" --once 2>>"$D/daemon.log"
expect_eq "a restart sends nothing more" "$(sink_count)" $MEMBERS
expect_eq "each member got exactly one message" "$(sink_rcpts | sort | uniq -c | awk '$1 != 1' | wc -l | tr -d ' ')" 0
expect_eq "every member got one" "$(sink_rcpts | sort -u | wc -l | tr -d ' ')" $MEMBERS
sink_stop

# 2. A second daemon on the same database while the first one sends.
sink_start sink2 --delay 0.5
setup second
"$CLARIOND" -c "$D/c.conf" 2>"$D/daemon.log" &
DPID=$!
wait_for sh -c "[ \$(sqlite3 -cmd '.timeout 5000' '$D/clarion.db' \"SELECT count(*) FROM deliveries WHERE state = 'sending'\") -gt 0 ]" ||
	fail "the first daemon is sending"
out=$("$CLARIOND" -c "$D/c.conf" --once 2>&1); rc=$?
expect_eq "a second clariond on the same database exits 75 (EX_TEMPFAIL)" "$rc" 75
expect_contains "and says which daemon runs" "$out" "another clariond (pid $DPID) is running on $D/clarion.db"
expect_not_contains "it recovered nothing" "$out" "stopped unexpectedly"
out=$($C status)
expect_contains "status says the first one runs" "$out" "running (pid $DPID)"
out=$("$CLARIOND" -c "$D/c.conf" -p "$D/second.pid" --once 2>&1); rc=$?
expect_eq "with its own pid file it is refused too" "$rc" 75
check "the first daemon sends them all" wait_long sh -c "[ \$(sqlite3 -cmd '.timeout 5000' '$D/clarion.db' \"SELECT count(*) FROM deliveries WHERE state = 'sent'\") -eq $MEMBERS ]"
kill -TERM $DPID; wait $DPID
expect_eq "each member got exactly one message" "$(sink_rcpts | sort | uniq -c | awk '$1 != 1' | wc -l | tr -d ' ')" 0
expect_eq "every member got one" "$(sink_rcpts | sort -u | wc -l | tr -d ' ')" $MEMBERS
out=$($C status)
expect_contains "status after it stopped: not running" "$out" "not running"
"$CLARIOND" -c "$D/c.conf" --once 2>>"$D/daemon.log"; rc=$?
expect_eq "once it has stopped, another may start" "$rc" 0
done_testing
