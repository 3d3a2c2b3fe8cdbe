#!/bin/sh
# Inbound mail end to end against a real Dovecot on loopback: messages
# appended with curl are classified, applied once and filed by
# `clarion inbound run`; TLS is verified (wrong CA, wrong host name,
# STARTTLS); IDLE wakes on new mail; a crash between recording and filing
# applies nothing twice; a UIDVALIDITY change is survived.
. "$top_srcdir/tests/lib/common.sh"
L="$top_srcdir/tests/lib"
DATA="$top_srcdir/tests/data/inbound"
TOKEN="$top_builddir/tests/imap_token"

[ -x /usr/sbin/dovecot ] || skip "dovecot is not installed (/usr/sbin/dovecot)"
for c in curl openssl sqlite3; do
	command -v $c >/dev/null || skip "$c is not installed"
done
[ -x "$TOKEN" ] || skip "tests/imap_token is not built"
[ -x /usr/bin/python3 ] || skip "/usr/bin/python3 is not installed"

# Dovecot's sockets need a short directory.
D=$(mktemp -d /tmp/dc.XXXXXX)
W=$(mktemp -d /tmp/dw.XXXXXX)
stop_servers() {
	sh "$L/stop-dovecot.sh" "$D"
	sh "$L/stop-dovecot.sh" "$W"
	[ -n "${RUNPID:-}" ] && kill "$RUNPID" 2>/dev/null
	[ "$FAILED" = 0 ] && [ -z "${KEEP:-}" ] && rm -rf "$D" "$W"
	return 0
}
on_exit stop_servers
sh "$L/gen-certs.sh" "$D" || skip "cannot generate test certificates (openssl)"
P_IMAP=$(free_port 32143)
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
imap_conf() { # imap_conf FILE URL CA [extra imap lines]
	f=$1 u=$2 ca=$3; shift 3
	make_config "$f" "imap = {
  enabled = true;
  url = \"$u\";
  user = \"testuser\";
  password_file = \"$T/imap.password\";
  ca_file = \"$ca\";
  poll_interval = \"1h\";
  timeout = \"10s\";
  $*
};"
}
C="$T/c.conf"
imap_conf "$C" "$URL" "$D/ca.pem"
"$CLARION" -c "$C" init >/dev/null || { fail "clarion init"; exit 1; }
q() { sqlite3 "$T/clarion.db" "$1"; }

# Two lists, eight members on both, one sent newsletter (run 1) with a
# delivery to each member: delivery N goes to member N.
q "INSERT INTO lists (id, name, display_name, from_addr, owner_addr, created, updated) VALUES
  (1, 'members', 'Hillside CLP', 'news@example.org', 'owner@example.org', 0, 0),
  (2, 'picket', 'Picket line', 'picket@example.org', 'rep@example.org', 0, 0);
INSERT INTO items (id, name, list_id, kind, template, subject, created, updated)
  VALUES (1, 'december-news', 1, 'newsletter', 'newsletter', 'Hillside ward newsletter: {{run.month}}', 0, 0);
INSERT INTO runs (id, item_id, due_at, state, created, context) VALUES (1, 1, 0, 'done', 0, '{\"run\":{\"month\":\"December\"}}');"
for i in 1 2 3 4 5 6 7 8 9; do
	q "INSERT INTO subscribers (id, address, name, created, updated) VALUES ($i, 'm$i@members.test', 'Member $i', 0, 0);
	INSERT INTO memberships (subscriber_id, list_id, created, updated) VALUES ($i, 1, 0, 0), ($i, 2, 0, 0);
	INSERT INTO deliveries (id, run_id, subscriber_id, address, state, created) VALUES ($i, 1, $i, 'm$i@members.test', 'sent', 0);"
done

