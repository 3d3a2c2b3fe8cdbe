#!/usr/bin/python3
# A real SMTP server for tests (aiosmtpd), after /work/shared/notes/test-servers.md.
# --port P [--starttls [--require-starttls]] [--tls-port P] --cert F --key F [--auth U:P [--auth-required]]
# --maildir DIR --tempfail GLOB --reject GLOB --drop GLOB (repeatable; match the local part)
# --tempfail-once/--drop-once GLOB: only the first time for each address
# --policy GLOB: 554 5.7.1 policy rejection at RCPT
# --ready-file F --max-seconds N (stops by itself; SIGTERM/SIGINT stop it too)
# --delay S: wait S seconds before answering each message's final dot (a slow relay)
# --stall GLOB [--stall-until N] [--stall-max S]: hold the answer to the final dot of
#   a message to GLOB until N messages to others are stored (default 1), at most S
#   seconds (default 60); the log says "stall released after N others" or "stall gave up"
# --gather N [--gather-max S]: hold the answers to the final dots until N sessions wait
#   at once (first N only, at most S seconds, default 60); logs "gathered N sessions"
#   or "gather gave up". Proves N transactions really ran at the same time.
# --no-store: count messages but do not keep them (benchmarks: bench/latency.sh)
# Each stored message carries X-Sink-Session: the number of its connection.
import argparse, asyncio, fnmatch, logging, mailbox, os, signal, ssl, sys, threading, time
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

ap = argparse.ArgumentParser()
ap.add_argument("--host", default="127.0.0.1")
ap.add_argument("--port", type=int); ap.add_argument("--tls-port", type=int)
ap.add_argument("--starttls", action="store_true"); ap.add_argument("--require-starttls", action="store_true")
ap.add_argument("--cert"); ap.add_argument("--key")
ap.add_argument("--auth"); ap.add_argument("--auth-required", action="store_true")
ap.add_argument("--maildir", required=True)
for o in ("--tempfail", "--reject", "--drop", "--tempfail-once", "--drop-once", "--policy"):
    ap.add_argument(o, action="append", default=[])
ap.add_argument("--ready-file"); ap.add_argument("--max-seconds", type=float, default=600)
ap.add_argument("--delay", type=float, default=0)
ap.add_argument("--stall", action="append", default=[])
ap.add_argument("--stall-until", type=int, default=1); ap.add_argument("--stall-max", type=float, default=60)
ap.add_argument("--no-store", action="store_true")
ap.add_argument("--gather", type=int, default=0); ap.add_argument("--gather-max", type=float, default=60)
a = ap.parse_args()
logging.getLogger("mail.log").setLevel(logging.ERROR)  # hides "Session.login_data is deprecated"

def log(*x): print(time.strftime("%H:%M:%S"), *x, file=sys.stderr, flush=True)
def match(pats, addr):
    return any(fnmatch.fnmatchcase(addr.rsplit("@", 1)[0].lower(), p.lower()) for p in pats)
seen = set()
def once(pats, addr, what):  # true the first time addr matches, for this kind
    if not match(pats, addr) or (what, addr.lower()) in seen: return False
    seen.add((what, addr.lower())); return True
def tls_used(server):  # session.ssl is set by STARTTLS only; implicit TLS shows on the transport
    return "yes" if server.transport.get_extra_info("ssl_object") is not None else "no"

