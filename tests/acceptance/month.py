#!/usr/bin/python3
"""A month in the life of a CLP, driven through the real programs.

The real clariond runs against a real SMTP server (aiosmtpd, told to refuse
some recipients) and a real Dovecot, on loopback, with a simulated clock
(CLARION_CLOCK_FILE) advanced from late November to late December 2026.
Officers act only through the `clarion` command; members act only by mail
(replies, bounces and complaints appended to the IMAP mailbox). At the end
the test asserts, from what the SMTP server received and what the IMAP
folders hold, exactly who got what.

Usage: month.py WORKDIR CLARION CLARIOND SMTP_PORT IMAPS_PORT DOVECOT_DIR
Prints TAP; exits 0 when every assertion holds.
"""
import calendar
import email
import email.policy
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from email.message import EmailMessage

W, CLARION, CLARIOND, SMTP_PORT, IMAPS_PORT, DC = sys.argv[1:7]
SINK = os.path.join(W, "sink", "Maildir")
CLOCK = os.path.join(W, "clock")
CONF = os.path.join(W, "clarion.conf")
CA = os.path.join(DC, "ca.pem")
WARDS = ["Hillside", "Riverside", "Oakfield"]
N = 0
FAILED = 0


def ok(cond, what, detail=""):
    global N, FAILED
    N += 1
    print(("ok %d - %s" if cond else "not ok %d - %s") % (N, what), flush=True)
    if not cond:
        FAILED += 1
        if detail:
            for line in str(detail).splitlines()[:20]:
                print("#   " + line)


def is_eq(got, want, what):
    ok(got == want, what, "got:  %r\nwant: %r" % (got, want))


def at(text):
    """Sets the simulated clock to a UTC time 'YYYY-MM-DD HH:MM'."""
    t = calendar.timegm(time.strptime(text, "%Y-%m-%d %H:%M"))
    with open(CLOCK + ".tmp", "w") as f:
        f.write("%d\n" % t)
    os.rename(CLOCK + ".tmp", CLOCK)


ENV = dict(os.environ, CLARION_CLOCK_FILE=CLOCK)


def clarion(*args, check=True):
    p = subprocess.run([CLARION, "-c", CONF] + list(args), env=ENV,
                       capture_output=True, text=True)
    if check and p.returncode != 0:
        ok(False, "clarion %s" % " ".join(args), p.stdout + p.stderr)
    return p


def wait(pred, what, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.3)
    ok(False, "timed out waiting: " + what)
    return False


class Daemon:
    def __init__(self):
        self.p = None
        self.log = open(os.path.join(W, "clariond.log"), "a")

    def start(self):
        self.p = subprocess.Popen([CLARIOND, "-c", CONF], env=ENV,
                                  stdout=self.log, stderr=self.log)

    def kill9(self):
        self.p.send_signal(signal.SIGKILL)
        self.p.wait()
        # The inbound child is its own process: it dies with its parent's
        # pipe, or we make sure of it.
        subprocess.run(["pkill", "-9", "-f", "clariond -c " + CONF])

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        return self.p.wait(timeout=30)


_parsed = {}


def sink():
    """Every message the SMTP server accepted: (rcpt, parsed message).
    Each file is parsed once: the test polls this often."""
    out = []
    for sub in ("new", "cur"):
        d = os.path.join(SINK, sub)
        for f in sorted(os.listdir(d)) if os.path.isdir(d) else []:
            if f not in _parsed:
                with open(os.path.join(d, f), "rb") as fh:
                    m = email.message_from_binary_file(fh, policy=email.policy.default)
                _parsed[f] = (m["X-Envelope-To"].strip().strip("<>").lower(), m)
            out.append(_parsed[f])
    return out


def received(subject_part, rcpt=None):
    return [(r, m) for r, m in sink() if subject_part in str(m["Subject"])
            and (rcpt is None or r == rcpt)]


def settled():
    """No delivery waiting or in flight (deferred ones may wait)."""
    p = clarion("status", "--json")
    import json
    d = json.loads(p.stdout)["deliveries"]
    return d.get("queued", 0) == 0 and d.get("sending", 0) == 0


def imap(*args):
    return subprocess.run(["curl", "-sS", "--cacert", CA, "-u", "testuser:testpass"] +
                          list(args), capture_output=True)


