"""`clientbase backup FILE` and `clientbase restore FILE [--force]` with the embedded pg_dump/pg_restore.

The backup is pg_dump's custom format plus FILE.manifest.json beside it: row counts and checksums per
table, taken in the snapshot the dump saves. A restore runs in one transaction (a broken file changes
nothing) and then compares the restored tables with the manifest.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import IO

from psycopg.conninfo import conninfo_to_dict, make_conninfo

from db import connection, migrate
from db.transfer import backup
from db.connection import Target
from db.embedded import bin_dir
from db.errors import UserError
from db.i18n import N_, t
from tui.transfer.private_files import open_private
from tui.transfer.progress import Report


def manifest_path(path: Path) -> Path:
    return path.with_name(path.name + ".manifest.json")


def _owner(target: Target) -> str:
    if target.embedded is not None:
        # A backup or a restore into a home that holds no base is a mistyped CLIENTBASE_HOME, not a wish
        # for a new base: only `init` and the app's first start make one.
        connection.prepare_embedded(target, create=False)
    return target.owner_conninfo()


def _run(tool: str, conninfo: str, args: list[str], total: int, report: Report, stage: str, failure: str) -> None:
    """Runs pg_dump or pg_restore --verbose, counting its lines as progress; its first error is the reason."""
    # A password goes through the environment: a command line is visible to every user of the machine.
    params = conninfo_to_dict(conninfo)
    password = params.pop("password", None)
    env = dict(os.environ, LC_ALL="C", LANG="C", PGAPPNAME="clientbase")
    if password is not None:
        env["PGPASSWORD"] = str(password)
    process = subprocess.Popen([str(bin_dir() / tool), "--verbose", f"--dbname={make_conninfo(**params)}", *args],
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True, env=env)
    done, errors = 0, []
    for line in process.stderr:
        if "error:" in line:
            errors.append(line.split("error:", 1)[1].strip())
        elif "dumping contents of table" in line or "processing data for table" in line or "creating" in line:
            done += 1
            report(stage, min(done, total), total)
    if process.wait() != 0:
        raise UserError(failure, reason=errors[0] if errors else t("{tool} stopped without saying why", tool=tool))
    report(stage, total, total)


def run_backup(target: Target, path: Path, report: Report) -> dict[str, list]:
    if not path.parent.is_dir():
        raise UserError(N_("The folder {folder} does not exist."), folder=path.parent)
    conninfo = _owner(target)
    with connection.connect(conninfo, target) as conn:
        with backup.exported_snapshot(conn) as (snapshot, counts):
            report(N_("Backing up tables"), 0, len(counts))
            # FILE exists, empty and private, before pg_dump opens it: its fopen("wb") truncates a file and
            # keeps its mode, so no byte of the dump is ever readable under the umask. (Writing the dump to
            # our own descriptor through stdout is not the same: pg_dump then writes a different, larger file.)
            _private(path, "wb").close()
            _run("pg_dump", conninfo, ["--format=custom", f"--snapshot={snapshot}", f"--file={path}"],
                 len(counts), report, N_("Backing up tables"), N_("The backup failed: {reason}."))
    with _private(manifest_path(path), "w", encoding="utf-8") as out:
        out.write(json.dumps({"tables": counts}, indent=1, ensure_ascii=False))
    return counts


def _private(path: Path, mode: str, **kwargs) -> IO:
    try:
        return open_private(path, mode, **kwargs)
    except OSError as exc:
        raise UserError(N_("Cannot write {path}: {reason}."), path=path, reason=exc.strerror or exc) from None


def run_restore(target: Target, path: Path, force: bool, report: Report) -> tuple[dict | None, list[str]]:
    """Returns the manifest (None when the backup came without one) and the differences found."""
    if not path.is_file():
        raise UserError(N_("There is no file {path}."), path=path)
    try:
        expected = json.loads(manifest_path(path).read_text(encoding="utf-8"))["tables"]
    except FileNotFoundError:
        expected = None
    except (ValueError, KeyError):
        raise UserError(N_("{path} is damaged; "
                           "move it away to restore without checking the counts."), path=manifest_path(path)) from None
    listing = subprocess.run([str(bin_dir() / "pg_restore"), "--list", str(path)], capture_output=True, text=True)
    if listing.returncode != 0:
        raise UserError(N_("{path} is not a clientbase backup (a pg_dump custom-format file)."), path=path)
    entries = sum(1 for line in listing.stdout.splitlines() if line and not line.startswith(";"))
    conninfo = _owner(target)
    with connection.connect(conninfo, target, autocommit=True) as conn:
        if backup.has_data(conn) and not force:
            raise UserError(N_("The database at {where} already holds clients; restore into an empty one, or add "
                               "--force to replace everything in it."), where=target.display)
        # The dump grants rights to the group roles, which live in the server, not in the dump.
        migrate.ensure_group_roles(conn)
    report(N_("Restoring"), 0, entries)
    # Dropping what is there and restoring happen in one transaction, so a damaged file leaves the base as it was.
    _run("pg_restore", conninfo, ["--single-transaction", "--exit-on-error", "--clean", "--if-exists", "--no-owner",
                                  str(path)],
         entries, report, N_("Restoring"), N_("The restore failed and changed nothing: {reason}."))
    with connection.connect(conninfo, target, autocommit=True) as conn:
        # pg_restore --no-owner gave the definer functions to the restoring login.
        migrate.reassert_security(conn)
    if expected is None:
        return None, []
    with connection.connect(conninfo, target) as conn:
        actual = backup.manifest(conn)
        conn.rollback()
    return expected, backup.verify(expected, actual)


def backup_report(target: Target, path: Path, report: Report) -> list[str]:
    counts = run_backup(target, path, report)
    return [t("Saved {tables} tables ({rows:,} rows) to {path}; keep {manifest} beside "
              "it, restore checks against it.", path=path, tables=len(counts), rows=sum(c for c, _ in counts.values()),
              manifest=manifest_path(path).name)]


def restore_report(target: Target, path: Path, force: bool, report: Report) -> list[str]:
    expected, differences = run_restore(target, path, force, report)
    if expected is None:
        return [t("Restored {path}; there was no manifest beside it, so the counts were not checked.", path=path)]
    if differences:
        raise UserError(N_("The "
                           "restore finished but differs from the backup in: {tables}."), tables="; ".join(differences))
    return [t("Restored and checked: {tables} tables, {rows:,} rows, every "
              "count and checksum as at the backup.", tables=len(expected), rows=sum(c for c, _ in expected.values()))]

