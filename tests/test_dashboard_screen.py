"""The dashboard as the head of sales meets it: real keys at 80x24, the numbers it shows, and the clients list
that Enter opens on a number, counted against SQL written here."""

from __future__ import annotations

from datetime import date

import pytest
from textual.coordinate import Coordinate
from textual.widgets import Static

from db import demo, session
from db.analytics.refresh import refresh
from db.connection import Target
from db.i18n import t
from screens.clients.screen import ClientsScreen
from screens.dashboard.dialogs import DashboardHelp, RefreshDialog
from screens.dashboard.screen import DashboardScreen
from tests.pilot import row_with, screen_lines, screen_text, settle, wait_for
from tui.app import ClientbaseApp
from tui.widgets.charts import DrillTable

AS_OF = date(2026, 6, 15)
# Nothing listens on port 1: connecting is refused at once, as when the server is down.
GONE = Target(url="postgresql://t_admin@127.0.0.1:1/clientbase", login="t_admin")


@pytest.fixture(autouse=True)
def count_at_once(monkeypatch):
    import screens.clients.screen

    monkeypatch.setattr(screens.clients.screen, "COUNT_AFTER_SECONDS", 0.001)


@pytest.fixture
def analysed(make_db, template_of):
    """A small demo base with its analytics refreshed as of AS_OF (a clone of one made once per session)."""
    def fill(db):
        with db.connect(autocommit=True) as conn:
            demo.load(conn, 300, seed=11, as_of=AS_OF)
        with db.connect("admin", autocommit=True) as conn:
            refresh(conn, AS_OF, 365)

    db = make_db(template_of(("dashboard", AS_OF), fill))
    yield db
    from db.models import database

    database.close_all()


def make_app(db, role: str = "admin") -> ClientbaseApp:
    target = db.target(role)
    session.bind(target)
    return ClientbaseApp(target, session.identity(target), listen=False)


def current(db, sql: str, *params: object) -> list[tuple]:
    """Rows of the current analytics slot, as the test itself selects them."""
    with db.connect() as conn:
        slot = conn.execute("SELECT slot FROM analytics_run WHERE published ORDER BY id DESC LIMIT 1").fetchone()[0]
        return conn.execute(sql.replace("{slot}", str(slot)), params).fetchall()


async def open_dashboard(app: ClientbaseApp, pilot) -> DashboardScreen:
    await settle(pilot)
    await pilot.press("ctrl+y")
    await settle(pilot)
    assert isinstance(app.screen, DashboardScreen)
    return app.screen


async def drilled_count(app: ClientbaseApp, pilot) -> int:
    """Enter on the focused cell, then the count the clients list says."""
    await pilot.press("enter")
    await settle(pilot)
    assert app.current_mode == "clients" and isinstance(app.screen, ClientsScreen)
    await wait_for(pilot, lambda: app.screen.count is not None and app.screen.count.exact)
    return app.screen.count.value


async def test_opens_from_stored_results_with_the_classes_and_their_counts(analysed):
    abc = dict(current(analysed, "SELECT abc_class::text, count(*) FROM analytics_client"
                                 " WHERE slot = {slot} GROUP BY 1"))
    app = make_app(analysed)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_dashboard(app, pilot)
        text = screen_text(app)
        assert "2026-06-15" in text and t("ABC by revenue in the period") in text
        for name in ("A", "B", "C"):
            cells = row_with(app, f" {abc[name]:,} ").split()
            assert cells[0] == name, cells
        # The share of regular clients among the buyers, beside their share of everyone, on the last tab.
        await pilot.press("6")
        await settle(pilot)
        regular, buyers = current(analysed, "SELECT count(*) FILTER (WHERE f > 1), count(*) FILTER (WHERE f > 0)"
                                            " FROM analytics_client WHERE slot = {slot}")[0]
        buyers_table = app.screen.query_one("#buyers", DrillTable)
        assert str(buyers_table.get_cell_at(Coordinate(2, 3))) == t("{percent:.1f} %", percent=100 * regular / buyers)
        assert t("Dashboard") not in screen_lines(app)[-1], "the key of the mode on screen is hidden"
        assert t("Refresh") in screen_lines(app)[-1]


