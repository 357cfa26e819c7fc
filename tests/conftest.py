"""One real PostgreSQL per test session; every test gets its own database cloned from a migrated template.

The server is the same embedded PostgreSQL the app ships with. Logins for the four roles are created once
(they are cluster-wide); each test's database is a copy of the template, so grants come with it. A test that
starts on a base with data (a demo shop, its analytics) clones a template loaded once per session with it:
cloning copies files, loading runs the generator and rebuilds every index.
"""

from __future__ import annotations

import io
import os
import subprocess
import uuid
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Callable, Hashable

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
        # A test server's data dies with the session, so waiting for the disk on every commit buys nothing;
        # only this throwaway cluster's postgresql.auto.conf is changed, never the app's settings.
        for setting in ("fsync", "synchronous_commit", "full_page_writes"):
            conn.execute(f"ALTER SYSTEM SET {setting} = off")
        conn.execute("SELECT pg_reload_conf()")
        conn.execute(f'CREATE DATABASE "{TEMPLATE}"')
    with psycopg.connect(server.url(SUPERUSER, TEMPLATE), autocommit=True) as conn:
        migrate.migrate(conn)
        for role, login in ROLE_LOGINS.items():
            users.add_login(conn, login, role, exist_ok=True)
    yield server
    server.stop()


def _clone(server: EmbeddedServer, template: str) -> ScratchDatabase:
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server.url(SUPERUSER, "postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    # A clone does not inherit the template's database-level rights (TEMP revoked from PUBLIC), so each
    # test database gets them the way `clientbase init` restores them on a real base.
    with psycopg.connect(server.url(SUPERUSER, name), autocommit=True) as conn:
        conn.execute("SELECT public.cb_secure()")
    return ScratchDatabase(server, name)


def _drop(server: EmbeddedServer, names: list[str]) -> None:
    with psycopg.connect(server.url(SUPERUSER, "postgres"), autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def template_of(pg_server: EmbeddedServer):
    """`template_of(key, fill)`: the name of a template database that `fill` filled, made once per session for
    each key, for `make_db` to clone. `fill` gets a fresh database as tests get theirs and must leave no
    connection open (a template in use cannot be cloned)."""
    made: dict[Hashable, str] = {}

    def template(key: Hashable, fill: Callable[[ScratchDatabase], None]) -> str:
        if key not in made:
            scratch = _clone(pg_server, TEMPLATE)
            try:
                fill(scratch)
            finally:
                from db.models import database

                if not database.deferred:  # the pool of db/ functions a fill used, bound to this database
                    database.close_all()
            made[key] = scratch.name
        return made[key]

    yield template
    _drop(pg_server, list(made.values()))


@pytest.fixture(scope="session")
def demo_template(template_of):
    """`demo_template(clients, seed, as_of, language)`: a template holding `clientbase demo`'s base for those
    arguments (the shop's language when `language` is None), loaded once per session."""
    def template(clients: int, seed: int, as_of: date | None = None, language: str | None = None) -> str:
        as_of = as_of or date.today()

        def fill(db: ScratchDatabase) -> None:
            from db import demo

            with db.connect(autocommit=True) as conn:
                demo.load(conn, clients, seed=seed, as_of=as_of, language=language)

        return template_of(("demo", clients, seed, as_of, language), fill)

    return template


@pytest.fixture
def make_db(pg_server: EmbeddedServer):
    """Makes as many fresh databases as a test needs (two terminals, a restore target, ...): each a clone of the
    migrated template, or of `template` (a name from `template_of` or `demo_template`)."""
    made: list[str] = []

    def make(template: str = TEMPLATE) -> ScratchDatabase:
        db = _clone(pg_server, template)
        made.append(db.name)
        return db

    yield make
    _drop(pg_server, made)


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


@pytest.fixture
def cli_in_process(monkeypatch):
    """`cli_in_process(db, *args, role="admin")`: `clientbase ARGS` run by `tui.cli.main` in this process, with
    the environment `db.env(role)` gives a subprocess, answered as `subprocess.run(..., capture_output=True,
    text=True)` answers. For tests of what a command says and writes: a fresh interpreter would add only its
    start-up (about a second each), which the subprocess tests every command group keeps check. Not for
    commands that install signal handlers (send, serve) or read standard input."""
    from db.models import database
    from tui import i18n
    from tui.cli import main

    def run(db: ScratchDatabase, *args: object, role: str = "admin") -> subprocess.CompletedProcess:
        env = db.env(role)
        argv = [str(arg) for arg in args]
        out, err = io.StringIO(), io.StringIO()
        with monkeypatch.context() as patch:
            for name in set(os.environ) - set(env):
                patch.delenv(name)
            for name, value in env.items():
                patch.setenv(name, value)
            try:
                with redirect_stdout(out), redirect_stderr(err):
                    code = main(argv)
            except SystemExit as exit_:  # argparse's refusals, as the process would exit
                code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
            finally:
                if not database.deferred:
                    database.close_all()
                i18n.settle(environ={})  # no --lang or LANG of the command outlives it
        return subprocess.CompletedProcess(["clientbase", *argv], code, out.getvalue(), err.getvalue())

    return run
