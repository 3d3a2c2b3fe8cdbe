#!/bin/sh
# The schedule commands through the real clarion binary, with a fixed
# clock: events, feeds, items, meeting notices and runs.
. "$top_srcdir/tests/lib/common.sh"

make_config "$T/c.conf"
C() { "$CLARION" -c "$T/c.conf" "$@"; }
at() { date -u -d "$1" +%s; }

# Monday 10 May 2027, 07:30 in London (06:30Z).
CLARION_NOW=$(at "2027-05-10 06:30"); export CLARION_NOW

C init >/dev/null || { fail "init"; done_testing; exit 1; }
C list create members --from secretary@example.org \
	--owner owner@example.org >/dev/null 2>&1 ||
	{ fail "list create"; done_testing; exit 1; }

# Events
out=$(C event add --kind strike --title "Bin strike" --union UNISON \
	--employer "Hillside Council" --start "2027-05-12 06:00" \
	--end "2027-05-12 18:00" --location Depot 2>&1); rc=$?
expect_eq "event add exits 0" "$rc" 0
expect_contains "event add prints the local time" "$out" \
	"strike 2027-05-12 06:00, Bin strike"
out=$(C event add --kind riot --title X --start "2027-05-12 06:00" 2>&1); rc=$?
expect_eq "a bad kind exits 65" "$rc" 65
expect_contains "and names the kinds" "$out" "is not an event kind"
out=$(C event add --kind strike --title X --start "12/05/2027" 2>&1); rc=$?
expect_eq "a bad date exits 65" "$rc" 65
expect_contains "and shows the format" "$out" "YYYY-MM-DD HH:MM"
C event add --kind picket --title "Old picket" --start "2027-05-01 07:00" --force \
	>/dev/null
out=$(C event list); rc=$?
expect_eq "event list exits 0" "$rc" 0
expect_contains "event list shows the coming strike" "$out" "Bin strike"
expect_contains "with its union and employer" "$out" "UNISON       Hillside Council"
expect_not_contains "but not the past picket" "$out" "Old picket"
out=$(C event list --from "2027-04-01"); rc=$?
expect_contains "--from shows older events" "$out" "Old picket"
out=$(C --json event show 1); rc=$?
v=$(printf '%s' "$out" | /usr/bin/python3 -c \
	'import json,sys; d=json.load(sys.stdin); print(d["start"], d["end"], d["union"], d["sequence"])')
expect_eq "event show --json: local times, union, sequence" "$v" \
	"2027-05-12 06:00 2027-05-12 18:00 UNISON 0"
out=$(C event edit 1 --start "2027-05-13 06:00" --end "2027-05-13 18:00"); rc=$?
expect_eq "event edit exits 0" "$rc" 0
expect_contains "edit bumps the sequence" "$out" "updated (sequence 1)"

cat > "$T/events.csv" <<'EOF'
kind,title,union,workplace,start,end,notes
ballot,"Pay ballot, closes noon",GMB,Depot,2027-05-14 12:00,,
demo,March for the NHS,,,2027-05-15,,"Bring ""banners"""
EOF
out=$(C event import "$T/events.csv"); rc=$?
expect_eq "CSV import exits 0" "$rc" 0
expect_contains "CSV import counts" "$out" "2 new, 0 changed"
out=$(C event import "$T/events.csv"); rc=$?
expect_contains "importing again adds nothing" "$out" "0 new, 0 changed"
printf 'kind,title,start\nstrike,Bad,not a date\n' > "$T/bad.csv"
out=$(C event import "$T/bad.csv" 2>&1); rc=$?
expect_eq "a bad CSV exits 65" "$rc" 65
expect_contains "and names the line" "$out" "line 2"

cat > "$T/feed.ics" <<'EOF'
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:rail-1@feed
DTSTAMP:20270101T000000Z
DTSTART;TZID=Europe/London:20270511T070000
SUMMARY:Rail picket
CATEGORIES:picket
X-CLARION-UNION:RMT
END:VEVENT
END:VCALENDAR
EOF
out=$(C event import "file://$T/feed.ics"); rc=$?
expect_eq "feed import exits 0" "$rc" 0
expect_contains "feed import counts" "$out" "1 new, 0 changed, 0 cancelled"
out=$(C event feeds)
expect_contains "event feeds lists it" "$out" "file://$T/feed.ics"
out=$(C event list)
expect_contains "the feed's event is listed in local time" "$out" \
	"2027-05-11 07:00 picket   Rail picket"

