#!/bin/sh
# make install into a DESTDIR, then run the installed programs against the
# installed sample configuration (its paths moved into the DESTDIR), then
# make uninstall: nothing of ours may be left behind but what the admin made.
. "$top_srcdir/tests/lib/common.sh"

command -v make >/dev/null 2>&1 || skip "make is not installed"
# Only make's own -j/jobserver flags matter to the installs below.
unset MAKEFLAGS MFLAGS MAKELEVEL || true
mk() { make -s -C "$top_builddir" "$@"; }

eval "$(mk ops-print-dirs | grep '^[a-z]*dir=')" || { echo "not ok - ops-print-dirs"; exit 1; }
R=$T/root
mk install DESTDIR="$R" >"$T/install.log" 2>&1; rc=$?
expect_eq "make install DESTDIR exits 0" "$rc" 0
[ "$rc" = 0 ] || { cat "$T/install.log"; done_testing; exit 1; }

check "clarion is in bindir" test -x "$R$bindir/clarion"
check "clariond is in sbindir" test -x "$R$sbindir/clariond"
check "clarion(1) installed" test -f "$R$mandir/man1/clarion.1"
check "clariond(8) installed" test -f "$R$mandir/man8/clariond.8"
check "clarion.conf(5) installed" test -f "$R$mandir/man5/clarion.conf.5"
check "the systemd unit installed" \
	test -f "$R$systemdsystemunitdir/clariond.service"
expect_eq "the unit runs the installed daemon" \
	"$(grep '^ExecStart=' "$R$systemdsystemunitdir/clariond.service")" \
	"ExecStart=$sbindir/clariond -c $sysconfdir/clarion/clarion.conf"
check "templates directory installed" test -d "$R$pkgdatadir/templates"
n_src=$(cd "$top_srcdir/templates" && find . -type f | wc -l)
n_inst=$(cd "$R$pkgdatadir/templates" && find . -type f | wc -l)
expect_eq "every file in templates/ installed" "$n_inst" "$n_src"

conf=$R$sysconfdir/clarion/clarion.conf
check "clarion.conf.sample installed" test -f "$conf.sample"
check "clarion.conf installed (none was there)" test -f "$conf"
expect_eq "clarion.conf is mode 0640" "$(stat -c %a "$conf")" 640
expect_eq "the sample is mode 0640" "$(stat -c %a "$conf.sample")" 640
state=$R$localstatedir/lib/clarion
check "state directory created" test -d "$state"
expect_eq "state directory is mode 0700" "$(stat -c %a "$state")" 700
db=$(sed -n 's/^database = "\(.*\)";$/\1/p' "$conf")
expect_eq "the sample's database is in the configured localstatedir" \
	"$db" "$localstatedir/lib/clarion/clarion.db"
expect_not_contains "the sample names no unconfigured /var/lib" \
	"$(grep -v "$localstatedir" "$conf")" '"/var/lib/'

# The admin's steps, on the installed files: every absolute path in the
# config moved into the DESTDIR; the relay passwords the sample names.
sed "s|\"/|\"$R/|" "$conf" > "$T/clarion.conf"
# The default templates_dir is where make install put them, in the DESTDIR
# here; check-config below then finds every template each kind needs.
echo "templates_dir = \"$R$pkgdatadir/templates\";" >> "$T/clarion.conf"
chmod 600 "$T/clarion.conf"
for f in $(sed -n 's/^ *password_file = "\(.*\)";$/\1/p' "$T/clarion.conf"); do
	(umask 077 && echo secret > "$f")
done
C="$R$bindir/clarion -c $T/clarion.conf"
out=$($C init 2>&1); rc=$?
expect_eq "installed clarion init exits 0" "$rc" 0
expect_contains "init made the database in the state dir" "$out" \
	"database: $state/clarion.db (new"
expect_contains "and the token secret" "$out" "token secret: $state/token.key (new"
out=$($C check-config 2>&1); rc=$?
expect_eq "installed clarion check-config exits 0" "$rc" 0
expect_contains "and says OK" "$out" "$T/clarion.conf: OK"
out=$("$R$sbindir/clariond" -n -c "$T/clarion.conf" 2>&1); rc=$?
expect_eq "installed clariond -n exits 0" "$rc" 0
out=$("$R$sbindir/clariond" --once -c "$T/clarion.conf" 2>&1); rc=$?
expect_eq "installed clariond --once exits 0" "$rc" 0
expect_contains "and logs its start to stderr in the foreground" "$out" \
	"clariond 0."
out=$($C status 2>&1); rc=$?
expect_eq "installed clarion status exits 0" "$rc" 0
expect_contains "status reads the installed database" "$out" \
	"daemon:         not running"
check "status shows the daemon's last tick was recorded" \
	test "$($C status --json | /usr/bin/python3 -c \
	    'import json,sys; print(json.load(sys.stdin)["daemon"]["last_tick"] > 0)')" = True

# Reinstall over an edited config: the edit stays (a conffile).
echo '# edited by the admin' >> "$conf"
mk install DESTDIR="$R" >"$T/install2.log" 2>&1; rc=$?
expect_eq "make install again exits 0" "$rc" 0
expect_contains "reinstall keeps the edited clarion.conf" "$(tail -1 "$conf")" \
	"# edited by the admin"

mk uninstall DESTDIR="$R" >"$T/uninstall.log" 2>&1; rc=$?
expect_eq "make uninstall exits 0" "$rc" 0
left=$(cd "$R" && find . -type f | sort | tr '\n' ' ')
want=$(cd "$R" && find ".$localstatedir/lib/clarion" ".$sysconfdir/clarion/clarion.conf" \
	$(for f in $(sed -n 's/^ *password_file = "\(.*\)";$/\1/p' "$T/clarion.conf"); do
		echo ".${f#"$R"}"; done) -type f | sort | tr '\n' ' ')
expect_eq "uninstall leaves only the state, the edited config and the passwords" \
	"$left" "$want"

# A fresh install and uninstall leaves no file at all.
R2=$T/root2
mk install DESTDIR="$R2" >"$T/install3.log" 2>&1 &&
	mk uninstall DESTDIR="$R2" >"$T/uninstall3.log" 2>&1; rc=$?
expect_eq "install then uninstall exits 0" "$rc" 0
expect_eq "and leaves no file behind" "$(find "$R2" -type f | wc -l)" 0
expect_eq "nor the empty state directory" \
	"$(test -d "$R2$localstatedir/lib/clarion" && echo left)" ""
done_testing
