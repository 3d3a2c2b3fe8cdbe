#!/bin/sh
# DMARC alignment (issue 20): a list From at a free-mail provider is
# refused by list create/edit and by check-config (and so by clariond's
# start-up); a From outside the configured domain is accepted with a
# warning. check-config --dns skips cleanly when the machine is offline.
. "$top_srcdir/tests/lib/common.sh"
command -v sqlite3 >/dev/null 2>&1 || skip "sqlite3 is not installed"
make_config "$T/c.conf"
C="$CLARION -c $T/c.conf"
$C init >/dev/null
lists() { sqlite3 "$T/clarion.db" "SELECT group_concat(name || '=' || from_addr, ' ') FROM (SELECT * FROM lists ORDER BY name)"; }

for from in news@gmail.com News@GoogleMail.com x@yahoo.co.uk x@yahoo.fr x@hotmail.com \
    x@outlook.com x@live.co.uk x@aol.com x@icloud.com x@gmx.de x@proton.me; do
	out=$($C list create fm --from "$from" --owner sec@example.org 2>&1); rc=$?
	expect_eq "list create --from $from is refused (65)" "$rc" 65
done
expect_contains "saying why" "$out" "free-mail provider"
expect_eq "and no list was made" "$(lists)" ""

out=$($C list create members --from news@example.org --owner sec@example.org 2>&1); rc=$?
expect_eq "a From in the domain: created" "$rc" 0
expect_not_contains "without a warning" "$out" "warning"
out=$($C list create ward --from ward@lists.example.org --owner sec@example.org 2>&1); rc=$?
expect_eq "a From in a subdomain: created" "$rc" 0
expect_not_contains "aligned (same organisational domain), no warning" "$out" "warning"
out=$($C list create youth --from youth@other.org.uk --owner sec@example.org 2>&1); rc=$?
expect_eq "a From in another domain: created" "$rc" 0
expect_contains "with a warning naming the domain" "$out" "warning: From youth@other.org.uk is not in example.org"
out=$($C list edit members --from news@gmail.com 2>&1); rc=$?
expect_eq "list edit --from a free-mail address is refused (65)" "$rc" 65
expect_eq "and the list is unchanged" "$(lists)" "members=news@example.org ward=ward@lists.example.org youth=youth@other.org.uk"
out=$($C list edit members --owner boss@gmail.com 2>&1); rc=$?
expect_eq "an owner at a free-mail provider is fine" "$rc" 0

out=$($C check-config 2>&1); rc=$?
expect_eq "check-config with a misaligned list exits 0" "$rc" 0
expect_contains "and warns about it" "$out" "warning: list youth: From youth@other.org.uk is not in example.org"
# A list made before this check, From at gmail.com.
sqlite3 "$T/clarion.db" "UPDATE lists SET from_addr = 'news@gmail.com' WHERE name = 'ward'"
out=$($C check-config 2>&1); rc=$?
expect_eq "a free-mail From in the database: check-config exits 78" "$rc" 78
expect_contains "naming the list" "$out" "list ward: From news@gmail.com: gmail.com is a free-mail provider"
"$CLARIOND" -n -c "$T/c.conf" >/dev/null 2>&1; rc=$?
expect_eq "and clariond -n refuses it too" "$rc" 78
sqlite3 "$T/clarion.db" "UPDATE lists SET from_addr = 'ward@example.org' WHERE name = 'ward'"

out=$($C check-config --bogus 2>&1); rc=$?
expect_eq "check-config with an unknown argument exits 64" "$rc" 64
# This machine has no network: the lookups are skipped, not failed.
if getent hosts example.org >/dev/null 2>&1; then
	skip_dns=1
fi
if [ -z "${skip_dns:-}" ]; then
	out=$($C check-config --dns 2>&1); rc=$?
	expect_eq "check-config --dns offline exits 0" "$rc" 0
	expect_contains "and says it skipped the lookups" "$out" "dns: skipped"
fi
done_testing
