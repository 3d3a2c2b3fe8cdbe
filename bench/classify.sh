#!/bin/sh
# Inbound classification throughput over the test corpus: three runs of
# N messages (default 20000), each run's rate and the median. The target
# is at least 1000 messages/s on a 2-core VM.
#   sh bench/classify.sh [N]     (from the build directory: make bench/classify)
set -eu
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$(pwd)}"
BIN="$top_builddir/bench/classify"
N=${1:-20000}
[ -x "$BIN" ] || { echo "build it first: make bench/classify" >&2; exit 1; }
rates=""
for run in 1 2 3; do
	out=$("$BIN" "$top_srcdir/tests/data/inbound" "$N")
	[ "$run" = 1 ] && printf '%s\n' "$out"
	rate=$(printf '%s\n' "$out" | sed -n 's/.*: \([0-9]*\) messages\/s$/\1/p')
	echo "run $run: $rate messages/s"
	rates="$rates $rate"
done
median=$(printf '%s\n' $rates | sort -n | sed -n 2p)
echo "median: $median messages/s (target >= 1000)"
[ "$median" -ge 1000 ]
