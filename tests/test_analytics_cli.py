"""`clientbase analytics refresh|export`: for cron and for checking the numbers elsewhere."""

from __future__ import annotations

import csv
import os
import stat
import sys

import pexpect

from tests.test_analytics import hand_made
from tests.test_cli import assert_one_sentence, run

COLUMNS = ["client_id", "external_key", "r_days", "f", "m", "profit", "r_score", "f_score", "m_score",
           "rfm_segment", "abc_class", "ae_class", "expected_purchases_12m", "expected_value_12m", "p_alive"]


def test_refresh_then_export_by_every_reading_role(fresh_db, tmp_path):
    with fresh_db.connect(autocommit=True) as owner:
        ids = hand_made(owner)
    refreshed = run(fresh_db.env("admin"), "analytics", "refresh", "--as-of", "2026-06-30", "--period-days", "365")
    assert refreshed.returncode == 0, refreshed.stderr
    assert "Analytics as of 2026-06-30: 6 clients, 5 buyers" in refreshed.stdout
    assert "not reliable yet: 5 buyers, at least 500 are needed" in refreshed.stdout
    for role in ("admin", "manager", "sales"):
        path = tmp_path / f"{role}.csv"
        exported = run(fresh_db.env(role), "analytics", "export", str(path))
        assert exported.returncode == 0, exported.stderr
        assert "Wrote 6 clients" in exported.stdout
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        assert rows[0] == COLUMNS
        first = dict(zip(COLUMNS, rows[1], strict=True))
        assert first["client_id"] == str(ids[0]) and first["external_key"] == "K1"
        assert (first["r_days"], first["f"], first["m"], first["rfm_segment"], first["abc_class"],
                first["ae_class"]) == ("1", "3", "2000.00", "Champions", "A", "A")
        assert first["expected_value_12m"] == "", "no CLV when it is not reliable"


def test_mistakes_are_one_sentence(fresh_db, tmp_path):
    assert_one_sentence(run(fresh_db.env("sales"), "analytics", "refresh"), "Only an administrator may refresh")
    assert_one_sentence(run(fresh_db.env("sales"), "analytics", "export", str(tmp_path / "a.csv")),
                        "have not been computed yet")
    assert not (tmp_path / "a.csv").exists()
    assert_one_sentence(run(fresh_db.env("mailer"), "analytics", "export", str(tmp_path / "b.csv")),
                        "Your login may not do this")
    run(fresh_db.env("admin"), "analytics", "refresh")
    assert_one_sentence(run(fresh_db.env("admin"), "analytics", "export", str(tmp_path / "no" / "c.csv")),
                        "Cannot write")
    for bad in (["--as-of", "30.06.2026"], ["--period-days", "0"], ["--period-days", "many"]):
        result = run(fresh_db.env("admin"), "analytics", "refresh", *bad)
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert "expected" in result.stderr.strip().splitlines()[-1]


def test_refresh_shows_progress_on_a_terminal(fresh_db):
    with fresh_db.connect(autocommit=True) as owner:
        hand_made(owner)
    child = pexpect.spawn(sys.executable, ["-m", "tui.cli", "analytics", "refresh"], env=fresh_db.env("admin"),
                          encoding="utf-8", timeout=120, dimensions=(24, 100))
    child.expect("Summing up the purchases")
    child.expect("Publishing")
    child.expect("Analytics as of")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_a_backup_with_analytics_restores_and_refreshes_again(fresh_db, make_db, tmp_path):
    from tests.test_backup import checksums, run_cli

    with fresh_db.connect(autocommit=True) as owner:
        hand_made(owner)
    assert run(fresh_db.env("admin"), "analytics", "refresh").returncode == 0
    assert run(fresh_db.env("admin"), "analytics", "refresh").returncode == 0
    before = checksums(fresh_db)
    assert before["analytics_client"][0] == 12
    assert run_cli(fresh_db, "backup", tmp_path / "base.dump").returncode == 0
    target = make_db()
    restored = run_cli(target, "restore", tmp_path / "base.dump")
    assert restored.returncode == 0, restored.stderr
    assert checksums(target) == before
    again = run(target.env("admin"), "analytics", "refresh")
    assert again.returncode == 0, again.stderr
