#!/bin/sh
# The send step against a real SMTP server (aiosmtpd on loopback): every
# recipient exactly once, per-recipient temporary and permanent failures,
# a connection dropped mid-DATA, certificate checks, AUTH, STARTTLS, rate
# limits, quiet hours, system mail, a server that is down, SIGTERM, crash
# recovery (hold), and the outbox transport.
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/smtp.sh"
smtp_require
SMTP_BASE=32500
sink_start sink --tempfail-once 'tf-*' --reject 'reject-*' \
	--policy 'pol-*' --drop-once 'drop-*' --tempfail 'always-*'

# --- 2,000 recipients over SMTPS with AUTH, 4 connections ---------------
smtp_config "$T/c.conf"
db_init "$T/c.conf"
add_run 1 2000
drive "$T/c.conf"
expect_eq "2000 messages arrive" "$(sink_count)" 2000
expect_eq "no recipient twice" "$(sink_dups)" 0
expect_eq "every delivery is sent" "$(q "SELECT count(*) FROM deliveries WHERE run_id = 1 AND state = 'sent' AND sent_at = $NOW AND attempts = 1 AND last_code = 250")" 2000
expect_eq "each recipient got its own delivery" \
	"$(sink_rcpts | sort | head -1)" "m1-1000@example.net"
