#!/bin/sh
# Issue 17: a segment naming an attribute no member has is refused by
# item add and item edit, with the nearest known name, unless --force;
# add, preview and the daemon's plan say how many members an item
# reaches, and a run its segment leaves empty is reported, not "done".
. "$top_srcdir/tests/lib/common.sh"
unset CLARION_CLOCK_FILE
make_config "$T/c.conf"
C="$CLARION -c $T/c.conf"
$C init >/dev/null || { fail "clarion init"; exit 1; }
$C list create members --from news@example.org --owner secretary@example.org >/dev/null
for i in 1 2 3; do
	$C sub add "h$i@example.net" --list members --attr ward=Hillside >/dev/null
done
for i in 1 2; do
	$C sub add "r$i@example.net" --list members --attr ward=Riverside --attr union=GMB >/dev/null
done
printf '# News\n\nHello.\n' > "$T/news.md"
at="2030-01-07 08:00"
add() { $C item add "$@" --list members --kind newsletter --at "$at" --content "$T/news.md" --subject News; }

out=$(add typo1 --segment "wrad != 'Hillside'" 2>&1); rc=$?
expect_eq "a typo'd attribute (!=) is refused: exit 65" "$rc" 65
expect_contains "naming it" "$out" "no member has the attribute 'wrad'"
expect_contains "with the nearest known one" "$out" "did you mean ward?"
expect_contains "and the way to keep it" "$out" "--force"
expect_eq "nothing was added" "$($C item list | grep -c typo1)" 0

out=$(add typo2 --segment "wrad = 'Hillside'" 2>&1); rc=$?
expect_eq "a typo'd attribute (=) is refused too" "$rc" 65
out=$(add typo3 --segment "ward = 'Hillside' and unoin = 'GMB'" 2>&1); rc=$?
expect_contains "any unknown attribute in the expression is named" "$out" "'unoin' (did you mean union?)"
out=$(add typo4 --segment "ward = " 2>&1); rc=$?
expect_eq "a segment that does not parse is refused at add time" "$rc" 65
expect_contains "with the parser's message" "$out" "segment:"

out=$(add forced --segment "wrad = 'Hillside'" --force 2>&1); rc=$?
expect_eq "--force keeps it: exit 0" "$rc" 0
expect_contains "with a warning" "$out" "warning: segment: no member has the attribute 'wrad'"
expect_contains "and says it reaches no one" "$out" "reaches 0 of the list's 5 subscribed members"

out=$(add good --segment "ward = 'hillside'" 2>&1); rc=$?
expect_eq "a good segment is added" "$rc" 0
expect_contains "item add says how many it reaches" "$out" "good reaches 3 of the list's 5 subscribed members"
out=$(add everyone 2>&1)
expect_contains "no segment: everyone" "$out" "everyone reaches 5 of the list's 5 subscribed members"
out=$(add builtin --segment "email in ('h1@example.net')" 2>&1); rc=$?
expect_eq "address, email and name are always known" "$rc" 0

out=$($C item edit good --segment "wrad = 'Hillside'" 2>&1); rc=$?
expect_eq "item edit refuses the typo too" "$rc" 65
expect_contains "item edit names it" "$out" "did you mean ward?"
expect_contains "and the item keeps its segment" "$($C item show good)" "ward = 'hillside'"
out=$($C item edit good --segment "ward = 'Riverside'" 2>&1); rc=$?
expect_eq "item edit with a good segment" "$rc" 0
expect_contains "item edit says how many it reaches" "$out" "reaches 2 of the list's 5"

out=$($C item preview good 2>&1 >/dev/null)
expect_contains "item preview says how many the item reaches" "$out" "reaches 2 of the list's 5 subscribed members"

# check-config (and so clariond's start-up) leaves a forced segment to
# the officer who forced it, but still catches one that was never forced.
out=$($C check-config 2>&1); rc=$?
expect_eq "check-config accepts the forced segment" "$rc" 0
sqlite3 "$T/clarion.db" "UPDATE items SET segment = 'wrad = ''x''' WHERE name = 'good'"
out=$($C check-config 2>&1); rc=$?
expect_eq "an unforced unknown attribute fails check-config" "$rc" 78
expect_contains "naming the item" "$out" "item 'good': segment: no member of list 'members' has an attribute 'wrad'"
sqlite3 "$T/clarion.db" "UPDATE items SET segment = 'ward = ''Riverside''' WHERE name = 'good'"

# The daemon: the forced typo's run reaches no one; it is reported.
sqlite3 "$T/clarion.db" "UPDATE items SET send_at = strftime('%s','now') - 10, created = strftime('%s','now') - 20 WHERE name IN ('forced', 'good')"
"$CLARIOND" -c "$T/c.conf" --once 2>"$T/daemon.log"
expect_contains "the plan says whom a run reaches" "$(cat "$T/daemon.log")" "item good: the run reaches 2 of 5 members"
expect_contains "the plan warns of a segment matching none" "$(cat "$T/daemon.log")" "item forced: its segment wrad = 'Hillside' matches none of the list's 5 members"
expect_contains "the run is skipped with a warning" "$(cat "$T/daemon.log")" "skipped: its segment wrad = 'Hillside' matches none of the list's 5 members"
line=$($C run list --item forced | grep forced)
expect_contains "run list shows the run skipped" "$line" "skipped"
expect_contains "and why" "$line" "its segment wrad = 'Hillside' matches none"
expect_eq "the good one went to its two" "$(ls "$T/outbox/new" | wc -l)" 2
done_testing