async def test_arrows_and_enter_drill_into_the_list_with_exactly_the_clients_of_the_cell(analysed):
    app = make_app(analysed)
    async with app.run_test(size=(80, 24)) as pilot:
        dashboard = await open_dashboard(app, pilot)
        abc = dashboard.query_one("#abc", DrillTable)
        abc.focus()
        await pilot.press("down", "right")  # class B, its client count
        await settle(pilot)
        assert abc.cursor_coordinate.row == 1 and abc.cursor_coordinate.column == 1
        expected = current(analysed, "SELECT count(*) FROM analytics_client WHERE slot = {slot} AND abc_class = 'B'")
        assert await drilled_count(app, pilot) == expected[0][0]
        assert f"{t('ABC class')}: B" in screen_text(app)

        # Back to the dashboard, the RFM tab, the R x F grid: R 5 (the first row), F 1 (the second column).
        await pilot.press("ctrl+y")
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        grid = dashboard.query_one("#rf", DrillTable)
        grid.focus()
        await pilot.press("right")
        await settle(pilot)
        expected = current(analysed, "SELECT count(*) FROM analytics_client WHERE slot = {slot}"
                                     " AND r_score = 5 AND f_score = 1")
        assert expected[0][0] > 0
        assert await drilled_count(app, pilot) == expected[0][0]
        assert "R 5 · F 1" in screen_text(app)


async def test_a_segment_row_drills_and_the_drill_down_saves_as_a_segment(analysed):
    app = make_app(analysed)
    async with app.run_test(size=(80, 24)) as pilot:
        dashboard = await open_dashboard(app, pilot)
        await pilot.press("2")
        await settle(pilot)
        segments = dashboard.query_one("#segments", DrillTable)
        segments.focus()
        await settle(pilot)
        name = str(segments.get_cell_at(segments.cursor_coordinate))
        expected = current(analysed, "SELECT count(*) FROM analytics_client WHERE slot = {slot} AND rfm_segment = %s",
                           name)
        assert await drilled_count(app, pilot) == expected[0][0]
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press(*"Drilled", "enter")
        await settle(pilot)
        # The saved segment, loaded from the list's picker after the filters are cleared, is the same clients.
        await pilot.press("x")
        await settle(pilot)
        await pilot.press("g")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await wait_for(pilot, lambda: app.screen.count is not None and app.screen.count.exact)
        assert app.screen.count.value == expected[0][0]
    with analysed.connect() as conn:
        saved = conn.execute("SELECT filter FROM segment WHERE name = 'Drilled'").fetchone()
    assert saved is not None and saved[0]["filters"] == {"rfm_segment": name}


async def test_a_movement_cell_drills_into_the_clients_who_moved_so(analysed):
    with analysed.connect("admin", autocommit=True) as conn:
        refresh(conn, date(2026, 9, 15), 365)
    moves = current(analysed, "SELECT prev_abc_class::text, abc_class::text, count(*) FROM analytics_client"
                              " WHERE slot = {slot} AND prev_abc_class = 'A' GROUP BY 1, 2 ORDER BY 2")
    app = make_app(analysed, "sales")
    async with app.run_test(size=(80, 24)) as pilot:
        dashboard = await open_dashboard(app, pilot)
        await pilot.press("5")
        await settle(pilot)
        matrix = dashboard.query_one("#move-abc", DrillTable)
        matrix.focus()
        await pilot.press("right")  # row A (before), column A (now)
        await settle(pilot)
        stayed = dict(((after, count) for _, after, count in moves)).get("A", 0)
        assert stayed > 0
        assert await drilled_count(app, pilot) == stayed
        assert "A → A" in screen_text(app)


async def test_an_empty_base_shows_a_sentence_not_an_error(fresh_db):
    with fresh_db.connect("admin", autocommit=True) as conn:
        refresh(conn, AS_OF, 365)
    app = make_app(fresh_db, "manager")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_dashboard(app, pilot)
        assert t("There are no purchases up to this date "
                 "yet, so every table is empty; they fill in once clients buy.")[:40] in " ".join(screen_lines(app))


async def test_never_refreshed_says_so(fresh_db):
    app = make_app(fresh_db, "sales")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_dashboard(app, pilot)
        assert t("The analytics have not been computed yet; an administrator refreshes them (key r here, or "
                 "`clientbase analytics refresh`).")[:40] in screen_text(app)


async def test_sales_reads_but_has_no_refresh_key(analysed):
    app = make_app(analysed, "sales")
    async with app.run_test(size=(80, 24)) as pilot:
        dashboard = await open_dashboard(app, pilot)
        assert t("Refresh") not in screen_lines(app)[-1]
        await pilot.press("r")
        await settle(pilot)
        assert not dashboard.refreshing and len(app.screen_stack) == 1
        abc = dashboard.query_one("#abc", DrillTable)
        assert abc.row_count == 3


