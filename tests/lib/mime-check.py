#!/usr/bin/python3
"""Builds messages with tests/mime_dump and reads them back with Python's
email package (policy.default), as a receiving mail client would: parts,
content types, decoded headers and bodies must equal what went in, and no
field may smuggle in a header or a boundary.

usage: mime-check.py MIME_DUMP WORKDIR"""
import base64
import json
import random
import re
import subprocess
import sys
from email import policy
from email.parser import BytesParser

DUMP, WORK = sys.argv[1], sys.argv[2]
failures = 0
count = 0


def check(cond, what):
    global failures, count
    count += 1
    if not cond:
        failures += 1
        print(f"FAIL: {what}")


BASE = {
    "from_name": "Hillside CLP", "from_addr": "news@example.org",
    "to_name": "Sam Member", "to_addr": "sam@example.net",
    "subject": "Weekly bulletin", "message_id": "d1.r2@example.org",
    "date": 1765152000, "text": "Hello\n", "boundary_seed": "d1.r2@example.org",
}


def build(name, **fields):
    desc = dict(BASE)
    desc.update(fields)
    desc = {k: v for k, v in desc.items() if v is not None}
    path = f"{WORK}/{name}.json"
    with open(path, "w") as f:
        json.dump(desc, f)
    r = subprocess.run([DUMP, path], capture_output=True)
    return r.returncode, r.stdout, r.stderr.decode(errors="replace"), desc


def crlf(s):
    return re.sub(r"\r\n|\r|\n", "\r\n", s)


def wire_rules(name, raw):
    """CRLF only, lines within limits, encoded words within 75 and whole."""
    lines = raw.split(b"\r\n")
    check(raw.endswith(b"\r\n"), f"{name}: ends with CRLF")
    check(all(b"\n" not in l and b"\r" not in l for l in lines),
          f"{name}: no bare CR or LF")
    check(all(len(l) <= 998 for l in lines), f"{name}: no line over 998")
    head, _, body = raw.partition(b"\r\n\r\n")
    check(all(len(l) <= 78 + 10 for l in head.split(b"\r\n")),
          f"{name}: header lines folded near 78")
    check(all(len(l) <= 76 for l in body.split(b"\r\n")),
          f"{name}: body lines within 76 (QP)")
    check(all(b < 128 for b in raw), f"{name}: 7-bit clean")
    for w in re.findall(rb"=\?[^?]+\?[QqBb]\?[^?]*\?=", head):
        check(len(w) <= 75, f"{name}: encoded word {w[:20]!r}... <= 75")
        payload = w.split(b"?")[3]
        if w.split(b"?")[2] in (b"B", b"b"):
            data = base64.b64decode(payload)
        else:
            data = re.sub(rb"=([0-9A-F]{2})",
                          lambda m: bytes([int(m[1], 16)]),
                          payload.replace(b"_", b" "))
        try:
            data.decode("utf-8")
            ok = True
        except UnicodeDecodeError:
            ok = False
        check(ok, f"{name}: encoded word {w!r} holds whole UTF-8 characters")


def parse(raw):
    return BytesParser(policy=policy.default).parsebytes(raw)


def leaves(msg):
    return [p for p in msg.walk() if not p.is_multipart()]


def roundtrip(name, **fields):
    rc, raw, err, desc = build(name, **fields)
    check(rc == 0, f"{name}: built ({err.strip()})")
    if rc != 0:
        return None, desc
    wire_rules(name, raw)
    msg = parse(raw)
    check(not msg.defects, f"{name}: no parser defects {msg.defects}")
    parts = leaves(msg)
    want = [("text/plain", desc["text"])]
    if "html" in desc:
        want.append(("text/html", desc["html"]))
    if "ics" in desc:
        want.append(("text/calendar", desc["ics"]))
    types = [w[0] for w in want]
    if "ics" in desc:
        # The invite again as invite.ics, for clients that ignore the
        # calendar alternative: multipart/mixed around the alternative.
        types.append("application/ics")
    check([p.get_content_type() for p in parts] == types,
          f"{name}: parts {[p.get_content_type() for p in parts]}")
    if "ics" in desc and len(parts) == len(types):
        a = parts[-1]
        check(msg.get_content_type() == "multipart/mixed",
              f"{name}: multipart/mixed")
        check(a.get_content_disposition() == "attachment" and
              a.get_filename() == "invite.ics",
              f"{name}: invite.ics is an attachment")
        check(a.get_content().decode("utf-8") == crlf(desc["ics"]),
              f"{name}: invite.ics holds the invite")
    elif len(want) > 1:
        check(msg.get_content_type() == "multipart/alternative",
              f"{name}: multipart/alternative")
    for p, (ctype, body) in zip(parts, want):
        check(p.get_content_charset() == "utf-8", f"{name}: {ctype} UTF-8")
        check(p["content-transfer-encoding"] == "quoted-printable",
              f"{name}: {ctype} quoted-printable")
        check(not p.defects, f"{name}: {ctype} no defects {p.defects}")
        got = p.get_content()
        check(got == crlf(body), f"{name}: {ctype} body round-trips: "
              f"{got[:60]!r} vs {crlf(body)[:60]!r}")
    return msg, desc