# fixture FILE DELIVERY [sed expr]: the message with real tokens, CRLF.
fixture() {
	tb=$("$TOKEN" "$C" b "$2") tr=$("$TOKEN" "$C" r "$2") tu=$("$TOKEN" "$C" u "$2")
	sed -e "s/bounces+ab3cd5ef7gh2ij4k/bounces+$tb/g" \
	    -e "s/reply+ab3cd5ef7gh2ij4k/reply+$tr/g" \
	    -e "s/unsubscribe+ab3cd5ef7gh2ij4k/unsubscribe+$tu/g" \
	    -e "${3:-s/^//}" -e 's/\r$//' -e 's/$/\r/' "$1"
}
append() { # append FILE (already CRLF)
	$CURL "$URL/INBOX" -T "$1" || fail "APPEND $1"
}
add() { # add NAME FILE DELIVERY [sed expr]
	fixture "$2" "$3" "${4:-}" > "$T/$1.eml"
	append "$T/$1.eml"
}
in_folder() { # in_folder FOLDER TEXT: a message holding TEXT was filed there
	grep -rqF -- "$2" "$MD/.Clarion.$1/cur" "$MD/.Clarion.$1/new" 2>/dev/null
}
inbox_uids() { $CURL "$URL/INBOX" -X 'UID SEARCH ALL' | tr -d '\r'; }
members() { # members SUB: lists the member is still subscribed to
	q "SELECT group_concat(list_id) FROM memberships WHERE subscriber_id = $1 AND status = 'subscribed'"
}
logins() { grep -c "Login: user=<testuser>" "$D/dovecot.log"; }

printf 'From: Frank Member <frank@isp.test>\nTo: reply+ab3cd5ef7gh2ij4k@example.org\nSubject: Re: Hillside ward newsletter: December\nDate: Mon, 23 Nov 2026 15:00:00 +0000\nMessage-ID: <question-1@isp.test>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\nWhat time does the picket start on Friday? I can bring a flask.\n\nFrank\n' > "$T/question.src"

add hard "$DATA/postfix-real-5.1.1-user-unknown.eml" 1
add arf "$DATA/arf-rfc5965-example.eml" 2
add vacation "$DATA/vacation-en-auto-submitted.eml" 3
add unsub "$DATA/reply-unsubscribe-please.eml" 4
add quoted "$DATA/reply-quoted-unsubscribe-only.eml" 5
add question "$T/question.src" 6
add soft "$DATA/dsn-5.2.2-over-quota.eml" 7
append "$DATA/garbage-random-bytes.eml"
# A forged token: right shape, wrong MAC.
fixture "$DATA/reply-unsubscribe-please.eml" 9 \
	's/reply-unsubscribe-please@isp.test/forged-1@isp.test/' |
	sed 's/reply+[a-z2-7]*@/reply+bqaaaaaaaaaaaaaaaa@/' > "$T/forged.eml"
append "$T/forged.eml"

out=$("$CLARION" -c "$C" inbound run --once 2>"$T/run1.err"); rc=$?
expect_eq "inbound run --once exits 0" "$rc" 0
expect_contains "and reports the messages" "$out" "inbound: 9 messages processed"
[ "$rc" = 0 ] || cat "$T/run1.err"
expect_eq "INBOX is empty afterwards" "$(inbox_uids)" "* SEARCH"
folders=$($CURL "$URL/" -X 'LIST "" "Clarion*"' | tr -d '\r')
for f in Bounces Complaints Unsubscribed Replies AutoReplies Unknown; do
	expect_contains "folder Clarion.$f was created" "$folders" "Clarion.$f"
done

check "the hard bounce is in Bounces" in_folder Bounces "20261123121423.75374A72837@mx1.members.test"
expect_eq "hard bounce: member 1 unsubscribed everywhere" "$(members 1)" ""
expect_eq "hard bounce: suppressed" "$(q "SELECT reason FROM suppressions WHERE address = 'm1@members.test'")" "hard-bounce"
expect_eq "hard bounce: recorded from the DSN" "$(q "SELECT hard, status, source FROM bounces WHERE subscriber_id = 1")" "1|5.1.1|dsn"

check "the ARF report is in Complaints" in_folder Complaints "arf-5965-1@mailbox-provider.test"
expect_eq "complaint: member 2 unsubscribed from every list" "$(members 2)" ""
expect_eq "complaint: suppressed" "$(q "SELECT reason FROM suppressions WHERE address = 'm2@members.test'")" "complaint"

