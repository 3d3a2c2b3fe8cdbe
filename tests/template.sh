#!/bin/sh
# clarion template render / check: what an officer sees on the command line.
. "$top_srcdir/tests/lib/common.sh"
cd "$T"
printf 'Hi {{name}}{{> sig}}' > t.mustache
printf '{"name": "Fish & <Chips>"}' > d.json
mkdir p
printf ', from {{name}}\n' > p/sig.mustache

"$CLARION" template render t.mustache d.json > out; rc=$?
expect_eq "render exits 0" "$rc" 0
expect_eq "HTML escaping by default, no newline added, no partials" \
    "$(od -An -c out | tr -s ' ')" \
    "$(printf 'Hi Fish &amp; &lt;Chips&gt;' | od -An -c | tr -s ' ')"
"$CLARION" template render --text t.mustache d.json --partials p > out
expect_eq "--text does not escape; --partials reads DIR/NAME.mustache" \
    "$(cat out)" "Hi Fish & <Chips>, from Fish & <Chips>"

"$CLARION" template render nope.mustache d.json 2> err; rc=$?
expect_eq "a missing template: EX_NOINPUT" "$rc" 66
check "the error names the path" grep -q "nope.mustache: No such file" err
"$CLARION" template render t.mustache nope.json 2> err; rc=$?
expect_eq "missing data: EX_NOINPUT" "$rc" 66
printf '{"name":\n  "x",\n  oops}' > bad.json
"$CLARION" template render t.mustache bad.json 2> err; rc=$?
expect_eq "bad JSON: EX_DATAERR" "$rc" 65
check "bad JSON is reported as file:line:column" grep -q "bad.json:3:" err
printf 'one\n{{#list}}\ntwo\n{{/lits}}\n' > broken.mustache
"$CLARION" template render broken.mustache d.json 2> err; rc=$?
expect_eq "a template syntax error: EX_DATAERR" "$rc" 65
check "the syntax error names the line and both tags" grep -q \
    'broken.mustache: line 4: closing tag "lits" does not match section "list" opened on line 2' err
"$CLARION" template check broken.mustache 2>/dev/null; rc=$?
expect_eq "template check finds it too" "$rc" 65
"$CLARION" template check t.mustache; rc=$?
expect_eq "template check passes a good one" "$rc" 0
printf '{{> loop}}' > p/loop.mustache
printf '{{> loop}}' > l.mustache
"$CLARION" template render l.mustache d.json --partials p 2> err; rc=$?
expect_eq "endless partial recursion: EX_DATAERR" "$rc" 65
check "and says why" grep -q "nested more than 100 deep" err
"$CLARION" template render t.mustache 2>/dev/null; rc=$?
expect_eq "missing DATA: EX_USAGE" "$rc" 64
"$CLARION" template render --help > out; rc=$?
expect_eq "--help exits 0" "$rc" 0
check "--help shows the usage" grep -q "usage: clarion template render" out
done_testing
