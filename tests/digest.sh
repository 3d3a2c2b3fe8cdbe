#!/bin/sh
# The owner's digest (issue 18) lists complaints and inbound messages filed
# without an effect, not only disabled addresses, and never one item in
# two digests. Against a real Dovecot and the aiosmtpd sink: a genuine ARF
# complaint through the bounce token of member 1's delivery and a message
# nobody can act on (Unknown) are read by `clarion inbound run --once`;
# clariond --once then sends the owner one digest naming both, and a later
# digest interval sends none.
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/smtp.sh"
L="$top_srcdir/tests/lib"
DATA="$top_srcdir/tests/data/inbound"
TOKEN="$top_builddir/tests/imap_token"
SMTP_BASE=32760

[ -x /usr/sbin/dovecot ] || skip "dovecot is not installed (/usr/sbin/dovecot)"
for c in curl head od; do
	command -v $c >/dev/null || skip "$c is not installed"
done
[ -x "$TOKEN" ] || skip "tests/imap_token is not built"
smtp_require

D=$(mktemp -d /tmp/dg.XXXXXX)
stop_dovecot() {
	sh "$L/stop-dovecot.sh" "$D"
	[ "$FAILED" = 0 ] && [ -z "${KEEP:-}" ] && rm -rf "$D"
	return 0
}
on_exit stop_dovecot
sh "$L/gen-certs.sh" "$D" || skip "cannot generate test certificates (openssl)"
P_IMAP=$(free_port 32843)
P_IMAPS=$(free_port $((P_IMAP + 1)))
sh "$L/start-dovecot.sh" "$D" "$P_IMAP" "$P_IMAPS" ||
	skip "dovecot cannot start: $(cat "$D/dovecot.stdout" 2>/dev/null)"
sh "$L/wait-imap.sh" "$D" "$P_IMAPS" 2>"$T/dovecot.err" ||
	skip "dovecot did not start: $(tail -3 "$T/dovecot.err")"
URL="imaps://127.0.0.1:$P_IMAPS"
CURL="curl -sS --cacert $D/ca.pem -u testuser:testpass"
printf 'testpass\n' > "$T/imap.password"
chmod 600 "$T/imap.password"

sink_start sink
C="$T/c.conf"
smtp_config "$C" 'bounces = { digest_interval = 3600; };'
# The same settings reading the mailbox (clarion inbound run).
make_config "$T/in.conf" "imap = { enabled = true; url = \"$URL\";
  user = \"testuser\"; password_file = \"$T/imap.password\";
  ca_file = \"$D/ca.pem\"; poll_interval = \"1h\"; timeout = \"10s\"; };"
"$CLARION" -c "$C" init >/dev/null || { fail "clarion init"; exit 1; }

# One list, two members, one sent newsletter: delivery N went to member N.
q "INSERT INTO lists (id, name, display_name, from_addr, owner_addr, created, updated) VALUES
  (1, 'members', 'Hillside CLP', 'news@example.org', 'owner@example.org', 0, 0);
INSERT INTO items (id, name, list_id, kind, template, subject, created, updated)
  VALUES (1, 'news', 1, 'newsletter', 'newsletter', 'News', 0, 0);
INSERT INTO runs (id, item_id, due_at, state, created) VALUES (1, 1, 0, 'done', 0);"
for i in 1 2; do
	q "INSERT INTO subscribers (id, address, name, created, updated) VALUES ($i, 'm$i@members.test', 'Member $i', 0, 0);
	INSERT INTO memberships (subscriber_id, list_id, created, updated) VALUES ($i, 1, 0, 0);
	INSERT INTO deliveries (id, run_id, subscriber_id, address, state, created) VALUES ($i, 1, $i, 'm$i@members.test', 'sent', 0);"
done

add() { # add NAME FILE DELIVERY [sed expr]: with the delivery's real tokens
	tb=$("$TOKEN" "$C" b "$3")
	sed -e "s/bounces+ab3cd5ef7gh2ij4k/bounces+$tb/g" -e "${4:-s/^//}" \
	    -e 's/\r$//' -e 's/$/\r/' "$2" > "$T/$1.eml"
	$CURL "$URL/INBOX" -T "$T/$1.eml" || fail "APPEND $1"
}
# A complaint about delivery 1, through its bounce token.
add arf "$DATA/arf-rfc5965-example.eml" 1 \
    's/arf-5965-1@mailbox-provider.test/digest-arf@mailbox-provider.test/'
# A message nothing can be done with: a bounce from a stranger that
# carries no token (sent to the plain bounces@ address).
add unknown "$DATA/postfix-real-5.1.1-user-unknown.eml" 2 \
    's/bounces+[a-z2-7]*@/bounces@/g; s/MAILER-DAEMON@members.test/mallory@stranger.test/; /^List-Unsubscribe:/d; /^Reply-To:/d; s/20261123121423.75374A72837@mx1.members.test/digest-unknown@stranger.test/'
