"""The refresh's lifetime value on a base where a quarter of the purchases are refunded: the Gamma-Gamma fit
takes the purchases alone and the refunds come back as each client's net share (db/analytics/clv.py), each
figure worked out here from the raw purchases."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

import numpy as np
import pytest

from db.analytics import clv
from db.analytics.refresh import refresh
from tests.test_analytics import admin, owner  # noqa: F401 (fixtures)
from tests.test_analytics import AS_OF, add_clients, moscow, results


def test_a_quarter_refunded_fits_and_each_expected_value_is_the_purchases_times_the_net_share(owner, admin):
    rng = random.Random(11)
    data = []
    for _ in range(700):
        first = AS_OF - timedelta(days=rng.randrange(200, 700))
        days = sorted({first + timedelta(days=rng.randrange(1, (AS_OF - first).days)) for _ in range(rng.randrange(4))})
        # Each client orders around their own mean; a quarter of the orders come back whole, a day later.
        level = rng.gammavariate(4, 40)
        purchases = []
        for day in [first, *days]:
            amount = Decimal(f"{rng.gammavariate(6, level / 6):.2f}")
            purchases.append((moscow(day.year, day.month, day.day), amount))
            if rng.random() < 0.25 and day < AS_OF:
                back = day + timedelta(days=1)
                purchases.append((moscow(back.year, back.month, back.day), -amount))
        data.append(purchases)
    owner.execute("ALTER TABLE purchase DROP CONSTRAINT IF EXISTS purchase_amount_check")
    ids = add_clients(owner, data)
    run = refresh(admin, as_of=AS_OF, period_days=365)
    assert run.clv_reason is None
    params = admin.execute("SELECT clv_params FROM analytics_run WHERE id = %s", (run.run_id,)).fetchone()[0]

    bought = [[float(amount) for _, amount in purchases if amount > 0] for purchases in data]
    f = np.array([len(values) for values in bought], dtype=float)
    gross = np.array([sum(values) for values in bought])
    net = np.array([sum(float(amount) for _, amount in purchases) for purchases in data])
    refunded = sum(gross - net) / sum(gross)
    assert 0.15 < refunded < 0.35
    assert params["shop_refund_ratio"] == pytest.approx(refunded, rel=1e-9)
    # The fit on the repeat buyers' purchases, their number and mean amount to the cent, done here.
    repeat = f > 1
    (x, m), weights = clv.distinct_weighted(f[repeat], np.round(gross[repeat] / f[repeat], 2))
    mine = clv.fit_gamma_gamma(x, m, weights)
    for name in ("p", "q", "gamma"):
        assert params["gamma_gamma"][name] == pytest.approx(getattr(mine, name), rel=1e-4)
    assert mine.q > 1

    got = results(admin)
    for index, client_id in enumerate(ids):
        row = got[client_id]
        own = min((gross[index] - net[index]) / gross[index], 1.0)
        share = 1 - (f[index] * own + 2 * refunded) / (f[index] + 2)
        spend = (mine.gamma + gross[index]) * mine.p / (mine.p * f[index] + mine.q - 1) * share
        assert float(row["expected_value_12m"]) == pytest.approx(row["expected_purchases_12m"] * spend, rel=1e-3,
                                                                abs=0.011), client_id
