#!/bin/sh
# bench/latency.sh: a relay that answers each message's final dot after a
# delay (issue 19), as real relays do after scanning the content. Clarion's
# send step beside smtp-source with the same number of sessions against
# the same aiosmtpd sink (tests/lib/smtp-sink.py --delay), interleaved, 3
# runs each, at 8 and 32 connections. Target: at least 90% of
# connections / delay. Then 8 connections with one of them stalled by the
# sink until every other message is accepted: the other 7 should keep
# 90% of 7 / delay.
#
# aiosmtpd (Python) costs a few milliseconds a transaction itself, which
# smtp-source suffers as much as Clarion; so the same comparison runs
# again against Postfix's smtp-sink (C), whose -W .:SECONDS holds the
# answer to the dot for whole seconds only (BENCH_PF_DELAY=1).
#
#   make smtp-drive clarion && top_builddir=BUILD sh bench/latency.sh
#   BENCH_DELAY=0.05 (seconds), BENCH_PER_CONN=50 (messages per connection
#   per run), BENCH_SIZE=8192, BENCH_CONNS="8 32", BENCH_STALL=0 (skip
#   the stalled run), BENCH_PF=0 (skip Postfix), BENCH_PF_DELAY=1,
#   BENCH_PF_PER_CONN=4
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$(pwd)}
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/smtp.sh"
unset CLARION_CLOCK_FILE
DELAY=${BENCH_DELAY:-0.05}
PER=${BENCH_PER_CONN:-50}
SIZE=${BENCH_SIZE:-8192}
CONNS=${BENCH_CONNS:-8 32}
RUNS=3
command -v smtp-source >/dev/null || skip "Postfix's smtp-source is not installed"
/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || skip "python3-aiosmtpd is not installed"
[ -x "$DRIVE" ] || skip "build tests/smtp_drive first (make smtp-drive)"
[ -x "$CLARION" ] || skip "build clarion first"

now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.1f", n / (b - a) }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

SPID=
sink() { # sink NAME [options]: the delaying sink on $PORT, nothing stored
	n=$1; shift
	PORT=$(free_port 32800)
	/usr/bin/python3 "$SINK_PY" --port "$PORT" --maildir "$T/$n/Maildir" \
		--no-store --delay "$DELAY" --ready-file "$T/$n.ready" \
		--max-seconds 900 "$@" 2>"$T/$n.log" &
	SPID=$!
	wait_for test -e "$T/$n.ready" || { cat "$T/$n.log" >&2; skip "the sink did not start"; }
}
unsink() { [ -n "$SPID" ] && kill "$SPID" 2>/dev/null && wait "$SPID" 2>/dev/null; SPID=; return 0; }
on_exit unsink

ceiling() { # ceiling CONNS MSGS
	a=$(now)
	smtp-source -4 -d -s "$1" -m "$2" -l "$SIZE" -f bench@example.org \
		-t member@example.net 127.0.0.1:$PORT || return 1
	rate "$2" "$a" "$(now)"
}

fresh() { # fresh CONNS: an empty database and a config for CONNS connections
	rm -f "$T/clarion.db" "$T/clarion.db-wal" "$T/clarion.db-shm"
	make_config "$T/b.conf" 'transport = "smtp";' 'inbound = "external";' \
		"smtp = { url = \"smtp://127.0.0.1:$PORT\"; require_tls = false; connections = $1; timeout = 120; };"
	db_init "$T/b.conf" >/dev/null
}

clarion() { # clarion CONNS MSGS
	fresh "$1"
	add_run 1 "$2" >/dev/null
	a=$(now)
	SMTP_DRIVE_SIZE=$SIZE "$DRIVE" -c "$T/b.conf" 2>>"$T/drive.log" || return 1
	b=$(now)
	sent=$(q "SELECT count(*) FROM deliveries WHERE state = 'sent'")
	[ "$sent" = "$2" ] || { echo "clarion sent $sent of $2" >&2; return 1; }
	rate "$2" "$a" "$b"
}

results() { # results SINK DELAY CONNS...: the table of medians (and ROW| lines for bench/run)
	sk=$1; d=$2; shift 2
	printf '%-22s %18s %18s %14s %8s\n' connections "smtp-source msgs/s" "clarion msgs/s" "target msgs/s" met
	for c in "$@"; do
		x=$(median < "$T/ceil.$c"); y=$(median < "$T/clar.$c")
		t=$(awk -v c=$c -v d=$d 'BEGIN { printf "%.1f", 0.9 * c / d }')
		met=$(awk -v y=$y -v t=$t 'BEGIN { if (y + 0 >= t + 0) print "yes"; else print "no" }')
		printf '%-22s %18s %18s %14s %8s\n' "$c" "$x" "$y" "$t" "$met"
		echo "ROW|$sk answering ${d}s after the dot, $c connections: clarion / smtp-source|$y / $x msgs/s (target $t: $met)" >> "$T/rows"
	done
}

