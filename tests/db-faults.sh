#!/bin/sh
# A missing, emptied, truncated or damaged database (issue 16): only
# `clarion init` makes a database; every other command and the daemon
# refuse a missing one (exit 66, EX_NOINPUT) or an empty or damaged one
# (exit 65, EX_DATAERR) with the path and what to do, and change nothing;
# a daemon that finds damage while it runs stops (exit 65) instead of
# failing every tick; `clarion restore` brings the data back.
. "$top_srcdir/tests/lib/common.sh"
command -v sqlite3 >/dev/null 2>&1 || skip "sqlite3 is not installed (package sqlite3)"
make_config "$T/c.conf" "tick = 1;"
C="$CLARION -c $T/c.conf"
DB="$T/clarion.db"

# Commands that read or write the database, each run as `clarion CMD`.
cmds="status
queue
run list
bounces
list create youth --from a@example.org --owner b@example.org
sub add ann@example.net --list branch
event list
backup $T/backup-attempt.db"

# refused CODE WORD: every command and clariond exit CODE naming the
# database, with WORD in the message and 'clarion restore' as the way out.
refused() {
	code=$1 word=$2
	while read -r cmd; do
		out=$($C $cmd 2>&1 </dev/null); rc=$?
		expect_eq "clarion $cmd exits $code" "$rc" "$code"
		expect_contains "clarion $cmd says why" "$out" "$DB: $word"
		expect_contains "clarion $cmd says how to get the data back" "$out" "clarion restore"
	done <<EOF
$cmds
EOF
	out=$("$CLARIOND" -c "$T/c.conf" --once 2>&1); rc=$?
	expect_eq "clariond --once exits $code" "$rc" "$code"
	expect_contains "clariond says why" "$out" "$DB: $word"
	# (A daemon that accepts the file would run on: stop it after 20 s.)
	out=$(timeout 20 "$CLARIOND" -c "$T/c.conf" 2>&1); rc=$?
	expect_eq "clariond exits $code" "$rc" "$code"
	check "no backup was written from it" test ! -e "$T/backup-attempt.db"
}

# 1. No database at all: nothing is created but by init.
refused 66 "no database here"
check "the missing database was not created" test ! -e "$DB"
check "nor a lock file beside it" test ! -e "$DB.lock"
out=$($C status 2>&1)
expect_contains "the message says how to start" "$out" "clarion init"
$C init >/dev/null || { fail "clarion init"; done_testing; exit 1; }
check "clarion init creates it" test -s "$DB"
$C list create branch --from a@example.org --owner b@example.org >/dev/null
$C sub add ann@example.net --list branch --consent "asked" >/dev/null
$C backup "$T/good.db" >/dev/null || fail "backup"

# 2. Emptied with the daemon stopped.
: > "$DB"
refused 65 "the database file is empty"
expect_eq "the empty file is left as it was" "$(wc -c < "$DB" | tr -d ' ')" 0
out=$($C restore "$T/good.db" 2>&1); rc=$?
expect_eq "clarion restore replaces the empty file" "$rc" 0
expect_contains "and says so" "$out" "is empty or damaged"
expect_contains "status shows the list again" "$($C status)" "lists:          1"
expect_contains "and the member" "$($C sub show ann@example.net 2>&1)" "ann@example.net"
rm -f "$DB".before-restore-*

# 3. Truncated with the daemon stopped.
sqlite3 "$DB" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
size=$(wc -c < "$DB" | tr -d ' ')
truncate -s $((size / 2)) "$DB"
refused 65 "the database is damaged"
sleep 1		# restore names the file it sets aside by the second
out=$($C restore "$T/good.db" 2>&1); rc=$?
expect_eq "clarion restore replaces the truncated file" "$rc" 0
expect_eq "and keeps the damaged one beside it" "$(ls "$T" | grep -c 'clarion.db.before-restore-')" 1
expect_eq "the restored database is whole" "$($C status >/dev/null 2>&1; echo $?)" 0

# 4. Damage the daemon meets while it runs: the table it reads each tick.
sqlite3 "$DB" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
page=$(sqlite3 "$DB" "SELECT rootpage FROM sqlite_master WHERE name = 'items'")
psize=$(sqlite3 "$DB" "PRAGMA page_size")
/usr/bin/python3 - "$DB" "$page" "$psize" <<'EOF'
import sys
path, page, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(path, "r+b") as f:
    f.seek((page - 1) * size)
    f.write(b"\xab" * size)
EOF
"$CLARIOND" -c "$T/c.conf" 2>"$T/daemon.log" &
DPID=$!
stop_d() { kill -9 $DPID 2>/dev/null; return 0; }
on_exit stop_d
if wait_for sh -c "! kill -0 $DPID 2>/dev/null"; then
	pass "the daemon stops by itself on a damaged database"
else
	fail "the daemon stops by itself on a damaged database"
	kill -9 $DPID
fi
wait $DPID; rc=$?
expect_eq "it exits 65 (EX_DATAERR)" "$rc" 65
log=$(cat "$T/daemon.log")
expect_contains "its log says the database is damaged" "$log" "the database is damaged"
expect_contains "and to restore the last backup" "$log" "clarion restore"
check "it said 'malformed' once or twice, not every tick" \
	test "$(grep -c malformed "$T/daemon.log")" -le 2
out=$($C item list 2>&1); rc=$?
expect_eq "clarion item list on it exits 65" "$rc" 65
expect_contains "and says to restore" "$out" "clarion restore"
done_testing
