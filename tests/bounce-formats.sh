#!/bin/sh
# Bounce and complaint formats real MTAs and providers send (issue 18):
# clarion inbound classify must find the right class, recipient and
# status in each fixture of tests/data/bounce-formats (written for
# Clarion, modelled on RFC 3464/3463, RFC 5965 and the MTAs' notices).
. "$top_srcdir/tests/lib/common.sh"

D="$top_srcdir/tests/data/bounce-formats"
cd "$D" || exit 1
# Run with no config file so the defaults (domain example.org) apply.
CLARION_CONFIG="$T/none.conf"; export CLARION_CONFIG

grep -v '^#' expected.tsv > "$T/want"
while IFS='	' read -r file class rcpt status; do
	out=$("$CLARION" inbound classify "$file"); rc=$?
	got=$(printf '%s\n' "$out" | cut -f2-4)
	expect_eq "$file: exit 0" "$rc" 0
	expect_eq "$file: class, recipient, status" "$got" \
	    "$(printf '%s\t%s\t%s' "$class" "$rcpt" "$status")"
done < "$T/want"

# --json gives the same answers (the bench script reads --json).
out=$("$CLARION" inbound classify --json ses-complaint.eml jmrp-complaint.eml)
expect_contains "--json: an SES complaint is a complaint" \
	"$(printf '%s\n' "$out" | sed -n 1p)" '"class":"complaint","recipient":"member@isp.test"'
expect_contains "--json: a JMRP complaint names the attached message's addressee" \
	"$(printf '%s\n' "$out" | sed -n 2p)" '"recipient":"member@hotmail.test"'

done_testing
