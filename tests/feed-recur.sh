#!/bin/sh
# Issue 17: iCalendar feeds keep recurrence. A weekly picket
# (RRULE:FREQ=WEEKLY;BYDAY=WE;COUNT=4) becomes four events; EXDATE takes
# one out, a RECURRENCE-ID override moves one; a re-import changes
# nothing and duplicates nothing; an open-ended rule keeps its local hour
# across the clock change; feeds are listed and removed.
. "$top_srcdir/tests/lib/common.sh"
CLOCK="$T/clock"
export CLARION_CLOCK_FILE="$CLOCK"
date -u -d "2026-12-05 11:00" +%s > "$CLOCK"
make_config "$T/c.conf"
C="$CLARION -c $T/c.conf"
$C init >/dev/null || { fail "clarion init"; exit 1; }
cal() { # cal FILE EXTRA-PICKET-LINES OVERRIDE-BLOCK
	{
		printf 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n'
		printf 'BEGIN:VEVENT\r\nUID:picket-1@example.org\r\nDTSTAMP:20261201T000000Z\r\n'
		printf 'DTSTART;TZID=Europe/London:20261209T070000\r\nDTEND;TZID=Europe/London:20261209T090000\r\n'
		printf 'RRULE:FREQ=WEEKLY;BYDAY=WE;COUNT=4\r\nSUMMARY:Weekly picket\r\nCATEGORIES:picket\r\n'
		printf '%b' "$2"
		printf 'END:VEVENT\r\n'
		printf '%b' "$3"
		printf 'BEGIN:VEVENT\r\nUID:rally@example.org\r\nDTSTAMP:20261201T000000Z\r\n'
		printf 'DTSTART;TZID=Europe/London:20261207T180000\r\nRRULE:FREQ=WEEKLY;BYDAY=MO\r\n'
		printf 'SUMMARY:Monday rally\r\nCATEGORIES:demo\r\nEND:VEVENT\r\n'
		printf 'END:VCALENDAR\r\n'
	} > "$1"
}
pickets() { $C event list --kind picket --to 2027-01-31 | awk 'NR > 1 { print $2, $3 }' | tr '\n' ' '; }

cal "$T/feed.ics" "" ""
out=$($C event import "file://$T/feed.ics" 2>&1); rc=$?
expect_eq "the feed is imported: exit 0" "$rc" 0
expect_eq "the weekly picket is four events" "$(pickets)" \
	"2026-12-09 07:00 2026-12-16 07:00 2026-12-23 07:00 2026-12-30 07:00 "
out=$($C event list --kind demo --from 2027-06-01 --to 2027-06-08)
expect_contains "an open-ended weekly rally keeps 18:00 local in summer" "$out" "2027-06-07 18:00"
expect_eq "the open-ended rule is expanded only so far ahead" \
	"$($C event list --kind demo --from 2028-06-01 --to 2028-12-31 | wc -l)" 0
n1=$(sqlite3 "$T/clarion.db" "SELECT count(*) FROM events")

out=$($C event import "file://$T/feed.ics" 2>&1)
expect_contains "a re-import changes nothing" "$out" "0 new, 0 changed, 0 cancelled"
expect_eq "and duplicates nothing" "$(sqlite3 "$T/clarion.db" "SELECT count(*) FROM events")" "$n1"

# The union drops 23 December and moves 16 December to 10:00.
cal "$T/feed.ics" 'EXDATE;TZID=Europe/London:20261223T070000\r\n' \
	'BEGIN:VEVENT\r\nUID:picket-1@example.org\r\nDTSTAMP:20261202T000000Z\r\nRECURRENCE-ID;TZID=Europe/London:20261216T070000\r\nDTSTART;TZID=Europe/London:20261216T100000\r\nDTEND;TZID=Europe/London:20261216T120000\r\nSUMMARY:Weekly picket (late start)\r\nCATEGORIES:picket\r\nSEQUENCE:1\r\nEND:VEVENT\r\n'
out=$($C event import "file://$T/feed.ics" 2>&1)
expect_contains "EXDATE and the override: one changed, one cancelled" "$out" "0 new, 1 changed, 1 cancelled"
expect_eq "the pickets now" "$(pickets)" "2026-12-09 07:00 2026-12-16 10:00 2026-12-30 07:00 "
expect_contains "the moved one has its own title" "$($C event list --kind picket)" "Weekly picket (late start)"
expect_eq "still no duplicate rows" "$(sqlite3 "$T/clarion.db" "SELECT count(*) FROM events")" "$n1"
out=$($C event import "file://$T/feed.ics" 2>&1)
expect_contains "re-importing the override changes nothing" "$out" "0 new, 0 changed, 0 cancelled"

# A bulletin shows each occurrence in its week.
$C list create members --from news@example.org --owner secretary@example.org >/dev/null
$C sub add alice@example.org --list members --name Alice >/dev/null
$C item add weekly --list members --kind bulletin --subject "Week of {{run.date}}" \
	--rrule "FREQ=WEEKLY;BYDAY=MO;BYHOUR=8;BYMINUTE=0" --start 2026-11-30 >/dev/null 2>&1
out=$($C item preview weekly 2>/dev/null)
expect_contains "the coming issue lists the week's picket" "$out" "Weekly picket"

out=$($C event feeds)
expect_contains "event feeds lists the feed" "$out" "file://$T/feed.ics"
out=$($C event feed-remove 1 2>&1); rc=$?
expect_eq "event feed-remove: exit 0" "$rc" 0
expect_contains "says what it did" "$out" "feed 1 removed"
expect_eq "the feed is gone" "$($C event feeds)" ""
expect_eq "its coming events are cancelled" "$(pickets)" ""
out=$($C event feed-remove 1 2>&1); rc=$?
expect_eq "removing it again: exit 65" "$rc" 65
expect_contains "with a clear message" "$out" "no feed '1'"
done_testing