async def test_the_refresh_runs_in_the_background_and_the_screen_answers_meanwhile(analysed, monkeypatch):
    import threading

    import db.analytics.reads as reads

    release = threading.Event()
    real = reads.refreshing.refresh

    def held(conn, as_of, period_days, progress):
        def step(name, done, total):
            progress(name, done, total)
            if name == "classes":
                release.wait(30)
        return real(conn, as_of, period_days, step)

    monkeypatch.setattr(reads.refreshing, "refresh", held)
    app = make_app(analysed)
    async with app.run_test(size=(80, 24)) as pilot:
        dashboard = await open_dashboard(app, pilot)
        await pilot.press("r")
        await settle(pilot)
        await pilot.press(*["backspace"] * 10, *"2026-06-20", "enter")
        await wait_for(pilot, lambda: t("Classes, scores and segments") in screen_text(app))
        assert dashboard.refreshing
        await pilot.press("3")  # the screen answers while the refresh waits
        await pilot.pause()
        assert dashboard.query_one("#dash-tabs").active == "revenue"
        release.set()
        await settle(pilot)
        assert not dashboard.refreshing
        assert "2026-06-20" in screen_text(app)
    with analysed.connect() as conn:
        runs = conn.execute("SELECT as_of FROM analytics_run WHERE published ORDER BY id").fetchall()
    assert runs[-1][0] == date(2026, 6, 20) and len(runs) == 2


def banner_says(app: ClientbaseApp) -> str:
    banners = app.screen.query("#connection-banner")
    return str(banners.first(Static).content) if banners else ""


async def test_a_lost_connection_while_the_dashboard_loads_shows_the_banner(analysed, monkeypatch):
    notified: list[str] = []
    app = make_app(analysed)
    real_notify = app.notify
    monkeypatch.setattr(app, "notify", lambda message, **kwargs: (notified.append(message),
                                                                    real_notify(message, **kwargs)))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        session.bind(GONE)
        await pilot.press("ctrl+y")
        # Not settle: the app's reconnecting worker keeps running while the server is away.
        await wait_for(pilot, lambda: banner_says(app) == t("The connection to the database was lost; reconnecting…"))
        dashboard = app.screen
        assert isinstance(dashboard, DashboardScreen)
        assert not app.connection_ok and dashboard.view is None
        assert t("Reading the stored analytics…") in screen_text(app)
        assert notified == [], "said once, by the banner"


async def test_a_refresh_that_loses_the_connection_ends_its_progress_and_shows_the_banner(analysed):
    app = make_app(analysed)
    async with app.run_test(size=(80, 24)) as pilot:
        dashboard = await open_dashboard(app, pilot)
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, RefreshDialog)
        session.bind(GONE)
        await pilot.press("enter")
        await wait_for(pilot, lambda: banner_says(app) == t("The connection to the database was lost; reconnecting…"))
        await wait_for(pilot, lambda: not dashboard.refreshing)
        assert not dashboard.query_one("#dash-progress-row").display
        assert t("Refresh") in screen_lines(app)[-1], "the refresh key is back for a second try"


async def test_a_month_its_cohort_returners_and_the_top_value_rows_drill_down(analysed):
    months = current(analysed, "SELECT to_char(month, 'YYYY-MM'), new_clients, returned_90d FROM analytics_month"
                               " WHERE slot = {slot} ORDER BY month DESC")
    with analysed.connect() as conn:
        tz = conn.execute("SELECT time_zone FROM analytics_run WHERE published ORDER BY id DESC LIMIT 1").fetchone()[0]
        buyers = conn.execute("SELECT count(DISTINCT client_id) FROM purchase WHERE to_char(purchased_at AT TIME ZONE"
                              " %s, 'YYYY-MM') = %s", (tz, months[1][0])).fetchone()[0]
    app = make_app(analysed)
    async with app.run_test(size=(80, 24)) as pilot:
        dashboard = await open_dashboard(app, pilot)
        await pilot.press("3")
        await settle(pilot)
        table = dashboard.query_one("#months", DrillTable)
        table.focus()
        await pilot.press("down", "right")  # the month before the last, its revenue
        await settle(pilot)
        assert buyers > 0
        assert await drilled_count(app, pilot) == buyers
        assert f"{t('Bought or refunded in')}: {months[1][0]}" in screen_text(app)

        await pilot.press("ctrl+y")
        await settle(pilot)
        row = next(number for number, month in enumerate(months) if 0 < month[2] < month[1])
        table.focus()
        await pilot.press("up", *["down"] * row, *["right"] * 3)  # that month's share who came back
        await settle(pilot)
        assert table.cursor_coordinate == (row, 4)
        assert await drilled_count(app, pilot) == months[row][2]
        await pilot.press("ctrl+y")
        await settle(pilot)
        table.focus()
        await pilot.press("right")  # and the ones who did not
        await settle(pilot)
        assert await drilled_count(app, pilot) == months[row][1] - months[row][2]


