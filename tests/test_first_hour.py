"""A new user's first hour at 80×24 (issue 10): real keys, pressed as fast as a person types, and what the
screen then shows. No keystroke and no row may be lost."""

from __future__ import annotations

import re
import threading
from datetime import datetime
from decimal import Decimal

import pytest

from textual.widgets import Input

from db import settings
from db.card import activity as card_activity

from db.card import cards
from db.card.draft import ContactDraft
from db.i18n import t
from screens.card.screen import REUSED
from screens.card.tabs.people import ContactRow
from tests.card_helpers import identity, make_client
from tests.pilot import row_with, screen_lines, settle
from tui.app import ClientbaseApp


async def _wait_for(pilot, condition, seconds: float = 5.0) -> bool:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return True
        await pilot.pause(0.05)
    return condition()


def _app(db) -> ClientbaseApp:
    return ClientbaseApp(db.target("admin"), identity("admin"), listen=False)


async def _editor_ready(app, pilot) -> None:
    await settle(pilot)
    assert await _wait_for(pilot, lambda: app.is_screen_installed(REUSED) and app.get_screen(REUSED).is_mounted)
    await settle(pilot)


async def test_n_then_a_name_typed_at_once_lands_in_last_name(admin_session):
    make_client()
    app = _app(admin_session)
    async with app.run_test(size=(80, 24)) as pilot:
        await _editor_ready(app, pilot)
        await pilot.press("tab", "n", *"Иванов")
        await settle(pilot)
        assert app.screen.query_one("#f-last_name", Input).value == "Иванов"
        assert app.screen.focused is app.screen.query_one("#f-last_name", Input)


async def test_a_name_typed_while_the_new_card_is_still_loading_is_kept(admin_session, monkeypatch):
    make_client()
    app = _app(admin_session)
    async with app.run_test(size=(80, 24)) as pilot:
        await _editor_ready(app, pilot)
        real_load = cards.load_card
        arrived = threading.Event()

        def slow_load(client_id):
            arrived.wait(10)
            return real_load(client_id)

        monkeypatch.setattr(cards, "load_card", slow_load)
        await pilot.press("tab", "n", *"Иванов")
        arrived.set()
        await settle(pilot)
        assert app.screen.query_one("#f-last_name", Input).value == "Иванов"


async def test_n_before_the_editor_is_built_loses_no_letter(admin_session):
    app = _app(admin_session)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("tab", "n", *"Petrov")
        await settle(pilot)
        assert type(app.screen).__name__ == "CardScreen"
        assert app.screen.query_one("#f-last_name", Input).value == "Petrov"


async def test_each_card_opens_in_its_first_field_not_the_last_one_used(admin_session):
    make_client()
    app = _app(admin_session)
    async with app.run_test(size=(80, 24)) as pilot:
        await _editor_ready(app, pilot)
        await pilot.press("tab", "n")
        await settle(pilot)
        editor = app.screen
        # Last, first and middle name, gender, birth date, company: the sixth Tab is in Position.
        await pilot.press(*["tab"] * 6, *"Director")
        assert editor.query_one("#f-position", Input).value == "Director"
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("tab", "tab", "enter")  # the third answer: discard
        await settle(pilot)
        assert type(app.screen).__name__ == "ClientsScreen"
        await pilot.press("n", *"Сидоров")
        await settle(pilot)
        assert app.screen is editor
        assert editor.query_one("#f-last_name", Input).value == "Сидоров"
        assert editor.query_one("#f-position", Input).value == ""
        # A tab key: the first field of the tab, not where the focus was before in it.
        await pilot.press("tab", "tab", "f3", "f2")
        await settle(pilot)
        assert editor.focused is editor.query_one("#f-last_name", Input)


async def test_an_unticked_box_shows_no_x_and_a_ticked_one_does(admin_session):
    app = _app(admin_session)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("tab", "i")
        await settle(pilot)
        boxes = [app.screen.query_one(f"#import-{name}") for name in ("purchases", "overwrite", "create-missing")]
        assert all(not box.value and "X" not in box.render().plain for box in boxes)
        assert "X" not in row_with(app, t("Overwrite"))
        await pilot.press("tab", "tab", "space")  # from the path: purchases, overwrite
        await pilot.pause()
        assert [box.value for box in boxes] == [False, True, False]
        assert [("X" in box.render().plain) for box in boxes] == [False, True, False]
        assert row_with(app, t("Overwrite")).count("X") == 1


