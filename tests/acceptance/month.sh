#!/bin/sh
# A month in the life: the real daemon, a real SMTP server and a real
# Dovecot on loopback, a simulated clock from 23 November to 28 December
# 2026. See month.py for the story and the assertions.
. "$top_srcdir/tests/lib/common.sh"
L="$top_srcdir/tests/lib"

[ -x /usr/sbin/dovecot ] || skip "dovecot is not installed (/usr/sbin/dovecot)"
/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || skip "python3-aiosmtpd is not installed"
for c in curl openssl sqlite3 pkill; do
	command -v $c >/dev/null || skip "$c is not installed"
done

D=$(mktemp -d /tmp/dm.XXXXXX)	# short: Dovecot's socket paths
stop_servers() {
	pkill -9 -f "clariond -c $T/clarion.conf" 2>/dev/null
	[ -n "${SINKPID:-}" ] && kill "$SINKPID" 2>/dev/null
	sh "$L/stop-dovecot.sh" "$D"
	[ "$FAILED" = 0 ] && [ -z "${KEEP:-}" ] && rm -rf "$D"
	return 0
}
on_exit stop_servers
sh "$L/gen-certs.sh" "$D" || skip "cannot generate test certificates"
P_IMAP=$(free_port 33143)
P_IMAPS=$(free_port $((P_IMAP + 1)))
P_SMTPS=$(free_port $((P_IMAPS + 1)))
sh "$L/start-dovecot.sh" "$D" "$P_IMAP" "$P_IMAPS" || skip "dovecot cannot start"
sh "$L/wait-imap.sh" "$D" "$P_IMAPS" 2>/dev/null || skip "dovecot did not start"

mkdir -p "$T/sink"
/usr/bin/python3 "$L/smtp-sink.py" --tls-port "$P_SMTPS" --cert "$D/server.pem" \
    --key "$D/server.key" --maildir "$T/sink/Maildir" --reject 'hard-*' \
    --policy 'policy-*' --tempfail-once 'slow-*' --ready-file "$T/sink/ready" \
    --max-seconds 1200 2>"$T/sink/log" &
SINKPID=$!
wait_for test -e "$T/sink/ready" || skip "the SMTP sink did not start: $(tail -3 "$T/sink/log")"

printf 'testpass\n' > "$T/imap.password"
chmod 600 "$T/imap.password"
cat > "$T/clarion.conf" <<CONF
domain = "clp.test";
database = "$T/clarion.db";
templates_dir = "$top_srcdir/templates";
tick = 1;
transport = "smtp";
smtp = {
  url = "smtps://127.0.0.1:$P_SMTPS";
  ca_file = "$D/ca.pem";
  connections = 4;
  timeout = "20s";
};
imap = {
  enabled = true;
  url = "imaps://127.0.0.1:$P_IMAPS";
  user = "testuser";
  password_file = "$T/imap.password";
  ca_file = "$D/ca.pem";
  poll_interval = "2s";
  timeout = "20s";
};
delivery = {
  retry_initial = "5m";
};
CONF
chmod 600 "$T/clarion.conf"

/usr/bin/python3 "$top_srcdir/tests/acceptance/month.py" "$T" "$CLARION" "$CLARIOND" \
    "$P_SMTPS" "$P_IMAPS" "$D"
rc=$?
[ $rc = 0 ] || { FAILED=1; echo "# daemon log:"; tail -40 "$T/clariond.log" | sed 's/^/#   /'; }
exit $rc
