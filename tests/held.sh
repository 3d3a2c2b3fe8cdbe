#!/bin/sh
# Issue 17: a run held because its template went missing can be repaired.
# check-config, clariond's start-up and `item add` all refuse a missing
# template now, so the template is taken away while the daemon runs, as
# an officer tidying the templates directory would. The daemon holds every
# delivery, the run says it is held, why, and how to release it; after the
# template is put back, `clarion run release` sends each member exactly one
# message. `run cancel` works on a held run.
. "$top_srcdir/tests/lib/common.sh"
CLOCK="$T/clock"
t0=$(date +%s)
echo "$t0" > "$CLOCK"
export CLARION_CLOCK_FILE="$CLOCK"
DPID=
stop_daemon() { [ -n "$DPID" ] && kill -TERM "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null; DPID=; }
on_exit stop_daemon
cp -r "$top_srcdir/templates" "$T/tpl"
chmod -R u+w "$T/tpl"
make_config "$T/c.conf" 'tick = 1;'
sed -i "s|^templates_dir = .*|templates_dir = \"$T/tpl\";|" "$T/c.conf"
C="$CLARION -c $T/c.conf"
$C init >/dev/null || { fail "clarion init"; exit 1; }
$C list create members --from news@example.org --owner secretary@example.org >/dev/null
for i in 1 2 3 4 5; do
	$C sub add "m$i@example.net" --list members --name "Member $i" >/dev/null
done
printf '# News\n\nThe branch meets on Thursday.\n' > "$T/news.md"
later=$(TZ=Europe/London date -d "@$((t0 + 3600))" +'%Y-%m-%d %H:%M')
$C item add news --list members --kind newsletter --at "$later" \
	--content "$T/news.md" --subject "Hillside news" >/dev/null 2>&1 ||
	fail "item add with its template present"
"$CLARIOND" -c "$T/c.conf" 2>"$T/daemon.log" &
DPID=$!
wait_for grep -q "started" "$T/daemon.log" || fail "clariond started"
# The template goes missing while the daemon runs; then the item falls due.
mv "$T/tpl/newsletter.txt.mustache" "$T/newsletter.txt.mustache"
echo "$((t0 + 3660))" > "$CLOCK"
wait_for grep -q "clarion run release" "$T/daemon.log" ||
	fail "the daemon held the run"
stop_daemon
n_out() { ls "$T/outbox/new" 2>/dev/null | wc -l; }
expect_eq "nothing goes out while the template is missing" "$(n_out)" 0
run=$(sqlite3 "$T/clarion.db" "SELECT id FROM runs WHERE purpose = 'issue'")

out=$($C run list)
line=$(echo "$out" | grep "^$run ")
expect_eq "run list: state column" "$(echo "$line" | awk "{print \$6}")" held
expect_not_contains "not as done" "$line" "done"
expect_contains "with how many are held" "$line" "held 5"
expect_contains "and why" "$line" "newsletter.txt.mustache"
expect_contains "run list --state held finds it" "$($C run list --state held)" "news "
expect_eq "run list --state done does not" "$($C run list --state done)" ""
out=$($C run show "$run")
expect_contains "run show: state held" "$out" "state     held"
expect_contains "run show says why it is stuck" "$out" "newsletter.txt.mustache"
expect_contains "run show says how to release it" "$out" "clarion run release $run"
expect_contains "the daemon logged the held run once with the way out" \
	"$(grep -c "run $run .*held.*clarion run release $run" "$T/daemon.log")" "1"
expect_eq "and not one warning per delivery" \
	"$(grep -c "send: delivery .* held" "$T/daemon.log")" "1"

# Releasing before the fix changes nothing and says so.
out=$($C run release "$run" 2>&1); rc=$?
expect_eq "release while still broken exits 78 (EX_CONFIG)" "$rc" 78
expect_contains "and says the cause is still there" "$out" "newsletter.txt.mustache"
expect_eq "the deliveries stay held" \
	"$(sqlite3 "$T/clarion.db" "SELECT count(*) FROM deliveries WHERE state = 'held'")" 5

# The fix, then the release: each member gets exactly one message.
mv "$T/newsletter.txt.mustache" "$T/tpl/newsletter.txt.mustache"
out=$($C run release "$run" 2>&1); rc=$?
expect_eq "release exits 0" "$rc" 0
expect_contains "release says what it did" "$out" "run $run: 5 held deliveries queued again"
"$CLARIOND" -c "$T/c.conf" --once 2>>"$T/daemon.log"
expect_eq "five messages went out" "$(n_out)" 5
to=$(grep -h '^To:' "$T"/outbox/new/* | sort -u | wc -l)
expect_eq "one to each member" "$to" 5
"$CLARIOND" -c "$T/c.conf" --once 2>>"$T/daemon.log"
expect_eq "a second pass sends nothing more" "$(n_out)" 5
out=$($C run show "$run")
expect_contains "the run is done now" "$out" "state     done"
expect_contains "with all sent" "$out" "sent 5"

# A second held run can be cancelled.
later2=$(TZ=Europe/London date -d "@$((t0 + 7200))" +'%Y-%m-%d %H:%M')
$C item add news2 --list members --kind newsletter --at "$later2" \
	--content "$T/news.md" --subject "More news" >/dev/null 2>&1 ||
	fail "item add news2"
"$CLARIOND" -c "$T/c.conf" 2>"$T/daemon2.log" &
DPID=$!
wait_for grep -q "started" "$T/daemon2.log" || fail "clariond started again"
mv "$T/tpl/newsletter.txt.mustache" "$T/newsletter.txt.mustache"
echo "$((t0 + 7260))" > "$CLOCK"
wait_for grep -q "clarion run release" "$T/daemon2.log" ||
	fail "the daemon held the second run"
stop_daemon
run2=$(sqlite3 "$T/clarion.db" "SELECT max(id) FROM runs WHERE purpose = 'issue'")
out=$($C run cancel "$run2" 2>&1); rc=$?
expect_eq "run cancel on a held run exits 0" "$rc" 0
expect_contains "and cancels its held deliveries" "$out" "5 deliveries not yet sent cancelled"
expect_contains "the run is cancelled" "$($C run show "$run2")" "state     cancelled"
expect_eq "still only the five messages" "$(n_out)" 5
done_testing
