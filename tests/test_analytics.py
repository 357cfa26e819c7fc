"""The analytics against numbers worked out by hand and recomputed in plain Python, client by client."""

from __future__ import annotations

import math
import random
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
import psycopg
import pytest

from db.analytics import clv
from db.analytics.refresh import refresh
from db.errors import UserError
from db.i18n import N_

MOSCOW = ZoneInfo("Europe/Moscow")
AS_OF = date(2026, 6, 30)


def moscow(year, month, day, hour=12, minute=0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=MOSCOW)


def add_clients(conn: psycopg.Connection, purchases_by_client: list[list[tuple]]) -> list[int]:
    """One client per list; each purchase is (when, amount) or (when, amount, cost)."""
    ids = []
    for number, purchases in enumerate(purchases_by_client, 1):
        client_id = conn.execute("INSERT INTO client (last_name, external_key) VALUES (%s, %s) RETURNING id",
                                 (f"Client {number}", f"K{number}")).fetchone()[0]
        ids.append(client_id)
        with conn.cursor() as cursor:
            cursor.executemany("INSERT INTO purchase (client_id, purchased_at, amount, cost) VALUES (%s, %s, %s, %s)",
                               [(client_id, p[0], p[1], p[2] if len(p) > 2 else None) for p in purchases])
    return ids


def results(conn: psycopg.Connection) -> dict[int, dict]:
    rows = conn.execute(
        "SELECT c.* FROM analytics_client c"
        " WHERE c.slot = (SELECT slot FROM analytics_run WHERE published ORDER BY id DESC LIMIT 1)").fetchall()
    names = [column.name for column in conn.execute("SELECT * FROM analytics_client LIMIT 0").description]
    return {row[1]: dict(zip(names, row, strict=True)) for row in rows}


@pytest.fixture
def owner(fresh_db):
    with fresh_db.connect(autocommit=True) as conn:
        yield conn


@pytest.fixture
def admin(fresh_db):
    with fresh_db.connect("admin", autocommit=True) as conn:
        yield conn


# --------------------------------------------------------------------------- a small base, worked by hand

def hand_made(owner) -> list[int]:
    return add_clients(owner, [
        # 1: three purchases in the period, the last the day before the analysis date.
        [(moscow(2025, 12, 1), 500), (moscow(2026, 3, 1), 500), (moscow(2026, 6, 29), 1000)],
        # 2: 23:30 Moscow time on the analysis date (20:30 UTC) belongs to that day.
        [(datetime(2026, 6, 30, 20, 30, tzinfo=timezone.utc), 300)],
        # 3: one purchase before the period, and one at 00:30 Moscow time the day after (not counted).
        [(moscow(2025, 1, 10), 200), (datetime(2026, 6, 30, 21, 30, tzinfo=timezone.utc), 999)],
        # 4: two purchases a month apart.
        [(moscow(2026, 5, 1), 100), (moscow(2026, 6, 1), 100)],
        # 5: no purchase at all.
        [],
        # 6: sold below cost.
        [(moscow(2026, 6, 1), 100, 150)],
    ])


def test_hand_made_base_gives_the_classes_worked_out_by_hand(owner, admin):
    ids = hand_made(owner)
    run = refresh(admin, as_of=AS_OF, period_days=365)
    assert run.clients == 6 and run.buyers == 5
    assert run.clv_reason == N_("Lifetime value is not reliable yet: {count} buyers, at least {minimum} are needed.")
    got = results(admin)
    by_number = {number: got[client_id] for number, client_id in enumerate(ids, 1)}
    # R thresholds over R = (1, 0, 536, 29, 29): 0, 1, 29, 29; F over (3, 1, 1, 2, 1): 1, 1, 1, 2;
    # M over (2000, 300, 200, 200, 100): 100, 200, 200, 300.
    expected = {
        #    R    F  M      R F M  segment                ABC  A-E
        1: (1, 3, 2000, 4, 5, 5, "Champions", "A", "A"),
        2: (0, 1, 300, 5, 1, 4, "Potential loyalists", "A", "B"),
        3: (536, 1, 200, 1, 1, 2, "Hibernating", "C", "D"),
        4: (29, 2, 200, 3, 4, 2, "Loyal", "B", "C"),
        5: (None, 0, 0, None, None, None, "Prospects", "C", "D"),
        6: (29, 1, 100, 3, 1, 1, "Promising", "C", "E"),
    }
    for number, row in by_number.items():
        actual = (row["r_days"], row["f"], row["m"], row["r_score"], row["f_score"], row["m_score"],
                  row["rfm_segment"], row["abc_class"], row["ae_class"])
        assert actual == expected[number], number
    assert by_number[6]["profit"] == Decimal("-50.00")
    assert by_number[3]["revenue"] == 0, "the purchase before the period is no revenue in it"
    assert all(row["expected_value_12m"] is None for row in got.values()), "CLV is not shown when unreliable"


