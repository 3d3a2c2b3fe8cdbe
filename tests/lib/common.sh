# Shared shell helpers for Clarion's integration tests (sourced).
# Each test gets $T, a private temp dir removed on exit, and prints TAP-ish
# lines; the exit status is what automake reads: 0 pass, 77 skip, else fail.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$(pwd)}"
CLARION="$top_builddir/clarion"
CLARIOND="$top_builddir/clariond"
T=$(mktemp -d /tmp/clarion-t.XXXXXX)
chmod 700 "$T"
FAILED=0
N=0
cleanup_hooks=""
cleanup() {
	for h in $cleanup_hooks; do "$h" || true; done
	if [ "$FAILED" = 0 ] && [ -z "${KEEP:-}" ]; then rm -rf "$T"; else echo "# kept $T"; fi
}
trap cleanup EXIT
on_exit() { cleanup_hooks="$1 $cleanup_hooks"; }

pass() { N=$((N+1)); echo "ok $N - $*"; }
fail() { N=$((N+1)); FAILED=$((FAILED+1)); echo "not ok $N - $*"; }
skip() { echo "1..0 # SKIP $*"; echo "SKIP: $*" >&2; trap - EXIT; rm -rf "$T"; exit 77; }
check() { # check DESCRIPTION COMMAND...
	d=$1; shift
	if "$@"; then pass "$d"; else fail "$d"; fi
}
# expect_eq DESCRIPTION GOT WANT
expect_eq() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1"; printf '#   got:  %s\n#   want: %s\n' "$2" "$3"; fi
}
# expect_contains DESCRIPTION HAYSTACK NEEDLE
expect_contains() {
	case "$2" in *"$3"*) pass "$1" ;; *) fail "$1"; printf '#   %s\n#   does not contain: %s\n' "$2" "$3" ;; esac
}
expect_not_contains() {
	case "$2" in *"$3"*) fail "$1"; printf '#   unexpectedly contains: %s\n' "$3" ;; *) pass "$1" ;; esac
}
done_testing() {
	echo "1..$N"
	[ "$FAILED" = 0 ]
}
# A minimal private config in $T using the outbox transport.
make_config() { # make_config FILE [extra lines...]
	f=$1; shift
	{
		echo "domain = \"example.org\";"
		echo "database = \"$T/clarion.db\";"
		echo "outbox = \"$T/outbox\";"
		echo "templates_dir = \"$top_srcdir/templates\";"
		for l in "$@"; do echo "$l"; done
	} > "$f"
	chmod 600 "$f"
}
# wait_for COMMAND...: up to ~10 s
wait_for() {
	i=0
	while [ $i -lt 200 ]; do "$@" && return 0; sleep 0.05; i=$((i+1)); done
	return 1
}
# free_port: a free TCP port on 127.0.0.1 from a base
free_port() {
	p=${1:-31000}
	while ss -ltn "sport = :$p" 2>/dev/null | grep -q LISTEN; do p=$((p+1)); done
	echo $p
}
