#!/bin/sh
# Benchmark of `clarion sub import`: generates ROWS subscribers (default
# 100,000) as CSV, imports them into a fresh database, then imports the
# same file again (every row found and unchanged). Prints the wall time,
# rows per second and peak memory (Maximum resident set size) of each.
# The import streams and commits in batches, so the peak memory should be
# the same for 100,000 and 1,000,000 rows (bench/run runs both).
#
# usage: bench/import.sh [BUILDDIR [ROWS]]   (BUILDDIR holds ./clarion)
set -eu
B=${1:-.}
N=${2:-100000}
CLARION=$(cd "$B" && pwd)/clarion
[ -x "$CLARION" ] || { echo "no clarion binary in $B" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (package time)" >&2; exit 1; }
W=$(mktemp -d /tmp/clarion-bench.XXXXXX)
trap 'rm -rf "$W"' EXIT
S=$(cd "$(dirname "$0")/.." && pwd)
printf 'domain = "example.org";\ndatabase = "%s/clarion.db";\noutbox = "%s/outbox";\ntemplates_dir = "%s/templates";\n' "$W" "$W" "$S" > "$W/c.conf"
chmod 600 "$W/c.conf"
C() { "$CLARION" -c "$W/c.conf" "$@"; }
C init >/dev/null
C list create members --from sec@example.org --owner chair@example.org >/dev/null

# Names with commas and quotes, and an IDN domain now and then, so the
# parser and the normaliser do real work.
awk -v n="$N" 'BEGIN {
	split("Hillside Riverside Moortown Headingley Chapel_Allerton Roundhay", ward, " ");
	split("GMB Unite Unison CWU NEU RMT", un, " ");
	print "Email Address,First Name,Last Name,Ward,Branch,Union,Notes";
	for (i = 1; i <= n; i++) {
		dom = (i % 50 == 0) ? "bücher.example" : "example.org";
		printf "member%d@%s,First%d,\"Last, %d\",%s,Branch %d,%s,\"said \"\"yes\"\" at the stall\"\r\n",
		    i, dom, i, i, ward[i % 6 + 1], i % 40, un[i % 6 + 1];
	}
}' > "$W/members.csv"
echo "generated $N rows, $(wc -c < "$W/members.csv") bytes"

run() { # run LABEL
	/usr/bin/time -v "$CLARION" -c "$W/c.conf" sub import --list members \
	    "$W/members.csv" --consent "benchmark" >"$W/out" 2>"$W/time" || true
	grep -E '^  (added|updated|unchanged|invalid):' "$W/out" | tr -s ' ' | tr '\n' ' '
	echo
	awk -v n="$N" -v label="$1" '
	/Elapsed \(wall clock\)/ {
		t = $NF; k = split(t, p, ":"); s = 0;
		for (j = 1; j <= k; j++) s = s * 60 + p[j];
	}
	/Maximum resident set size/ { rss = $NF }
	END {
		printf "%s: %d rows in %.2f s, %.0f rows/s, peak memory %.1f MB\n",
		    label, n, s, (s > 0 ? n / s : 0), rss / 1024;
	}' "$W/time"
}
run "first import"
run "re-import (all unchanged)"
echo "members now: $(C --json list show members | sed -n 's/.*"subscribed": \([0-9]*\).*/\1/p')"
