#!/bin/sh
# Issue 21: one dispatcher for clarion. Each subcommand takes only its own
# options (any other is refused by name, exit 64, nothing changed), every
# listing command takes --json and prints JSON, and every subcommand's
# --help prints its own usage.
. "$top_srcdir/tests/lib/common.sh"
CLOCK="$T/clock"
export CLARION_CLOCK_FILE="$CLOCK"
at() { date -u -d "$1" +%s > "$CLOCK"; }
at "2026-12-05 11:00"
make_config "$T/c.conf"
C="$CLARION -c $T/c.conf"
PY=/usr/bin/python3
db() { sqlite3 "$T/clarion.db" "$1"; }
$C init >/dev/null || { fail "clarion init"; exit 1; }
$C list create members --from news@example.org --owner secretary@example.org >/dev/null
$C sub add ann@example.org --list members --name Ann --attr ward=Hillside >/dev/null
$C event add --kind strike --title "Depot strike" --start "2026-12-09 07:00" >/dev/null
$C item add weekly --list members --kind bulletin --subject "Weekly" \
	--rrule "FREQ=WEEKLY;BYDAY=MO;BYHOUR=8;BYMINUTE=0" --start 2026-11-30 >/dev/null
$C notice add --list members --title "Branch AGM" --meeting "2027-01-20 19:00" >/dev/null 2>&1
at "2026-12-07 08:00:05"
"$CLARIOND" -c "$T/c.conf" --once 2>"$T/daemon.log"
run=$(db "SELECT min(id) FROM runs WHERE purpose = 'issue'")
check "clariond made a run to list" test -n "$run"

# Every listing command prints JSON with --json, after its arguments.
json_ok() {
	out=$($C "$@" 2>&1); rc=$?
	expect_eq "clarion $*: exit 0" "$rc" 0
	check "clarion $*: valid JSON" sh -c 'printf "%s\n" "$1" | '"$PY"' -m json.tool >/dev/null' sh "$out"
	expect_contains "clarion $*: not empty" "$(printf '%s' "$out" | tr -d '[]{} \n')" "\""
}
json_ok list ls --json
json_ok list show members --json
json_ok sub ls --json
json_ok sub search Ann --json
json_ok sub show ann@example.org --json
json_ok event list --all --from 2026-12-01 --json
json_ok event show 1 --json
json_ok item list --json
json_ok item show weekly --json
json_ok notice list --json
json_ok run list --json
json_ok run show "$run" --json
json_ok queue --json
json_ok status --json
out=$($C event feeds --json); rc=$?
expect_eq "event feeds --json (none): exit 0" "$rc" 0
check "event feeds --json (none): valid JSON" sh -c 'printf "%s\n" "$1" | '"$PY"' -m json.tool >/dev/null' sh "$out"
out=$($C bounces --json); rc=$?
check "bounces --json: valid JSON" sh -c 'printf "%s\n" "$1" | '"$PY"' -m json.tool >/dev/null' sh "$out"

# Every subcommand's --help: exit 0 and its own usage first, with the
# options clarion.1 gives it.
cmds=$($CLARION --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }')
for c in $cmds; do
	subs=$($CLARION "$c" --help | awk -v c="$c" '
		/^(usage:| ) +clarion / { for (i = 1; $i != "clarion"; i++) ;
		    if ($(i + 1) == c && $(i + 2) ~ /^[a-z][a-z-]*$/) print $(i + 2) }')
	[ -n "$subs" ] || subs="-"
	for s in $subs; do
		if [ "$s" = - ]; then set -- "$c"; else set -- "$c" "$s"; fi
		out=$($CLARION "$@" --help 2>&1); rc=$?
		expect_eq "clarion $* --help: exit 0" "$rc" 0
		first=$(printf '%s\n' "$out" | head -1)
		case "$first " in
		"usage: clarion $* "*) pass "clarion $* --help: its own usage first" ;;
		*) fail "clarion $* --help: its own usage first (got: $first)" ;;
		esac
		n=$(printf '%s\n' "$out" | grep -c '^       clarion ')
		expect_eq "clarion $* --help: one usage, not the group's" "$n" 0
		# clarion.1's item for it names the same options as its usage.
		use=$(printf '%s\n' "$out" | awk 'NR == 1 || (on && /^           /) { on = 1; print; next } { on = 0 }' |
			grep -o -- '[[ (|]--*[a-z][a-z-]*' | cut -c2- | sort -u | tr '\n' ' ')
		man=$(awk -v p="$*" '/^\.It Cm / { q = ""
			for (i = 3; i <= NF && $i ~ /^[a-z][a-z0-9-]*$/; i++) q = q (q == "" ? "" : " ") $i
			if (q == p) print }' "$top_srcdir/doc/clarion.1" |
			grep -o 'Fl [^ ]*' | sed 's/^Fl //; s/\\-/-/g; s/^/-/' | sort -u | tr '\n' ' ')
		expect_eq "clarion.1 gives clarion $* the options its usage gives" "$man" "$use"
	done
done

# refused CMD... OPTION: exit 64, naming the subcommand and the option.
refused() {
	opt=$1; shift
	out=$($C "$@" 2>&1); rc=$?
	expect_eq "clarion $*: exit 64" "$rc" 64
	expect_contains "clarion $*: names the option" "$out" "unrecognized option '$opt'"
	expect_contains "clarion $*: names the subcommand" "$out" "clarion $1 $2"
}
refused --to-missed run cancel "$run" --to-missed
expect_eq "run cancel --to-missed cancelled nothing" \
	"$(db "SELECT state FROM runs WHERE id = $run")" "done"
refused --title event cancel 1 --title Renamed
expect_eq "event cancel --title changed nothing" \
	"$(db "SELECT status || ' ' || title FROM events WHERE id = 1")" "confirmed Depot strike"
refused --force list rename members branch --force
expect_eq "list rename --force renamed nothing" "$(db "SELECT name FROM lists")" "members"
refused --at item pause weekly --at "2027-01-01 09:00"
expect_eq "item pause --at paused nothing" \
	"$(db "SELECT status FROM items WHERE name = 'weekly'")" "active"
refused --list sub erase ann@example.org --list members
expect_eq "sub erase --list erased no one" "$(db "SELECT count(*) FROM subscribers")" 1
refused --force notice cancel 2 --force
refused --all queue resend --all
refused --text template check "$top_srcdir/templates/bulletin.txt.mustache" --text
refused --domain inbound run --domain example.org
refused --to item preview weekly --to ann@example.org
refused --json run cancel "$run" --json
done_testing
