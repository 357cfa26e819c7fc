"""Errors a user can cause or fix, carrying a translatable sentence; everything else is a bug."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import peewee
import psycopg

from db.i18n import t


class UserError(Exception):
    """A mistake or a condition the user can act on; its text is one plain sentence."""

    def __init__(self, key: str, /, **values: object) -> None:
        self.key = key
        self.values = values
        super().__init__(key)

    def __str__(self) -> str:
        # Translated when shown, not when raised: db/ marks the sentence, the edge says it in the user's language.
        return t(self.key, **self.values)


class ValidationError(UserError):
    """Bad input in one field; `field` names it so that the editor can show the reason beside it."""

    def __init__(self, field: str, key: str, /, **values: object) -> None:
        self.field = field
        super().__init__(key, **values)


class SchemaMismatch(UserError):
    pass


class ConflictError(Exception):
    """Someone else saved the row first; carries the row as it is now in the database."""

    def __init__(self, current: object) -> None:
        self.current = current
        super().__init__("the row was changed by someone else")


def driver_error(exc: BaseException) -> BaseException:
    """The psycopg exception behind one that peewee re-raised under its own class."""
    return getattr(exc, "orig", None) or exc


def is_permission_denied(exc: BaseException) -> bool:
    return isinstance(driver_error(exc), psycopg.errors.InsufficientPrivilege)


class ConnectionLost(Exception):
    """The database cannot be reached right now; the caller says so and tries again later.

    The one way db/ tells that the connection is gone: a driver error of a lost connection is turned into
    this where db/ first sees it (`lost_connections`), so that no caller has to recognise psycopg's errors."""


# SQLSTATEs of a connection that is gone: class 08, and the server shutting down or starting up.
_GONE_STATES = ("57P01", "57P02", "57P03")
DRIVER_ERRORS = (peewee.OperationalError, peewee.InterfaceError, psycopg.OperationalError, psycopg.InterfaceError)


def is_connection_lost(exc: BaseException) -> bool:
    failure = driver_error(exc)
    if isinstance(failure, psycopg.InterfaceError):
        return True
    if not isinstance(failure, psycopg.OperationalError):
        return isinstance(exc, peewee.InterfaceError) or (
            isinstance(exc, peewee.OperationalError) and getattr(exc, "orig", None) is None)
    state = failure.sqlstate
    # No SQLSTATE: the client noticed (refused, reset, closed); a cancelled query has one (57014).
    return state is None or state.startswith("08") or state in _GONE_STATES


@contextmanager
def lost_connections() -> Iterator[None]:
    """Raises ConnectionLost, chained to the driver's error, for a lost connection inside the block;
    every other error passes unchanged."""
    try:
        yield
    except DRIVER_ERRORS as exc:
        if is_connection_lost(exc):
            raise ConnectionLost(str(exc)) from exc
        raise
