"""The embedded default: a first start needs no step, Cyrillic and Romanian fold under LANG=C, two terminals
starting at once share one server, and the office server takes password logins over the network."""

from __future__ import annotations

import getpass
import os
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pexpect
import psycopg
import pytest

from db.embedded import EmbeddedServer


def run(home, *args, stdin: str | None = None, lang: str = "C") -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("LC_", "CLIENTBASE_"))}
    env.update(CLIENTBASE_HOME=str(home), LANG=lang, LC_ALL=lang)
    return subprocess.run([sys.executable, "-m", "tui.cli", *args], env=env, input=stdin, capture_output=True,
                          text=True, timeout=180)


@pytest.fixture
def home(tmp_path):
    home = tmp_path / "cb"
    yield home
    EmbeddedServer(home).stop()


def test_first_start_under_lang_c_makes_a_unicode_aware_base(home):
    started = run(home, "init")
    assert started.returncode == 0, started.stderr
    url = run(home, "db", "url").stdout.strip()
    assert getpass.getuser() in url
    with psycopg.connect(url, autocommit=True) as conn:
        assert conn.execute("SELECT session_user").fetchone()[0] == getpass.getuser()
        assert conn.execute("SELECT pg_has_role(session_user, 'clientbase_admin', 'USAGE')").fetchone()[0]
        conn.execute("INSERT INTO client (last_name, first_name) VALUES ('ИВАНОВ', 'Пётр'), ('Ștefănescu', 'Ion')")
        assert conn.execute("SELECT lower('ИВАНОВ'), upper('ștefănescu')").fetchone() == ("иванов", "ȘTEFĂNESCU")
        assert conn.execute("SELECT count(*) FROM client WHERE last_name ILIKE '%иван%'").fetchone()[0] == 1
        assert conn.execute("SELECT search FROM client ORDER BY id").fetchall() == [("иванов петр",),
                                                                                   ("stefanescu ion",)]
        # pg_trgm sees Cyrillic letters as letters (with a C ctype it would make no trigrams at all).
        assert conn.execute("SELECT similarity('Иванов', 'Иваноф') > 0.3, show_trgm('Ёж') <> '{}'").fetchone() \
            == (True, True)
        conn.execute("SET enable_seqscan = off")
        assert conn.execute("SELECT count(*) FROM client WHERE search LIKE '%ванов%'").fetchone()[0] == 1
    again = run(home, "init")
    assert again.returncode == 0 and "Applied" not in again.stdout


def test_two_terminals_starting_at_once_share_one_server(home):
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: run(home, "init"), range(2)))
    assert [result.returncode for result in results] == [0, 0], [result.stderr for result in results]
    assert EmbeddedServer(home).is_running()
    postmasters = subprocess.run(["pgrep", "-f", f"postgres.*{home}/pgdata"], capture_output=True, text=True)
    assert len(postmasters.stdout.split()) == 1


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_office_server_takes_password_logins_over_the_network(home):
    port = _free_port()
    started = run(home, "server", "start", "--listen", "127.0.0.1", "--port", str(port))
    assert started.returncode == 0, started.stderr
    assert f"127.0.0.1:{port}" in started.stdout
    added = run(home, "user", "add", "office_seller", "--role", "sales", "--password-stdin", stdin="s3cret word\n")
    assert added.returncode == 0, added.stderr
    url = f"postgresql://office_seller@127.0.0.1:{port}/clientbase"
    with psycopg.connect(url, password="s3cret word") as conn:
        assert conn.execute("SELECT count(*) FROM client").fetchone() == (0,)
    refused = run(home, "--database", f"postgresql://office_seller:wrong@127.0.0.1:{port}/clientbase",
                  "settings", "list")
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "refused the login 'office_seller'" in refused.stderr
    allowed = run(home, "--database", f"postgresql://office_seller:s3cret%20word@127.0.0.1:{port}/clientbase",
                  "settings", "list")
    assert allowed.returncode == 0 and "phone_country" in allowed.stdout
    # At a keyboard, a server that wants a password gets asked for it once.
    env = {key: value for key, value in os.environ.items() if not key.startswith("CLIENTBASE_")}
    env["CLIENTBASE_HOME"] = str(home)
    prompted = pexpect.spawn(sys.executable, ["-m", "tui.cli", "--database", url, "settings", "get", "currency"],
                             env=env, encoding="utf-8", timeout=60)
    prompted.expect("Password for office_seller: ")
    prompted.sendline("s3cret word")
    prompted.expect(pexpect.EOF)
    prompted.close()
    assert prompted.exitstatus == 0 and "RUB" in prompted.before
    status = run(home, "server", "status")
    assert status.returncode == 0 and f"127.0.0.1:{port}" in status.stdout
    stopped = run(home, "server", "stop")
    assert stopped.returncode == 0
    assert run(home, "server", "status").returncode == 3


def test_user_flag_opens_as_that_login(home):
    assert run(home, "user", "add", "anna", "--role", "sales").returncode == 0
    as_anna = run(home, "--user", "anna", "settings", "set", "currency", "EUR")
    assert as_anna.returncode == 1 and "Only an administrator" in as_anna.stderr
    assert run(home, "--user", "anna", "settings", "get", "currency").stdout.strip() == "RUB"
    assert run(home, "server", "start").returncode == 0
    assert "there is no embedded" not in run(home, "server", "status").stdout
