"""Shared pieces of `python -m tests.bench`: what a measured row is and what a benchmark module receives.

A module `tests/bench_<area>.py` defines `measure(ctx: BenchContext) -> list[BenchRow]`; tests.bench finds
it, runs it on the 1M-client demo base and prints every row beside its DESIGN.md target and the bare SQL.
"""

from __future__ import annotations

import logging
import statistics
import time
from dataclasses import dataclass
from typing import Callable

from db.connection import Target


@dataclass(frozen=True)
class BenchRow:
    what: str          # e.g. "exact phone lookup"
    target: str        # from DESIGN.md, e.g. "< 10 ms"
    app: str           # measured through the app's own code (db/ function, or the screen via the Pilot)
    bare_sql: str = "" # the same query as bare SQL over psycopg, so the app's overhead is visible
    note: str = ""


@dataclass(frozen=True)
class BenchContext:
    target: Target     # the administrator login on the 1M base; db/ is already bound to it
    owner_url: str     # the database owner (embedded superuser), for bare SQL and set-up
    clients: int


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
