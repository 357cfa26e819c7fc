"""The app's connection: binds the peewee database to a Target and says who is connected."""

from __future__ import annotations

from dataclasses import dataclass

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
    database.init(params.pop("dbname", None), **params)
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
