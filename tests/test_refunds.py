"""Refunds (migration 0014): a negative amount lowers what a client spent and earned us, and is no purchase."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import psycopg
import pytest

from db.card import activity as card_activity
from db.errors import ValidationError
from db.i18n import N_
from tests.test_import import run_cli, write_csv
from tui.transfer import values


def _client(conn: psycopg.Connection, key: str) -> int:
    return conn.execute("INSERT INTO client (last_name, external_key) VALUES ('Refund', %s) RETURNING id",
                        (key,)).fetchone()[0]


def _stats(conn: psycopg.Connection, client_id: int) -> tuple:
    return conn.execute("SELECT purchase_count, total_spent, total_profit, first_purchase_at, last_purchase_at,"
                        " category FROM client WHERE id = %s", (client_id,)).fetchone()


MARCH = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)
APRIL = datetime(2026, 4, 1, 12, tzinfo=timezone.utc)


def test_a_refund_lowers_spent_and_profit_but_is_not_a_purchase(fresh_db):
    with fresh_db.connect("admin") as conn:
        buyer, refunded = _client(conn, "B"), _client(conn, "R")
        conn.execute("INSERT INTO purchase (client_id, purchased_at, amount, cost) VALUES"
                     " (%s, %s, 1000, 600), (%s, %s, -400, -240), (%s, %s, -50, NULL)",
                     (buyer, MARCH, buyer, APRIL, refunded, APRIL))
        # 1000 - 400 spent; profit 400 on the sale, minus the refund's margin 160 (-400 - -240).
        assert _stats(conn, buyer) == (1, Decimal("600.00"), Decimal("240.00"), MARCH, MARCH, "one-time")
        assert _stats(conn, refunded) == (0, Decimal("-50.00"), Decimal("-50.00"), None, None, "potential")
        conn.execute("DELETE FROM purchase WHERE amount = -400")
        assert _stats(conn, buyer) == (1, Decimal("1000.00"), Decimal("400.00"), MARCH, MARCH, "one-time")


@pytest.mark.parametrize("amount, cost", [(-100, 30), (100, -30)])
def test_a_cost_has_the_sign_of_its_amount(fresh_db, amount, cost):
    with fresh_db.connect("admin") as conn:
        client_id = _client(conn, "C")
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("INSERT INTO purchase (client_id, purchased_at, amount, cost) VALUES (%s, %s, %s, %s)",
                         (client_id, MARCH, amount, cost))


def test_the_card_records_a_refund_with_the_goods_cost_coming_back(admin_session):
    with admin_session.connect() as conn:
        client_id = _client(conn, "K")
        product = conn.execute("INSERT INTO product (name, price, cost, subscription_days) VALUES"
                               " ('Pass', 500, 200, 30) RETURNING id").fetchone()[0]
        conn.commit()
    card_activity.add_purchase(client_id, MARCH, "shop", [(product, "", Decimal(2), Decimal("500"))])
    refund = card_activity.add_purchase(client_id, APRIL, "shop", [(product, "", Decimal(1), Decimal("-500"))])
    with admin_session.connect() as conn:
        assert conn.execute("SELECT amount, cost FROM purchase WHERE id = %s", (refund,)).fetchone() == (
            Decimal("-500.00"), Decimal("-200.00"))
        assert _stats(conn, client_id)[:3] == (1, Decimal("500.00"), Decimal("300.00"))
        assert conn.execute("SELECT count(*) FROM subscription WHERE client_id = %s", (client_id,)).fetchone()[0] == 1


@pytest.mark.parametrize("prices, message", [
    ([Decimal("100"), Decimal("-100")], N_("A refund has only negative prices; enter a sale and a refund separately.")),
    ([Decimal("0")], N_("The amount is zero: a purchase needs a price, a refund a negative one.")),
])
def test_the_card_refuses_a_zero_amount_and_a_sale_mixed_with_a_refund(admin_session, prices, message):
    with admin_session.connect() as conn:
        client_id = _client(conn, "Z")
        conn.commit()
    with pytest.raises(ValidationError) as refused:
        card_activity.add_purchase(client_id, MARCH, "shop", [(None, "Item", Decimal(1), p) for p in prices])
    assert refused.value.key == message


def test_an_amount_may_be_negative_only_where_a_refund_is_meant():
    assert values.parse_amount("-1 500,00", "amount", negative=True) == Decimal("-1500.00")
    assert values.parse_amount("-12,000", "amount", negative=True) == Decimal("-12000")
    for text, negative in (("-5", False), ("abc", True), ("-", True)):
        with pytest.raises(ValueError):
            values.parse_amount(text, "amount", negative=negative)
    # A zero amount (a gift, a returned order) is in bases already and in their exports: it imports back.
    assert values.parse_amount("0,00", "amount", negative=True) == 0


def test_the_import_takes_a_negative_amount_as_a_refund_and_a_zero_as_a_purchase(fresh_db, tmp_path):
    with fresh_db.connect() as conn:
        _client(conn, "1001")
        conn.commit()
    path = write_csv(tmp_path / "sales.csv", ["Client number", "Date", "Amount", "Cost"],
                     [["1001", "2024-03-01", "1000", "600"], ["1001", "2024-03-05", "-400", "240"],
                      ["1001", "2024-03-06", "0", ""]])
    result = run_cli(fresh_db, "import", path, "--purchases")
    assert result.returncode == 0, result.stderr
    assert "purchases added:             3" in result.stdout, result.stdout
    assert "invalid rows:                0" in result.stdout
    with fresh_db.connect() as conn:
        assert conn.execute("SELECT amount, cost FROM purchase ORDER BY purchased_at").fetchall() == [
            (Decimal("1000.00"), Decimal("600.00")), (Decimal("-400.00"), Decimal("-240.00")),
            (Decimal("0.00"), None)]
        # The refund is no purchase; the zero-amount one is, as it always was.
        assert conn.execute("SELECT purchase_count, total_spent, total_profit FROM client").fetchone() == (
            2, Decimal("600.00"), Decimal("240.00"))
