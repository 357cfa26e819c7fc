"""Where the database is and how to reach it: a URL from the user, or the embedded server.

`resolve()` turns the command line and the environment into a `Target`; `open_app_database()` binds the
peewee database the rest of db/ uses. Connection failures become one plain sentence here.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from db import migrate, users
from db.embedded import SUPERUSER, EmbeddedServer, default_home
from db.errors import UserError
from db.i18n import N_

DATABASE_NAME = "clientbase"
MIN_SERVER_VERSION = 150000


def os_login() -> str:
    return getpass.getuser()


@dataclass(frozen=True)
class Target:
    """A database and the login to use on it."""

    url: str
    login: str
    embedded: EmbeddedServer | None = None
    password: str | None = None

    @property
    def display(self) -> str:
        if self.embedded is not None:
            return f"embedded, {self.embedded.home}"
        parts = conninfo_to_dict(self.url)
        host = parts.get("host") or "localhost"
        port = parts.get("port") or "5432"
        return f"{host}:{port}/{parts.get('dbname', '')}"

    def conninfo(self, **overrides: str | int | None) -> str:
        extra: dict[str, str | int | None] = {"user": self.login, "application_name": "clientbase"}
        if self.password is not None:
            extra["password"] = self.password
        extra.update(overrides)
        return make_conninfo(self.url, **extra)

    def owner_conninfo(self, dbname: str | None = None) -> str:
        """The connection that may create the schema and logins: the embedded superuser, or the URL as given."""
        if self.embedded is not None:
            return self.embedded.url(SUPERUSER, dbname or DATABASE_NAME)
        extra = {"application_name": "clientbase"}
        if dbname:
            extra["dbname"] = dbname
        if self.password is not None:
            extra["password"] = self.password
        return make_conninfo(self.url, **extra)

    def with_password(self, password: str) -> "Target":
        return replace(self, password=password)


def resolve(database_url: str | None = None, login: str | None = None, home: Path | None = None) -> Target:
    """The command line wins over CLIENTBASE_DATABASE_URL, which wins over the embedded server."""
    url = database_url or os.environ.get("CLIENTBASE_DATABASE_URL")
    if url:
        if any("\ud800" <= ch <= "\udfff" or ch == "\x00" for ch in url):
            raise UserError(N_("The database address '{url}' is not a PostgreSQL URL (it should start with "
                               "postgresql://)."), url=url.encode("utf-8", "backslashreplace").decode())
        scheme = urlsplit(url).scheme
        if scheme not in ("postgresql", "postgres"):
            raise UserError(N_("The database address '{url}' is not a PostgreSQL URL (it should start with "
                               "postgresql://)."), url=url)
        try:
            parts = conninfo_to_dict(url)
        except psycopg.ProgrammingError:
            raise UserError(N_("The database address '{url}' is not a PostgreSQL URL (it should start with "
                               "postgresql://)."), url=url) from None
        if parts.get("options"):
            # Server options in the URL change the session under the program's feet (a search_path that
            # hides the schema, read-only transactions, a bad -c): each failed later as a traceback.
            raise UserError(N_("The database URL sets server options ('{options}'); clientbase sets its own session, "
                               "so remove 'options' from the URL."), options=parts["options"])
        user = parts.get("user")
        return Target(url=url, login=login or (str(user) if user else os_login()))
    server = EmbeddedServer(home or default_home())
    return Target(url=server.url(SUPERUSER), login=login or os_login(), embedded=server)


def describe_failure(exc: psycopg.OperationalError, target: Target) -> UserError:
    message = str(exc).strip()
    lowered = message.lower()
    if "password authentication failed" in lowered or "no password supplied" in lowered:
        return UserError(N_("The database "
                            "refused the login '{login}': wrong password or no such login."), login=target.login)
    if f'role "{target.login}" does not exist' in message:
        return UserError(N_("There is no login '{login}' on this database; an administrator can add it with "
                            "'clientbase user add {login} --role sales'."), login=target.login)
    first = message.splitlines()[0] if message else "no answer"
    reason = first.rsplit(" failed: ", 1)[-1].removeprefix("FATAL:").strip().rstrip(".")
    return UserError(N_("Cannot reach the database at {where}: {reason}."), where=target.display, reason=reason)


def needs_password(exc: psycopg.OperationalError) -> bool:
    lowered = str(exc).lower()
    return "no password supplied" in lowered or "password authentication failed" in lowered


def connect(conninfo: str, target: Target, **kwargs: Any) -> psycopg.Connection:
    try:
        conn = psycopg.connect(conninfo, connect_timeout=10, **kwargs)
    except psycopg.OperationalError as exc:
        raise describe_failure(exc, target) from None
    if conn.info.server_version < MIN_SERVER_VERSION:
        version = conn.info.parameter_status("server_version")
        conn.close()
        raise UserError(N_("PostgreSQL "
                           "{version} is too old; clientbase needs PostgreSQL 15 or newer."), version=version)
    return conn


def prepare_embedded(target: Target, *, create: bool = True) -> list[migrate.Migration]:
    """Starts the embedded server; creates the database, the schema and the OS user's admin login when
    missing and upgrades the schema, since this database belongs to the person running it. With
    create=False a missing base is an error: only the app's first start and `init` make one, so that a
    mistyped CLIENTBASE_HOME is said instead of quietly giving an empty base."""
    server = target.embedded
    assert server is not None
    # Held to the end, so that two terminals starting at once create the database and the login once.
    with server.start_lock():
        if not create and not server.is_initialised():
            raise UserError(N_("There is no embedded database in {home} yet; start 'clientbase' or run 'clientbase "
                               "init' to create it (or set CLIENTBASE_HOME to where it is)."), home=server.home)
        server.ensure_running_locked()
        return bootstrap_embedded(server, target, create=create)


def bootstrap_embedded(server: EmbeddedServer, target: Target, *, create: bool = True) -> list[migrate.Migration]:
    """The database, the schema and the OS user's admin login on a running server (under its start lock)."""
    with connect(server.url(SUPERUSER, "postgres"), target, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE_NAME,)).fetchone()
        if not exists:
            if not create:
                raise UserError(N_("There is no embedded database in {home} yet; start 'clientbase' or run "
                                   "'clientbase "
                                   "init' to create it (or set CLIENTBASE_HOME to where it is)."), home=server.home)
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
        # The server's own databases keep PostgreSQL's defaults (any login may connect and make temporary
        # objects and large objects there): a second place for a reading login to store data. Nobody but
        # the superuser needs them.
        conn.execute("REVOKE CONNECT, TEMPORARY ON DATABASE postgres, template1 FROM PUBLIC")
    with connect(target.owner_conninfo(), target, autocommit=True) as conn:
        applied = migrate.migrate(conn)
        if not users.login_exists(conn, os_login()):
            users.add_login(conn, os_login(), "admin", exist_ok=True)
    return applied


def check_schema(target: Target) -> int:
    with connect(target.conninfo(), target) as conn:
        return migrate.check_compatible(conn)