def names(msg):
    return [k.lower() for k in msg.keys()]


# Accents, pound signs, emoji everywhere a person's text can go.
text = ("Dear Zoë,\n\nThe £5 levy: grève générale 🚩✊ on Monday.\n"
        "Ünïcödé at the end of a line: é\nFrom here on, tabs\tand spaces  \n")
msg, d = roundtrip(
    "accents", subject="Grève générale: £5 levy ✊🚩 and more",
    from_name="Comité d'Hillside", to_name="Zoë Ødegård-Smith",
    list_id="Membres à Hillside <members.example.org>",
    text=text, html="<p>Dear Zoë, £5 🚩</p>\n",
    ics="BEGIN:VCALENDAR\r\nVERSION:2.0\r\nSUMMARY:Réunion\r\nEND:VCALENDAR\r\n",
    ics_method="REQUEST")
if msg:
    check(msg["subject"] == d["subject"], f"accents: subject {msg['subject']!r}")
    check(msg["from"].addresses[0].display_name == d["from_name"],
          "accents: From display name")
    check(msg["from"].addresses[0].addr_spec == d["from_addr"], "accents: From")
    check(msg["to"].addresses[0].display_name == d["to_name"],
          "accents: To display name")
    check(str(msg["list-id"]) == d["list_id"], f"accents: List-Id {msg['list-id']}")
    cal = leaves(msg)[2]
    check(cal.get_param("method") == "REQUEST", "accents: method=REQUEST")

# 40 emoji: the subject must split into several words, never mid-character.
msg, d = roundtrip("emoji", subject="🚩" * 40, to_name="✊" * 30)
if msg:
    check(msg["subject"] == d["subject"], "emoji: subject")
    # Python 3.11 puts a space between adjacent encoded words in a display
    # name (RFC 2047 says to ignore it; it does so even for its own output).
    check(msg["to"].addresses[0].display_name.replace(" ", "") == d["to_name"],
          "emoji: name")

# Long words and lines.
long_word = "x" * 300
msg, d = roundtrip("long", subject="Word " + long_word + " end",
                   text=("y" * 5000 + "\n") * 3 + "short\n" + "z" * 77,
                   html="<p>" + "w" * 2000 + "</p>")
if msg:
    check(msg["subject"] == d["subject"], "long: subject with a 300-char word")
msg, d = roundtrip("long-ascii", subject=("many short words " * 30).strip())
if msg:
    check(msg["subject"] == d["subject"], "long-ascii: folded plain subject")

# Text ending without a newline, blank lines, lone CRs, a lone dot.
msg, d = roundtrip("edges", text="one\r\ntwo\rthree\n\n.\nFrom me\nlast", html="")

# Boundary-looking content: parts must stay exactly three.
rc, raw, err, _ = build("probe", html="x", ics="x", ics_method="REQUEST")
boundary = re.search(rb'boundary="([^"]+)"', raw)[1].decode()
evil = f"--{boundary}\nContent-Type: text/html\n\n<script>\n--{boundary}--\n=_ =_x\n"
msg, d = roundtrip("boundary", text=evil, html=evil,
                   ics=evil, ics_method="REQUEST")
if msg:
    check(len(leaves(msg)) == 4, "boundary: still three parts and invite.ics")

# Header injection: people's text is cleaned, anything else refused.
msg, d = roundtrip("inject-text",
                   subject="Hello\r\nBcc: victim@example.com",
                   from_name="Evil\r\nX-Injected: yes",
                   to_name="Sam\nContent-Type: text/html",
                   list_id="Members\r\nX-Evil: 1 <members.example.org>")
if msg:
    check("bcc" not in names(msg) and "x-injected" not in names(msg) and
          "x-evil" not in names(msg), f"inject-text: no injected header {names(msg)}")
    check(msg["subject"] == "Hello Bcc: victim@example.com",
          f"inject-text: controls in the subject became a space: {msg['subject']!r}")
    check(msg["from"].addresses[0].display_name == "Evil X-Injected: yes",
          "inject-text: display name kept as text")
    check(msg.get_all("content-type") == ["multipart/alternative"] or
          len(msg.get_all("content-type")) == 1, "inject-text: one Content-Type")

