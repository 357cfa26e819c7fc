"""The forecast in the mailing screen, by real keys at 80x24: "Computing…" while the worker runs and the keys stay
live, then the days with their counts and the client who would get two messages on one day."""

from __future__ import annotations

import threading
from datetime import date, datetime, timezone

import pytest

from db.i18n import t, tn
from db.mailing import campaigns
from db.mailing import forecast as forecast_db
from screens.help import HelpScreen
from screens.mailing import forecast as forecast_screen
from screens.mailing.forecast import ForecastScreen
from screens.mailing.screen import MailingScreen
from tests.pilot import screen_lines, screen_text, settle, wait_for
from tests.test_mailing_fixtures import email_campaign
from tests.test_mailing_screen import make_app, open_mailing
from tests.test_triggers import only, person

# Saturday 7 March 2026, noon in Moscow (the shop's default time zone).
NOW = datetime(2026, 3, 7, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def shop(fresh_db):
    """A campaign started on Saturday 7 March waits for Monday 9 March, the first send day, which is Anna's
    birthday: on Monday she gets two messages, Boris one. On Sunday 8 March she alone is greeted for the
    holiday."""
    only(fresh_db, "birthday", "holiday")
    with fresh_db.connect() as setup:
        anna = person(setup, "Анна", born=date(1990, 3, 9), gender="f")
        boris = person(setup, "Борис", gender="m")
        setup.commit()
    with fresh_db.connect("admin", autocommit=True) as conn:
        campaigns.start(conn, email_campaign(conn, "Весна"), now=NOW)
    yield fresh_db, anna, boris
    from db.models import database

    database.close_all()


def row_of(app, text: str) -> str:
    return next(line for line in screen_lines(app) if text in line)


async def test_f_shows_the_forecast_computed_in_a_worker_with_the_overlap(shop, monkeypatch):
    db, anna, boris = shop
    monkeypatch.setattr(forecast_screen, "clock", lambda: NOW)
    # The forecast waits for the test, as a slow one on a large base would: the screen must stay usable.
    release = threading.Event()
    computed = forecast_db.forecast

    def slow(conn, now, days, overlaps):
        assert release.wait(30)
        return computed(conn, now, days, overlaps)

    monkeypatch.setattr(forecast_db, "forecast", slow)
    app = make_app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_mailing(app, pilot)
        assert t("Forecast") in screen_lines(app)[-1]
        await pilot.press("f")
        await wait_for(pilot, lambda: t("Computing the next {days} days…", days=14) in screen_text(app))
        assert isinstance(app.screen, ForecastScreen)
        # F1 answers while the worker runs, and names the screen's purpose.
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert t("Help: {screen}", screen=t("Mailing forecast")) in screen_text(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ForecastScreen))
        release.set()
        await settle(pilot)
        text = screen_text(app)
        assert tn("Next {days} days: {messages} messages; {count} time a client gets more than one on a day.",
                  "Next {days} days: {messages} messages; {count} times a client gets more than one on a day.", 1,
                  days=14, messages="4") in " ".join(text.split())
        # Sunday 8 March: the holiday greeting, to Anna only; the campaign waits for Monday, a send day.
        sunday = row_of(app, "08.03")
        assert t("holiday") + " 1" in sunday and "Весна" not in sunday
        monday = row_of(app, "09.03 ")
        assert t("birthdays") + " 1" in monday and "Весна 2" in monday
        # The overlap: Anna on Monday, her birthday and the campaign; Boris gets one message and is not listed.
        overlap = next(line for line in screen_lines(app) if str(anna) in line.split() and "Анна" in line)
        assert "09.03" in overlap and t("birthdays") in overlap and "Весна" in overlap
        assert not any("Борис" in line for line in screen_lines(app))
        # Nothing was enqueued by looking ahead: only the campaign's two messages.
        with db.connect() as conn:
            assert conn.execute("SELECT count(*) FROM message").fetchone() == (2,)

        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, MailingScreen)


async def test_d_looks_further_ahead(shop, monkeypatch):
    db, anna, boris = shop
    monkeypatch.setattr(forecast_screen, "clock", lambda: NOW)
    app = make_app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_mailing(app, pilot)
        await pilot.press("f")
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        assert tn("Next {days} days: {messages} messages; {count} time a client gets more than one on a day.",
                  "Next {days} days: {messages} messages; {count} times a client gets more than one on a day.", 1,
                  days=30, messages="4") in " ".join(screen_text(app).split())
