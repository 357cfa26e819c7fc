"""The app's connection: binds the peewee database to a Target and says who is connected."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, TypeVar

import peewee
import psycopg
from psycopg.conninfo import conninfo_to_dict

from . import migrate, users
from .connection import Target, describe_failure
from .models import database


@dataclass(frozen=True)
class Identity:
    login: str
    role: str | None
    database: str
    schema_version: int
    server_version: str

    @property
    def can_write(self) -> bool:
        return self.role == "admin"


def bind(target: Target) -> None:
    """Points the shared peewee database at `target`; connections open lazily, one per thread, pooled."""
    if database.database is not None:
        database.close_all()
    params = conninfo_to_dict(target.conninfo(connect_timeout=10))
    # No server-side prepared statements: a generic plan would not see the search pattern, and the
    # trigram-or-btree choice depends on it.
    database.init(params.pop("dbname", None), prepare_threshold=None, **params)
    database._clientbase_target = target  # for error messages that name the database


def identity(target: Target) -> Identity:
    try:
        with database.connection_context():
            conn: psycopg.Connection = database.connection()
            version = migrate.check_compatible(conn)
            login = conn.execute("SELECT session_user").fetchone()[0]
            role = users.role_of(conn, login)
            conn.rollback()
            return Identity(
                login=login,
                role=role,
                database=target.display,
                schema_version=version,
                server_version=conn.info.parameter_status("server_version") or "",
            )
    except psycopg.OperationalError as exc:
        raise describe_failure(exc, target) from None


T = TypeVar("T")
# SQLSTATEs of a connection that is gone: class 08, and the server shutting down or starting up.
_GONE_STATES = ("57P01", "57P02", "57P03")


class ConnectionLost(Exception):
    """The database cannot be reached right now; the caller says so and tries again later."""


def is_connection_lost(exc: BaseException) -> bool:
    failure = getattr(exc, "orig", None) or exc
    if isinstance(failure, psycopg.InterfaceError):
        return True
    if not isinstance(failure, psycopg.OperationalError):
        return isinstance(exc, peewee.InterfaceError) or (
            isinstance(exc, peewee.OperationalError) and getattr(exc, "orig", None) is None)
    state = failure.sqlstate
    # No SQLSTATE: the client noticed (refused, reset, closed); a cancelled query has one (57014).
    return state is None or state.startswith("08") or state in _GONE_STATES


def read(action: Callable[..., T], *args: object, **kwargs: object) -> T:
    """Runs a read; if the pooled connection died (a server restart kills them all at once), drops
    the dead connections and tries once more on a new one. Reads only: a write may have been committed
    just before its connection broke. Raises ConnectionLost if the database is still unreachable."""
    try:
        return action(*args, **kwargs)
    except _DRIVER_ERRORS as exc:
        _drop_if_lost(exc)
    try:
        return action(*args, **kwargs)
    except _DRIVER_ERRORS as exc:
        _drop_if_lost(exc)
        raise ConnectionLost(str(exc)) from exc


_DRIVER_ERRORS = (peewee.OperationalError, peewee.InterfaceError, psycopg.OperationalError, psycopg.InterfaceError)


def _drop_if_lost(exc: BaseException) -> None:
    if not is_connection_lost(exc):
        raise exc
    database.close_all()


def ping() -> None:
    """Raises ConnectionLost unless a fresh query gets through."""
    def select_one() -> None:
        with database.connection_context():
            database.execute_sql("SELECT 1").fetchone()

    read(select_one)
