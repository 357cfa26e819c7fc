"""`clientbase` with no command: the full-screen app, with demo data on the first start if asked."""

from __future__ import annotations

import argparse

from db.connection import Target
from db.i18n import t
from tui.cli.common import bind_app_database, owner_connection, progress_printer, say

DEMO_ON_FIRST_START = 20_000

def cmd_app(target: Target, args: argparse.Namespace) -> int:
    from db import demo, session

    if args.demo:
        with owner_connection(target, create=True) as conn:
            if demo.is_empty(conn):
                result = demo.load(conn, DEMO_ON_FIRST_START, progress=progress_printer())
                say(t("Loaded {clients:,} clients and "
                      "{purchases:,} purchases in {seconds:.1f} s.", clients=result.clients, purchases=result.purchases,
                      seconds=result.seconds))
    target = bind_app_database(target, create=True)
    identity = session.identity(target)
    from tui.app import ClientbaseApp

    ClientbaseApp(target, identity).run()
    return 0
