#!/bin/sh
# Secrets: the SMTP password and the token secret come only from files
# private to the daemon's user; a file others can read is refused with the
# fix in the message; the password never appears in the log, in an error
# message, in `ps` or in the daemon's environment.
. "$top_srcdir/tests/lib/common.sh"

[ -x /usr/bin/python3 ] || skip "no /usr/bin/python3"
/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || skip "python3-aiosmtpd is not installed"
command -v openssl >/dev/null || skip "no openssl command"
SINK_PY="$top_srcdir/tests/lib/smtp-sink.py"
PW="Pw-7f3aQz-not-in-any-log"
CLOCK="$T/clock"
export CLARION_CLOCK_FILE="$CLOCK"
at() { date -u -d "$1" +%s > "$CLOCK"; }
at "2026-11-27 12:00"
# A loaded machine (sanitizers, parallel make) can make TLS slow: wait up
# to a minute for something that normally takes a fraction of a second.
wait_long() { n=0; while [ $n -lt 1200 ]; do "$@" && return 0; sleep 0.05; n=$((n+1)); done; return 1; }
sh "$top_srcdir/tests/lib/gen-certs.sh" "$T/certs" >/dev/null 2>&1 ||
	skip "cannot make test certificates"

SMTPS_PORT=$(free_port 33465)
/usr/bin/python3 "$SINK_PY" --tls-port "$SMTPS_PORT" \
	--cert "$T/certs/server.pem" --key "$T/certs/server.key" \
	--auth "alice:$PW" --maildir "$T/sink/Maildir" \
	--ready-file "$T/sink.ready" --max-seconds 300 2>"$T/sink.log" &
SINK=$!
stop_sink() { kill $SINK 2>/dev/null; wait $SINK 2>/dev/null; return 0; }
on_exit stop_sink
wait_for test -e "$T/sink.ready" || skip "the SMTP sink did not start"

printf '%s\n' "$PW" > "$T/smtp.pw"
conf() { # conf FILE PASSWORD_FILE [extra]
	f=$1; pwf=$2; shift 2
	make_config "$f" 'tick = 1;' 'log_level = "debug";' 'transport = "smtp";' 'inbound = "external";' \
	    "smtp = { url = \"smtps://localhost:$SMTPS_PORT\"; user = \"alice\"; password_file = \"$pwf\"; ca_file = \"$T/certs/ca.pem\"; timeout = 60; };" \
	    "delivery = { retry_initial = 1; };" "$@"
}
conf "$T/c.conf" "$T/smtp.pw"
C="$CLARION -c $T/c.conf"

# --- files others can read are refused, with the fix -------------------------
chmod 644 "$T/smtp.pw"
out=$($C check-config 2>&1); rc=$?
expect_eq "a group/world-readable password file is refused (78)" "$rc" 78
expect_contains "with the fix in the message" "$out" "chmod 600 $T/smtp.pw"
expect_not_contains "and without the password" "$out" "$PW"
out=$("$CLARIOND" -n -c "$T/c.conf" 2>&1); rc=$?
expect_eq "clariond -n refuses it too" "$rc" 78
chmod 600 "$T/smtp.pw"

make_config "$T/inline.conf" "smtp = { password = \"$PW\"; };"
chmod 644 "$T/inline.conf"
out=$($CLARION -c "$T/inline.conf" check-config 2>&1); rc=$?
expect_eq "an inline password in a readable config is refused (78)" "$rc" 78
expect_contains "with the fix" "$out" "chmod 600"
expect_not_contains "without echoing the password" "$out" "$PW"

$C init >/dev/null || { fail "clarion init"; done_testing; exit 1; }
key="$T/token.key"
check "clarion init writes the token secret private (0600)" \
    test "$(stat -c %a "$key")" = 600
chmod 640 "$key"
out=$("$CLARIOND" --once -c "$T/c.conf" 2>&1); rc=$?
check "clariond refuses a readable token secret" test "$rc" -ne 0
expect_contains "with the fix" "$out" "chmod 600 $key"
expect_not_contains "without the secret" "$out" "$(cat "$key")"
chmod 600 "$key"

# --- key rotation: clariond loads the old secret too, only if private ------
cp "$key" "$T/token.old.key"
chmod 644 "$T/token.old.key"
conf "$T/rot.conf" "$T/smtp.pw" "token_old_secret_file = \"$T/token.old.key\";" \
    'token_old_until = "2027-01-31 00:00";'
out=$("$CLARIOND" --once -c "$T/rot.conf" 2>&1); rc=$?
check "a readable old token secret is refused during its grace period" test "$rc" -ne 0
expect_contains "with the fix" "$out" "chmod 600 $T/token.old.key"
chmod 600 "$T/token.old.key"
out=$("$CLARIOND" --once -c "$T/rot.conf" 2>&1); rc=$?
expect_eq "a private old secret is loaded beside the new one" "$rc" 0

# --- a send with the password file: nothing shows it -------------------------
$C list create members --from news@example.org --owner sec@example.org >/dev/null
$C sub add alice@example.org --list members --name "Alice" >/dev/null
printf 'Hello\n' > "$T/body.md"
$C item add hello --list members --kind newsletter --content "$T/body.md" \
    --subject "Hello" --at "2026-11-30 08:00" >/dev/null
"$CLARIOND" -c "$T/c.conf" 2>"$T/log" &
PID=$!
stop_daemon() { kill -9 $PID 2>/dev/null; return 0; }
on_exit stop_daemon
at "2026-11-30 08:00:05"
check "the message is sent with AUTH from the password file" \
    wait_long sh -c "ls '$T/sink/Maildir/new' 2>/dev/null | grep -q ."
expect_contains "the sink saw a good login" "$(cat "$T/sink.log")" "AUTH"
expect_not_contains "not a failed one" "$(cat "$T/sink.log")" "failed"
# (The test sink itself takes the password as an argument: leave it out.)
expect_not_contains "ps shows no password" "$(ps -eo args | grep -v smtp-sink)" "$PW"
expect_not_contains "nor does the daemon's command line" \
    "$(tr '\0' ' ' < /proc/$PID/cmdline)" "$PW"
expect_not_contains "nor its environment" \
    "$(tr '\0' '\n' < /proc/$PID/environ)" "$PW"
kill -TERM $PID; wait $PID
expect_not_contains "the debug log holds no password" "$(cat "$T/log")" "$PW"

# --- a wrong password: the error says so, and shows neither ------------------
printf 'Wrong-%s\n' "$PW" > "$T/wrong.pw"
chmod 600 "$T/wrong.pw"
conf "$T/w.conf" "$T/wrong.pw"
$CLARION -c "$T/w.conf" sub add bob@example.org --list members >/dev/null
$CLARION -c "$T/w.conf" item add again --list members --kind newsletter \
    --content "$T/body.md" --subject "Again" --at "2026-12-01 08:00" >/dev/null
"$CLARIOND" -c "$T/w.conf" 2>"$T/wlog" &
PID=$!
at "2026-12-01 08:00:05"
check "the login failure is logged" wait_long grep -q "authentication failed" "$T/wlog"
sleep 1
kill -TERM $PID; wait $PID
expect_not_contains "the error names neither password" "$(cat "$T/wlog")" "$PW"
done_testing