class Handler:
    def __init__(self, maildir):  # Maildir(create=True) uses os.mkdir: the parent must exist
        os.makedirs(os.path.dirname(os.path.abspath(maildir)), exist_ok=True)
        self.box = mailbox.Maildir(maildir, create=True)
        self.others = 0      # messages stored that no --stall matched
        self.waiting = 0     # sessions held at the final dot by --gather
        self.gathered = a.gather <= 0
        self.sessions = 0    # connections that sent a message
    async def gather(self):  # one loop runs every session: plain counters are safe
        if self.gathered: return
        self.waiting += 1; t0 = time.monotonic()
        while not self.gathered and self.waiting < a.gather and time.monotonic() - t0 < a.gather_max:
            await asyncio.sleep(0.01)
        if not self.gathered:
            self.gathered = True
            log(f"gathered {self.waiting} sessions" if self.waiting >= a.gather else
                f"gather gave up with {self.waiting} sessions waiting")
        self.waiting -= 1
    async def stall(self, rcpts):
        if not any(match(a.stall, r) for r in rcpts): return False
        t0 = time.monotonic()
        while self.others < a.stall_until and time.monotonic() - t0 < a.stall_max:
            await asyncio.sleep(0.01)
        log(f"stall released after {self.others} others" if self.others >= a.stall_until else
            f"stall gave up with {self.others} others stored")
        return True
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if match(a.tempfail, address): return f"451 4.3.0 Temporary failure for <{address}>"
        if once(a.tempfail_once, address, "t"): return f"451 4.3.0 Temporary failure for <{address}>"
        if match(a.reject, address): return f"550 5.1.1 <{address}>: Recipient rejected"
        if match(a.policy, address): return f"554 5.7.1 <{address}>: Rejected by policy"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"
    async def handle_DATA(self, server, session, envelope):
        if not hasattr(server, "sink_no"):  # server: this connection's SMTP object
            self.sessions += 1; server.sink_no = self.sessions
        if a.delay > 0: await asyncio.sleep(a.delay)  # other sessions go on meanwhile
        await self.gather()
        stalled = await self.stall(envelope.rcpt_tos)
        hdr = (f"X-Envelope-From: <{envelope.mail_from}>\r\n"
               f"X-Envelope-To: {', '.join('<%s>' % r for r in envelope.rcpt_tos)}\r\n"
               f"X-Sink-TLS: {tls_used(server)}\r\n"
               f"X-Sink-Session: {server.sink_no}\r\n").encode()
        key = "-" if a.no_store else self.box.add(hdr + envelope.original_content)
        if not stalled: self.others += 1
        if a.no_store: return "250 2.0.0 Ok: queued"
        log("stored", key, envelope.mail_from, envelope.rcpt_tos)
        return f"250 2.0.0 Ok: queued as {key}"

class SinkSMTP(SMTP):
    async def smtp_DATA(self, arg):
        if self.envelope.rcpt_tos and not arg and (any(match(a.drop, r) for r in self.envelope.rcpt_tos) or
                any(once(a.drop_once, r, "d") for r in self.envelope.rcpt_tos)):
            await self.push("354 End data with <CR><LF>.<CR><LF>")
            try: await asyncio.wait_for(self._reader.readuntil(b"\r\n"), 10)  # client has begun DATA
            except Exception: pass
            log("dropping connection mid-DATA for", self.envelope.rcpt_tos)
            self.transport.abort()
            self.transport = None   # ends aiosmtpd's command loop (else it parses buffered body lines)
            return
        return await super().smtp_DATA(arg)

def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (isinstance(auth_data, LoginPassword) and a.auth is not None and
          (auth_data.login.decode(), auth_data.password.decode()) == tuple(a.auth.split(":", 1)))
    log("AUTH", mechanism, "ok" if ok else "failed")
    return AuthResult(success=ok, handled=False)   # handled=False => "535 5.7.8" on failure

class SinkController(Controller):
    def factory(self): return SinkSMTP(self.handler, **self.SMTP_kwargs)

tls = None
if a.cert:
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH); tls.load_cert_chain(a.cert, a.key)
handler = Handler(a.maildir)
common = dict(hostname=a.host, server_hostname="localhost", ident="test-sink", ready_timeout=10)
if a.auth: common.update(authenticator=authenticator, auth_required=a.auth_required)
ctls = []
if a.port:
    kw = dict(common)
    if a.starttls: kw.update(tls_context=tls, require_starttls=a.require_starttls)
    else: kw.update(auth_require_tls=False)
    ctls.append(SinkController(handler, port=a.port, **kw))
if a.tls_port:
    ctls.append(SinkController(handler, port=a.tls_port, ssl_context=tls, auth_require_tls=False, **common))
for c in ctls: c.start()
if a.ready_file:
    open(a.ready_file + ".tmp", "w").write(f"{os.getpid()}\n"); os.rename(a.ready_file + ".tmp", a.ready_file)
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stop.set()); signal.signal(signal.SIGINT, lambda *_: stop.set())
stop.wait(a.max_seconds)
for c in ctls: c.stop()