check "the vacation reply is in AutoReplies" in_folder AutoReplies "vacation-en-auto-submitted@isp.test"
expect_eq "auto-reply: member 3 untouched" "$(members 3)" "1,2"
expect_eq "auto-reply: never a bounce" "$(q "SELECT count(*) FROM bounces WHERE subscriber_id = 3")" 0

check "'Unsubscribe please' is in Unsubscribed" in_folder Unsubscribed "reply-unsubscribe-please@isp.test"
expect_eq "unsubscribe: member 4 left list 1 only" "$(members 4)" "2"
expect_eq "unsubscribe: one confirmation queued" "$(q "SELECT count(*) FROM sysmail WHERE kind = 'unsubscribed' AND to_addr = 'm4@members.test' AND list_id = 1")" 1
conf_msg=$(q "SELECT message FROM sysmail WHERE kind = 'unsubscribed'")
expect_contains "the confirmation answers the member's message" "$conf_msg" "In-Reply-To: <reply-unsubscribe-please@isp.test>"
expect_contains "and is marked as an automatic reply" "$conf_msg" "Auto-Submitted: auto-replied"
expect_contains "a reply to it reaches the list's owner" "$conf_msg" "Reply-To: <owner@example.org>"

check "'unsubscribe' only in quoted text: in Replies" in_folder Replies "reply-quoted-unsubscribe-only@isp.test"
expect_eq "quoted unsubscribe: member 5 still on both lists" "$(members 5)" "1,2"
check "the human question is in Replies" in_folder Replies "question-1@isp.test"
expect_eq "two replies forwarded to the owner" "$(q "SELECT count(*) FROM sysmail WHERE kind = 'forward' AND to_addr = 'owner@example.org' AND dedupe LIKE 'forward:%'")" 2
fwd=$(q "SELECT message FROM sysmail WHERE kind = 'forward' AND dedupe LIKE 'forward:%' ORDER BY id DESC LIMIT 1" | sed -e ':a' -e '/=\r*$/{N;s/=\r*\n//;ba}')
expect_contains "the forward has Reply-To the member" "$fwd" "Reply-To: <frank@isp.test>"
expect_contains "and names the member" "$fwd" "Member 6"
expect_contains "and the item it answers" "$fwd" "december-news"
expect_contains "with the subject the member saw (rendered for the run)" "$fwd" "Hillside ward newsletter: December"
expect_not_contains "not the item's template" "$fwd" "{{run.month}}"
expect_contains "and carries the question" "$fwd" "What time does the picket start on Friday?"
expect_eq "replies: members 5 and 6 not suppressed" "$(q "SELECT count(*) FROM suppressions WHERE address IN ('m5@members.test', 'm6@members.test')")" 0

check "the over-quota DSN is in Bounces" in_folder Bounces "dsn-5.2.2-over-quota@mx.recipient.test"
expect_eq "soft bounce: score 1" "$(q "SELECT score FROM bounce_scores WHERE subscriber_id = 7")" "1.0"
expect_eq "soft bounce: member 7 still subscribed" "$(members 7)" "1,2"

expect_eq "garbage is in Unknown" "$(find "$MD/.Clarion.Unknown" -type f -path '*/cur/*' | wc -l)" 2
check "the forged token is in Unknown" in_folder Unknown "forged-1@isp.test"
expect_eq "forged token: recorded as a bad token" "$(q "SELECT reason FROM inbound WHERE message_id = 'forged-1@isp.test'")" "bad token"
expect_eq "and a person reads it: forwarded to each owner, unverified" "$(q "SELECT group_concat(to_addr) FROM sysmail WHERE dedupe LIKE 'forward-unmatched:forged-1@isp.test:%' ORDER BY id")" "owner@example.org,rep@example.org"
expect_eq "forged token: member 9 untouched" "$(members 9)" "1,2"
expect_eq "every message recorded once and filed" "$(q "SELECT count(*), sum(filed) FROM inbound")" "9|9"
expect_eq "last UID stored" "$(q "SELECT last_uid FROM imap_state WHERE mailbox = 'INBOX'")" 9

