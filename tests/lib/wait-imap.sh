#!/bin/sh
# wait-imap.sh DIR PORT [USER PASS]: ready = a real IMAPS login works
# (at most 10 s); fails at once, showing the logs, if Dovecot died.
D=$1; P=$2; U=${3:-testuser}; PW=${4:-testpass}
i=0
while [ $i -lt 200 ]; do
	curl -s --max-time 2 --cacert "$D/ca.pem" -u "$U:$PW" "imaps://127.0.0.1:$P/" >/dev/null && exit 0
	kill -0 "$(cat "$D/dovecot.pid")" 2>/dev/null || { cat "$D/dovecot.stdout" "$D/dovecot.log" >&2 2>/dev/null; exit 1; }
	i=$((i+1)); sleep 0.05
done
exit 1
