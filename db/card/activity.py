"""What happened with a client: purchases with their lines, subscriptions, interactions and reminders.

Loaders run inside the card's read transaction (see cards.load_card), one query per kind, never one per
row. Each `add_*` is its own small transaction: a purchase is recorded when it is entered, not when the
card is saved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from db.card.tx import reading, writing
from db.errors import UserError, ValidationError
from db.models import database

# The card shows the latest ones; a client with more is rare and the rest stay in the database.
SHOWN = 200
INTERACTION_KINDS = ("call", "meeting", "email", "sms", "note")

# Each relies on the (client_id, ...) index of its table named in 0001_schema.sql: purchase_client_date,
# purchase_line_purchase, subscription_client, interaction_client, reminder_client.
PURCHASES_SQL = """
SELECT p.id, p.purchased_at, p.channel, p.amount, p.cost, p.note,
       coalesce(json_agg(json_build_array(l.product_id, coalesce(nullif(l.description, ''), pr.name, ''),
                                          l.quantity, l.price) ORDER BY l.id) FILTER (WHERE l.id IS NOT NULL), '[]')
  FROM (SELECT * FROM purchase WHERE client_id = %s ORDER BY purchased_at DESC LIMIT %s) p
  LEFT JOIN purchase_line l ON l.purchase_id = p.id
  LEFT JOIN product pr ON pr.id = l.product_id
 GROUP BY p.id, p.purchased_at, p.channel, p.amount, p.cost, p.note
 ORDER BY p.purchased_at DESC
"""
FAVOURITES_SQL = """
SELECT coalesce(pr.name, nullif(l.description, ''), '?'), sum(l.quantity), count(DISTINCT p.id)
  FROM purchase p JOIN purchase_line l ON l.purchase_id = p.id
  LEFT JOIN product pr ON pr.id = l.product_id
 WHERE p.client_id = %s
 GROUP BY 1 ORDER BY 3 DESC, 2 DESC, 1 LIMIT %s
"""
SUBSCRIPTIONS_SQL = """
SELECT s.id, coalesce(pr.name, ''), s.starts_on, s.ends_on, s.note
  FROM subscription s LEFT JOIN product pr ON pr.id = s.product_id
 WHERE s.client_id = %s ORDER BY s.ends_on DESC, s.id
"""
INTERACTIONS_SQL = """
SELECT id, kind, happened_at, author, text, outcome FROM interaction
 WHERE client_id = %s ORDER BY happened_at DESC, id DESC LIMIT %s
"""
REMINDERS_SQL = """
SELECT id, due_on, text, coalesce(assignee, ''), done, done_at FROM reminder
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
    rows = database.execute_sql(PURCHASES_SQL, (client_id, SHOWN)).fetchall()
    return tuple(
        Purchase(row[0], row[1], row[2], row[3], row[4], row[5],
                 tuple(PurchaseLine(line[0], line[1], Decimal(str(line[2])), Decimal(str(line[3])))
                       for line in row[6]))
        for row in rows)


def load_favourites(client_id: int, limit: int = 5) -> tuple[Favourite, ...]:
    rows = database.execute_sql(FAVOURITES_SQL, (client_id, limit)).fetchall()
    return tuple(Favourite(*row) for row in rows)


def load_subscriptions(client_id: int) -> tuple[Subscription, ...]:
    rows = database.execute_sql(SUBSCRIPTIONS_SQL, (client_id,)).fetchall()
    return tuple(Subscription(*row) for row in rows)


def load_interactions(client_id: int) -> tuple[Interaction, ...]:
    rows = database.execute_sql(INTERACTIONS_SQL, (client_id, SHOWN)).fetchall()
    return tuple(Interaction(*row) for row in rows)


def load_reminders(client_id: int) -> tuple[Reminder, ...]:
    rows = database.execute_sql(REMINDERS_SQL, (client_id, SHOWN)).fetchall()
    return tuple(Reminder(*row) for row in rows)


def products() -> list[Product]:
    with reading():
        rows = database.execute_sql(
            "SELECT id, name, price, subscription_days FROM product WHERE active ORDER BY name").fetchall()
    return [Product(*row) for row in rows]


