"""The benchmark cannot rot: every bench module runs on a tiny base (`python -m tests.bench --smoke`), and the
comparison with a saved run tells a change from noise. No figure is checked: tests time nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import psycopg

from db import demo
from tests.benchlib import BenchContext, BenchRow, compare, scratch_copy


def test_every_bench_module_runs_on_a_tiny_base_and_compares_with_a_saved_run(tmp_path):
    saved = tmp_path / "saved.json"
    saved.write_text(json.dumps({"rows": {"exact phone lookup": {"min": 9000.0, "median": 10000.0, "p95": 11000.0,
                                                                  "n": 3, "unit": "ms"}}}))
    env = {key: value for key, value in os.environ.items() if key != "CLIENTBASE_BENCH_HOME"}
    result = subprocess.run([sys.executable, "-m", "tests.bench", "--smoke", "--compare", str(saved),
                             "--save", str(tmp_path / "now.json")], env=dict(env, COLUMNS="400"),
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "FAILED" not in result.stdout and "│ failed" not in result.stdout, result.stdout
    assert "faster" in result.stdout  # the phone lookup against a saved 10 s
    now = json.loads((tmp_path / "now.json").read_text())["rows"]
    for row in ("demo --clients 2,000", "import 500 CSV client rows", "import 2,000 purchase rows",
                "clients screen: next page while scrolling", "open a card (CardScreen, Pilot)", "exact phone lookup",
                "enqueue every client (campaign start)", "campaign progress refresh",
                "deliver e-mail to a local SMTP sink, 4 workers"):
        assert row in now, sorted(now)


def test_a_change_inside_the_spread_of_the_two_runs_is_noise():
    saved = {"min": 9.0, "median": 10.0, "p95": 12.0, "n": 20}
    assert compare(BenchRow("x", "", "", samples=(10.5, 11.0, 11.5)), saved).endswith("(noise)")
    assert compare(BenchRow("x", "", "", samples=(15.0, 15.5, 16.0)), saved) == "+55 % slower"
    assert compare(BenchRow("x", "", "", samples=(5.0, 5.2, 5.4)), saved) == "-48 % faster"
    assert compare(BenchRow("x", "", ""), saved) == ""


def test_bench_saves_are_committed_into_a_copy_and_the_base_never_changes(fresh_db):
    from tests.bench_card import _bare_save

    with fresh_db.connect(autocommit=True) as conn:
        demo.load(conn, 30, seed=1)
        client_id, version = conn.execute("SELECT id, version FROM client ORDER BY id LIMIT 1").fetchone()
    ctx = BenchContext(target=fresh_db.target("admin"), owner_url=fresh_db.url(), clients=30, smoke=True)
    copy = f"{fresh_db.name}_copy"
    with scratch_copy(ctx, copy) as copy_url:
        versions = {client_id: version}
        with psycopg.connect(copy_url, autocommit=True) as conn:
            _bare_save(conn, client_id, versions)
            _bare_save(conn, client_id, versions)  # checks the version the first save committed
        with psycopg.connect(copy_url) as other:  # committed: another session sees both saves
            assert other.execute("SELECT version FROM client WHERE id = %s", (client_id,)).fetchone()[0] \
                == version + 2 == versions[client_id]
    with fresh_db.connect(autocommit=True) as conn:
        assert conn.execute("SELECT version FROM client WHERE id = %s", (client_id,)).fetchone()[0] == version
        assert conn.execute("SELECT count(*) FROM pg_database WHERE datname = %s", (copy,)).fetchone()[0] == 0
