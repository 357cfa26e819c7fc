"""Every private Textual API the app uses (tui/textual_compat.py): a canary per symbol that names it when the
installed Textual no longer has it as the app expects, and the frame timer's fix on a clock moved by hand."""

from __future__ import annotations

import asyncio
import inspect

import textual._time
import textual.timer
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingsMap
from textual.reactive import Reactive
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Label

import tui.app  # noqa: F401  (the app applies its Textual fixes when it is imported)
from tui import textual_compat
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
    monkeypatch.setattr(textual_compat, "sleep", sleep)
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
    assert (Timer._run is textual_compat._run) == textual_compat.has_the_bug()
    assert textual_compat.apply() is False, "applied once"


# --- canaries: one per private symbol, each failing with the symbol's name ---------------------------------


def test_canary_timer_run_still_has_the_late_frame_that_the_app_replaces():
    original = textual_compat.TEXTUALS_OWN_RUN
    assert inspect.iscoroutinefunction(original), "Timer._run is no longer a coroutine function"
    assert textual_compat.has_the_bug(), (
        "Timer._run changed: Textual may have fixed the late frame; compare it with tui/textual_compat._run "
        "and drop the replacement or redo it")
    timer = Timer(Target(), 1.0, pause=True)
    used = ("_repeat", "_interval", "_active", "_skip", "_reset", "_tick")
    missing = [name for name in used if not hasattr(timer, name)]
    assert not missing, f"Timer._run's replacement reads Timer attributes that are gone: {missing}"


class Unseen(Screen):
    CSS = "Unseen Label { width: 17; }"

    def compose(self) -> ComposeResult:
        yield Label("built ahead", id="ahead")


class Bare(App):
    def compose(self) -> ComposeResult:
        yield Footer()


async def test_canary_app_load_screen_css_and_get_screen_build_an_installed_screen_unseen():
    for name in ("_load_screen_css", "_get_screen"):
        assert list(inspect.signature(getattr(App, name)).parameters) == ["self", "screen"], (
            f"App.{name} changed its signature")
    app = Bare()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = Unseen()
        app.install_screen(screen, "unseen")
        textual_compat.build_screen_unseen(app, screen, "unseen")
        await pilot.pause()
        assert screen.query_one("#ahead", Label).is_mounted, "App._get_screen no longer mounts the screen"
        assert app.screen is not screen, "App._get_screen now shows the screen"
        await app.push_screen("unseen")
        await pilot.pause()
        assert app.screen is screen
        assert screen.query_one("#ahead").size.width == 17, "App._load_screen_css no longer reads the CSS"


async def test_canary_footer_bindings_ready_turns_true_once_the_keys_are_known():
    assert isinstance(Footer.__dict__.get("_bindings_ready"), Reactive), "Footer._bindings_ready is gone"
    app = Bare()
    async with app.run_test(size=(80, 24)) as pilot:
        footer = app.screen.query_one(Footer)
        await pilot.pause()
        assert textual_compat.footer_has_drawn_keys(footer) is True, "Footer._bindings_ready never turns true"


async def test_canary_dom_node_bindings_take_a_key_added_at_run_time():
    app = Bare()
    assert isinstance(app._bindings, BindingsMap), "DOMNode._bindings is no longer a BindingsMap"
    assert callable(getattr(BindingsMap, "_add_binding", None)), "BindingsMap._add_binding is gone"
    textual_compat.add_binding(app, Binding("ctrl+l", "bell", "Ring", tooltip="rings", id="ring"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        active = app.screen.active_bindings
        assert "ctrl+l" in active and active["ctrl+l"].binding.id == "ring", (
            "a binding added through DOMNode._bindings is not active")
    assert "ctrl+l" not in dict(Bare()._bindings), "DOMNode._bindings is shared between instances"


async def test_canary_app_screen_stacks_hold_every_mode():
    app = Bare()
    app.add_mode("one", lambda: Unseen(id="one"))
    app.add_mode("two", lambda: Unseen(id="two"))
    async with app.run_test(size=(80, 24)) as pilot:
        await app.switch_mode("one")
        await app.switch_mode("two")
        await pilot.pause()
        ids = {screen.id for screen in textual_compat.screens_of_every_mode(app)}
        assert {"one", "two"} <= ids, "App._screen_stacks no longer holds the screens of every mode"


async def test_canary_css_update_counts_make_a_new_mode_screen_reparse_the_stylesheet(monkeypatch):
    parsed: list[int] = []
    real = App.refresh_css
    monkeypatch.setattr(App, "refresh_css", lambda self, *args, **kwargs: (parsed.append(1),
                                                                          real(self, *args, **kwargs)))

    def current(screen: Screen) -> Screen:
        textual_compat.styles_already_current(screen, app)
        return screen

    app = Bare()
    app.add_mode("plain", lambda: Unseen(id="plain"))
    app.add_mode("current", lambda: current(Unseen(id="current")))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        parsed.clear()
        await app.switch_mode("plain")
        await pilot.pause()
        assert parsed, "a new mode screen no longer re-parses the stylesheet: styles_already_current is not needed"
        parsed.clear()
        await app.switch_mode("current")
        await pilot.pause()
        assert not parsed, "Screen._css_update_count / App._css_update_count changed"
        assert app.screen.query_one("#ahead").size.width == 17, "the screen's own CSS is still applied"
        app.theme = "textual-light" if app.theme != "textual-light" else "textual-dark"
        await pilot.pause()
        assert parsed, "a theme change still re-parses"


async def test_canary_app_notifications_hold_what_notify_said():
    app = Bare()
    async with app.run_test(size=(80, 24)) as pilot:
        app.notify("said once")
        await pilot.pause()
        assert textual_compat.notification_messages(app) == ["said once"], "App._notifications changed"


async def test_canary_app_display_is_called_for_each_frame():
    assert list(inspect.signature(App._display).parameters) == ["self", "screen", "renderable"], (
        "App._display changed its signature")
    frames: list[int] = []
    app = Bare()
    async with app.run_test(size=(80, 24)) as pilot:
        textual_compat.on_every_frame(app, lambda: frames.append(1))
        app.screen.query_one(Footer).refresh()
        await pilot.pause(0.1)
    assert frames, "App._display is no longer called with each frame"
