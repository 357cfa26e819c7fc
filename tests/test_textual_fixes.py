"""Textual's frame timer, as the app runs it (tui/textual_fixes.py), on a clock the test moves by hand."""

from __future__ import annotations

import asyncio

import textual._time
import textual.timer
from textual.timer import Timer

import tui.app  # noqa: F401  (the app applies its Textual fixes when it is imported)
from tui import textual_fixes
FRAME = 10.0


class Target:
    """Something for the timer to point at."""


async def test_a_change_soon_after_a_frame_is_painted_at_the_next_frame_not_the_one_after(monkeypatch):
    clock = [100.0]

    async def sleep(seconds: float) -> None:
        wake = clock[0] + seconds
        while clock[0] < wake:
            await asyncio.sleep(0)

    async def move_clock_to(moment: float) -> None:
        while True:
            for _ in range(50):  # time for the timer's task to notice and to paint
                await asyncio.sleep(0)
            if clock[0] >= moment:
                return
            clock[0] += 1

    monkeypatch.setattr(textual._time, "get_time", lambda: clock[0])
    monkeypatch.setattr(textual.timer, "sleep", sleep)
    monkeypatch.setattr(textual_fixes, "sleep", sleep)
    # Like a screen's update timer: paused, resumed by a change, paused again by the frame it paints.
    target = Target()
    timer = Timer(target, FRAME, pause=True)
    frames: list[float] = []

    async def paint(next_timer: float, count: int) -> None:
        frames.append(clock[0])
        timer.pause()

    timer._tick = paint
    running = asyncio.create_task(Timer._run(timer))
    try:
        timer.resume()
        await move_clock_to(503)  # one frame, then the app idles
        assert frames == [110]
        timer.resume()  # a key is pressed: its frame is painted at once
        await move_clock_to(506)
        assert frames == [110, 503]
        timer.resume()  # its search result arrives: painted at the next boundary, not at 520 as in Textual 8.2.8
        await move_clock_to(525)
        assert frames == [110, 503, 510]
    finally:
        running.cancel()


def test_the_fix_is_applied_only_where_textual_has_the_bug():
    assert (Timer._run is textual_fixes._run) == textual_fixes.has_the_bug()
    assert textual_fixes.apply() is False, "applied once"
