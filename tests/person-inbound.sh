#!/bin/sh
# Every message from a person ends in an effect, a forward to the owner or
# a confirmation request, never only a folder (issue 18), against a real
# Dovecot on loopback, each case once across a kill -9 between recording
# and filing:
#  - a reply to the unsubscribe confirmation ("put me back") reaches the
#    list owner;
#  - "unsubscribe" to the plain address, no token, from a member's
#    address, changes nothing but asks that address to confirm through a
#    signed unsubscribe address, which works when the member replies;
#  - mail classified unknown, from a person, reaches the owner; an
#    auto-reply does not.
. "$top_srcdir/tests/lib/common.sh"
L="$top_srcdir/tests/lib"

[ -x /usr/sbin/dovecot ] || skip "dovecot is not installed (/usr/sbin/dovecot)"
for c in curl openssl sqlite3; do
	command -v $c >/dev/null || skip "$c is not installed"
done

D=$(mktemp -d /tmp/dp.XXXXXX)
stop_servers() {
	sh "$L/stop-dovecot.sh" "$D"
	[ "$FAILED" = 0 ] && [ -z "${KEEP:-}" ] && rm -rf "$D"
	return 0
}
on_exit stop_servers
sh "$L/gen-certs.sh" "$D" || skip "cannot generate test certificates (openssl)"
P_IMAP=$(free_port 32543)
P_IMAPS=$(free_port $((P_IMAP + 1)))
sh "$L/start-dovecot.sh" "$D" "$P_IMAP" "$P_IMAPS" ||
	skip "dovecot cannot start: $(cat "$D/dovecot.stdout" 2>/dev/null)"
sh "$L/wait-imap.sh" "$D" "$P_IMAPS" 2>"$T/dovecot.err" ||
	skip "dovecot did not start: $(tail -3 "$T/dovecot.err")"
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

q "INSERT INTO lists (id, name, display_name, from_addr, owner_addr, created, updated) VALUES
  (1, 'members', 'Hillside CLP', 'news@example.org', 'owner@example.org', 0, 0);
INSERT INTO items (id, name, list_id, kind, template, subject, created, updated)
  VALUES (1, 'news', 1, 'newsletter', 'newsletter', 'News', 0, 0);
INSERT INTO runs (id, item_id, due_at, state, created) VALUES (1, 1, 0, 'done', 0);"
for i in 1 2 3 4 5; do
	q "INSERT INTO subscribers (id, address, name, created, updated) VALUES ($i, 'm$i@members.test', 'Member $i', 0, 0);
	INSERT INTO memberships (subscriber_id, list_id, created, updated) VALUES ($i, 1, 0, 0);
	INSERT INTO deliveries (id, run_id, subscriber_id, address, state, created) VALUES ($i, 1, $i, 'm$i@members.test', 'sent', 0);"
done
subscribed() { q "SELECT status FROM memberships WHERE subscriber_id = $1"; }

# mail ID FROM TO SUBJECT BODY [HEADER]: a plain message from a person.
mail() {
	h=; [ -n "${6:-}" ] && h="$6\r\n"
	printf "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: Mon, 23 Nov 2026 15:00:00 +0000\r\nMessage-ID: <%s@members.test>\r\n${h}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n" \
	    "$2" "$3" "$4" "$1" "$5" > "$T/$1.eml"
	$CURL "$URL/INBOX" -T "$T/$1.eml" || fail "APPEND $1"
}
# once ID: the run is killed after recording the message, the next one
# files it; one inbound row, filed.
once() {
	CLARION_TEST_CRASH_AFTER_RECORD=1 "$CLARION" -c "$C" inbound run --once >/dev/null 2>&1; rc=$?
	expect_eq "$1: the test hook kills the run after the commit" "$rc" 137
	"$CLARION" -c "$C" inbound run --once >"$T/run.out" 2>&1 ||
	    fail "$1: the run after the crash: $(cat "$T/run.out")"
	expect_eq "$1: one inbound row, filed" \
	    "$(q "SELECT count(*), sum(filed) FROM inbound WHERE message_id = '$1@members.test'")" "1|1"
}
forwards() { q "SELECT count(*) FROM sysmail WHERE kind = 'forward' AND to_addr = 'owner@example.org' AND dedupe LIKE '%$1@members.test%'"; }

# 1: "that was a mistake, put me back", a reply to the confirmation of an
# unsubscribe (its Message-ID is a sysmail one, not a delivery's).
mail putback 'Member 1 <m1@members.test>' 'Hillside CLP <news@example.org>' \
    'Re: Unsubscribed from Hillside CLP' \
    'That was a mistake, please put me back on the list.' \
    'In-Reply-To: <clarion.sys.unsubscribed.1795000000.123.1@example.org>'
