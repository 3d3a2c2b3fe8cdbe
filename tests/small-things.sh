#!/bin/sh
# Issue 17, the small things a volunteer trips on: an event in the past,
# `item add --at <now>`, the times `sub show` gives, the exit status of
# an import that partly succeeded, and unknown subcommands.
. "$top_srcdir/tests/lib/common.sh"
CLOCK="$T/clock"
export CLARION_CLOCK_FILE="$CLOCK"
at() { date -u -d "$1" +%s > "$CLOCK"; }
at "2027-07-01 09:00"	# summer: London is UTC+1
make_config "$T/c.conf"
C="$CLARION -c $T/c.conf"
$C init >/dev/null || { fail "clarion init"; exit 1; }
$C list create members --from news@example.org --owner secretary@example.org >/dev/null

# Events in the past.
out=$($C event add --kind strike --title "Old strike" --start "2026-07-01 08:00" 2>&1); rc=$?
expect_eq "an event in the past is refused: exit 65" "$rc" 65
expect_contains "saying so" "$out" "the event is in the past (2026-07-01 08:00)"
expect_contains "and how to add it anyway" "$out" "--force"
expect_eq "nothing was added" "$(sqlite3 "$T/clarion.db" 'SELECT count(*) FROM events')" 0
out=$($C event add --kind strike --title "Old strike" --start "2026-07-01 08:00" --force 2>&1); rc=$?
expect_eq "--force adds it: exit 0" "$rc" 0
expect_contains "with a warning" "$out" "warning: the event is in the past"
out=$($C event add --kind strike --title "Today's strike" --start "2027-07-01" 2>&1); rc=$?
expect_eq "an all-day event today is fine" "$rc" 0
id=$($C event add --kind picket --title "Picket" --start "2027-07-10 07:00" | awk '{print $2}' | tr -d :)
out=$($C event edit "$id" --start "2026-07-10 07:00" 2>&1); rc=$?
expect_eq "event edit into the past is refused too" "$rc" 65

# item add --at now.
printf '# Hi\n' > "$T/n.md"
out=$($C item add now --list members --kind newsletter --subject Hi --content "$T/n.md" --at "2027-07-01 10:00" 2>&1); rc=$?
expect_eq "item add --at now: exit 0" "$rc" 0
expect_not_contains "it does not say next due -" "$out" "next due -"
expect_contains "it says when, and that it goes now" "$out" "next due 2027-07-01 10:00 (now: clariond sends it on its next pass)"
expect_contains "item show agrees" "$($C item show now)" "2027-07-01 10:00"
out=$($C item add old --list members --kind newsletter --subject Hi --content "$T/n.md" --at "2027-06-01 10:00" 2>&1); rc=$?
expect_eq "--at long past is refused: exit 65" "$rc" 65
expect_contains "saying it would never be sent" "$out" "would never be sent"

# sub show: local times, and the time of leaving.
at "2027-03-10 12:00"	# winter: UTC
$C sub add alice@example.org --list members --name Alice >/dev/null
at "2027-07-01 09:00"
$C sub unsubscribe alice@example.org --list members >/dev/null
out=$($C sub show alice@example.org)
expect_contains "unsubscribed since the unsubscribe, in local time" "$out" "unsubscribed since 2027-07-01 10:00"
expect_not_contains "not the subscribe time" "$out" "2027-03-10"
expect_not_contains "no UTC ISO times" "$out" ":00Z"
$C sub add bob@example.org --list members >/dev/null
expect_contains "subscribed since the consent, local" "$($C sub show bob@example.org)" "subscribed   since 2027-07-01 10:00"

# Import exit statuses.
printf 'email,name\ncarol@example.org,Carol\nnot-an-address,X\n' > "$T/part.csv"
out=$($C sub import --list members "$T/part.csv" 2>&1); rc=$?
expect_eq "some rows refused, the rest in: exit 1" "$rc" 1
expect_contains "the rest are in" "$out" "imported into members"
printf 'email,name\nbad1,X\nbad2,Y\n' > "$T/bad.csv"
out=$($C sub import --list members "$T/bad.csv" 2>&1); rc=$?
expect_eq "nothing imported: exit 65" "$rc" 65
printf 'email,name\ndan@example.org,Dan\n' > "$T/good.csv"
$C sub import --list members "$T/good.csv" >/dev/null 2>&1; rc=$?
expect_eq "all imported: exit 0" "$rc" 0

# Unknown subcommands name the word.
out=$($C run frobnicate 2>&1); rc=$?
expect_eq "an unknown subcommand: exit 64" "$rc" 64
expect_contains "naming it" "$out" "run: 'frobnicate' is not a subcommand"
out=$($C item prevew weekly 2>&1)
expect_contains "item too" "$out" "item: 'prevew' is not a subcommand"
out=$($C sub shw alice@example.org 2>&1)
expect_contains "sub too" "$out" "sub: 'shw' is not a subcommand"
out=$($C queue frob 2>&1)
expect_contains "queue too" "$out" "queue: 'frob' is not a subcommand"
out=$($C run show 2>&1)
expect_contains "a known one with the wrong arguments says that" "$out" "run show: wrong number of arguments"
done_testing
