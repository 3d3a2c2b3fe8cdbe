#!/bin/sh
# Privacy: at info level the daemon's log names no subscriber address
# (log_addr shows a keyed hash); at debug level, for an administrator
# chasing a problem, it does. A small send to the outbox, twice.
. "$top_srcdir/tests/lib/common.sh"

CLOCK="$T/clock"
export CLARION_CLOCK_FILE="$CLOCK"
at() { date -u -d "$1" +%s > "$CLOCK"; }

run_send() { # run_send LEVEL: one message to each of two members
	dir="$T/$1"
	mkdir -p "$dir"
	rm -f "$T/clarion.db" "$T/clarion.db-wal" "$T/clarion.db-shm"
	rm -rf "$T/outbox"
	at "2026-11-27 12:00"
	make_config "$dir/c.conf" 'tick = 1;' "log_level = \"$1\";"
	C="$CLARION -c $dir/c.conf"
	$C init >/dev/null
	$C list create members --from news@example.org \
	    --owner secretary@example.org --display-name "Hillside CLP" >/dev/null
	$C sub add alice.member@example.org --list members --name "Alice" >/dev/null
	$C sub add bob.member@example.org --list members --name "Bob" >/dev/null
	printf 'Hello {{subscriber.first_name}}\n' > "$dir/body.md"
	$C item add hello --list members --kind newsletter --content "$dir/body.md" \
	    --subject "Hello" --at "2026-11-30 08:00" >/dev/null
	"$CLARIOND" -c "$dir/c.conf" 2>"$dir/log" &
	pid=$!
	at "2026-11-30 08:00:05"
	wait_for sh -c "[ \$(ls '$T/outbox/new' 2>/dev/null | wc -l) -ge 2 ]"
	rc=$?
	sleep 1
	kill -TERM $pid; wait $pid
	return $rc
}

check "info level: the send reaches the outbox" run_send info
log=$(cat "$T/info/log")
expect_contains "the log shows the run" "$log" "run "
expect_not_contains "no subscriber address in the info log (alice)" "$log" "alice.member@example.org"
expect_not_contains "no subscriber address in the info log (bob)" "$log" "bob.member@example.org"
expect_not_contains "not even the local part" "$log" "alice.member"

check "debug level: the send reaches the outbox" run_send debug
log=$(cat "$T/debug/log")
expect_contains "at debug level the address is shown" "$log" "alice.member@example.org"
done_testing