once putback
expect_eq "put-me-back: forwarded to the list owner, once" "$(forwards putback)" 1
expect_contains "put-me-back: the action says so" \
    "$(q "SELECT action FROM inbound WHERE message_id = 'putback@members.test'")" \
    "forwarded to the list owners"

# 2: "unsubscribe" to the plain address, no token, from member 2.
mail plainunsub 'Member 2 <m2@members.test>' 'unsubscribe@example.org' \
    'unsubscribe' 'unsubscribe'
once plainunsub
expect_eq "plain unsubscribe: member 2 still subscribed" "$(subscribed 2)" subscribed
expect_eq "plain unsubscribe: one confirmation request to member 2's address" \
    "$(q "SELECT count(*) FROM sysmail WHERE to_addr = 'm2@members.test'")" 1
req=$(q "SELECT CAST(message AS TEXT) FROM sysmail WHERE to_addr = 'm2@members.test'")
expect_contains "the request carries a signed unsubscribe address" "$req" \
    "Reply-To: <unsubscribe+"
tok=$(printf '%s\n' "$req" | sed -n 's/^Reply-To: <unsubscribe+\([a-z0-9]*\)@example.org.*/\1/p' | head -1)
check "a token was found in the request" test -n "$tok"
# The member answers it from their own mailbox: now they leave.
mail confirm 'Member 2 <m2@members.test>' "unsubscribe+$tok@example.org" \
    'Re: Confirm: unsubscribe from Hillside CLP' 'Yes, unsubscribe me.'
"$CLARION" -c "$C" inbound run --once >/dev/null 2>&1
expect_eq "the reply to the signed address unsubscribes member 2" \
    "$(subscribed 2)" unsubscribed

# 3: a forgery: a stranger puts member 3's address in From.
mail forged 'Member 3 <m3@members.test>' 'news@example.org' \
    'unsubscribe' 'unsubscribe' 'Received: from mallory.stranger.test'
"$CLARION" -c "$C" inbound run --once >/dev/null 2>&1
expect_eq "forged unsubscribe: member 3 still subscribed" "$(subscribed 3)" subscribed
expect_eq "forged unsubscribe: only member 3's own address is asked" \
    "$(q "SELECT group_concat(to_addr) FROM sysmail WHERE dedupe LIKE '%forged@members.test%'")" \
    "m3@members.test"

# 4: a question from a member that names nothing of ours (unknown).
mail question 'Member 4 <m4@members.test>' 'news@example.org' \
    'Where is the meeting?' 'Hello, where is the next branch meeting held?'
once question
expect_eq "unknown from a person: forwarded to the owner, once" "$(forwards question)" 1

# 4b: a member's message with nothing but an attachment: unknown.
printf 'From: Member 4 <m4@members.test>\r\nTo: news@example.org\r\nSubject: minutes\r\nMessage-ID: <attachment@members.test>\r\nMIME-Version: 1.0\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n' > "$T/attachment.eml"
$CURL "$URL/INBOX" -T "$T/attachment.eml" || fail "APPEND attachment"
once attachment
expect_eq "an attachment alone is classified unknown" \
    "$(q "SELECT class FROM inbound WHERE message_id = 'attachment@members.test'")" unknown
expect_eq "unknown from a person: forwarded to the owner, once" "$(forwards attachment)" 1

# 5: an auto-reply is not from a person: no forward.
mail away 'Member 5 <m5@members.test>' 'news@example.org' \
    'Out of office' 'I am away until Monday.' 'Auto-Submitted: auto-replied'
mail question2 'Member 4 <m4@members.test>' 'news@example.org' \
    'Agenda' 'Can we add the leaflet round to the agenda?'
out=$("$CLARION" -c "$C" inbound run --once 2>&1)
expect_contains "inbound run --once: the count" "$out" "inbound: 2 messages processed"
expect_contains "by class and folder" "$out" "1 auto-reply -> AutoReplies"
expect_contains "and what was done with each" "$out" "reply -> Unknown: nothing: no token; forwarded to the list owners"
mail question3 'Member 4 <m4@members.test>' 'news@example.org' \
    'Agenda again' 'And the treasurer report?'
out=$("$CLARION" -c "$C" inbound run --once --json 2>&1)
expect_contains "inbound run --once --json: the count" "$out" '"processed": 1'
expect_contains "--json: by class" "$out" '"reply -> Unknown": 1'
expect_contains "--json: each message's class" "$out" '"class": "reply"'
expect_eq "an auto-reply is not forwarded" "$(forwards away)" 0
expect_eq "and nothing was asked of member 5" \
    "$(q "SELECT count(*) FROM sysmail WHERE to_addr = 'm5@members.test'")" 0
done_testing