def add_purchase(client_id: int, purchased_at: datetime, channel: str,
                 lines: list[tuple[int | None, str, Decimal, Decimal]], note: str = "") -> int:
    """Records a purchase; `lines` are (product id, description, quantity, unit price). Products that
    are passes start a subscription, as the demo data and the triggers expect."""
    if not lines:
        raise ValidationError("lines", "card.valid.no_lines")
    for _, _description, quantity, price in lines:
        if quantity <= 0:
            raise ValidationError("quantity", "card.valid.quantity")
        if price < 0:
            raise ValidationError("price", "card.valid.price")
    amount = sum((quantity * price for _, _, quantity, price in lines), Decimal(0)).quantize(Decimal("0.01"))
    with writing():
        purchase_id = database.execute_sql(
            "INSERT INTO purchase (client_id, purchased_at, channel, amount, note) VALUES (%s, %s, %s, %s, %s) "
            "RETURNING id", (client_id, purchased_at, channel.strip() or "shop", amount, note)).fetchone()[0]
        for product_id, description, quantity, price in lines:
            database.execute_sql(
                "INSERT INTO purchase_line (purchase_id, product_id, description, quantity, price, cost) "
                "SELECT %s, %s, %s, %s, %s, (SELECT cost FROM product WHERE id = %s) * %s",
                (purchase_id, product_id, description, quantity, price, product_id, quantity))
        database.execute_sql(
            "UPDATE purchase SET cost = (SELECT sum(cost) FROM purchase_line WHERE purchase_id = %s) WHERE id = %s",
            (purchase_id, purchase_id))
        database.execute_sql(
            """
            INSERT INTO subscription (client_id, product_id, purchase_id, starts_on, ends_on)
            SELECT %s, pr.id, %s, %s::date, %s::date + pr.subscription_days
              FROM purchase_line l JOIN product pr ON pr.id = l.product_id
             WHERE l.purchase_id = %s AND pr.subscription_days IS NOT NULL
            """, (client_id, purchase_id, purchased_at, purchased_at, purchase_id))
    return purchase_id


def add_subscription(client_id: int, product_id: int | None, starts_on: date, ends_on: date,
                     note: str = "") -> int:
    if ends_on < starts_on:
        raise ValidationError("ends_on", "card.valid.ends_before")
    with writing():
        return database.execute_sql(
            "INSERT INTO subscription (client_id, product_id, starts_on, ends_on, note) "
            "VALUES (%s, %s, %s, %s, %s) RETURNING id",
            (client_id, product_id, starts_on, ends_on, note)).fetchone()[0]


def add_interaction(client_id: int, kind: str, text: str, outcome: str = "",
                    happened_at: datetime | None = None) -> int:
    if kind not in INTERACTION_KINDS:
        raise ValidationError("kind", "card.valid.interaction_kind")
    if not text.strip():
        raise ValidationError("text", "valid.empty")
    with writing():
        return database.execute_sql(
            "INSERT INTO interaction (client_id, kind, happened_at, text, outcome) "
            "VALUES (%s, %s, coalesce(%s, now()), %s, %s) RETURNING id",
            (client_id, kind, happened_at, text.strip(), outcome.strip())).fetchone()[0]


def add_reminder(client_id: int, due_on: date, text: str, assignee: str = "") -> int:
    if not text.strip():
        raise ValidationError("text", "valid.empty")
    with writing():
        return database.execute_sql(
            "INSERT INTO reminder (client_id, due_on, text, assignee) VALUES (%s, %s, %s, nullif(%s, '')) "
            "RETURNING id", (client_id, due_on, text.strip(), assignee.strip())).fetchone()[0]


def set_reminder_done(reminder_id: int, done: bool = True) -> None:
    with writing():
        cursor = database.execute_sql(
            "UPDATE reminder SET done = %s, done_at = CASE WHEN %s THEN now() END WHERE id = %s",
            (done, done, reminder_id))
        if cursor.rowcount == 0:
            raise UserError("card.gone")
