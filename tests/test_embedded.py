"""The embedded default: a first start needs no step, Cyrillic and Romanian fold under LANG=C, two terminals
starting at once share one server, and the office server takes password logins over the network."""

from __future__ import annotations

import getpass
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pexpect
import psycopg
import pytest

from db.embedded import AUTH_DELAY_MS, EmbeddedServer


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
    # Guessing passwords is slowed down: every wrong one costs the delay.
    for _ in range(3):
        began = time.monotonic()
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(url, password="a wrong guess", connect_timeout=10)
        assert time.monotonic() - began >= AUTH_DELAY_MS / 1000
    status = run(home, "server", "status")
    assert status.returncode == 0 and f"127.0.0.1:{port}" in status.stdout
    stopped = run(home, "server", "stop")
    assert stopped.returncode == 0
    assert run(home, "server", "status").returncode == 3


def test_user_flag_opens_as_that_login(home):
    assert run(home, "init").returncode == 0
    assert run(home, "user", "add", "anna", "--role", "sales").returncode == 0
    as_anna = run(home, "--user", "anna", "settings", "set", "currency", "EUR")
    assert as_anna.returncode == 1 and "Only an administrator" in as_anna.stderr
    assert run(home, "--user", "anna", "settings", "get", "currency").stdout.strip() == "RUB"
    local = run(home, "server", "start")
    assert local.returncode == 0
    # Without --listen nothing listens on the network, and the message says so instead of an address template.
    assert "this computer only" in local.stdout and "--listen 0.0.0.0" in local.stdout
    assert "THIS-COMPUTER-ADDRESS" not in local.stdout
    assert "there is no embedded" not in run(home, "server", "status").stdout


def assert_one_sentence(result, fragment: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert fragment in lines[0], lines[0]


def test_a_bad_server_start_keeps_the_running_server_and_a_good_one_always_recovers(home):
    port = _free_port()
    assert run(home, "server", "start", "--listen", "127.0.0.1", "--port", str(port)).returncode == 0
    saved = EmbeddedServer(home).config_file.read_text()
    url = f"postgresql://127.0.0.1:{port}/clientbase?user=postgres"

    def still_serving() -> None:
        status = run(home, "server", "status")
        assert status.returncode == 0 and "encrypted listener (TLS) runs on" in status.stdout
        assert EmbeddedServer(home).config_file.read_text() == saved
        with psycopg.connect(EmbeddedServer(home).url()) as conn:
            # The server sits beside its TLS gateway, on loopback.
            assert conn.execute("SELECT current_setting('port')").fetchone() == (str(port + 1),)
        # The network listener is the old one too (the superuser has no password: refused, but reached).
        with pytest.raises(psycopg.OperationalError, match="password"):
            psycopg.connect(url, connect_timeout=10)

    assert_one_sentence(run(home, "server", "start", "--port", "99999"), "from 1 to 65535, not 99999")
    still_serving()
    assert_one_sentence(run(home, "server", "start", "--listen", "not-an-ip"), "not 'not-an-ip'")
    still_serving()
    # Valid values the server cannot take: a port another program holds.
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        busy = squatter.getsockname()[1]
        failed = run(home, "server", "start", "--port", str(busy))
        assert_one_sentence(failed, f"could not start on 127.0.0.1:{busy}")
        assert f"runs as before, on 127.0.0.1:{port}" in failed.stderr
        still_serving()
    # The same when the port the server itself would take, beside the gateway's, is held.
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        beside = squatter.getsockname()[1] - 1
        failed = run(home, "server", "start", "--port", str(beside))
        assert_one_sentence(failed, f"could not start on 127.0.0.1:{beside}")
        still_serving()
    # A later start with good values moves the server.
    other = _free_port()
    moved = run(home, "server", "start", "--port", str(other))
    assert moved.returncode == 0 and f"127.0.0.1:{other}" in moved.stdout, moved.stderr
    # A bad value saved by an older version, with the server stopped: a start still works.
    assert run(home, "server", "stop").returncode == 0
    EmbeddedServer(home).config_file.write_text(json.dumps({"port": 99999, "listen": "not-an-ip"}))
    recovered = run(home, "server", "start", "--port", str(port))
    assert recovered.returncode == 0, recovered.stderr
    assert json.loads(EmbeddedServer(home).config_file.read_text()) == {"port": port, "listen": "", "cert": "",
                                                                        "key": ""}


def test_commands_other_than_init_and_the_app_do_not_create_a_base(home, tmp_path):
    source = tmp_path / "people.csv"
    source.write_text("Фамилия;Имя\nИванов;Пётр\n", encoding="utf-8")
    for args in (["db", "url"], ["import", str(source), "--dry-run"], ["user", "list"],
                 ["settings", "list"], ["demo", "--clients", "10"], ["user", "password", "x"],
                 ["backup", str(tmp_path / "base.dump")]):
        assert_one_sentence(run(home, *args), f"There is no embedded database in {home}")
    assert not (home / "pgdata").exists()
    assert run(home, "init").returncode == 0
    assert run(home, "db", "url").returncode == 0


def test_the_server_runs_in_a_group_of_its_own(pg_server):
    if os.geteuid() != 0:
        pytest.skip("the server runs as its own system user only when clientbase runs as root")
    pid = int((pg_server.pgdata / "postmaster.pid").read_text().split()[0])
    status = dict(line.split(":", 1) for line in open(f"/proc/{pid}/status").read().splitlines() if ":" in line)
    assert "0" not in status["Gid"].split()
    assert "0" not in status["Groups"].split()
    assert "0" not in status["Uid"].split()


def deep_home(tmp_path):
    """A home so deep that the socket falls back to /tmp/clientbase-<hash>."""
    home = tmp_path / ("d" * 60) / ("e" * 60) / "cb"
    assert EmbeddedServer(home).socket_dir.parent == Path("/tmp")
    return home


@pytest.mark.parametrize("planted", ["symlink", "foreign folder", "open folder"])
def test_a_planted_socket_folder_is_refused(tmp_path, planted):
    home = deep_home(tmp_path)
    server = EmbeddedServer(home)
    socket_dir = server.socket_dir
    target = tmp_path / "victim"
    target.mkdir(mode=0o755)
    try:
        if planted == "symlink":
            socket_dir.symlink_to(target)
        else:
            socket_dir.mkdir(mode=0o777)
            socket_dir.chmod(0o777)
            if planted == "foreign folder":
                os.chown(socket_dir, 65534, 65534)
        before = os.stat(target)
        assert_one_sentence(run(home, "init"), f"The socket folder {socket_dir} already exists")
        after = os.stat(target)
        assert (after.st_uid, after.st_gid, stat.S_IMODE(after.st_mode)) == \
            (before.st_uid, before.st_gid, stat.S_IMODE(before.st_mode))
        assert not server.is_running()
    finally:
        server.stop()
        if socket_dir.is_symlink():
            socket_dir.unlink()
        elif socket_dir.exists():
            shutil.rmtree(socket_dir)


def test_a_deep_home_gets_a_private_socket_folder(tmp_path):
    home = deep_home(tmp_path)
    server = EmbeddedServer(home)
    try:
        assert run(home, "init").returncode == 0
        info = os.lstat(server.socket_dir)
        assert stat.S_ISDIR(info.st_mode) and stat.S_IMODE(info.st_mode) == 0o700
        assert run(home, "db", "url").returncode == 0
    finally:
        server.stop()
        shutil.rmtree(server.socket_dir, ignore_errors=True)
