"""The product catalogue (issue 16): written by the administrator, read by everyone, used by "add purchase"."""

from __future__ import annotations

from decimal import Decimal

import pytest
from textual.widgets import Input, Select

from db import session
from db.admin import products
from db.admin.products import ProductDraft
from db.errors import UserError, ValidationError
from db.i18n import t
from screens.admin.products import ProductsScreen
from screens.card.purchase import LineRow, PurchaseScreen
from tests.card_helpers import CardApp, make_client
from tests.pilot import screen_text, settle
from tests.test_roles import _allowed
from tui.app import ClientbaseApp


def test_products_are_created_changed_retired_and_audited(admin_session):
    made = products.save_product(None, ProductDraft("Абонемент на месяц", "Абонементы", "3 000,00", "500", "30"))
    (product,) = products.list_products()
    assert (product.name, product.price, product.cost, product.subscription_days, product.active) == (
        "Абонемент на месяц", Decimal("3000.00"), Decimal("500.00"), 30, True)
    products.save_product(product, ProductDraft("Абонемент на месяц", "Абонементы", "3200", "", ""))
    (changed,) = products.list_products()
    assert (changed.price, changed.cost, changed.subscription_days) == (Decimal("3200.00"), None, None)
    with pytest.raises(UserError):
        products.save_product(product, ProductDraft("Старое", "", "1", "", ""))  # a stale version
    products.set_active(changed, False)
    assert products.list_products()[0].active is False
    with admin_session.connect(autocommit=True) as conn:
        actions = [row[0] for row in conn.execute(
            "SELECT action FROM audit_log WHERE table_name = 'product' AND row_id = %s ORDER BY id", (str(made),))]
    assert actions == ["insert", "update", "update"]


@pytest.mark.parametrize("draft, field", [
    (ProductDraft("", "", "1"), "name"),
    (ProductDraft("Крем", "", ""), "price"),
    (ProductDraft("Крем", "", "abc"), "price"),
    (ProductDraft("Крем", "", "10", "-1"), "cost"),
    (ProductDraft("Крем", "", "10", "", "0"), "subscription_days"),
])
def test_a_wrong_value_is_said_for_its_field(admin_session, draft, field):
    with pytest.raises(ValidationError) as refused:
        products.save_product(None, draft)
    assert refused.value.field == field
    assert products.list_products() == []


@pytest.mark.parametrize("role", ["manager", "sales"])
def test_readers_read_the_catalogue_and_the_database_refuses_their_writes(admin_session, role):
    products.save_product(None, ProductDraft("Крем", "", "10"))
    with admin_session.connect(role, autocommit=True) as conn:
        assert _allowed(conn, "SELECT * FROM product")
        assert not _allowed(conn, "INSERT INTO product (name, price) VALUES ('x', 1)")
        assert not _allowed(conn, "UPDATE product SET price = 1")
    session.bind(admin_session.target(role))
    assert [p.name for p in products.list_products()] == ["Крем"]
    with pytest.raises(UserError):
        products.save_product(None, ProductDraft("Мыло", "", "5"))


def _app(db, role: str) -> ClientbaseApp:
    target = db.target(role)
    session.bind(target)
    return ClientbaseApp(target, session.identity(target), listen=False)


async def test_the_admin_adds_a_product_from_the_clients_list(admin_session):
    make_client()
    app = _app(admin_session, "admin")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("tab", "p")
        await settle(pilot)
        assert isinstance(app.screen, ProductsScreen)
        assert t("Save") in screen_text(app)
        await pilot.press("ctrl+n", *"Крем для рук", "tab", *"Уход", "tab", *"450", "tab", *"120", "ctrl+s")
        await settle(pilot)
        assert "Крем для рук" in screen_text(app)
        (product,) = products.list_products()
        assert (product.name, product.category, product.price, product.cost) == (
            "Крем для рук", "Уход", Decimal("450.00"), Decimal("120.00"))
        await pilot.press("ctrl+n", *"Без цены", "ctrl+s")
        await settle(pilot)
        assert t("This field is required.") in screen_text(app)
        assert len(products.list_products()) == 1
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, ProductsScreen)


async def test_a_salesperson_reads_the_catalogue_without_write_keys(admin_session):
    products.save_product(None, ProductDraft("Крем", "", "10"))
    make_client()
    app = _app(admin_session, "sales")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("tab", "p")
        await settle(pilot)
        assert isinstance(app.screen, ProductsScreen)
        text = screen_text(app)
        assert "Крем" in text and f"^s {t('Save')}" not in text and t("New product") not in text
        assert app.screen.query_one("#product-name", Input).disabled
        await pilot.press("ctrl+n", "ctrl+s")
        await settle(pilot)
        assert len(products.list_products()) == 1


async def test_picking_a_product_in_add_purchase_fills_its_price_and_the_cost_follows(admin_session):
    products.save_product(None, ProductDraft("Крем", "", "450", "120"))
    card = make_client()
    app = CardApp("admin", card.id)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f5", "ctrl+n")
        await settle(pilot)
        assert isinstance(app.screen, PurchaseScreen)
        await pilot.press("enter", "down", "enter")
        await settle(pilot)
        row = app.screen.query_one(LineRow)
        assert row.query_one(".product", Select).value is not Select.NULL
        assert row.query_one(".price", Input).value == "450.00"
        await pilot.press("ctrl+s")
        await settle(pilot)
    with admin_session.connect(autocommit=True) as conn:
        assert conn.execute("SELECT amount, cost FROM purchase WHERE client_id = %s", (card.id,)).fetchone() == (
            Decimal("450.00"), Decimal("120.00"))


async def test_the_catalogue_reads_with_no_color(admin_session, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    products.save_product(None, ProductDraft("Абонемент", "Залы", "3000", "500", "30"))
    make_client()
    app = _app(admin_session, "admin")
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.no_color
        await settle(pilot)
        await pilot.press("tab", "p")
        await settle(pilot)
        text = screen_text(app)
        assert "Абонемент" in text and "Залы" in text and "30" in text
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert products.list_products()[0].active is False
        assert t("no") in screen_text(app)
