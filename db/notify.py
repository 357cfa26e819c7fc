"""LISTEN/NOTIFY: hearing that another terminal changed something, on a connection of one's own.

The triggers of 0005_card_editing.sql send the id of every client whose card data a statement touched on
the `client_changed` channel, or "*" when it touched more than a thousand. `listen` runs the LISTEN loop
(it blocks, so it belongs in a thread) and hands each batch back; `notify` sends one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import psycopg
from psycopg import sql

from .models import database

CLIENT_CHANGED = "client_changed"
EVERYTHING = "*"
RETRY_SECONDS = 1.0


@dataclass(frozen=True)
class Changes:
    """What changed in one batch: some ids, or possibly everything (a bulk change, or a reconnection
    after which the notifications sent meanwhile are gone)."""

    ids: frozenset[int]
    everything: bool = False


def _parse(payloads: list[str]) -> Changes:
    ids = set()
    everything = False
    for payload in payloads:
        if payload.isdigit():
            ids.add(int(payload))
        else:
            everything = True
    return Changes(frozenset(ids), everything)


def _connect() -> psycopg.Connection:
    """A connection outside the pool, to the database the app is bound to: a LISTEN lasts as long as
    its connection, and a pooled one goes back to other threads."""
    params = dict(database.connect_params)
    params.pop("prepare_threshold", None)
    return psycopg.connect(dbname=database.database, autocommit=True, **params)


def listen(channel: str, deliver: Callable[[Changes], None], stopped: Callable[[], bool],
           connected: Callable[[bool], None] | None = None, poll: float = 0.5) -> None:
    """Delivers each batch of notifications on `channel` until `stopped()` is true (checked every
    `poll` seconds). A lost connection is reported as connected(False) and retried every second; once
    back, connected(True) and a Changes(everything=True), since what was sent meanwhile is lost."""
    report = connected or (lambda state: None)
    lost = False
    while not stopped():
        try:
            with _connect() as conn:
                conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                if lost:
                    lost = False
                    report(True)
                    deliver(Changes(frozenset(), everything=True))
                while not stopped():
                    batch = [n.payload for n in conn.notifies(timeout=poll, stop_after=1)]
                    if batch:
                        # Whatever else arrived with it, so that a bulk change is one delivery.
                        batch += [n.payload for n in conn.notifies(timeout=0.05)]
                        deliver(_parse(batch))
        except (psycopg.OperationalError, psycopg.InterfaceError):
            if not lost:
                lost = True
                report(False)
            deadline = time.monotonic() + RETRY_SECONDS
            while time.monotonic() < deadline and not stopped():
                time.sleep(0.1)

