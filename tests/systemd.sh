#!/bin/sh
# The systemd unit make generates: systemd-analyze verify passes on it
# (its Exec paths pointed at the built daemon, its Documentation= pages
# found in doc/), and its hardening keeps systemd's exposure score low.
. "$top_srcdir/tests/lib/common.sh"

command -v systemd-analyze >/dev/null 2>&1 ||
	skip "systemd-analyze is not installed (package systemd)"
command -v make >/dev/null 2>&1 || skip "make is not installed"
unset MAKEFLAGS MFLAGS MAKELEVEL || true
eval "$(make -s -C "$top_builddir" ops-print-dirs | grep '^[a-z]*dir=')" ||
	{ echo "not ok - ops-print-dirs"; exit 1; }
unit=$top_builddir/clariond.service
check "make generated the unit" test -f "$unit"
[ -f "$unit" ] || { done_testing; exit 1; }

for k in Type=notify User=clarion Group=clarion StateDirectory=clarion \
    StateDirectoryMode=0700 ConfigurationDirectory=clarion \
    ProtectSystem=strict ProtectHome=yes NoNewPrivileges=yes PrivateTmp=yes \
    'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' \
    SystemCallFilter=@system-service CapabilityBoundingSet= UMask=0077 \
    'ExecReload=/bin/kill -HUP $MAINPID' Restart=on-failure; do
	expect_eq "the unit sets $k" "$(grep -cxF "$k" "$unit")" 1
done
expect_eq "ExecStartPre checks the configuration" \
	"$(grep '^ExecStartPre=' "$unit")" \
	"ExecStartPre=$sbindir/clariond -n -c $sysconfdir/clarion/clarion.conf"
expect_eq "no @placeholder@ is left" "$(grep -c '@[a-z]*@' "$unit")" 0

# verify needs the ExecStart binary to exist and the Documentation= pages
# to be found by man.
mkdir -p "$T/units" "$T/man/man1" "$T/man/man5" "$T/man/man8"
for p in clarion.1 clarion.conf.5 clariond.8; do
	ln -s "$top_srcdir/doc/$p" "$T/man/man${p##*.}/$p"
done
sed "s|^\(Exec[A-Za-z]*=\)$sbindir/|\1$top_builddir/|" "$unit" \
	> "$T/units/clariond.service"
out=$(MANPATH=$T/man systemd-analyze verify "$T/units/clariond.service" 2>&1); rc=$?
expect_eq "systemd-analyze verify exits 0" "$rc" 0
expect_eq "and says nothing" "$out" ""

# A broken copy must fail, or the check above proves nothing.
sed 's/^Type=notify$/Type=notifyy/' "$T/units/clariond.service" \
	> "$T/units/broken.service"
out=$(MANPATH=$T/man systemd-analyze verify "$T/units/broken.service" 2>&1)
expect_contains "verify catches a bad Type=" "$out" "notifyy"

out=$(systemd-analyze security --offline=true "$T/units/clariond.service" 2>&1)
score=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
check "systemd-analyze security gives a score" test -n "$score"
check "exposure $score is at most 2.0 (OK)" \
	awk -v s="${score:-99}" 'BEGIN { exit !(s <= 2.0) }'
done_testing
