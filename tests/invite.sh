#!/bin/sh
# Calendar invites (issue 20, RFC 5546), read back with a real iCalendar
# parser (python3-icalendar): each member's invite names them as
# ATTENDEE;CN=...;RSVP=TRUE and has as ORGANIZER the reply address with
# their token (so Accept and Decline come back to Clarion); a meeting
# without an end gets DTEND after schedule.meeting_length; DESCRIPTION is
# the agenda's text without Markdown heading underlines; the invite is
# also attached as invite.ics. A member who left after the notice still
# gets the cancellation of that meeting, and nothing else.
. "$top_srcdir/tests/lib/common.sh"
/usr/bin/python3 -c 'import icalendar' 2>/dev/null ||
	skip "python3-icalendar is not installed"

CLOCK="$T/clock"
export CLARION_CLOCK_FILE="$CLOCK"
at() { date -u -d "$1" +%s > "$CLOCK"; }
at "2026-11-27 12:00"
make_config "$T/c.conf" 'schedule = { meeting_length = "90m"; };'
C="$CLARION -c $T/c.conf"
$C init >/dev/null
$C list create members --from news@example.org --owner sec@example.org --display-name "Hillside CLP" >/dev/null
$C sub add alice@example.org --list members --name "Alice Smith" >/dev/null
$C sub add bob@example.org --list members --name "Bob Jones" >/dev/null
printf '# Agenda\n\n1. Apologies\n2. Strike support fund\n\nOther business\n--------------\n\nNone.\n' > "$T/agenda.md"
out=$($C notice add --list members --title "General meeting" --meeting "2027-01-20 19:00" \
    --venue "Hillside Community Centre" --agenda "$T/agenda.md" --reminder none 2>&1); rc=$?
expect_eq "notice add exits 0" "$rc" 0
notice=$(echo "$out" | sed -n 's/.*\(notice-[0-9]*\).*/\1/p' | head -1)
"$CLARIOND" --once -c "$T/c.conf" 2>"$T/log" || fail "clariond --once"

# inv FILE: what the parser finds in the message's invite(s).
inv() {
	/usr/bin/python3 - "$1" <<'PY'
import email, email.policy, sys
import icalendar
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
cal = [p for p in m.walk() if p.get_content_type() == "text/calendar"]
att = [p for p in m.walk() if p.get_content_type() == "application/ics"]
print("parts", len(cal), len(att), m.get_content_type(),
      att[0].get_content_disposition() if att else "-",
      att[0].get_filename() if att else "-")
a = cal[0].get_content().encode()
b = att[0].get_content() if att else b""
print("attachment is the invite", a.replace(b"\r\n", b"\n") == b.replace(b"\r\n", b"\n"))
c = icalendar.Calendar.from_ical(a)
print("method", c["METHOD"], cal[0].get_param("method"))
ev = [e for e in c.walk("VEVENT")][0]
org = ev["ORGANIZER"]
print("organizer", str(org).split("+")[0], str(org).split("@")[1], org.params.get("CN"))
at = ev.get("ATTENDEE")
at = at if isinstance(at, list) else [at] if at is not None else []
if not at:
    print("attendee none")
for x in at:
    print("attendee", str(x), x.params.get("CN"), x.params.get("RSVP"),
          x.params.get("PARTSTAT"), x.params.get("ROLE"))
print("length", ev.decoded("DTEND") - ev.decoded("DTSTART") if "DTEND" in ev else "no DTEND")
d = str(ev.get("DESCRIPTION", ""))
print("description", "===" not in d and "---" not in d, "Agenda" in d,
      "Other business" in d, "Strike support fund" in d)
print("reply-to matches organizer", str(m["Reply-To"]).strip("<>") == str(org)[7:])
PY
}
for who in "alice@example.org:Alice Smith" "bob@example.org:Bob Jones"; do
	addr=${who%%:*} name=${who#*:}
	f=$(grep -l "^To: .*<$addr>" "$T"/outbox/new/* | head -1)
	out=$(inv "$f" 2>&1)
	expect_eq "$addr: the invite, read by icalendar" "$out" "parts 1 1 multipart/mixed attachment invite.ics
attachment is the invite True
method REQUEST REQUEST
organizer mailto:reply example.org Hillside CLP
attendee mailto:$addr $name TRUE NEEDS-ACTION REQ-PARTICIPANT
length 1:30:00
description True True True True
reply-to matches organizer True"
done

# Bob leaves; the meeting is cancelled: he still gets the cancellation.
$C sub unsubscribe bob@example.org --list members >/dev/null
at "2026-11-28 12:00"
out=$($C notice cancel "$notice" 2>&1); rc=$?
expect_eq "notice cancel exits 0" "$rc" 0
"$CLARIOND" --once -c "$T/c.conf" 2>>"$T/log" || fail "clariond --once (cancel)"
n=$(grep -l '^To: .*<bob@example.org>' "$T"/outbox/new/* | wc -l)
expect_eq "bob, who left after the notice, gets the cancellation" "$n" 2
f=$(ls -t $(grep -l '^To: .*<bob@example.org>' "$T"/outbox/new/*) | head -1)
out=$(inv "$f" 2>&1)
expect_contains "a CANCEL" "$out" "method CANCEL CANCEL"
expect_contains "naming him, no RSVP asked" "$out" "attendee mailto:bob@example.org Bob Jones FALSE"
expect_eq "alice gets it too" "$(grep -l '^To: .*<alice@example.org>' "$T"/outbox/new/* | wc -l)" 2
expect_eq "no delivery was suppressed" "$(sqlite3 "$T/clarion.db" "SELECT count(*) FROM deliveries WHERE state = 'suppressed'")" 0

# But nothing else reaches him.
printf 'News.\n' > "$T/body.md"
$C item add news --list members --kind message --subject "News" --content "$T/body.md" --at "2026-11-29 09:00" >/dev/null 2>&1
at "2026-11-29 09:00:05"
"$CLARIOND" --once -c "$T/c.conf" 2>>"$T/log" || fail "clariond --once (news)"
expect_eq "the next message reaches alice" "$(grep -l '^Subject: News' "$T"/outbox/new/* | xargs grep -l 'alice@example.org' | wc -l)" 1
expect_eq "and not bob" "$(grep -l '^Subject: News' "$T"/outbox/new/* | xargs grep -l '^To: .*bob@example.org' | wc -l)" 0
done_testing
