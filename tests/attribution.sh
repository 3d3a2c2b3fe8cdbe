#!/bin/sh
# Who may act on a member (issue 15), against a real Dovecot on loopback:
#  - a bounce (DSN or plain-text) or a complaint (ARF) from a stranger that
#    carries a member's reply or unsubscribe token changes nothing: only
#    the bounce (VERP) token of the delivery attributes one;
#  - a genuine DSN and ARF report through the bounce token still act, and
#    `clarion bounces` shows which token attributed the disabling bounce;
#  - a clariond started during the old token secret's grace period refuses
#    old-secret tokens once token_old_until has passed, without a restart.
. "$top_srcdir/tests/lib/common.sh"
L="$top_srcdir/tests/lib"
DATA="$top_srcdir/tests/data/inbound"
TOKEN="$top_builddir/tests/imap_token"

[ -x /usr/sbin/dovecot ] || skip "dovecot is not installed (/usr/sbin/dovecot)"
for c in curl openssl sqlite3 head od; do
	command -v $c >/dev/null || skip "$c is not installed"
done
[ -x "$TOKEN" ] || skip "tests/imap_token is not built"

CLOCK="$T/clock"
export CLARION_CLOCK_FILE="$CLOCK"
echo 1799971200 > "$CLOCK"	# 2027-01-15 00:00 UTC: in the grace period

D=$(mktemp -d /tmp/da.XXXXXX)
DPID=
stop_servers() {
	[ -n "$DPID" ] && kill -9 "$DPID" 2>/dev/null
	sh "$L/stop-dovecot.sh" "$D"
	[ "$FAILED" = 0 ] && [ -z "${KEEP:-}" ] && rm -rf "$D"
	return 0
}
on_exit stop_servers
sh "$L/gen-certs.sh" "$D" || skip "cannot generate test certificates (openssl)"
P_IMAP=$(free_port 32443)
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

# The previous secret, still accepted until 2027-01-31.
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$T/token.old.key"
chmod 600 "$T/token.old.key"
IMAP="imap = { enabled = true; url = \"$URL\"; user = \"testuser\";
  password_file = \"$T/imap.password\"; ca_file = \"$D/ca.pem\";
  poll_interval = \"1h\"; timeout = \"10s\"; };"
C="$T/c.conf"
make_config "$C" "$IMAP" "tick = 1;" \
    "token_old_secret_file = \"$T/token.old.key\";" \
    'token_old_until = "2027-01-31 00:00";'
"$CLARION" -c "$C" init >/dev/null || { fail "clarion init"; exit 1; }
# The same settings signing with the old secret: tokens in mail sent
# before the rotation.
make_config "$T/old.conf" "token_secret_file = \"$T/token.old.key\";"
q() { sqlite3 "$T/clarion.db" "$1"; }

# Two lists, members on both, one sent newsletter (run 1): delivery N
# went to member N.
q "INSERT INTO lists (id, name, display_name, from_addr, owner_addr, created, updated) VALUES
  (1, 'members', 'Hillside CLP', 'news@example.org', 'owner@example.org', 0, 0),
  (2, 'picket', 'Picket line', 'picket@example.org', 'rep@example.org', 0, 0);
INSERT INTO items (id, name, list_id, kind, template, subject, created, updated)
  VALUES (1, 'news', 1, 'newsletter', 'newsletter', 'News', 0, 0);
INSERT INTO runs (id, item_id, due_at, state, created) VALUES (1, 1, 0, 'done', 0);"
for i in 1 2 3 4 5 6 7 8 9; do
	q "INSERT INTO subscribers (id, address, name, created, updated) VALUES ($i, 'm$i@members.test', 'Member $i', 0, 0);
	INSERT INTO memberships (subscriber_id, list_id, created, updated) VALUES ($i, 1, 0, 0), ($i, 2, 0, 0);
	INSERT INTO deliveries (id, run_id, subscriber_id, address, state, created) VALUES ($i, 1, $i, 'm$i@members.test', 'sent', 0);"
done
members() { # members SUB: lists the member is still subscribed to
	q "SELECT group_concat(list_id) FROM memberships WHERE subscriber_id = $1 AND status = 'subscribed'"
}
untouched() { # untouched N WHAT: member N still on both lists, not suppressed, no bounce
	expect_eq "$2: member $1 still on both lists" "$(members "$1")" "1,2"
	expect_eq "$2: m$1 not suppressed, no bounce recorded" \
	    "$(q "SELECT (SELECT count(*) FROM suppressions WHERE address = 'm$1@members.test') + (SELECT count(*) FROM bounces WHERE subscriber_id = $1)")" 0
}

