"""The clients screen on the 1M base, driven by the Pilot as a user would: the first page, the next page
while scrolling, type-ahead as each key is pressed, and the app's resident memory after all that; each
beside the bare SQL (psycopg) of the same statements, so that the screen's own overhead shows.

A screen figure runs from the moment the action starts (the key press, the reload) until the page's rows
are in the list widget, ready to draw: the worker thread, the query, the hop back to the UI thread."""

from __future__ import annotations

import asyncio
import random
import resource
import time
from functools import partial

import psycopg
from textual.worker import WorkerState

from db import session
from db.clients import listing as clients
from db.clients.listing import Criteria
from tests.bench_database import _bare, _captured
from tests.benchlib import BenchContext, BenchRow, fmt_ms, statements_sent, timed_ms
from tui.app import ClientbaseApp
from tui.widgets.virtual_list import VirtualList


def _fetch_unprepared(conn: psycopg.Connection, statement: str, params: object) -> list:
    return conn.execute(statement, params, prepare=False).fetchall()


class _Stamps:
    """When each page fetch started (in its worker) and when its rows reached the widget."""

    def __init__(self, widget: VirtualList) -> None:
        self.started: dict[tuple[int, int], float] = {}
        self.arrived: dict[tuple[int, int], float] = {}
        fetch, arrived = widget._fetch, widget._arrived

        def timed_fetch(generation: int, number: int, start: object) -> None:
            self.started[(generation, number)] = time.perf_counter()
            fetch(generation, number, start)

        def timed_arrived(generation: int, number: int, page: object) -> None:
            arrived(generation, number, page)
            self.arrived[(generation, number)] = time.perf_counter()

        widget._fetch = timed_fetch
        widget._arrived = timed_arrived


JUMPS = 5


