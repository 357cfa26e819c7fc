"""Every use of a private Textual API, in one place, so that a Textual upgrade is checked here and nowhere else.

Each function names the private symbol it touches; tests/test_textual_compat.py holds a canary per symbol
that fails, naming it, when the installed Textual no longer has it as this module expects. Textual is
pinned to the minor version those canaries last passed on (pyproject.toml).

- `Timer._run`: replaced, to fix a frame timer that paints one frame late (below).
- `App._load_screen_css`, `App._get_screen`: build an installed screen before it is shown.
- `Footer._bindings_ready`: whether the footer has ever drawn its keys.
- `DOMNode._bindings` (`BindingsMap._add_binding`): a key added to one app at run time, with its tooltip and id.
- `App._screen_stacks`: the screens of every mode, not only the current one.
- `DOMNode._merge_bindings`, `DOMNode._merged_bindings`: every class's bindings made again in the language
  settled at start (Textual merges them once, when the class is made, and each instance copies them).
- `Screen._css_update_count`, `App._css_update_count`: a new screen's styles are already current.
- `App._notifications`, `App._display` (tests and benchmarks only): the notifications said, and each frame
  composed for the terminal.

The frame timer. Textual paints a screen from a 60 Hz timer that pauses itself after each frame and is
resumed when a widget changes. When that timer has fallen behind its schedule (it always has, after a
pause), `Timer._run` catches up with `count = int((now - start) / interval + 1)`, and then waits for
`start + (count + 1) * interval`: the boundary after the next one. So a change that comes within two frames
of the previous frame is painted 17 to 33 ms later instead of 0 to 17: the results of a search after the
keystroke that typed it, a saved card after the Ctrl+S that showed "saving", a page after the scroll that
asked for it. The catch-up came with the fix for Textual issue #5464 and is still in 8.2.8.
`apply()` replaces `Timer._run` with the same loop, minus that one interval, if the installed Textual's
loop holds the line above; any other Textual is left as it is.
"""

from __future__ import annotations

import inspect
from typing import Callable, Iterator

from textual import _time
from textual._time import sleep
from textual.app import App
from textual.binding import Binding
from textual.dom import DOMNode
from textual.screen import Screen
from textual.timer import EventTargetGone, Timer
from textual.widgets import Footer

BUGGY_CATCH_UP = "count = int((now - start) / _interval + 1)"
TEXTUALS_OWN_RUN = Timer._run


def has_the_bug() -> bool:
    return BUGGY_CATCH_UP in inspect.getsource(TEXTUALS_OWN_RUN)


async def _run(self: Timer) -> None:
    """Textual 8.2.8's `Timer._run`, except that a timer behind its schedule waits for the next boundary."""
    count = 0
    _repeat = self._repeat
    _interval = self._interval
    self._active  # noqa: B018  (Textual reads it to make the Event in this thread, as its own loop does)
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


def build_screen_unseen(app: App, screen: Screen, name: str) -> None:
    """Reads an installed screen's CSS and mounts its widgets without showing it. Textual has no public call
    for this: these are the two first steps of `push_screen`, and they leave the screen as it is after a push
    and a pop, which Textual supports for installed screens."""
    app._load_screen_css(screen)
    app._get_screen(name)


def styles_already_current(screen: Screen, app: App) -> None:
    """A screen made for a mode gets its styles as its widgets mount; Textual re-parses the whole stylesheet
    for it twice anyway (`_init_mode` and `switch_mode` compare the screen's `_css_update_count`, -1 when new,
    with the app's): 70 ms each of the dashboard's first opening, measured by tests/bench_dashboard.py. Call it
    in the screen's constructor, when no theme change can have come between."""
    screen._css_update_count = app._css_update_count


def footer_has_drawn_keys(footer: Footer) -> bool:
    """False until Textual's Footer has been told the bindings once; before that it composes nothing."""
    return footer._bindings_ready


def add_binding(node: DOMNode, binding: Binding) -> None:
    """Adds a key to this node alone, with everything a `Binding` carries. (`DOMNode.bind` takes neither a
    tooltip nor an id, and BINDINGS are fixed when the class is made.)"""
    node._bindings._add_binding(binding)


def rebind_every_class(transform: Callable[[list[Binding]], list[Binding]]) -> None:
    """Every widget, screen and app class gets its bindings again, through `transform`, and so does every
    class made later (Textual merges a class's BINDINGS once, into `_merged_bindings`, when the class is made)."""
    from textual.binding import BindingsMap

    merge = DOMNode.__dict__["_merge_bindings"].__func__
    merge = getattr(merge, "_clientbase_merge", merge)

    def merge_transformed(cls: type) -> BindingsMap:
        merged = merge(cls)
        bindings = [binding for key_bindings in merged.key_to_bindings.values() for binding in key_bindings]
        return BindingsMap(transform(bindings))

    merge_transformed._clientbase_merge = merge  # type: ignore[attr-defined]
    DOMNode._merge_bindings = classmethod(merge_transformed)  # type: ignore[method-assign,assignment]
    pending: list[type] = [DOMNode]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        cls._merged_bindings = cls._merge_bindings()  # type: ignore[attr-defined]


def screens_of_every_mode(app: App) -> Iterator[Screen]:
    """Every screen the app holds, in every mode: `App.screen_stack` is the current mode's alone."""
    for stack in list(app._screen_stacks.values()):
        yield from stack


def notification_messages(app: App) -> list[str]:
    """What `App.notify` has said that is still on record; Textual has no public reader of its notifications."""
    return [notification.message for notification in app._notifications]


def on_every_frame(app: App, seen: Callable[[], None]) -> None:
    """Calls `seen` each time the app composes a frame for the terminal (headless: the same work, nothing
    written), after the frame."""
    display = app._display

    def noted(screen: Screen, renderable: object) -> None:
        display(screen, renderable)
        if renderable is not None:
            seen()

    app._display = noted  # type: ignore[method-assign]
