#!/bin/sh
# clariond -n and clarion check-config: exit 0 on a good config, 78 with
# file:line: key: message on a bad one.
. "$top_srcdir/tests/lib/common.sh"

make_config "$T/good.conf"
out=$("$CLARIOND" -n -c "$T/good.conf" 2>&1); rc=$?
expect_eq "clariond -n accepts a good config" "$rc" 0
expect_eq "and says so" "$out" "$T/good.conf: OK"
out=$("$CLARION" -c "$T/good.conf" check-config 2>&1); rc=$?
expect_eq "clarion check-config accepts it" "$rc" 0

make_config "$T/bad.conf" "smtp = {" "  urll = \"smtps://x\";" "};"
out=$("$CLARIOND" -n -c "$T/bad.conf" 2>&1); rc=$?
expect_eq "clariond -n: unknown key exits 78" "$rc" 78
expect_eq "clariond -n names file:line and key" "$out" "clariond: $T/bad.conf:6: smtp.urll: unknown key"
out=$("$CLARION" -c "$T/bad.conf" check-config 2>&1); rc=$?
expect_eq "check-config: unknown key exits 78" "$rc" 78
expect_eq "check-config names file:line and key" "$out" "clarion: $T/bad.conf:6: smtp.urll: unknown key"

make_config "$T/type.conf" "tick = true;"
out=$("$CLARION" -c "$T/type.conf" check-config 2>&1); rc=$?
expect_eq "wrong type exits 78" "$rc" 78
expect_eq "wrong type message" "$out" "clarion: $T/type.conf:5: tick: must be a duration (seconds, or a string such as \"15m\"), not true or false"

printf 'domain = "example.org";\ntick = ;\n' > "$T/syntax.conf"
out=$("$CLARION" -c "$T/syntax.conf" check-config 2>&1); rc=$?
expect_eq "syntax error exits 78" "$rc" 78
expect_eq "syntax error names the line" "$out" "clarion: $T/syntax.conf:2: syntax error: syntax error"

out=$("$CLARION" -c "$T/nope.conf" check-config 2>&1); rc=$?
expect_eq "missing file exits 78" "$rc" 78
expect_eq "missing file message" "$out" "clarion: $T/nope.conf: cannot read the configuration: No such file or directory"

make_config "$T/pw.conf" "smtp = { password = \"hunter2\"; };"
chmod 644 "$T/pw.conf"
out=$("$CLARIOND" -n -c "$T/pw.conf" 2>&1); rc=$?
expect_eq "a readable config with a password exits 78" "$rc" 78
expect_contains "and says how to fix it" "$out" "fix: chmod 600 $T/pw.conf"
expect_not_contains "without printing the password" "$out" "hunter2"

# A token secret readable by others is refused too.
make_config "$T/tok.conf" "token_secret_file = \"$T/token.key\";"
echo 0123456789abcdef0123456789abcdef > "$T/token.key"; chmod 644 "$T/token.key"
out=$("$CLARIOND" -n -c "$T/tok.conf" 2>&1); rc=$?
expect_eq "a world-readable token secret exits 78" "$rc" 78
expect_contains "naming the file" "$out" "$T/token.key: holds a secret but is readable by group or others (mode 0644)"

# The shipped sample config is valid (its paths need not exist for -n).
sed -e "s|/etc/clarion/smtp.password|$T/pwfile|; s|/etc/clarion/imap.password|$T/pwfile|" \
    "$top_srcdir/conf/clarion.conf" > "$T/sample.conf"
echo secret > "$T/pwfile"; chmod 600 "$T/pwfile"
out=$("$CLARIOND" -n -c "$T/sample.conf" 2>&1); rc=$?
expect_eq "the shipped conf/clarion.conf is valid" "$rc" 0
done_testing
