"""A fix for a Textual bug that every screen of this app meets, applied only to a Textual that has it.

Textual paints a screen from a 60 Hz timer that pauses itself after each frame and is resumed when a
widget changes. When that timer has fallen behind its schedule (it always has, after a pause), `Timer._run`
catches up with `count = int((now - start) / interval + 1)`, and then waits for `start + (count + 1) *
interval`: the boundary after the next one. So a change that comes within two frames of the previous frame
is painted 17 to 33 ms later instead of 0 to 17: the results of a search after the keystroke that typed
it, a saved card after the Ctrl+S that showed "saving", a page after the scroll that asked for it. The
catch-up came with the fix for Textual issue #5464 and is still in 8.2.8.

`apply()` replaces `Timer._run` with the same loop, minus that one interval, if the installed Textual's
loop holds the line above; any other Textual is left as it is.
"""

from __future__ import annotations

import inspect

from textual import _time
from textual._time import sleep
from textual.timer import EventTargetGone, Timer

BUGGY_CATCH_UP = "count = int((now - start) / _interval + 1)"
TEXTUALS_OWN_RUN = Timer._run


def has_the_bug() -> bool:
    return BUGGY_CATCH_UP in inspect.getsource(TEXTUALS_OWN_RUN)


async def _run(self: Timer) -> None:
    """Textual 8.2.8's `Timer._run`, except that a timer behind its schedule waits for the next boundary."""
    count = 0
    _repeat = self._repeat
    _interval = self._interval
    self._active  # Force instantiation in same thread
    await self._active.wait()
    start = _time.get_time()

    while _repeat is None or count <= _repeat:
        next_timer = start + ((count + 1) * _interval)
        now = _time.get_time()
        if self._skip and next_timer < now:
            count = int((now - start) / _interval)
            continue
        now = _time.get_time()
        wait_time = max(0, next_timer - now)
        await sleep(wait_time)
        count += 1
        await self._active.wait()
        if self._reset:
            start = _time.get_time()
            count = 0
            self._reset = False
            continue
        try:
            await self._tick(next_timer=next_timer, count=count)
        except EventTargetGone:
            break


def apply() -> bool:
    """Fixes Textual's timers if they have the bug; says whether it did."""
    if Timer._run is _run or not has_the_bug():
        return False
    Timer._run = _run
    return True
