#!/bin/sh
# Bounce parsing against a corpus of real bounces and feedback reports:
# runs "clarion inbound classify --json" over every file an expectations
# file names and prints how often the recipient and the class agree.
#   sh bench/bounce-corpus.sh CORPUS_DIR EXPECT_FILE [-v]
# (from the build directory, or with CLARION=/path/to/clarion). With no
# corpus it says so and exits 0: the corpora are third-party and are not
# in this repository (bench/bounce-expect/README says where they come
# from and how their expectations were made). -v lists every miss.
#
# EXPECT_FILE: lines "FILE<TAB>CLASS<TAB>RECIPIENTS", '#' comments.
# CLASS may list alternatives "a|b" (a delay warning may be taken as an
# auto-reply or a soft bounce; a multi-recipient bounce as either
# recipient's class). RECIPIENTS is a comma-separated list, any of which
# counts (a multi-recipient bounce); "-" among them means "none" is right
# too (an out-of-office reply names nobody who failed).
set -u
: "${top_builddir:=$(pwd)}"
CLARION=${CLARION:-$top_builddir/clarion}
if [ $# -lt 2 ] || [ ! -d "$1" ] || [ ! -f "$2" ]; then
	echo "bounce-corpus: no corpus given (usage: $0 CORPUS_DIR EXPECT_FILE [-v]); skipped"
	exit 0
fi
[ -x "$CLARION" ] || { echo "build it first: make clarion" >&2; exit 1; }
dir=$1 expect=$2 verbose=${3:-}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# No configuration: the defaults (domain example.org) apply.
CLARION_CONFIG="$tmp/none.conf"; export CLARION_CONFIG
grep -v '^#' "$expect" | cut -f1 | while IFS= read -r f; do
	[ -n "$f" ] && printf '%s\n' "$dir/$f"
done > "$tmp/files"
# One file at a time: a file that cannot be read still gets a line.
while IFS= read -r f; do
	out=$("$CLARION" inbound classify --json "$f" 2>/dev/null) ||
	    out='{"class":"error","recipient":null}'
	printf '%s\t%s\n' "${f##*/}" "$out"
done < "$tmp/files" > "$tmp/got"

/usr/bin/env python3 - "$expect" "$tmp/got" "$verbose" <<'EOF'
import json, sys
expect, got, verbose = sys.argv[1], sys.argv[2], sys.argv[3] == '-v'
res = {}
for line in open(got, encoding='utf-8', errors='replace'):
    f, j = line.rstrip('\n').split('\t', 1)
    try:
        res[f] = json.loads(j)
    except ValueError:
        res[f] = {'class': 'error', 'recipient': None}
n = rok = cok = 0
for line in open(expect, encoding='utf-8'):
    if line.startswith('#') or not line.strip():
        continue
    f, cls, rcpts = line.rstrip('\n').split('\t')[:3]
    r = res.get(f, {'class': 'missing', 'recipient': None})
    gr = (r.get('recipient') or '-').lower()
    want = [x.lower() for x in rcpts.split(',')]
    n += 1
    rgood = gr in want
    cgood = r.get('class') in cls.split('|')
    rok += rgood
    cok += cgood
    if verbose and not (rgood and cgood):
        print('miss %s: class %s (want %s), recipient %s (want %s)' % (
            f, r.get('class'), cls, gr, rcpts))
if n == 0:
    print('bounce-corpus: nothing to measure')
    sys.exit(0)
print('%d messages: recipient %d (%.1f%%), class %d (%.1f%%)' % (
    n, rok, 100.0 * rok / n, cok, 100.0 * cok / n))
EOF
