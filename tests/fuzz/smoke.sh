#!/bin/sh
# make fuzz-smoke: runs each libFuzzer harness for SECONDS under ASan+UBSan,
# one at a time and niced (the machine is shared), and fails on any crash,
# leak, sanitizer report or timeout. Prints one PASS:/FAIL: line per
# harness with libFuzzer's execution count, which CI counts as one test
# each. A crashing input is left in tests/fuzz/artifacts/ (build tree).
#
# usage: smoke.sh SECONDS SRCDIR HARNESS...
set -u
secs=$1; srcdir=$2; shift 2
work=tests/fuzz
mkdir -p "$work/artifacts" "$work/corpus"
# Sanitizer reports must stop the run: halt on UBSan (built recoverable).
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1
LSAN_OPTIONS=suppressions=$srcdir/tests/fuzz/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS ASAN_OPTIONS LSAN_OPTIONS
failed=0
for h in "$@"; do
	name=$(basename "$h")
	short=${name#fuzz_}
	if [ ! -x "$h" ]; then
		echo "FAIL: $name (not built)"
		failed=$((failed + 1))
		continue
	fi
	corpus=$work/corpus/$short
	mkdir -p "$corpus"
	# Seeds: hand-written cases here, and the real mail of tests/data.
	seeds=
	for d in "$srcdir/tests/fuzz/seeds/$short" "$srcdir/tests/data/$short"; do
		[ -d "$d" ] && seeds="$seeds $d"
	done
	[ "$short" = classify ] && [ -d "$srcdir/tests/data/inbound" ] &&
		seeds="$seeds $srcdir/tests/data/inbound"
	log=$work/$name.log
	nice -n 19 "$h" -max_total_time="$secs" -timeout=10 \
	    -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
	    -artifact_prefix="$work/artifacts/$name-" \
	    "$corpus" $seeds > "$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	if [ $rc -eq 0 ] && ! grep -qE 'runtime error:|ERROR: (Address|Leak)Sanitizer' "$log"; then
		echo "PASS: $name (${execs:-?} executions in ${secs} s)"
	else
		echo "FAIL: $name (exit $rc after ${execs:-?} executions); log: $log"
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error:|ALARM|artifact_prefix|Test unit written)' "$log" | head -8
		failed=$((failed + 1))
	fi
done
[ $failed -eq 0 ]
