"""The dashboard's reads, and that every number drills down to exactly the clients behind it."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

import pytest

from db.analytics import dashboard, drill
from db.analytics.refresh import refresh
from db.clients import listing
from db.i18n import N_
from tests.test_analytics import admin, owner  # noqa: F401 (fixtures)
from tests.test_analytics import AS_OF, add_clients, generated, hand_made, moscow


def drilled(conn, name: str, value: str) -> set[int]:
    where, params = listing.where_sql(listing.Criteria(filters=listing.Filters(extra=((name, value),))), False,
                                      AS_OF)
    return {row[0] for row in conn.execute(f"SELECT c.id FROM client c WHERE {where}", params).fetchall()}


def test_before_any_refresh_the_dashboard_is_empty_not_an_error(fresh_db):
    with fresh_db.connect("sales", autocommit=True) as conn:
        board = dashboard.load(conn)
    assert board.run is None and board.empty
    assert board.inactive_after_days == 180


def test_the_hand_made_base_on_the_dashboard(owner, admin, fresh_db):
    ids = hand_made(owner)
    refresh(admin, as_of=AS_OF, period_days=365)
    with fresh_db.connect("sales", autocommit=True) as conn:
        board = dashboard.load(conn)
    assert (board.run.as_of, board.run.period_days, board.run.clients, board.run.buyers) == (AS_OF, 365, 6, 5)
    assert board.run.clv_reason == N_("Lifetime value is not reliable yet: {count} buyers, at least {minimum} are "
                                      "needed.")
    assert [(row.class_, row.clients, row.revenue) for row in board.abc] == [
        ("A", 2, Decimal("2300.00")), ("B", 1, Decimal("200.00")), ("C", 3, Decimal("100.00"))]
    assert [round(row.share, 4) for row in board.abc] == [round(2300 / 2600, 4), round(200 / 2600, 4),
                                                           round(100 / 2600, 4)]
    segments = {row.class_: row for row in board.segments}
    assert segments["Champions"].clients == 1 and segments["Champions"].average_order == Decimal("666.67")
    assert segments["Prospects"].clients == 1
    assert board.regulars_share == pytest.approx(2 / 5)
    assert sum(cell.clients for cell in board.grid) == 5
    assert [(p.point, p.client_share) for p in board.pareto] == [(25, 0.25), (50, 0.5), (75, 0.75), (100, 1.0)]
    # Inactive for 180 days: only client 3 (536 days); the list is sorted by what they spent.
    assert [client.client_id for client in board.inactive] == [ids[2]]
    assert board.top_clients == [], "no CLV numbers when the model is not reliable"
    assert board.movement == {"segment": [], "abc": [], "ae": []}


def test_every_number_drills_down_to_exactly_its_clients(owner, admin, fresh_db):
    rng = random.Random(3)
    data = list(generated(7, 250, 700).values())
    # Enough steady buyers for a reliable CLV, so that its buckets and top clients drill down too.
    for _ in range(520):
        first = AS_OF - timedelta(days=rng.randrange(200, 700))
        visits = sorted({first + timedelta(days=rng.randrange((AS_OF - first).days)) for _ in range(rng.randrange(3))})
        data.append([(moscow(d.year, d.month, d.day), Decimal(f"{rng.gammavariate(4, 40):.2f}"))
                     for d in [first, *visits]])
    add_clients(owner, data)
    refresh(admin, as_of=AS_OF - timedelta(days=60), period_days=365)
    refresh(admin, as_of=AS_OF, period_days=365)
    board = dashboard.load(admin)
    assert board.run.clv_reason is None
    drill.register()
    cases = [("abc_class", row.class_, row.clients) for row in board.abc]
    cases += [("ae_class", row.class_, row.clients) for row in board.ae]
    cases += [("rfm_segment", row.class_, row.clients) for row in board.segments]
    cases += [("analytics_category", row.class_, row.clients) for row in board.categories]
    cases += [("rfm_cell", f"{cell.r_score},{cell.f_score}", cell.clients) for cell in board.grid]
    cases += [("clv_bucket", str(bucket.bucket), bucket.clients) for bucket in board.clv]
    cases += [("cohort", month.month.strftime("%Y-%m"), month.new_clients) for month in board.months]
    names = {"segment": "segment_move", "abc": "abc_move", "ae": "ae_move"}
    for kind, moves in board.movement.items():
        assert sum(move.clients for move in moves) == board.run.clients
        cases += [(names[kind], f"{move.from_class}>{move.to_class}", move.clients) for move in moves]
    buyers_with_revenue = admin.execute("SELECT count(*) FROM analytics_client WHERE slot = %s AND revenue > 0",
                                        (board.run.slot,)).fetchone()[0]
    cases += [("pareto_top", str(p.point), round(p.client_share * buyers_with_revenue)) for p in board.pareto]
    assert len(cases) > 60
    for name, value, clients in cases:
        assert len(drilled(admin, name, value)) == clients, (name, value)
    assert sum(bucket.clients for bucket in board.clv) == board.run.buyers
    assert len(board.top_clients) == 20
    values = [client.expected_value_12m for client in board.top_clients]
    assert values == sorted(values, reverse=True)
    quiet = drilled(admin, "inactive_days", str(board.inactive_after_days))
    assert {client.client_id for client in board.inactive} <= quiet
    spent = [client.m for client in board.inactive]
    assert spent == sorted(spent, reverse=True)


def test_a_drill_down_is_an_ordinary_filter_of_the_clients_list(owner, admin, admin_session):
    ids = hand_made(owner)
    refresh(admin, as_of=AS_OF, period_days=365)
    drill.register()
    criteria = listing.Criteria(filters=listing.Filters(extra=(("abc_class", "A"),)))
    assert listing.count(criteria, today=AS_OF).value == 2
    page = listing.find_page(criteria, today=AS_OF)
    assert {row.id for row in page.rows} == {ids[0], ids[1]}
    assert listing.Criteria.from_json(criteria.to_json()) == criteria, "savable as a segment"


def test_dashboard_reads_only_the_published_slot(owner, admin, fresh_db):
    hand_made(owner)
    refresh(admin, as_of=AS_OF, period_days=365)
    before = dashboard.load(admin)
    # A refresh that died half-way leaves an unpublished run and rows in the other slot: nobody sees them.
    admin.execute("INSERT INTO analytics_run (slot, as_of, period_days, time_zone) VALUES (1, %s, 30, 'UTC')",
                  (date(2027, 1, 1),))
    admin.execute("INSERT INTO analytics_class (slot, kind, class, clients, revenue, purchases)"
                  " VALUES (1, 'abc', 'A', 999, 0, 0)")
    after = dashboard.load(admin)
    assert (after.run.id, after.abc) == (before.run.id, before.abc)
