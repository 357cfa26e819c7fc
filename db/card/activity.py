"""What happened with a client: purchases with their lines, subscriptions, interactions and reminders.

Loaders run inside the card's read transaction (see cards.load_card), one query per kind, never one per
row. Each `add_*` is its own small transaction: a purchase is recorded when it is entered, not when the
card is saved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from db import rows
from db.card.tx import reading, writing
from db.errors import UserError, ValidationError
from db.models import database
from db.i18n import N_

# The card shows the latest ones; a client with more is rare and the rest stay in the database.
SHOWN = 200
INTERACTION_KINDS = ("call", "meeting", "email", "sms", "note")

# Each relies on the (client_id, ...) index of its table named in 0001_schema.sql: purchase_client_date,
# purchase_line_purchase, subscription_client, interaction_client, reminder_client.
PURCHASES_SQL = """
SELECT p.id, p.purchased_at, p.channel, p.amount, p.cost, p.note, p.version,
       coalesce(json_agg(json_build_object('product_id', l.product_id,
                                           'description', coalesce(nullif(l.description, ''), pr.name, ''),
                                           'quantity', l.quantity, 'price', l.price)
                         ORDER BY l.id) FILTER (WHERE l.id IS NOT NULL), '[]') AS lines
  FROM (SELECT * FROM purchase WHERE client_id = %s ORDER BY purchased_at DESC LIMIT %s) p
  LEFT JOIN purchase_line l ON l.purchase_id = p.id
  LEFT JOIN product pr ON pr.id = l.product_id
 GROUP BY p.id, p.purchased_at, p.channel, p.amount, p.cost, p.note, p.version
 ORDER BY p.purchased_at DESC
"""
FAVOURITES_SQL = """
SELECT coalesce(pr.name, nullif(l.description, ''), '?') AS product, sum(l.quantity) AS quantity,
       count(DISTINCT p.id) AS times
  FROM purchase p JOIN purchase_line l ON l.purchase_id = p.id
  LEFT JOIN product pr ON pr.id = l.product_id
 WHERE p.client_id = %s
 GROUP BY 1 ORDER BY 3 DESC, 2 DESC, 1 LIMIT %s
"""
SUBSCRIPTIONS_SQL = """
SELECT s.id, coalesce(pr.name, '') AS product, s.starts_on, s.ends_on, s.note
  FROM subscription s LEFT JOIN product pr ON pr.id = s.product_id
 WHERE s.client_id = %s ORDER BY s.ends_on DESC, s.id
"""
INTERACTIONS_SQL = """
SELECT id, kind, happened_at, author, text, outcome FROM interaction
 WHERE client_id = %s ORDER BY happened_at DESC, id DESC LIMIT %s
"""
REMINDERS_SQL = """
SELECT id, due_on, text, coalesce(assignee, '') AS assignee, done, done_at FROM reminder
 WHERE client_id = %s ORDER BY done, due_on, id LIMIT %s