bounces=$("$CLARION" -c "$C" bounces)
expect_contains "clarion bounces shows the hard bounce" "$bounces" "m1@members.test"
expect_contains "and the soft score" "$bounces" "m7@members.test"
# Times in the configured zone: the zone and the format were swapped, so
# the zone's name was printed where the time should be.
expect_not_contains "times are shown, not the zone's name" "$bounces" "Europe/London"
json=$("$CLARION" -c "$C" bounces --list members --json)
expect_contains "clarion bounces --json" "$json" '"reason": "hard bounce: 5.1.1'

# Nothing new: a second pass does nothing.
out=$("$CLARION" -c "$C" inbound run --once 2>&1)
expect_contains "a second pass finds nothing" "$out" "inbound: 0 messages processed"

# Crash between commit and filing (test hook), then a normal restart.
add crash "$DATA/reply-unsubscribe-please.eml" 8 's/reply-unsubscribe-please@isp.test/crash-1@isp.test/'
CLARION_TEST_CRASH_AFTER_RECORD=1 "$CLARION" -c "$C" inbound run --once >/dev/null 2>&1; rc=$?
expect_eq "the test hook kills the run after the commit" "$rc" 137
expect_eq "recorded but not filed" "$(q "SELECT filed FROM inbound WHERE message_id = 'crash-1@isp.test'")" 0
expect_eq "the message is still in INBOX" "$(inbox_uids)" "* SEARCH 10"
expect_eq "the member left list 1" "$(members 8)" "2"
out=$("$CLARION" -c "$C" inbound run --once 2>&1); rc=$?
expect_eq "after the crash, a run exits 0" "$rc" 0
expect_contains "and files what was left" "$out" "recorded but not filed"
check "the message is now in Unsubscribed" in_folder Unsubscribed "crash-1@isp.test"
expect_eq "one inbound row" "$(q "SELECT count(*), sum(filed) FROM inbound WHERE message_id = 'crash-1@isp.test'")" "1|1"
expect_eq "one confirmation, not two" "$(q "SELECT count(*) FROM sysmail WHERE kind = 'unsubscribed' AND to_addr = 'm8@members.test'")" 1

# UIDVALIDITY changes while a recorded message is still in INBOX: Dovecot
# renumbers the mailbox when its UID list is lost.
add crash2 "$DATA/reply-quoted-unsubscribe-only.eml" 5 's/reply-quoted-unsubscribe-only@isp.test/crash-2@isp.test/'
CLARION_TEST_CRASH_AFTER_RECORD=1 "$CLARION" -c "$C" inbound run --once >/dev/null 2>&1
uv1=$(q "SELECT uidvalidity FROM imap_state")
sleep 1	# UIDVALIDITY is a time in seconds
sh "$L/stop-dovecot.sh" "$D"
rm -f "$MD"/dovecot-uidlist "$MD"/dovecot-uidvalidity* "$MD"/dovecot.index*
sh "$L/start-dovecot.sh" "$D" "$P_IMAP" "$P_IMAPS" && sh "$L/wait-imap.sh" "$D" "$P_IMAPS" || { fail "dovecot restart"; exit 1; }
out=$("$CLARION" -c "$C" inbound run --once 2>&1); rc=$?
expect_eq "after a UIDVALIDITY change, a run exits 0" "$rc" 0
expect_contains "and says so" "$out" "UIDVALIDITY changed"
uv2=$(q "SELECT uidvalidity FROM imap_state")
check "the new UIDVALIDITY is stored" test "$uv1" != "$uv2"
check "the message is filed to Replies" in_folder Replies "crash-2@isp.test"
expect_eq "INBOX is empty" "$(inbox_uids)" "* SEARCH"
expect_eq "recognised by Message-ID: not forwarded again" "$(q "SELECT count(*) FROM sysmail WHERE kind = 'forward' AND dedupe LIKE '%crash-2@isp.test'")" 1
expect_contains "and recorded as such" "$(q "SELECT action FROM inbound WHERE message_id = 'crash-2@isp.test' ORDER BY id DESC LIMIT 1")" "already applied"

