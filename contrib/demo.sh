#!/bin/sh
# The embedded default, end to end: a database and an outbox Maildir under
# var/demo, a list, four members imported from CSV, two strikes and a ballot,
# a bulletin and a newsletter due now; then one pass of the daemon writes
# every message into the outbox. No mail server is needed.
# Run from the build directory: make demo
set -eu
top_srcdir=${top_srcdir:-.}
CONF="$top_srcdir/conf/demo.conf"
C="./clarion -c $CONF"
day() { TZ=Europe/London date -d "$1" +%Y-%m-%d; }
rm -rf "$top_srcdir/var/demo"
mkdir -p "$top_srcdir/var/demo"
chmod 700 "$top_srcdir/var/demo"
$C init
$C list create members --display-name "Hillside CLP" \
    --from news@example.org --owner secretary@example.org
$C sub import --list members --consent "Joined at the AGM, demo data" \
    "$top_srcdir/contrib/demo-members.csv"
$C event add --kind strike --title "UCU strike at Hillside College" \
    --start "$(day '+2 days') 08:00" --union UCU --employer "Hillside College" \
    --location "Main gate, Hillside Road"
$C event add --kind picket --title "Picket line at the bus depot" \
    --start "$(day '+3 days') 06:30" --union Unite --location "Depot gates"
$C event add --kind ballot --title "UNISON pay ballot closes" \
    --start "$(day '+5 days')" --union UNISON
now=$(TZ=Europe/London date +'%Y-%m-%d %H:%M')
$C item add bulletin --list members --kind bulletin --at "$now" \
    --subject "Strikes, ballots and picket lines this week"
$C item add newsletter --list members --kind newsletter --at "$now" \
    --segment "ward = 'Hillside'" --content "$(cd "$top_srcdir" && pwd)/contrib/demo-newsletter.md" \
    --subject "Hillside ward newsletter"
./clariond -c "$CONF" --once
n=$(ls "$top_srcdir/var/demo/outbox/new" | wc -l)
echo
echo "clariond ran once: $n messages in $top_srcdir/var/demo/outbox/new"
echo "(the bulletin to all four members, the newsletter to the two in Hillside ward)."
echo "Open that folder as a Maildir in any mail client: mutt -f $top_srcdir/var/demo/outbox"
echo "See what was done: ./clarion -c $CONF run list"
echo "Run the daemon for real: ./clariond -c $CONF   (Ctrl-C stops it)"
