#!/bin/sh
# Composing throughput: the weekly bulletin (text and HTML, personalised)
# rendered and built with mime_build for COUNT synthetic members, in
# memory. Run three times; the median is the figure to quote, since this
# VM's speed varies from one minute to the next.
# usage: bench/compose.sh [COUNT]   (from the build directory; default 100000)
set -eu
count=${1:-100000}
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
bin=${COMPOSE_BENCH:-./bench/compose}
[ -x "$bin" ] || { echo "build it first: make bench/compose" >&2; exit 1; }
for i in 1 2 3; do
	"$bin" -n "$count" "$top_srcdir/tests/data/compose/bulletin.json" |
	    sed "s/^/run $i: /"
done | tee /dev/stderr | awk '/msgs\/s/ { print $NF }' | sort -n |
    awk '{ v[NR] = $1 } END { print "median msgs/s:", v[int((NR + 1) / 2)] }'
