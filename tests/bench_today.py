"""Today and the audit on the bench base: each opened through the Pilot as a user opens it (Ctrl+T, Ctrl+O), and
each read beside the bare SQL of the statements db/ sends.

The demo makes no reminders and writes its million clients without an audit row each, so the first run adds
what these screens read, once, as the database owner: open reminders assigned to five logins, due over the
four months around today, and two million audit rows by six logins over a year (tables, actions and clients
drawn as an office's year of work would spread them). Both are marked: logins starting with `bench_`.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import psycopg
from textual.widgets import DataTable, TabbedContent

from db import session
from db.audit import reads as audit_reads
from db.audit.reads import AuditFilter
from db.today import reads as today_reads
from screens.audit.screen import AuditScreen
from screens.today.screen import TodayScreen
from tests.benchlib import BenchContext, BenchRow, fmt_ms, timed_ms
from tui import modes, textual_compat
from tui.app import ClientbaseApp

REMINDERS = 20_000
AUDIT_ROWS = 2_000_000
BUSY_LOGIN = "bench_admin_1"

_REMINDERS_SQL = """
INSERT INTO reminder (client_id, due_on, text, assignee, created_by, updated_by)
SELECT 1 + (g * 7919) %% %(clients)s, CURRENT_DATE - 60 + g %% 120, 'Call back about the order ' || g,
       'bench_sales_' || (1 + g %% 5), 'bench_admin_1', 'bench_admin_1'
  FROM generate_series(1, %(count)s) g
"""

# Weighted like an office's work: mostly clients and purchases, then contacts, reminders and relatives.
_AUDIT_SQL = """
INSERT INTO audit_log (at, login, table_name, row_id, action, old_values, new_values)
SELECT now() - make_interval(secs => g * (365 * 86400.0 / %(count)s)),
       'bench_' || (ARRAY['admin_1', 'admin_1', 'admin_1', 'admin_2', 'admin_2', 'owner'])[1 + g %% 6],
       t.name,
       CASE WHEN t.name = 'client' THEN c.id ELSE g END::text,
       (ARRAY['insert', 'update', 'update', 'delete'])[1 + (g / 7) %% 4],
       CASE WHEN (g / 7) %% 4 <> 0 THEN jsonb_build_object('city', 'Kazan', 'client_id', c.id) END,
       CASE WHEN (g / 7) %% 4 <> 3 THEN jsonb_build_object('city', 'Moscow', 'client_id', c.id) END
  FROM generate_series(1, %(count)s::bigint) g
 CROSS JOIN LATERAL (SELECT 1 + (g * 104729) %% %(clients)s AS id) c
 CROSS JOIN LATERAL (SELECT (ARRAY['client', 'client', 'client', 'purchase', 'purchase', 'purchase', 'contact_point',
                                   'reminder', 'relative', 'subscription'])[1 + g %% 10] AS name) t
"""


def _ensure_data(ctx: BenchContext) -> None:
    scale = max(1, ctx.clients // 1000) if ctx.smoke else 1
    with psycopg.connect(ctx.owner_url, autocommit=True) as conn:
        clients = conn.execute("SELECT max(id) FROM client").fetchone()[0]
        if conn.execute("SELECT count(*) FROM reminder WHERE assignee LIKE 'bench\\_%'").fetchone()[0] == 0:
            conn.execute(_REMINDERS_SQL, {"clients": clients, "count": REMINDERS // (10 * scale) if ctx.smoke
                                          else REMINDERS})
        if conn.execute("SELECT 1 FROM audit_log WHERE login LIKE 'bench\\_%' LIMIT 1").fetchone() is None:
            conn.execute(_AUDIT_SQL, {"clients": clients, "count": 20_000 if ctx.smoke else AUDIT_ROWS})
            conn.execute("ANALYZE audit_log")
            conn.execute("ANALYZE reminder")


async def _until(condition, what: str, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not open")
        await asyncio.sleep(0.001)


async def _drive(ctx: BenchContext, repeat: int, key: str, mode: str, ready,
                 cpu: list[float] | None = None) -> list[float]:
    """From the mode's key to the first frame composed once `ready(screen)` holds (its lists filled and laid
    out), a new screen each time (as on a first opening); the process's CPU time until then into `cpu`, which a
    busy machine does not inflate as it does the clock. Not until the app is idle: the tab names' underline
    slides for 300 ms once their counts are read, long after the lists are painted."""
    app = ClientbaseApp(ctx.target, session.identity(ctx.target), listen=False)
    frames: list[float] = []
    textual_compat.on_every_frame(app, lambda: frames.append(time.perf_counter()))
    samples: list[float] = []
    async with app.run_test(size=(80, 24)) as pilot:
        await _until(lambda: getattr(app.screen, "list", None) is not None and app.screen.list.row_count,
                     "the clients list")
        for number in range(repeat + 1):
            started, cpu_started = time.perf_counter(), time.process_time()
            # Pilot.press returns once every animation is over; the key's effect is timed beside it.
            pressing = asyncio.create_task(pilot.press(key))
            await _until(lambda: ready(app.screen), mode)
            laid_out = time.perf_counter()
            await _until(lambda laid_out=laid_out: frames and frames[-1] > laid_out, f"{mode} painted")
            elapsed = (next(frame for frame in frames if frame > laid_out) - started) * 1000
            cpu_used = (time.process_time() - cpu_started) * 1000
            await pressing
            await pilot.pause()
            if number:  # the first opening also imports the screen's modules
                samples.append(elapsed)
                if cpu is not None:
                    cpu.append(cpu_used)
            await app.switch_mode("clients")
            await app.remove_mode(mode)
            app.add_mode(mode, lambda: modes.REGISTRY[mode].factory(app.identity))
    return samples


def _today_laid_out(screen) -> bool:
    """The shown tab's list has its rows (there may be none on a small base) and a place on the screen."""
    if not isinstance(screen, TodayScreen) or screen.view is None:
        return False
    name = screen.query_one("#today-tabs", TabbedContent).active
    table = next(screen.query(f"#{name}-table").results(DataTable), None)
    return table is not None and table.row_count == len(getattr(screen.view, name).shown) and table.region.height > 0


