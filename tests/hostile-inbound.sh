#!/bin/sh
# An inbound unsubscribe whose token has the wrong length or alphabet
# changes nothing: against a real Dovecot on loopback, through
# `clarion inbound run`. A good token in the same batch shows the path
# works, so the test can fail.
. "$top_srcdir/tests/lib/common.sh"
L="$top_srcdir/tests/lib"
TOKEN="$top_builddir/tests/imap_token"

[ -x /usr/sbin/dovecot ] || skip "dovecot is not installed (/usr/sbin/dovecot)"
for c in curl openssl sqlite3; do
	command -v $c >/dev/null || skip "$c is not installed"
done
[ -x "$TOKEN" ] || skip "tests/imap_token is not built"

D=$(mktemp -d /tmp/dh.XXXXXX)
stop_servers() {
	sh "$L/stop-dovecot.sh" "$D"
	[ "$FAILED" = 0 ] && [ -z "${KEEP:-}" ] && rm -rf "$D"
	return 0
}
on_exit stop_servers
sh "$L/gen-certs.sh" "$D" || skip "cannot generate test certificates (openssl)"
P_IMAP=$(free_port 32243)
P_IMAPS=$(free_port $((P_IMAP + 1)))
sh "$L/start-dovecot.sh" "$D" "$P_IMAP" "$P_IMAPS" ||
	skip "dovecot cannot start: $(cat "$D/dovecot.stdout" 2>/dev/null)"
sh "$L/wait-imap.sh" "$D" "$P_IMAPS" 2>"$T/dovecot.err" ||
	skip "dovecot did not start: $(tail -3 "$T/dovecot.err")"
URL="imaps://127.0.0.1:$P_IMAPS"
CURL="curl -sS --cacert $D/ca.pem -u testuser:testpass"
printf 'testpass\n' > "$T/imap.password"
chmod 600 "$T/imap.password"
C="$T/c.conf"
make_config "$C" "imap = { enabled = true; url = \"$URL\"; user = \"testuser\";
  password_file = \"$T/imap.password\"; ca_file = \"$D/ca.pem\";
  poll_interval = \"1h\"; timeout = \"10s\"; };"
"$CLARION" -c "$C" init >/dev/null || { fail "clarion init"; exit 1; }
q() { sqlite3 "$T/clarion.db" "$1"; }

q "INSERT INTO lists (id, name, display_name, from_addr, owner_addr, created, updated) VALUES
  (1, 'members', 'Hillside CLP', 'news@example.org', 'owner@example.org', 0, 0);
INSERT INTO items (id, name, list_id, kind, template, subject, created, updated)
  VALUES (1, 'news', 1, 'newsletter', 'newsletter', 'News', 0, 0);
INSERT INTO runs (id, item_id, due_at, state, created) VALUES (1, 1, 0, 'done', 0);"
for i in 1 2 3 4 5 6; do
	q "INSERT INTO subscribers (id, address, name, created, updated) VALUES ($i, 'm$i@members.test', 'Member $i', 0, 0);
	INSERT INTO memberships (subscriber_id, list_id, created, updated) VALUES ($i, 1, 0, 0);
	INSERT INTO deliveries (id, run_id, subscriber_id, address, state, created) VALUES ($i, 1, $i, 'm$i@members.test', 'sent', 0);"
done
state() { # everything an unsubscribe could change
	q "SELECT (SELECT group_concat(subscriber_id || ':' || status) FROM memberships)
	    || '|' || (SELECT count(*) FROM suppressions) || '|' || (SELECT count(*) FROM sysmail)"
}

send() { # send N TOKEN: member N asks to unsubscribe with TOKEN
	printf 'From: Member %s <m%s@members.test>\r\nTo: unsubscribe+%s@example.org\r\nSubject: unsubscribe\r\nDate: Mon, 23 Nov 2026 15:00:00 +0000\r\nMessage-ID: <hostile-%s@members.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPlease unsubscribe me.\r\n' \
	    "$1" "$1" "$2" "$1" > "$T/m$1.eml"
	$CURL "$URL/INBOX" -T "$T/m$1.eml" || fail "APPEND m$1"
}
good2=$("$TOKEN" "$C" u 2)
good5=$("$TOKEN" "$C" u 5)
good6=$("$TOKEN" "$C" u 6)
send 1 abc					# far too short
send 2 "${good2}aaaaaaaaaaaaaaaaaaaa"		# too long
send 3 "0189${good2#????}"			# outside base32 (0 1 8 9)
send 4 "${good5%?}"				# a real token, one short
send 6 "$good6"					# the control: a good token
before=$(state)

out=$("$CLARION" -c "$C" inbound run --once 2>"$T/run.err"); rc=$?
expect_eq "inbound run --once exits 0" "$rc" 0
[ "$rc" = 0 ] || cat "$T/run.err"
expect_eq "the good token unsubscribed member 6 (the path works)" \
    "$(q "SELECT status FROM memberships WHERE subscriber_id = 6")" unsubscribed
for i in 1 2 3 4; do
	expect_eq "bad token $i: member $i still subscribed" \
	    "$(q "SELECT status FROM memberships WHERE subscriber_id = $i")" subscribed
	expect_eq "bad token $i: not suppressed, no mail queued to them" \
	    "$(q "SELECT (SELECT count(*) FROM suppressions) + (SELECT count(*) FROM sysmail WHERE to_addr = 'm$i@members.test')")" 0
	expect_eq "bad token $i: the message is recorded once, as read" \
	    "$(q "SELECT count(*) FROM inbound WHERE message_id = 'hostile-$i@members.test'")" 1
done
expect_eq "only member 6 changed" "$(q "SELECT group_concat(subscriber_id || ':' || status) FROM memberships")" \
    "1:subscribed,2:subscribed,3:subscribed,4:subscribed,5:subscribed,6:unsubscribed"
echo "# before: $before"
echo "# inbound: $(q "SELECT group_concat(message_id || '=' || class || '/' || coalesce(reason, ''), '; ') FROM inbound")"
done_testing
