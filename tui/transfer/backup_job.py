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
from db.i18n import t
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
        raise UserError(failure, reason=errors[0] if errors else t("backup.tool_failed", tool=tool))
    report(stage, total, total)


def run_backup(target: Target, path: Path, report: Report) -> dict[str, list]:
    if not path.parent.is_dir():
        raise UserError("export.no_folder", folder=path.parent)
    conninfo = _owner(target)
    with connection.connect(conninfo, target) as conn:
        with backup.exported_snapshot(conn) as (snapshot, counts):
            report("backup.stage.dump", 0, len(counts))
            # FILE exists, empty and private, before pg_dump opens it: its fopen("wb") truncates a file and
            # keeps its mode, so no byte of the dump is ever readable under the umask. (Writing the dump to
            # our own descriptor through stdout is not the same: pg_dump then writes a different, larger file.)
            _private(path, "wb").close()
            _run("pg_dump", conninfo, ["--format=custom", f"--snapshot={snapshot}", f"--file={path}"],
                 len(counts), report, "backup.stage.dump", "backup.failed")
    with _private(manifest_path(path), "w", encoding="utf-8") as out:
        out.write(json.dumps({"tables": counts}, indent=1, ensure_ascii=False))
    return counts


def _private(path: Path, mode: str, **kwargs) -> IO:
    try:
        return open_private(path, mode, **kwargs)
    except OSError as exc:
        raise UserError("export.cannot_write", path=path, reason=exc.strerror or exc) from None


def run_restore(target: Target, path: Path, force: bool, report: Report) -> tuple[dict | None, list[str]]:
    """Returns the manifest (None when the backup came without one) and the differences found."""
    if not path.is_file():
        raise UserError("import.no_file", path=path)
    try:
        expected = json.loads(manifest_path(path).read_text(encoding="utf-8"))["tables"]
    except FileNotFoundError:
        expected = None
    except (ValueError, KeyError):
        raise UserError("backup.bad_manifest", path=manifest_path(path)) from None
    listing = subprocess.run([str(bin_dir() / "pg_restore"), "--list", str(path)], capture_output=True, text=True)
    if listing.returncode != 0:
        raise UserError("backup.not_a_backup", path=path)
    entries = sum(1 for line in listing.stdout.splitlines() if line and not line.startswith(";"))
    conninfo = _owner(target)
    with connection.connect(conninfo, target, autocommit=True) as conn:
        if backup.has_data(conn) and not force:
            raise UserError("backup.not_empty", where=target.display)
        # The dump grants rights to the group roles, which live in the server, not in the dump.
        migrate.ensure_group_roles(conn)
    report("backup.stage.restore", 0, entries)
    # Dropping what is there and restoring happen in one transaction, so a damaged file leaves the base as it was.
    _run("pg_restore", conninfo, ["--single-transaction", "--exit-on-error", "--clean", "--if-exists", "--no-owner",
                                  str(path)],
         entries, report, "backup.stage.restore", "restore.failed")
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
    return [t("backup.done", path=path, tables=len(counts), rows=sum(c for c, _ in counts.values()),
              manifest=manifest_path(path).name)]


def restore_report(target: Target, path: Path, force: bool, report: Report) -> list[str]:
    expected, differences = run_restore(target, path, force, report)
    if expected is None:
        return [t("backup.restored_unverified", path=path)]
    if differences:
        raise UserError("backup.mismatch", tables="; ".join(differences))
    return [t("backup.restored", tables=len(expected), rows=sum(c for c, _ in expected.values()))]

