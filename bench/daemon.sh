#!/bin/sh
# The daemon with 100,000 members: one weekly bulletin composed and sent
# to Postfix's smtp-sink over 8 connections by `clariond --once`. Prints
# the wall time, the send rate, the daemon's peak RSS and the database size.
# usage (from the build directory): bench/daemon.sh [MEMBERS]
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$(pwd)}
. "$top_srcdir/tests/lib/common.sh"
unset CLARION_CLOCK_FILE CLARION_NOW
N=${1:-${BENCH_MEMBERS:-100000}}
command -v smtp-sink >/dev/null || skip "Postfix's smtp-sink is not installed"
[ -x /usr/bin/time ] || skip "needs /usr/bin/time (package time)"

PORT=$(free_port 32800)
U=""
[ "$(id -u)" = 0 ] && U="-u nobody"
smtp-sink -4 -c $U 127.0.0.1:$PORT 256 >"$T/sink.out" 2>&1 &
SINK=$!
stop_sink() { kill $SINK 2>/dev/null; }
on_exit stop_sink
make_config "$T/c.conf" 'transport = "smtp";' 'inbound = "external";' "smtp = { url = \"smtp://127.0.0.1:$PORT\"; require_tls = false; connections = 8; };" \
    'log_level = "warn";' 'delivery = { batch = 400; };'
C="$CLARION -c $T/c.conf"
$C init >/dev/null
$C list create members --from news@example.org --owner sec@example.org >/dev/null
awk -v n="$N" 'BEGIN { print "email,name,ward"; w[0]="Hillside"; w[1]="Riverside"; w[2]="Oakfield";
	for (i = 0; i < n; i++) printf "member%d@members.example.net,Member %d,%s\n", i, i, w[i % 3] }' > "$T/m.csv"
$C sub import --list members --consent bench "$T/m.csv" >/dev/null
$C event add --kind strike --title "Bench strike" --start "$(TZ=Europe/London date -d '+2 days' +'%Y-%m-%d 08:00')" >/dev/null
$C item add weekly --list members --kind bulletin --subject "Strikes this week" \
    --at "$(TZ=Europe/London date +'%Y-%m-%d %H:%M')" >/dev/null
wait_for sh -c "ss -ltn 'sport = :$PORT' | grep -q LISTEN"
/usr/bin/time -v "$CLARIOND" --once -c "$T/c.conf" 2>"$T/time"
sent=$(sqlite3 "$T/clarion.db" "SELECT count(*) FROM deliveries WHERE state = 'sent'")
sqlite3 "$T/clarion.db" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
awk -v n="$N" -v sent="$sent" -v size="$(stat -c %s "$T/clarion.db")" '
/Elapsed \(wall clock\)/ { t = $NF; k = split(t, p, ":"); s = 0; for (j = 1; j <= k; j++) s = s * 60 + p[j] }
/Maximum resident set size/ { rss = $NF }
END {
	printf "members: %d, sent: %d in %.1f s (%.0f msgs/s, compose + send + database)\n", n, sent, s, sent / s;
	printf "clariond peak RSS: %.1f MB\n", rss / 1024;
	printf "database size: %.1f MB (%.0f bytes per member with one delivery each)\n", size / 1048576, size / n;
}' "$T/time"
