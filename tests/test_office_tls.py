"""The office listener speaks TLS: the embedded PostgreSQL has no SSL, so a gateway takes the network port,
encrypts, and relays to the server on loopback; a plaintext client is told to add sslmode=require."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ipaddress
import os
import socket
import ssl
import stat
import struct
import threading
import time

import psycopg
import pytest
from cryptography import x509

from db.embedded import EmbeddedServer, certificate_fingerprint
from tests.test_embedded import _free_port, assert_one_sentence, run
from tui.server import office_gateway
from tui.server.office_gateway import Gateway, make_certificate, tls_context


@pytest.fixture
def home(tmp_path):
    home = tmp_path / "cb"
    yield home
    EmbeddedServer(home).stop()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except FileNotFoundError:
        return False


def test_the_office_listener_speaks_only_tls(home, tmp_path):
    port = _free_port()
    started = run(home, "server", "start", "--listen", "127.0.0.1", "--port", str(port))
    assert started.returncode == 0, started.stderr
    server = EmbeddedServer(home)
    cert, key = home / "office-cert.pem", home / "office-key.pem"
    assert server.tls_files() == (cert, key)
    # The printed URL asks for TLS; the certificate's path and fingerprint are said, and how to pin it.
    assert f"'postgresql://LOGIN@127.0.0.1:{port}/clientbase?sslmode=require'" in started.stdout
    fingerprint = ":".join(f"{b:02X}" for b in hashlib.sha256(ssl.PEM_cert_to_DER_cert(cert.read_text())).digest())
    assert certificate_fingerprint(cert) == fingerprint
    assert str(cert) in started.stdout and fingerprint in started.stdout
    assert "sslmode=verify-ca&sslrootcert=" in started.stdout
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(server.gateway_log.stat().st_mode) == 0o600
    names = x509.load_pem_x509_certificate(cert.read_bytes()).extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value
    assert ipaddress.ip_address("127.0.0.1") in names.get_values_for_type(x509.IPAddress)
    assert socket.gethostname() in names.get_values_for_type(x509.DNSName)

    added = run(home, "user", "add", "seller", "--role", "sales", "--password-stdin", stdin="s3cret word\n")
    assert added.returncode == 0, added.stderr
    url = f"postgresql://seller:s3cret%20word@127.0.0.1:{port}/clientbase"
    with psycopg.connect(url + "?sslmode=require", connect_timeout=10) as conn:
        assert conn.pgconn.ssl_in_use
        assert conn.execute("SELECT count(*) FROM client").fetchone() == (0,)
        # A cancel the old way (plaintext, whatever sslmode says, as libpq before 17 sends it) still stops
        # a long query.
        threading.Timer(0.5, lambda: conn.pgconn.get_cancel().cancel()).start()
        began = time.monotonic()
        with pytest.raises(psycopg.errors.QueryCanceled):
            conn.execute("SELECT pg_sleep(20)")
        assert time.monotonic() - began < 10
    for options in (f"sslmode=verify-ca&sslrootcert={cert}", "sslmode=require&sslnegotiation=direct"):
        with psycopg.connect(f"{url}?{options}", connect_timeout=10) as conn:
            assert conn.pgconn.ssl_in_use and conn.execute("SELECT 1").fetchone() == (1,)
    with pytest.raises(psycopg.OperationalError, match="accepts only encrypted connections: add sslmode=require"):
        psycopg.connect(url + "?sslmode=disable", connect_timeout=10)
    # A certificate other than the pinned one is refused.
    make_certificate(tmp_path / "other.pem", tmp_path / "other.key", ["127.0.0.1"])
    with pytest.raises(psycopg.OperationalError, match="certificate verify failed"):
        psycopg.connect(f"{url}?sslmode=verify-ca&sslrootcert={tmp_path / 'other.pem'}", connect_timeout=10)

    # PostgreSQL itself listens on loopback only, beside the gateway, and takes no TCP login without a password.
    with psycopg.connect(server.url(), autocommit=True) as conn:
        assert conn.execute("SELECT current_setting('listen_addresses'), current_setting('port')").fetchone() \
            == ("127.0.0.1", str(port + 1))
        rules = conn.execute("SELECT type, address, auth_method FROM pg_hba_file_rules WHERE type <> 'local'")
        assert sorted(rules.fetchall()) == [("host", "127.0.0.1", "scram-sha-256"), ("host", "::1", "scram-sha-256")]

    status = run(home, "server", "status")
    assert status.returncode == 0
    assert f"encrypted listener (TLS) runs on 127.0.0.1:{port}" in status.stdout and fingerprint in status.stdout
    # The same start again leaves the gateway (and the sessions through it) alone.
    pid = server.gateway_pid()
    assert pid is not None and run(home, "server", "start").returncode == 0
    if os.geteuid() == 0:
        # Started as root to bind the port and read the key, it serves the network as the server's user.
        with open(f"/proc/{pid}/status") as proc_status:
            ids = dict(line.split(":", 1) for line in proc_status.read().splitlines() if ":" in line)
        assert "0" not in ids["Uid"].split() + ids["Gid"].split() + ids["Groups"].split()
    assert server.gateway_pid() == pid

    stopped = run(home, "server", "stop")
    assert stopped.returncode == 0
    assert not _alive(pid) and server.gateway_pid() is None
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()


def test_a_certificate_of_ones_own_replaces_the_self_signed_one_without_a_restart(home, tmp_path):
    port = _free_port()
    assert run(home, "server", "start", "--listen", "127.0.0.1", "--port", str(port)).returncode == 0
    server = EmbeddedServer(home)
    with psycopg.connect(server.url()) as conn:
        began = conn.execute("SELECT pg_postmaster_start_time()").fetchone()
    own_cert, own_key = tmp_path / "own.pem", tmp_path / "own.key"
    make_certificate(own_cert, own_key, ["127.0.0.1"])
    assert_one_sentence(run(home, "server", "start", "--cert", str(own_cert)), "Give both --cert FILE and --key")
    assert_one_sentence(run(home, "server", "start", "--cert", str(own_cert), "--key", str(tmp_path / "none")),
                        f"The file {tmp_path / 'none'} does not exist")
    changed = run(home, "server", "start", "--cert", str(own_cert), "--key", str(own_key))
    assert changed.returncode == 0, changed.stderr
    assert certificate_fingerprint(own_cert) in changed.stdout
    assert server.tls_files() == (own_cert, own_key)
    with psycopg.connect(server.url()) as conn:
        assert conn.execute("SELECT pg_postmaster_start_time()").fetchone() == began
    # Terminals pin the new certificate now (the refused login proves the handshake passed), not the old one.
    pinned = f"postgresql://nobody:x@127.0.0.1:{port}/clientbase?sslmode=verify-ca&sslrootcert="
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(pinned + str(own_cert), connect_timeout=10)
    with pytest.raises(psycopg.OperationalError, match="certificate verify failed"):
        psycopg.connect(pinned + str(home / "office-cert.pem"), connect_timeout=10)


@pytest.fixture
def gateway_context(tmp_path, monkeypatch):
    """The gateway in this process, relaying to a stand-in server that records what reaches it."""
    monkeypatch.setattr(office_gateway, "HANDSHAKE_TIMEOUT", 0.5)
    monkeypatch.setattr(office_gateway, "MAX_CONNECTIONS", office_gateway.MAX_CONNECTIONS)
    make_certificate(tmp_path / "cert.pem", tmp_path / "key.pem", ["127.0.0.1"])
    context = tls_context(tmp_path / "cert.pem", tmp_path / "key.pem")
    return context


async def test_the_gateway_relays_nothing_unencrypted_and_drops_silent_clients(gateway_context):
    received: list[bytes] = []

    async def upstream(reader, writer):
        received.append(await reader.read(1024))
        writer.close()

    stand_in = await asyncio.start_server(upstream, "127.0.0.1", 0)
    relay = Gateway(gateway_context, stand_in.sockets[0].getsockname()[1])
    [listener] = office_gateway.listeners("127.0.0.1", 0)
    accepting = asyncio.create_task(relay.accept(listener))
    address = listener.getsockname()
    try:
        # Plaintext sent right behind the SSLRequest is not slipped into the TLS session: the handshake
        # sees it as garbage and nothing reaches the server.
        reader, writer = await asyncio.open_connection(*address)
        writer.write(struct.pack("!II", 8, office_gateway.SSL_REQUEST) + b"Q\0\0\0\x0bSELECT 1\0")
        assert await reader.readexactly(1) == b"S"
        await asyncio.wait_for(reader.read(), 5)  # a TLS alert at most, then the end
        writer.close()
        # A client that says nothing is dropped after the handshake timeout.
        reader, writer = await asyncio.open_connection(*address)
        began = time.monotonic()
        assert await asyncio.wait_for(reader.read(), 5) == b""
        assert time.monotonic() - began < 3
        writer.close()
        # Something that is no PostgreSQL request is closed at once.
        reader, writer = await asyncio.open_connection(*address)
        writer.write(b"GET / HTTP/1.0\r\n\r\n")
        began = time.monotonic()
        with contextlib.suppress(ConnectionResetError):  # closed with the request unread
            assert await asyncio.wait_for(reader.read(), 5) == b""
        assert time.monotonic() - began < 0.4
        writer.close()
        # A GSSENCRequest is declined and the SSLRequest after it accepted.
        reader, writer = await asyncio.open_connection(*address)
        writer.write(struct.pack("!II", 8, office_gateway.GSSENC_REQUEST))
        assert await reader.readexactly(1) == b"N"
        writer.write(struct.pack("!II", 8, office_gateway.SSL_REQUEST))
        assert await reader.readexactly(1) == b"S"
        writer.close()
        # A plaintext StartupMessage gets PostgreSQL's ErrorResponse: FATAL, 28000, the sentence.
        reader, writer = await asyncio.open_connection(*address)
        body = struct.pack("!I", 196608) + b"user\0anna\0\0"
        writer.write(struct.pack("!I", len(body) + 4) + body)
        answer = await asyncio.wait_for(reader.read(), 5)
        assert answer[:1] == b"E" and struct.unpack("!I", answer[1:5])[0] == len(answer) - 1
        fields = dict((item[:1], item[1:].decode()) for item in answer[5:].split(b"\0") if item)
        assert fields[b"S"] == "FATAL" and fields[b"C"] == "28000"
        assert fields[b"M"].startswith("this server accepts only encrypted connections: add sslmode=require")
        writer.close()
        await asyncio.sleep(0.2)
        assert received == []
        assert not relay.connections
        # Past the bound on connections, a new one is closed at once.
        office_gateway.MAX_CONNECTIONS = 1
        first = await asyncio.open_connection(*address)
        await asyncio.sleep(0.1)
        reader, writer = await asyncio.open_connection(*address)
        began = time.monotonic()
        assert await asyncio.wait_for(reader.read(), 5) == b""
        assert time.monotonic() - began < 0.4
        writer.close()
        first[1].close()
    finally:
        accepting.cancel()
        listener.close()
        stand_in.close()


def test_the_first_terminal_after_a_reboot_or_an_upgrade_brings_the_gateway_back(home):
    port = _free_port()
    assert run(home, "server", "start", "--listen", "127.0.0.1", "--port", str(port)).returncode == 0
    server = EmbeddedServer(home)
    expected = ("127.0.0.1", port + 1)
    assert server._running_layout() == expected
    # A reboot: nothing runs; the next command that needs the base starts the server and its gateway.
    server.stop()
    assert run(home, "db", "url").returncode == 0
    assert server._running_layout() == expected and server.gateway_pid() is not None
    # The server as an older clientbase ran it: listening on the network port itself, unencrypted.
    server.stop()
    server._run("pg_ctl", "start", "-w", "-D", str(server.pgdata), "-l", str(server.log_file),
                "-o", f"-k {server.socket_dir} -p {port} -h 127.0.0.1")
    assert run(home, "db", "url").returncode == 0
    assert server._running_layout() == expected and server.gateway_pid() is not None
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(f"postgresql://nobody:x@127.0.0.1:{port}/clientbase?sslmode=require", connect_timeout=10)
