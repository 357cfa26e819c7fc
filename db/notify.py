"""LISTEN/NOTIFY: hearing that another terminal changed something, on a connection of one's own.

The triggers of 0005_card_editing.sql send the id of every client whose card data a statement touched on
the `client_changed` channel, or "*" when it touched more than a thousand. `listen` runs the LISTEN loop
(it blocks, so it belongs in a thread) and hands each batch back.

Any login may NOTIFY any channel (PostgreSQL has no right for it), so the listener believes only the
backends of logins that may change client data: a salesperson's `NOTIFY client_changed, '*'` in a loop
would otherwise make every terminal reload everything. A sender already gone when it is looked up (a
`psql -c` or a command-line import exits at once) cannot be told apart, so what it sent becomes one
"everything changed" at most every UNVERIFIED_SECONDS: a real change is still seen, a forged flood
costs one reload per interval.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Callable

import psycopg
from psycopg import sql

from db import rows
from db.models import database

CLIENT_CHANGED = "client_changed"
EVERYTHING = "*"
RETRY_SECONDS = 1.0
UNVERIFIED_SECONDS = 5.0

# The roles allowed to change client data: the administrators, the database owner and superusers.
_WRITERS_SQL = """
SELECT a.pid, r.rolsuper OR r.oid = d.datdba OR pg_has_role(r.oid, 'clientbase_admin', 'MEMBER') AS writer
  FROM pg_stat_activity a
  JOIN pg_roles r ON r.oid = a.usesysid
  JOIN pg_database d ON d.datname = current_database()
 WHERE a.pid = ANY(%s)
"""


@dataclass(frozen=True)
class Changes:
    """What changed in one batch: some ids, or possibly everything (a bulk change, or a reconnection
    after which the notifications sent meanwhile are gone)."""

    ids: frozenset[int]
    everything: bool = False


_CLIENT_ID = re.compile(r"[0-9]{1,19}")
_BIGINT_MAX = 2**63 - 1


def _parse(payloads: list[str]) -> Changes:
    ids = set()
    everything = False
    for payload in payloads:
        # Any login that writes may NOTIFY: str.isdigit() also takes '²', and int() of 5,000 digits raises, which
        # would end the listener thread of every terminal. Only an id a client can have is one.
        if _CLIENT_ID.fullmatch(payload) and int(payload) <= _BIGINT_MAX:
            ids.add(int(payload))
        else:
            everything = True
    return Changes(frozenset(ids), everything)


class _Senders:
    """Whether a sending backend belongs to a login that may change client data, looked up per pid and
    believed for a minute: the operating system reuses a pid after some tens of thousands of processes, and
    a reading login must not inherit an administrator's old pid for longer than that."""

    LIMIT = 10_000  # a bound keeps the memory small
    BELIEVED_SECONDS = 60.0

    def __init__(self, conn: psycopg.Connection, clock: Callable[[], float] = time.monotonic) -> None:
        self._conn = conn
        self._clock = clock
        self._writer: dict[int, tuple[bool, float]] = {}

    def sort(self, notifies: list[psycopg.Notify]) -> tuple[list[str], bool]:
        """The payloads of writers, and whether some came from a sender that is gone."""
        now = self._clock()
        unknown = {n.pid for n in notifies
                   if n.pid not in self._writer or now - self._writer[n.pid][1] > self.BELIEVED_SECONDS}
        if unknown:
            if len(self._writer) > self.LIMIT:
                self._writer.clear()
            for pid in unknown:
                self._writer.pop(pid, None)
            self._writer.update((row["pid"], (row["writer"], now))
                                for row in rows.dicts(self._conn.execute(_WRITERS_SQL, (list(unknown),))))
        believed = [n.payload for n in notifies if self._writer.get(n.pid, (False, 0.0))[0]]
        gone = any(n.pid not in self._writer for n in notifies)
        return believed, gone


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
                senders = _Senders(conn)
                unverified = False
                last_unverified = float("-inf")
                while not stopped():
                    batch = list(conn.notifies(timeout=poll, stop_after=1))
                    if batch:
                        # Whatever else arrived with it, so that a bulk change is one delivery.
                        batch += list(conn.notifies(timeout=0.05))
                        believed, gone = senders.sort(batch)
                        if believed:
                            deliver(_parse(believed))
                        unverified = unverified or gone
                    if unverified and time.monotonic() - last_unverified >= UNVERIFIED_SECONDS:
                        unverified = False
                        last_unverified = time.monotonic()
                        deliver(Changes(frozenset(), everything=True))
        except (psycopg.OperationalError, psycopg.InterfaceError):
            if not lost:
                lost = True
                report(False)
            deadline = time.monotonic() + RETRY_SECONDS
            while time.monotonic() < deadline and not stopped():
                time.sleep(0.1)

