"""Numbered migrations: safe to run twice, upgrade a database left at the previous version, and an app
older than its database refuses to start with one sentence."""

from __future__ import annotations

import subprocess
import sys

import psycopg
import pytest

from db import migrate
from db.errors import SchemaMismatch, UserError
from db.i18n import N_


@pytest.fixture
def empty_db(pg_server):
    name = "t_empty_migrations"
    with psycopg.connect(pg_server.url("postgres", "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield pg_server.url("postgres", name)
    with psycopg.connect(pg_server.url("postgres", "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_init_twice_applies_nothing_the_second_time(empty_db):
    with psycopg.connect(empty_db, autocommit=True) as conn:
        first = migrate.migrate(conn)
        second = migrate.migrate(conn)
        assert [m.version for m in first] == [m.version for m in migrate.migrations()]
        assert second == []
        assert migrate.check_compatible(conn) == migrate.LATEST


def test_upgrade_from_the_previous_migration_keeps_the_data(empty_db):
    previous = migrate.migrations()[-2].version
    with psycopg.connect(empty_db, autocommit=True) as conn:
        migrate.migrate(conn, upto=previous)
        assert migrate.schema_version(conn) == previous
        with pytest.raises(SchemaMismatch, match="run 'clientbase init'"):
            migrate.check_compatible(conn)
        conn.execute("INSERT INTO client (last_name, first_name) VALUES ('Ceban', 'Ana')")
        applied = migrate.migrate(conn)
        assert [m.version for m in applied] == [m.version for m in migrate.migrations() if m.version > previous]
        assert conn.execute("SELECT first_name FROM client").fetchall() == [("Ana",)]


def test_a_database_newer_than_the_app_is_refused(fresh_db):
    with fresh_db.connect(autocommit=True) as conn:
        conn.execute("INSERT INTO schema_migration (version, name) VALUES (%s, 'from the future')",
                     (migrate.LATEST + 1,))
        with pytest.raises(SchemaMismatch, match="newer clientbase"):
            migrate.check_compatible(conn)
        with pytest.raises(SchemaMismatch):
            migrate.migrate(conn)
    result = subprocess.run([sys.executable, "-m", "tui.cli", "settings", "list"], env=fresh_db.env("sales"),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "newer clientbase" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("role", ["manager", "sales", "mailer"])
def test_init_by_a_reading_login_is_refused_with_one_sentence(fresh_db, role):
    """The migration lock is an advisory lock, which reading logins may no longer take (0008)."""
    with fresh_db.connect(role, autocommit=True) as conn:
        with pytest.raises(UserError, match="may not create the schema"):
            migrate.migrate(conn)


def test_an_upgrade_held_up_by_an_idle_transaction_says_by_whom_and_changes_nothing(fresh_db, monkeypatch):
    upgrade = migrate.Migration(migrate.LATEST + 1, "needs the client table alone",
                                "ALTER TABLE client ADD COLUMN nickname text")
    known = migrate.migrations()
    monkeypatch.setattr(migrate, "migrations", lambda: [*known, upgrade])
    monkeypatch.setattr(migrate, "LATEST", upgrade.version)
    monkeypatch.setattr(migrate, "MIGRATION_LOCK_TIMEOUT_MS", 1000)
    with fresh_db.connect("sales") as idle:
        idle.execute("SELECT 1 FROM client LIMIT 1")  # and stays in its transaction
        with fresh_db.connect(autocommit=True) as conn:
            with pytest.raises(UserError) as refused:
                migrate.migrate(conn)
    assert refused.value.key == N_("The upgrade waited {seconds} s for other sessions that keep the tables busy, "
                                   "since: {sessions}; ask them to close clientbase, then run 'clientbase init' "
                                   "again. Nothing was changed.")
    assert "t_sales" in str(refused.value) and "Nothing was changed" in str(refused.value)
    with fresh_db.connect() as conn:
        assert conn.execute("SELECT max(version) FROM schema_migration").fetchone()[0] == upgrade.version - 1
        assert conn.execute("SELECT count(*) FROM pg_attribute WHERE attrelid = 'client'::regclass "
                            "AND attname = 'nickname'").fetchone()[0] == 0
