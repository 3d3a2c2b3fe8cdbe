#!/bin/sh
# Hostile input through the real programs: each case ends with a clear
# error and no change, or, where a value is accepted, with no effect
# beyond its own text. Header injection goes all the way: clarion sets the
# values, clariond composes and writes the outbox, and Python's email
# package reads what a member would receive.
. "$top_srcdir/tests/lib/common.sh"

CR=$(printf '\r')
NL='
'
CLOCK="$T/clock"
export CLARION_CLOCK_FILE="$CLOCK"
at() { date -u -d "$1" +%s > "$CLOCK"; }
at "2026-11-27 12:00"
make_config "$T/c.conf" 'tick = 1;'
C="$CLARION -c $T/c.conf"
$C init >/dev/null || { fail "clarion init"; done_testing; exit 1; }
q() { sqlite3 "$T/clarion.db" "$1"; }

# --- a template with an unclosed section: 65 and the line -------------------
printf 'Hello {{name}}\n{{#events}}\n{{title}}\n' > "$T/bad.mustache"
echo '{"name": "Jo", "events": []}' > "$T/d.json"
out=$($CLARION template render "$T/bad.mustache" "$T/d.json" 2>&1); rc=$?
expect_eq "template render of an unbalanced section exits 65" "$rc" 65
expect_contains "and names the line and the section" "$out" 'line 2: section "events" is not closed'

# --- config with control characters: 78 with file:line ----------------------
printf 'domain = "example.org";\nsmtp = { helo = "a\\r\\nMAIL FROM:<x>"; };\n' > "$T/ctl.conf"
chmod 600 "$T/ctl.conf"
out=$($CLARION -c "$T/ctl.conf" check-config 2>&1); rc=$?
expect_eq "check-config refuses a control character (78)" "$rc" 78
expect_contains "naming file:line and key" "$out" "$T/ctl.conf:2: smtp.helo: contains a control character"
out=$("$CLARIOND" -n -c "$T/ctl.conf" 2>&1); rc=$?
expect_eq "and so does clariond -n" "$rc" 78

# --- CSV with a NUL and invalid UTF-8: those rows refused, the rest in ------
$C list create members --from news@example.org --owner sec@example.org \
    --display-name "Hillside CLP" >/dev/null
printf 'email,name\nann@example.org,Ann\nbad@example.org,B\000d\nutf@example.org,\377\376x\ncat@example.org,Cat\n' > "$T/in.csv"
out=$($C sub import --list members "$T/in.csv" 2>&1); rc=$?
expect_eq "an import with some rows refused exits 1 (the rest are in)" "$rc" 1
expect_contains "the NUL row is refused by line" "$out" "in.csv:3: a NUL byte"
expect_contains "the bad UTF-8 row is refused by line" "$out" "in.csv:4: invalid UTF-8"
expect_eq "the good rows are in, the bad ones not" \
    "$(q "SELECT group_concat(address, ' ') FROM (SELECT address FROM subscribers ORDER BY id)")" \
    "ann@example.org cat@example.org"

# --- header injection, through every field that reaches a header ------------
# Each hostile value is either refused by clarion (non-zero exit, nothing
# stored) or stored and later kept inside its own header.
refused_or_stored() { # DESC RC SQL-COUNT-BEFORE SQL-COUNT-AFTER
	if [ "$2" -ne 0 ]; then
		expect_eq "$1: refused, nothing stored" "$4" "$3"
	else
		pass "$1: accepted as text (checked in the outbox below)"
	fi
}
evil_name="Eve${CR}${NL}Bcc: name@evil.example"
evil_display="Hillside${CR}${NL}Bcc: display@evil.example"
evil_title="Strike${CR}${NL}X-Injected: title"
evil_subject="Week${CR}${NL}X-Injected: subject"

b=$(q "SELECT count(*) FROM lists")
$C list create evil --from news@example.org --owner sec@example.org \
    --display-name "$evil_display" >/dev/null 2>"$T/err"; rc=$?
refused_or_stored "list display name with CR LF" $rc "$b" "$(q "SELECT count(*) FROM lists")"
if [ $rc -ne 0 ]; then
	# Refused: the rest of the test mails a list with a plain name.
	expect_contains "with a reason" "$(cat "$T/err")" "clarion:"
	$C list create evil --from news@example.org --owner sec@example.org \
	    --display-name "Evil list" >/dev/null
fi

