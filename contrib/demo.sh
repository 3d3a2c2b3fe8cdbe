#!/bin/sh
# The embedded default, end to end: a database and an outbox Maildir under
# var/demo, a sample list, members, events and a weekly bulletin; then one
# pass of the daemon writes the messages into the outbox. No mail server.
# Run from the build directory: make demo
set -eu
top_srcdir=${top_srcdir:-.}
CONF="$top_srcdir/conf/demo.conf"
CLARION="./clarion -c $CONF"
mkdir -p "$top_srcdir/var/demo"
chmod 700 "$top_srcdir/var/demo"
$CLARION init
./clariond -c "$CONF" --once
n=$(ls "$top_srcdir/var/demo/outbox/new" 2>/dev/null | wc -l)
echo
echo "clariond ran once: $n message(s) in $top_srcdir/var/demo/outbox/new"
echo "Open that folder as a Maildir in any mail client (mutt -f $top_srcdir/var/demo/outbox)."
echo "Run the daemon for real: ./clariond -c $CONF   (Ctrl-C stops it)"