# fixture FILE DELIVERY [sed expr]: the message with the real tokens of
# the delivery, then the edit, CRLF.
fixture() {
	tb=$("$TOKEN" "$C" b "$2") tr=$("$TOKEN" "$C" r "$2") tu=$("$TOKEN" "$C" u "$2")
	sed -e "s/bounces+ab3cd5ef7gh2ij4k/bounces+$tb/g" \
	    -e "s/reply+ab3cd5ef7gh2ij4k/reply+$tr/g" \
	    -e "s/unsubscribe+ab3cd5ef7gh2ij4k/unsubscribe+$tu/g" \
	    -e "${3:-s/^//}" -e 's/\r$//' -e 's/$/\r/' "$1"
}
add() { # add NAME FILE DELIVERY [sed expr]
	fixture "$2" "$3" "${4:-}" > "$T/$1.eml"
	$CURL "$URL/INBOX" -T "$T/$1.eml" || fail "APPEND $1"
}
# A stranger's forgery: no bounce token anywhere (sent to the plain
# bounces@ address, the returned headers' Return-Path too), from someone
# who is not a mail server.
STRANGER='s/bounces+[a-z2-7]*@/bounces@/g; s/MAILER-DAEMON@members.test/mallory@stranger.test/; s/abusedesk@mailbox-provider.test/mallory@stranger.test/'

# 1: a DSN whose returned headers carry member 1's reply token only.
add forged-dsn-reply "$DATA/postfix-real-5.1.1-user-unknown.eml" 1 \
    "$STRANGER; /^List-Unsubscribe:/d; s/20261123121423.75374A72837@mx1.members.test/forged-dsn-reply@stranger.test/"
# 2: a DSN whose returned headers carry member 2's unsubscribe token only.
add forged-dsn-unsub "$DATA/postfix-real-5.1.1-user-unknown.eml" 2 \
    "$STRANGER; /^Reply-To:/d; s/20261123121423.75374A72837@mx1.members.test/forged-dsn-unsub@stranger.test/"
# 3: an ARF report whose embedded original carries member 3's
# List-Unsubscribe token.
add forged-arf-unsub "$DATA/arf-rfc5965-example.eml" 3 \
    "$STRANGER; /^Reply-To:/d; s/arf-5965-1@mailbox-provider.test/forged-arf-unsub@stranger.test/"
# 4: a plain-text bounce quoting member 4's reply and unsubscribe tokens.
add forged-text "$DATA/postfix-text-only-5.1.1.eml" 4 \
    "$STRANGER; s/postfix-text-only-5.1.1@mta.test/forged-text@stranger.test/"
# 5 and 6, the controls: a genuine DSN and ARF report, through the bounce
# token of the delivery they name.
add genuine-dsn "$DATA/postfix-real-5.1.1-user-unknown.eml" 5 \
    's/20261123121423.75374A72837@mx1.members.test/genuine-dsn@mx1.members.test/'
add genuine-arf "$DATA/arf-rfc5965-example.eml" 6 \
    's/arf-5965-1@mailbox-provider.test/genuine-arf@mailbox-provider.test/'

out=$("$CLARION" -c "$C" inbound run --once 2>"$T/run.err"); rc=$?
expect_eq "inbound run --once exits 0" "$rc" 0
[ "$rc" = 0 ] || cat "$T/run.err"
expect_contains "and reads the six messages" "$out" "inbound: 6 messages processed"

untouched 1 "forged DSN with a reply token"
untouched 2 "forged DSN with an unsubscribe token"
untouched 3 "forged ARF report with the List-Unsubscribe token"
untouched 4 "forged plain-text bounce with reply and unsubscribe tokens"
for m in forged-dsn-reply forged-dsn-unsub forged-arf-unsub forged-text; do
	expect_eq "$m: recorded as the wrong token purpose, filed to Unknown" \
	    "$(q "SELECT reason || '/' || folder FROM inbound WHERE message_id = '$m@stranger.test'")" \
	    "wrong token purpose/Unknown"
done
expect_contains "the record says which token was refused" \
    "$(q "SELECT action FROM inbound WHERE message_id = 'forged-dsn-reply@stranger.test'")" \
    "a reply token cannot attribute a bounce"
expect_contains "and for the complaint" \
    "$(q "SELECT action FROM inbound WHERE message_id = 'forged-arf-unsub@stranger.test'")" \
    "an unsubscribe token cannot attribute a complaint"