async def _until(pilot, condition, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the clients screen did not answer")
        await asyncio.sleep(0.002)


async def _idle(app: ClientbaseApp, pilot) -> None:
    while any(worker.state in (WorkerState.PENDING, WorkerState.RUNNING) for worker in app.workers):
        await asyncio.sleep(0.002)


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _drive(ctx: BenchContext, fragments: list[str]) -> dict[str, list[float] | float]:
    presses, reloads, jumps = (15, 2, 1) if ctx.smoke else (150, 20, JUMPS)
    app = ClientbaseApp(ctx.target, session.identity(ctx.target), listen=False)
    results: dict[str, list[float] | float] = {"first": [], "next": [], "typeahead": [], "end": [], "middle": []}
    async with app.run_test(size=(80, 24)) as pilot:
        await _until(pilot, lambda: getattr(app.screen, "list", None) is not None and app.screen.list.row_count)
        screen = app.screen
        widget = screen.list
        stamps = _Stamps(widget)

        for _ in range(reloads):
            started = time.perf_counter()
            screen._reload()
            generation = widget._generation
            await _until(pilot, lambda generation=generation: (generation, 0) in stamps.arrived)
            results["first"].append((stamps.arrived[(generation, 0)] - started) * 1000)
        await _idle(app, pilot)

        widget.focus()
        generation = widget._generation
        for _ in range(presses):  # about 2,800 rows down, a page every five presses or so
            fetched = set(stamps.started)
            pressed = time.perf_counter()
            await pilot.press("pagedown")
            await _idle(app, pilot)
            # A press that made the list fetch a page: from the key until the last page it asked for is in.
            asked = [key for key in stamps.started if key not in fetched and key[0] == generation and key[1] > 0]
            if asked:
                await _until(pilot, lambda asked=asked: all(key in stamps.arrived for key in asked))
                results["next"].append((max(stamps.arrived[key] for key in asked) - pressed) * 1000)

        for jump in range(jumps * 2):  # End, then a drag of the scrollbar to the middle; a new list each time
            screen._reload()
            await _until(pilot, lambda: screen.count is not None)
            await _idle(app, pilot)
            widget.focus()
            started = time.perf_counter()
            if jump % 2 == 0:
                await pilot.press("end")
                await _until(pilot, lambda: widget.current is not None and widget.counted_end is not None)
                results["end"].append((time.perf_counter() - started) * 1000)
            else:
                middle = widget.row_count // 2 + jump
                widget.scroll_to(y=middle, animate=False)
                await _until(pilot, lambda middle=middle: widget.row_at(middle) is not None)
                results["middle"].append((time.perf_counter() - started) * 1000)

        search = screen.query_one("#search")
        search.focus()
        for fragment in fragments:
            search.value = ""
            await _idle(app, pilot)
            await pilot.pause()
            for typed in range(1, len(fragment) + 1):
                started = time.perf_counter()
                await pilot.press(fragment[typed - 1])
                generation = widget._generation
                await _until(pilot, lambda generation=generation: (generation, 0) in stamps.arrived)
                if typed >= 3:
                    results["typeahead"].append((stamps.arrived[(generation, 0)] - started) * 1000)
            await _idle(app, pilot)
        results["rss"] = _rss_mb()
    return results


def measure(ctx: BenchContext) -> list[BenchRow]:
    with psycopg.connect(ctx.target.conninfo(), autocommit=True) as conn:
        surnames = [row[0] for row in conn.execute(
            "SELECT DISTINCT last_name FROM client WHERE id %% 1009 = 0 LIMIT %s", (2 if ctx.smoke else 25,))]
        tails = [row[0][-4:] for row in conn.execute(
            "SELECT normalized FROM contact_point WHERE kind = 'mobile' ORDER BY id LIMIT %s OFFSET %s",
            (2 if ctx.smoke else 8, min(7000, ctx.clients // 10)))]
        emails = [row[0].split("@")[0][-7:] + "@" for row in conn.execute(
            "SELECT normalized FROM contact_point WHERE kind = 'email' ORDER BY id LIMIT %s OFFSET %s",
            (1 if ctx.smoke else 4, min(9000, ctx.clients // 10)))]
    rng = random.Random(3)
    fragments = [s.lower()[: rng.randint(3, 7)] for s in surnames] + tails + emails
    # One untimed pass first, so that the screen and the bare SQL after it both meet a warm cache
    # (whichever ran first would otherwise pay for reading the table from disk).
    for fragment in fragments:
        for typed in range(1, len(fragment) + 1):
            clients.find_page(Criteria(text=fragment[:typed]))

    figures = asyncio.run(_drive(ctx, fragments))

    with psycopg.connect(ctx.target.conninfo(), autocommit=True) as conn:
        first_sql = _captured(lambda: clients.find_page(Criteria()))
        page = clients.find_page(Criteria())
        for _ in range(20):
            page = clients.find_page(Criteria(), after=page.next)
        cursor = page.next
        next_sql = _captured(lambda: clients.find_page(Criteria(), after=cursor))
        bare_typeahead: list[float] = []
        for fragment in fragments:
            for typed in range(3, len(fragment) + 1):
                statement, params = _captured(partial(clients.find_page, Criteria(text=fragment[:typed])))
                # Once each, like the screen's keystroke (repeating would measure a hotter cache).
                bare_typeahead += timed_ms(partial(_fetch_unprepared, conn, statement, params),
                                           repeat=1, warmup=0)
        bare_first = _bare(conn, first_sql)
        bare_next = _bare(conn, next_sql)
        # A jump is two statements: the OFFSET over the sort's index, then the keyset page after that row.
        total = clients.count(Criteria(), exact=True).value
        # End counts exactly first (the list's count is an estimate), then jumps: both are in the bare SQL.
        end_sql = statements_sent(lambda: clients.count(Criteria(), exact=True)) + \
            statements_sent(lambda: clients.find_page(Criteria(), after=clients.RowNumber(total - 60, False)))
        middle_sql = statements_sent(lambda: clients.find_page(Criteria(), after=clients.RowNumber(total // 2, False)))
        bare_end = timed_ms(lambda: [conn.execute(q, p, prepare=False).fetchall() for q, p in end_sql], repeat=5)
        bare_middle = timed_ms(lambda: [conn.execute(q, p, prepare=False).fetchall() for q, p in middle_sql],
                               repeat=5)

    note = "through the Pilot at 80×24: from the action until the rows are in the list widget"
    return [
        BenchRow("clients screen: first page", "< 100 ms", fmt_ms(figures["first"]), fmt_ms(bare_first),
                 note=note + " (a reload, which no key starts)", samples=tuple(figures["first"])),
        BenchRow("clients screen: next page while scrolling", "< 30 ms", fmt_ms(figures["next"]),
                 fmt_ms(bare_next), note=f"{len(figures['next'])} Page Down presses that fetched a page: from the "
                                         "key press until the page is in the list", samples=tuple(figures["next"])),
        BenchRow("clients screen: type-ahead, 3+ characters", "p95 < 100 ms", fmt_ms(figures["typeahead"], "p95"),
                 fmt_ms(bare_typeahead, "p95"), samples=tuple(figures["typeahead"]),
                 note=f"{len(figures['typeahead'])} keystrokes over {len(fragments)} surnames, phone tails, "
                      "e-mails typed key by key, warm cache"),
        BenchRow("clients screen: End, to the last of 1M rows", "", fmt_ms(figures["end"]), fmt_ms(bare_end),
                 samples=tuple(figures["end"]),
                 note=f"{len(figures['end'])} times, a new list each time: from the key until the last row is in the "
                      "list; "
                      "the count is an estimate, so End counts exactly first (part of the figure); bare SQL: "
                      "the same exact count, the OFFSET and the page of the jump"),
        BenchRow("clients screen: scrollbar dragged to the middle", "", fmt_ms(figures["middle"]),
                 fmt_ms(bare_middle), note="until the row under the view's top is in the list"),
        BenchRow("app resident memory on the 1M base", "< 200 MB", f"{figures['rss']:.0f} MB",
                 note="the whole benchmark process after the scrolling and searching above"),
    ]
