"""Correcting and deleting a purchase (issue 16): the client's statistics and the audit follow, in the database
and from the card's purchases tab at 80x24."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from db.card import activity
from db.errors import UserError
from db.i18n import t
from screens.card.purchase import PurchaseScreen
from tests.card_helpers import CardApp, bind, make_client
from tests.pilot import screen_text, settle
from tests.test_roles import _allowed

JANUARY = datetime(2026, 1, 5, 12, tzinfo=timezone.utc)
MARCH = datetime(2026, 3, 5, 12, tzinfo=timezone.utc)


def _stats(db, client_id: int) -> tuple:
    with db.connect(autocommit=True) as conn:
        return conn.execute("SELECT purchase_count, total_spent, total_profit, last_purchase_at, category"
                            " FROM client WHERE id = %s", (client_id,)).fetchone()


def _audit(db, table: str, row_id: int) -> list[tuple]:
    with db.connect(autocommit=True) as conn:
        return conn.execute("SELECT login, action, old_values, new_values FROM audit_log"
                            " WHERE table_name = %s AND row_id = %s ORDER BY id", (table, str(row_id))).fetchall()


def _product(db, name: str, price: str, cost: str) -> int:
    with db.connect("admin", autocommit=True) as conn:
        return conn.execute("INSERT INTO product (name, price, cost) VALUES (%s, %s, %s) RETURNING id",
                            (name, price, cost)).fetchone()[0]


def test_an_edited_purchase_moves_the_statistics_and_is_audited(admin_session):
    card = make_client()
    cream = _product(admin_session, "Крем", "500", "200")
    first = activity.add_purchase(card.id, JANUARY, "shop", [(cream, "", Decimal(1), Decimal(500))])
    activity.add_purchase(card.id, MARCH, "shop", [(None, "Мыло", Decimal(1), Decimal(90))])
    assert _stats(admin_session, card.id)[:3] == (2, Decimal("590.00"), Decimal("390.00"))
    (purchase,) = [p for p in activity.load_purchases(card.id) if p.id == first]
    activity.update_purchase(first, purchase.version, JANUARY, "online", [(cream, "", Decimal(3), Decimal(450))])
    assert _stats(admin_session, card.id)[:3] == (2, Decimal("1440.00"), Decimal("840.00"))
    (edit,) = [row for row in _audit(admin_session, "purchase", first) if row[1] == "update" and "amount" in row[2]]
    assert edit[0] == "t_admin"
    assert (edit[2]["amount"], edit[3]["amount"], edit[3]["channel"]) == (500, 1350, "online")
    # The version read before the edit is stale now: a second edit from it is refused, nothing is lost.
    with pytest.raises(UserError):
        activity.update_purchase(first, purchase.version, JANUARY, "shop", [(None, "x", Decimal(1), Decimal(1))])
    assert _stats(admin_session, card.id)[1] == Decimal("1440.00")


def test_a_deleted_purchase_leaves_the_statistics_and_the_category_right(admin_session):
    card = make_client()
    first = activity.add_purchase(card.id, JANUARY, "shop", [(None, "Крем", Decimal(1), Decimal(500))])
    second = activity.add_purchase(card.id, MARCH, "shop", [(None, "Мыло", Decimal(1), Decimal(90))])
    assert _stats(admin_session, card.id)[4] == "regular"
    version = next(p.version for p in activity.load_purchases(card.id) if p.id == second)
    activity.delete_purchase(second, version)
    count, spent, _, last, category = _stats(admin_session, card.id)
    assert (count, spent, last, category) == (1, Decimal("500.00"), JANUARY, "one-time")
    assert _audit(admin_session, "purchase", second)[-1][:2] == ("t_admin", "delete")
    with pytest.raises(UserError):
        activity.delete_purchase(second, version)
    assert [p.id for p in activity.load_purchases(card.id)] == [first]


@pytest.mark.parametrize("role", ["manager", "sales"])
def test_readers_may_not_edit_or_delete_a_purchase(admin_session, role):
    card = make_client()
    purchase = activity.add_purchase(card.id, JANUARY, "shop", [(None, "Крем", Decimal(1), Decimal(500))])
    with admin_session.connect(role, autocommit=True) as conn:
        assert not _allowed(conn, f"UPDATE purchase SET amount = 1 WHERE id = {purchase}")
        assert not _allowed(conn, f"DELETE FROM purchase WHERE id = {purchase}")
        assert not _allowed(conn, f"DELETE FROM purchase_line WHERE purchase_id = {purchase}")
    bind(admin_session, role)
    with pytest.raises(UserError):
        activity.delete_purchase(purchase, 1)


async def test_the_admin_corrects_and_deletes_purchases_from_the_card(admin_session):
    card = make_client()
    older = activity.add_purchase(card.id, JANUARY, "shop", [(None, "Крем", Decimal(1), Decimal(500))])
    newer = activity.add_purchase(card.id, MARCH, "shop", [(None, "Мыло", Decimal(1), Decimal(90))])
    app = CardApp("admin", card.id)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f5")
        await settle(pilot)
        assert t("Enter corrects the purchase under the cursor · Ctrl+R deletes it") in screen_text(app)
        await pilot.press("enter")  # on the newest purchase, the first row
        await settle(pilot)
        assert isinstance(app.screen, PurchaseScreen)
        assert "Мыло" in screen_text(app)
        await pilot.press("tab", "tab", "backspace", "4", "ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, PurchaseScreen)
        assert _stats(admin_session, card.id)[:2] == (2, Decimal("860.00"))
        assert "860" in screen_text(app)

        await pilot.press("ctrl+r")
        await settle(pilot)
        assert t("Delete {what}?", what="").rstrip("?") in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert _stats(admin_session, card.id)[:2] == (1, Decimal("500.00"))
        assert [p.id for p in activity.load_purchases(card.id)] == [older]
    assert _audit(admin_session, "purchase", newer)[-1][1] == "delete"


async def test_a_reader_sees_no_purchase_keys(admin_session):
    card = make_client()
    activity.add_purchase(card.id, JANUARY, "shop", [(None, "Крем", Decimal(1), Decimal(500))])
    bind(admin_session, "sales")
    app = CardApp("sales", card.id)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f5")
        await settle(pilot)
        assert t("Enter corrects the purchase under the cursor · Ctrl+R deletes it") not in screen_text(app)
        await pilot.press("enter", "ctrl+e")
        await settle(pilot)
        assert not isinstance(app.screen, PurchaseScreen)