b=$(q "SELECT count(*) FROM subscribers")
$C sub add eve@example.org --list evil --name "$evil_name" >/dev/null 2>"$T/err"; rc=$?
refused_or_stored "subscriber name with CR LF" $rc "$b" "$(q "SELECT count(*) FROM subscribers")"
[ $rc -eq 0 ] || $C sub add eve@example.org --list evil --name "Eve" >/dev/null
$C sub add "\"x${CR}${NL}Bcc: a@evil.example\"@example.org" --list evil >/dev/null 2>&1; rc=$?
expect_eq "an address hiding CR LF in quotes is refused" "$rc" 65
$C sub add fred@example.org --list evil --name "Fred" >/dev/null
# A CSV may carry a line break inside a quoted field, and a name is exactly
# where a spreadsheet would put one.
printf 'email,name\r\ngus@example.org,"Gus\r\nBcc: csv@evil.example"\r\n' > "$T/evil.csv"
b=$(q "SELECT count(*) FROM subscribers")
$C sub import --list evil "$T/evil.csv" >"$T/err" 2>&1; rc=$?
refused_or_stored "CSV import of a name with CR LF in quotes" $rc "$b" "$(q "SELECT count(*) FROM subscribers")"

b=$(q "SELECT count(*) FROM events")
$C event add --kind strike --title "$evil_title" --start "2026-12-01 08:00" >/dev/null 2>"$T/err"; rc=$?
refused_or_stored "event title with CR LF" $rc "$b" "$(q "SELECT count(*) FROM events")"
[ $rc -eq 0 ] || $C event add --kind strike --title "Strike" --start "2026-12-01 08:00" >/dev/null

# iCalendar TEXT turns "\n" into a line break: a feed's event title.
printf 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//evil//EN\r\nBEGIN:VEVENT\r\nUID:evil-1@evil.example\r\nDTSTART:20261202T090000Z\r\nSUMMARY:Picket\\nX-Injected: ical\r\nCATEGORIES:picket\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n' > "$T/evil.ics"
b=$(q "SELECT count(*) FROM events")
$C event import "$T/evil.ics" >"$T/err" 2>&1; rc=$?
refused_or_stored "iCalendar import of a title with a line break" $rc "$b" "$(q "SELECT count(*) FROM events")"
echo "# $(q "SELECT group_concat(quote(title), ' ') FROM events")"

b=$(q "SELECT count(*) FROM items")
$C item add literal --list evil --kind bulletin --subject "$evil_subject" \
    --at "2026-11-30 08:00" >/dev/null 2>"$T/err"; rc=$?
refused_or_stored "subject template with CR LF in its text" $rc "$b" "$(q "SELECT count(*) FROM items")"
# The subject template's output carries every hostile value at once.
out=$($C item add weekly --list evil --kind bulletin --days 7 \
    --subject '{{#days}}{{#events}}{{title}}{{/events}}{{/days}} for {{subscriber.name}} of {{list.display_name}}' \
    --at "2026-11-30 08:00" 2>&1); rc=$?
expect_eq "a bulletin whose subject holds the event title, name and list" "$rc" 0

"$CLARIOND" -c "$T/c.conf" 2>"$T/log" &
PID=$!
stop_daemon() { kill -9 $PID 2>/dev/null; }
on_exit stop_daemon
n_out() { ls "$T/outbox/new" 2>/dev/null | wc -l; }
at "2026-11-30 08:00:05"
has_out() { [ "$(n_out)" -ge "$want" ]; }
want=$(( $(q "SELECT count(*) FROM memberships m JOIN lists l ON l.id = m.list_id WHERE l.name = 'evil' AND m.status = 'subscribed'") * $(q "SELECT count(*) FROM items WHERE status = 'active'") ))
check "the bulletins reach every member of the list ($want messages)" wait_for has_out
sleep 1
kill -TERM $PID; wait $PID
/usr/bin/python3 "$top_srcdir/tests/lib/headers-check.py" "$T/outbox/new" > "$T/hdr" 2>"$T/hdr.err"
cat "$T/hdr.err"
expect_eq "every message parsed" "$(wc -l < "$T/hdr")" "$(n_out)"
expect_eq "no message carries an injected header" "$(grep -c 'injected=yes' "$T/hdr")" 0
expect_eq "each message has exactly one recipient" "$(grep -vc ' to=1 ' "$T/hdr")" 0
expect_not_contains "no Bcc anywhere in the outbox headers" \
    "$(cat "$T"/outbox/new/* | sed -n '1,/^\r*$/p' | grep -i '^bcc:')" "evil"

done_testing
