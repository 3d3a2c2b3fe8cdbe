#!/bin/sh
# gen-certs.sh DIR: a test CA (ca.pem), a server certificate for localhost
# and 127.0.0.1 signed by it (server.pem, server.key), and an unrelated CA
# (other-ca.pem) for "wrong CA" tests. Shared by the SMTP and IMAP tests.
set -eu
D=$1
mkdir -p "$D"
cd "$D"
[ -s server.pem ] && [ -s ca.pem ] && [ -s other-ca.pem ] && exit 0
q() { "$@" >/dev/null 2>&1; }
q openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=Test CA" \
	-keyout ca.key -out ca.pem \
	-addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,keyCertSign,cRLSign"
q openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
	-keyout server.key -out server.csr
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' > server.ext
q openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
	-days 3650 -extfile server.ext -out server.pem
q openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=Other CA" \
	-keyout other-ca.key -out other-ca.pem
chmod 600 ca.key server.key other-ca.key
