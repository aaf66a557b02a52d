#!/usr/bin/python3
"""Test SMTP server for vigie-router (aiosmtpd 1.4, Debian python3-aiosmtpd).

usage: /usr/bin/python3 smtpd.py PORT MAILDIR CERT KEY [starttls|smtps|plain]
(in plain mode CERT and KEY are not read: no TLS, no AUTH)
Accepts user `vigie` / password `secret`; STARTTLS is required in `starttls` mode.
Messages land in MAILDIR/new. Stops on SIGTERM/SIGINT.
"""
import os, signal, ssl, sys
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import AuthResult, LoginPassword

port, maildir, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
mode = sys.argv[5] if len(sys.argv) > 5 else "starttls"
for sub in ("tmp", "new", "cur"):
    os.makedirs(os.path.join(maildir, sub), exist_ok=True)
ctx = None
if mode != "plain":
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)

def auth(server, session, envelope, mechanism, data):
    ok = isinstance(data, LoginPassword) and data.login == b"vigie" and data.password == b"secret"
    return AuthResult(success=ok, handled=False)

if mode == "smtps":
    # aiosmtpd 1.4.3 does not count implicit TLS as TLS for AUTH (testenv/router.md).
    kw = dict(ssl_context=ctx, auth_require_tls=False, authenticator=auth, auth_required=True)
elif mode == "starttls":
    kw = dict(tls_context=ctx, require_starttls=True, auth_require_tls=True, authenticator=auth, auth_required=True)
else:
    kw = {}
c = Controller(Mailbox(maildir), hostname="127.0.0.1", port=port, **kw)
c.start()
print("listening", port, flush=True)
signal.sigwait({signal.SIGTERM, signal.SIGINT})
c.stop()