for field, value in [
        ("to_addr", "sam@example.net\r\nBcc: victim@example.com"),
        ("from_addr", "news@example.org\nBcc: x@y.z"),
        ("reply_to", "reply@example.org\r\nX-Evil: 1"),
        ("message_id", "d1@example.org>\r\nBcc: <x@y.z"),
        ("in_reply_to", "a@b.c\r\nX-Evil: 1"),
        ("references", "a@b.c\nX-Evil: 1"),
        ("list_unsubscribe", "<mailto:u@example.org>\r\nX-Evil: 1"),
        ("list_id", "Members <members.example.org\r\nX-Evil: 1>"),
        ("auto_submitted", "auto-generated\r\nX-Evil: 1"),
        ("ics_method", "REQUEST\r\nX-Evil: 1"),
        ("to_addr", "sam@exa mple.net"),
        ("to_addr", "<sam@example.net>"),
        ("to_addr", "Sam <sam@example.net>"),
        ("message_id", "no-at-sign")]:
    extra = {"ics": "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"} \
        if field == "ics_method" else {}
    rc, raw, err, _ = build("refuse", **{field: value}, **extra)
    check(rc == 65 and raw == b"", f"refused {field}={value!r} (rc {rc})")
    check(err.strip() != "", f"refused {field}: says why ({err.strip()})")

# All the optional headers, ASCII.
msg, d = roundtrip("headers", reply_to="reply+tok@example.org",
                   in_reply_to="orig.1@example.com",
                   references="a.1@example.com b.2@example.com orig.1@example.com",
                   list_id="Members <members.example.org>",
                   list_unsubscribe="<mailto:unsubscribe+TOKEN@example.org>, "
                                    "<https://example.org/unsubscribe/TOKEN>",
                   one_click=True, bulk=True, auto_submitted="auto-generated",
                   test=True, html="<p>Hi</p>")
if msg:
    check(msg["reply-to"].addresses[0].addr_spec == "reply+tok@example.org", "Reply-To")
    check(msg["in-reply-to"] == "<orig.1@example.com>", "In-Reply-To")
    check(msg["references"].split() == ["<a.1@example.com>", "<b.2@example.com>",
                                         "<orig.1@example.com>"], "References")
    check(msg["message-id"] == "<d1.r2@example.org>", "Message-ID")
    check(msg["list-unsubscribe-post"] == "List-Unsubscribe=One-Click", "one click")
    check(msg["precedence"] == "bulk", "Precedence")
    check(msg["auto-submitted"] == "auto-generated", "Auto-Submitted")
    check(msg["x-clarion-test"] == "yes", "X-Clarion-Test")
    check(msg["mime-version"] == "1.0", "MIME-Version")
    check(msg["date"].datetime.timestamp() == d["date"], "Date")
    check(re.sub(r"\s+", " ", str(msg["list-unsubscribe"])) ==
          d["list_unsubscribe"], f"List-Unsubscribe {msg['list-unsubscribe']!r}")

# Without HTML: one text/plain part, no multipart.
msg, d = roundtrip("text-only", text="Just text, £1\n")
if msg:
    check(msg.get_content_type() == "text/plain" and not msg.is_multipart(),
          "text-only: a single text/plain body")

# Random subjects (fixed seed): whatever the mix of scripts, emoji,
# quotes, long words and look-alike encoded words, they read back the same.
rng = random.Random(2026)
pieces = ["Strike", "grève", "£5", "🚩", "✊🏽", "Ødegård", "\"quoted\"",
          "=?UTF-8?Q?x?=", "a_b", "?", "=", "x" * 90, "日本語", "Ünïcödé",
          "tab\there", "(paren)", "<angle>", "semi;colon", "a,b", "ü" * 40]
for i in range(40):
    subject = " ".join(rng.choice(pieces) for _ in range(rng.randint(1, 12)))
    msg, d = roundtrip(f"random{i}", subject=subject)
    if msg:
        want = " ".join(subject.replace("\t", " ").split())
        check(msg["subject"] == want, f"random subject {i}: {subject!r} "
              f"read back as {msg['subject']!r}")

# Same input, same bytes.
a = build("det1", html="<p>x</p>")[1]
b = build("det2", html="<p>x</p>")[1]
check(a == b and a != b"", "the same description gives the same bytes")

print(f"{count - failures}/{count} checks passed")
sys.exit(1 if failures else 0)
