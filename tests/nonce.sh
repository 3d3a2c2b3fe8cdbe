#!/bin/sh
# Message-IDs and tokens never repeat (issue 20): after `clarion restore`
# of an older backup, run and delivery ids are handed out again. A
# per-database nonce, renewed by restore and frozen into each run, goes
# into the Message-ID and the tokens' MAC, so the new mail differs from
# what was sent before the restore, and a late bounce or reply to the old
# mail is not attributed to whoever now holds its delivery id. A resend of
# the same delivery keeps its Message-ID and tokens. Against a real
# Dovecot on loopback for the late mail.
. "$top_srcdir/tests/lib/common.sh"
L="$top_srcdir/tests/lib"
DATA="$top_srcdir/tests/data/inbound"
[ -x /usr/sbin/dovecot ] || skip "dovecot is not installed (/usr/sbin/dovecot)"
for c in curl openssl sqlite3; do
	command -v $c >/dev/null || skip "$c is not installed"
done

CLOCK="$T/clock"
export CLARION_CLOCK_FILE="$CLOCK"
at() { date -u -d "$1" +%s > "$CLOCK"; }
at "2026-11-27 12:00"

D=$(mktemp -d /tmp/dn.XXXXXX)
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
make_config "$T/c.conf" "imap = { enabled = true; url = \"$URL\"; user = \"testuser\";
  password_file = \"$T/imap.password\"; ca_file = \"$D/ca.pem\";
  poll_interval = \"1h\"; timeout = \"10s\"; };"
C="$CLARION -c $T/c.conf"
q() { sqlite3 "$T/clarion.db" "$1"; }
$C init >/dev/null
$C list create members --from news@example.org --owner sec@example.org --display-name "Hillside CLP" >/dev/null
$C sub add alice@example.org --list members --name "Alice Smith" >/dev/null
$C sub add bob@example.org --list members --name "Bob Jones" >/dev/null
printf 'Hello.\n' > "$T/body.md"
$C backup "$T/before.db" >/dev/null

# hdrs FILE: Message-ID, then the bounce, reply and unsubscribe tokens.
hdrs() {
	{
		sed -n 's/^Message-ID: <\(.*\)>\r$/\1/p' "$1"
		sed -n 's/^Return-Path: <bounces+\([a-z2-7]*\)@.*/\1/p' "$1"
		sed -n 's/^Reply-To: <reply+\([a-z2-7]*\)@.*/\1/p' "$1"
		sed -n 's/^List-Unsubscribe: <mailto:unsubscribe+\([a-z2-7]*\)@.*/\1/p' "$1"
	} | tr -d '\r'
}
for_member() { # for_member SUBJECT ADDRESS: the newest such message
	grep -l "^Subject: $1" $(ls -t "$T"/outbox/new/*) | while read -r f; do
		grep -q "^To: .*<$2>" "$f" && { echo "$f"; break; }
	done
}

$C item add first --list members --kind message --subject "First" \
    --content "$T/body.md" --at "2026-11-28 09:00" >/dev/null 2>&1
at "2026-11-28 09:00:05"
"$CLARIOND" --once -c "$T/c.conf" 2>"$T/log" || fail "clariond --once (first)"
f1=$(for_member First alice@example.org)
check "alice gets the first message" test -n "$f1"
old=$(hdrs "$f1")
d1=$(q "SELECT d.id FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id WHERE s.address = 'alice@example.org'")
expect_eq "her Message-ID names run 1, her delivery and the nonce" \
    "$(echo "$old" | head -1 | sed 's/\.[0-9a-f]\{16\}@/.NONCE@/')" "clarion.1.$d1.NONCE@example.org"

# A resend of the same delivery (as after a crash) keeps its bytes' ids.
q "UPDATE deliveries SET state = 'queued' WHERE id = $d1"
at "2026-11-28 09:10"
"$CLARIOND" --once -c "$T/c.conf" 2>>"$T/log" || fail "clariond --once (resend)"
f1b=$(for_member First alice@example.org)
check "the resend is written" test "$f1b" != "$f1"
expect_eq "the resend has the same Message-ID and tokens" "$(hdrs "$f1b")" "$old"

# Restore the backup made before the first message; Alice leaves, so
# the next run's first delivery goes to Bob.
$C restore "$T/before.db" >/dev/null 2>&1 || fail "restore"
$C sub unsubscribe alice@example.org --list members >/dev/null
$C item add second --list members --kind message --subject "Second" \
    --content "$T/body.md" --at "2026-11-29 09:00" >/dev/null 2>&1
at "2026-11-29 09:00:05"
"$CLARIOND" --once -c "$T/c.conf" 2>>"$T/log" || fail "clariond --once (second)"
f2=$(for_member Second bob@example.org)
check "bob gets the second message" test -n "$f2"
expect_eq "the restored database hands out delivery $d1 again, to bob" \
    "$(q "SELECT d.id FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id WHERE s.address = 'bob@example.org'")" "$d1"
new=$(hdrs "$f2")
o() { echo "$old" | sed -n "$1p"; }
n() { echo "$new" | sed -n "$1p"; }
expect_eq "same run and delivery as before the restore" \
    "$(n 1 | cut -d. -f1-3)" "$(o 1 | cut -d. -f1-3)"
check "but another Message-ID ($(o 1) / $(n 1))" test "$(n 1)" != "$(o 1)"
for i in 2 3 4; do
	check "and another token ($(o $i) / $(n $i))" test "$(n $i)" != "$(o $i)"
done

# Late mail for Alice's first message: a bounce through its bounce token,
# a reply naming only its Message-ID. Neither may touch Bob.
sed -e "s/bounces+ab3cd5ef7gh2ij4k/bounces+$(o 2)/g" \
    -e 's/20261123121423.75374A72837@mx1.members.test/late-bounce@mx1.members.test/' \
    -e 's/\r$//' -e 's/$/\r/' "$DATA/postfix-real-5.1.1-user-unknown.eml" > "$T/late-bounce.eml"
printf 'From: Alice <alice@example.org>\r\nTo: reply@example.org\r\nSubject: Re: First\r\nDate: Mon, 30 Nov 2026 10:00:00 +0000\r\nMessage-ID: <late-reply@isp.test>\r\nIn-Reply-To: <%s>\r\n\r\nI will come.\r\n' "$(o 1)" > "$T/late-reply.eml"
$CURL "$URL/INBOX" -T "$T/late-bounce.eml" || fail "APPEND late-bounce"
$CURL "$URL/INBOX" -T "$T/late-reply.eml" || fail "APPEND late-reply"
out=$($C inbound run --once 2>"$T/run.err"); rc=$?
expect_eq "inbound run --once exits 0" "$rc" 0
expect_eq "the late bounce's token fails its check" \
    "$(q "SELECT reason || '/' || coalesce(delivery_id, '-') FROM inbound WHERE message_id = 'late-bounce@mx1.members.test'")" "bad token/-"
expect_eq "the late reply is not taken for one to bob's delivery" \
    "$(q "SELECT coalesce(delivery_id, '-') FROM inbound WHERE message_id = 'late-reply@isp.test'")" "-"
expect_eq "bob has no bounce and is still subscribed" \
    "$(q "SELECT (SELECT count(*) FROM bounces) || '/' || status FROM memberships m JOIN subscribers s ON s.id = m.subscriber_id WHERE s.address = 'bob@example.org'")" "0/subscribed"
done_testing
