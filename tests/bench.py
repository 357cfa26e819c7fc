"""`python -m tests.bench`: the performance targets of DESIGN.md, measured on the 1M-client demo base.

Builds the base on first use (timing `demo --clients 1000000`, which is itself a row) in an embedded server
of its own, then runs every `tests/bench_<area>.py` module's `measure(ctx)` and prints each figure beside its
target and beside the bare SQL of the same query. Figures, never assertions: tests do not time anything.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import sys
import time
import traceback
from pathlib import Path

import platformdirs
from rich.console import Console
from rich.table import Table

import tests
from db import connection, demo, session
from db.embedded import SUPERUSER
from tests.benchlib import BenchContext, BenchRow

DEFAULT_CLIENTS = 1_000_000


def bench_home() -> Path:
    configured = os.environ.get("CLIENTBASE_BENCH_HOME")
    return Path(configured) if configured else Path(platformdirs.user_cache_dir("clientbase")) / "bench"


def prepare_base(home: Path, clients: int, console: Console) -> tuple[BenchContext, BenchRow]:
    target = connection.resolve(None, None, home=home)
    connection.prepare_embedded(target)
    owner_url = target.embedded.url(SUPERUSER)
    record = home / "demo-load.json"
    import psycopg

    with psycopg.connect(owner_url, autocommit=True) as conn:
        present = conn.execute("SELECT count(*) FROM client").fetchone()[0]
        if present == 0:
            console.print(f"Building the {clients:,}-client demo base in {home} (once)…")
            result = demo.load(conn, clients, seed=1)
            record.write_text(json.dumps({"clients": result.clients, "purchases": result.purchases,
                                          "seconds": result.seconds}))
        elif present != clients:
            raise SystemExit(f"The bench base in {home} holds {present:,} clients, not {clients:,}; "
                             "use another CLIENTBASE_BENCH_HOME.")
    loaded = json.loads(record.read_text()) if record.exists() else None
    demo_row = BenchRow(
        f"demo --clients {clients:,}", "< 3 min",
        f"{loaded['seconds']:.0f} s ({loaded['purchases']:,} purchases)" if loaded else "not recorded",
        note="measured when the base was built" if loaded else "base built before timing was recorded")
    session.bind(target)
    return BenchContext(target=target, owner_url=owner_url, clients=clients), demo_row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench")
    parser.add_argument("--clients", type=int, default=DEFAULT_CLIENTS)
    parser.add_argument("--only", action="append", default=[], help="run only these areas (e.g. clients)")
    args = parser.parse_args(argv)
    console = Console(width=None if sys.stdout.isatty() else 150)
    home = bench_home()
    home.mkdir(parents=True, exist_ok=True)
    ctx, demo_row = prepare_base(home, args.clients, console)
    rows = [demo_row]
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
            rows.append(BenchRow(area, "", "FAILED", note="see the traceback above"))
        console.print(f"[dim]  {time.monotonic() - started:.0f} s[/]")
    table = Table(title=f"clientbase on {ctx.clients:,} clients")
    for column in ("what", "target", "app", "bare SQL", "note"):
        table.add_column(column)
    for row in rows:
        table.add_row(row.what, row.target, row.app, row.bare_sql, row.note)
    console.print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
