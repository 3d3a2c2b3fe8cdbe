#!/bin/sh
# Meeting replies (issue 18), against a real Dovecot on loopback: an
# Accept and a Decline in the iTIP REPLY forms of Gmail, Outlook and Apple
# Calendar are recorded against the member whose reply token the
# invite's ORGANIZER carried and the notice whose UID they name, filed to
# RSVP, shown by `clarion notice show`; once across a kill -9 between
# recording and filing; a forged reply (another member's From, no valid
# token) changes nothing about that member.
. "$top_srcdir/tests/lib/common.sh"
L="$top_srcdir/tests/lib"
DATA="$top_srcdir/tests/data/rsvp"
TOKEN="$top_builddir/tests/imap_token"

[ -x /usr/sbin/dovecot ] || skip "dovecot is not installed (/usr/sbin/dovecot)"
for c in curl openssl sqlite3 base64; do
	command -v $c >/dev/null || skip "$c is not installed"
done
[ -x "$TOKEN" ] || skip "tests/imap_token is not built"

D=$(mktemp -d /tmp/dr.XXXXXX)
stop_servers() {
	sh "$L/stop-dovecot.sh" "$D"
	[ "$FAILED" = 0 ] && [ -z "${KEEP:-}" ] && rm -rf "$D"
	return 0
}
on_exit stop_servers
sh "$L/gen-certs.sh" "$D" || skip "cannot generate test certificates (openssl)"
P_IMAP=$(free_port 32643)
P_IMAPS=$(free_port $((P_IMAP + 1)))
sh "$L/start-dovecot.sh" "$D" "$P_IMAP" "$P_IMAPS" ||
	skip "dovecot cannot start: $(cat "$D/dovecot.stdout" 2>/dev/null)"
sh "$L/wait-imap.sh" "$D" "$P_IMAPS" 2>"$T/dovecot.err" ||
	skip "dovecot did not start: $(tail -3 "$T/dovecot.err")"
MD="$D/mail/testuser/Maildir"
URL="imaps://127.0.0.1:$P_IMAPS"
CURL="curl -sS --cacert $D/ca.pem -u testuser:testpass"
printf 'testpass\n' > "$T/imap.password"
chmod 600 "$T/imap.password"
IMAP="imap = { enabled = true; url = \"$URL\"; user = \"testuser\";
  password_file = \"$T/imap.password\"; ca_file = \"$D/ca.pem\";
  poll_interval = \"1h\"; timeout = \"10s\"; };"
C="$T/c.conf"
make_config "$C" "$IMAP"
"$CLARION" -c "$C" init >/dev/null || { fail "clarion init"; exit 1; }
q() { sqlite3 "$T/clarion.db" "$1"; }

# A meeting (invite UID meet-1@example.org) whose notice (run 1) went to
# members 1-9 as deliveries 1-9; another meeting's notice, delivery 10.
q "INSERT INTO lists (id, name, display_name, from_addr, owner_addr, created, updated) VALUES
  (1, 'members', 'Hillside CLP', 'news@example.org', 'owner@example.org', 0, 0);
INSERT INTO events (id, uid, kind, title, starts_at, created, updated) VALUES
  (1, 'meet-1', 'meeting', 'Branch meeting', 1796842800, 0, 0),
  (2, 'meet-2', 'meeting', 'AGM', 1797842800, 0, 0);
INSERT INTO items (id, name, list_id, kind, template, subject, event_id, created, updated) VALUES
  (1, 'notice-1', 1, 'notice', 'notice', 'Branch meeting', 1, 0, 0),
  (2, 'notice-2', 1, 'notice', 'notice', 'AGM', 2, 0, 0);
INSERT INTO runs (id, item_id, due_at, purpose, state, created) VALUES
  (1, 1, 0, 'notice', 'done', 0), (2, 2, 0, 'notice', 'done', 0);"
for i in 1 2 3 4 5 6 7 8 9; do
	q "INSERT INTO subscribers (id, address, name, created, updated) VALUES ($i, 'm$i@members.test', 'Member $i', 0, 0);
	INSERT INTO memberships (subscriber_id, list_id, created, updated) VALUES ($i, 1, 0, 0);
	INSERT INTO deliveries (id, run_id, subscriber_id, address, state, created) VALUES ($i, 1, $i, 'm$i@members.test', 'sent', 0);"
done
q "INSERT INTO deliveries (id, run_id, subscriber_id, address, state, created) VALUES (10, 2, 9, 'm9@members.test', 'sent', 0);"

# reply CLIENT MID MEMBER PARTSTAT TOKEN [UID]: MEMBER's reply in CLIENT's
# form, sent to reply+TOKEN@ (the invite's ORGANIZER).
reply() {
	case $4 in
	ACCEPTED) at=Accepted al=accepted ;;
	DECLINED) at=Declined al=declined ;;
	esac
	subst="s/@FROM@/m$3@members.test/g; s/@NAME@/Member $3/g; s/@TOKEN@/$5/g; s/@UID@/${6:-meet-1@example.org}/g; s/@PARTSTAT@/$4/g; s/@ANSWERTEXT@/$at/g; s/@ANSWERLOWER@/$al/g; s/@MID@/$2/g"
	if [ "$1" = outlook ]; then
		b64=$(sed -e "$subst" -e 's/$/\r/' "$DATA/outlook.ics" | base64 -w 76 | tr '\n' '#')
		sed -e "$subst" -e "s|@ICS_BASE64@|$b64|" "$DATA/outlook-reply.eml" | tr '#' '\n'
	else
		sed -e "$subst" "$DATA/$1-reply.eml"
	fi | sed -e 's/\r$//' -e 's/$/\r/' > "$T/$2.eml"
	$CURL "$URL/INBOX" -T "$T/$2.eml" || fail "APPEND $2"
}
tok() { "$TOKEN" "$C" r "$1"; }
answer() { q "SELECT answer FROM rsvps WHERE event_id = ${2:-1} AND subscriber_id = $1"; }
in_folder() { # in_folder FOLDER TEXT
	grep -rqF -- "$2" "$MD/.Clarion.$1/cur" "$MD/.Clarion.$1/new" 2>/dev/null
}

