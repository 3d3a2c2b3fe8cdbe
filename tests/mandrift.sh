#!/bin/sh
# The drift test for clarion(1): every command and subcommand the program
# offers is documented, and nothing else is. Commands come from
# `clarion --help`; subcommands from each `clarion CMD --help`, whose usage
# lines read "usage: clarion CMD SUB ..." and "       clarion CMD SUB ...".
# The page documents each as an item ".It Cm CMD SUB" (or ".It Cm CMD" for a
# command without subcommands), arguments following as other macros.
. "$top_srcdir/tests/lib/common.sh"

page=$top_srcdir/doc/clarion.1
CLARION_CONFIG=$T/none.conf; export CLARION_CONFIG

# usage_paths CMD: "CMD" or "CMD SUB" for each usage line of CMD's help.
# Usage lines are "usage: clarion CMD ..." and the "       clarion CMD ..."
# lines under it (indented continuations are skipped); "a|b" is both.
usage_paths() {
	awk -v cmd="$1" '
	/^usage: clarion / { on = 1 }
	on && !/^usage: / && !/^ / { on = 0 }
	on && (/^usage: clarion / || /^ +clarion /) {
		for (i = 1; i <= NF && $i != "clarion"; i++) ;
		for (i++; i <= NF && $i != cmd; i++) ;
		if (i > NF) next
		if (i < NF && $(i + 1) ~ /^[a-z][a-z0-9-]*(\|[a-z][a-z0-9-]*)*$/) {
			n = split($(i + 1), subs, "|")
			for (j = 1; j <= n; j++) print cmd " " subs[j]
		} else
			print cmd
	}' | sort -u
}

# The items of the page: the lower-case words after ".It Cm", up to the
# first other macro or argument.
doc_paths() {
	awk '
	/^\.It Cm / {
		p = ""
		for (i = 3; i <= NF && $i ~ /^[a-z][a-z0-9-]*$/; i++)
			p = p (p == "" ? "" : " ") $i
		if (p != "") print p
	}' "$page" | sort -u
}

check "clarion.1 exists" test -f "$page"
help=$("$CLARION" --help); rc=$?
expect_eq "clarion --help exits 0" "$rc" 0
cmds=$(printf '%s\n' "$help" | awk '/^commands:/ { on = 1; next }
	on && /^  [a-z]/ { print $1 } on && /^$/ { on = 0 }')
check "clarion --help lists commands" test -n "$cmds"

: > "$T/want"
for c in $cmds; do
	out=$("$CLARION" "$c" --help 2>&1); rc=$?
	expect_eq "clarion $c --help exits 0" "$rc" 0
	printf '%s\n' "$out" | usage_paths "$c" > "$T/paths"
	check "clarion $c --help has a usage line for $c" test -s "$T/paths"
	cat "$T/paths" >> "$T/want"
	# A subcommand may have a help of its own naming more (with no
	# configuration, nothing can run by mistake).
	for s in $(sed -n 's/^[^ ]* //p' "$T/paths"); do
		"$CLARION" "$c" "$s" --help 2>/dev/null | usage_paths "$c" >> "$T/want"
	done
done
sort -u "$T/want" -o "$T/want"
doc_paths > "$T/doc"

while read -r p; do
	check "clarion.1 documents '$p' (.It Cm $p)" grep -qxF "$p" "$T/doc"
done < "$T/want"
while read -r p; do
	check "documented '$p' is a command clarion has" grep -qxF "$p" "$T/want"
done < "$T/doc"
done_testing
