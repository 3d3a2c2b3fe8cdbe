#!/bin/sh
# Issue 17: item preview shows the next due issue exactly as members get
# it: its date and event window (a Saturday preview of a Monday bulletin
# shows Monday's issue with Monday's events), a member inside the
# segment, a member found whatever the case of the address typed, and
# no run left behind.
. "$top_srcdir/tests/lib/common.sh"
CLOCK="$T/clock"
export CLARION_CLOCK_FILE="$CLOCK"
at() { date -u -d "$1" +%s > "$CLOCK"; }
at "2026-12-05 11:00"	# a Saturday
make_config "$T/c.conf"
C="$CLARION -c $T/c.conf"
$C init >/dev/null || { fail "clarion init"; exit 1; }
$C list create members --from news@example.org --owner secretary@example.org >/dev/null
$C sub add alice@example.org --list members --name "Alice Riverside" --attr ward=Riverside >/dev/null
$C sub add bob@example.org --list members --name "Bob Hillside" --attr ward=Hillside >/dev/null
$C sub add Carol.Jones@example.org --list members --name "Carol Jones" --attr ward=Hillside >/dev/null
$C event add --kind strike --title "Depot strike" --start "2026-12-09 07:00" >/dev/null 2>&1
$C event add --kind picket --title "Sunday picket" --start "2026-12-13 10:00" >/dev/null 2>&1
$C item add weekly --list members --kind bulletin --segment "ward = 'Hillside'" \
	--subject "Week of {{run.date}}" \
	--rrule "FREQ=WEEKLY;BYDAY=MO;BYHOUR=8;BYMINUTE=0" --start 2026-11-30 >/dev/null 2>&1

out=$($C item preview weekly 2>"$T/err"); rc=$?
err=$(cat "$T/err")
expect_eq "preview exits 0" "$rc" 0
expect_contains "the subject has the issue's date: Monday" "$out" "Subject: Week of Monday 7 December 2026"
expect_not_contains "not the day of the preview" "$out" "Saturday"
expect_contains "the window is Monday's: the Sunday picket is in it" "$out" "Sunday picket"
expect_contains "and the strike" "$out" "Depot strike"
expect_contains "for a member inside the segment" "$out" "Bob"
expect_not_contains "not the list's first member, outside it" "$out" "Alice"
expect_contains "stderr says which issue and for whom" "$err" "preview of the issue due 2026-12-07 08:00 for bob@example.org"
expect_eq "no run is left behind" "$(sqlite3 "$T/clarion.db" 'SELECT count(*) FROM runs')" 0
expect_eq "run list stays empty" "$($C run list)" ""

out=$($C item preview weekly --subscriber carol.jones@example.org 2>&1); rc=$?
expect_eq "--subscriber in lower case finds Carol.Jones: exit 0" "$rc" 0
expect_contains "and the preview is hers" "$out" "Carol"
out=$($C item preview weekly --subscriber alice@example.org 2>&1)
expect_contains "a member outside the segment is named as such" "$out" "alice@example.org is outside the segment"
out=$($C item preview weekly --subscriber nobody@example.org 2>&1); rc=$?
expect_eq "an unknown member: exit 67" "$rc" 67
$C item preview weekly --raw >/dev/null 2>&1
$C item preview weekly --html >/dev/null 2>&1
expect_eq "still no run after several previews" "$(sqlite3 "$T/clarion.db" 'SELECT count(*) FROM runs')" 0

# The real Monday issue is what the preview showed.
$C item preview weekly --subscriber bob@example.org 2>/dev/null |
	grep -v -i -e unsubscribe -e 'reply+' > "$T/preview.txt"
at "2026-12-07 08:00:05"
"$CLARIOND" -c "$T/c.conf" --once 2>"$T/daemon.log"
f=$(grep -l 'bob@example.org' "$T"/outbox/new/* | head -1)
check "Bob got the Monday issue" test -n "$f"
/usr/bin/python3 - "$f" > "$T/real.txt" <<'PY'
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)
sys.stdout.write('Subject: %s\n\n%s' % (m['Subject'], m.get_body(('plain',)).get_content()))
PY
grep -v -i -e unsubscribe -e 'reply+' "$T/real.txt" > "$T/real2.txt"
if diff "$T/preview.txt" "$T/real2.txt" > "$T/diff"; then
	pass "the preview is the real issue, word for word (tokens aside)"
else
	fail "the preview is the real issue, word for word (tokens aside)"; sed 's/^/#   /' "$T/diff"
fi
expect_eq "one run: the real one" "$(sqlite3 "$T/clarion.db" "SELECT count(*) || ' ' || group_concat(purpose) FROM runs")" "1 issue"
done_testing
