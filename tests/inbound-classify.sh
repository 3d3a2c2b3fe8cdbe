#!/bin/sh
# clarion inbound classify over the corpus: the printed class, recipient
# and status must match tests/data/inbound/expected.tsv for every file.
. "$top_srcdir/tests/lib/common.sh"

D="$top_srcdir/tests/data/inbound"
cd "$D" || exit 1
files=$(grep -v '^#' expected.tsv | cut -f1)

# Run with no config file so the defaults (domain example.org) apply.
CLARION_CONFIG="$T/none.conf"; export CLARION_CONFIG

out=$("$CLARION" inbound classify $files); rc=$?
expect_eq "classify over the corpus exits 0" "$rc" 0
got=$(printf '%s\n' "$out" | cut -f1-4)
want=$(grep -v '^#' expected.tsv | cut -f1-4)
if [ "$got" = "$want" ]; then
	pass "class, recipient and status match expected.tsv ($(printf '%s\n' "$want" | wc -l) files)"
else
	fail "class, recipient and status match expected.tsv"
	printf '%s\n' "$want" > "$T/want"; printf '%s\n' "$got" > "$T/got"
	diff "$T/want" "$T/got" | sed 's/^/#   /'
fi
expect_eq "five tab-separated fields on every line" \
	"$(printf '%s\n' "$out" | awk -F'\t' 'NF != 5' | wc -l)" 0
line=$(printf '%s\n' "$out" | grep '^postfix-real-5.1.1-user-unknown.eml')
expect_eq "a real Postfix DSN: hard bounce with the reason" "$line" \
	"$(printf 'postfix-real-5.1.1-user-unknown.eml\tbounce-hard\tnosuchmember@members.test\t5.1.1\tunknown user: "nosuchmember"')"
line=$(printf '%s\n' "$out" | grep '^reply-question-unsubscribe-husband.eml')
expect_eq "empty fields print as -" "$line" \
	"$(printf 'reply-question-unsubscribe-husband.eml\treply\t-\t-\treply')"

out=$("$CLARION" inbound classify exim-5.2.2-quota.eml "$T/missing.eml" qmail-5.1.1.eml 2>"$T/err"); rc=$?
expect_eq "an unreadable file gives 66 (EX_NOINPUT)" "$rc" 66
expect_contains "and is named on stderr" "$(cat "$T/err")" "$T/missing.eml"
expect_eq "the other files are still classified" \
	"$(printf '%s\n' "$out" | cut -f1,2 | tr '\t\n' ':,')" \
	"exim-5.2.2-quota.eml:bounce-soft,qmail-5.1.1.eml:bounce-hard,"

out=$("$CLARION" inbound classify --json vacation-fr-encoded-subject.eml arf-rfc5965-example.eml); rc=$?
expect_eq "--json exits 0" "$rc" 0
json_field() { # json_field LINE-NUMBER KEY
	printf '%s\n' "$out" | sed -n "${1}p" | /usr/bin/python3 -c \
	    'import json,sys; v=json.load(sys.stdin)[sys.argv[1]]; print("null" if v is None else v)' "$2"
}
expect_eq "--json: class" "$(json_field 1 class)" "auto-reply"
expect_eq "--json: decoded subject" "$(json_field 1 subject)" "Réponse automatique : Hillside ward newsletter"
expect_eq "--json: recipient null when unknown" "$(json_field 1 recipient)" "null"
expect_eq "--json: complaint" "$(json_field 2 class)" "complaint"
expect_eq "--json: complaining recipient" "$(json_field 2 recipient)" "complainer@mailbox-provider.test"
expect_eq "--json: token" "$(json_field 2 token)" "ab3cd5ef7gh2ij4k"
expect_eq "--json: token purpose" "$(json_field 2 token_purpose)" "b"
expect_eq "--json: message id" "$(json_field 2 message_id)" "arf-5965-1@mailbox-provider.test"

out=$("$CLARION" --json inbound classify unsubscribe-empty-body.eml); rc=$?
expect_contains "the global --json works too" "$out" '"class":"unsubscribe"'

out=$("$CLARION" inbound classify --json --domain other.test qmail-5.1.1.eml)
expect_contains "--domain: our token is only found on our domain" "$out" '"token":null'

make_config "$T/c.conf" 'addresses = { unsubscribe = "leave"; delimiter = "-"; };'
sed -i 's/^domain = .*/domain = "members.test";/' "$T/c.conf"
printf 'From: Jo <jo@isp.test>\nTo: leave-tok3n@members.test\nSubject: x\n\n\n' > "$T/u.eml"
out=$("$CLARION" -c "$T/c.conf" inbound classify "$T/u.eml" 2>&1)
expect_contains "the configuration's domain is used when readable" "$out" "$(printf '\tunsubscribe\t')"

out=$("$CLARION" inbound classify 2>&1); rc=$?
expect_eq "no FILE: 64 (EX_USAGE)" "$rc" 64
out=$("$CLARION" inbound frob 2>&1); rc=$?
expect_eq "unknown subcommand: 64" "$rc" 64
out=$("$CLARION" inbound classify --help); rc=$?
expect_eq "classify --help exits 0" "$rc" 0
expect_contains "and shows the usage" "$out" "usage: clarion inbound classify"
done_testing
