#!/bin/sh
# start-dovecot.sh DIR IMAP_PORT IMAPS_PORT [USER PASS]: a private Dovecot
# on 127.0.0.1 serving DIR/mail (Maildir), passwd-file auth, the
# certificate DIR/server.pem (see gen-certs.sh). Works as root (mail owned
# by nobody) and as a normal user. Nothing under /etc/dovecot is read.
# Wait for it with wait-imap.sh; stop it with stop-dovecot.sh.
set -eu
D=$(cd "$1" && pwd); P_IMAP=$2; P_IMAPS=$3; U=${4:-testuser}; PW=${5:-testpass}
[ ${#D} -le 78 ] || { echo "DIR too long for Dovecot's unix sockets: $D" >&2; exit 1; }
mkdir -p "$D/run" "$D/state" "$D/mail"
if [ "$(id -u)" = 0 ]; then
	# root: keep the packaged dovecot/dovenull service users
	MU=${DOVECOT_MAIL_USER:-nobody}; MUID=$(id -u "$MU"); MGID=$(id -g "$MU")
	chown "$MUID:$MGID" "$D/mail"; chmod 755 "$D"; SVC_USERS=""
else
	MUID=$(id -u); MGID=$(id -g)
	SVC_USERS="default_internal_user = $(id -un)
default_internal_group = $(id -gn)
default_login_user = $(id -un)"
fi
printf '%s:{PLAIN}%s:%s:%s::%s/mail/%s\n' "$U" "$PW" "$MUID" "$MGID" "$D" "$U" > "$D/users"
cat > "$D/dovecot.conf" <<CONF
protocols = imap
listen = 127.0.0.1
base_dir = $D/run
state_dir = $D/state
instance_name = dovecot-test-$P_IMAPS
log_path = $D/dovecot.log
$SVC_USERS
ssl = yes
ssl_cert = <$D/server.pem
ssl_key = <$D/server.key
auth_mechanisms = plain login
auth_failure_delay = 0
mail_location = maildir:~/Maildir
first_valid_uid = 1
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $D/users
}
userdb {
  driver = passwd-file
  args = username_format=%u $D/users
}
service imap-login {
  chroot =
  service_count = 0
  process_min_avail = 1
  inet_listener imap {
    address = 127.0.0.1
    port = $P_IMAP
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $P_IMAPS
    ssl = yes
  }
}
service anvil {
  chroot =
}
service ipc {
  chroot =
}
service imap-urlauth-login {
  chroot =
}
${DOVECOT_EXTRA:-}
CONF
setsid /usr/sbin/dovecot -c "$D/dovecot.conf" -F >>"$D/dovecot.stdout" 2>&1 &
echo $! > "$D/dovecot.pid"
