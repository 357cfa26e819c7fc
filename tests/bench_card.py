"""Card open and save on the 1M base: through the real CardScreen driven by the Pilot, through db/cards, and
as the bare SQL of the same statements over psycopg.

Saves are committed, as a user's are (the commit's WAL flush is part of a save), into a copy of the bench
base (`CREATE DATABASE … TEMPLATE`, dropped afterwards), so that the base itself never changes; opens and
saves alike run on that copy. db.card.cards.save_card is also measured rolled back, to show what the commit adds.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from unittest import mock

import psycopg
from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Header, Input

from db import session
from db.card import cards
from db.models import database
from db.session import Identity
from screens.card.screen import REUSED, CardScreen
from tests.benchlib import BenchContext, BenchRow, database_url, fmt_ms, scratch_copy, timed_ms

# Imported here, not where it is used: importing the app fixes Textual's frame timer (tui/textual_compat.py),
# and every screen below must paint as it does in the app.
from tui.app import ClientbaseApp
from tui import textual_compat

SAMPLE = 25
TARGET = "< 50 ms"
SCRATCH = "bench_card_scratch"


def _sample_ids(ctx: BenchContext) -> list[int]:
    """Clients spread over the whole base, half of them regular buyers (the cards with the most rows)."""
    with psycopg.connect(ctx.owner_url) as conn:
        step = max(1, ctx.clients // SAMPLE)
        spread = [row[0] for row in conn.execute(
            "SELECT id FROM client WHERE id %% %s = 7 ORDER BY id LIMIT %s", (step, SAMPLE // 2))]
        busy = [row[0] for row in conn.execute(
            "SELECT id FROM client WHERE id %% %s = 3 AND purchase_count >= 5 ORDER BY id LIMIT %s",
            (step // 10 or 1, SAMPLE - len(spread)))]
    return spread + busy


@contextmanager
def _rolled_back():
    """db.card.tx.writing, except that the transaction is rolled back at the end."""
    with database.connection_context():
        with database.atomic() as transaction:
            yield
            transaction.rollback()


def _cycle(ids: list[int]):
    position = 0

    def next_id() -> int:
        nonlocal position
        position += 1
        return ids[position % len(ids)]

    return next_id


# --- bare SQL: the statements db/cards sends, with psycopg alone ---------------------------------------


def _card_statements(client_id: int) -> list[tuple[str, tuple | None]]:
    """The eleven reads of cards.load_card, the same text and parameters."""
    from db.card import activity as a
    from db.card import custom_fields
    return [
        (cards.SETTINGS_SQL, None),
        (custom_fields.DEFINITIONS_SQL, None),
        (cards.CLIENT_SQL, (client_id,)),
        (cards.CONTACTS_SQL, (client_id, client_id, list(cards.CONTACT_KINDS))),
        (cards.RELATIVES_SQL, (client_id,)),
        (a.PURCHASES_SQL, (client_id, a.SHOWN)),
        (a.FAVOURITES_SQL, (client_id, 5)),
        (a.SUBSCRIPTIONS_SQL, (client_id,)),
        (a.INTERACTIONS_SQL, (client_id, a.SHOWN)),
        (a.REMINDERS_SQL, (client_id, a.SHOWN)),
    ]


def _read_card(conn: psycopg.Connection, client_id: int) -> None:
    for statement, params in _card_statements(client_id):
        conn.execute(statement, params).fetchall()


def _bare_load(conn: psycopg.Connection, client_id: int) -> None:
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        _read_card(conn, client_id)


def _bare_save(conn: psycopg.Connection, client_id: int, versions: dict[int, int]) -> None:
    """The UPDATE of a save under its version check, committed, then the reload (the app reloads after its
    commit too). The next save of the card checks the version this one wrote."""
    with conn.transaction():
        versions[client_id] = conn.execute(
            "UPDATE client SET notes = notes || ' ', version = version + 1 WHERE id = %s AND version = %s "
            "RETURNING version", (client_id, versions[client_id])).fetchone()[0]
    _read_card(conn, client_id)


# --- through the screen --------------------------------------------------------------------------------


class _TimedCard(CardScreen):
    """The real screen; it only notes when a card (loaded or saved) is in its widgets. The Pilot's own
    waiting for the screen to settle is not counted; the next frame paints what the widgets hold."""

    shown: asyncio.Event | None = None
    shown_at = 0.0

    async def show_card(self, card, draft=None) -> None:
        await super().show_card(card, draft)
        self.shown_at = time.perf_counter()
        if self.shown is not None:
            self.shown.set()


class _Empty(Screen):
    """Header and footer only: what pushing any screen costs in Textual on this machine."""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Footer()


async def _through_screen(ids: list[int], identity: Identity, rounds: int,
                          warmup: int = 2) -> tuple[list[float], list[float], list[float]]:
    opens: list[float] = []
    saves: list[float] = []
    floor: list[float] = []
    app = App()
    async with app.run_test(size=(80, 24)) as pilot:
        app.connection_lost = lambda: None
        for index in range(rounds + warmup):
            started = time.perf_counter()
            await app.push_screen(_Empty())
            if index >= warmup:
                floor.append((time.perf_counter() - started) * 1000)
            await app.pop_screen()
            await pilot.pause()
        frames = _note_frames(app)
        for index in range(rounds + warmup):  # the first ones warm up Textual's caches and the pool
            client_id = ids[index % len(ids)]

            def built_now(client_id: int = client_id) -> _TimedCard:
                screen = _TimedCard(identity, client_id)
                app.push_screen(screen)
                return screen

            _, opened = await _open_until_painted(app, frames, built_now)
            screen = app.screen
            notes = screen.query_one("#f-city", Input)
            notes.value = notes.value + " "
            await pilot.pause()
            started = time.perf_counter()
            await pilot.press("ctrl+s")
            while screen.shown_at < started:
                await asyncio.sleep(0.0005)
            saved = (await _frame_after(frames, screen.shown_at) - started) * 1000
            if index >= warmup:
                opens.append(opened)
                saves.append(saved)
            await app.pop_screen()
            await pilot.pause()
    return opens, saves, floor


def _note_frames(app: App) -> list[float]:
    """When the app composes each frame for the terminal (headless: the same work, nothing written)."""
    frames: list[float] = []
    textual_compat.on_every_frame(app, lambda: frames.append(time.perf_counter()))
    return frames


async def _open_until_painted(app: App, frames: list[float], open_card) -> tuple[float, float]:
    """Runs `open_card()` (which must return the _TimedCard it shows) and returns the milliseconds until
    the card is in the editor's widgets, and until the first frame composed with the editor holding it."""
    started = time.perf_counter()
    screen = open_card()
    while not (screen.shown_at > started and app.screen is screen):
        await asyncio.sleep(0.0005)
    return (screen.shown_at - started) * 1000, (await _frame_after(frames, screen.shown_at) - started) * 1000


