"""Nothing is said by colour alone: with NO_COLOR, and at 256 and 16 colours, the cursor row, a ticked checkbox
and the read-only state stay readable; and animations can be switched off."""

from __future__ import annotations

from datetime import date

import pytest
from rich.color import ColorSystem
from textual.app import App, ComposeResult
from textual.widgets import Checkbox

from db import session
from db.i18n import t
from tests.pilot import screen_text, settle
from tui.app import PLAIN_CSS, ClientbaseApp


@pytest.fixture
def base(make_db, demo_template):
    yield make_db(demo_template(30, seed=3, as_of=date(2026, 6, 15)))
    from db.models import database

    database.close_all()


def make_app(db, role: str) -> ClientbaseApp:
    target = db.target(role)
    session.bind(target)
    return ClientbaseApp(target, session.identity(target), listen=False)


class Boxes(App):
    CSS = PLAIN_CSS

    def compose(self) -> ComposeResult:
        yield Checkbox("SMS", True, id="on")
        yield Checkbox("E-mail", False, id="off")


def _row_lines(app: ClientbaseApp) -> tuple[list, list]:
    """The segments of the list's cursor row and of the row below it, as painted."""
    listing = app.screen.list
    cursor = listing.render_line(1)  # the first row, where the cursor starts
    other = listing.render_line(2)
    return list(cursor), list(other)


async def test_with_no_color_the_cursor_row_is_reversed_and_read_only_is_written(base, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(base, "sales")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.no_color
        cursor, other = _row_lines(app)
        assert all(s.style.reverse and s.style.bold for s in cursor if s.text.strip())
        assert not any(s.style.reverse for s in other if s.style)
        assert t("read-only") in app.sub_title


async def test_without_no_color_nothing_is_reversed(base):
    app = make_app(base, "admin")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert not app.no_color
        cursor, _ = _row_lines(app)
        assert not any(s.style.reverse for s in cursor if s.style)


@pytest.mark.parametrize("system", [ColorSystem.EIGHT_BIT, ColorSystem.STANDARD], ids=["256", "16"])
async def test_at_256_and_16_colours_the_cursor_row_keeps_its_own_colour(base, system):
    app = make_app(base, "admin")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        cursor, other = _row_lines(app)
        cursor_bg = {s.style.bgcolor.downgrade(system) for s in cursor if s.style and s.style.bgcolor}
        other_bg = {s.style.bgcolor.downgrade(system) for s in other if s.style and s.style.bgcolor}
        assert cursor_bg and other_bg and not cursor_bg & other_bg


async def test_with_no_color_an_unticked_box_shows_no_x_and_a_ticked_one_is_reversed(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = Boxes()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        ticked = app.query_one("#on", Checkbox).get_component_rich_style("toggle--button")
        unticked = app.query_one("#off", Checkbox).get_component_rich_style("toggle--button")
        assert ticked.reverse and ticked.bold
        # Whatever a filter makes of the colour, the unticked X is painted in its own background's.
        assert unticked.color == unticked.bgcolor and not unticked.reverse


@pytest.mark.parametrize("system", [ColorSystem.EIGHT_BIT, ColorSystem.STANDARD], ids=["256", "16"])
async def test_at_256_and_16_colours_ticked_and_unticked_differ(system):
    app = Boxes()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        ticked = app.query_one("#on", Checkbox).get_component_rich_style("toggle--button")
        unticked = app.query_one("#off", Checkbox).get_component_rich_style("toggle--button")
        assert ticked.color.downgrade(system) != unticked.color.downgrade(system)


@pytest.mark.parametrize("value, level", [("off", "none"), ("none", "none"), ("", None)])
async def test_clientbase_animations_off_switches_them_off(base, monkeypatch, value, level):
    monkeypatch.setenv("CLIENTBASE_ANIMATIONS", value)
    app = make_app(base, "admin")
    default = App().animation_level
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.animation_level == (level or default)
        assert t("Name") in screen_text(app)
