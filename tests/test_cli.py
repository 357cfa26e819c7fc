"""The command line against a real database: one sentence and a non-zero exit for every user mistake."""

from __future__ import annotations

import subprocess
import sys

import psycopg
import pytest


def run(env, *args, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tui.cli", *args], env=env, input=stdin, capture_output=True,
                          text=True, timeout=120)


def assert_one_sentence(result, fragment: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert fragment in lines[0]


def test_user_add_and_list(fresh_db):
    env = fresh_db.env()
    added = run(env, "user", "add", "cli_seller", "--role", "sales")
    assert added.returncode == 0 and "Added cli_seller as sales" in added.stdout
    listed = run(env, "user", "list")
    assert listed.returncode == 0
    assert any(line.split() == ["cli_seller", "sales"] for line in listed.stdout.splitlines())
    with psycopg.connect(fresh_db.url("cli_seller")) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO client (last_name) VALUES ('x')")
    with psycopg.connect(fresh_db.url(), autocommit=True) as conn:
        conn.execute("DROP ROLE cli_seller")


def test_user_mistakes(fresh_db):
    env = fresh_db.env()
    assert_one_sentence(run(env, "user", "add", "someone", "--role", "boss"), "Unknown role 'boss'")
    assert_one_sentence(run(env, "user", "add", "t_sales", "--role", "sales"), "already exists")
    assert_one_sentence(run(env, "user", "add", "bad name;", "--role", "sales"), "A login may hold only")
    assert_one_sentence(run(env, "user", "add", "x_empty", "--role", "sales", "--password-stdin", stdin="\n"),
                        "password read from standard input is empty")
    # A salesperson cannot create logins.
    assert_one_sentence(run(fresh_db.env("sales"), "user", "add", "sneaky", "--role", "admin"), "may not")


def test_connection_mistakes(fresh_db):
    env = fresh_db.env()
    env["CLIENTBASE_DATABASE_URL"] = "mysql://somewhere/db"
    assert_one_sentence(run(env, "settings", "list"), "not a PostgreSQL URL")
    assert_one_sentence(run(env, "--database", "postgresql://nobody@127.0.0.1:1/clientbase", "settings", "list"),
                        "Cannot reach the database at 127.0.0.1:1/clientbase")
    assert_one_sentence(run(env, "--database", fresh_db.url("no_such_login"), "settings", "list"),
                        "There is no login 'no_such_login'")


def test_settings(fresh_db):
    admin = fresh_db.env("admin")
    assert run(admin, "settings", "get", "phone_country").stdout.strip() == "RU"
    changed = run(admin, "settings", "set", "send_window", " 9:30 - 19:00 ")
    assert changed.returncode == 0 and changed.stdout.strip() == "send_window = 09:30-19:00"
    listed = run(fresh_db.env("sales"), "settings", "list").stdout
    assert "09:30-19:00" in listed and "(changed)" in listed
    assert_one_sentence(run(admin, "settings", "set", "phone_country", "XX"), "two-letter country code")
    assert_one_sentence(run(admin, "settings", "set", "send_window", "18:00-10:00"), "a window such as")
    assert_one_sentence(run(admin, "settings", "set", "timezone", "Mars/Base"), "time zone")
    assert_one_sentence(run(admin, "settings", "set", "no_such", "1"), "There is no setting 'no_such'")
    assert_one_sentence(run(fresh_db.env("sales"), "settings", "set", "currency", "EUR"),
                        "Only an administrator may change settings")
    assert run(admin, "settings", "get", "currency").stdout.strip() == "RUB"


def test_init_is_idempotent_and_db_url_prints_the_url(fresh_db):
    env = fresh_db.env()
    first = run(env, "init")
    assert first.returncode == 0 and "Schema is at version" in first.stdout and "Applied" not in first.stdout
    assert run(env, "db", "url").stdout.strip() == fresh_db.url()


def test_demo_on_a_url_and_its_mistakes(fresh_db):
    env = fresh_db.env()
    loaded = run(env, "demo", "--clients", "300", "--seed", "3")
    assert loaded.returncode == 0 and "Loaded 300 clients" in loaded.stdout
    assert_one_sentence(run(env, "demo", "--clients", "300"), "already holds 300 clients")
    bad = run(env, "demo", "--clients", "many")
    assert bad.returncode == 2 and "expected a whole number" in bad.stderr and "Traceback" not in bad.stderr
