#!/bin/sh
# Newsletters that read well (issue 20), through the real daemon: GFM
# tables, strikethrough and autolinks; images that shrink to the column;
# headings one level under the template's <h1>; merge fields in the
# Markdown rendered and escaped (only plain ones); a hidden preheader from
# the content's first line; the column in a presentation table. A test
# send says [TEST] in the subject, is addressed to the officer without a
# member's name, and renders the next issue, not one dated today.
. "$top_srcdir/tests/lib/common.sh"
CLOCK="$T/clock"
export CLARION_CLOCK_FILE="$CLOCK"
at() { date -u -d "$1" +%s > "$CLOCK"; }
at "2026-11-27 12:00"
make_config "$T/c.conf"
C="$CLARION -c $T/c.conf"
$C init >/dev/null
$C list create members --from news@example.org --owner sec@example.org --display-name "Hillside CLP" >/dev/null
$C sub add zoe@example.org --list members --name "Zoë <Z> & Co" >/dev/null
cat > "$T/news.md" <<'MD'
# Picket news

Hello {{ subscriber.first_name }}, this one is for {{subscriber.name}}. ~~Cancelled~~ moved: see www.example.org.

| Ward | Turnout |
|------|--------:|
| Hill | 41% |

![Members at the depot](https://example.org/picket.jpg)
MD
printf 'Raw {{{subscriber.name}}} and {{subscriber.first_name}}.\n' > "$T/raw.md"
$C item add weekly --list members --kind newsletter --subject "News: {{run.date}}" \
    --content "$T/news.md" --rrule "FREQ=WEEKLY;BYDAY=MO;BYHOUR=8;BYMINUTE=0" --start 2026-11-30 >/dev/null 2>&1
$C item add raw --list members --kind message --subject "Raw" \
    --content "$T/raw.md" --at "2026-11-30 08:00" >/dev/null 2>&1

# The test send first: the next issue (Monday 30 November), to the officer.
out=$($C item test weekly --to sec@example.org 2>&1); rc=$?
expect_eq "item test exits 0" "$rc" 0
f=$(ls "$T"/outbox/new/* | head -1)
expect_eq "the test's subject says so, for the next issue" \
    "$(grep '^Subject:' "$f" | tr -d '\r')" "Subject: [TEST] News: Monday 30 November 2026"
expect_eq "To: the officer, without the member's name" "$(grep '^To:' "$f" | tr -d '\r')" "To: <sec@example.org>"

at "2026-11-30 08:00:05"
"$CLARIOND" --once -c "$T/c.conf" 2>"$T/log" || fail "clariond --once"
f=$(grep -l '^Subject: News' "$T"/outbox/new/* | xargs grep -L 'TEST' | head -1)
check "the newsletter is sent" test -n "$f"
/usr/bin/python3 - "$f" > "$T/parts" <<'PY'
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
open(sys.argv[1] + ".html", "w").write(m.get_body(("html",)).get_content())
open(sys.argv[1] + ".txt", "w").write(m.get_body(("plain",)).get_content())
PY
h=$(cat "$f.html") t=$(cat "$f.txt")
expect_contains "merge fields rendered in the HTML" "$h" "Hello Zoë, this one is for Zoë &lt;Z&gt; &amp; Co."
expect_contains "and in the text, unescaped" "$t" "Hello Zoë, this one is for Zoë <Z> & Co."
expect_not_contains "no tag is left" "$h$t" "{{"
expect_contains "a GFM table" "$h" "<td style=\"border:1px solid #cccccc;padding:6px 8px;vertical-align:top;\" align=\"right\">41%</td>"
expect_contains "the table in text" "$t" "Hill | 41%"
expect_contains "strikethrough" "$h" "<del>Cancelled</del>"
expect_contains "an autolink" "$h" "href=\"http://www.example.org\""
expect_contains "the image shrinks to the column" "$h" "<img width=\"560\" style=\"display:block;max-width:100%;height:auto;border:0;\" src=\"https://example.org/picket.jpg\""
expect_contains "the content's heading is under the template's h1" "$h" "<h2>Picket news</h2>"
expect_contains "the column is in a presentation table" "$h" "<table role=\"presentation\" width=\"100%\""
expect_contains "with a fixed width for desktop Outlook" "$h" "<!--[if mso]><table role=\"presentation\" width=\"600\""
expect_contains "a hidden preheader from the first line" "$h" "mso-hide:all;\">Picket news&#8199;"
f=$(grep -l '^Subject: Raw' "$T"/outbox/new/* | head -1)
expect_contains "unescaped or section tags in content are not merged" "$(cat "$f")" "{{{subscriber.name}}}"
done_testing