"""


@dataclass(frozen=True)
class PurchaseLine:
    product_id: int | None
    description: str
    quantity: Decimal
    price: Decimal


@dataclass(frozen=True)
class Purchase:
    id: int
    purchased_at: datetime
    channel: str
    amount: Decimal
    cost: Decimal | None
    note: str
    lines: tuple[PurchaseLine, ...]
    version: int = 1

    @property
    def profit(self) -> Decimal | None:
        return None if self.cost is None else self.amount - self.cost


@dataclass(frozen=True)
class Favourite:
    product: str
    quantity: Decimal
    times: int


@dataclass(frozen=True)
class Subscription:
    id: int
    product: str
    starts_on: date
    ends_on: date
    note: str


@dataclass(frozen=True)
class Interaction:
    id: int
    kind: str
    happened_at: datetime
    author: str
    text: str
    outcome: str


@dataclass(frozen=True)
class Reminder:
    id: int
    due_on: date
    text: str
    assignee: str
    done: bool
    done_at: datetime | None


@dataclass(frozen=True)
class Product:
    id: int
    name: str
    price: Decimal
    subscription_days: int | None


def load_purchases(client_id: int) -> tuple[Purchase, ...]:
    """The latest purchases with their lines, in one query (lines aggregated per purchase)."""
    found = rows.dicts(database.execute_sql(PURCHASES_SQL, (client_id, SHOWN)))
    return tuple(
        Purchase(id=row["id"], purchased_at=row["purchased_at"], channel=row["channel"], amount=row["amount"],
                 cost=row["cost"], note=row["note"], version=row["version"],
                 # JSON carries numbers as floats or ints; through str they come back exact.
                 lines=tuple(PurchaseLine(product_id=line["product_id"], description=line["description"],
                                          quantity=Decimal(str(line["quantity"])), price=Decimal(str(line["price"])))
                             for line in row["lines"]))
        for row in found)


def load_favourites(client_id: int, limit: int = 5) -> tuple[Favourite, ...]:
    return tuple(rows.all_of(Favourite, database.execute_sql(FAVOURITES_SQL, (client_id, limit))))


def load_subscriptions(client_id: int) -> tuple[Subscription, ...]:
    return tuple(rows.all_of(Subscription, database.execute_sql(SUBSCRIPTIONS_SQL, (client_id,))))


def load_interactions(client_id: int) -> tuple[Interaction, ...]:
    return tuple(rows.all_of(Interaction, database.execute_sql(INTERACTIONS_SQL, (client_id, SHOWN))))


def load_reminders(client_id: int) -> tuple[Reminder, ...]:
    return tuple(rows.all_of(Reminder, database.execute_sql(REMINDERS_SQL, (client_id, SHOWN))))


def products() -> list[Product]:
    with reading():
        return rows.all_of(Product, database.execute_sql(
            "SELECT id, name, price, subscription_days FROM product WHERE active ORDER BY name"))


def add_purchase(client_id: int, purchased_at: datetime, channel: str,
                 lines: list[tuple[int | None, str, Decimal, Decimal]], note: str = "") -> int:
    """Records a purchase; `lines` are (product id, description, quantity, unit price). Products that
    are passes start a subscription, as the demo data and the triggers expect.

    Negative prices make a refund (migration 0014): every line negative, the goods' cost coming back as a
    negative cost, and no subscription started."""
    amount = _check_lines(lines)
    with writing():
        purchase_id = rows.value(database.execute_sql(
            "INSERT INTO purchase (client_id, purchased_at, channel, amount, note) VALUES (%s, %s, %s, %s, %s) "
            "RETURNING id", (client_id, purchased_at, channel.strip() or "shop", amount, note)))
        _write_lines(purchase_id, lines)
        database.execute_sql(
            """
            INSERT INTO subscription (client_id, product_id, purchase_id, starts_on, ends_on)
            SELECT %s, pr.id, %s, %s::date, %s::date + pr.subscription_days
              FROM purchase_line l JOIN product pr ON pr.id = l.product_id
             WHERE l.purchase_id = %s AND pr.subscription_days IS NOT NULL AND l.price >= 0
            """, (client_id, purchase_id, purchased_at, purchased_at, purchase_id))
    return purchase_id


def _check_lines(lines: list[tuple[int | None, str, Decimal, Decimal]]) -> Decimal:
    """The purchase's amount, once every line is valid: a sale (positive) or a refund (negative)."""
    if not lines:
        raise ValidationError("lines", N_("A purchase needs at least one line."))
    for _, _, quantity, _ in lines:
        if quantity <= 0:
            raise ValidationError("quantity", N_("The quantity must be more than zero."))
    # One row is either a sale or a refund: its amount's sign says which, and its cost follows that sign.
    if len({price < 0 for _, _, _, price in lines}) > 1:
        raise ValidationError("price", N_("A refund has only negative prices; enter a sale and a refund "
                                          "separately."))
    amount = sum((quantity * price for _, _, quantity, price in lines), Decimal(0)).quantize(Decimal("0.01"))
    if amount == 0:
        raise ValidationError("price", N_("The amount is zero: a purchase needs a price, a refund a negative one."))
    return amount