def _traced(ctx: BenchContext, action) -> list[tuple[str, object]]:
    """Every statement `action(conn)` sends, as psycopg receives them."""
    caught: list[tuple[str, object]] = []

    class Tracing(psycopg.Cursor):
        def execute(self, query, params=None, **kwargs):
            caught.append((query, params))
            return super().execute(query, params, **kwargs)

    with psycopg.connect(ctx.target.conninfo(), cursor_factory=Tracing) as conn:
        action(conn)
    return caught


def _bare(ctx: BenchContext, sent: list[tuple[str, object]], repeat: int) -> list[float]:
    with psycopg.connect(ctx.target.conninfo(), autocommit=True) as conn:
        return timed_ms(lambda: [conn.execute(q, p, prepare=False).fetchall() for q, p in sent], repeat=repeat)


def _audit_rows(ctx: BenchContext, repeat: int) -> list[BenchRow]:
    with psycopg.connect(ctx.target.conninfo()) as conn:
        today = conn.execute("SELECT CURRENT_DATE").fetchone()[0]
        client = conn.execute("SELECT client_id "
                              "FROM audit_log WHERE login = %s AND client_id IS NOT NULL ORDER BY at DESC LIMIT 1", (BUSY_LOGIN,)).fetchone()[0]
        # Twenty pages down the busy login's changes: where the keyset continues.
        deep = audit_reads.page(conn, AuditFilter(login=BUSY_LOGIN), limit=20 * audit_reads.PAGE_SIZE)[-1].key
    cases = [
        ("no filter, newest page", AuditFilter(), None),
        ("by login", AuditFilter(login=BUSY_LOGIN), None),
        ("by login, page 21 (keyset)", AuditFilter(login=BUSY_LOGIN), deep),
        ("by client", AuditFilter(client_id=client), None),
        ("by table and a month", AuditFilter(table_name="purchase", since=today - timedelta(days=30), until=today),
         None),
        ("by login, a year ago", AuditFilter(login=BUSY_LOGIN, since=today - timedelta(days=365),
                                             until=today - timedelta(days=358)), None),
    ]
    made = []
    for what, audit, after in cases:
        sent = _traced(ctx, lambda conn, audit=audit, after=after: audit_reads.page(conn, audit, after))
        app_read = timed_ms(lambda audit=audit, after=after: session.read(audit_reads.load_page, audit, after),
                            repeat=repeat)
        made.append(BenchRow(f"audit filter: {what}", "< 100 ms", fmt_ms(app_read), fmt_ms(_bare(ctx, sent, repeat)),
                             note="db/audit load_page, a page of 50; bare SQL: its statements over psycopg",
                             samples=tuple(app_read)))
    period = AuditFilter(since=today - timedelta(days=6), until=today)
    sent = _traced(ctx, lambda conn: audit_reads.summary(conn, period))
    app_read = timed_ms(lambda: session.read(audit_reads.load_summary, period), repeat=repeat)
    made.append(BenchRow("audit: summary per login per day, 7 days", "", fmt_ms(app_read),
                         fmt_ms(_bare(ctx, sent, repeat)), samples=tuple(app_read)))
    return made


def measure(ctx: BenchContext) -> list[BenchRow]:
    _ensure_data(ctx)
    repeat = 3 if ctx.smoke else 20
    login = session.identity(ctx.target).login
    today_cpu: list[float] = []
    today_screen = asyncio.run(_drive(ctx, repeat, "ctrl+t", "today", _today_laid_out, today_cpu))
    sent = _traced(ctx, lambda conn: today_reads.load(conn, login))
    bare = _bare(ctx, sent, repeat)
    app_read = timed_ms(lambda: session.read(today_reads.load_today, login), repeat=repeat)
    audit_screen = asyncio.run(_drive(ctx, repeat, "ctrl+o", "audit",
                                      lambda screen: isinstance(screen, AuditScreen) and bool(screen.entries)))
    with psycopg.connect(ctx.owner_url) as conn:
        logged = conn.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = 'audit_log'").fetchone()[0]
    return [
        BenchRow("Today open (Ctrl+T to painted lists)", "< 300 ms", fmt_ms(today_screen), fmt_ms(bare),
                 note="through the Pilot at 80x24, a new screen each time, from the key until the shown list is "
                      f"filled and laid out ({fmt_ms(today_cpu)} of CPU); bare SQL: the {len(sent)} queries "
                      "load_today sends, over psycopg",
                 samples=tuple(today_screen)),
        BenchRow("Today: the five lists read (db/ only)", "< 300 ms", fmt_ms(app_read), fmt_ms(bare),
                 samples=tuple(app_read)),
        BenchRow("Audit open (Ctrl+O to the first page)", "", fmt_ms(audit_screen), "",
                 note=f"through the Pilot at 80x24, over about {logged:,} audit rows", samples=tuple(audit_screen)),
        *_audit_rows(ctx, repeat),
    ]
