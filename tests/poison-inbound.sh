#!/bin/sh
# A poison message does not stop the mailbox. Against a real Dovecot on
# loopback, through clariond and its inbound child:
# 1. a message of 30,000 nested `Content-Type : message/rfc822` parts
#    (which overflowed libetpan's stack, crashing the child at every
#    restart) is filed to Unknown, and the valid unsubscribe behind it is
#    applied;
# 2. a message that does crash the child (tests/clariond_hooks, a test
#    build, crashes on CLARION_TEST_CRASH_ON) is read once more, then
#    quarantined unread: filed to Clarion/Quarantine, recorded, reported
#    to the owner, shown by `clarion status`; the unsubscribe behind it is
#    applied.
. "$top_srcdir/tests/lib/common.sh"
L="$top_srcdir/tests/lib"
TOKEN="$top_builddir/tests/imap_token"
: "${HOOKED:=$top_builddir/tests/clariond_hooks}"

[ -x /usr/sbin/dovecot ] || skip "dovecot is not installed (/usr/sbin/dovecot)"
for c in curl openssl sqlite3; do
	command -v $c >/dev/null || skip "$c is not installed"
done
[ -x "$TOKEN" ] || skip "tests/imap_token is not built"

D=$(mktemp -d /tmp/dp.XXXXXX)
DPID=
stop_servers() {
	[ -n "$DPID" ] && kill -9 "$DPID" 2>/dev/null
	sh "$L/stop-dovecot.sh" "$D"
	[ "$FAILED" = 0 ] && [ -z "${KEEP:-}" ] && rm -rf "$D"
	return 0
}
on_exit stop_servers
sh "$L/gen-certs.sh" "$D" || skip "cannot generate test certificates (openssl)"
P_IMAP=$(free_port 32343)
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
C="$T/c.conf"
make_config "$C" "tick = 1;" "imap = { enabled = true; url = \"$URL\"; user = \"testuser\";
  password_file = \"$T/imap.password\"; ca_file = \"$D/ca.pem\";
  poll_interval = \"1h\"; timeout = \"10s\"; };"
"$CLARION" -c "$C" init >/dev/null || { fail "clarion init"; exit 1; }
q() { sqlite3 "$T/clarion.db" "$1"; }

q "INSERT INTO lists (id, name, display_name, from_addr, owner_addr, created, updated) VALUES
  (1, 'members', 'Hillside CLP', 'news@example.org', 'owner@example.org', 0, 0);
INSERT INTO items (id, name, list_id, kind, template, subject, created, updated)
  VALUES (1, 'news', 1, 'newsletter', 'newsletter', 'News', 0, 0);
INSERT INTO runs (id, item_id, due_at, state, created) VALUES (1, 1, 0, 'done', 0);"
for i in 1 2 3; do
	q "INSERT INTO subscribers (id, address, name, created, updated) VALUES ($i, 'm$i@members.test', 'Member $i', 0, 0);
	INSERT INTO memberships (subscriber_id, list_id, created, updated) VALUES ($i, 1, 0, 0);
	INSERT INTO deliveries (id, run_id, subscriber_id, address, state, created) VALUES ($i, 1, $i, 'm$i@members.test', 'sent', 0);"
done
status_of() { q "SELECT status FROM memberships WHERE subscriber_id = $1"; }
in_folder() { # in_folder FOLDER TEXT: a message holding TEXT was filed there
	grep -rqF -- "$2" "$MD/.Clarion.$1/cur" "$MD/.Clarion.$1/new" 2>/dev/null
}
# until_ok SECONDS COMMAND...: the child restarts after 5 s, then 10 s.
until_ok() {
	n=$(($1 * 10)); shift
	while [ "$n" -gt 0 ]; do "$@" && return 0; sleep 0.1; n=$((n - 1)); done
	return 1
}
unsubscribed() { [ "$(status_of "$1")" = unsubscribed ]; }
append() { $CURL "$URL/INBOX" -T "$1" || fail "APPEND $1"; }
unsub_msg() { # unsub_msg N MESSAGE-ID: member N's valid unsubscribe by mail
	printf 'From: Member %s <m%s@members.test>\r\nTo: unsubscribe+%s@example.org\r\nSubject: unsubscribe\r\nDate: Mon, 23 Nov 2026 15:00:00 +0000\r\nMessage-ID: <%s>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPlease unsubscribe me.\r\n' \
	    "$1" "$1" "$("$TOKEN" "$C" u "$1")" "$2"
}
unsub() { unsub_msg "$1" "unsub-$1@members.test" > "$T/u$1.eml"; append "$T/u$1.eml"; }
daemon_start() { # daemon_start BINARY LOG
	"$1" -c "$C" -d 2>"$2" &
	DPID=$!
}
daemon_stop() {
	kill "$DPID" 2>/dev/null
	wait "$DPID" 2>/dev/null
	DPID=
}