def test_the_dashboard_tables_of_the_hand_made_base(owner, admin):
    hand_made(owner)
    refresh(admin, as_of=AS_OF, period_days=365)
    classes = {(kind, cls): (clients, revenue) for kind, cls, clients, revenue in admin.execute(
        "SELECT kind, class, clients, revenue FROM analytics_class WHERE slot = 0").fetchall()}
    assert classes[("abc", "A")] == (2, Decimal("2300.00"))
    assert classes[("abc", "B")] == (1, Decimal("200.00"))
    assert classes[("abc", "C")] == (3, Decimal("100.00"))
    assert classes[("category", "regular")][0] == 2
    assert classes[("category", "one-time")][0] == 3
    assert classes[("category", "prospect")][0] == 1
    assert classes[("rf", "4,5")][0] == 1
    months = {month: (revenue, new, returned) for month, revenue, new, returned in admin.execute(
        "SELECT month, revenue, new_clients, returned_90d FROM analytics_month WHERE slot = 0").fetchall()}
    assert months[date(2025, 12, 1)] == (Decimal("500.00"), 1, 1), "client 1 came back within 90 days"
    assert months[date(2026, 5, 1)] == (Decimal("100.00"), 1, 1)
    assert months[date(2026, 6, 1)] == (Decimal("1500.00"), 2, 0)
    assert months[date(2025, 1, 1)] == (Decimal("200.00"), 1, 0)
    assert date(2026, 7, 1) not in months
    pareto = admin.execute("SELECT point, client_share, revenue_share FROM analytics_pareto WHERE slot = 0"
                           " ORDER BY point").fetchall()
    # Four clients with revenue: 2000, 300, 200, 100 of 2600.
    assert [(point, round(share, 4)) for point, _, share in pareto] == [
        (25, round(2000 / 2600, 4)), (50, round(2300 / 2600, 4)), (75, round(2500 / 2600, 4)), (100, 1.0)]


# ----------------------------------------------------------------------- generated data, recomputed here

SEGMENT_MAP = [  # (segment, R range, F+M mean range), first match wins: the migration's defaults.
    ("Champions", (4, 5), (4, 5)), ("Loyal", (2, 5), (3, 5)), ("New", (4, 5), (1, 1)),
    ("Promising", (3, 4), (1, 1)), ("Potential loyalists", (3, 5), (1, 3)), ("Need attention", (2, 3), (2, 3)),
    ("About to sleep", (2, 3), (1, 2)), ("Can't lose them", (1, 1), (4, 5)), ("At risk", (1, 2), (2, 5)),
    ("Lost", (1, 1), (1, 1)), ("Hibernating", (1, 2), (1, 2)),
]


def percentile_disc(values: list, fraction: float):
    ordered = sorted(values)
    return ordered[max(math.ceil(fraction * len(ordered)), 1) - 1]


def expected_in_python(purchases_by_client: dict[int, list[tuple]], as_of: date, period_days: int) -> dict:
    period_start = as_of - timedelta(days=period_days - 1)
    summary = {}
    for client_id, purchases in purchases_by_client.items():
        counted = [(when.astimezone(MOSCOW).date(), amount) for when, amount in purchases
                   if when.astimezone(MOSCOW).date() <= as_of]
        bought = [day for day, amount in counted if amount > 0]  # a refund (negative) is no purchase
        summary[client_id] = {
            "f": len(bought),
            "m": sum((amount for _, amount in counted), Decimal(0)),
            "r_days": (as_of - max(bought)).days if bought else None,
            "revenue": sum((amount for day, amount in counted if day >= period_start), Decimal(0)),
        }
    buyers = [s for s in summary.values() if s["f"] > 0]
    fractions = (0.2, 0.4, 0.6, 0.8)
    r_t = [percentile_disc([s["r_days"] for s in buyers], p) for p in fractions]
    f_t = [percentile_disc([s["f"] for s in buyers], p) for p in fractions]
    m_t = [percentile_disc([s["m"] for s in buyers], p) for p in fractions]
    for s in summary.values():
        if s["f"] == 0:
            s.update(r_score=None, f_score=None, m_score=None, segment="Prospects")
            continue
        s["r_score"] = 5 - sum(s["r_days"] > t for t in r_t)
        s["f_score"] = 1 + sum(s["f"] > t for t in f_t)
        s["m_score"] = 1 + sum(s["m"] > t for t in m_t)
        fm = (s["f_score"] + s["m_score"]) / 2
        s["segment"] = next(name for name, (r_lo, r_hi), (fm_lo, fm_hi) in SEGMENT_MAP
                            if r_lo <= s["r_score"] <= r_hi and fm_lo <= fm <= fm_hi)
    total = sum(max(s["revenue"], 0) for s in summary.values())
    before = Decimal(0)
    for client_id in sorted(summary, key=lambda c: (-summary[c]["revenue"], c)):
        s = summary[client_id]
        if s["revenue"] <= 0:
            s["abc"] = "C"
        else:
            s["abc"] = "A" if before < Decimal("0.8") * total else "B" if before < Decimal("0.95") * total else "C"
        before += s["revenue"]
    return summary


