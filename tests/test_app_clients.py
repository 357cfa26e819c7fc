"""The clients screen as a user meets it: real keys at 80×24, then what the screen shows."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest

from db import session
from db.clients import listing as clients
from db.i18n import t, tn
from tui import textual_compat
from tui.app import ClientbaseApp
from tui.widgets.phone import phone
from tui.widgets.virtual_list import VirtualList
from tests.pilot import screen_text, settle, wait_for

TODAY = date(2026, 6, 15)


@pytest.fixture(autouse=True)
def count_at_once(monkeypatch):
    """The screen waits for a pause in the typing before counting; a test types no faster than it reads."""
    import screens.clients.screen

    monkeypatch.setattr(screens.clients.screen, "COUNT_AFTER_SECONDS", 0.001)


def make_app(db, role: str = "admin", listen: bool = False) -> ClientbaseApp:
    target = db.target(role)
    session.bind(target)
    return ClientbaseApp(target, session.identity(target), listen=listen)


@pytest.fixture
def fresh_db(make_db, demo_template):
    """Every test here starts on the same small realistic base, a clone of one loaded once per session."""
    return make_db(demo_template(300, seed=7, as_of=TODAY))


@pytest.fixture
def people(fresh_db):
    """A small realistic base, and its clients as (id, last name, first name, city, main phone, e-mail)."""
    with fresh_db.connect(autocommit=True) as conn:
        rows = conn.execute(
            """SELECT c.id, c.last_name, c.first_name, c.city,
                      (SELECT normalized FROM contact_point p WHERE p.client_id = c.id AND p.kind = 'mobile'
                        ORDER BY is_primary DESC, id LIMIT 1),
                      (SELECT normalized FROM contact_point p WHERE p.client_id = c.id AND p.kind = 'email'
                        ORDER BY is_primary DESC, id LIMIT 1)
                 FROM client c ORDER BY c.id""").fetchall()
    yield rows
    from db.models import database

    database.close_all()


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def _cyrillic(people):
    return next(p for p in people if p[1][:1] in "АБВГДЕЖЗИКЛМНОПРСТУФХЦЧШЩЭЮЯ" and p[4] and len(p[1]) >= 7)


async def test_opens_on_the_clients_list_with_who_is_connected(fresh_db, people):
    app = make_app(fresh_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert "t_admin" in text and t("administrator") in text
        assert tn("{count:,} client", "{count:,} clients", 300) in text
        assert t("Name") in text and t("Phone") in text


async def test_search_by_part_of_a_cyrillic_name(fresh_db, people):
    someone = _cyrillic(people)
    fragment = someone[1][1:6].lower()
    expected = [p for p in people if fragment in p[1].lower() + " " + p[2].lower()]
    app = make_app(fresh_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press(*fragment)
        await settle(pilot)
        text = screen_text(app)
        assert phone(someone[4]) in text
        assert tn("{count:,} client", "{count:,} clients", len(expected)) in text or len(expected) < 5


async def test_search_by_the_last_four_digits_of_a_phone(fresh_db, people):
    someone = next(p for p in people if p[4])
    app = make_app(fresh_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press(*someone[4][-4:])
        await settle(pilot)
        text = screen_text(app)
        assert phone(someone[4]) in text
        shown = app.screen.list.cached_rows()
        assert shown and all(_digits(row.phone).endswith(someone[4][-4:]) or row.phone == "" for row in shown)


async def test_search_by_email(fresh_db, people):
    someone = next(p for p in people if p[5] and p[4])
    app = make_app(fresh_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press(*someone[5].split("@")[0])
        await pilot.press("@")
        await settle(pilot)
        assert phone(someone[4]) in screen_text(app)
        assert [row.id for row in app.screen.list.cached_rows()] == [someone[0]]


async def test_apply_and_clear_filters_from_the_keyboard(fresh_db, people):
    city = people[0][3]
    in_city = [p for p in people if p[3] == city]
    app = make_app(fresh_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("tab", "f")
        await pilot.pause()
        assert t("Filters") in screen_text(app)
        await pilot.press("tab", "tab", "tab", "tab", *city, "enter")
        await settle(pilot)
        text = screen_text(app)
        assert f"{t('City')}: {city}" in text
        assert tn("{count:,} client", "{count:,} clients", len(in_city)) in text
        assert {row.city for row in app.screen.list.cached_rows()} == {city}
        await pilot.press("x")
        await settle(pilot)
        text = screen_text(app)
        assert f"{t('City')}: {city}" not in text
        assert tn("{count:,} client", "{count:,} clients", 300) in text


async def test_a_wrong_number_in_the_filter_panel_is_said_and_nothing_changes(fresh_db, people):
    app = make_app(fresh_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("tab", "f")
        await pilot.pause()
        await pilot.press(*["tab"] * 8, "1", ".", ".", "enter")
        await pilot.pause()
        assert t("{field} must be a number.", field=t("Age from")) in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert tn("{count:,} client", "{count:,} clients", 300) in screen_text(app)


async def test_an_impossible_age_in_the_filter_panel_is_said_and_the_app_lives_on(fresh_db, people):
    app = make_app(fresh_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("tab", "f")
        await pilot.pause()
        await pilot.press(*["tab"] * 8, "2", "0", "0", "0", "enter")
        await pilot.pause()
        assert t("expected a number from {low} to {high:,}.", low=0, high="150") in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert tn("{count:,} client", "{count:,} clients", 300) in screen_text(app)


@pytest.mark.parametrize("typed", ["%", "_", "\\", "'; DROP TABLE client; --", "a\\%b"])
async def test_hostile_search_text_is_just_text(fresh_db, people, typed):
    app = make_app(fresh_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press(*typed)
        await settle(pilot)
        assert t("No client matches.") in screen_text(app)
        assert app.screen.query_one("#search").value == typed
    with fresh_db.connect(autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM client").fetchone()[0] == 300


async def test_ten_thousand_characters_and_emoji_in_the_search_box(fresh_db, people):
    app = make_app(fresh_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        # Pasted rather than typed: the Pilot has no key for an emoji, and 10,000 presses add nothing.
        app.screen.query_one("#search").value = "😀ж" * 5_000
        await pilot.press("ж")
        await settle(pilot)
        # Far beyond what anyone types: the limit is said, and the app lives on.
        assert t("A search may hold at most {words} words and "
                 "{chars} characters; shorten it.", words=10, chars=200) in textual_compat.notification_messages(app)
        app.screen.query_one("#search").value = "😀ж"
        await settle(pilot)
        assert t("No client matches.") in screen_text(app)


async def test_sort_by_last_purchase(fresh_db, people):
    with fresh_db.connect(autocommit=True) as conn:
        latest = conn.execute("SELECT id FROM client ORDER BY last_purchase_at DESC NULLS LAST, id LIMIT 1"
                              ).fetchone()[0]
    app = make_app(fresh_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("tab", "s")
        await settle(pilot)
        assert t("sorted by {sort}", sort=t("last purchase")) in screen_text(app)
        assert app.screen.list.current.id == latest


async def test_the_sales_login_sees_no_new_key(fresh_db, people):
    app = make_app(fresh_db, "sales")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("tab")
        await pilot.pause()
        text = screen_text(app)
        assert t("Filters") in text and t("New") not in text
        assert t("read-only") in text
        await pilot.press("n")
        await pilot.pause()
        assert type(app.screen).__name__ == "ClientsScreen"
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert t("Filters") in titles and t("New") not in titles


async def test_the_admin_sees_the_new_key_and_it_opens_an_empty_card(fresh_db, people):
    app = make_app(fresh_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("tab")
        await pilot.pause()
        assert t("New") in screen_text(app)
        await pilot.press("n")
        await settle(pilot)
        assert type(app.screen).__name__ == "CardScreen" and app.screen.client_id is None


async def test_enter_opens_the_card_and_the_selection_stays_on_return(fresh_db, people):
    app = make_app(fresh_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down", "down", "down", "pagedown")
        chosen = app.screen.list.current
        scrolled = app.screen.list.scroll_y
        await pilot.press("enter")
        await settle(pilot)
        assert type(app.screen).__name__ == "CardScreen" and app.screen.client_id == chosen.id
        await pilot.press("escape")
        await settle(pilot)
        assert type(app.screen).__name__ == "ClientsScreen"
        assert app.screen.list.current.id == chosen.id and app.screen.list.scroll_y == scrolled


async def test_a_row_refreshes_when_another_terminal_saves_it(fresh_db, people):
    app = make_app(fresh_db, listen=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        first = app.screen.list.current
        await asyncio.sleep(1.0)  # the listener's LISTEN is in place
        with fresh_db.connect("admin", autocommit=True) as conn:
            conn.execute("UPDATE client SET first_name = 'Renamed' WHERE id = %s", (first.id,))
        await wait_for(pilot, lambda: "Renamed" in screen_text(app), seconds=10)


async def test_the_banner_says_the_database_is_gone_and_back_and_the_search_survives(fresh_db, people):
    someone = _cyrillic(people)
    fragment = someone[1][:4].lower()
    app = make_app(fresh_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        fresh_db.server.stop()
        try:
            await pilot.press(*fragment)
            await wait_for(pilot, lambda: t("The "
                                            "connection to the database was lost; reconnecting…") in screen_text(app))
            assert app.screen.query_one("#search").value == fragment
        finally:
            fresh_db.server.start()
        await wait_for(pilot, lambda: t("Connected again.") in screen_text(app))
        await wait_for(pilot, lambda: phone(someone[4]) in screen_text(app))
        assert app.screen.query_one("#search").value == fragment
        assert {row.id for row in app.screen.list.cached_rows()} >= {someone[0]}


async def test_save_the_search_as_a_segment_and_load_it_back(fresh_db, people):
    app = make_app(fresh_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press(*"ова", "tab", "s", "ctrl+s")
        await settle(pilot)
        await pilot.press(*"Ova buyers", "enter")
        await settle(pilot)
        assert f"{t('Segment')}: Ova buyers" in screen_text(app)
        await pilot.press("slash", "ctrl+u", "tab", "x")
        await settle(pilot)
        assert app.screen.criteria.text == "" and "Ova buyers" not in screen_text(app)
        await pilot.press("g")
        await settle(pilot)
        assert "Ova buyers" in screen_text(app)
        await pilot.press("down", "enter")
        await settle(pilot)
        assert app.screen.query_one("#search").value == "ова"
        assert t("sorted by {sort}", sort=t("last purchase")) in screen_text(app)
        assert all("ова" in row.search for row in app.screen.list.cached_rows())


def _small_pages(monkeypatch) -> list[object]:
    """Pages of 10 rows, 3 kept, a margin of 5: a 300-row base behaves like a big one. Returns the starts
    of every page the list asks the database for."""
    import screens.clients.screen

    monkeypatch.setattr(screens.clients.screen, "PAGE_SIZE", 10)
    monkeypatch.setattr(VirtualList, "PAGE_CACHE", 3)
    monkeypatch.setattr(VirtualList, "MARGIN", 5)
    asked: list[object] = []
    find_page = clients.find_page

    def noted(criteria, after=None, *args, **kwargs):
        asked.append(after)
        return find_page(criteria, after, *args, **kwargs)

    monkeypatch.setattr(clients, "find_page", noted)
    return asked


async def _counted(app: ClientbaseApp, pilot) -> None:
    await settle(pilot)
    while app.screen.count is None:
        await pilot.pause(0.05)
    await settle(pilot)


def _names_in_order(fresh_db) -> list[int]:
    with fresh_db.connect(autocommit=True) as conn:
        return [row[0] for row in conn.execute("SELECT id FROM client ORDER BY search, id")]


async def test_only_what_is_visible_is_fetched_and_end_jumps_to_the_last_row(fresh_db, people, monkeypatch):
    asked = _small_pages(monkeypatch)
    by_name = _names_in_order(fresh_db)
    app = make_app(fresh_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await _counted(app, pilot)
        widget = app.screen.list
        assert len(widget.cached_rows()) < 60, "only the first screenful and a margin are fetched"
        # The scrollbar spans every match, not only the rows fetched so far.
        assert widget.row_count == 300 and widget.virtual_size.height == 301
        await pilot.press("tab")
        asked.clear()
        await pilot.press("end")
        await settle(pilot)
        assert widget.current.id == by_name[-1]
        assert [row.id for row in widget.cached_rows()][-3:] == by_name[-3:]
        assert len(asked) <= 4, "a jump, then the keyset pages around it; not a walk over 30 pages"
        assert any(isinstance(start, clients.RowNumber) for start in asked)
        assert len(widget.cached_rows()) <= 50, "pages scrolled past are dropped, those in view kept"
        await pilot.press("home")
        await settle(pilot)
        assert widget.current.id == by_name[0]
        assert [widget.row_at(index).id for index in range(15)] == by_name[:15]
        # The middle, as a drag of the scrollbar leaves it.
        widget.scroll_to(y=150, animate=False)
        await settle(pilot)
        assert [widget.row_at(index).id for index in range(150, 165)] == by_name[150:165]
        widget.scroll_to(y=140, animate=False)  # and up from there
        await settle(pilot)
        assert [widget.row_at(index).id for index in range(140, 150)] == by_name[140:150]


async def test_an_estimated_count_off_either_way_gives_way_to_the_rows_found(fresh_db, people, monkeypatch):
    _small_pages(monkeypatch)
    monkeypatch.setattr(clients, "EXACT_COUNT_UP_TO", 100)  # 300 rows are then estimated, as a million are
    by_name = _names_in_order(fresh_db)
    app = make_app(fresh_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await _counted(app, pilot)
        screen = app.screen
        widget = screen.list
        await pilot.press("tab")
        # Counted too many (the planner's estimate above 10,000): End counts exactly, then jumps.
        screen.count = clients.Count(500, exact=False)
        widget.set_total(500, exact=False)
        await pilot.press("end")
        await settle(pilot)
        assert widget.row_count == 300 and widget.current.id == by_name[-1]
        assert tn("{count:,} client", "{count:,} clients", 300) in screen_text(app)
        # Counted too few: the same, in one press.
        await pilot.press("home")
        screen._reload()
        await _counted(app, pilot)
        screen.count = clients.Count(120, exact=False)
        widget.set_total(120, exact=False)
        await pilot.press("end")
        await settle(pilot)
        assert widget.current.id == by_name[-1] and widget.row_count == 300
        # A jump past the end (a drag, on an estimate too high) finds where the rows end as well.
        await pilot.press("home")
        screen._reload()
        await _counted(app, pilot)
        widget.set_total(400, exact=False)
        assert widget.counted_end is None
        widget.scroll_to(y=380, animate=False)
        await settle(pilot)
        assert widget.row_count == 300 and widget.counted_end == 300
        assert [widget.row_at(index).id for index in range(285, 300)] == by_name[285:]


async def test_import_and_export_open_from_the_list_for_whom_they_apply(fresh_db, people):
    app = make_app(fresh_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("tab", "e")
        await settle(pilot)
        assert type(app.screen).__name__ == "ExportFileScreen"
        assert app.screen.criteria == app.screen_stack[-2].criteria
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("i")
        await settle(pilot)
        assert type(app.screen).__name__ == "ImportFileScreen"
    app = make_app(fresh_db, "sales")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("tab", "i")
        await pilot.pause()
        assert type(app.screen).__name__ == "ClientsScreen"
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert t("Export") not in titles and t("Import") not in titles
    with fresh_db.connect("admin", autocommit=True) as conn:
        conn.execute("INSERT INTO settings (key, value) VALUES ('sales_may_export', 'yes')")
    app = make_app(fresh_db, "sales")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert t("Export") in titles and t("Import") not in titles


async def test_the_filter_panel_completes_a_city_and_takes_the_base_spelling(fresh_db, people):
    city = people[0][3]
    in_city = [p for p in people if p[3] == city]
    app = make_app(fresh_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("tab", "f")
        await settle(pilot)
        await pilot.press("tab", "tab", "tab", "tab", *city[:3].lower())
        await pilot.pause(0.2)
        assert city[:3].lower() + city[3:] in screen_text(app), "the rest of the city is suggested as it is typed"
        await pilot.press("right")
        assert app.screen.query_one("#city").value.casefold() == city.casefold()
        await pilot.press("ctrl+u", *city.lower(), "enter")
        await settle(pilot)
        assert f"{t('City')}: {city}" in screen_text(app)
        assert {row.city for row in app.screen.list.cached_rows()} == {city}
        assert tn("{count:,} client", "{count:,} clients", len(in_city)) in screen_text(app)
