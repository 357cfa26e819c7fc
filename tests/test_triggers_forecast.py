"""The mailing forecast: scheduled campaigns and triggers over the next days, after send days and the cap, with
the clients who would get two messages on one day."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from db.mailing import campaigns, forecast
from tests.test_mailing_fixtures import email_campaign, set_setting
from tests.test_triggers import only, person

# Saturday 7 March 2026, noon in Moscow.
NOW = datetime(2026, 3, 7, 9, 0, tzinfo=timezone.utc)


def test_the_forecast_lists_triggers_and_campaigns_by_day_with_overlaps_and_the_cap(fresh_db):
    only(fresh_db, "birthday", "holiday")
    with fresh_db.connect() as setup:
        anna = person(setup, "Анна", born=date(1990, 3, 9), gender="f")
        boris = person(setup, "Борис", gender="m")
        set_setting(setup, "frequency_cap_messages", "1")
        setup.commit()
    with fresh_db.connect("admin", autocommit=True) as conn:
        for name in ("Весна", "Скидки"):
            campaigns.start(conn, email_campaign(conn, name), now=NOW)
        found = forecast.forecast(conn, NOW, days=5)
    by_day = {day.day: day for day in found.days}
    # 8 March, a Sunday: the holiday greeting goes to Anna only; marketing waits for Monday.
    assert by_day[date(2026, 3, 8)].by_source == {"holiday": 1}
    monday = by_day[date(2026, 3, 9)]
    # Monday: her birthday and the first campaign; the second campaign is held by the cap of one, for both.
    assert monday.by_source == {"birthday": 1, "Весна": 2} and monday.capped == 2
    assert monday.overlapping_clients == 2
    assert {(o.client_id, tuple(o.sources)) for o in found.overlaps if o.day == date(2026, 3, 9)} == {
        (anna, ("birthday", "Весна", "Скидки")), (boris, ("Весна", "Скидки"))}
    # Nothing was enqueued by looking ahead.
    with fresh_db.connect() as conn:
        assert conn.execute("SELECT count(*) FROM message").fetchone() == (4,)


def test_the_forecast_command_prints_each_day(fresh_db):
    only(fresh_db, "birthday")
    with fresh_db.connect() as setup:
        # Today on the shop's calendar (Moscow, the default time zone), whatever the machine's clock says.
        today = datetime.now(ZoneInfo("Europe/Moscow")).date()
        person(setup, "Анна", born=today.replace(year=1992))
        setup.commit()
    result = subprocess.run([sys.executable, "-m", "tui.cli", "--lang", "en", "mailing", "forecast", "--days", "3"],
                            env=fresh_db.env("admin"), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "birthdays 1" in result.stdout


def test_reactivation_is_forecast_once_on_the_day_a_client_goes_quiet(fresh_db):
    only(fresh_db, "reactivation")
    with fresh_db.connect() as setup:
        quiet_on_thursday = person(setup, "Анна")
        quiet_on_tuesday = person(setup, "Борис")
        quiet_for_a_year = person(setup, "Вера")
        for client, when in ((quiet_on_thursday, datetime(2025, 9, 6, 12, tzinfo=timezone.utc)),
                             (quiet_on_tuesday, datetime(2025, 9, 11, 12, tzinfo=timezone.utc)),
                             (quiet_for_a_year, datetime(2025, 3, 1, 12, tzinfo=timezone.utc))):
            setup.execute("INSERT INTO purchase (client_id, purchased_at, amount) VALUES (%s, %s, 100)", (client, when))
        setup.commit()
    with fresh_db.connect("admin", autocommit=True) as conn:
        found = forecast.forecast(conn, NOW, days=7)
    reactivation = {day.day: day.by_source.get("reactivation", 0) for day in found.days}
    # Anna went quiet on Thursday 5 March, within the catch-up week a first run looks back: counted today,
    # Saturday, and as marketing it waits for Monday. Boris goes quiet on Tuesday 10 March (180 days). Vera,
    # quiet for a year, is not asked back by the trigger.
    assert {day: count for day, count in reactivation.items() if count} == {date(2026, 3, 9): 1,
                                                                            date(2026, 3, 10): 1}