def generated(seed: int, clients: int, days: int) -> dict[int, list[tuple]]:
    rng = random.Random(seed)
    amounts = [Decimal(v) for v in ("100.00", "250.00", "250.00", "999.90", "1500.00")]
    data = {}
    for number in range(clients):
        count = rng.choice([0, 1, 1, 1, 2, 3, 5, 8])
        purchases = []
        for _ in range(count):
            day = AS_OF - timedelta(days=rng.randrange(days))
            # Minutes either side of midnight in Moscow, where a UTC date would differ.
            hour, minute = rng.choice([(0, 10), (2, 59), (12, 0), (23, 30), (23, 59)])
            purchases.append((datetime(day.year, day.month, day.day, hour, minute, tzinfo=MOSCOW),
                              rng.choice(amounts)))
        if number % 50 == 7:  # a purchase at 00:30 the day after the analysis date: not counted
            purchases.append((datetime(2026, 7, 1, 0, 30, tzinfo=MOSCOW), Decimal("5000.00")))
        # Refunds: after some purchases (on any day, the last one included), and some clients with only refunds.
        for when, amount in list(purchases):
            if rng.random() < 0.05:
                purchases.append((when + timedelta(days=rng.randrange(0, 40)), -amount / rng.choice([1, 2])))
        if number % 29 == 3:
            purchases = [(when, -amount) for when, amount in purchases]
        data[number] = purchases
    return data


@pytest.mark.parametrize("seed", [1, 2])
def test_generated_base_matches_plain_python_client_by_client(owner, admin, seed):
    data = generated(seed, 300, 900)
    ids = add_clients(owner, list(data.values()))
    refresh(admin, as_of=AS_OF, period_days=365)
    expected = expected_in_python(dict(zip(ids, data.values(), strict=True)), AS_OF, 365)
    got = results(admin)
    assert set(got) == set(expected)
    for client_id, want in expected.items():
        row = got[client_id]
        assert (row["r_days"], row["f"], row["m"], row["revenue"]) == (
            want["r_days"], want["f"], want["m"], want["revenue"]), client_id
        assert (row["r_score"], row["f_score"], row["m_score"], row["rfm_segment"], row["abc_class"]) == (
            want["r_score"], want["f_score"], want["m_score"], want["segment"], want["abc"]), client_id


# ------------------------------------------------------------------------------------- lifetime value


