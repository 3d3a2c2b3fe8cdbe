#!/bin/sh
# clarion restore: refuses while clariond runs, refuses a file that is not
# a sound Clarion backup (leaving the database as it was), keeps the
# database it replaces, and after it `clarion status` shows the backup's
# contents.
. "$top_srcdir/tests/lib/common.sh"

command -v sqlite3 >/dev/null 2>&1 || skip "sqlite3 is not installed (package sqlite3)"
make_config "$T/c.conf"
C="$CLARION -c $T/c.conf"
$C init >/dev/null || { fail "init"; done_testing; exit 1; }
q() { sqlite3 "$T/clarion.db" "$1"; }
add_list() { # add_list NAME: a list, as the database holds it
	q "INSERT INTO lists(name, from_addr, owner_addr, created, updated)
	    VALUES ('$1', 'a@example.org', 'b@example.org', 0, 0)"
}
lists() { $C status | sed -n 's/^lists: *//p'; }

out=$($C restore --help); rc=$?
expect_eq "restore --help exits 0" "$rc" 0
expect_contains "and shows the usage" "$out" "usage: clarion restore FILE"
out=$($C restore 2>&1); rc=$?
expect_eq "restore without a file exits 64" "$rc" 64
out=$($C restore "$T/nothing.db" 2>&1); rc=$?
expect_eq "restore of a missing file exits 66" "$rc" 66

add_list branch
$C backup "$T/one.db" >/dev/null
expect_eq "the backup holds one list" "$(lists)" 1
add_list youth
expect_eq "the database now holds two" "$(lists)" 2

echo "not a database" > "$T/text.db"
out=$($C restore "$T/text.db" 2>&1); rc=$?
expect_eq "restoring a text file exits 65 (EX_DATAERR)" "$rc" 65
expect_contains "and says why" "$out" "text.db: fails the integrity check"
cp "$T/one.db" "$T/bad.db"
/usr/bin/python3 - "$T/bad.db" <<'EOF'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(4096 + 8)
    f.write(b"\xab" * 3000)
EOF
out=$($C restore "$T/bad.db" 2>&1); rc=$?
expect_eq "restoring a corrupt backup exits 65" "$rc" 65
expect_contains "and names the integrity check" "$out" "integrity check"
sqlite3 "$T/empty.db" "CREATE TABLE t(x)"
out=$($C restore "$T/empty.db" 2>&1); rc=$?
expect_eq "restoring another program's database exits 65" "$rc" 65
expect_contains "and says so" "$out" "not a Clarion database"
cp "$T/one.db" "$T/newer.db"
sqlite3 "$T/newer.db" "PRAGMA user_version = 9999"
out=$($C restore "$T/newer.db" 2>&1); rc=$?
expect_eq "restoring a newer schema exits 65" "$rc" 65
expect_contains "and says to use a newer Clarion" "$out" "schema version 9999"
out=$($C restore "$T/clarion.db" 2>&1); rc=$?
expect_eq "restoring the database onto itself exits 64" "$rc" 64
expect_eq "after all that the database is untouched" "$(lists)" 2
expect_eq "and nothing was kept aside" \
	"$(ls "$T" | grep -c before-restore)" 0

"$CLARIOND" -c "$T/c.conf" 2>"$T/log" &
PID=$!
stop_daemon() { kill -9 $PID 2>/dev/null; }
on_exit stop_daemon
check "the daemon starts" wait_for sh -c "$C status | grep -q 'running (pid $PID)'"
out=$($C restore "$T/one.db" 2>&1); rc=$?
expect_eq "restore while clariond runs exits 75 (EX_TEMPFAIL)" "$rc" 75
expect_contains "and says to stop it" "$out" "clariond (pid $PID) is running"
$C backup "$T/live.db" >/dev/null
kill -TERM $PID; wait $PID

out=$($C restore "$T/one.db"); rc=$?
expect_eq "restore exits 0" "$rc" 0
expect_contains "it checked the backup" "$out" "one.db is sound (schema version"
expect_contains "it says where the old database is" "$out" \
	"previous database is kept as $T/clarion.db.before-restore-"
expect_contains "and what the database holds now" "$out" \
	"$T/clarion.db now holds $T/one.db"
expect_eq "status shows the backup's one list" "$(lists)" 1
expect_eq "the database is still mode 0600" "$(stat -c %a "$T/clarion.db")" 600
kept=$(ls "$T"/clarion.db.before-restore-* | head -1)
expect_eq "the kept database is mode 0600" "$(stat -c %a "$kept")" 600
expect_eq "and holds the two lists" \
	"$(sqlite3 "$kept" 'SELECT count(*) FROM lists')" 2
check "clarion status --json still works" sh -c "$C status --json >/dev/null"

# A backup taken while the daemon ran records its pid; restored, it must
# not look like a running daemon.
sleep 1	# a new second, so the kept copy gets a new name
$C restore "$T/live.db" >/dev/null; rc=$?
expect_eq "restoring a backup taken while clariond ran exits 0" "$rc" 0
expect_eq "the restored database records no daemon" \
	"$(q "SELECT value FROM daemon_state WHERE key = 'pid'")" 0

# The database lost: restore makes it again.
rm -f "$T/clarion.db" "$T/clarion.db-wal" "$T/clarion.db-shm"
out=$($C restore "$T/one.db"); rc=$?
expect_eq "restore with no database exits 0" "$rc" 0
expect_not_contains "and keeps nothing aside" "$out" "kept as"
expect_eq "the new database holds the backup" "$(lists)" 1
expect_eq "and is mode 0600" "$(stat -c %a "$T/clarion.db")" 600
done_testing