# IDLE: a run with a one-hour poll interval sees new mail at once. The
# first message shows the first pass is over; the second can then only
# arrive through IDLE.
add idle0 "$T/question.src" 6 's/question-1@isp.test/idle-0@isp.test/'
"$CLARION" -c "$C" inbound run >"$T/idle.out" 2>"$T/idle.err" &
RUNPID=$!
check "the run's first pass files what is there" wait_for in_folder Replies "idle-0@isp.test"
add idle1 "$T/question.src" 6 's/question-1@isp.test/idle-1@isp.test/'
check "IDLE: new mail is filed long before the poll interval" wait_for in_folder Replies "idle-1@isp.test"
kill -TERM "$RUNPID"
check "SIGTERM ends the run" wait_for sh -c "! kill -0 $RUNPID 2>/dev/null"
wait "$RUNPID"; rc=$?
expect_eq "and it exits 0" "$rc" 0
RUNPID=

# clariond runs the inbound child, restarts it when it dies, stops it
# with itself.
imap_conf "$T/d.conf" "$URL" "$D/ca.pem"
echo 'tick = 1;' >> "$T/d.conf"
"$CLARIOND" -c "$T/d.conf" -d 2>"$T/daemon.err" &
DPID=$!
stop_daemon() { kill -9 "$DPID" 2>/dev/null; return 0; }
on_exit stop_daemon
add daemon1 "$T/question.src" 6 's/question-1@isp.test/daemon-1@isp.test/'
check "clariond's inbound child files new mail" wait_for in_folder Replies "daemon-1@isp.test"
CHILD=$(pgrep -P "$DPID")
check "it runs in a child process" test -n "$CHILD"
kill -9 "$CHILD"
check "a killed child is restarted" wait_for sh -c "c=\$(pgrep -P $DPID) && [ \"\$c\" != $CHILD ]"
CHILD=$(pgrep -P "$DPID")
add daemon2 "$T/question.src" 6 's/question-1@isp.test/daemon-2@isp.test/'
check "and goes on filing" wait_for in_folder Replies "daemon-2@isp.test"
sed -i 's/timeout = "10s"/timeout = "11s"/' "$T/d.conf"
kill -HUP "$DPID"
check "a reload that changes the IMAP settings restarts the child" wait_for grep -q "settings changed; restarting the child" "$T/daemon.err"
check "a new child runs" wait_for sh -c "c=\$(pgrep -P $DPID) && [ \"\$c\" != $CHILD ]"
CHILD=$(pgrep -P "$DPID")
add daemon3 "$T/question.src" 6 's/question-1@isp.test/daemon-3@isp.test/'
check "and files mail" wait_for in_folder Replies "daemon-3@isp.test"
kill -TERM "$DPID"
wait "$DPID"; rc=$?
expect_eq "SIGTERM stops clariond with 0" "$rc" 0
check "and its inbound child with it" sh -c "! kill -0 $CHILD 2>/dev/null"
expect_contains "the restart was logged" "$(cat "$T/daemon.err")" "killed by signal 9; restarting"

# Replies without a token: matched by In-Reply-To to one of our
# Message-IDs (forwarded, marked unverified), or not at all (Unknown).
sed -e 's/^To: .*/To: news@example.org/' -e 's/question-1@isp.test/notoken-1@isp.test/' \
	-e 's/^Message-ID: .*/&\nIn-Reply-To: <clarion.1.6@example.org>/' \
	-e 's/\r$//' -e 's/$/\r/' "$T/question.src" > "$T/notoken1.eml"
append "$T/notoken1.eml"
sed -e 's/^To: .*/To: news@example.org/' -e 's/question-1@isp.test/notoken-2@isp.test/' \
	-e 's/\r$//' -e 's/$/\r/' "$T/question.src" > "$T/notoken2.eml"
append "$T/notoken2.eml"
sed -e 's/^To: .*/To: news@example.org/' -e 's/question-1@isp.test/notoken-3@isp.test/' \
	-e 's/^Message-ID: .*/&\nIn-Reply-To: <clarion.2.6@example.org>/' \
	-e 's/\r$//' -e 's/$/\r/' "$T/question.src" > "$T/notoken3.eml"