# A message from a person that names nothing of ours: it is forwarded to
# the owner, which is its effect, so the digest does not list it.
printf 'From: Someone <someone@elsewhere.test>\r\nTo: bounces@example.org\r\nSubject: hello?\r\nDate: Mon, 23 Nov 2026 15:00:00 +0000\r\nMessage-ID: <digest-forwarded@elsewhere.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nIs this the right address?\r\n' > "$T/forwarded.eml"
$CURL "$URL/INBOX" -T "$T/forwarded.eml" || fail "APPEND forwarded"

"$CLARION" -c "$T/in.conf" inbound run --once >"$T/run.out" 2>"$T/run.err"
expect_eq "inbound run --once exits 0" "$?" 0
expect_eq "the complaint is recorded against member 1" \
    "$(q "SELECT class || '/' || subscriber_id || '/' || list_id FROM inbound WHERE message_id = 'digest-arf@mailbox-provider.test'")" \
    "complaint/1/1"
expect_eq "the other message is filed to Unknown" \
    "$(q "SELECT folder || '/' || substr(action, 1, 8) FROM inbound WHERE message_id = 'digest-unknown@stranger.test'")" \
    "Unknown/nothing:"

daemon() { "$CLARIOND" -c "$C" --once 2>>"$T/daemon.log"; }
owner_mail() { # the digests the owner got
	grep -l 'X-Envelope-To: <owner@example.org>' "$SINK_DIR"/Maildir/new/* 2>/dev/null |
	    xargs -r grep -l '^Message-ID: <clarion\.sys\.digest\.'
}
daemon	# queues the digest
daemon	# sends it
n=$(owner_mail | wc -l | tr -d ' ')
expect_eq "one digest went to the owner" "$n" 1
f=$(owner_mail | head -1)
body=$([ -n "$f" ] && /usr/bin/python3 -c '
import email, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
print(m["Subject"])
for p in m.walk():
    if p.get_content_type() == "text/plain":
        print(" ".join(p.get_payload(decode=True).decode().split()))' "$f")
expect_contains "its subject counts the complaint and the message" "$body" \
    "1 complaint, 1 message filed without an effect"
expect_contains "it names the member who complained" "$body" \
    "Complaints about mail from Hillside CLP since the last digest: - m1@members.test (Member 1)"
expect_contains "it lists the message filed without an effect" "$body" \
    "Message-ID digest-unknown@stranger.test"
expect_contains "and the folder it is in" "$body" "in Unknown"
expect_not_contains "but not the message forwarded to the owner" "$body" \
    "digest-forwarded@elsewhere.test"

# A digest interval later: nothing new, so no digest.
echo $((NOW + 7200)) > "$CLOCK"
daemon
daemon
expect_eq "the next digest interval sends the owner nothing new" \
    "$(owner_mail | wc -l | tr -d ' ')" 1
expect_eq "and queues nothing for the owner" \
    "$(q "SELECT count(*) FROM sysmail WHERE kind = 'digest'")" 1

# Another message without an effect comes in: the next digest lists it
# alone, none of what the first one reported.
add unknown2 "$DATA/postfix-real-5.1.1-user-unknown.eml" 2 \
    's/bounces+[a-z2-7]*@/bounces@/g; s/MAILER-DAEMON@members.test/mallory@stranger.test/; /^List-Unsubscribe:/d; /^Reply-To:/d; s/20261123121423.75374A72837@mx1.members.test/digest-unknown-2@stranger.test/'
"$CLARION" -c "$T/in.conf" inbound run --once >>"$T/run.out" 2>>"$T/run.err"
echo $((NOW + 14400)) > "$CLOCK"
daemon
daemon
expect_eq "a second digest went to the owner" \
    "$(owner_mail | wc -l | tr -d ' ')" 2
f=$(owner_mail | xargs -r grep -L '^Message-ID: <clarion\.sys\.digest\.1782900000\.' | head -1)
body2=$([ -n "$f" ] && /usr/bin/python3 -c '
import email, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
print(m["Subject"])
for p in m.walk():
    if p.get_content_type() == "text/plain":
        print(" ".join(p.get_payload(decode=True).decode().split()))' "$f")
expect_contains "it lists the new message" "$body2" \
    "Message-ID digest-unknown-2@stranger.test"
expect_not_contains "and not the complaint already reported" "$body2" \
    "m1@members.test"
expect_not_contains "nor the message already reported" "$body2" \
    "Message-ID digest-unknown@stranger.test"
done_testing