async def _frame_after(frames: list[float], moment: float) -> float:
    """When the first frame composed after `moment` was (the screen is pushed in the same step as the
    card is shown, so that frame holds both)."""
    while not frames or frames[-1] < moment:
        await asyncio.sleep(0.0005)
    return next(frame for frame in frames if frame > moment)


async def _reused_editor(ids: list[int], identity: Identity, rounds: int,
                         warmup: int = 2) -> tuple[list[float], list[float]]:
    """Opening as the app does (CardScreen.open): the editor is built once, each next card is loaded, put
    into its widgets, and the editor shown."""
    filled: list[float] = []
    painted: list[float] = []
    app = App()
    async with app.run_test(size=(80, 24)) as pilot:
        app.connection_lost = lambda: None
        frames = _note_frames(app)
        for index in range(rounds + warmup):
            in_widgets, on_screen = await _open_until_painted(
                app, frames, lambda index=index: _TimedCard.open(app, identity, ids[index % len(ids)]))
            if index >= warmup:
                filled.append(in_widgets)
                painted.append(on_screen)
            await app.pop_screen()
            await pilot.pause()
    return filled, painted


async def _first_card_after_start(home: str) -> float:
    """In this (new) process: the real app on the bench base, its clients screen showing the first page,
    the card editor built in the background as the app does; then Enter on the first row. Milliseconds
    from the key until the first frame composed with the card in the editor."""
    from db import connection, session
    from tests.bench_clients import _until

    target = connection.resolve(None, None, home=Path(home))
    session.bind(target)
    app = ClientbaseApp(target, session.identity(target), listen=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await _until(pilot, lambda: getattr(app.screen, "list", None) is not None and app.screen.list.row_count)
        # A user reads the list for a moment: the editor is built meanwhile (CardScreen.prepare).
        await _until(pilot, lambda: app.is_screen_installed(REUSED) and app.get_screen(REUSED).is_mounted)
        await pilot.pause(0.2)
        editor = app.get_screen(REUSED)
        frames = _note_frames(app)
        shown_at = 0.0
        show_card = editor.show_card

        async def noted(card, draft=None) -> None:
            nonlocal shown_at
            await show_card(card, draft)
            shown_at = time.perf_counter()

        editor.show_card = noted
        started = time.perf_counter()
        await pilot.press("enter")
        await _until(pilot, lambda: shown_at and app.screen is editor)
        return (await _frame_after(frames, shown_at) - started) * 1000


def _first_cards(ctx: BenchContext, runs: int) -> list[float]:
    """Each in a process of its own, as a user starting the app: nothing of Textual's or Python's is warm
    but what showing the clients list warmed."""
    home = str(ctx.target.embedded.home)
    return [float(subprocess.run([sys.executable, "-m", "tests.bench_card", "--first-card", home],
                                 check=True, capture_output=True, text=True).stdout.split()[-1])
            for _ in range(runs)]


def measure(ctx: BenchContext) -> list[BenchRow]:
    ids = _sample_ids(ctx)[: 3 if ctx.smoke else SAMPLE]
    identity = Identity(login=ctx.target.login, role="admin", database="bench", schema_version=0,
                        server_version="")
    with scratch_copy(ctx, SCRATCH) as owner_url:
        # The app's login on the copy: the same server, another database.
        session.bind(replace(ctx.target, url=database_url(ctx.target.url, SCRATCH), embedded=None))
        try:
            figures = _on_scratch(owner_url, ids, identity, ctx.smoke)
        finally:
            database.close_all()  # the copy is dropped next, and nobody may be connected to it then
            session.bind(ctx.target)
    bare_open, bare_save, db_open, db_save, db_save_rolled_back = figures["sql"]
    screen_open, screen_save, floor, reused_open, reused_painted = figures["screen"]
    first_open = _first_cards(ctx, runs=1 if ctx.smoke else 10)
    note = f"{len(ids)} cards, half of them regular buyers, on a copy of the base (saves commit there)"
    return [
        BenchRow("open a card (CardScreen, Pilot)", TARGET,
                 f"{fmt_ms(reused_painted)}, {fmt_ms(reused_painted, 'p95')}", fmt_ms(bare_open),
                 samples=tuple(reused_painted),
                 note="as the app opens cards (CardScreen.open), until the first frame showing the card is "
                      f"composed; the card was in the widgets after {fmt_ms(reused_open)}; " + note),
        BenchRow("  first card after start", TARGET, f"{fmt_ms(first_open)}, {fmt_ms(first_open, 'p95')}",
                 fmt_ms(bare_open), note=f"{len(first_open)} new process(es), each the real app on the base: the "
                                         "clients list shown, the editor built in the background as the app does, "
                                         "Enter on the first row; until the frame is composed"),
        BenchRow("  editor built from scratch on open", "", fmt_ms(screen_open), fmt_ms(bare_open),
                 note="a new CardScreen each time, which the app does only if a card is opened before the "
                      "background build is done"),
        BenchRow("  Textual floor: push an empty screen", "", fmt_ms(floor), "",
                 note="Header + Footer only, push until mounted"),
        BenchRow("open a card (db.card.cards.load_card)", TARGET, fmt_ms(db_open), fmt_ms(bare_open),
                 samples=tuple(db_open), note="10 reads in one snapshot"),
        BenchRow("save a card (CardScreen, Ctrl+S)", TARGET, fmt_ms(screen_save), fmt_ms(bare_save),
                 samples=tuple(screen_save),
                 note="key until the frame showing the saved card is composed; " + note),
        BenchRow("save a card (db.card.cards.save_card)", TARGET, fmt_ms(db_save), fmt_ms(bare_save),
                 note=f"UPDATE, commit, reload; committed into a copy of the base; rolled back instead of "
                      f"committed: {fmt_ms(db_save_rolled_back)}"),
    ]


def _on_scratch(owner_url: str, ids: list[int], identity: Identity,
                smoke: bool) -> dict[str, tuple[list[float], ...]]:
    with psycopg.connect(owner_url, autocommit=True) as conn:
        next_bare = _cycle(ids)
        bare_open = timed_ms(lambda: _bare_load(conn, next_bare()), repeat=len(ids) * 2)
        versions = dict(conn.execute("SELECT id, version FROM client WHERE id = ANY(%s)", (ids,)).fetchall())
        next_bare = _cycle(ids)
        bare_save = timed_ms(lambda: _bare_save(conn, next_bare(), versions), repeat=len(ids) * 2)
    next_db = _cycle(ids)
    db_open = timed_ms(lambda: cards.load_card(next_db()), repeat=len(ids) * 2)
    loaded = {client_id: cards.load_card(client_id) for client_id in ids}

    def save_one() -> None:
        card = loaded[next_db()]
        loaded[card.id] = cards.save_card(card, replace(card.draft, notes=card.draft.notes + " "))

    next_db = _cycle(ids)
    db_save = timed_ms(save_one, repeat=len(ids) * 2)

    def save_rolled_back() -> None:
        card = loaded[next_db()]
        cards.save_card(card, replace(card.draft, notes=card.draft.notes + " "))

    next_db = _cycle(ids)
    with mock.patch("db.card.cards.writing", _rolled_back):
        db_save_rolled_back = timed_ms(save_rolled_back, repeat=len(ids) * 2)
    # A smoke run opens and saves one card each way, unwarmed: only that every path still works.
    rounds, warmup = (1, 0) if smoke else (len(ids), 2)
    screen = asyncio.run(_through_screen(ids, identity, rounds=rounds, warmup=warmup))
    reused = asyncio.run(_reused_editor(ids, identity, rounds=rounds * 2, warmup=warmup))
    return {"sql": (bare_open, bare_save, db_open, db_save, db_save_rolled_back), "screen": (*screen, *reused)}


if __name__ == "__main__":
    # python -m tests.bench_card --first-card HOME: one first card, for _first_cards.
    if sys.argv[1:2] == ["--first-card"]:
        print(f"{asyncio.run(_first_card_after_start(sys.argv[2])):.3f}")
