#!/usr/bin/python3
# A real SMTP server for tests (aiosmtpd), after /work/shared/notes/test-servers.md.
# --port P [--starttls [--require-starttls]] [--tls-port P] --cert F --key F [--auth U:P [--auth-required]]
# --maildir DIR --tempfail GLOB --reject GLOB --drop GLOB (repeatable; match the local part)
# --tempfail-once/--drop-once GLOB: only the first time for each address
# --policy GLOB: 554 5.7.1 policy rejection at RCPT
# --ready-file F --max-seconds N (stops by itself; SIGTERM/SIGINT stop it too)
# --delay S: wait S seconds before answering each message's final dot (a slow relay)
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
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if match(a.tempfail, address): return f"451 4.3.0 Temporary failure for <{address}>"
        if once(a.tempfail_once, address, "t"): return f"451 4.3.0 Temporary failure for <{address}>"
        if match(a.reject, address): return f"550 5.1.1 <{address}>: Recipient rejected"
        if match(a.policy, address): return f"554 5.7.1 <{address}>: Rejected by policy"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"
    async def handle_DATA(self, server, session, envelope):
        if a.delay > 0: await asyncio.sleep(a.delay)  # other sessions go on meanwhile
        hdr = (f"X-Envelope-From: <{envelope.mail_from}>\r\n"
               f"X-Envelope-To: {', '.join('<%s>' % r for r in envelope.rcpt_tos)}\r\n"
               f"X-Sink-TLS: {tls_used(server)}\r\n").encode()
        key = self.box.add(hdr + envelope.original_content)
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
