"""Who is editing a card right now (migration 0005, `card_editors`).

An administrator's open card holds a session advisory lock on a connection of its own, outside the pool:
the lock lives exactly as long as that connection, so a crashed terminal or a dropped network frees the
card by itself, and the connection's start is the moment the editing began. Only administrators may take
advisory locks (migration 0008), so nobody else can pose as an editor or hold the import's lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg

from db import rows
from db.card.tx import reading
from db.models import database

LOCK_CLASS = 7243  # the advisory-lock namespace of card editing; card_editors() reads the same one


@dataclass(frozen=True)
class Editor:
    login: str
    since: datetime


def _key(client_id: int) -> int:
    return client_id % 2_147_483_648


class EditClaim:
    """Held while an administrator has the card open; `release()` when the card closes."""

    def __init__(self, client_id: int) -> None:
        params = dict(database.connect_params)
        params["application_name"] = "clientbase card editor"
        self.client_id = client_id
        self._conn = psycopg.connect(dbname=database.database, autocommit=True, **params)
        self.pid = self._conn.info.backend_pid
        self._conn.execute("SELECT pg_advisory_lock_shared(%s, %s)", (LOCK_CLASS, _key(client_id)))

    def others(self) -> list[Editor]:
        return rows.all_of(Editor, self._conn.execute(
            "SELECT login, since FROM card_editors(%s) WHERE pid <> pg_backend_pid() ORDER BY since",
            (self.client_id,)))

    def release(self) -> None:
        try:
            self._conn.close()
        except psycopg.Error:
            pass  # a connection already dropped has released its lock with it


def claim(client_id: int) -> EditClaim:
    return EditClaim(client_id)


def editors(client_id: int) -> list[Editor]:
    with reading():
        return rows.all_of(Editor, database.execute_sql(
            "SELECT login, since FROM card_editors(%s) ORDER BY since", (client_id,)))