async def test_the_help_states_the_a_to_e_rule_the_tie_rule_and_the_map_as_the_administrator_edited_it(analysed):
    with analysed.connect("admin", autocommit=True) as conn:
        conn.execute("UPDATE analytics_segment_rule SET r_min = 3, fm_min = 3.5 WHERE segment = 'Champions'")
    app = make_app(analysed, "sales")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_dashboard(app, pilot)
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, DashboardHelp)
        said = str(app.screen.query_one("#dashboard-help-text Static", Static).content)
        assert "1. Champions: R 3–5, F+M 3.5–5" in said
        assert "11. Hibernating: R 1–2, F+M 1–2" in said
        assert "25th, 50th and 75th percentiles of that score over the clients who are not E" in said
        assert "Tie rule: equal values always get equal scores" in said
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)


async def test_the_totals_of_the_status_line_drill_by_keys_to_every_client_and_the_buyers(analysed):
    clients, buyers = current(analysed, "SELECT count(*), count(*) FILTER (WHERE f > 0) FROM analytics_client"
                                        " WHERE slot = {slot}")[0]
    with analysed.connect() as conn:
        # A client added after the refresh is in no total: the totals are the run's.
        conn.execute("INSERT INTO client (last_name) VALUES ('Newcomer')")
        conn.commit()
    app = make_app(analysed, "sales")
    async with app.run_test(size=(80, 24)) as pilot:
        dashboard = await open_dashboard(app, pilot)
        totals = dashboard.query_one("#dash-totals", DrillTable)
        assert row_with(app, t("Buyers")).split()[:4] == [t("Clients"), f"{clients:,}", t("Buyers"), f"{buyers:,}"]
        await pilot.press("shift+tab")  # from the tab names, up to the totals
        await settle(pilot)
        assert totals.has_focus
        assert clients > buyers > 0
        assert await drilled_count(app, pilot) == clients
        assert f"{t('Bought (analytics)')}: {t('Every client analysed')}" in screen_text(app)
        await pilot.press("ctrl+y")
        await settle(pilot)
        assert totals.has_focus
        await pilot.press("right", "right")
        await settle(pilot)
        assert await drilled_count(app, pilot) == buyers


async def test_a_month_of_the_bars_drills_into_the_clients_behind_its_revenue(analysed):
    months = current(analysed, "SELECT to_char(month, 'YYYY-MM') FROM analytics_month WHERE slot = {slot}"
                               " ORDER BY month")
    with analysed.connect() as conn:
        tz = conn.execute("SELECT time_zone FROM analytics_run WHERE published ORDER BY id DESC LIMIT 1").fetchone()[0]

        def behind(key: str) -> int:
            return conn.execute("SELECT count(DISTINCT client_id) FROM purchase WHERE amount <> 0 AND"
                                " to_char(purchased_at AT TIME ZONE %s, 'YYYY-MM') = %s", (tz, key)).fetchone()[0]
        expected = {key: behind(key) for (key,) in months[-3:]}
    app = make_app(analysed)
    async with app.run_test(size=(80, 24)) as pilot:
        dashboard = await open_dashboard(app, pilot)
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("tab", "tab")  # from the tab names past the tab's body to the bars, the newest month chosen
        await settle(pilot)
        bars = dashboard.query_one("#months-spark")
        assert bars.has_focus and bars.chosen_month.key == months[-1][0]
        await pilot.press("left", "left")
        await settle(pilot)
        key = months[-3][0]
        assert f"{key}: " in screen_text(app)
        assert expected[key] > 0
        assert await drilled_count(app, pilot) == expected[key]
        assert f"{t('Bought or refunded in')}: {key}" in screen_text(app)
        await pilot.press("ctrl+y")
        await settle(pilot)
        assert bars.has_focus
        await pilot.press("end")
        await settle(pilot)
        assert await drilled_count(app, pilot) == expected[months[-1][0]]
