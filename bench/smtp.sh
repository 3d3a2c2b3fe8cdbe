#!/bin/sh
# bench/smtp.sh: Clarion's send step against Postfix's smtp-sink, beside
# smtp-source (the transport ceiling) on the same machine in the same run.
# Interleaved, 3 runs each, with 1 and 8 connections; prints msgs/s, the
# medians and Clarion's share of the ceiling.
#
#   make smtp-drive clarion && top_builddir=BUILD sh bench/smtp.sh
#   BENCH_MSGS=5000 (messages per run), BENCH_SIZE=8192 (bytes each)
#
# Both sides keep their connections open (smtp-source -d, Clarion's pool),
# one recipient per transaction. Clarion's figure includes its database
# work: a claim and a result written per message, as in production.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$(pwd)}
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/smtp.sh"
unset CLARION_CLOCK_FILE	# the real clock, as in production
MSGS=${BENCH_MSGS:-5000}
SIZE=${BENCH_SIZE:-8192}
RUNS=3
command -v smtp-sink >/dev/null && command -v smtp-source >/dev/null ||
	skip "Postfix's smtp-sink and smtp-source are not installed"
[ -x "$DRIVE" ] || skip "build tests/smtp_drive first (make smtp-drive)"
[ -x "$CLARION" ] || skip "build clarion first"

PORT=$(free_port 32700)
U=""
[ "$(id -u)" = 0 ] && U="-u nobody"
smtp-sink -4 -c $U 127.0.0.1:$PORT 256 >"$T/sink.out" 2>&1 &
SINK=$!
stop_pf_sink() { kill $SINK 2>/dev/null; wait $SINK 2>/dev/null; return 0; }
on_exit stop_pf_sink
wait_for sh -c "ss -ltn 'sport = :$PORT' | grep -q LISTEN" ||
	skip "smtp-sink did not start"

now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.0f", n / (b - a) }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

ceiling() { # ceiling CONNS: smtp-source, one connection per session
	a=$(now)
	smtp-source -4 -d -s "$1" -m "$MSGS" -l "$SIZE" -f bench@example.org \
		-t member@example.net 127.0.0.1:$PORT || return 1
	rate "$MSGS" "$a" "$(now)"
}

clarion() { # clarion CONNS: a fresh database with MSGS deliveries, sent
	rm -f "$T/clarion.db" "$T/clarion.db-wal" "$T/clarion.db-shm"
	make_config "$T/b.conf" 'transport = "smtp";' 'inbound = "external";' \
		"smtp = { url = \"smtp://127.0.0.1:$PORT\"; require_tls = false; connections = $1; timeout = 30; };"
	db_init "$T/b.conf" >/dev/null
	add_run 1 "$MSGS" >/dev/null
	a=$(now)
	SMTP_DRIVE_SIZE=$SIZE "$DRIVE" -c "$T/b.conf" 2>>"$T/drive.log" || return 1
	b=$(now)
	sent=$(q "SELECT count(*) FROM deliveries WHERE state = 'sent'")
	[ "$sent" = "$MSGS" ] || { echo "clarion sent $sent of $MSGS" >&2; return 1; }
	rate "$MSGS" "$a" "$b"
}

echo "# $MSGS messages of $SIZE bytes per run, $RUNS runs, interleaved; $(nproc) CPUs"
for c in 1 8; do
	: > "$T/ceil.$c"; : > "$T/clar.$c"
	i=1
	while [ $i -le $RUNS ]; do
		x=$(ceiling $c) || { fail "smtp-source run"; exit 1; }
		y=$(clarion $c) || { fail "clarion run"; exit 1; }
		echo "$x" >> "$T/ceil.$c"; echo "$y" >> "$T/clar.$c"
		printf '# connections %d run %d: smtp-source %6s msgs/s  clarion %6s msgs/s\n' "$c" "$i" "$x" "$y"
		i=$((i + 1))
	done
done
echo
printf '%-12s %18s %18s %8s\n' connections "smtp-source msgs/s" "clarion msgs/s" ratio
for c in 1 8; do
	x=$(median < "$T/ceil.$c"); y=$(median < "$T/clar.$c")
	printf '%-12s %18s %18s %8s\n' "$c" "$x" "$y" \
		"$(awk -v x="$x" -v y="$y" 'BEGIN { printf "%.2f", y / x }')"
done
