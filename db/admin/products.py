"""The product catalogue: what the shop sells, at what price and cost, and how long a pass lasts.

Everyone reads it (the card's "add purchase" picks from it); only the administrator writes, as the grants of
0003/0008 say. A product is retired rather than deleted: old purchases keep pointing at it by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from db import rows
from db.card.tx import reading, writing
from db.errors import UserError, ValidationError
from db.i18n import N_
from db.models import database
from db.normalize import parse_amount


@dataclass(frozen=True)
class Product:
    id: int
    name: str
    category: str
    price: Decimal
    cost: Decimal | None
    subscription_days: int | None
    active: bool
    version: int


@dataclass(frozen=True)
class ProductDraft:
    """As typed in the form."""

    name: str
    category: str = ""
    price: str = ""
    cost: str = ""
    subscription_days: str = ""


def list_products() -> list[Product]:
    """Every product, those on sale first, by name (a shop's catalogue is hundreds of rows, not millions)."""
    with reading():
        return rows.all_of(Product, database.execute_sql(
            "SELECT id, name, category, price, cost, subscription_days, active, version FROM product"
            " ORDER BY NOT active, name, id"))


def _money(field: str, text: str, required: bool) -> Decimal | None:
    if not text.strip():
        if required:
            raise ValidationError(field, N_("This field is required."))
        return None
    try:
        value = parse_amount(text)
    except (InvalidOperation, ValueError):
        raise ValidationError(field, N_("Expected a number such as 12 or 12.5.")) from None
    if value < 0:
        raise ValidationError(field, N_("The price cannot be negative."))
    return value.quantize(Decimal("0.01"))


def _clean(draft: ProductDraft) -> tuple[str, str, Decimal | None, Decimal | None, int | None]:
    name = draft.name.strip()
    if not name:
        raise ValidationError("name", N_("This field is required."))
    days_text = draft.subscription_days.strip()
    days = None
    if days_text:
        if not days_text.isdigit() or not 0 < int(days_text) <= 3660:
            raise ValidationError("subscription_days", N_("Expected a number of days from 1 to 3660, or nothing."))
        days = int(days_text)
    return (name, draft.category.strip(), _money("price", draft.price, True), _money("cost", draft.cost, False),
            days)


def save_product(product: Product | None, draft: ProductDraft) -> int:
    """Creates a product (product=None) or changes one, if nobody changed it since it was read."""
    name, category, price, cost, days = _clean(draft)
    with writing():
        if product is None:
            return rows.value(database.execute_sql(
                "INSERT INTO product (name, category, price, cost, subscription_days) VALUES (%s, %s, %s, %s, %s)"
                " RETURNING id", (name, category, price, cost, days)))
        cursor = database.execute_sql(
            "UPDATE product SET name = %s, category = %s, price = %s, cost = %s, subscription_days = %s"
            " WHERE id = %s AND version = %s", (name, category, price, cost, days, product.id, product.version))
        if cursor.rowcount == 0:
            raise UserError(N_("Someone else changed this product meanwhile; the list shows it as it is now."))
        return product.id


def set_active(product: Product, active: bool) -> None:
    """Retires a product from the "add purchase" choices, or puts it back on sale."""
    with writing():
        cursor = database.execute_sql("UPDATE product SET active = %s WHERE id = %s AND version = %s",
                                      (active, product.id, product.version))
        if cursor.rowcount == 0:
            raise UserError(N_("Someone else changed this product meanwhile; the list shows it as it is now."))