async def test_the_import_check_at_80x24_shows_what_matters_first_and_scrolls_to_every_line(admin_session, tmp_path):
    from tests.test_import import RU_HEADERS, write_csv

    good = [[str(2000 + n), f"Клиентов{n} Иван", f"8 912 000-{n:02d}-00", f"c{n}@mail.ru", "", "Тверь", ""]
            for n in range(12)]
    bad = [[str(3000 + n), f"Ошибкин{n} Пётр", "", f"not-an-email-{n}", "", "", ""] for n in range(9)]
    path = write_csv(tmp_path / "clients.csv", RU_HEADERS, good + bad)
    app = _app(admin_session)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("tab", "i")
        await settle(pilot)
        dialog = app.screen
        await pilot.press(*str(path), "enter")
        await settle(pilot)
        shown = "\n".join(screen_lines(app))
        assert t("Dry run: nothing was written.") in shown
        assert "invalid rows:                9" in shown
        # While checking, the dialog never said it was writing.
        assert str(dialog.query_one("#transfer-stage").render()) == t("Checking")
        # The whole report is reachable from the keyboard: the result has the focus and scrolls to its end.
        report = str(dialog.query_one("#transfer-summary").content).splitlines()
        assert len(report) > 13, "longer than the dialog, or this test proves nothing"
        last = report[-1].strip()[:24]  # "row 22: E-mail: This is"; the line itself wraps
        assert last not in shown
        assert dialog.focused is dialog.query_one("#transfer-result")
        await pilot.press("pagedown", "pagedown", "pagedown")
        await pilot.pause()
        assert last in "\n".join(screen_lines(app))
        # The import itself: where the refused rows went is said before the counts. Read from the result
        # itself: the import's worker may start after the key's own refresh, and in a long session the
        # screen's first composed frame after it was seen to hold the dialog's title alone.
        await pilot.press("ctrl+s")
        for _ in range(100):
            await settle(pilot)
            shown = str(dialog.query_one("#transfer-summary").content)
            if "clients.rejected.csv" in shown:
                break
            await pilot.pause(0.1)
        assert "clients.rejected.csv" in shown and "invalid rows:                9" in shown
        assert "clients.rejected.csv" in "\n".join(shown.splitlines()[:3])
        assert t("Dry run: nothing was written.") not in shown


async def test_new_rows_and_a_new_card_are_not_told_they_are_empty_until_left_or_saved(admin_session):
    card = make_client()
    app = _app(admin_session)
    required = t("This field is required.")
    async with app.run_test(size=(80, 24)) as pilot:
        await _editor_ready(app, pilot)
        await pilot.press("tab", "n")
        await settle(pilot)
        assert t("A last or first name is required.") not in "\n".join(screen_lines(app))
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("home", "enter")
        await settle(pilot)
        editor = app.screen
        assert editor.card.id == card.id
        await pilot.press("f4", "ctrl+n")
        await settle(pilot)
        assert required not in "\n".join(screen_lines(app))
        await pilot.press("f3", "ctrl+n")
        await settle(pilot)
        assert required not in "\n".join(screen_lines(app))
        # Typed and left, a value's reason is said at once, before saving.
        await pilot.press(*"12", "tab")
        await settle(pilot)
        new_row = editor.query(ContactRow).last()
        reason = str(new_row.query_one(".row-error").content)
        assert reason and reason[:30] in "\n".join(screen_lines(app))
        # Saving says what is still missing, the empty relative too.
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)
        assert required in "\n".join(screen_lines(app))
        assert cards.load_card(card.id).version == card.version


@pytest.mark.parametrize(("day_first", "hint"), [("yes", "dd.mm.yyyy"), ("no", "yyyy-mm-dd")])
async def test_an_empty_birth_date_shows_the_format_to_type_not_a_date(admin_session, day_first, hint):
    settings.set_value("date_day_first", day_first)
    make_client(birth_date="", relatives=())
    app = _app(admin_session)
    async with app.run_test(size=(80, 24)) as pilot:
        await _editor_ready(app, pilot)
        await pilot.press("enter")
        await settle(pilot)
        birth_row = row_with(app, t("Birth date"))
        assert hint in birth_row and not re.search(r"\d", birth_row)
        await pilot.press("f4", "ctrl+n")
        await settle(pilot)
        relative_row = row_with(app, hint)
        assert not re.search(r"\d", relative_row)


@pytest.mark.parametrize(("day_first", "written", "currency"), [("yes", "15.03.2026", "RUB"),
                                                                ("no", "2026-03-15", "MDL")])
async def test_the_list_and_the_card_write_dates_phones_and_money_alike(admin_session, day_first, written,
                                                                          currency):
    settings.set_value("date_day_first", day_first)
    settings.set_value("currency", currency)
    card = make_client(contacts=(ContactDraft(None, "mobile", "+7 912 345-67-89", True),), relatives=())
    card_activity.add_purchase(card.id, datetime(2026, 3, 15, 12, 0).astimezone(), "shop",
                               [(None, "Крем", Decimal(1), Decimal("12345.5"))])
    app = _app(admin_session)
    async with app.run_test(size=(80, 24)) as pilot:
        await _editor_ready(app, pilot)
        row = row_with(app, "Петрова")
        assert written in row and "+7 912 345-67-89" in row and "12 346" in row
        assert f"Spent, {currency}" in row_with(app, "Name")
        await pilot.press("home", "enter")
        await settle(pilot)
        await pilot.press("f5")
        await settle(pilot)
        summary = row_with(app, "purchases")
        assert f"12 345.50 {currency}" in summary
        assert f"12 345.50 {currency}" in row_with(app, written)  # the purchase's row in the table
        await pilot.press("f3")
        await settle(pilot)
        assert "+7 912 345-67-89" in row_with(app, "primary")
