#!/bin/sh
# DKIM and Feedback-ID (issue 20): clarion dkim keygen makes a private key and the TXT
# record; with dkim = { ... } every message clariond sends is signed
# relaxed/relaxed over From, To, Subject, Date, Message-ID and the list
# headers (RFC 8058 wants List-Unsubscribe and -Post covered), and an
# independent verifier (dkimpy, key given locally) accepts it, RSA and
# Ed25519. The key file is a secret: a readable one is refused.
. "$top_srcdir/tests/lib/common.sh"
/usr/bin/python3 -c 'import dkim, nacl' 2>/dev/null ||
	skip "python3-dkim (and python3-nacl) are not installed"

CLOCK="$T/clock"
export CLARION_CLOCK_FILE="$CLOCK"
at() { date -u -d "$1" +%s > "$CLOCK"; }
at "2026-11-27 12:00"

# keygen: 0600 keys, the record to publish, never over an existing key.
out=$($CLARION dkim keygen --selector s1 --domain example.org "$T/rsa.key"); rc=$?
expect_eq "keygen (RSA) exits 0" "$rc" 0
echo "$out" > "$T/rsa.txt"
expect_contains "it prints the TXT record's name" "$out" "s1._domainkey.example.org. IN TXT"
expect_contains "for an RSA key" "$out" "v=DKIM1; k=rsa; p=MIIB"
expect_eq "the key file is private" "$(stat -c %a "$T/rsa.key")" 600
expect_contains "it is a PEM private key" "$(head -1 "$T/rsa.key")" "BEGIN PRIVATE KEY"
cp "$T/rsa.key" "$T/rsa.copy"
out=$($CLARION dkim keygen --selector s1 --domain example.org "$T/rsa.key" 2>&1); rc=$?
expect_eq "an existing key file is not replaced (EX_CANTCREAT)" "$rc" 73
check "and is left as it was" cmp -s "$T/rsa.key" "$T/rsa.copy"
$CLARION dkim keygen --type ed25519 --selector s2 --domain example.org "$T/ed.key" > "$T/ed.txt"; rc=$?
expect_eq "keygen (Ed25519) exits 0" "$rc" 0
expect_contains "an Ed25519 record" "$(cat "$T/ed.txt")" "k=ed25519; p="
out=$($CLARION dkim keygen --type dsa --selector s3 --domain example.org "$T/x.key" 2>&1); rc=$?
expect_eq "an unknown key type is a usage error" "$rc" 64
out=$($CLARION dkim keygen --selector 'a b' --domain example.org "$T/x.key" 2>&1); rc=$?
expect_eq "a selector that is no DNS name is a usage error" "$rc" 64
check "and nothing is written" test ! -e "$T/x.key"

# The key file follows the password files' rules.
make_config "$T/c.conf" 'dkim = { selector = "s1"; key_file = "rsa.key"; };' \
    'addresses = { unsubscribe_url = "https://example.org/u"; };'
chmod 644 "$T/rsa.key"
out=$($CLARION -c "$T/c.conf" check-config 2>&1); rc=$?
expect_eq "a key file others can read: check-config exits 78" "$rc" 78
expect_contains "naming the key" "$out" "dkim.key_file"
chmod 600 "$T/rsa.key"
out=$($CLARION -c "$T/c.conf" check-config 2>&1); rc=$?
expect_eq "a private key: check-config exits 0" "$rc" 0
echo "not a key" > "$T/bad.key"; chmod 600 "$T/bad.key"
make_config "$T/bad.conf" 'dkim = { selector = "s1"; key_file = "bad.key"; };'
out=$($CLARION -c "$T/bad.conf" check-config 2>&1); rc=$?
expect_eq "a file that is no key: check-config exits 78" "$rc" 78
expect_contains "saying so" "$out" "not an unencrypted PEM private key"
make_config "$T/nosel.conf" 'dkim = { key_file = "rsa.key"; };'
out=$($CLARION -c "$T/nosel.conf" check-config 2>&1); rc=$?
expect_eq "no selector: check-config exits 78" "$rc" 78

C="$CLARION -c $T/c.conf"
$C init >/dev/null
$C list create members --from news@example.org --owner sec@example.org --display-name "Hillside CLP" >/dev/null
$C sub add alice@example.org --list members --name "Alice Smith" >/dev/null
printf 'The **AGM** moves to 14 January.\n' > "$T/body.md"
$C item add one --list members --kind newsletter --subject "Café news" \
    --content "$T/body.md" --at "2026-11-28 09:00" >/dev/null 2>&1
at "2026-11-28 09:00:05"
"$CLARIOND" --once -c "$T/c.conf" 2>"$T/log"; rc=$?
expect_eq "clariond --once exits 0" "$rc" 0
f=$(ls "$T"/outbox/new/* 2>/dev/null | head -1)
check "the newsletter is sent" test -n "$f"
out=$(/usr/bin/python3 "$top_srcdir/tests/lib/dkim-verify.py" "$T/rsa.txt" "$f" 2>&1)
expect_eq "dkimpy verifies the RSA signature, over the headers asked for" "$out" "ok
date feedback-id from list-id list-unsubscribe list-unsubscribe-post message-id subject to
rsa-sha256 relaxed/relaxed example.org s1"
expect_eq "a Feedback-ID for the kind and the list (Gmail's feedback loop)" \
    "$(grep '^Feedback-ID:' "$f" | tr -d '\r')" "Feedback-ID: newsletter:members:example.org"
sed 's/AGM/EGM/' "$f" > "$T/tampered"
out=$(/usr/bin/python3 "$top_srcdir/tests/lib/dkim-verify.py" "$T/rsa.txt" "$T/tampered" 2>&1)
expect_eq "a changed body fails the check" "$(echo "$out" | head -1)" "fail"
expect_not_contains "the key is never logged" "$(cat "$T/log")" "PRIVATE"

# Ed25519 (RFC 8463), and a d= of its own.
make_config "$T/c.conf" 'dkim = { selector = "s2"; domain = "example.org"; key_file = "ed.key"; };'
$C item add two --list members --kind message --subject "Second" \
    --content "$T/body.md" --at "2026-11-29 09:00" >/dev/null 2>&1
at "2026-11-29 09:00:05"
"$CLARIOND" --once -c "$T/c.conf" 2>>"$T/log"; rc=$?
expect_eq "clariond --once exits 0" "$rc" 0
f=$(grep -l '^Subject: Second' "$T"/outbox/new/* | head -1)
out=$(/usr/bin/python3 "$top_srcdir/tests/lib/dkim-verify.py" "$T/ed.txt" "$f" 2>&1)
expect_eq "dkimpy verifies the Ed25519 signature" "$out" "ok
date feedback-id from list-id list-unsubscribe message-id subject to
ed25519-sha256 relaxed/relaxed example.org s2"
done_testing
