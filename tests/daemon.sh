#!/bin/sh
# clariond: starts, ticks, reloads on SIGHUP (keeping the old config when
# the new one is bad), refuses a second instance, exits 0 on SIGTERM.
. "$top_srcdir/tests/lib/common.sh"

make_config "$T/c.conf" 'tick = 1;' "pid_file = \"$T/clariond.pid\";"
"$CLARION" -c "$T/c.conf" init >/dev/null || { fail "init"; done_testing; exit 1; }

"$CLARIOND" -c "$T/c.conf" 2>"$T/log" &
PID=$!
stop_daemon() { kill -9 $PID 2>/dev/null; }
on_exit stop_daemon
check "the daemon logs its start" wait_for grep -q "clariond .* started (pid $PID, tick 1s, transport outbox)" "$T/log"
check "it writes the pid file" wait_for grep -qx "$PID" "$T/clariond.pid"
check "it ticks (status --check healthy)" wait_for "$CLARION" -c "$T/c.conf" status --check >/dev/null 2>&1
out=$("$CLARION" -c "$T/c.conf" status)
expect_contains "status shows it running" "$out" "running (pid $PID)"

out=$("$CLARIOND" -c "$T/c.conf" 2>&1); rc=$?
expect_eq "a second daemon on the same database is refused (EX_TEMPFAIL)" "$rc" 75
expect_contains "with a reason" "$out" "another clariond (pid $PID) is running"

# A bad config on SIGHUP: logged, old one kept, daemon goes on.
cp "$T/c.conf" "$T/c.conf.good"
echo 'smtp = { connections = "many"; };' >> "$T/c.conf"
kill -HUP $PID
check "bad reload is logged with the reason" wait_for grep -q "reload failed, keeping the old configuration: $T/c.conf:.*: smtp.connections: must be an integer, not a string" "$T/log"
check "the daemon is still running" kill -0 $PID
before=$(grep -c . "$T/log")
sleep 1.5
check "and still ticking" sh -c "\"$CLARION\" -c \"$T/c.conf.good\" status --check >/dev/null"

# A good config on SIGHUP is taken.
cp "$T/c.conf.good" "$T/c.conf"
sed -i 's/^tick = 1;/tick = 2;/' "$T/c.conf"
kill -HUP $PID
check "a good reload is taken" wait_for grep -q "configuration reloaded" "$T/log"
check "the new tick is in effect" wait_for sh -c "sqlite3 '$T/clarion.db' \"SELECT value FROM daemon_state WHERE key='tick'\" | grep -qx 2"

# SIGTERM: clean exit, 0, within a second.
kill -TERM $PID
i=0; while [ $i -lt 20 ] && kill -0 $PID 2>/dev/null; do sleep 0.05; i=$((i+1)); done
if kill -0 $PID 2>/dev/null; then fail "SIGTERM stops the daemon within a second"; else pass "SIGTERM stops the daemon within a second"; fi
wait $PID; rc=$?
expect_eq "exit status 0" "$rc" 0
check "it logs the stop" grep -q "clariond stopping" "$T/log"
check "the pid file is removed" test ! -e "$T/clariond.pid"
out=$("$CLARION" -c "$T/c.conf" status)
expect_contains "status shows it stopped" "$out" "not running"

# --once runs the loop until there is nothing to do, then exits 0.
"$CLARIOND" --once -c "$T/c.conf" 2>"$T/log2"; rc=$?
expect_eq "--once exits 0" "$rc" 0

# A missing database is an error with advice, not a new empty database.
make_config "$T/other.conf"
sed -i "s|$T/clarion.db|$T/nowhere.db|" "$T/other.conf"
cp "$T/token.key" "$T/token2.key" 2>/dev/null
echo "token_secret_file = \"$T/token.key\";" >> "$T/other.conf"
out=$("$CLARIOND" -c "$T/other.conf" 2>&1); rc=$?
expect_eq "no database: exit 66 (EX_NOINPUT)" "$rc" 66
expect_contains "with advice" "$out" "run 'clarion init' first"
check "and no database is created" test ! -e "$T/nowhere.db"
done_testing
