"""Shared pieces of `python -m tests.bench`: what a measured row is and what a benchmark module receives.

A module `tests/bench_<area>.py` defines `measure(ctx: BenchContext) -> list[BenchRow]`; tests.bench finds
it, runs it on the 1M-client demo base and prints every row beside its DESIGN.md target and the bare SQL.
"""

from __future__ import annotations

import logging
import statistics
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
from psycopg.conninfo import conninfo_to_dict

from db.connection import Target
from db.models import database


@dataclass(frozen=True)
class BenchRow:
    what: str          # e.g. "exact phone lookup"
    target: str        # from DESIGN.md, e.g. "< 10 ms"
    app: str           # measured through the app's own code (db/ function, or the screen via the Pilot)
    bare_sql: str = "" # the same query as bare SQL over psycopg, so the app's overhead is visible
    note: str = ""
    samples: tuple[float, ...] = ()  # the app figure's repeated measures, for --save and --compare
    unit: str = "ms"
    peak_mb: float | None = None     # a job's peak resident memory, where the row runs one

    def summary(self) -> dict[str, float] | None:
        if not self.samples:
            return None
        return {"min": min(self.samples), "median": statistics.median(self.samples), "p95": p95(list(self.samples)),
                "n": len(self.samples)}


@dataclass(frozen=True)
class BenchContext:
    target: Target     # the administrator login on the 1M base; db/ is already bound to it
    owner_url: str     # the database owner (embedded superuser), for bare SQL and set-up
    clients: int
    smoke: bool = False  # a tiny base, every module once with few repeats: only that nothing is broken


def database_url(url: str, name: str) -> str:
    """The same server and login as URL (a postgresql:// URL, which the CLI needs), another database."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + quote(name, safe="")))


@contextmanager
def scratch_copy(ctx: BenchContext, name: str) -> Iterator[str]:
    """A copy of the bench base beside it (`CREATE DATABASE … TEMPLATE`), dropped afterwards, so that rows
    may write and commit while the base itself never changes; yields its URL for the superuser. Nobody may
    be connected to the base while it is copied, so the app's own pool is closed first (it reconnects when
    next used)."""
    if database.database is not None:
        database.close_all()
    source = conninfo_to_dict(ctx.owner_url)["dbname"]
    admin = database_url(ctx.owner_url, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}" STRATEGY FILE_COPY')
    try:
        yield database_url(ctx.owner_url, name)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def statements_sent(action: Callable[[], object]) -> list[tuple[str, tuple]]:
    """Every statement a db/ call sends, in order, from peewee's query log."""
    sent: list[tuple[str, tuple]] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if isinstance(record.msg, tuple) and len(record.msg) == 2:
                sent.append(record.msg)

    logger = logging.getLogger("peewee")
    handler, level = Capture(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        action()
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    return sent


def timed_ms(action: Callable[[], object], repeat: int = 20, warmup: int = 2) -> list[float]:
    for _ in range(warmup):
        action()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def fmt_ms(samples: list[float], quantile: str = "median") -> str:
    value = statistics.median(samples) if quantile == "median" else p95(samples)
    return f"{value:.1f} ms ({quantile})"


def compare(row: BenchRow, saved: dict | None) -> str:
    """The change of a row's median against a saved run. The noise band is the saved run's own spread,
    [min, p95], widened by the new run's (p95 - min): a median inside it is "noise"."""
    now = row.summary()
    if now is None or not saved:
        return ""
    before = saved["median"]
    low = saved["min"] - (now["p95"] - now["min"])
    high = saved["p95"] + (now["p95"] - now["min"])
    change = (now["median"] - before) / before * 100 if before else 0.0
    if low <= now["median"] <= high:
        return f"{change:+.0f} % (noise)"
    if now["n"] == 1 and saved["n"] == 1:
        return f"{change:+.0f} % (one measure each)"
    return f"{change:+.0f} % {'slower' if change > 0 else 'faster'}"
