"""The app's connection: binds the peewee database to a Target and says who is connected."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator, TypeVar

import psycopg
from psycopg.conninfo import conninfo_to_dict

from db import migrate, rows, users
from db.connection import Target, describe_failure
from db.errors import DRIVER_ERRORS, ConnectionLost, driver_error, lost_connections
from db.models import database


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


def current_login_and_role() -> tuple[str, str | None]:
    """Who this connection logged in as, and that login's clientbase role."""
    with database.connection_context():
        conn: psycopg.Connection = database.connection()
        login = rows.value(conn.execute("SELECT session_user"))
        role = users.role_of(conn, login)
        conn.rollback()
    return login, role


def identity(target: Target) -> Identity:
    try:
        with database.connection_context():
            conn: psycopg.Connection = database.connection()
            version = migrate.check_compatible(conn)
            server_version = conn.info.parameter_status("server_version") or ""
            conn.rollback()
        login, role = current_login_and_role()
        return Identity(login=login, role=role, database=target.display, schema_version=version,
                        server_version=server_version)
    except psycopg.OperationalError as exc:
        raise describe_failure(exc, target) from None


T = TypeVar("T")


def read(action: Callable[..., T], *args: object, **kwargs: object) -> T:
    """Runs a read; if the pooled connection died (a server restart kills them all at once), drops
    the dead connections and tries once more on a new one. Reads only: a write may have been committed
    just before its connection broke. Raises ConnectionLost if the database is still unreachable."""
    try:
        with lost_connections():
            return action(*args, **kwargs)
    except ConnectionLost:
        database.close_all()
    try:
        with lost_connections():
            return action(*args, **kwargs)
    except ConnectionLost:
        database.close_all()
        raise


@contextmanager
def guarded() -> Iterator[None]:
    """The boundary for work that reaches the database by other paths than `read` and db/card/tx (a
    segment's save, an import or export job): a lost connection leaves it as ConnectionLost, and the
    dead pooled connections are dropped so that the next attempt opens a new one."""
    try:
        with lost_connections():
            yield
    except ConnectionLost:
        database.close_all()
        raise


def ping() -> None:
    """Raises ConnectionLost unless a fresh query gets through."""
    def select_one() -> None:
        with database.connection_context():
            database.execute_sql("SELECT 1").fetchone()

    read(select_one)


class Cancelled(Exception):
    """The read was cancelled by Cancellable.cancel (a newer search superseded it)."""


class Cancellable:
    """Reads that another thread may cancel, statement included: a superseded type-ahead query stops
    using the server's CPU at once instead of running to the end beside the query that replaced it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cancelled = False
        self._running: list[psycopg.Connection] = []

    def run(self, action: Callable[..., T], *args: object) -> T:
        """session.read(action, *args), unless cancelled before or while it runs (then Cancelled)."""

        def registered() -> T:
            with database.connection_context():
                conn = database.connection()
                with self._lock:
                    if self._cancelled:
                        raise Cancelled()
                    self._running.append(conn)
                try:
                    return action(*args)
                except DRIVER_ERRORS as exc:
                    if self._cancelled and isinstance(driver_error(exc), psycopg.errors.QueryCanceled):
                        raise Cancelled() from exc
                    raise
                finally:
                    with self._lock:
                        self._running.remove(conn)

        return read(registered)

    def cancel(self) -> None:
        """Cancels every statement running under this handle, without waiting (a cancel request is a
        connection of its own; over a dead network it could hang, so it goes from a thread)."""
        with self._lock:
            self._cancelled = True
            running = list(self._running)
        for conn in running:
            threading.Thread(target=_send_cancel, args=(conn,), daemon=True).start()


def _send_cancel(conn: psycopg.Connection) -> None:
    try:
        conn.cancel_safe(timeout=5)
    except (psycopg.OperationalError, psycopg.InterfaceError):
        pass  # the connection is gone already, and its statement with it
