#!/usr/bin/python3
# headers-check.py MAILDIR_NEW: for every message, print one line
#   FILE to=N headers=NAME,NAME,... injected=yes|no
# "injected" is yes if any header field is one a hostile value tried to
# add (Bcc, Cc, X-Injected, a second To/From/Subject) or if a header value
# holds a bare CR or LF after unfolding. Read with Python's email package
# and, separately, from the raw bytes, so a lenient parser hides nothing.
import email, email.policy, os, re, sys

BAD = {"bcc", "cc", "x-injected", "content-type-injected"}
d = sys.argv[1]
for f in sorted(os.listdir(d)):
    raw = open(os.path.join(d, f), "rb").read()
    head = raw.split(b"\r\n\r\n", 1)[0] if b"\r\n\r\n" in raw else raw.split(b"\n\n", 1)[0]
    names = [m.group(1).decode("ascii", "replace").lower()
             for m in re.finditer(rb"(?m)^([!-9;-~]+):", head)]
    m = email.message_from_bytes(raw, policy=email.policy.default)
    parsed = [k.lower() for k in m.keys()]
    bad = any(n in BAD for n in names + parsed)
    for once in ("to", "from", "subject", "date", "message-id"):
        if names.count(once) > 1 or parsed.count(once) > 1:
            bad = True
    for k, v in m.items():
        if "\r" in str(v) or "\n" in str(v):
            bad = True
    to = m.get_all("To") or []
    n = sum(len(h.addresses) for h in to)
    print(f, "to=%d" % n, "headers=" + ",".join(sorted(set(parsed))),
          "injected=" + ("yes" if bad else "no"))
    print("#  Subject:", m["Subject"], "| To:", m["To"], "| From:", m["From"],
          file=sys.stderr)