# A feed over HTTP: conditional requests, then a change and a removal.
mkdir -p "$T/www"
cat > "$T/www/union.ics" <<'EOF'
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:nurses@union
DTSTAMP:20270101T000000Z
DTSTART:20270518T060000Z
SUMMARY:Nurses strike
CATEGORIES:STRIKE
END:VEVENT
BEGIN:VEVENT
UID:rally@union
DTSTAMP:20270101T000000Z
DTSTART:20270519T110000Z
SUMMARY:Rally in the square
CATEGORIES:demo
END:VEVENT
END:VCALENDAR
EOF
touch -d "2027-01-01 00:00:00 UTC" "$T/www/union.ics"
port=$(free_port 31480)
(cd "$T/www" && exec /usr/bin/python3 -m http.server --bind 127.0.0.1 "$port") \
	2>"$T/http.log" >/dev/null &
http_pid=$!
stop_http() { kill "$http_pid" 2>/dev/null; wait "$http_pid" 2>/dev/null; }
on_exit stop_http
wait_for curl -sf -o /dev/null "http://127.0.0.1:$port/union.ics" ||
	fail "http.server did not start"
url="http://127.0.0.1:$port/union.ics"
out=$(C event import "$url"); rc=$?
expect_eq "HTTP feed import exits 0" "$rc" 0
expect_contains "HTTP feed: two new events" "$out" "2 new, 0 changed, 0 cancelled"
"$CLARIOND" -c "$T/c.conf" --once >"$T/d0.log" 2>&1
expect_contains "an unchanged feed is not fetched again in full (304)" \
	"$(cat "$T/http.log")" '"GET /union.ics HTTP/1.1" 304'
cat > "$T/www/union.ics" <<'EOF'
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:nurses@union
DTSTAMP:20270101T000000Z
DTSTART:20270520T060000Z
SUMMARY:Nurses strike (moved)
CATEGORIES:STRIKE
END:VEVENT
END:VCALENDAR
EOF
touch -d "2027-02-01 00:00:00 UTC" "$T/www/union.ics"
"$CLARIOND" -c "$T/c.conf" --once >>"$T/d0.log" 2>&1
out=$(C event list --all)
expect_contains "the changed event is updated by the daemon's tick" "$out" \
	"2027-05-20 07:00 strike   Nurses strike (moved)"
expect_contains "the removed event is cancelled" \
	"$(C event list --all | grep Rally)" "(cancelled)"
expect_not_contains "a cancelled event is not in the default list" \
	"$(C event list)" "Rally in the square"
v=$(C --json event show nurses@union | /usr/bin/python3 -c \
	'import json,sys; print(json.load(sys.stdin)["sequence"])')
expect_eq "its sequence is bumped" "$v" 1
stop_http

# Items
out=$(C item add weekly --list members --kind bulletin \
	--subject "What's on: {{run.date}}" \
	--rrule "FREQ=WEEKLY;BYDAY=MO;BYHOUR=8;BYMINUTE=0" --start 2027-05-01 \
	2>&1); rc=$?
expect_eq "item add exits 0" "$rc" 0
expect_contains "and prints the next time" "$out" "next due 2027-05-10 08:00"
out=$(C item add bad --list members --kind bulletin --subject S \
	--rrule "FREQ=SOMETIMES" --start 2027-05-01 2>&1); rc=$?
expect_eq "a bad RRULE exits 65" "$rc" 65
expect_contains "and says why" "$out" "not an RFC 5545 recurrence rule"
out=$(C item add nolist --list nobody --kind bulletin --subject S \
	--at "2027-06-01 09:00" 2>&1); rc=$?
expect_eq "an unknown list exits 65" "$rc" 65
out=$(C item add news --list members --kind newsletter --subject S \
	--at "2027-06-01 09:00" 2>&1); rc=$?
expect_eq "a newsletter without --content exits 64" "$rc" 64
printf '# June\n\nNews.\n' > "$T/june.md"
out=$(C item add june --list members --kind newsletter --subject "June" \
	--content "$T/june.md" --at "2027-06-01 09:00" 2>&1); rc=$?
expect_eq "a newsletter item is added" "$rc" 0
out=$(C item list); rc=$?
expect_eq "item list exits 0" "$rc" 0
expect_contains "item list shows the bulletin" "$out" "weekly"
expect_contains "and the newsletter's time" "$out" "2027-06-01 09:00"
out=$(C item show weekly); rc=$?
expect_eq "item show exits 0" "$rc" 0
expect_contains "item show gives the rule" "$out" \
	"FREQ=WEEKLY;BYDAY=MO;BYHOUR=8;BYMINUTE=0 from 2027-05-01 00:00"
