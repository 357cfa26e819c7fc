"""The command line against a real database: one sentence and a non-zero exit for every user mistake."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pexpect
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


def spawn(env, *args) -> pexpect.spawn:
    return pexpect.spawn(sys.executable, ["-m", "tui.cli", *args], env=env, encoding="utf-8", timeout=60)


def closed_stdin(env, *args) -> subprocess.CompletedProcess:
    """Run with file descriptor 0 closed altogether, as from a daemon or `cmd <&-`."""
    return subprocess.run([sys.executable, "-m", "tui.cli", *args], env=env, capture_output=True, text=True,
                          timeout=120, stdin=None, preexec_fn=lambda: os.close(0))


def test_user_password_names_a_missing_login_first_and_needs_a_terminal(fresh_db):
    env = fresh_db.env()
    assert run(env, "user", "add", "pw_user", "--role", "sales").returncode == 0
    try:
        # A missing login is said before any password is asked for.
        assert_one_sentence(run(env, "user", "password", "nobody_here", stdin=""), "There is no login 'nobody_here'")
        missing = spawn(env, "user", "password", "nobody_here")
        missing.expect(pexpect.EOF)
        missing.close()
        assert missing.exitstatus == 1 and "There is no login 'nobody_here'" in missing.before
        assert "New password" not in missing.before
        # Ctrl+D at the prompt: one sentence, nothing changed.
        eof = spawn(env, "user", "password", "pw_user")
        eof.expect("New password for pw_user: ")
        eof.sendeof()
        eof.expect(pexpect.EOF)
        eof.close()
        assert eof.exitstatus == 1 and "No password was given" in eof.before and "Traceback" not in eof.before
        # No terminal at all: stdin from a file, or closed.
        assert_one_sentence(run(env, "user", "password", "pw_user", stdin=""), "no terminal to type the password")
        assert_one_sentence(closed_stdin(env, "user", "password", "pw_user"), "no terminal to type the password")
        assert_one_sentence(closed_stdin(env, "user", "password", "pw_user", "--password-stdin"),
                            "password read from standard input is empty")
        with psycopg.connect(fresh_db.url()) as conn:
            assert conn.execute("SELECT rolpassword FROM pg_authid WHERE rolname = 'pw_user'").fetchone() == (None,)
        typed = spawn(env, "user", "password", "pw_user")
        typed.expect("New password for pw_user: ")
        typed.sendline("typed secret")
        typed.expect(pexpect.EOF)
        typed.close()
        assert typed.exitstatus == 0 and "Password changed for pw_user" in typed.before
        with psycopg.connect(fresh_db.url()) as conn:
            stored = conn.execute("SELECT rolpassword FROM pg_authid WHERE rolname = 'pw_user'").fetchone()[0]
        assert stored.startswith("SCRAM-SHA-256$")
    finally:
        with psycopg.connect(fresh_db.url(), autocommit=True) as conn:
            conn.execute("DROP ROLE IF EXISTS pw_user")


def test_the_server_log_is_private_and_holds_no_password(fresh_db):
    env = fresh_db.env()
    assert run(env, "user", "add", "log_user", "--role", "sales").returncode == 0
    try:
        # Refused statements are logged with their text: a salesperson may not set passwords.
        refused = run(fresh_db.env("sales"), "user", "password", "log_user", "--password-stdin",
                      stdin="clear-secret-one\n")
        assert_one_sentence(refused, "may not manage logins")
        refused_add = run(fresh_db.env("sales"), "user", "add", "log_user2", "--role", "sales", "--password-stdin",
                          stdin="clear-secret-two\n")
        assert_one_sentence(refused_add, "may not manage logins")
        changed = run(env, "user", "password", "log_user", "--password-stdin", stdin="clear-secret-three\n")
        assert changed.returncode == 0, changed.stderr
        log = fresh_db.server.log_file
        text = log.read_text(errors="replace")
        assert "permission denied" in text  # the refusals were logged, passwords left out
        for secret in ("clear-secret-one", "clear-secret-two", "clear-secret-three"):
            assert secret not in text
        assert stat.S_IMODE(log.stat().st_mode) == 0o600
    finally:
        with psycopg.connect(fresh_db.url(), autocommit=True) as conn:
            conn.execute("DROP ROLE IF EXISTS log_user")


def test_text_that_is_not_utf8_on_the_command_line_is_one_sentence(fresh_db, tmp_path):
    env = fresh_db.env()
    for args, option in [(["--user", b"ann\xffa", "settings", "list"], "--user"),
                         (["export", str(tmp_path / "out.csv"), "--search", b"\xd0\xb8\xff"], "--search"),
                         (["export", str(tmp_path / "out.csv"), "--segment", b"seg\xfe"], "--segment"),
                         (["user", "add", b"\xffx", "--role", "sales"], "login")]:
        result = subprocess.run([sys.executable, "-m", "tui.cli", *args], env=env, capture_output=True, text=True,
                                timeout=120)
        assert_one_sentence(result, f"{option} holds bytes that are not UTF-8 text")
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize("options", ["-c%20foo", "garbage", "-c%20search_path%3Dnowhere",
                                     "-c%20default_transaction_read_only%3Don"])
def test_a_url_with_server_options_is_one_sentence(fresh_db, options):
    env = fresh_db.env()
    url = f"{fresh_db.url()}&options={options}"
    for args in (["settings", "set", "currency", "EUR"], ["init"], ["user", "list"]):
        assert_one_sentence(run(env, "--database", url, *args), "sets server options")
