"""What the dashboard shows, read from the stored results of the last published refresh.

Every read here touches the small aggregate tables or the head of an index on analytics_client, so the
dashboard opens in milliseconds whatever the size of the base (tests/bench_analytics.py measures it).
Functions take a psycopg connection and return frozen dataclasses built by column name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import psycopg
from psycopg.rows import class_row

from db.settings import CATALOGUE

ABC_CLASSES = ("A", "B", "C")
AE_CLASSES = ("A", "B", "C", "D", "E")
MOVEMENT_KINDS = {"segment": "move_segment", "abc": "move_abc", "ae": "move_ae"}

# The published run's slot: readers follow it, so a refresh that is filling the other slot is invisible.
CURRENT_SLOT_SQL = "(SELECT slot FROM analytics_run WHERE published ORDER BY id DESC LIMIT 1)"


@dataclass(frozen=True, slots=True)
class Run:
    id: int
    slot: int
    as_of: date
    period_days: int
    time_zone: str
    computed_at: datetime
    duration_ms: int
    clients: int
    buyers: int
    clv_params: dict | None
    clv_reason: str | None
    inactive_after_days: int | None
    step_ms: dict
    age_seconds: float


@dataclass(frozen=True, slots=True)
class ClassRow:
    """One line of the ABC, A-E or RFM segment table. For segments, revenue and purchases are lifetime
    (RFM's M and F); for ABC and A-E, revenue is the period's."""

    kind: str
    class_: str
    clients: int
    revenue: Decimal
    purchases: int
    share: float
    average_order: Decimal | None


@dataclass(frozen=True, slots=True)
class GridCell:
    r_score: int
    f_score: int
    clients: int


@dataclass(frozen=True, slots=True)
class ParetoPoint:
    point: int
    client_share: float
    revenue_share: float


@dataclass(frozen=True, slots=True)
class MonthRow:
    month: date
    revenue: Decimal
    purchases: int
    new_clients: int
    returned_90d: int

    @property
    def retention(self) -> float | None:
        return self.returned_90d / self.new_clients if self.new_clients else None


@dataclass(frozen=True, slots=True)
class ClvBucket:
    bucket: int
    low: Decimal
    high: Decimal
    clients: int


@dataclass(frozen=True, slots=True)
class ClientValue:
    client_id: int
    name: str
    m: Decimal
    r_days: int | None
    rfm_segment: str
    expected_value_12m: Decimal | None
    expected_purchases_12m: float | None
    p_alive: float | None


@dataclass(frozen=True, slots=True)
class Move:
    from_class: str
    to_class: str
    clients: int


@dataclass(frozen=True, slots=True)
class Dashboard:
    run: Run | None
    abc: list[ClassRow]
    ae: list[ClassRow]
    segments: list[ClassRow]
    categories: list[ClassRow]
    grid: list[GridCell]
    pareto: list[ParetoPoint]
    months: list[MonthRow]
    clv: list[ClvBucket]
    top_clients: list[ClientValue]
    inactive: list[ClientValue]
    inactive_after_days: int
    movement: dict[str, list[Move]]

    @property
    def empty(self) -> bool:
        return self.run is None or self.run.clients == 0

    @property
    def regulars_share(self) -> float | None:
        buyers = sum(row.clients for row in self.categories if row.class_ != "prospect")
        regular = sum(row.clients for row in self.categories if row.class_ == "regular")
        return regular / buyers if buyers else None


def current_run(conn: psycopg.Connection) -> Run | None:
    with conn.cursor(row_factory=class_row(Run)) as cursor:
        return cursor.execute(
            "SELECT id, slot, as_of, period_days, time_zone, computed_at, duration_ms, clients, buyers,"
            "       clv_params, clv_reason, inactive_after_days, step_ms,"
            "       extract(epoch FROM now() - computed_at)::float8 AS age_seconds"
            "  FROM analytics_run WHERE published ORDER BY id DESC LIMIT 1").fetchone()


def class_table(conn: psycopg.Connection, run: Run, kind: str) -> list[ClassRow]:
    """Per class of `kind` ('abc', 'ae', 'segment', 'category'): clients, revenue, its share, average order."""
    with conn.cursor(row_factory=class_row(ClassRow)) as cursor:
        return cursor.execute(
            "SELECT kind, class AS class_, clients, revenue, purchases,"
            "       coalesce(revenue / nullif(sum(greatest(revenue, 0)) OVER (), 0), 0)::float8 AS share,"
            "       round(revenue / nullif(purchases, 0), 2) AS average_order"
            "  FROM analytics_class WHERE slot = %s AND kind = %s ORDER BY class",
            (run.slot, kind)).fetchall()


def rf_grid(conn: psycopg.Connection, run: Run) -> list[GridCell]:
    with conn.cursor(row_factory=class_row(GridCell)) as cursor:
        return cursor.execute(
            "SELECT split_part(class, ',', 1)::int AS r_score, split_part(class, ',', 2)::int AS f_score, clients"
            "  FROM analytics_class WHERE slot = %s AND kind = 'rf' ORDER BY 1, 2", (run.slot,)).fetchall()


def pareto(conn: psycopg.Connection, run: Run) -> list[ParetoPoint]:
    with conn.cursor(row_factory=class_row(ParetoPoint)) as cursor:
        return cursor.execute("SELECT point, client_share, revenue_share FROM analytics_pareto"
                              " WHERE slot = %s ORDER BY point", (run.slot,)).fetchall()


def months(conn: psycopg.Connection, run: Run) -> list[MonthRow]:
    with conn.cursor(row_factory=class_row(MonthRow)) as cursor:
        return cursor.execute("SELECT month, revenue, purchases, new_clients, returned_90d FROM analytics_month"
                              " WHERE slot = %s ORDER BY month", (run.slot,)).fetchall()


def clv_distribution(conn: psycopg.Connection, run: Run) -> list[ClvBucket]:
    with conn.cursor(row_factory=class_row(ClvBucket)) as cursor:
        return cursor.execute("SELECT bucket, low, high, clients FROM analytics_clv_bucket"
                              " WHERE slot = %s ORDER BY bucket", (run.slot,)).fetchall()


_LIST_SQL = (
    "SELECT a.client_id, concat_ws(' ', nullif(c.last_name, ''), nullif(c.first_name, '')) AS name, a.m, a.r_days,"
    "       a.rfm_segment, a.expected_value_12m, a.expected_purchases_12m, a.p_alive"
    "  FROM analytics_list l"
    "  JOIN analytics_client a ON a.slot = l.slot AND a.client_id = l.client_id"
    "  JOIN client c ON c.id = a.client_id"
    " WHERE l.slot = %s AND l.kind = %s AND l.rank <= %s ORDER BY l.rank"
)


def top_clients(conn: psycopg.Connection, run: Run, limit: int = 20) -> list[ClientValue]:
    """The clients with the highest expected 12-month value, as the refresh ranked them."""
    with conn.cursor(row_factory=class_row(ClientValue)) as cursor:
        return cursor.execute(_LIST_SQL, (run.slot, "top_value", limit)).fetchall()


def inactive_after_days(conn: psycopg.Connection) -> int:
    row = conn.execute("SELECT value FROM settings WHERE key = 'inactive_after_days'").fetchone()
    return int(row[0] if row else CATALOGUE["inactive_after_days"].default)


def inactive_clients(conn: psycopg.Connection, run: Run, limit: int = 50) -> list[ClientValue]:
    """The reactivation list: buyers with no purchase for the run's `inactive_after_days`, by what they used
    to spend. A change of the setting shows at the next refresh."""
    with conn.cursor(row_factory=class_row(ClientValue)) as cursor:
        return cursor.execute(_LIST_SQL, (run.slot, "inactive", limit)).fetchall()


def movement(conn: psycopg.Connection, run: Run, kind: str) -> list[Move]:
    """How many clients went from each class of the previous refresh to each class of this one."""
    with conn.cursor(row_factory=class_row(Move)) as cursor:
        return cursor.execute(
            "SELECT split_part(class, '>', 1) AS from_class, split_part(class, '>', 2) AS to_class, clients"
            "  FROM analytics_class WHERE slot = %s AND kind = %s ORDER BY 1, 2",
            (run.slot, MOVEMENT_KINDS[kind])).fetchall()


def load(conn: psycopg.Connection) -> Dashboard:
    """Everything the dashboard shows. All of it comes from the slot of the run read first: a refresh fills
    the other slot, so a refresh finishing meanwhile changes nothing that is read here."""
    with conn.transaction():
        run = current_run(conn)
        if run is None:
            return Dashboard(None, [], [], [], [], [], [], [], [], [], [], inactive_after_days(conn), {})
        days = run.inactive_after_days if run.inactive_after_days is not None else inactive_after_days(conn)
        return Dashboard(
            run=run, abc=class_table(conn, run, "abc"), ae=class_table(conn, run, "ae"),
            segments=class_table(conn, run, "segment"), categories=class_table(conn, run, "category"),
            grid=rf_grid(conn, run), pareto=pareto(conn, run), months=months(conn, run),
            clv=clv_distribution(conn, run), top_clients=top_clients(conn, run),
            inactive=inactive_clients(conn, run), inactive_after_days=days,
            movement={kind: movement(conn, run, kind) for kind in MOVEMENT_KINDS})
