#!/bin/sh
# clarion restore of a backup older than privacy actions takes them again:
# after the backup, a member hard-bounces (suppressed), one is erased, one
# unsubscribes. The restore says what it re-applied, the erased member is
# gone again, and the next send through clariond and the aiosmtpd sink
# reaches only the member who stayed. The privacy journal that makes this
# possible is private and holds no address.
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/smtp.sh"
smtp_require
SMTP_BASE=32760

sink_start sink --reject cat
smtp_config "$T/c.conf"
C="$CLARION -c $T/c.conf"
$C init >/dev/null || { fail "clarion init"; exit 1; }
$C list create members --from news@example.org \
    --owner secretary@example.org >/dev/null
for p in ann bob cat dan; do
	$C sub add $p@example.net --list members >/dev/null
done
printf '# News\n\nThe branch meets on Thursday.\n' > "$T/news.md"
$C item add news --list members --kind newsletter --at "2026-07-01 11:00" \
    --content "$T/news.md" --subject "News" >/dev/null
$C backup "$T/old.db" >/dev/null || { fail "backup"; exit 1; }

got() { sink_rcpts | grep -c "^$1@" ; }
"$CLARIOND" -c "$T/c.conf" --once 2>>"$T/daemon.log"
expect_eq "the first issue reaches ann, bob and dan; cat's 550 bounces" \
	"$(got ann)$(got bob)$(got cat)$(got dan)" 1101
expect_contains "cat's hard bounce suppressed him" \
	"$($C sub show cat@example.net)" "hard-bounce"
$C sub erase ann@example.net >/dev/null || fail "erase ann"
$C sub unsubscribe bob@example.net --list members >/dev/null ||
	fail "unsubscribe bob"

J="$T/clarion.db.journal"
check "the privacy journal exists beside the database" test -f "$J"
expect_eq "it is private (0600)" "$(stat -c %a "$J" 2>/dev/null)" 600
expect_eq "it holds no address, not even the erased one's" \
	"$(grep -c 'example.net' "$J" 2>/dev/null)" 0

out=$($C restore "$T/old.db" 2>&1); rc=$?
expect_eq "restore of the older backup exits 0" "$rc" 0
expect_contains "it re-applies the erasure and says so" "$out" "1 erasure"
expect_contains "and the unsubscribes (bob; cat, by the bounce)" "$out" \
	"2 unsubscribes"
expect_contains "and the bounce's suppression" "$out" "1 suppression"
out=$($C sub show ann@example.net 2>&1)
expect_not_contains "the erased member is gone again" "$out" "memberships:"
expect_contains "bob is unsubscribed again" \
	"$($C sub show bob@example.net)" "unsubscribed"
expect_contains "cat is suppressed again" "$($C sub show cat@example.net)" \
	"hard-bounce"

# The backup predates the issue, so clariond composes it again: only dan,
# who never left, may get it.
sink_stop
rm -f "$T/sink/ready"
sink_start sink
smtp_config "$T/c.conf"
"$CLARIOND" -c "$T/c.conf" --once 2>>"$T/daemon.log"
expect_eq "after the restore nobody who left is mailed" \
	"$(got ann)$(got bob)$(got cat)" 110
expect_eq "dan, who stayed, gets the issue again" "$(got dan)" 2

rm -f "$T"/clarion.db.before-restore-*
out=$($C restore "$T/old.db" 2>&1)
expect_contains "a second restore of the same backup re-applies them again" \
	"$out" "1 erasure"

# A backup copied back by hand, not with clarion restore: clariond takes
# the journal's actions again when it starts, before it sends.
rm -f "$T/clarion.db-wal" "$T/clarion.db-shm"
cp "$T/old.db" "$T/clarion.db"
"$CLARIOND" -c "$T/c.conf" --once 2>>"$T/daemon.log"
expect_eq "after a copy by hand nobody who left is mailed either" \
	"$(got ann)$(got bob)$(got cat)" 110
expect_eq "dan gets it a third time" "$(got dan)" 3
expect_contains "clariond says it re-applied the journal" \
	"$(cat "$T/daemon.log")" "privacy journal: 4 actions"
done_testing