interleave() { # interleave CONNS...: smtp-source and Clarion, RUNS each
	for c in "$@"; do
		m=$((c * PER))
		: > "$T/ceil.$c"; : > "$T/clar.$c"
		k=1
		while [ $k -le $RUNS ]; do
			x=$(ceiling $c $m) || { fail "smtp-source run"; exit 1; }
			y=$(clarion $c $m) || { fail "clarion run"; exit 1; }
			echo "$x" >> "$T/ceil.$c"; echo "$y" >> "$T/clar.$c"
			printf '# connections %d run %d: smtp-source %6s msgs/s  clarion %6s msgs/s\n' "$c" "$k" "$x" "$y"
			k=$((k + 1))
		done
	done
}

: > "$T/rows"
echo "# sink answers ${DELAY}s after each final dot; $PER messages per connection, $SIZE bytes, $RUNS runs interleaved; $(nproc) CPUs"
sink delay
interleave $CONNS
unsink

# One connection stalled: the sink holds slow-1's final dot until every
# other message is accepted, so the run's time is the others' time.
c=8; m=$((c * PER))
: > "$T/stall"
k=1
[ "${BENCH_STALL:-1}" = 1 ] || k=$((RUNS + 1))	# BENCH_STALL=0: skip it
while [ $k -le $RUNS ]; do
	sink "stall$k" --stall 'slow-*' --stall-until "$m" --stall-max 600
	fresh $c
	add_run 1 1 slow- >/dev/null
	add_run 2 "$m" fast- >/dev/null
	a=$(now)
	SMTP_DRIVE_SIZE=$SIZE "$DRIVE" -c "$T/b.conf" 2>>"$T/drive.log" ||
		{ fail "clarion run (stalled)"; exit 1; }
	b=$(now)
	grep -q "stall released after $m others" "$T/stall$k.log" ||
		{ fail "the stall was not released by the others"; exit 1; }
	y=$(rate "$m" "$a" "$b")
	echo "$y" >> "$T/stall"
	printf '# 8 connections, one stalled, run %d: the other 7 deliver %s msgs/s\n' "$k" "$y"
	unsink
	k=$((k + 1))
done

echo "== aiosmtpd sink, ${DELAY}s after each final dot"
results aiosmtpd "$DELAY" $CONNS
[ -s "$T/stall" ] && {
y=$(median < "$T/stall")
t=$(awk -v d=$DELAY 'BEGIN { printf "%.1f", 0.9 * 7 / d }')
printf '%-22s %18s %18s %14s %8s\n' "8, one stalled" "-" "$y" "$t" \
	"$(awk -v y=$y -v t=$t 'BEGIN { if (y + 0 >= t + 0) print "yes"; else print "no" }')"
# The sink's own cost per transaction lowers every figure alike: compare
# the 7 with 7/8 of what all 8 did unstalled in this run.
u=$(median < "$T/clar.8" 2>/dev/null)
[ -n "$u" ] && awk -v y=$y -v u=$u 'BEGIN { printf "one stalled: the other 7 keep %.0f%% of their unstalled rate (%.1f of 7/8 x %s msgs/s)\n", 100 * y / (u * 7 / 8), y, u }' | tee "$T/kept"
echo "ROW|aiosmtpd, 8 connections, one stalled until the rest are sent: the other 7|$y msgs/s, $(sed -n 's/.*keep \([0-9]*%\).*/\1/p' "$T/kept") of their unstalled rate" >> "$T/rows"
}


# Postfix's smtp-sink: the same, with a whole-second delay.
[ "${BENCH_PF:-1}" = 1 ] && command -v smtp-sink >/dev/null ||
	{ echo "# Postfix comparison skipped (BENCH_PF=0 or no smtp-sink)"; cat "$T/rows"; exit 0; }
PF=${BENCH_PF_DELAY:-1}
PER=${BENCH_PF_PER_CONN:-4}
PORT=$(free_port 32850)
U=""
[ "$(id -u)" = 0 ] && U="-u nobody"
smtp-sink -4 $U -W .:$PF 127.0.0.1:$PORT 1024 >"$T/pfsink.out" 2>&1 &
SPID=$!
wait_for sh -c "ss -ltn 'sport = :$PORT' | grep -q LISTEN" || skip "smtp-sink did not start"
echo "# Postfix smtp-sink -W .:$PF; $PER messages per connection"
interleave $CONNS
unsink
echo "== Postfix smtp-sink, ${PF}s after each final dot"
results smtp-sink "$PF" $CONNS
cat "$T/rows"
