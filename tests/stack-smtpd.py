#!/usr/bin/python3
"""SMTP server for tests/stack-e2e (aiosmtpd, Debian python3-aiosmtpd): plain SMTP on
127.0.0.1, no TLS, no AUTH, messages into MAILDIR/new. It greylists, as many real mail
servers do: the first message to each recipient is refused with a temporary 451, later ones
are accepted. The router must retry (vigie_router_notifications_failed_total{reason="retry"})
and then deliver (vigie_router_notifications_sent_total).

usage: /usr/bin/python3 tests/stack-smtpd.py PORT MAILDIR [ADDRESS]   (stops on SIGTERM/SIGINT)
ADDRESS (default 127.0.0.1): tests/stack-containers listens on its private bridge's address,
which the containers reach.
"""
import os
import signal
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox


class Greylist(Mailbox):
    def __init__(self, maildir):
        super().__init__(maildir)
        self.seen = set()

    async def handle_DATA(self, server, session, envelope):
        new = [r for r in envelope.rcpt_tos if r not in self.seen]
        if new:
            self.seen.update(new)
            print("greylisted", ",".join(new), flush=True)
            return "451 4.7.1 Greylisted, please try again later"
        return await super().handle_DATA(server, session, envelope)


def main():
    port, maildir = int(sys.argv[1]), sys.argv[2]
    address = sys.argv[3] if len(sys.argv) > 3 else "127.0.0.1"
    for sub in ("tmp", "new", "cur"):
        os.makedirs(os.path.join(maildir, sub), exist_ok=True)
    c = Controller(Greylist(maildir), hostname=address, port=port)
    c.start()
    print("listening", port, flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    c.stop()


if __name__ == "__main__":
    main()
