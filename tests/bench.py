"""`python -m tests.bench`: the performance targets of DESIGN.md, measured on the 1M-client demo base.

Builds the base on first use in an embedded server of its own (by `clientbase demo --clients 1000000` in a
process of its own, timed, its peak memory read; the record is kept beside the base and printed with its
date), then runs every `tests/bench_<area>.py` module's `measure(ctx)` and prints each figure beside its
target and beside the bare SQL of the same query. Figures, never assertions: tests do not time anything.

    --measure-demo    time `clientbase demo` again in this run, into a scratch database (under 3 minutes)
    --save FILE       keep this run's figures (min, median, p95 of every repeated measure)
    --compare FILE    print each row's change against a saved run, "noise" inside the band of the two runs
    --smoke           every module once on a tiny base with few repeats (a test runs it: the bench cannot rot)
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import sys
import tempfile
import time
import traceback
from datetime import datetime
from pathlib import Path

import platformdirs
import psycopg
from rich.console import Console
from rich.table import Table

import tests
from db import connection, session
from db.embedded import SUPERUSER
from tests.bench_import import run_measured
from tests.benchlib import BenchContext, BenchRow, compare, database_url

DEFAULT_CLIENTS = 1_000_000
SMOKE_CLIENTS = 2_000
DEMO_SCRATCH = "bench_demo_scratch"


def bench_home() -> Path:
    configured = os.environ.get("CLIENTBASE_BENCH_HOME")
    return Path(configured) if configured else Path(platformdirs.user_cache_dir("clientbase")) / "bench"


def _demo_job(owner_url: str, clients: int) -> dict:
    code, seconds, peak, error = run_measured(["demo", "--clients", str(clients), "--seed", "1"], owner_url)
    if code != 0:
        raise SystemExit(f"clientbase demo failed: {error[-400:]}")
    return {"clients": clients, "seconds": seconds, "peak_mb": peak,
            "when": datetime.now().isoformat(timespec="minutes"), "how": "clientbase demo in a process of its own"}


def _demo_row(clients: int, record: dict | None, measured_now: bool) -> BenchRow:
    what, target = f"demo --clients {clients:,}", "< 3 min"
    if not record:
        return BenchRow(what, target, "not recorded", note="the base was built before its build was timed")
    peak = f", peak {record['peak_mb']:.0f} MB RSS" if record.get("peak_mb") else ""
    when = "in this run, into a scratch database" if measured_now else \
        f"recorded {record.get('when', '?')} ({record.get('how', '?')}); --measure-demo measures it again"
    return BenchRow(what, target, f"{record['seconds']:.0f} s{peak}", note=when, samples=(record["seconds"],),
                    unit="s", peak_mb=record.get("peak_mb"))


def _measure_demo(owner_url: str, clients: int) -> dict:
    admin = database_url(owner_url, "postgres")
    scratch = database_url(owner_url, DEMO_SCRATCH)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DEMO_SCRATCH}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DEMO_SCRATCH}"')
    try:
        code, _, _, error = run_measured(["init"], scratch)
        if code != 0:
            raise SystemExit(f"clientbase init failed: {error[-400:]}")
        return _demo_job(scratch, clients)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{DEMO_SCRATCH}" WITH (FORCE)')


def prepare_base(home: Path, clients: int, console: Console, measure_demo: bool,
                 smoke: bool) -> tuple[BenchContext, BenchRow]:
    target = connection.resolve(None, None, home=home)
    connection.prepare_embedded(target)
    owner_url = target.embedded.url(SUPERUSER)
    record_path = home / "demo-load.json"
    with psycopg.connect(owner_url, autocommit=True) as conn:
        present = conn.execute("SELECT count(*) FROM client").fetchone()[0]
    measured_now = False
    if present == 0:
        console.print(f"Building the {clients:,}-client demo base in {home} (once)…")
        record_path.write_text(json.dumps(_demo_job(owner_url, clients)))
        measured_now = True
    elif present != clients:
        raise SystemExit(f"The bench base in {home} holds {present:,} clients, not {clients:,}; "
                         "use another CLIENTBASE_BENCH_HOME.")
    record = json.loads(record_path.read_text()) if record_path.exists() else None
    if measure_demo and not measured_now:
        console.print(f"Timing demo --clients {clients:,} into a scratch database…")
        record, measured_now = _measure_demo(owner_url, clients), True
    session.bind(target)
    ctx = BenchContext(target=target, owner_url=owner_url, clients=clients, smoke=smoke)
    return ctx, _demo_row(clients, record, measured_now)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench")
    parser.add_argument("--clients", type=int, default=None)
    parser.add_argument("--only", action="append", default=[], help="run only these areas (e.g. clients)")
    parser.add_argument("--measure-demo", action="store_true", help="time the demo again, on a scratch database")
    parser.add_argument("--save", type=Path, help="keep this run's figures in FILE (JSON)")
    parser.add_argument("--compare", type=Path, help="print each row's change against a run saved with --save")
    parser.add_argument("--smoke", action="store_true", help=f"every module on a {SMOKE_CLIENTS:,}-client base, "
                                                             "few repeats, in a temporary home")
    args = parser.parse_args(argv)
    console = Console(width=None if sys.stdout.isatty() else 150)
    clients = args.clients or (SMOKE_CLIENTS if args.smoke else DEFAULT_CLIENTS)
    with tempfile.TemporaryDirectory(prefix="clientbase-bench-smoke-") as temporary:
        home = Path(temporary) if args.smoke and "CLIENTBASE_BENCH_HOME" not in os.environ else bench_home()
        home.mkdir(parents=True, exist_ok=True)
        try:
            return _run(args, clients, home, console)
        finally:
            if args.smoke and home == Path(temporary):
                connection.resolve(None, None, home=home).embedded.stop()


def _run(args: argparse.Namespace, clients: int, home: Path, console: Console) -> int:
    ctx, demo_row = prepare_base(home, clients, console, args.measure_demo, args.smoke)
    rows = [demo_row]
    failed = 0
    areas = sorted(info.name for info in pkgutil.iter_modules(tests.__path__) if info.name.startswith("bench_"))
    for area in areas:
        if args.only and area.removeprefix("bench_") not in args.only:
            continue
        console.print(f"[dim]measuring {area.removeprefix('bench_')}…[/]")
        started = time.monotonic()
        try:
            rows.extend(importlib.import_module(f"tests.{area}").measure(ctx))
        except Exception:  # one broken area must not hide the others' figures
            traceback.print_exc()
            failed += 1
            rows.append(BenchRow(area, "", "FAILED", note="see the traceback above"))
        console.print(f"[dim]  {time.monotonic() - started:.0f} s[/]")
    saved = json.loads(args.compare.read_text())["rows"] if args.compare else {}
    table = Table(title=f"clientbase on {ctx.clients:,} clients" + (" (smoke: figures mean nothing)" if args.smoke
                                                                    else ""))
    columns = ["what", "target", "app", "bare SQL", "note"] + ([f"vs {args.compare.name}"] if args.compare else [])
    for column in columns:
        table.add_column(column)
    for row in rows:
        cells = [row.what, row.target, row.app, row.bare_sql, row.note]
        if args.compare:
            missing = row.summary() is not None and row.what not in saved
            cells.append("not in the saved run" if missing else compare(row, saved.get(row.what)))
        table.add_row(*cells)
    console.print(table)
    if args.save:
        args.save.write_text(json.dumps({
            "when": datetime.now().isoformat(timespec="minutes"), "clients": ctx.clients,
            "rows": {row.what: dict(row.summary(), unit=row.unit) for row in rows if row.summary()}},
            ensure_ascii=False, indent=1))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
