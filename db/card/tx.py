"""Transactions for the card editor's reads and writes, with the database's refusals said as sentences.

A refused write (a read-only login) is a `UserError`. A lost connection is `ConnectionLost`, after the
dead pooled connections are dropped, so that saving again once the server is back works. A write is never
retried here, since it may have committed just before the connection broke; a read is retried by
`session.read` on a fresh connection.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import peewee
import psycopg

from db.errors import ConnectionLost, UserError, driver_error, lost_connections
from db.models import database
from db.i18n import N_


def _refused(exc: BaseException) -> bool:
    return isinstance(driver_error(exc), psycopg.errors.InsufficientPrivilege)


@contextmanager
def _guarded(read_only: bool) -> Iterator[None]:
    outermost = database.transaction_depth() == 0
    try:
        with lost_connections(), database.connection_context():
            with database.atomic():
                if read_only and outermost:
                    # The several queries of one card must see one moment, not a save half-way through.
                    # Inside a caller's transaction (a save reloading its card) the caller's snapshot rules.
                    database.execute_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                yield
    except ConnectionLost:
        if outermost:
            # Inside a caller's transaction the connection cannot be closed yet: the caller's guard does it.
            database.close_all()
        raise
    except (peewee.DatabaseError, peewee.InterfaceError, psycopg.Error) as exc:
        if _refused(exc):
            raise UserError(N_("Your login is read-only: only an administrator may change client data.")) from None
        raise


def reading():
    """One consistent snapshot for the several queries that load a card."""
    return _guarded(read_only=True)


def writing():
    """One transaction: everything inside it is saved, or nothing is."""
    return _guarded(read_only=False)
