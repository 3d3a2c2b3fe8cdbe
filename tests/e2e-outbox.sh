#!/bin/sh
# The whole path with the real daemon on a simulated clock: a TULO adds
# events, a weekly bulletin item goes out on Monday 08:00 London time to
# the members' outbox; a week with nothing is skipped; an unsubscribed
# member gets nothing more; a meeting notice carries a calendar invite.
. "$top_srcdir/tests/lib/common.sh"

CLOCK="$T/clock"
export CLARION_CLOCK_FILE="$CLOCK"
at() { date -u -d "$1" +%s > "$CLOCK"; }
at "2026-11-27 12:00"
make_config "$T/c.conf" 'tick = 1;'
C="$CLARION -c $T/c.conf"
$C init >/dev/null
$C list create members --from news@example.org --owner secretary@example.org --display-name "Hillside CLP" >/dev/null
$C sub add alice@example.org --list members --name "Alice Smith" --attr ward=Hillside >/dev/null
$C sub add bob@example.org --list members --name "Bob Jones" --attr ward=Riverside >/dev/null
$C event add --kind ballot --title "UNISON pay ballot closes" --start "2026-12-04" --union UNISON >/dev/null
$C event add --kind strike --title "UCU strike at Hillside College" --start "2026-12-02 08:00" --union UCU --employer "Hillside College" --location "Main gate" >/dev/null
$C event add --kind picket --title "Picket at the depot" --start "2026-12-20 07:00" --union GMB >/dev/null
out=$($C item add weekly --list members --kind bulletin --subject "Strikes and ballots: week of {{run.date}}" --rrule "FREQ=WEEKLY;BYDAY=MO;BYHOUR=8;BYMINUTE=0" --start 2026-11-30 2>&1)
expect_contains "the item is added with its next due time" "$out" "next due 2026-11-30 08:00"

out=$($C item preview weekly --subscriber alice@example.org)
expect_contains "preview shows the subject for that member" "$out" "Subject: Strikes and ballots: week of"
expect_contains "preview greets the member" "$out" "Alice"

"$CLARIOND" -c "$T/c.conf" 2>"$T/log" &
PID=$!
stop_daemon() { kill -9 $PID 2>/dev/null; }
on_exit stop_daemon
n_out() { ls "$T/outbox/new" 2>/dev/null | wc -l; }
has_out() { [ "$(n_out)" -eq "$1" ]; }
sleep 2
expect_eq "nothing is sent before Monday 08:00" "$(n_out)" 0

at "2026-11-30 08:00:05"
check "the Monday bulletin reaches both members" wait_for has_out 2
check "and its run finishes" wait_for sh -c "$C run list | grep -q 'done'"
/usr/bin/python3 - "$T/outbox/new" > "$T/check1" <<'PY'
import email, email.policy, os, sys
d = sys.argv[1]
for f in sorted(os.listdir(d)):
    m = email.message_from_binary_file(open(os.path.join(d, f), 'rb'), policy=email.policy.default)
    text = m.get_body(('plain',)).get_content()
    order = text.index('UCU strike') < text.index('UNISON pay ballot')
    print(m['To'].addresses[0].addr_spec, m['Subject'], 'picket' in text.lower() and 'depot' in text,
          order, m['List-Unsubscribe'].startswith('<mailto:unsubscribe+'), m.get_content_type())
PY
expect_eq "each member got the bulletin, events in date order, no event beyond the window" "$(cat "$T/check1")" "alice@example.org Strikes and ballots: week of Monday 30 November 2026 False True True multipart/alternative
bob@example.org Strikes and ballots: week of Monday 30 November 2026 False True True multipart/alternative"

# The week of 7 December has nothing: no mail, the run is skipped.
at "2026-12-07 08:00:05"
check "the empty week's run is skipped with its reason" wait_for sh -c "$C run list | grep skipped | grep -q 'no events'"
sleep 1
expect_eq "and no one is mailed" "$(n_out)" 2

# Bob leaves; the picket in the week of 14 December reaches only Alice.
$C sub unsubscribe bob@example.org --list members >/dev/null
at "2026-12-14 08:00:05"
check "the next bulletin goes out" wait_for has_out 3
newest=$(ls -t "$T/outbox/new" | head -1)
expect_contains "to Alice only" "$(grep -m1 '^To:' "$T/outbox/new/$newest")" "alice@example.org"
expect_contains "listing the picket" "$(cat "$T/outbox/new/$newest")" "Picket at the depot"

# The same due time planned again creates nothing new.
runs=$(sqlite3 "$T/clarion.db" "SELECT count(*) FROM runs WHERE purpose = 'issue'")
at "2026-12-14 08:00:30"
sleep 2
expect_eq "ticking again at the same occurrence makes no second run" "$(sqlite3 "$T/clarion.db" "SELECT count(*) FROM runs WHERE purpose = 'issue'")" "$runs"
expect_eq "and no second message" "$(n_out)" 3

# A meeting notice goes out at once with a calendar invite.
printf '# Agenda\n\n1. Apologies\n2. Strike support fund\n' > "$T/agenda.md"
out=$($C notice add --list members --title "General meeting" --meeting "2027-01-20 19:00" --venue "Hillside Community Centre" --agenda "$T/agenda.md" 2>&1); rc=$?
expect_eq "notice add exits 0" "$rc" 0
check "the notice arrives" wait_for has_out 4
newest=$(ls -t "$T/outbox/new" | head -1)
v=$(/usr/bin/python3 - "$T/outbox/new/$newest" <<'PY'
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)
cal = [p for p in m.walk() if p.get_content_type() == 'text/calendar']
body = cal[0].get_content() if cal else ''
print(len(cal), cal[0].get_param('method') if cal else None, 'BEGIN:VEVENT' in body, 'Strike support fund' in m.get_body(('plain',)).get_content())
PY
)
expect_eq "with a text/calendar REQUEST invite and the agenda" "$v" "1 REQUEST True True"

kill -TERM $PID; wait $PID; rc=$?
expect_eq "the daemon stops cleanly" "$rc" 0
expect_not_contains "no member address in the info-level log" "$(cat "$T/log")" "alice@example.org"
done_testing
