#!/bin/sh
# mlmmj (Debian's package, C) delivering one post to N subscribers through
# Postfix's smtp-sink, timed, for comparison with Clarion on the same sink.
# As shipped it sends one message per subscriber over one connection and
# writes the final "." of DATA as its own segment, which Nagle's algorithm
# holds for the delayed ACK (~40 ms a message): so N defaults to 2,000, not
# 20,000 (which would take about a quarter of an hour). The rate is the figure.
# usage: bench/mlmmj.sh [N]
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$(pwd)}
. "$top_srcdir/tests/lib/common.sh"
N=${1:-${BENCH_MLMMJ:-2000}}
[ -x /usr/bin/mlmmj-make-ml ] && [ -x /usr/bin/mlmmj-receive ] || skip "mlmmj is not installed"
command -v smtp-sink >/dev/null || skip "Postfix's smtp-sink is not installed"
PORT=$(free_port 32950)
U=""
[ "$(id -u)" = 0 ] && U="-u nobody"
smtp-sink -4 -c $U 127.0.0.1:$PORT 256 >"$T/sink.out" 2>&1 &
SINK=$!
stop_sink() { kill $SINK 2>/dev/null; }
on_exit stop_sink
printf 'ml.example.org\nowner@example.org\nN\n' | /usr/bin/mlmmj-make-ml -L bench -s "$T" >/dev/null 2>&1
L="$T/bench"
echo 127.0.0.1 > "$L/control/relayhost"
echo "$PORT" > "$L/control/smtpport"
awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++) printf "m%d@members.example.net\n", i }' > "$L/subscribers.d/m"
awk 'BEGIN { printf "From: owner@example.org\r\nTo: bench@ml.example.org\r\nSubject: bench\r\nMessage-ID: <b1@example.org>\r\n\r\n";
	for (i = 0; i < 100; i++) printf "%s\r\n", "Strikes, ballots and picket lines this week: a line of text of about eighty chars."; }' > "$T/post.eml"
wait_for sh -c "ss -ltn 'sport = :$PORT' | grep -q LISTEN"
start=$(date +%s.%N)
SENDER=owner@example.org /usr/bin/mlmmj-receive -F -L "$L" < "$T/post.eml"
end=$(date +%s.%N)
sent=$(tr ' ' '\n' < "$T/sink.out" | sed -n 's/^mesg=//p' | tail -1)
awk -v n="${sent:-0}" -v a="$start" -v b="$end" 'BEGIN { printf "mlmmj: %d messages in %.1f s, %.0f msgs/s\n", n, b - a, n / (b - a) }'
