#!/bin/sh
# Installs everything Clarion needs to build and test on Debian 12.
# Usage: sudo contrib/install-deps.sh   (or as root)
set -eu
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
# Postfix is installed only for smtp-sink/smtp-source: never let it configure a system MTA.
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends \
  build-essential autoconf automake libtool pkg-config clang libclang-rt-14-dev llvm-14 \
  libcurl4-gnutls-dev libetpan-dev libsqlite3-dev libconfig-dev libcmark-gfm-dev libcmark-gfm-extensions-dev \
  libical-dev libgnutls28-dev libidn2-dev libjansson-dev libsystemd-dev \
  libopendkim-dev python3-dkim python3-icalendar \
  chromium chromium-driver python3-selenium \
  sqlite3 ca-certificates curl openssl python3 python3-aiosmtpd \
  dovecot-core dovecot-imapd postfix swaks libnet-ssleay-perl libio-socket-ssl-perl \
  spamassassin mlmmj time mandoc systemd procps iproute2 git
# The packaged services are not needed: the tests start private instances on high ports.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  $SUDO systemctl disable --now dovecot.service dovecot.socket >/dev/null 2>&1 || true
fi