expect_contains "and skip-when-empty on for a bulletin" "$out" "skip_empty  yes"
out=$(C item pause june); rc=$?
expect_contains "item pause" "$out" "june paused"
out=$(C item resume june); rc=$?
expect_contains "item resume" "$out" "june active"
out=$(C item resume june 2>&1); rc=$?
expect_eq "resuming an item that is not paused exits 65" "$rc" 65
expect_contains "and says what it is (it said '(null)')" "$out" \
	"item june is active, not paused"

# Meeting notices
printf '# Agenda\n\n1. Pay claim\n' > "$T/agenda.md"
out=$(C notice add --list members --title "Branch meeting" \
	--meeting "2027-05-13 19:00" --venue "Miners' Hall" \
	--agenda "$T/agenda.md" 2>&1); rc=$?
expect_eq "too little notice exits 65" "$rc" 65
expect_contains "and names the meeting date" "$out" "Thu 13 May 2027 19:00"
expect_contains "and the notice period" "$out" "requires 7 days"
expect_contains "and --force" "$out" "--force"
out=$(C notice add --list members --title "Branch meeting" \
	--meeting "2027-05-13 19:00" --venue "Miners' Hall" \
	--agenda "$T/agenda.md" --force 2>&1); rc=$?
expect_eq "--force accepts it" "$rc" 0
expect_contains "and prints the notice" "$out" "Branch meeting, 2027-05-13 19:00"
nid=$(printf '%s' "$out" | sed -n 's/^notice \([0-9]*\) .*/\1/p')
out=$(C run list --item "$nid"); rc=$?
expect_eq "run list exits 0" "$rc" 0
expect_contains "a notice run, due now" "$out" "notice   2027-05-10 07:30 planned"
expect_contains "a reminder run, the day before" "$out" \
	"reminder 2027-05-12 19:00 planned"
out=$(C notice move "$nid" --meeting "2027-05-20 19:00"); rc=$?
expect_eq "notice move exits 0" "$rc" 0
out=$(C run list --item "$nid")
expect_contains "the old reminder is cancelled" "$out" \
	"reminder 2027-05-12 19:00 cancelled the meeting moved"
expect_contains "a new reminder is planned" "$out" \
	"reminder 2027-05-19 19:00 planned"
out=$(C notice cancel "$nid"); rc=$?
expect_eq "notice cancel exits 0" "$rc" 0
out=$(C run list --item "$nid")
expect_not_contains "nothing of it is left planned" "$out" "planned"
out=$(C notice list)
expect_contains "notice list shows it cancelled" "$out" "Branch meeting (cancelled)"

# The schedule step through the daemon: the bulletin due at 08:00.
CLARION_NOW=$(at "2027-05-10 07:05"); export CLARION_NOW
"$CLARIOND" -c "$T/c.conf" --once >"$T/d.log" 2>&1; rc=$?
expect_eq "clariond --once exits 0" "$rc" 0
out=$(C run list --item weekly)
expect_contains "one bulletin run for Monday 08:00" "$out" \
	"weekly           issue    2027-05-10 08:00"
"$CLARIOND" -c "$T/c.conf" --once >>"$T/d.log" 2>&1
expect_eq "a second tick makes no second run" \
	"$(C run list --item weekly | grep -c 'issue')" 1
out=$(C --json run list --item weekly)
v=$(printf '%s' "$out" | /usr/bin/python3 -c \
	'import json,sys; d=json.load(sys.stdin); print(len(d), d[0]["purpose"], d[0]["due"])')
expect_eq "run list --json" "$v" "1 issue 2027-05-10 08:00"
rid=$(printf '%s' "$out" | /usr/bin/python3 -c \
	'import json,sys; print(json.load(sys.stdin)[0]["id"])')
out=$(C run show "$rid"); rc=$?
expect_eq "run show exits 0" "$rc" 0
expect_contains "run show names the item" "$out" "item      weekly"
out=$(C run resend "$rid" 2>&1); rc=$?
expect_eq "resend without --to-missed exits 64" "$rc" 64
out=$(C run show 99999 2>&1); rc=$?
expect_eq "an unknown run exits 65" "$rc" 65

done_testing