append "$T/notoken3.eml"
"$CLARION" -c "$C" inbound run --once >/dev/null 2>&1
check "a reply naming a delivery under the wrong run is in Unknown" in_folder Unknown "notoken-3@isp.test"
check "a reply matched by In-Reply-To is in Replies" in_folder Replies "notoken-1@isp.test"
fwd=$(q "SELECT message FROM sysmail WHERE dedupe = 'forward:notoken-1@isp.test'" | sed -e ':a' -e '/=\r*$/{N;s/=\r*\n//;ba}')
expect_contains "and forwarded, marked unverified" "$fwd" "unverified"
expect_eq "to the owner of that delivery's list" "$(q "SELECT to_addr FROM sysmail WHERE dedupe = 'forward:notoken-1@isp.test'")" "owner@example.org"
check "a reply with no token and no match is in Unknown" in_folder Unknown "notoken-2@isp.test"
expect_eq "recorded as having no token" "$(q "SELECT reason FROM inbound WHERE message_id = 'notoken-2@isp.test'")" "no token"
expect_eq "and forwarded to each owner (it names no list)" "$(q "SELECT count(*) FROM sysmail WHERE dedupe LIKE 'forward-unmatched:notoken-2@isp.test:%'")" 2

# Polling when IDLE is off: a one-second poll interval finds new mail.
imap_conf "$T/poll.conf" "$URL" "$D/ca.pem" 'idle = false;'
sed -i 's/poll_interval = "1h"/poll_interval = 1/' "$T/poll.conf"
"$CLARION" -c "$T/poll.conf" inbound run >/dev/null 2>"$T/poll.err" &
RUNPID=$!
add poll0 "$T/question.src" 6 's/question-1@isp.test/poll-0@isp.test/'
check "without IDLE, polling files new mail" wait_for in_folder Replies "poll-0@isp.test"
kill -TERM "$RUNPID"; wait "$RUNPID"; rc=$?
expect_eq "and SIGTERM ends it with 0" "$rc" 0
RUNPID=

# TLS: a wrong CA, a wrong host name and STARTTLS.
before=$(logins)
imap_conf "$T/wrongca.conf" "$URL" "$D/other-ca.pem"
out=$("$CLARION" -c "$T/wrongca.conf" inbound run --once 2>&1); rc=$?
expect_eq "a certificate from another CA is refused (69)" "$rc" 69
expect_contains "saying why" "$out" "certificate refused"
expect_eq "and no password was sent" "$(logins)" "$before"
expect_contains "clarion status shows the IMAP error" "$("$CLARION" -c "$C" status 2>&1)" "last IMAP error:"
expect_contains "with the reason" "$(q "SELECT value FROM daemon_state WHERE key = 'last_imap_error'")" "certificate refused"

cp "$D/ca.pem" "$D/ca.key" "$W/"
(cd "$W" && openssl req -newkey rsa:2048 -nodes -subj "/CN=mail.other.example" \
	-keyout server.key -out server.csr >/dev/null 2>&1 &&
	printf 'subjectAltName=DNS:mail.other.example\nextendedKeyUsage=serverAuth\n' > server.ext &&
	openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
	-days 30 -extfile server.ext -out server.pem >/dev/null 2>&1)
W_IMAP=$(free_port $((P_IMAPS + 1)))
W_IMAPS=$(free_port $((W_IMAP + 1)))
sh "$L/start-dovecot.sh" "$W" "$W_IMAP" "$W_IMAPS"
# wait-imap.sh would fail: curl checks the name too. Wait for the port.
check "a second Dovecot with a certificate for another name" wait_for sh -c "ss -ltn 'sport = :$W_IMAPS' | grep -q LISTEN"
imap_conf "$T/wronghost.conf" "imaps://127.0.0.1:$W_IMAPS" "$D/ca.pem"
out=$("$CLARION" -c "$T/wronghost.conf" inbound run --once 2>&1); rc=$?
expect_eq "a certificate for another host name is refused (69)" "$rc" 69
expect_contains "saying why" "$out" "does not name 127.0.0.1"
imap_conf "$T/noverify.conf" "imaps://127.0.0.1:$W_IMAPS" "$D/ca.pem" "tls_verify = false;"
out=$("$CLARION" -c "$T/noverify.conf" inbound run --once 2>&1); rc=$?
expect_eq "with tls_verify = false it connects" "$rc" 0
expect_contains "and warns" "$out" "tls_verify is off"

