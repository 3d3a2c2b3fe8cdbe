#!/usr/bin/python3
"""Renders every shipped template through tests/mime_dump with the sample
data in tests/data/compose/*.json and reads the message back: the parts a
member sees must hold the expected text ("expect_text", "expect_html",
"expect_ics" in each description), nothing left unrendered, and the HTML
must follow the house rules (one column, inline styles, colour schemes).

usage: templates-check.py MIME_DUMP DATA_DIR TEMPLATES_DIR"""
import glob
import json
import os
import subprocess
import sys
from email import policy
from email.parser import BytesParser

DUMP, DATA, TEMPLATES = sys.argv[1:4]
failures = count = 0


def check(cond, what):
    global failures, count
    count += 1
    if not cond:
        failures += 1
        print(f"FAIL: {what}")


used = set()
for path in sorted(glob.glob(f"{DATA}/*.json")):
    name = os.path.basename(path)[:-5]
    desc = json.load(open(path))
    used.add(desc["template"])
    r = subprocess.run([DUMP, path], capture_output=True)
    check(r.returncode == 0, f"{name}: built ({r.stderr.decode().strip()})")
    if r.returncode != 0:
        continue
    msg = BytesParser(policy=policy.default).parsebytes(r.stdout)
    parts = {p.get_content_type(): p.get_content().replace("\r\n", "\n")
             for p in msg.walk() if not p.is_multipart() and
             p.get_content_maintype() == "text"}
    text, html = parts.get("text/plain", ""), parts.get("text/html", "")
    check("{{" not in text and "{{" not in html, f"{name}: no tag left")
    for want in desc.get("expect_text", []):
        check(want in text, f"{name}: text part has {want!r}")
    for want in desc.get("expect_html", []):
        check(want in html, f"{name}: HTML part has {want!r}")
    for want in desc.get("expect_ics", []):
        check(want in parts.get("text/calendar", ""),
              f"{name}: calendar part has {want!r}")
    check("<p" not in text and "&amp;" not in text,
          f"{name}: the text part holds no HTML")
    check(html.startswith("<!DOCTYPE html>") and '<html lang="en">' in html,
          f"{name}: HTML is a whole document with a language")
    check('<meta name="color-scheme" content="light dark">' in html,
          f"{name}: HTML declares light and dark colour schemes")
    check("max-width:600px" in html and 'name="viewport"' in html,
          f"{name}: one column, at most 600px, phone viewport")
    for bad in ("<img", "<script", "<style", "<link", "<font", "<center"):
        # Images come only from the officer's Markdown, never a template.
        if bad == "<img" and "![" in desc.get("markdown", ""):
            check(html.count("<img") == desc["markdown"].count("!["),
                  f"{name}: only the content's images")
            continue
        check(bad not in html, f"{name}: HTML has no {bad}")
    check(html.count("<div") == html.count("</div>"),
          f"{name}: HTML divs balance")
    check(html.rstrip().endswith("</html>"), f"{name}: HTML is closed")

# Every member-facing template says why and how to leave, in both parts.
for name in ("bulletin", "newsletter", "message", "notice", "reminder"):
    check(name in used, f"{name}: has sample data")

for path in sorted(glob.glob(f"{TEMPLATES}/*.mustache")):
    base = os.path.basename(path).split(".")[0]
    check(base.startswith("_") or base in used,
          f"{os.path.basename(path)}: is rendered by a sample")

print(f"{count - failures}/{count} checks passed")
sys.exit(1 if failures else 0)
