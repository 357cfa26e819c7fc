"""One real PostgreSQL per test session; every test gets its own database cloned from a migrated template.

The server is the same embedded PostgreSQL the app ships with. Logins for the four roles are created once
(they are cluster-wide); each test's database is a copy of the template, so grants come with it.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from db import migrate, users
from db.connection import Target
from db.embedded import SUPERUSER, EmbeddedServer

TEMPLATE = "clientbase_template"
ROLE_LOGINS = {"admin": "t_admin", "manager": "t_manager", "sales": "t_sales", "mailer": "t_mailer"}


@dataclass(frozen=True)
class ScratchDatabase:
    server: EmbeddedServer
    name: str

    def url(self, login: str = SUPERUSER) -> str:
        return self.server.url(login, self.name)

    def url_for(self, role: str) -> str:
        return self.url(ROLE_LOGINS[role])

    def connect(self, role: str | None = None, **kwargs) -> psycopg.Connection:
        login = ROLE_LOGINS[role] if role else SUPERUSER
        return psycopg.connect(self.url(login), **kwargs)

    def target(self, role: str = "admin") -> Target:
        return Target(url=self.url(ROLE_LOGINS[role]), login=ROLE_LOGINS[role])

    def env(self, role: str | None = None) -> dict[str, str]:
        """Environment for running the `clientbase` command against this database."""
        env = dict(os.environ)
        env["CLIENTBASE_DATABASE_URL"] = self.url(ROLE_LOGINS[role]) if role else self.url()
        return env


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory) -> EmbeddedServer:
    home = Path(tmp_path_factory.mktemp("pg", numbered=True))
    server = EmbeddedServer(home)
    server.ensure_running()
    with psycopg.connect(server.url(SUPERUSER, "postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{TEMPLATE}"')
    with psycopg.connect(server.url(SUPERUSER, TEMPLATE), autocommit=True) as conn:
        migrate.migrate(conn)
        for role, login in ROLE_LOGINS.items():
            users.add_login(conn, login, role, exist_ok=True)
    yield server
    server.stop()


@pytest.fixture
def make_db(pg_server: EmbeddedServer):
    """Makes as many fresh databases as a test needs (two terminals, a restore target, ...)."""
    made: list[str] = []

    def make() -> ScratchDatabase:
        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(pg_server.url(SUPERUSER, "postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"')
        made.append(name)
        # A clone does not inherit the template's database-level rights (TEMP revoked from PUBLIC), so each
        # test database gets them the way `clientbase init` restores them on a real base.
        with psycopg.connect(pg_server.url(SUPERUSER, name), autocommit=True) as conn:
            conn.execute("SELECT public.cb_secure()")
        return ScratchDatabase(pg_server, name)

    yield make
    with psycopg.connect(pg_server.url(SUPERUSER, "postgres"), autocommit=True) as conn:
        for name in made:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def fresh_db(make_db) -> ScratchDatabase:
    return make_db()


@pytest.fixture
def admin_session(fresh_db: ScratchDatabase) -> ScratchDatabase:
    """db/ functions bound to a fresh database as the administrator login."""
    from db import session
    session.bind(fresh_db.target("admin"))
    yield fresh_db
    from db.models import database

    database.close_all()
