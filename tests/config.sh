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
# templates_dir is left at its default there, installed by make install.
sed -e "s|/etc/clarion/smtp.password|$T/pwfile|; s|/etc/clarion/imap.password|$T/pwfile|" \
    "$top_srcdir/conf/clarion.conf" > "$T/sample.conf"
echo "templates_dir = \"$top_srcdir/templates\";" >> "$T/sample.conf"
echo secret > "$T/pwfile"; chmod 600 "$T/pwfile"
out=$("$CLARIOND" -n -c "$T/sample.conf" 2>&1); rc=$?
expect_eq "the shipped conf/clarion.conf is valid" "$rc" 0

# --- issue 17: mistakes that used to pass, all reported in one run --------
rm -f "$T/token.key"	# the readable one above
# An unknown zone was taken as UTC without a word.
for tz in Europe/Londn Mars/Olympus; do
	make_config "$T/tz.conf" "timezone = \"$tz\";"
	out=$("$CLARION" -c "$T/tz.conf" check-config 2>&1); rc=$?
	expect_eq "check-config: timezone $tz exits 78" "$rc" 78
	expect_eq "and names file:line and key" "$out" "clarion: $T/tz.conf:5: timezone: \"$tz\" is not in the time zone database (/usr/share/zoneinfo); use a name such as \"Europe/London\""
	out=$("$CLARIOND" -n -c "$T/tz.conf" 2>&1); rc=$?
	expect_eq "clariond -n: timezone $tz exits 78" "$rc" 78
	# Every command refuses it, not only the checks: times typed and shown
	# would all be UTC.
	out=$("$CLARION" -c "$T/tz.conf" item list 2>&1); rc=$?
	expect_eq "clarion item list with timezone $tz exits 78" "$rc" 78
done

# A templates directory that does not exist (the default before make install).
make_config "$T/notpl.conf"
sed -i '/templates_dir/d' "$T/notpl.conf"
echo 'templates_dir = "no-such-dir";' >> "$T/notpl.conf"
out=$("$CLARION" -c "$T/notpl.conf" check-config 2>&1); rc=$?
expect_eq "a missing templates_dir exits 78" "$rc" 78
expect_eq "naming file:line, key and the directory" "$out" "clarion: $T/notpl.conf:4: templates_dir: $T/no-such-dir: No such file or directory"
out=$("$CLARIOND" -n -c "$T/notpl.conf" 2>&1); rc=$?
expect_eq "clariond -n refuses it too" "$rc" 78

make_config "$T/http.conf" 'addresses = { unsubscribe_url = "http://example.org/u"; };'
out=$("$CLARION" -c "$T/http.conf" check-config 2>&1); rc=$?
expect_eq "an http unsubscribe_url exits 78" "$rc" 78
expect_eq "saying it must be https" "$out" "clarion: $T/http.conf:5: addresses.unsubscribe_url: must be an https:// address (RFC 8058 one-click unsubscribe), not \"http://example.org/u\""
make_config "$T/https.conf" 'addresses = { unsubscribe_url = "https://example.org/u"; };'
out=$("$CLARION" -c "$T/https.conf" check-config 2>&1); rc=$?
expect_eq "an https one is accepted" "$rc" 0

# Real sending with nothing reading replies, bounces and unsubscribes.
make_config "$T/noimap.conf" 'transport = "smtp";' 'smtp = { url = "smtps://127.0.0.1:465"; };'
out=$("$CLARION" -c "$T/noimap.conf" check-config 2>&1); rc=$?
expect_eq "smtp with imap disabled exits 78" "$rc" 78
expect_eq "saying what is lost and the way out" "$out" "clarion: $T/noimap.conf:5: transport: \"smtp\" sends real mail, but imap.enabled is false: nothing reads the replies, bounces and unsubscribe requests sent to unsubscribe+...@example.org; enable imap, or set inbound = \"external\" if something else handles that mail"
make_config "$T/ext.conf" 'transport = "smtp";' 'inbound = "external";' 'smtp = { url = "smtps://127.0.0.1:465"; };'
out=$("$CLARION" -c "$T/ext.conf" check-config 2>&1); rc=$?
expect_eq "inbound = \"external\" acknowledges it" "$rc" 0

# Six mistakes, one run: every one with its line, then the count.
make_config "$T/six.conf" 'timezone = "Mars/Olympus";' 'transport = "smtp";' \
    'smtp = { url = "smtps://x"; connections = 0; };' \
    'addresses = { unsubscribe_url = "http://x.org/u"; };' 'tick = "soon";' 'frob = 1;'
