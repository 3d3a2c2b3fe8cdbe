#!/bin/sh
# Every kind `clarion item add` accepts has its templates shipped and goes
# out through the real daemon, none held (issue 17: a `message` item was
# accepted, but with no template every delivery was held). An item whose
# template is missing is refused when it is added, not at send time.
. "$top_srcdir/tests/lib/common.sh"

CLOCK="$T/clock"
export CLARION_CLOCK_FILE="$CLOCK"
at() { date -u -d "$1" +%s > "$CLOCK"; }
at "2026-11-27 12:00"
make_config "$T/c.conf"
C="$CLARION -c $T/c.conf"
$C init >/dev/null
$C list create members --from news@example.org --owner sec@example.org --display-name "Hillside CLP" >/dev/null
$C sub add alice@example.org --list members --name "Alice Smith" >/dev/null
$C sub add bob@example.org --list members --name "Bob Jones" >/dev/null
$C event add --kind strike --title "UCU strike" --start "2026-11-30 08:00" >/dev/null
printf 'The **AGM** moves to 14 January.\n' > "$T/body.md"

# The kinds named in the usage text, so a new kind cannot go untested.
kinds=$($C item --help 2>&1 | sed -n 's/^KIND is \([a-z]*\) .*/\1/p')
kinds="$kinds $($C item --help 2>&1 | sed -n 's/^one union.s), \([a-z]*\) or \([a-z]*\) .*/\1 \2/p')"
expect_eq "the kinds item add documents" "$(echo $kinds)" "bulletin newsletter message"
for k in $kinds; do
	out=$($C item add "one-$k" --list members --kind $k --subject "A $k" \
	    --content "$T/body.md" --at "2026-11-28 09:00" 2>&1); rc=$?
	expect_eq "item add --kind $k exits 0" "$rc" 0
done
at "2026-11-28 09:00:05"
"$CLARIOND" --once -c "$T/c.conf" 2>"$T/log"; rc=$?
expect_eq "clariond --once exits 0" "$rc" 0
for k in $kinds; do
	n=$(grep -l "^Subject: A $k" "$T"/outbox/new/* 2>/dev/null | wc -l)
	expect_eq "the $k reaches both members" "$n" 2
done
out=$($C run list 2>&1)
expect_not_contains "no run has held deliveries" "$out" "held"
expect_eq "the daemon held nothing" "$(grep -cE ' [1-9][0-9]* held' "$T/log")" 0
f=$(grep -l "^Subject: A message" "$T"/outbox/new/* | head -1)
body=$(/usr/bin/python3 -c 'import email,email.policy,sys; m=email.message_from_binary_file(open(sys.argv[1],"rb"),policy=email.policy.default); print(m.get_body(("plain",)).get_content())' "$f")
expect_contains "the message carries its Markdown content" "$body" "The AGM moves to 14 January."
expect_contains "and the footer with how to leave" "$body" "To leave, reply to this message"

# A templates directory without the message kind's: item add refuses.
mkdir "$T/tpl"
cp "$top_srcdir"/templates/*.mustache "$T/tpl/"
rm "$T/tpl/message.txt.mustache"
sed -i "s|^templates_dir = .*|templates_dir = \"$T/tpl\";|" "$T/c.conf"
out=$($C item add late --list members --kind message --subject S --content "$T/body.md" --at "2026-12-01 09:00" 2>&1); rc=$?
expect_eq "item add with its template missing exits 78" "$rc" 78
expect_eq "saying which file and why it matters" "$out" "clarion: item 'late' not saved: its template 'message' cannot be used, so every delivery would be held
clarion: $T/c.conf:4: templates_dir: $T/tpl/message.txt.mustache: No such file or directory (needed for template 'message')"
expect_not_contains "and the item is not saved" "$($C item list 2>&1)" "late"
out=$($C item add late --list members --kind newsletter --template nosuch --subject S --content "$T/body.md" --at "2026-12-01 09:00" 2>&1); rc=$?
expect_eq "a --template that does not exist exits 78" "$rc" 78
out=$($C item edit one-newsletter --template nosuch 2>&1); rc=$?
expect_eq "item edit to a missing template exits 78" "$rc" 78
expect_contains "the item keeps its template" "$($C item show one-newsletter 2>&1)" "newsletter"
done_testing