def test_clv_is_fitted_on_the_triples_of_the_summary_and_scored_per_client(owner, admin):
    rng = random.Random(5)
    data = []
    for _ in range(700):
        first = AS_OF - timedelta(days=rng.randrange(10, 700))
        # The BG/NBD story: purchases at a daily rate, and after each one a chance of leaving for good.
        rate, days = rng.choice([0.005, 0.01, 0.03, 0.06]), []
        for offset in range(1, (AS_OF - first).days + 1):
            if rng.random() < rate:
                days.append(first + timedelta(days=offset))
                if rng.random() < 0.25:
                    break
        data.append([(moscow(d.year, d.month, d.day), Decimal(f"{rng.gammavariate(4, 40):.2f}"))
                     for d in [first, *days]])
    ids = add_clients(owner, data)
    run = refresh(admin, as_of=AS_OF, period_days=365)
    assert run.clv_reason is None
    params = admin.execute("SELECT clv_params FROM analytics_run WHERE id = %s", (run.run_id,)).fetchone()[0]
    x = np.array([len(p) - 1 for p in data], dtype=float)
    t_x = np.array([(p[-1][0].date() - p[0][0].date()).days for p in data], dtype=float)
    age = np.array([(AS_OF - p[0][0].date()).days for p in data], dtype=float)
    mine = clv.fit_bgnbd(x, t_x, age)
    for name in ("r", "alpha", "a", "b"):
        assert params["bgnbd"][name] == pytest.approx(getattr(mine, name), rel=1e-4)
    scores = clv.score_bgnbd(mine, x, t_x, age, horizon=365)
    gamma_gamma = clv.GammaGammaParams(**params["gamma_gamma"])
    got = results(admin)
    for index, client_id in enumerate(ids):
        assert got[client_id]["expected_purchases_12m"] == pytest.approx(scores.expected_purchases[index],
                                                                          rel=1e-3, abs=1e-6)
        assert got[client_id]["p_alive"] == pytest.approx(scores.p_alive[index], rel=1e-3, abs=1e-6)
        # No refunds here: the net share is 1, and the order value that of the purchases, x + 1 of them.
        assert params["shop_refund_ratio"] == 0
        spend = clv.expected_order_value(gamma_gamma, [x[index] + 1], [float(got[client_id]["m"]) / (x[index] + 1)])[0]
        assert float(got[client_id]["expected_value_12m"]) == pytest.approx(
            scores.expected_purchases[index] * spend, abs=0.011)
    buckets = admin.execute("SELECT sum(clients) FROM analytics_clv_bucket WHERE slot = 0").fetchone()[0]
    assert buckets == 700


def test_a_fit_that_fails_from_the_previous_parameters_is_done_again_from_the_usual_start(owner, admin,
                                                                                          monkeypatch):
    rng = random.Random(5)
    data = [[(moscow(d.year, d.month, d.day), Decimal(f"{rng.gammavariate(4, 40):.2f}"))
             for d in sorted({AS_OF - timedelta(days=rng.randrange(1, 700)) for _ in range(rng.randrange(1, 5))})]
            for _ in range(600)]
    add_clients(owner, data)
    assert refresh(admin, as_of=AS_OF).clv_reason is None
    cold = clv.fit_bgnbd
    started_near = []

    def stuck_when_warm(*args, near=None, **kwargs):
        if near is not None:
            started_near.append(near)
            raise clv.NotReliable(N_("Lifetime value is not reliable: the {model} model did not fit these data."),
                                  model="BG/NBD")
        return cold(*args, **kwargs)

    monkeypatch.setattr(clv, "fit_bgnbd", stuck_when_warm)
    second = refresh(admin, as_of=AS_OF)
    assert started_near and second.clv_reason is None


# ------------------------------------------------------------------------------------------ edge cases


def test_a_base_of_one_client_who_bought_today(owner, admin):
    [client_id] = add_clients(owner, [[(moscow(2026, 6, 30, 9), 100)]])
    run = refresh(admin, as_of=AS_OF)
    row = results(admin)[client_id]
    assert (row["r_days"], row["f"], row["r_score"], row["f_score"], row["m_score"]) == (0, 1, 5, 1, 1)
    assert (row["rfm_segment"], row["abc_class"], row["ae_class"]) == ("New", "A", "D")
    assert run.clv_reason == N_("Lifetime value is not reliable yet: {count} buyers, at least {minimum} are needed.")


def test_no_purchases_at_all_and_an_empty_base(owner, admin):
    refresh(admin, as_of=AS_OF)
    assert results(admin) == {}
    ids = add_clients(owner, [[], []])
    refresh(admin, as_of=AS_OF)
    got = results(admin)
    assert {(got[i]["rfm_segment"], got[i]["abc_class"], got[i]["ae_class"]) for i in ids} == {("Prospects", "C", "D")}


def test_every_client_equal_gets_the_same_scores(owner, admin):
    ids = add_clients(owner, [[(moscow(2026, 6, 1), 100), (moscow(2026, 6, 10), 100)] for _ in range(20)])
    refresh(admin, as_of=AS_OF)
    got = results(admin)
    assert {(got[i]["r_score"], got[i]["f_score"], got[i]["m_score"], got[i]["rfm_segment"], got[i]["ae_class"])
            for i in ids} == {(5, 1, 1, "New", "D")}
    # ABC still splits equal revenue by client id, as the rule says: 16 clients reach 80 %.
    assert [got[i]["abc_class"] for i in ids] == ["A"] * 16 + ["B"] * 3 + ["C"]