expect_eq "no confirmation or other mail was queued to members 1-4" \
    "$(q "SELECT count(*) FROM sysmail WHERE to_addr IN ('m1@members.test', 'm2@members.test', 'm3@members.test', 'm4@members.test')")" 0

expect_eq "genuine DSN (bounce token): member 5 left every list" "$(members 5)" ""
expect_eq "genuine DSN: suppressed as a hard bounce" \
    "$(q "SELECT reason FROM suppressions WHERE address = 'm5@members.test'")" hard-bounce
expect_eq "genuine DSN: the bounce records its token and delivery" \
    "$(q "SELECT source || '/' || token_purpose || '/' || delivery_id || '/' || run_id FROM bounces WHERE subscriber_id = 5")" \
    "dsn/bounce/5/1"
expect_eq "genuine ARF (bounce token): member 6 left every list" "$(members 6)" ""
expect_eq "genuine ARF: suppressed as a complaint" \
    "$(q "SELECT reason FROM suppressions WHERE address = 'm6@members.test'")" complaint

# clarion bounces: the disabling bounce and what attributed it.
b=$("$CLARION" -c "$C" bounces); rc=$?
expect_eq "clarion bounces exits 0" "$rc" 0
expect_contains "clarion bounces lists the disabled address" "$b" "m5@members.test"
expect_contains "and what attributed the bounce" "$b" \
    "attributed by: bounce token of delivery 5 (run 1)"
expect_not_contains "and nothing from the forgeries" "$b" "m1@members.test"
expect_contains "and when, in local time (not the time zone's name)" "$b" \
    "m5@members.test                  2027-01-15 00:00  hard bounce"
j=$("$CLARION" -c "$C" bounces --json)
expect_contains "clarion bounces --json: the token's purpose" "$j" '"token": "bounce"'
expect_contains "clarion bounces --json: the delivery" "$j" '"delivery": 5'
expect_contains "clarion bounces --json: the run" "$j" '"run": 1'

# --- the old secret's grace period ends while clariond runs --------------
in_folder() { # in_folder FOLDER TEXT
	grep -rqF -- "$2" "$MD/.Clarion.$1/cur" "$MD/.Clarion.$1/new" 2>/dev/null
}
unsub() { # unsub N TOKEN ID: member N mails unsubscribe+TOKEN@
	printf 'From: Member %s <m%s@members.test>\r\nTo: unsubscribe+%s@example.org\r\nSubject: unsubscribe\r\nDate: Mon, 23 Nov 2026 15:00:00 +0000\r\nMessage-ID: <%s@members.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPlease unsubscribe me.\r\n' \
	    "$1" "$1" "$2" "$3" > "$T/$3.eml"
	$CURL "$URL/INBOX" -T "$T/$3.eml" || fail "APPEND $3"
}
recorded() { [ "$(q "SELECT count(*) FROM inbound WHERE message_id = '$1@members.test'")" = 1 ]; }
old7=$("$TOKEN" "$T/old.conf" u 7)
old8=$("$TOKEN" "$T/old.conf" u 8)
check "the old secret signs other tokens than the current one" \
    test "$old7" != "$("$TOKEN" "$C" u 7)"

"$CLARIOND" -c "$C" -d 2>"$T/daemon.err" &
DPID=$!
# During the grace period the daemon accepts an old-secret token: this
# shows it loaded the old key, so the refusal below is the expiry's.
unsub 7 "$old7" grace-7
check "during the grace period clariond reads the mail" wait_for recorded grace-7
expect_eq "and an old-secret token still works (member 7 left list 1)" "$(members 7)" "2"

echo 1802649600 > "$CLOCK"	# 2027-02-15: after token_old_until
unsub 8 "$old8" expired-8
check "after token_old_until the same clariond reads the mail" wait_for recorded expired-8
check "clariond was not restarted meanwhile" kill -0 "$DPID"
expect_eq "an expired old-secret token changes nothing (member 8 on both lists)" "$(members 8)" "1,2"
expect_eq "and it is recorded as an expired token" \
    "$(q "SELECT reason FROM inbound WHERE message_id = 'expired-8@members.test'")" "expired token"
check "and filed to Unknown" wait_for in_folder Unknown "expired-8@members.test"
expect_eq "no confirmation was queued to member 8" \
    "$(q "SELECT count(*) FROM sysmail WHERE to_addr = 'm8@members.test'")" 0
kill -TERM "$DPID"
wait "$DPID"; rc=$?
DPID=
expect_eq "clariond stops with 0" "$rc" 0
expect_not_contains "the daemon log has no token" "$(cat "$T/daemon.err")" "$old8"
done_testing
