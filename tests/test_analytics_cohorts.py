"""Monthly cohorts and their 90-day returns against plain Python, on the cases the refresh decides without
looking at the purchases again (a return on a later day within 90 days, two purchases with the second past
them) and on those it probes (more purchases with the last past 90 days, every purchase on the first day)."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, datetime, timedelta
from decimal import Decimal

from db.analytics.refresh import refresh
from tests.test_analytics import AS_OF, MOSCOW, add_clients, admin, moscow, owner  # noqa: F401 (fixtures)


def cohorts_in_python(purchases_by_client: list[list[tuple]], as_of: date) -> dict[date, tuple[int, int]]:
    """(new clients, returned within 90 days) per month of the first purchase (amount > 0), local days."""
    new, returned = Counter(), Counter()
    for purchases in purchases_by_client:
        bought = sorted(when for when, amount, *_ in purchases
                        if amount > 0 and when.astimezone(MOSCOW).date() <= as_of)
        if not bought:
            continue
        first_day = bought[0].astimezone(MOSCOW).date()
        month = first_day.replace(day=1)
        new[month] += 1
        returned[month] += any(when > bought[0] and (when.astimezone(MOSCOW).date() - first_day).days <= 90
                               for when in bought)
    return {month: (new[month], returned[month]) for month in new}


HAND_MADE = [
    # Two purchases, the second on day 90 at 23:30 Moscow time: returned.
    [(moscow(2026, 1, 5), 100), (moscow(2026, 1, 5) + timedelta(days=90, hours=11, minutes=30), 100)],
    # Two purchases, the second on day 91 at 00:10: not returned.
    [(moscow(2026, 1, 6), 100), (moscow(2026, 1, 6) + timedelta(days=90, hours=12, minutes=10), 100)],
    # Three purchases: the middle one within 90 days, the last past them: returned.
    [(moscow(2026, 1, 7), 100), (moscow(2026, 2, 7), 100), (moscow(2026, 6, 7), 100)],
    # Three purchases: the two later ones past 90 days: not returned.
    [(moscow(2026, 1, 8), 100), (moscow(2026, 5, 7), 100), (moscow(2026, 6, 7), 100)],
    # Two purchases at the same instant: nothing after the first, not returned.
    [(moscow(2026, 1, 9), 100), (moscow(2026, 1, 9), 100)],
    # Two purchases on the first day, an hour apart: returned.
    [(moscow(2026, 1, 10, 9), 100), (moscow(2026, 1, 10, 10), 100)],
    # A refund within 90 days and a purchase past them: not returned (a refund is no purchase).
    [(moscow(2026, 1, 11), 100), (moscow(2026, 1, 20), -50), (moscow(2026, 5, 20), 100), (moscow(2026, 6, 1), 100)],
    # A zero amount (a returned order) within 90 days, the last purchase past them: not returned.
    [(moscow(2026, 1, 12), 100), (moscow(2026, 1, 22), 0, 10), (moscow(2026, 5, 22), 100),
     (moscow(2026, 6, 2), 100)],
    # A second purchase after the analysis date: not counted.
    [(moscow(2026, 6, 20), 100), (datetime(2026, 7, 1, 0, 30, tzinfo=MOSCOW), 100)],
]


def test_hand_made_cohorts(owner, admin):  # noqa: F811
    add_clients(owner, HAND_MADE)
    refresh(admin, as_of=AS_OF)
    got = {month: (new, returned) for month, new, returned in admin.execute(
        "SELECT month, new_clients, returned_90d FROM analytics_month WHERE slot = 0 AND new_clients > 0")}
    # January: 8 new clients, of whom the first, third and sixth returned; June: one, who did not.
    assert got == {date(2026, 1, 1): (8, 3), date(2026, 6, 1): (1, 0)}
    assert got == cohorts_in_python(HAND_MADE, AS_OF)


def test_generated_cohorts_match_plain_python(owner, admin):  # noqa: F811
    rng = random.Random(13)
    data = []
    for _ in range(400):
        first = AS_OF - timedelta(days=rng.randrange(400))
        purchases = []
        for _ in range(rng.choice([1, 2, 2, 3, 4, 6])):
            day = first + timedelta(days=rng.choice([0, 0, 1, 30, 89, 90, 91, 92, 150, 300]))
            hour, minute = rng.choice([(0, 10), (12, 0), (23, 30)])
            amount = rng.choice([Decimal("100.00"), Decimal("100.00"), Decimal("-40.00")])
            purchases.append((datetime(day.year, day.month, day.day, hour, minute, tzinfo=MOSCOW), amount))
        data.append(purchases)
    add_clients(owner, data)
    refresh(admin, as_of=AS_OF)
    got = {month: (new, returned) for month, new, returned in admin.execute(
        "SELECT month, new_clients, returned_90d FROM analytics_month WHERE slot = 0 AND new_clients > 0")}
    want = cohorts_in_python(data, AS_OF)
    assert got == want
    assert sum(returned for _, returned in want.values()) > 20, "the data must hold returns to compare"
