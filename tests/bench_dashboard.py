"""The dashboard on the bench base: opened through the Pilot as a user opens it (Ctrl+Y), beside the bare SQL
of the statements db/analytics/reads.load_dashboard sends.

The dashboard reads stored results; a base that was never analysed is refreshed once first, which writes only
the derived analytics tables (the clients and purchases the other rows read do not change)."""

from __future__ import annotations

import asyncio
import time

import psycopg

from db import session
from db.analytics import dashboard, reads
from db.clients import listing
from db.analytics.refresh import refresh
from screens.dashboard.screen import DashboardScreen
from tests.benchlib import BenchContext, BenchRow, fmt_ms, timed_ms
from tui import modes
from tui.app import ClientbaseApp
from tui.widgets.charts import DrillTable


def _ensure_results(ctx: BenchContext) -> None:
    with psycopg.connect(ctx.target.conninfo(), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM analytics_run WHERE published LIMIT 1").fetchone() is None:
            refresh(conn)


async def _until(condition, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the dashboard did not open")
        await asyncio.sleep(0.001)


async def _drive(ctx: BenchContext, repeat: int) -> tuple[list[float], list[float]]:
    """Each opening's wall time, and the CPU time of this process meanwhile (the app's share of the work,
    which the load of other processes on the machine does not lengthen)."""
    app = ClientbaseApp(ctx.target, session.identity(ctx.target), listen=False)
    samples: list[float] = []
    cpu: list[float] = []
    async with app.run_test(size=(80, 24)) as pilot:
        await _until(lambda: getattr(app.screen, "list", None) is not None and app.screen.list.row_count)
        for number in range(repeat + 1):
            started, started_cpu = time.perf_counter(), time.process_time()
            await pilot.press("ctrl+y")
            await _until(lambda: isinstance(app.screen, DashboardScreen) and app.screen.view is not None)
            await pilot.pause()  # the tables filled and laid out: the next frame paints them
            elapsed = (time.perf_counter() - started) * 1000
            elapsed_cpu = (time.process_time() - started_cpu) * 1000
            assert app.screen.query_one("#abc", DrillTable).row_count > 0
            if number:  # the first opening also imports the screen's modules
                samples.append(elapsed)
                cpu.append(elapsed_cpu)
            # A new screen each time: the mode's screen is made again on the next key, as on a first opening.
            await app.switch_mode("clients")
            await app.remove_mode("dashboard")
            app.add_mode("dashboard", lambda: modes.DASHBOARD.factory(app.identity))
    return samples, cpu


def _statements(ctx: BenchContext) -> list[tuple[str, object]]:
    """Every query the dashboard's read sends, as psycopg receives them (load_view on a tracing cursor)."""
    caught: list[tuple[str, object]] = []

    class Tracing(psycopg.Cursor):
        def execute(self, query, params=None, **kwargs):
            caught.append((query, params))
            return super().execute(query, params, **kwargs)

    with psycopg.connect(ctx.target.conninfo(), cursor_factory=Tracing) as conn:
        reads.load_view(conn)
    return caught


def _drill_rows(ctx: BenchContext, repeat: int) -> list[BenchRow]:
    """The drill-downs that read the purchases again (a month's revenue, a cohort's returners and the others),
    and the top clients by value, as the clients list opens on them: its first page and its exact count."""
    with psycopg.connect(ctx.target.conninfo(), autocommit=True) as conn:
        board = dashboard.load(conn)
        cohorts = [month for month in board.months if month.new_clients]
        if not cohorts:
            return []
        busiest = max(cohorts, key=lambda month: month.new_clients).month.strftime("%Y-%m")
        kinds = [("month_revenue", busiest), ("cohort_back", busiest), ("cohort_not_back", busiest),
                 ("top_value", "20")]
        result = []
        for name, value in kinds:
            criteria = listing.Criteria(filters=listing.Filters(extra=((name, value),)))
            where, params = listing.where_sql(criteria, False, None)
            bare = timed_ms(lambda w=where, p=params: conn.execute(f"SELECT count(*) FROM client c WHERE {w}",
                                                                     p, prepare=False).fetchall(), repeat=repeat)
            app = timed_ms(lambda c=criteria: session.read(lambda: (listing.find_page(c),
                                                                    listing.count(c, exact=True))), repeat=repeat)
            result.append(BenchRow(f"dashboard drill {name}", "", fmt_ms(app), fmt_ms(bare),
                                   note=f"{value}: the list's first page and exact count; bare SQL: the count alone",
                                   samples=tuple(app)))
    return result


def measure(ctx: BenchContext) -> list[BenchRow]:
    _ensure_results(ctx)
    repeat = 3 if ctx.smoke else 20
    screen, cpu = asyncio.run(_drive(ctx, repeat))
    sent = _statements(ctx)
    with psycopg.connect(ctx.target.conninfo(), autocommit=True) as conn:
        bare = timed_ms(lambda: [conn.execute(q, p, prepare=False).fetchall() for q, p in sent], repeat=repeat)
    app_read = timed_ms(lambda: session.read(reads.load_dashboard), repeat=repeat)
    return [
        BenchRow("dashboard open (Ctrl+Y to painted tables)", "< 300 ms", fmt_ms(screen), fmt_ms(bare),
                 note="through the Pilot at 80x24, a new dashboard screen each time, from the key until the "
                      f"tables are filled and the next frame is laid out; bare SQL: the {len(sent)} queries "
                      "load_dashboard sends, over psycopg", samples=tuple(screen)),
        BenchRow("dashboard open: CPU time of the app", "", fmt_ms(cpu), fmt_ms(bare),
                 note="the same openings, this process's CPU time (Textual's work and the read's client side); "
                      "the wall time above adds the frame timer's waits, the server and the machine's load",
                 samples=tuple(cpu)),
        BenchRow("dashboard: stored results read (db/ only)", "", fmt_ms(app_read), fmt_ms(bare),
                 samples=tuple(app_read)),
        *_drill_rows(ctx, repeat),
    ]
