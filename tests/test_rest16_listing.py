"""The clients list's next-birthday sort and reverse sort, against an independent ORDER BY over a hand-made base
whose birthdays sit on the edges: the ends of the month and the year, 28 and 29 February, 1 March."""

from __future__ import annotations

from datetime import date

import pytest

from db.clients import listing as clients
from db.clients.listing import Criteria

BIRTH_DATES = [date(1990, 2, 28), date(1988, 2, 29), date(1992, 2, 29), date(1985, 3, 1), date(1970, 12, 31),
               date(1999, 1, 1), date(1980, 12, 30), date(2001, 6, 15), date(1975, 6, 14), date(1995, 6, 16),
               None, None, date(1991, 7, 31), date(1993, 8, 1), date(1960, 12, 31), date(1987, 1, 1)]

# Independent of db/clients/listing.py: the next birthday as a date (29 February on 1 March of a year
# without one), sorted by plain SQL over the whole table.
EXPECTED_SQL = """
WITH next AS (
  SELECT c.id, c.birth_date,
         (SELECT min(d) FROM (
            SELECT CASE WHEN extract(month FROM c.birth_date) = 2 AND extract(day FROM c.birth_date) = 29
                         AND NOT (y %% 4 = 0 AND (y %% 100 <> 0 OR y %% 400 = 0)) THEN make_date(y, 3, 1)
                        ELSE make_date(y, extract(month FROM c.birth_date)::int, extract(day FROM c.birth_date)::int)
                   END AS d
              FROM generate_series(extract(year FROM %(today)s::date)::int,
                                   extract(year FROM %(today)s::date)::int + 1) y) s
           WHERE d >= %(today)s::date) AS next_day
    FROM client c WHERE c.archived_at IS NULL)
SELECT id FROM next
 ORDER BY next_day {direction} NULLS {nulls}, to_char(birth_date, 'MMDD') {direction}, id {direction}
"""


@pytest.fixture
def birthdays(admin_session):
    with admin_session.connect(autocommit=True) as conn:
        for number, born in enumerate(BIRTH_DATES):
            conn.execute("INSERT INTO client (last_name, first_name, birth_date) VALUES (%s, 'Test', %s)",
                         (f"Client{number:02}", born))
    return admin_session


def every_id(criteria: Criteria, today: date, limit: int) -> list[int]:
    page = clients.find_page(criteria, limit=limit, today=today)
    found = [row.id for row in page.rows]
    while page.next is not None:
        page = clients.find_page(criteria, after=page.next, limit=limit, today=today)
        found += [row.id for row in page.rows]
    return found


@pytest.mark.parametrize("today", [date(2026, 6, 15), date(2026, 12, 31), date(2027, 1, 1), date(2027, 3, 1),
                                   date(2028, 2, 29), date(2028, 3, 1), date(2026, 2, 28)], ids=str)
@pytest.mark.parametrize("reverse", [False, True], ids=["natural", "reversed"])
def test_the_next_birthday_order_matches_plain_sql(birthdays, today, reverse):
    direction, nulls = ("DESC", "FIRST") if reverse else ("ASC", "LAST")
    with birthdays.connect(autocommit=True) as conn:
        expected = [row[0] for row in conn.execute(EXPECTED_SQL.format(direction=direction, nulls=nulls),
                                                   {"today": today})]
    assert len(expected) == len(BIRTH_DATES)
    for limit in (1, 3, 7):
        assert every_id(Criteria(sort="birthday", reverse=reverse), today, limit) == expected, limit


def test_a_29_february_birthday_is_today_on_1_march_of_a_year_without_one(birthdays):
    first = clients.find_page(Criteria(sort="birthday"), limit=3, today=date(2027, 3, 1)).rows
    assert [(row.birth_date.month, row.birth_date.day) for row in first] == [(2, 29), (2, 29), (3, 1)]
    leap = clients.find_page(Criteria(sort="birthday"), limit=2, today=date(2028, 3, 1)).rows
    assert [(row.birth_date.month, row.birth_date.day) for row in leap] == [(3, 1), (6, 14)]


@pytest.mark.parametrize("sort", ["name", "last_purchase", "total_spent", "created"])
def test_reverse_is_the_natural_order_read_backward(birthdays, sort):
    natural = every_id(Criteria(sort=sort), date(2026, 6, 15), 4)
    assert every_id(Criteria(sort=sort, reverse=True), date(2026, 6, 15), 4) == natural[::-1]


def test_a_saved_criteria_keeps_its_direction():
    criteria = Criteria(sort="birthday", reverse=True)
    assert Criteria.from_json(criteria.to_json()) == criteria
    assert Criteria.from_json(Criteria(sort="birthday").to_json()).reverse is False
    assert clients.with_sort(criteria, "name").reverse is False
    assert clients.reversed_sort(criteria).reverse is False


def test_without_a_date_the_birthday_sort_starts_at_the_shops_today(birthdays):
    with birthdays.connect(autocommit=True) as conn:
        conn.execute("INSERT INTO settings (key, value) VALUES ('timezone', 'Pacific/Kiritimati') "
                     "ON CONFLICT (key) DO UPDATE SET value = excluded.value")
        shop_today = conn.execute("SELECT (now() AT TIME ZONE 'Pacific/Kiritimati')::date").fetchone()[0]
    assert clients.shop_today() == shop_today
    assert every_id(Criteria(sort="birthday"), None, 5) == every_id(Criteria(sort="birthday"), shop_today, 5)


async def test_the_list_sorts_by_next_birthday_shows_it_and_reverses_with_v(birthdays, monkeypatch):
    """At 80×24: "s" four times reaches the next-birthday sort, whose column then stays on screen; "v" turns it
    round. The shop's today is fixed through its time zone's date, so the first row is known."""
    import screens.clients.screen
    from db import session
    from db.i18n import t
    from tests.pilot import screen_text, settle
    from tui.app import ClientbaseApp

    monkeypatch.setattr(screens.clients.screen, "COUNT_AFTER_SECONDS", 0.001)
    monkeypatch.setattr(clients, "shop_today", lambda: date(2026, 12, 31))
    target = birthdays.target("admin")
    session.bind(target)
    app = ClientbaseApp(target, session.identity(target))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert t("Birthday") not in screen_text(app)
        await pilot.press("tab", "s", "s", "s", "s")
        await settle(pilot)
        text = screen_text(app)
        assert t("sorted by {sort}", sort=t("next birthday")) in text
        assert t("Birthday") in text and "31.12.1970" in text
        assert app.screen.list.current.row.birth_date in (date(1970, 12, 31), date(1960, 12, 31))
        await pilot.press("v")
        await settle(pilot)
        assert t("sorted by {sort}, reversed", sort=t("next birthday")) in screen_text(app)
        assert app.screen.list.current.row.birth_date is None
        await pilot.press("s")
        await settle(pilot)
        assert t("sorted by {sort}", sort=t("name")) in screen_text(app)
