"""Backup and restore: what is saved comes back whole, and a restore never overwrites a base by accident."""

from __future__ import annotations

import json
import subprocess
import sys

from db import demo
from db.transfer import backup
def run_cli(db, *args):
    return subprocess.run([sys.executable, "-m", "tui.cli", *map(str, args)], env=db.env(), capture_output=True,
                          text=True, timeout=300)


def checksums(db):
    with db.connect() as conn:
        return backup.manifest(conn)


def test_backup_then_restore_into_a_fresh_database_gives_identical_counts_and_checksums(fresh_db, make_db, tmp_path):
    with fresh_db.connect(autocommit=True) as conn:
        demo.load(conn, 200, seed=3)
        conn.execute("UPDATE client SET notes = 'после демо' WHERE id < 5")  # audit rows too
    before = checksums(fresh_db)
    assert before["client"][0] == 200 and before["audit_log"][0] >= 4
    result = run_cli(fresh_db, "backup", tmp_path / "base.dump")
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "base.dump.manifest.json").read_text())["tables"] == before
    target = make_db()  # migrated but empty, as `clientbase init` leaves a new database
    result = run_cli(target, "restore", tmp_path / "base.dump")
    assert result.returncode == 0, result.stderr
    assert "every count and checksum as at the backup" in result.stdout
    assert checksums(target) == before
    with target.connect() as conn:
        # The restored base works: triggers, grants and sequences came back.
        conn.execute("INSERT INTO client (last_name) VALUES ('Новый')")
    with target.connect("sales") as conn:
        assert conn.execute("SELECT count(*) FROM client").fetchone()[0] == 201
    with target.connect() as conn:
        # pg_restore --no-owner hands functions to the restoring superuser; the restore gives them back.
        owners = conn.execute("SELECT DISTINCT pg_get_userbyid(proowner) FROM pg_proc "
                              "WHERE pronamespace = 'public'::regnamespace AND prosecdef").fetchall()
        assert owners == [("clientbase_owner",)]
        assert conn.execute("SELECT has_database_privilege('t_sales', current_database(), 'TEMP')").fetchone() \
            == (False,)


def test_restore_refuses_a_base_with_clients_unless_forced(fresh_db, make_db, tmp_path):
    with fresh_db.connect(autocommit=True) as conn:
        demo.load(conn, 30, seed=1)
    assert run_cli(fresh_db, "backup", tmp_path / "a.dump").returncode == 0
    other = make_db()
    with other.connect(autocommit=True) as conn:
        demo.load(conn, 10, seed=2)
    refused = run_cli(other, "restore", tmp_path / "a.dump")
    assert refused.returncode == 1 and "already holds clients" in refused.stderr
    assert checksums(other)["client"][0] == 10
    forced = run_cli(other, "restore", tmp_path / "a.dump", "--force")
    assert forced.returncode == 0, forced.stderr
    assert checksums(other) == checksums(fresh_db)


def test_a_damaged_backup_restores_nothing_and_says_why(fresh_db, make_db, tmp_path):
    with fresh_db.connect(autocommit=True) as conn:
        demo.load(conn, 300, seed=1)  # enough rows that the data, not the schema, fills the file's end
    run_cli(fresh_db, "backup", tmp_path / "a.dump")
    data = (tmp_path / "a.dump").read_bytes()
    middle = len(data) * 9 // 10  # inside the table data, past the table of contents
    (tmp_path / "cut.dump").write_bytes(data[:middle] + b"\xff" * 2000 + data[middle + 2000:])
    target = make_db()
    with target.connect(autocommit=True) as conn:
        demo.load(conn, 10, seed=2)
    before = checksums(target)
    result = run_cli(target, "restore", tmp_path / "cut.dump", "--force")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "changed nothing" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert checksums(target) == before
    (tmp_path / "junk.dump").write_text("not a backup")
    junk = run_cli(target, "restore", tmp_path / "junk.dump")
    assert junk.returncode == 1 and "is not a clientbase backup" in junk.stderr


def test_the_administrator_login_can_back_up(fresh_db, tmp_path):
    with fresh_db.connect(autocommit=True) as conn:
        demo.load(conn, 20, seed=1)
    result = subprocess.run([sys.executable, "-m", "tui.cli", "backup", str(tmp_path / "b.dump")],
                            env=fresh_db.env("admin"), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "b.dump.manifest.json").read_text())["tables"]["client"][0] == 20


def test_the_manifest_is_counted_in_the_snapshot_pg_dump_shares(fresh_db):
    with fresh_db.connect(autocommit=True) as conn:
        demo.load(conn, 50, seed=3)
    with fresh_db.connect() as conn, backup.exported_snapshot(conn) as (snapshot, counts):
        assert conn.execute("SHOW transaction_isolation").fetchone()[0] == "repeatable read"
        with fresh_db.connect("admin", autocommit=True) as writer:
            writer.execute("INSERT INTO client (last_name) VALUES ('Written during the backup')")
        # Still the moment of the snapshot: what pg_dump saves and what the manifest says agree.
        assert backup.manifest(conn)["client"] == counts["client"] == [50, counts["client"][1]]