def append(msg):
    path = os.path.join(W, "append.eml")
    data = msg if isinstance(msg, bytes) else msg.as_bytes(policy=email.policy.SMTP)
    with open(path, "wb") as f:
        f.write(data)
    p = imap("imaps://127.0.0.1:%s/INBOX" % IMAPS_PORT, "-T", path)
    if p.returncode != 0:
        ok(False, "IMAP append", p.stderr.decode())


def folder_count(name):
    p = imap("imaps://127.0.0.1:%s/" % IMAPS_PORT, "-X",
             'STATUS "Clarion.%s" (MESSAGES)' % name)
    text = p.stdout.decode()
    if "MESSAGES" not in text:
        return 0
    return int(text.split("MESSAGES")[1].strip(" )\r\n"))


def inbox_empty():
    p = imap("imaps://127.0.0.1:%s/" % IMAPS_PORT, "-X", 'STATUS INBOX (MESSAGES)')
    return b"MESSAGES 0" in p.stdout


def message_to(addr, subject_part):
    got = received(subject_part, addr)
    return got[0][1] if got else None


def reply(member, orig, text, to=None):
    m = EmailMessage()
    m["From"] = member
    m["To"] = to or orig["Reply-To"]
    m["Subject"] = "Re: " + str(orig["Subject"])
    m["Message-ID"] = "<%d.%s@members.test>" % (random.randrange(10**9), member.split("@")[0])
    m["In-Reply-To"] = orig["Message-ID"]
    m["Date"] = email.utils.formatdate()
    m.set_content(text)
    return m


def quoted(orig):
    body = orig.get_body(("plain",)).get_content()
    return "\n".join("> " + l for l in body.splitlines()[:30])


def orig_headers(orig):
    return "".join("%s: %s\r\n" % (k, v) for k, v in orig.items()
                   if k.lower() in ("from", "to", "subject", "message-id", "date"))


def dsn(member, orig, status, diag):
    """A Postfix-style RFC 3464 report, as bytes."""
    env = orig["X-Envelope-From"].strip("<> ")
    b = "b%d" % random.randrange(10**9)
    return ("From: Mail Delivery System <MAILER-DAEMON@mx.members.test>\r\n"
            "To: %s\r\nSubject: Undelivered Mail Returned to Sender\r\n"
            "Message-ID: <dsn.%s@mx.members.test>\r\nAuto-Submitted: auto-replied\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: multipart/report; report-type=delivery-status; boundary=\"%s\"\r\n\r\n"
            "--%s\r\nContent-Type: text/plain\r\n\r\n"
            "This is the mail system at host mx.members.test.\r\n\r\n"
            "<%s>: %s\r\n\r\n"
            "--%s\r\nContent-Type: message/delivery-status\r\n\r\n"
            "Reporting-MTA: dns; mx.members.test\r\n\r\n"
            "Final-Recipient: rfc822; %s\r\nAction: failed\r\nStatus: %s\r\n"
            "Diagnostic-Code: smtp; %s\r\n\r\n"
            "--%s\r\nContent-Type: text/rfc822-headers\r\n\r\n"
            "Return-Path: <%s>\r\n%s\r\n--%s--\r\n" % (
                env, b, b, b, member, diag, b, member, status, diag, b, env,
                orig_headers(orig), b)).encode()


def arf(member, orig):
    """An RFC 5965 feedback report, as bytes."""
    env = orig["X-Envelope-From"].strip("<> ")
    b = "a%d" % random.randrange(10**9)
    return ("From: Yahoo! Mail AntiSpam Feedback <feedback@arf.mail.yahoo.test>\r\n"
            "To: abuse@clp.test\r\nSubject: FW: %s\r\n"
            "Message-ID: <arf.%s@yahoo.test>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/report; report-type=feedback-report; boundary=\"%s\"\r\n\r\n"
            "--%s\r\nContent-Type: text/plain\r\n\r\n"
            "This is an email abuse report for an email message received from you.\r\n\r\n"
            "--%s\r\nContent-Type: message/feedback-report\r\n\r\n"
            "Feedback-Type: abuse\r\nUser-Agent: Yahoo!-Mail-Feedback/1.0\r\nVersion: 1\r\n"
            "Original-Mail-From: <%s>\r\nOriginal-Rcpt-To: <%s>\r\n\r\n"
            "--%s\r\nContent-Type: text/rfc822-headers\r\n\r\n"
            "Return-Path: <%s>\r\n%s\r\n--%s--\r\n" % (
                orig["Subject"], b, b, b, b, env, member, b, env, orig_headers(orig), b)).encode()


