#!/usr/bin/python3
# dkim-verify.py TXTFILE MESSAGE: verifies MESSAGE's DKIM-Signature with
# dkimpy (an implementation independent of libopendkim), the public key
# taken from TXTFILE (clarion dkim keygen's output) instead of DNS.
# Prints "ok" or "fail", then the signed header names (h=).
import re, sys
import dkim

txt = open(sys.argv[1]).read()
# The record: the quoted strings between "IN TXT (" and ")".
txt = re.search(r"IN TXT \((.*?)\)", txt, re.S).group(1)
record = "".join(re.findall(r'"([^"]*)"', txt)).encode()
msg = open(sys.argv[2], "rb").read()
# The outbox writes the envelope first, as a delivering MDA would.
ok = dkim.verify(msg, dnsfunc=lambda name, timeout=5: record)
print("ok" if ok else "fail")
sig = dkim.util.parse_tag_value(
    re.search(rb"^DKIM-Signature:(.*?)\r?\n(?![ \t])", msg,
              re.M | re.S).group(1).replace(b"\r\n", b""))
print(" ".join(sorted(set(h.strip().lower().decode()
                          for h in sig[b"h"].split(b":")))))
print(sig[b"a"].decode(), sig[b"c"].decode(), sig[b"d"].decode(),
      sig[b"s"].decode())
