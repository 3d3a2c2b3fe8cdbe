#!/bin/sh
# The CLI's foundation: --version, --help, unknown commands, init, status.
. "$top_srcdir/tests/lib/common.sh"

out=$("$CLARION" --version); rc=$?
expect_eq "--version exits 0" "$rc" 0
expect_contains "--version prints the version" "$out" "clarion 0."
out=$("$CLARION" frobnicate 2>&1); rc=$?
expect_eq "unknown command exits 64 (EX_USAGE)" "$rc" 64
expect_contains "and says so" "$out" "frobnicate: unknown command"
out=$("$CLARION" 2>&1); rc=$?
expect_eq "no command exits 64" "$rc" 64
out=$("$CLARION" --help); rc=$?
expect_contains "--help lists commands" "$out" "check-config"
out=$("$CLARION" status --help); rc=$?
expect_eq "COMMAND --help exits 0" "$rc" 0
expect_contains "and shows its usage" "$out" "usage: clarion status"

make_config "$T/c.conf"
out=$("$CLARION" -c "$T/c.conf" status 2>&1); rc=$?
expect_eq "status before init exits 66 (EX_NOINPUT)" "$rc" 66
expect_contains "and says to run init" "$out" "run 'clarion init' first"

out=$("$CLARION" -c "$T/c.conf" init); rc=$?
expect_eq "init exits 0" "$rc" 0
expect_contains "init prints where the database is" "$out" "database: $T/clarion.db (new, schema version"
expect_contains "init makes a token secret" "$out" "token secret: $T/token.key (new, mode 0600)"
expect_eq "database is mode 600" "$(stat -c %a "$T/clarion.db")" 600
expect_eq "token secret is mode 600" "$(stat -c %a "$T/token.key")" 600
expect_eq "the secret is 64 hex digits" "$(tr -d '\n' < "$T/token.key" | grep -c '^[0-9a-f]\{64\}$')" 1
check "outbox Maildir made" test -d "$T/outbox/new" -a -d "$T/outbox/tmp" -a -d "$T/outbox/cur"
key1=$(cat "$T/token.key")
out=$("$CLARION" -c "$T/c.conf" init); rc=$?
expect_eq "init again exits 0" "$rc" 0
expect_contains "and keeps the database" "$out" "(existing, schema version"
expect_eq "and keeps the secret" "$(cat "$T/token.key")" "$key1"

out=$("$CLARION" -c "$T/c.conf" status); rc=$?
expect_eq "status on a fresh database exits 0" "$rc" 0
expect_contains "status: daemon not running" "$out" "daemon:         not running"
expect_contains "status: schema version" "$out" "(schema version"
expect_contains "status: no lists" "$out" "lists:          0"
expect_contains "status: no subscribers" "$out" "subscribers:    0"
expect_contains "status: no runs" "$out" "runs:           none"
expect_contains "status: no deliveries" "$out" "deliveries:     none"
out=$("$CLARION" -c "$T/c.conf" status --json); rc=$?
expect_eq "status --json exits 0" "$rc" 0
v=$(printf '%s' "$out" | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["subscribers"], d["daemon"]["running"], d["schema_version"] > 0)')
expect_eq "status --json is JSON with the counts" "$v" "0 False True"
"$CLARION" -c "$T/c.conf" status --check >/dev/null; rc=$?
expect_eq "status --check without a daemon exits 69" "$rc" 69

out=$("$CLARION" -c "$T/c.conf" backup "$T/b.db"); rc=$?
expect_eq "backup exits 0" "$rc" 0
expect_eq "backup is mode 600" "$(stat -c %a "$T/b.db")" 600
out=$("$CLARION" -c "$T/c.conf" backup "$T/b.db" 2>&1); rc=$?
expect_eq "backup refuses to overwrite (73)" "$rc" 73
done_testing
