#!/usr/bin/python3
# imap-inject.py PORT LOG: a fake IMAP server for the STARTTLS response
# injection test (CVE-2020-15953). It offers STARTTLS, answers it with
# "OK" and, in the same packet, an untagged line the client must not
# trust; then records what the client sends next (it must not be a LOGIN)
# and closes. One connection, then it exits.
import socket, sys

port, log = int(sys.argv[1]), sys.argv[2]
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port))
srv.listen(1)
open(log + ".ready", "w").close()
srv.settimeout(30)
conn, _ = srv.accept()
conn.settimeout(10)
f = conn.makefile("rb")
conn.sendall(b"* OK [CAPABILITY IMAP4rev1 STARTTLS LOGIN-REFERRALS] fake ready\r\n")
seen = []
for line in f:
    seen.append(line.decode("latin-1").rstrip("\r\n"))
    tag, _, cmd = line.decode("latin-1").partition(" ")
    if cmd.upper().startswith("STARTTLS"):
        conn.sendall(tag.encode() + b" OK Begin TLS negotiation now\r\n"
                     b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] injected\r\n")
        try:
            more = conn.recv(4096)
        except socket.timeout:
            more = b""
        seen.append("AFTER:" + more.decode("latin-1").replace("\r\n", "|"))
        break
    conn.sendall(tag.encode() + b" OK done\r\n")
conn.close()
with open(log, "w") as out:
    out.write("\n".join(seen) + "\n")