def vacation(member, orig):
    m = EmailMessage()
    m["From"] = member
    m["To"] = orig["Reply-To"]
    m["Subject"] = "Out of Office: " + str(orig["Subject"])
    m["Auto-Submitted"] = "auto-replied"
    m["Message-ID"] = "<vac.%d@members.test>" % random.randrange(10**9)
    m.set_content("I am away until January with no access to email.\n")
    return m


def main():
    random.seed(1)
    daemon = Daemon()
    # Members: 500 across three wards, and some whose mail will go wrong.
    special = {
        "hard-1@members.test": "Riverside", "hard-2@members.test": "Hillside",
        "policy-1@members.test": "Oakfield", "slow-1@members.test": "Hillside",
        "dsnhard@members.test": "Riverside", "complain@members.test": "Hillside",
        "unsub-1@members.test": "Hillside", "unsub-2@members.test": "Riverside",
        "unsub-3@members.test": "Oakfield", "quoted@members.test": "Hillside",
        "asker@members.test": "Riverside", "away@members.test": "Oakfield",
    }
    rows = ["email,name,ward,union"]
    members = {}
    for i in range(500 - len(special)):
        addr = "member%03d@members.test" % i
        members[addr] = WARDS[i % 3]
    members.update(special)
    for i, (addr, ward) in enumerate(sorted(members.items())):
        rows.append('%s,"Member %d",%s,%s' % (addr, i, ward, ["UNISON", "GMB", "UCU", "Unite"][i % 4]))
    csv = os.path.join(W, "members.csv")
    with open(csv, "w") as f:
        f.write("\r\n".join(rows) + "\r\n")
    hillside = {a for a, w in members.items() if w == "Hillside"}

    at("2026-11-23 10:00")
    clarion("init")
    clarion("list", "create", "members", "--display-name", "Hillside and District CLP",
            "--from", "news@clp.test", "--owner", "secretary@clp.test")
    p = clarion("sub", "import", "--list", "members", "--consent", "Membership list 2026", csv)
    ok("added:      500" in p.stdout, "500 members imported from CSV", p.stdout)
    # The TULO's first events: a strike and a ballot in the week of 30 November.
    clarion("event", "add", "--kind", "strike", "--title", "UCU strike at Hillside College",
            "--start", "2026-12-02 08:00", "--union", "UCU", "--employer", "Hillside College")
    clarion("event", "add", "--kind", "ballot", "--title", "UNISON pay ballot closes",
            "--start", "2026-12-04", "--union", "UNISON")
    clarion("item", "add", "bulletin", "--list", "members", "--kind", "bulletin",
            "--subject", "Strikes and ballots: week of {{run.date}}",
            "--kinds", "strike,ballot,picket,demo",
            "--rrule", "FREQ=WEEKLY;BYDAY=MO;BYHOUR=8;BYMINUTE=0", "--start", "2026-11-23")
    news = os.path.join(W, "news.md")
    with open(news, "w") as f:
        f.write("# Hillside news\n\nThank you for **turning out** on the picket lines.\n")
    clarion("item", "add", "newsletter", "--list", "members", "--kind", "newsletter",
            "--segment", "ward = 'Hillside'", "--content", news,
            "--subject", "Hillside ward newsletter",
            "--rrule", "FREQ=MONTHLY;BYMONTHDAY=1;BYHOUR=9;BYMINUTE=0", "--start", "2026-11-24")
    agenda = os.path.join(W, "agenda.md")
    with open(agenda, "w") as f:
        f.write("1. Apologies\n2. Strike support fund\n")
    daemon.start()
    at("2026-11-24 10:00")
    p = clarion("notice", "add", "--list", "members", "--title", "General meeting",
                "--meeting", "2026-12-10 19:00", "--venue", "Hillside Community Centre",
                "--agenda", agenda, "--reminder", "1d")
    wait(lambda: len(received("General meeting")) >= 496 and settled(), "meeting notice sent")
    notice_rcpts = {r for r, m in received("General meeting")}
    is_eq(len(notice_rcpts), 496, "the notice reached everyone but the three addresses the relay "
          "refuses and the one it asks to try later")
    ok(not {"hard-1@members.test", "hard-2@members.test", "policy-1@members.test",
            "slow-1@members.test"} & notice_rcpts, "those four have not received it")
    p = clarion("sub", "show", "hard-1@members.test")
    ok("unsubscribed" in p.stdout or "suppressed" in p.stdout,
       "a 550 5.1.1 at SMTP time disables the address at once", p.stdout)
    # The deferred one is retried after its backoff (5 minutes, doubling).
    at("2026-11-24 10:30")
    wait(lambda: received("General meeting", "slow-1@members.test"), "retry of slow-1")
    is_eq(len(received("General meeting", "slow-1@members.test")), 1,
          "the deferred member gets the notice once, after the retry")

    # Monday 30 November, 08:00 London (= UTC in winter): bulletin 1.
    at("2026-11-30 08:00")
    wait(lambda: len(received("week of Monday 30 November")) >= 497 and settled(), "bulletin 1")
    b1 = {r for r, m in received("week of Monday 30 November")}
    is_eq(len(b1), 497, "bulletin 1 reached 497 members")
    ok(not {"hard-1@members.test", "hard-2@members.test", "policy-1@members.test"} & b1,
       "bulletin 1: not the addresses the relay refused")

    # Members answer by mail.
    orig = lambda a: message_to(a, "week of Monday 30 November")
    append(dsn("dsnhard@members.test", orig("dsnhard@members.test"), "5.1.1",
               "550 5.1.1 <dsnhard@members.test>: user unknown"))
    append(arf("complain@members.test", orig("complain@members.test")))
    append(reply("unsub-1@members.test", orig("unsub-1@members.test"),
                 "Unsubscribe please.\n\n" + "On Mon, 30 Nov 2026 at 08:00, Hillside wrote:\n"
                 + quoted(orig("unsub-1@members.test"))))
    o2 = orig("unsub-2@members.test")
    append(reply("unsub-2@members.test", o2, "",
                 to=o2["List-Unsubscribe"].split("mailto:")[1].split("?")[0].rstrip(">")))
    append(reply("quoted@members.test", orig("quoted@members.test"),
                 "Thanks, see you on the picket line!\n\nOn Mon, 30 Nov 2026, Hillside wrote:\n"
                 "> To leave, reply with the word unsubscribe.\n"))
    append(reply("asker@members.test", orig("asker@members.test"),
                 "Is there a creche at the general meeting? I have two small children.\n"))
    append(vacation("away@members.test", orig("away@members.test")))
    wait(inbox_empty, "the inbound mail processed and filed")
    wait(lambda: len(received("nsubscribe")) >= 2 and settled(), "unsubscribe confirmations")

    # First kill -9: just after the inbound work, then the newsletter is due.
    daemon.kill9()
    at("2026-12-01 09:00")
    daemon.start()
    wait(lambda: len(received("Hillside ward newsletter")) >= 1 and settled(), "newsletter")
    time.sleep(1)
    nl = {r for r, m in received("Hillside ward newsletter")}
    gone = {"hard-2@members.test", "complain@members.test", "unsub-1@members.test"}
    want_nl = hillside - gone - {"hard-1@members.test", "policy-1@members.test", "dsnhard@members.test",
                                 "unsub-2@members.test"}
    is_eq(sorted(nl), sorted(want_nl & hillside), "the newsletter went to Hillside ward only, minus those who left")

    # The meeting moves; the TULO adds a picket for the week of 14 December.
    at("2026-12-03 12:00")
    notice = [l for l in clarion("notice", "list").stdout.splitlines() if "General meeting" in l]
    notice_id = notice[0].split()[0] if notice else "notice-1"
    clarion("notice", "move", notice_id, "--meeting", "2026-12-11 19:00", "--force")
    wait(lambda: len([1 for r, m in sink() if "General meeting" in str(m["Subject"])]) > 497 and settled(),
         "meeting update")
    clarion("event", "add", "--kind", "picket", "--title", "Picket at the bus depot",
            "--start", "2026-12-16 06:30", "--union", "Unite")
    # 7 December comes with nothing to list: no bulletin that week.
    at("2026-12-07 08:00")
    wait(lambda: "no events" in clarion("run", "list").stdout, "the empty week skipped")
    at("2026-12-09 12:00")
    # Monday 14 December: bulletin 3, killed -9 while sending.
    at("2026-12-10 19:00")
    wait(lambda: len(received("Reminder:")) >= 480 and settled(), "the meeting reminder")
    at("2026-12-14 08:00")
    wait(lambda: len(received("week of Monday 14 December")) >= 50, "bulletin 3 under way")
    daemon.kill9()
    daemon.start()
    wait(lambda: settled() and len(received("week of Monday 14 December")) >= 480, "bulletin 3 after restart")
    at("2026-12-15 12:00")
    clarion("event", "add", "--kind", "strike", "--title", "Bin workers strike",
            "--start", "2026-12-22 07:00", "--union", "GMB")
    at("2026-12-21 08:00")
    wait(lambda: len(received("week of Monday 21 December")) >= 480 and settled(), "bulletin 4")
    at("2026-12-28 08:05")
    time.sleep(3)
    rc = daemon.stop()
    is_eq(rc, 0, "the daemon stops cleanly at the end of the month")

    # What the SMTP server received, per recipient.
    mail = sink()
    by_rcpt = defaultdict(list)
    for r, m in mail:
        by_rcpt[r].append(str(m["Subject"]))
    left = {"hard-1@members.test", "hard-2@members.test", "dsnhard@members.test",
            "complain@members.test", "unsub-1@members.test", "unsub-2@members.test"}
    for week in ("7 December",):
        is_eq(len(received("week of Monday " + week)), 0, "no bulletin in the empty week of " + week)
    for week in ("14 December", "21 December"):
        got = Counter(r for r, m in received("week of Monday " + week))
        ok(not (set(got) & left), "week of %s: nobody who left or hard-bounced was mailed" % week,
           sorted(set(got) & left))
        want = set(members) - left - {"policy-1@members.test"}
        ok(want <= set(got), "week of %s: every remaining member got it" % week,
           sorted(want - set(got))[:10])
        dup = {r: n for r, n in got.items() if n > 1}
        print("# week of %s: %d recipients, %d duplicated" % (week, len(got), len(dup)))
        ok(len(dup) <= 8, "week of %s: duplicates at most the messages in flight at the kill" % week, dup)
    b3 = received("week of Monday 14 December")
    ok(any("bus depot" in m.get_body(("plain",)).get_content() for r, m in b3[:1]),
       "bulletin 3 lists the picket added during the empty week")
    for who in ("quoted@members.test", "asker@members.test", "away@members.test"):
        ok(any("21 December" in s for s in by_rcpt[who]), who + " is still a member")
    conf = [r for r, m in mail if "nsubscribe" in str(m["Subject"]) and r.startswith("unsub-")]
    is_eq(sorted(conf), ["unsub-1@members.test", "unsub-2@members.test"],
          "exactly one unsubscribe confirmation each")
    owner = [m for r, m in mail if r == "secretary@clp.test"]
    ok(any("creche" in (m.get_body(("plain",)).get_content() if m.get_body(("plain",)) else "")
           and "asker@members.test" in str(m["Reply-To"]) for m in owner),
       "the owner got the question forwarded, Reply-To the member",
       [str(m["Subject"]) for m in owner])
    ok(any("hard-1@members.test" in m.get_body(("plain",)).get_content() for m in owner
           if m.get_body(("plain",))), "the owner got the bounce digest naming the disabled address",
       [str(m["Subject"]) for m in owner])
    upd = [m for r, m in mail if "General meeting" in str(m["Subject"])]
    methods = Counter()
    for m in upd:
        for part in m.walk():
            if part.get_content_type() == "text/calendar":
                methods[part.get_param("method")] += 1
    ok(methods["REQUEST"] >= 2 * 480, "the notice and the update carry REQUEST invites", dict(methods))
    rem = [r for r, m in mail if "eminder" in str(m["Subject"])]
    ok(len(rem) >= 480 and not set(rem) & left, "the reminder went to current members only", len(rem))

    # The IMAP folders.
    for fold, n in (("Bounces", 1), ("Complaints", 1), ("Unsubscribed", 2), ("Replies", 2), ("AutoReplies", 1)):
        is_eq(folder_count(fold), n, "IMAP folder Clarion.%s holds %d" % (fold, n))
    ok(inbox_empty(), "nothing left in the INBOX, nothing deleted")
    print("1..%d" % N)
    return 0 if FAILED == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
