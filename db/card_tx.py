"""Transactions for the card editor's reads and writes, with the database's refusals said as sentences.

A refused write (a read-only login) and a lost connection are things a user meets in normal work, so they
become a `UserError` here; anything else is a bug and propagates unchanged.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import peewee
import psycopg

from .errors import UserError, driver_error
from .models import database

# Server going away: admin/crash shutdown, cannot connect now; class 08 is every connection exception.
_GONE_STATES = ("57P01", "57P02", "57P03")


def translate(exc: BaseException) -> UserError | None:
    cause = driver_error(exc)
    if isinstance(cause, psycopg.errors.InsufficientPrivilege):
        return UserError("card.read_only")
    if isinstance(cause, psycopg.InterfaceError):
        return UserError("card.unreachable")
    if isinstance(cause, psycopg.OperationalError):
        state = cause.sqlstate
        if state is None or state.startswith("08") or state in _GONE_STATES:
            return UserError("card.unreachable")
    if isinstance(cause, peewee.InterfaceError):
        return UserError("card.unreachable")
    return None


@contextmanager
def _guarded(read_only: bool) -> Iterator[None]:
    try:
        with database.connection_context(), database.atomic():
            if read_only:
                # The several queries of one card must see one moment, not a save half-way through.
                database.execute_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield
    except (peewee.DatabaseError, peewee.InterfaceError, psycopg.Error) as exc:
        translated = translate(exc)
        if translated is None:
            raise
        raise translated from None


def reading():
    """One consistent snapshot for the several queries that load a card."""
    return _guarded(read_only=True)


def writing():
    """One transaction: everything inside it is saved, or nothing is."""
    return _guarded(read_only=False)