# 1. The real poison message, then member 1's unsubscribe.
awk 'BEGIN {
	printf "From: a@poison.test\r\nTo: unsubscribe@example.org\r\n"
	printf "Subject: deep\r\nMessage-ID: <deep@poison.test>\r\nMIME-Version: 1.0\r\n"
	for (i = 0; i < 30000; i++) printf "Content-Type : message/rfc822\r\n\r\n"
	printf "hello\r\n"
}' > "$T/deep.eml"
append "$T/deep.eml"
unsub 1
daemon_start "$CLARIOND" "$T/daemon1.err"
check "the unsubscribe behind a 30,000-deep message is applied" \
    until_ok 60 unsubscribed 1
check "the deep message is filed to Unknown" until_ok 10 in_folder Unknown "deep@poison.test"
expect_eq "and recorded as refused by the MIME check" \
    "$(q "SELECT class || '/' || reason FROM inbound WHERE message_id = 'deep@poison.test'")" \
    "unknown/too many MIME parts"
daemon_stop
expect_eq "the child never died" "$(q "SELECT count(*) FROM daemon_state WHERE key = 'inbound_crashes'")" 0
expect_not_contains "status shows no inbound crash" "$("$CLARION" -c "$C" status)" "crash"

# 2. A message that crashes the child, then member 3's unsubscribe. The
#    crashing one is a valid unsubscribe of member 2: quarantined means
#    unread, so member 2 stays subscribed.
[ -x "$HOOKED" ] || { fail "$HOOKED is not built"; done_testing; exit 1; }
unsub_msg 2 crash-me@poison.test > "$T/crash.eml"
append "$T/crash.eml"
unsub 3
CLARION_TEST_CRASH_ON=crash-me@poison.test daemon_start "$HOOKED" "$T/daemon2.err"
check "the unsubscribe behind a crashing message is applied" \
    until_ok 90 unsubscribed 3
check "the crashing message is in the quarantine folder" \
    until_ok 10 in_folder Quarantine "crash-me@poison.test"
expect_eq "it was not read: member 2 is still subscribed" "$(status_of 2)" subscribed
expect_eq "it is recorded once, as quarantined, filed" \
    "$(q "SELECT class || '/' || reason || '/' || folder || '/' || filed FROM inbound WHERE reason = 'quarantined'")" \
    "unknown/quarantined/Quarantine/1"
expect_contains "its action says what happened" \
    "$(q "SELECT action FROM inbound WHERE reason = 'quarantined'")" "it stopped the inbound process 2 times"
expect_eq "the owner is told, once" \
    "$(q "SELECT count(*) FROM sysmail WHERE to_addr = 'owner@example.org' AND CAST(message AS TEXT) LIKE '%quarantined%'")" 1
expect_eq "no mark is left behind" \
    "$(q "SELECT count(*) FROM daemon_state WHERE key = 'inbound_processing'")" 0
grep -q "killed by signal 11" "$T/daemon2.err" && pass "clariond saw the child die by SIGSEGV" ||
    fail "clariond saw the child die by SIGSEGV"
st=$("$CLARION" -c "$C" status)
expect_contains "status counts the child's crashes" "$st" "2 crashes of the inbound child"
expect_contains "and the signal of the last" "$st" "killed by signal 11"
expect_contains "and the quarantined message" "$st" "quarantined:    1 message"
js=$("$CLARION" -c "$C" status --json)
expect_contains "status --json: crashes" "$js" '"inbound_crashes": 2'
expect_contains "status --json: quarantined" "$js" '"quarantined": 1'
daemon_stop

# 3. A crash between recording a quarantine and filing it: the next pass
#    files it, and neither records it nor tells the owner twice. The mark
#    is written as a process that died twice on the message leaves it.
unsub_msg 2 marked@poison.test > "$T/marked.eml"
append "$T/marked.eml"
uid=$($CURL "$URL/INBOX" -X 'UID SEARCH ALL' | tr -d '\r' | awk '{ print $NF }')
uv=$(q "SELECT uidvalidity FROM imap_state")
q "INSERT OR REPLACE INTO daemon_state (key, value) VALUES ('inbound_processing', '$uv $uid 2 INBOX')"
CLARION_TEST_CRASH_AFTER_RECORD=1 "$CLARION" -c "$C" inbound run --once >/dev/null 2>&1; rc=$?
expect_eq "clarion inbound run dies after recording the quarantine" "$rc" 137
expect_eq "recorded, not yet filed" \
    "$(q "SELECT reason || '/' || filed FROM inbound WHERE uid = $uid")" "quarantined/0"
"$CLARION" -c "$C" inbound run --once >/dev/null 2>"$T/run.err"; rc=$?
expect_eq "the next pass exits 0" "$rc" 0
check "and files it to the quarantine folder" in_folder Quarantine "marked@poison.test"
expect_eq "recorded once, now filed" \
    "$(q "SELECT count(*) || '/' || max(filed) FROM inbound WHERE uid = $uid")" "1/1"
expect_eq "the owner is told once" \
    "$(q "SELECT count(*) FROM sysmail WHERE dedupe = 'quarantined:INBOX/$uv/$uid:owner@example.org'")" 1
expect_eq "and it was never read: member 2 is still subscribed" "$(status_of 2)" subscribed
expect_contains "status counts both" "$("$CLARION" -c "$C" status)" "quarantined:    2 messages"
done_testing