imap_conf "$T/starttls.conf" "imap://127.0.0.1:$P_IMAP" "$D/ca.pem" "starttls = true;"
add st "$T/question.src" 6 's/question-1@isp.test/starttls-1@isp.test/'
out=$("$CLARION" -c "$T/starttls.conf" inbound run --once 2>&1); rc=$?
expect_eq "STARTTLS on imap:// works" "$rc" 0
check "and files the message" in_folder Replies "starttls-1@isp.test"
imap_conf "$T/plain.conf" "imap://127.0.0.1:$P_IMAP" "$D/ca.pem"
out=$("$CLARION" -c "$T/plain.conf" inbound run --once 2>&1); rc=$?
expect_eq "imap:// without imap.starttls is refused" "$rc" 69
expect_contains "saying what to do" "$out" "without imap.starttls = true"
imap_conf "$T/starttls-ca.conf" "imap://127.0.0.1:$P_IMAP" "$D/other-ca.pem" "starttls = true;"
out=$("$CLARION" -c "$T/starttls-ca.conf" inbound run --once 2>&1); rc=$?
expect_eq "STARTTLS with the wrong CA is refused" "$rc" 69

# STARTTLS response injection (CVE-2020-15953): a fake server answers
# STARTTLS with OK and an extra line in the same packet.
PI=$(free_port $((W_IMAPS + 1)))
/usr/bin/python3 "$L/imap-inject.py" "$PI" "$T/inject.log" 2>"$T/inject.err" &
check "the fake STARTTLS server starts" wait_for test -e "$T/inject.log.ready"
imap_conf "$T/inject.conf" "imap://127.0.0.1:$PI" "$D/ca.pem" "starttls = true;"
out=$("$CLARION" -c "$T/inject.conf" inbound run --once 2>&1); rc=$?
expect_eq "data after the STARTTLS reply is refused (69)" "$rc" 69
expect_contains "saying why" "$out" "response injection"
check "the fake server saw the STARTTLS" wait_for test -s "$T/inject.log"
expect_not_contains "and never a LOGIN" "$(cat "$T/inject.log")" "LOGIN"

# Filing without MOVE: COPY + STORE \Deleted + UID EXPUNGE (test hook).
add nomove "$T/question.src" 6 's/question-1@isp.test/nomove-1@isp.test/'
out=$(CLARION_TEST_IMAP_NO_MOVE=1 "$CLARION" -c "$C" inbound run --once 2>&1); rc=$?
expect_eq "filing by COPY works" "$rc" 0
check "the message is in Replies" in_folder Replies "nomove-1@isp.test"
expect_eq "and gone from INBOX" "$(inbox_uids)" "* SEARCH"

# Too large: not downloaded, filed to Unknown.
imap_conf "$T/small.conf" "$URL" "$D/ca.pem" "max_message_size = 1024;"
{ fixture "$T/question.src" 6 's/question-1@isp.test/big-1@isp.test/'; i=0; while [ $i -lt 40 ]; do printf 'padding padding padding padding padding padding padding\r\n'; i=$((i+1)); done; } > "$T/big.eml"
append "$T/big.eml"
out=$("$CLARION" -c "$T/small.conf" inbound run --once 2>&1); rc=$?
expect_eq "a run with a large message exits 0" "$rc" 0
check "the large message is in Unknown" in_folder Unknown "big-1@isp.test"
expect_eq "recorded as too large" "$(q "SELECT reason FROM inbound ORDER BY id DESC LIMIT 1")" "too large"
expect_eq "and not forwarded" "$(q "SELECT count(*) FROM sysmail WHERE dedupe LIKE '%big-1%'")" 0

done_testing