f=$(grep -l 'X-Envelope-To: <m1-17@example.net>' "$SINK_DIR"/Maildir/new/*)
expect_contains "with the VERP envelope sender" "$(grep '^X-Envelope-From' $f)" "<bounces+"
expect_contains "over TLS" "$(grep '^X-Sink-TLS' $f)" "yes"
d=$(grep '^X-Clarion-Delivery' "$f" | tr -d '\r' | cut -d' ' -f2)
expect_eq "the message is that member's own" "$(q "SELECT address FROM deliveries WHERE id = $d")" "m1-17@example.net"
expect_contains "the server's reply is kept" "$(q "SELECT last_reply FROM deliveries WHERE id = $d")" "250 2.0.0 Ok: queued as"
check "no password in the log" sh -c "! grep -q secret '$T/drive.log'"

# --- per-recipient results ---------------------------------------------
before=$(sink_count)
sqlite3 "$T/clarion.db" "
INSERT INTO runs(id,item_id,due_at,state,created) VALUES (2,1,2,'sending',0);
INSERT INTO subscribers(id,address,created,updated) VALUES
 (9001,'tf-a@example.net',0,0), (9002,'reject-a@example.net',0,0),
 (9003,'pol-a@example.net',0,0), (9004,'drop-a@example.net',0,0),
 (9005,'ok-a@example.net',0,0), (9006,'ok-b@example.net',0,0);
INSERT INTO memberships(subscriber_id,list_id,created,updated)
 SELECT id, 1, 0, 0 FROM subscribers WHERE id > 9000;
INSERT INTO deliveries(run_id,subscriber_id,address,created)
 SELECT 2, id, address, $NOW FROM subscribers WHERE id > 9000 ORDER BY id;"
drive "$T/c.conf"
st() { q "SELECT state || ' ' || coalesce(last_code, '') FROM deliveries WHERE address = '$1'"; }
expect_eq "451: deferred" "$(st tf-a@example.net)" "deferred 451"
expect_contains "with the server's text" "$(q "SELECT last_reply FROM deliveries WHERE address = 'tf-a@example.net'")" "451 4.3.0 Temporary failure"
next=$(q "SELECT next_attempt - $NOW FROM deliveries WHERE address = 'tf-a@example.net'")
check "retry after the initial backoff (5 min less jitter: ${next}s)" test "$next" -gt 240 -a "$next" -le 300
expect_eq "550 5.1.1: failed" "$(st reject-a@example.net)" "failed 550"
expect_eq "554 5.7.1: failed" "$(st pol-a@example.net)" "failed 554"
expect_eq "dropped mid-DATA: deferred with no reply code" "$(st drop-a@example.net)" "deferred 0"
expect_contains "and says why" "$(q "SELECT last_reply FROM deliveries WHERE address = 'drop-a@example.net'")" "no reply from the server"
expect_eq "the others are sent" "$(st ok-a@example.net)" "sent 250"
sup() { q "SELECT reason FROM suppressions WHERE address = '$1'"; }
bnc() { q "SELECT hard || ' ' || status || ' ' || source FROM bounces WHERE subscriber_id = $1"; }
expect_eq "550 5.1.1 scores a hard bounce" "$(bnc 9002)" "1 5.1.1 smtp"
expect_eq "and the address is suppressed" "$(sup reject-a@example.net)" "hard-bounce"
expect_contains "clarion bounces: attributed to our own SMTP session" \
    "$("$CLARION" -c "$T/c.conf" bounces | grep -A1 reject-a@example.net)" \
    "attributed by: refused in our SMTP session for delivery"
expect_eq "554 5.7.1 scores a soft one" "$(bnc 9003)" "0 5.7.1 smtp"
expect_eq "and does not suppress the member" "$(sup pol-a@example.net)" ""
expect_eq "temporary failures score nothing" "$(q "SELECT count(*) FROM bounces WHERE subscriber_id IN (9001, 9004)")" 0
out=$("$CLARION" -c "$T/c.conf" queue)
expect_contains "clarion queue: counts" "$out" "queued 0, sending 0, deferred 2, held 0 (sent 2002, failed 2"
expect_contains "a deferred one with its next try" "$(echo "$out" | grep -A1 tf-a@example.net)" "next try 2026-07-01 11:0"
expect_contains "and its last reply" "$(echo "$out" | grep -A1 tf-a@example.net)" "451 4.3.0 Temporary failure for <tf-a@example.net>"
out=$("$CLARION" -c "$T/c.conf" queue --run 2)
expect_contains "clarion queue --run: the failed ones with the reply" "$(echo "$out" | sed -n '/^failed:/,$p')" "550 5.1.1 <reject-a@example.net>: Recipient rejected"
out=$("$CLARION" -c "$T/c.conf" --json queue --run 2)
expect_contains "clarion queue --json" "$out" '"deferred": 2'
drive "$T/c.conf"
expect_eq "nothing is retried before its time" "$(sink_count)" $((before + 2))
echo $((NOW + 301)) > "$CLOCK"
drive "$T/c.conf"
expect_eq "after the backoff the deferred ones are sent" "$(st tf-a@example.net) $(st drop-a@example.net)" "sent 250 sent 250"
expect_eq "and nothing else twice" "$(sink_dups)" 0
expect_eq "the failed ones are never retried" "$(sink_rcpts | grep -c -e reject-a -e pol-a)" 0
expect_eq "attempts counted" "$(q "SELECT attempts FROM deliveries WHERE address = 'tf-a@example.net'")" 2

# --- give up after delivery.max_age ------------------------------------
sqlite3 "$T/clarion.db" "
INSERT INTO runs(id,item_id,due_at,state,created) VALUES (3,1,3,'sending',0);
INSERT INTO subscribers(id,address,created,updated) VALUES (9101,'always-a@example.net',0,0);
INSERT INTO memberships(subscriber_id,list_id,created,updated) VALUES (9101,1,0,0);
INSERT INTO deliveries(run_id,subscriber_id,address,created) VALUES (3,9101,'always-a@example.net',$NOW - 3*86400);"
drive "$T/c.conf"
expect_eq "a delivery older than max_age fails on its next 4xx" "$(st always-a@example.net)" "failed 451"
expect_contains "with the last reply" "$(q "SELECT last_reply FROM deliveries WHERE address = 'always-a@example.net'")" "gave up after 1 attempts: 451 4.3.0"
echo $NOW > "$CLOCK"

# --- certificates ---------------------------------------------------------
q "DELETE FROM deliveries; DELETE FROM runs;"
add_run 10 3 cert-
smtp_config "$T/wrongca.conf"
sed -i "s|ca_file = \"$T/certs/ca.pem\"|ca_file = \"$T/certs/other-ca.pem\"|" "$T/wrongca.conf"
before=$(sink_count)
drive "$T/wrongca.conf" 2>/dev/null
expect_eq "a certificate that does not verify: nothing sent" "$(sink_count)" "$before"
expect_eq "the deliveries are deferred" "$(q "SELECT group_concat(state) FROM deliveries WHERE run_id = 10")" "deferred,deferred,deferred"
expect_contains "with the reason" "$(q "SELECT last_reply FROM deliveries WHERE run_id = 10 LIMIT 1")" "certificate"
sed -i 's|timeout = 10;|timeout = 10; tls_verify = false;|' "$T/wrongca.conf"
q "UPDATE deliveries SET next_attempt = 0"
drive "$T/wrongca.conf"
expect_eq "with smtp.tls_verify = false it is sent" "$(q "SELECT group_concat(state) FROM deliveries WHERE run_id = 10")" "sent,sent,sent"

# --- AUTH ------------------------------------------------------------------
add_run 11 3 auth-
sed "s|password = \"secret\"|password = \"wrong\"|" "$T/c.conf" > "$T/badpw.conf"
chmod 600 "$T/badpw.conf"
: > "$T/drive.log"
drive "$T/badpw.conf"
expect_eq "a wrong password: deferred" "$(q "SELECT group_concat(state) FROM deliveries WHERE run_id = 11")" "deferred,deferred,deferred"
expect_contains "with a clear last reply" "$(q "SELECT last_reply FROM deliveries WHERE run_id = 11 LIMIT 1")" "authentication failed: 535 5.7.8"
expect_contains "and a warning" "$(cat "$T/drive.log")" "authentication failed"
check "never the password" sh -c "! grep -q wrong '$T/drive.log'"
q "UPDATE deliveries SET next_attempt = 0"
drive "$T/c.conf"
expect_eq "the right password: sent" "$(q "SELECT group_concat(state) FROM deliveries WHERE run_id = 11")" "sent,sent,sent"

# --- STARTTLS on the submission port ----------------------------------------
add_run 12 2 starttls-
sed "s|smtps://localhost:$SMTPS_PORT|smtp://localhost:$SMTP_PORT|" "$T/c.conf" > "$T/starttls.conf"
chmod 600 "$T/starttls.conf"
drive "$T/starttls.conf"
expect_eq "smtp:// with STARTTLS: sent" "$(q "SELECT group_concat(state) FROM deliveries WHERE run_id = 12")" "sent,sent"
f=$(grep -l 'X-Envelope-To: <starttls-1@' "$SINK_DIR"/Maildir/new/*)
expect_contains "over TLS" "$(grep '^X-Sink-TLS' $f)" "yes"

# --- rate limit: per_minute = 7 with the clock standing still -------------
q "DELETE FROM deliveries; DELETE FROM runs;"
add_run 20 20 rate-
smtp_config "$T/rate.conf" 'rate = { per_minute = 7; };'
echo $((NOW + 7200)) > "$CLOCK"
drive "$T/rate.conf"; drive "$T/rate.conf"
expect_eq "per_minute = 7: exactly 7 at the server in that minute" "$(sink_rcpts | grep -c '^rate-')" 7
expect_eq "the rest wait in the queue" "$(q "SELECT count(*) FROM deliveries WHERE run_id = 20 AND state = 'queued'")" 13
expect_contains "clarion queue: paused by the rate limit" "$("$CLARION" -c "$T/rate.conf" queue)" "paused: a rate limit is reached (per minute 7"
echo $((NOW + 7260)) > "$CLOCK"
drive "$T/rate.conf"
expect_eq "a minute later, 7 more" "$(sink_rcpts | grep -c '^rate-')" 14

# --- quiet hours and system mail -------------------------------------------
q "DELETE FROM deliveries; DELETE FROM runs;"
add_run 21 2 quiet-
sqlite3 "$T/clarion.db" "INSERT INTO sysmail(kind,to_addr,message,created) VALUES
 ('unsubscribed','member@example.net',CAST('Subject: You are unsubscribed' || char(13,10,13,10) || 'Bye.' || char(13,10) AS BLOB),$NOW),
 ('forward','owner@example.org',CAST('Subject: Fwd: hello' || char(13,10,13,10) || 'Hi.' || char(13,10) AS BLOB),$NOW);"
smtp_config "$T/quiet.conf" 'quiet_hours = { start = "21:00"; end = "08:00"; };'
echo 1782937800 > "$CLOCK"	# 21:30 in London
drive "$T/quiet.conf"
expect_eq "quiet hours: no bulk mail" "$(q "SELECT group_concat(state) FROM deliveries WHERE run_id = 21")" "queued,queued"
expect_contains "clarion queue: paused by quiet hours" "$("$CLARION" -c "$T/quiet.conf" queue)" "paused: quiet hours (21:00-08:00 Europe/London)"
expect_eq "but system mail goes" "$(q "SELECT group_concat(state) FROM sysmail ORDER BY id")" "sent,sent"
f=$(grep -l 'X-Envelope-To: <member@example.net>' "$SINK_DIR"/Maildir/new/*)
expect_contains "a confirmation has the null sender (RFC 3834)" "$(grep '^X-Envelope-From' $f)" "<>"
f=$(grep -l 'X-Envelope-To: <owner@example.org>' "$SINK_DIR"/Maildir/new/*)
expect_contains "a forward comes from bounces@domain" "$(grep '^X-Envelope-From' $f)" "<bounces@example.org>"
echo $NOW > "$CLOCK"
drive "$T/quiet.conf"
expect_eq "in the morning the bulk mail goes" "$(q "SELECT group_concat(state) FROM deliveries WHERE run_id = 21")" "sent,sent"

# --- a server that is down: pause, mail stays queued ------------------------
q "DELETE FROM deliveries; DELETE FROM runs;"
add_run 22 12 down-
DOWN=$(free_port 32590)
sed "s|smtps://localhost:$SMTPS_PORT|smtps://localhost:$DOWN|" "$T/c.conf" > "$T/down.conf"
chmod 600 "$T/down.conf"
: > "$T/drive.log"
drive "$T/down.conf"
expect_contains "repeated connection failures pause sending" "$(cat "$T/drive.log")" "5 server failures in a row"
queued=$(q "SELECT count(*) FROM deliveries WHERE run_id = 22 AND state = 'queued'")
check "most of the run stays queued, not deferred ($queued of 12)" test "$queued" -ge 7
expect_eq "no delivery is failed" "$(q "SELECT count(*) FROM deliveries WHERE run_id = 22 AND state = 'failed'")" 0
out=$("$CLARION" -c "$T/c.conf" queue)
expect_contains "clarion queue says why nothing goes" "$out" "paused: the server failed repeatedly; next try 2026-07-01 11:01"
expect_contains "with the server's error" "$out" "Couldn't connect to server"
drive "$T/c.conf"
expect_eq "still paused on the next step" "$(q "SELECT count(*) FROM deliveries WHERE run_id = 22 AND state = 'sent'")" 0

# --- SIGTERM during a send loses nothing -------------------------------------
q "DELETE FROM deliveries; DELETE FROM runs;"
add_run 30 1500 term-
echo $((NOW + 100)) > "$CLOCK"	# the pause is over
before=$(sink_count)
"$DRIVE" -c "$T/c.conf" >>"$T/drive.out" 2>>"$T/drive.log" &
DP=$!
wait_for sh -c "[ \$(find '$SINK_DIR/Maildir/new' -type f | wc -l) -ge $((before + 200)) ]"
kill -TERM $DP
wait $DP; rc=$?
expect_eq "SIGTERM: the sender exits 0" "$rc" 0
expect_eq "nothing left in flight" "$(q "SELECT count(*) FROM deliveries WHERE state NOT IN ('sent', 'queued')")" 0
sent=$(q "SELECT count(*) FROM deliveries WHERE run_id = 30 AND state = 'sent'")
check "it stopped part way ($sent of 1500 sent)" test "$sent" -lt 1500
expect_eq "every 'sent' one is at the server, once" "$(sink_rcpts | grep -c '^term-')" "$sent"
drive "$T/c.conf"
expect_eq "a restart sends the rest" "$(sink_rcpts | grep -c '^term-')" 1500
expect_eq "no one twice" "$(sink_rcpts | grep '^term-' | sort | uniq -d | wc -l)" 0

# --- a crash left deliveries in 'sending': after_crash = hold ---------------
add_run 31 5 crash-
q "UPDATE deliveries SET state = 'sending', claimed_at = $NOW WHERE run_id = 31 AND id % 2 = 0"
n=$(q "SELECT count(*) FROM deliveries WHERE state = 'sending'")
smtp_config "$T/hold.conf" 'delivery = { after_crash = "hold"; };'
: > "$T/drive.log"
drive "$T/hold.conf"
expect_contains "the uncertain ones are reported" "$(cat "$T/drive.log")" "$n deliveries were being sent when Clarion stopped unexpectedly; they are held"
expect_eq "held, not sent" "$(q "SELECT count(*) FROM deliveries WHERE run_id = 31 AND state = 'held'")" "$n"
expect_eq "the others are sent" "$(q "SELECT count(*) FROM deliveries WHERE run_id = 31 AND state = 'sent'")" $((5 - n))
out=$("$CLARION" -c "$T/c.conf" queue)
expect_contains "clarion queue lists the held ones" "$(echo "$out" | sed -n '/^held/,$p')" "held after a crash: it may have been sent"
out=$("$CLARION" -c "$T/c.conf" queue resend --run 31)
expect_eq "clarion queue resend" "$out" "$n held deliveries queued again"
drive "$T/c.conf"
expect_eq "and they are sent" "$(q "SELECT count(*) FROM deliveries WHERE run_id = 31 AND state = 'sent'")" 5

# --- the outbox transport ------------------------------------------------------
add_run 40 3 outbox-
make_config "$T/outbox.conf"
drive "$T/outbox.conf"
expect_eq "outbox: three files in new/" "$(ls "$T/outbox/new" | wc -l)" 3
f=$(grep -l '^Delivered-To: outbox-2@example.net' "$T"/outbox/new/*)
check "each with Delivered-To" test -n "$f"
expect_contains "and Return-Path first" "$(head -1 "$f")" "Return-Path: <bounces+"
expect_eq "recorded as sent" "$(q "SELECT group_concat(state) FROM deliveries WHERE run_id = 40")" "sent,sent,sent"
expect_eq "tmp/ is empty" "$(ls "$T/outbox/tmp" | wc -l)" 0

done_testing
