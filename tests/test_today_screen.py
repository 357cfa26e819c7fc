"""Today as its users meet it, at 80x24 pressing real keys: the lists and their counts, Enter opening the card,
the administrator's reminder keys, a salesperson who has none of them; and the same with NO_COLOR set."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from db import session
from screens.card.screen import CardScreen
from screens.today.dialogs import ReminderDialog
from screens.today.screen import TodayScreen, TodayTable
from tests.pilot import screen_text, settle, wait_for
from tui.app import ClientbaseApp


@pytest.fixture
def shop(fresh_db):
    """A client whose birthday is tomorrow with a child's today, an overdue reminder for the administrator and one
    due today for the salesperson."""
    with fresh_db.connect(autocommit=True) as conn:
        today = conn.execute("SELECT (now() AT TIME ZONE 'Europe/Moscow')::date").fetchone()[0]
        tomorrow = today + timedelta(days=1)
        parent = conn.execute(
            "INSERT INTO client (last_name, first_name, birth_date) VALUES ('Smirnova', 'Olga', %s) RETURNING id",
            (_years_before(tomorrow, 40),)).fetchone()[0]
        conn.execute("INSERT INTO relative (client_id, relation, name, birth_date) VALUES (%s, 'child', 'Vanya', %s)",
                     (parent, _years_before(today, 6)))
        conn.execute("INSERT INTO reminder (client_id, due_on, text, assignee) VALUES (%s, %s, 'Call Olga', 't_admin')",
                     (parent, today - timedelta(days=2)))
        conn.execute("INSERT INTO reminder (client_id, due_on, text, assignee) VALUES (%s, %s, 'Offer', 't_sales')",
                     (parent, today))
    yield fresh_db, parent, today
    from db.models import database

    database.close_all()


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def make_app(db, role: str = "admin") -> ClientbaseApp:
    target = db.target(role)
    session.bind(target)
    return ClientbaseApp(target, session.identity(target), listen=False)


async def open_today(app: ClientbaseApp, pilot) -> TodayScreen:
    await settle(pilot)
    await pilot.press("ctrl+t")
    await settle(pilot)
    assert isinstance(app.screen, TodayScreen)
    await wait_for(pilot, lambda: app.screen.view is not None)
    return app.screen


def _open_reminders(db) -> list[tuple]:
    with db.connect() as conn:
        return conn.execute("SELECT text, due_on, done FROM reminder ORDER BY text").fetchall()


async def test_birthdays_with_the_child_beside_the_parent_and_enter_opens_the_card(shop):
    db, parent, today = shop
    app = make_app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_today(app, pilot)
        text = screen_text(app)
        assert "Birthdays 2" in text and "Reminders 2" in text
        assert "Vanya (child)" in text and "Smirnova Olga" in text
        assert "today" in text and "tomorrow" in text
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CardScreen)
        await wait_for(pilot, lambda: app.screen.client_id == parent)


async def test_the_administrator_ticks_postpones_and_adds_reminders_by_keys(shop):
    db, parent, today = shop
    app = make_app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_today(app, pilot)
        await pilot.press("3")
        await settle(pilot)
        text = screen_text(app)
        assert "Call Olga" in text and "x Done" in text.replace("  ", " ")
        # The administrator's own overdue reminder is first: a day later it is due tomorrow.
        await pilot.press("d")
        await settle(pilot)
        assert ("Call Olga", today + timedelta(days=1), False) in _open_reminders(db)
        await pilot.press("w")
        await settle(pilot)
        assert ("Offer", today + timedelta(days=7), False) in _open_reminders(db)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, ReminderDialog)
        await pilot.press(*"Bring the catalogue", "enter")
        await settle(pilot)
        assert ("Bring the catalogue", today, False) in _open_reminders(db)
        assert "Bring the catalogue" in screen_text(app)
        await pilot.press("x")
        await settle(pilot)
        assert ("Bring the catalogue", today, True) in _open_reminders(db)
        assert "Nothing here today." in screen_text(app)


async def test_the_assignee_key_shows_one_logins_reminders(shop):
    db, _, _ = shop
    app = make_app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_today(app, pilot)
        await pilot.press("3", "a")
        await settle(pilot)
        assert screen.assignee == "t_admin"
        assert [m.text for m in screen.view.reminders.shown] == ["Call Olga"]
        await pilot.press("a")
        await settle(pilot)
        assert [m.text for m in screen.view.reminders.shown] == ["Offer"]
        await pilot.press("a")
        await settle(pilot)
        assert screen.assignee is None and screen.view.reminders.total == 2


async def test_a_salesperson_reads_own_reminders_first_and_has_no_write_key(shop, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    db, _, _ = shop
    app = make_app(db, "sales")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_today(app, pilot)
        await pilot.press("3")
        await settle(pilot)
        assert [m.text for m in screen.view.reminders.shown] == ["Offer", "Call Olga"]
        text = screen_text(app)
        assert "Offer" in text and "Done" not in text and "+1 day" not in text
        before = _open_reminders(db)
        await pilot.press("x", "d", "n")
        await settle(pilot)
        assert _open_reminders(db) == before
        assert isinstance(app.screen, TodayScreen)
        assert "^o" not in text.lower()  # no audit key for a salesperson


async def test_no_color_keeps_the_cursor_row_readable(shop, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    db, _, _ = shop
    app = make_app(db, "manager")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_today(app, pilot)
        assert app.no_color
        text = screen_text(app)
        assert "Birthdays 2" in text and "Vanya (child)" in text
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CardScreen)


async def test_a_hidden_tab_is_built_when_first_shown_with_its_rows(shop):
    """Opening builds the shown list alone; the reminders' list is made, already filled, when its tab is shown."""
    db, parent, today = shop
    app = make_app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_today(app, pilot)
        await settle(pilot)
        assert screen.built_tabs == {"birthdays"}
        assert not screen.query("#reminders-table")
        await pilot.press("3")
        await settle(pilot)
        table = screen.query_one("#reminders-table", TodayTable)
        assert table.has_focus
        assert table.client_ids == [parent, parent]
        assert [table.get_row_at(row)[1] for row in range(table.row_count)] == ["Call Olga", "Offer"]
        assert "Call Olga" in screen_text(app)
        # A reload fills the tables already made, the built one and the shown one alike.
        with db.connect(autocommit=True) as conn:
            conn.execute("INSERT INTO reminder (client_id, due_on, text, assignee) VALUES (%s, %s, 'Late', 't_admin')",
                         (parent, today - timedelta(days=9)))
        await pilot.press("l")
        await wait_for(pilot, lambda: table.row_count == 3)
        assert screen.built_tabs == {"birthdays", "reminders"}
        await pilot.press("4")
        await settle(pilot)
        assert screen.query_one("#quiet-table", TodayTable).row_count == len(screen.view.quiet.shown)