out=$("$CLARION" -c "$T/six.conf" check-config 2>&1); rc=$?
expect_eq "six mistakes exit 78" "$rc" 78
expect_eq "all six are reported in one run" "$out" "clarion: $T/six.conf:7: smtp.connections: 0 is out of range (1 to 64)
clarion: $T/six.conf:9: tick: 'soon' is not a duration (such as 90s, 15m, 2h, 1d)
clarion: $T/six.conf:10: frob: unknown key
clarion: $T/six.conf:5: timezone: \"Mars/Olympus\" is not in the time zone database (/usr/share/zoneinfo); use a name such as \"Europe/London\"
clarion: $T/six.conf:8: addresses.unsubscribe_url: must be an https:// address (RFC 8058 one-click unsubscribe), not \"http://x.org/u\"
clarion: $T/six.conf:6: transport: \"smtp\" sends real mail, but imap.enabled is false: nothing reads the replies, bounces and unsubscribe requests sent to unsubscribe+...@example.org; enable imap, or set inbound = \"external\" if something else handles that mail
clarion: $T/six.conf: 6 errors"
out2=$("$CLARIOND" -n -c "$T/six.conf" 2>&1); rc=$?
expect_eq "clariond -n reports the same six" "$(printf '%s\n' "$out2" | sed 's/^clariond: //')" "$(printf '%s\n' "$out" | sed 's/^clarion: //')"
expect_eq "and exits 78" "$rc" 78
"$CLARIOND" -d -c "$T/six.conf" --once > "$T/start.log" 2>&1; rc=$?
expect_eq "clariond refuses to start with them (78)" "$rc" 78
expect_eq "and logs all six and the count" "$(grep -c 'six.conf' "$T/start.log")" 7

# --- templates and items, checked against the database --------------------
# A copy of the templates without the message kind's, as an old install.
mkdir "$T/tpl"
cp "$top_srcdir"/templates/*.mustache "$T/tpl/"
rm -f "$T/tpl/message.txt.mustache" "$T/tpl/message.html.mustache"
make_config "$T/db.conf"
sed -i "s|^templates_dir = .*|templates_dir = \"$T/tpl\";|" "$T/db.conf"
out=$("$CLARION" -c "$T/db.conf" check-config 2>&1); rc=$?
expect_eq "a shipped kind's template missing exits 78 (no database yet)" "$rc" 78
expect_eq "naming the file and what needs it" "$out" "clarion: $T/db.conf:4: templates_dir: $T/tpl/message.txt.mustache: No such file or directory (needed for message items)"
cp "$top_srcdir"/templates/message.* "$T/tpl/" 2>/dev/null
C="$CLARION -c $T/db.conf"
$C init >/dev/null
$C list create members --from news@example.org --owner sec@example.org >/dev/null
$C sub add alice@example.org --list members --attr ward=Hillside >/dev/null
$C sub add bob@example.org --list members --attr ward=Northgate --attr union=GMB >/dev/null
echo "Hello" > "$T/body.md"
cp "$T/tpl/newsletter.txt.mustache" "$T/tpl/special.txt.mustache"
$C item add special --list members --kind newsletter --template special --subject S --content "$T/body.md" --at "2030-01-01 10:00" >/dev/null
$C item add hillside --list members --kind newsletter --subject S --content "$T/body.md" --at "2030-01-01 10:00" --segment "ward = 'Hillside'" >/dev/null
out=$($C check-config 2>&1); rc=$?
expect_eq "a good setup with items passes" "$rc" 0
# The template an item uses goes, a partial goes, a segment is misspelt.
rm "$T/tpl/special.txt.mustache" "$T/tpl/_footer.html.mustache"
sqlite3 "$T/clarion.db" "UPDATE items SET segment = 'wrad = ''Hillside'' and unoin != ''GMB''' WHERE name = 'hillside'"
out=$($C check-config 2>&1); rc=$?
expect_eq "a missing template, partial and segment attribute exit 78" "$rc" 78
expect_eq "each is reported, in one run" "$out" "clarion: $T/db.conf:4: templates_dir: $T/tpl/_footer.html.mustache: No such file or directory (needed for bulletin items)
clarion: $T/db.conf:4: templates_dir: $T/tpl/special.txt.mustache: No such file or directory (needed for item 'special')
clarion: item 'hillside': segment: no member of list 'members' has an attribute 'wrad', so the segment matches everyone or no one (they have: union, ward)
clarion: item 'hillside': segment: no member of list 'members' has an attribute 'unoin', so the segment matches everyone or no one (they have: union, ward)"
out2=$("$CLARIOND" -n -c "$T/db.conf" 2>&1); rc=$?
expect_eq "clariond -n exits 78 with the same" "$rc" 78
expect_eq "and the same lines" "$(printf '%s\n' "$out2" | sed 's/^clariond: //')" "$(printf '%s\n' "$out" | sed 's/^clarion: //')"
"$CLARIOND" -d -c "$T/db.conf" --once > "$T/start2.log" 2>&1; rc=$?
expect_eq "clariond will not start with them (78)" "$rc" 78
expect_contains "saying why" "$(cat "$T/start2.log")" "no member of list 'members' has an attribute 'wrad'"
# Cancelled items no longer count.
$C item cancel hillside >/dev/null
$C item cancel special >/dev/null
cp "$top_srcdir/templates/_footer.html.mustache" "$T/tpl/"
out=$($C check-config 2>&1); rc=$?
expect_eq "cancelled items are not checked" "$rc" 0
done_testing