reply gmail g-acc 1 ACCEPTED "$(tok 1)"
reply gmail g-dec 2 DECLINED "$(tok 2)"
reply outlook o-acc 3 ACCEPTED "$(tok 3)"
reply outlook o-dec 4 DECLINED "$(tok 4)"
reply apple a-acc 5 ACCEPTED "$(tok 5)"
reply apple a-dec 6 DECLINED "$(tok 6)"
# Forged: member 7's address in From and ATTENDEE, no valid token.
reply apple forged-notoken 7 ACCEPTED ab3cd5ef7gh2ij4k
# Forged: member 7's From, but member 8's genuine token: member 8's answer,
# nothing about member 7.
reply gmail forged-other 7 DECLINED "$(tok 8)"
# Member 9's token from the AGM's notice, the branch meeting's UID.
reply gmail wrong-uid 9 ACCEPTED "$(tok 10)"

out=$("$CLARION" -c "$C" inbound run --once 2>"$T/run.err"); rc=$?
expect_eq "inbound run --once exits 0" "$rc" 0
[ "$rc" = 0 ] || cat "$T/run.err"

expect_eq "Gmail Accept: member 1 accepted" "$(answer 1)" accepted
expect_eq "Gmail Decline: member 2 declined" "$(answer 2)" declined
expect_eq "Outlook Accept: member 3 accepted" "$(answer 3)" accepted
expect_eq "Outlook Decline: member 4 declined" "$(answer 4)" declined
expect_eq "Apple Accept: member 5 accepted" "$(answer 5)" accepted
expect_eq "Apple Decline: member 6 declined" "$(answer 6)" declined
for m in g-acc o-dec a-acc; do
	check "$m: filed to RSVP" in_folder RSVP "$m"
done
expect_eq "the class is rsvp" \
    "$(q "SELECT class FROM inbound WHERE message_id LIKE '%o-acc%'")" rsvp
expect_eq "forged, no token: nothing recorded for member 7" "$(answer 7)" ""
expect_eq "forged with member 8's token: recorded for member 8, not 7" \
    "$(answer 8)" declined
expect_eq "a UID of another meeting: nothing recorded for member 9" \
    "$(q "SELECT count(*) FROM rsvps WHERE subscriber_id = 9")" 0
expect_eq "only the expected answers were recorded" \
    "$(q "SELECT count(*) FROM rsvps")" 7

# Once, across a kill -9 between recording and filing.
q "DELETE FROM rsvps WHERE subscriber_id = 1"
reply apple crash 1 DECLINED "$(tok 1)"
CLARION_TEST_CRASH_AFTER_RECORD=1 "$CLARION" -c "$C" inbound run --once >/dev/null 2>&1; rc=$?
expect_eq "the test hook kills the run after the commit" "$rc" 137
expect_eq "the answer is recorded with the message" "$(answer 1)" declined
"$CLARION" -c "$C" inbound run --once >/dev/null 2>&1
expect_eq "one inbound row, filed" \
    "$(q "SELECT count(*), sum(filed) FROM inbound WHERE message_id = 'crash@icloud.com'")" "1|1"
check "and filed to RSVP" in_folder RSVP "crash@icloud.com"

# Who is coming.
s=$("$CLARION" -c "$C" notice show notice-1); rc=$?
expect_eq "notice show exits 0" "$rc" 0
expect_contains "notice show: accepted" "$s" "accepted (2):"
expect_contains "notice show: declined" "$s" "declined (5):"
expect_contains "notice show: no answer" "$s" "no answer (2):"
expect_contains "member 7 has not answered" "$(printf '%s\n' "$s" | sed -n '/no answer/,$p')" "m7@members.test"
j=$("$CLARION" -c "$C" notice show notice-1 --json)
expect_contains "notice show --json" "$j" '"accepted": ['
# The reminder can say how many are coming (meeting.coming).
mkdir -p "$T/tpl"
printf 'coming={{meeting.coming}} declined={{meeting.declined}}\n' > "$T/tpl/count.txt.mustache"
sed "s|^templates_dir = .*|templates_dir = \"$T/tpl\";|" "$C" > "$T/count.conf"
q "UPDATE items SET template = 'count' WHERE id = 1"
expect_contains "a notice's template sees the counts" \
    "$("$CLARION" -c "$T/count.conf" item preview notice-1 2>/dev/null)" "coming=2 declined=5"
"$CLARION" -c "$C" notice show notice-99 >/dev/null 2>&1; rc=$?
expect_eq "an unknown notice: exit 65" "$rc" 65
done_testing