def test_a_client_with_only_refunds_is_a_prospect_with_negative_value(owner, admin):
    refunded, buyer = add_clients(owner, [[(moscow(2026, 6, 1), -50)],
                                          [(moscow(2026, 6, 1), 300, 120), (moscow(2026, 6, 2), -100, -40)]])
    refresh(admin, as_of=AS_OF)
    got = results(admin)
    # Only refunds: never bought, so no R and no scores, a Prospect; revenue -50 is no revenue (C), and the
    # profit -50 is negative (E).
    assert (got[refunded]["f"], got[refunded]["m"], got[refunded]["r_days"], got[refunded]["revenue"],
            got[refunded]["profit"], got[refunded]["r_score"]) == (0, Decimal("-50.00"), None, Decimal("-50.00"),
                                                                    Decimal("-50.00"), None)
    assert (got[refunded]["rfm_segment"], got[refunded]["abc_class"], got[refunded]["ae_class"]) == (
        "Prospects", "C", "E")
    # A purchase and a refund: F = 1 and R from the purchase (1 June, 29 days), not from the refund (2 June);
    # M = 300 - 100; profit (300 - 120) + (-100 + 40) = 120. The only buyer sets every threshold: R 5, F 1,
    # M 1, "New"; all the period's revenue is its own (A); alone among the non-E clients it is at q1 (D).
    assert (got[buyer]["f"], got[buyer]["m"], got[buyer]["r_days"], got[buyer]["revenue"], got[buyer]["profit"]) == (
        1, Decimal("200.00"), 29, Decimal("200.00"), Decimal("120.00"))
    assert (got[buyer]["r_score"], got[buyer]["f_score"], got[buyer]["m_score"], got[buyer]["rfm_segment"],
            got[buyer]["abc_class"], got[buyer]["ae_class"]) == (5, 1, 1, "New", "A", "D")
    june = admin.execute("SELECT revenue, purchases, new_clients, returned_90d FROM analytics_month"
                         " WHERE slot = 0 AND month = '2026-06-01'").fetchone()
    assert june == (Decimal("150.00"), 1, 1, 0), "refunds lower the month's revenue; they are no purchase"


# ---------------------------------------------------------------------------------- movement, rights


def test_movement_since_the_previous_refresh_is_a_group_by_of_one_slot(owner, admin):
    ids = hand_made(owner)
    refresh(admin, as_of=AS_OF, period_days=365)
    second = refresh(admin, as_of=date(2026, 12, 31), period_days=365)
    slot = admin.execute("SELECT slot FROM analytics_run WHERE id = %s", (second.run_id,)).fetchone()[0]
    assert slot == 1
    got = results(admin)
    assert got[ids[0]]["prev_segment"] == "Champions"
    moves = dict(admin.execute("SELECT class, clients FROM analytics_class WHERE slot = 1 AND kind = 'move_segment'"
                               ).fetchall())
    assert sum(moves.values()) == 6
    assert moves["Champions>" + got[ids[0]]["rfm_segment"]] == 1
    third = refresh(admin, as_of=AS_OF, period_days=365)
    assert third.run_id > second.run_id
    assert admin.execute("SELECT count(*) FROM analytics_client").fetchone()[0] == 12, "two slots, no more"


@pytest.mark.parametrize("role", ["manager", "sales"])
def test_only_the_administrator_refreshes_and_readers_cannot_write(fresh_db, owner, role):
    hand_made(owner)
    with fresh_db.connect(role) as conn:
        with pytest.raises(UserError) as denied:
            refresh(conn, as_of=AS_OF)
        assert denied.value.key == N_("Only an administrator may refresh the analytics.")
        conn.rollback()
        assert conn.execute("SELECT count(*) FROM analytics_client").fetchone()[0] == 0
        for statement in ("DELETE FROM analytics_class", "TRUNCATE analytics_client_0",
                          "UPDATE analytics_segment_rule SET r_min = 1", "INSERT INTO analytics_run (slot, as_of, "
                          "period_days, time_zone) VALUES (0, now(), 1, 'UTC')"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
            conn.rollback()


def test_the_mailer_reads_no_analytics(fresh_db):
    with fresh_db.connect("mailer") as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT * FROM analytics_client")


def test_the_segment_map_is_edited_by_the_administrator_and_audited(fresh_db, owner, admin):
    admin.execute("UPDATE analytics_segment_rule SET r_min = 5 WHERE segment = 'Champions'")
    admin.commit()
    logged = owner.execute("SELECT login, action FROM audit_log WHERE table_name = 'analytics_segment_rule'"
                           ).fetchall()
    assert logged == [("t_admin", "update")]
    ids = hand_made(owner)
    refresh(admin, as_of=AS_OF, period_days=365)
    assert results(admin)[ids[0]]["rfm_segment"] == "Loyal", "R 4 is no longer a Champion"
