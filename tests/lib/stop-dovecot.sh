#!/bin/sh
# stop-dovecot.sh DIR: SIGTERM, wait for run/master.pid to go (at most
# 5 s), then kill what is left of the process group.
D=$1
[ -f "$D/dovecot.pid" ] || exit 0
P=$(cat "$D/dovecot.pid")
kill -TERM "$P" 2>/dev/null
i=0
while [ $i -lt 50 ] && [ -e "$D/run/master.pid" ]; do sleep 0.1; i=$((i+1)); done
kill -KILL -- "-$P" 2>/dev/null
rm -f "$D/dovecot.pid"
exit 0
