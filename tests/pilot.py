"""What every keyboard test needs: wait until the app has done what the keys asked, and read the terminal as a
user sees it, through Textual's public API only."""

from __future__ import annotations

import asyncio
import html
import re
import time
from typing import Callable

from rich.cells import cell_len
from textual.app import App
from textual.pilot import Pilot
from textual.worker import WorkerCancelled, WorkerFailed, WorkerState

SETTLE_SECONDS = 60.0
_ACTIVE = (WorkerState.PENDING, WorkerState.RUNNING)
# One <text> of Rich's SVG export: a run of characters at a column of a terminal line.
_TEXT = re.compile(r'<text [^>]*?x="(?P<x>[\d.]+)"[^>]*?textLength="(?P<length>[\d.]+)"'
                   r'[^>]*?clip-path="url\(#[^)]*-line-(?P<line>\d+)\)"[^>]*>(?P<text>[^<]*)</text>')


async def settle(pilot: Pilot) -> None:
    """Until no worker is pending or running and the screen has caught up with their results. A worker that
    the next keystroke cancelled (a superseded search, the normal fate of a type-ahead query) is not waited
    for and is no failure. A worker that failed is the app's to answer, as it is for a user: the screen says
    what it expects (a conflict, a refused save) and re-raises a bug, which ends `run_test` with it. Raising
    here too made the same failure a test error only when the worker was still running as settle looked,
    which a loaded machine decides (a save's expected ConflictError failed the card test under load)."""
    app = pilot.app
    deadline = time.monotonic() + SETTLE_SECONDS
    quiet = 0
    # Twice quiet in a row: a worker's result may start the next one (the count after the first page).
    while quiet < 2:
        await pilot.pause()
        active = [worker for worker in app.workers if worker.state in _ACTIVE]
        if not active:
            quiet += 1
            continue
        quiet = 0
        for worker in active:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"workers still busy after {SETTLE_SECONDS:.0f} s: {active}")
            if worker.state is WorkerState.PENDING:
                await pilot.pause(0.01)
                continue
            try:
                await asyncio.wait_for(asyncio.shield(worker.wait()), left)
            except (WorkerCancelled, WorkerFailed):
                pass
            except TimeoutError:
                raise AssertionError(f"worker {worker.name!r} still busy after {SETTLE_SECONDS:.0f} s") from None


def screen_lines(app: App) -> list[str]:
    """The terminal's lines as drawn, modal dialogs and the screens under them included, read from the app's
    own screenshot (`App.export_screenshot`)."""
    width, height = app.size
    lines = [[" "] * width for _ in range(height)]
    for match in _TEXT.finditer(app.export_screenshot()):
        text = html.unescape(match["text"]).replace("\xa0", " ")
        column = round(float(match["x"]) / (float(match["length"]) / len(text)))
        row = lines[int(match["line"])]
        for char in text:
            if column >= width:
                break
            row[column] = char
            for wide in range(1, cell_len(char)):  # a wide character covers the next cell
                if column + wide < width:
                    row[column + wide] = ""
            column += cell_len(char)
    return ["".join(row) for row in lines]


def screen_text(app: App) -> str:
    """Every character on the terminal, row by row."""
    return "\n".join(screen_lines(app))


def row_with(app: App, text: str) -> str:
    """The terminal's line that shows `text`."""
    return next(line for line in screen_lines(app) if text in line)


async def wait_for(pilot: Pilot, condition: Callable[[], object], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            workers = [(worker.name, worker.group, worker.state.name) for worker in pilot.app.workers]
            raise AssertionError("the screen never showed what was expected; it shows:\n"
                                 + "\n".join(screen_lines(pilot.app)) + f"\nworkers: {workers}")
        await pilot.pause(0.1)


def shown_mode_label(app: App) -> str:
    """The part of the screen's header (tui/widgets/app_header.py) drawn reversed: the mode on screen."""
    from tui.widgets.app_header import AppHeader

    line = app.screen.query_one(AppHeader).render()
    return "".join(line.plain[span.start:span.end] for span in line.spans
                   if getattr(span.style, "reverse", False)).strip()