def _write_lines(purchase_id: int, lines: list[tuple[int | None, str, Decimal, Decimal]]) -> None:
    """The lines, each with its product's cost (negative for a refund's goods coming back), and the purchase's
    cost as their sum."""
    returned = -1 if any(price < 0 for _, _, _, price in lines) else 1
    for product_id, description, quantity, price in lines:
        database.execute_sql(
            "INSERT INTO purchase_line (purchase_id, product_id, description, quantity, price, cost) "
            "SELECT %s, %s, %s, %s, %s, (SELECT cost FROM product WHERE id = %s) * %s",
            (purchase_id, product_id, description, quantity, price, product_id, quantity * returned))
    database.execute_sql(
        "UPDATE purchase SET cost = (SELECT sum(cost) FROM purchase_line WHERE purchase_id = %s) WHERE id = %s",
        (purchase_id, purchase_id))


_PURCHASE_CHANGED = N_("Someone else changed or deleted this purchase meanwhile; it is shown again as it is now.")


def update_purchase(purchase_id: int, version: int, purchased_at: datetime, channel: str,
                    lines: list[tuple[int | None, str, Decimal, Decimal]], note: str = "") -> None:
    """Rewrites a purchase and its lines, if nobody changed it since `version` was read. The client's
    statistics follow through the purchase triggers (0001); the audit records the purchase's changed fields
    and its lines as deleted and added."""
    amount = _check_lines(lines)
    with writing():
        cursor = database.execute_sql(
            "UPDATE purchase SET purchased_at = %s, channel = %s, amount = %s, note = %s "
            "WHERE id = %s AND version = %s", (purchased_at, channel.strip() or "shop", amount, note, purchase_id,
                                              version))
        if cursor.rowcount == 0:
            raise UserError(_PURCHASE_CHANGED)
        database.execute_sql("DELETE FROM purchase_line WHERE purchase_id = %s", (purchase_id,))
        _write_lines(purchase_id, lines)


def delete_purchase(purchase_id: int, version: int) -> None:
    """Deletes a purchase with its lines and the subscriptions it started (a refunded pass is no pass)."""
    with writing():
        database.execute_sql("DELETE FROM subscription WHERE purchase_id = %s", (purchase_id,))
        cursor = database.execute_sql("DELETE FROM purchase WHERE id = %s AND version = %s", (purchase_id, version))
        if cursor.rowcount == 0:
            raise UserError(_PURCHASE_CHANGED)


def add_subscription(client_id: int, product_id: int | None, starts_on: date, ends_on: date,
                     note: str = "") -> int:
    if ends_on < starts_on:
        raise ValidationError("ends_on", N_("The end date is before the start date."))
    with writing():
        return rows.value(database.execute_sql(
            "INSERT INTO subscription (client_id, product_id, starts_on, ends_on, note) "
            "VALUES (%s, %s, %s, %s, %s) RETURNING id",
            (client_id, product_id, starts_on, ends_on, note)))


def add_interaction(client_id: int, kind: str, text: str, outcome: str = "",
                    happened_at: datetime | None = None) -> int:
    if kind not in INTERACTION_KINDS:
        raise ValidationError("kind", N_("Unknown kind of interaction."))
    if not text.strip():
        raise ValidationError("text", N_("This field is required."))
    with writing():
        return rows.value(database.execute_sql(
            "INSERT INTO interaction (client_id, kind, happened_at, text, outcome) "
            "VALUES (%s, %s, coalesce(%s, now()), %s, %s) RETURNING id",
            (client_id, kind, happened_at, text.strip(), outcome.strip())))


def add_reminder(client_id: int, due_on: date, text: str, assignee: str = "") -> int:
    if not text.strip():
        raise ValidationError("text", N_("This field is required."))
    with writing():
        return rows.value(database.execute_sql(
            "INSERT INTO reminder (client_id, due_on, text, assignee) VALUES (%s, %s, %s, nullif(%s, '')) "
            "RETURNING id", (client_id, due_on, text.strip(), assignee.strip())))


def set_reminder_done(reminder_id: int, done: bool = True) -> None:
    with writing():
        cursor = database.execute_sql(
            "UPDATE reminder SET done = %s, done_at = CASE WHEN %s THEN now() END WHERE id = %s",
            (done, done, reminder_id))
        if cursor.rowcount == 0:
            raise UserError(N_("This client no longer exists; someone may have deleted or merged it."))
