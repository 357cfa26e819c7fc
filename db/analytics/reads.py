"""The dashboard screen's reads on the app's bound database: db/analytics/dashboard.py (the stored results,
by the analytics issue) takes a psycopg connection, the screens call these without one.

Importing this module registers the drill-down filters (db/analytics/drill.py) in the clients list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import psycopg
from psycopg.rows import class_row

from db import rows
from db.analytics import dashboard, drill
from db.analytics import refresh as refreshing
from db.models import database

drill.register()


@dataclass(frozen=True, slots=True)
class SegmentRule:
    """A line of the RFM map (analytics_segment_rule), which the administrator edits."""

    segment: str
    r_min: int
    r_max: int
    fm_min: Decimal
    fm_max: Decimal


@dataclass(frozen=True)
class DashboardView:
    board: dashboard.Dashboard
    # How many buyers went quiet (the board lists only the head of them, by what they used to spend).
    inactive: int
    # The RFM segments in the map's order, which the admin edits, then the clients outside the grid.
    segment_order: tuple[str, ...]
    # The map as it is now, for the help: the stored segments are those of the map at the last refresh.
    segment_rules: tuple[SegmentRule, ...] = ()


def _segment_rules(conn: psycopg.Connection) -> tuple[SegmentRule, ...]:
    with conn.cursor(row_factory=class_row(SegmentRule)) as cursor:
        return tuple(cursor.execute("SELECT segment, r_min, r_max, fm_min, fm_max FROM analytics_segment_rule"
                                    " ORDER BY position").fetchall())


def _segment_order(conn: psycopg.Connection) -> tuple[str, ...]:
    return tuple(rule.segment for rule in _segment_rules(conn)) + ("Prospects",)


def load_view(conn: psycopg.Connection) -> DashboardView:
    """The last published results; one more count beside them, from the same slot (analytics_client's
    partition of that slot, a sequential scan of r_days: 60 ms on the 1M base)."""
    board = dashboard.load(conn)
    inactive = 0
    if board.run is not None:
        # An aggregate without GROUP BY always returns its row: the_dict says so loudly if that ever breaks,
        # where fetchone() would hand a None on as the count.
        inactive = rows.the_dict(conn.execute(
            "SELECT count(*) AS inactive FROM analytics_client WHERE slot = %s AND f > 0 AND r_days >= %s",
            (board.run.slot, board.inactive_after_days)))["inactive"]
    rules = _segment_rules(conn)
    return DashboardView(board=board, inactive=inactive,
                         segment_order=tuple(rule.segment for rule in rules) + ("Prospects",), segment_rules=rules)


def load_dashboard() -> DashboardView:
    with database.connection_context():
        conn = database.connection()
        view = load_view(conn)
        conn.rollback()
    return view


def segment_names() -> list[str]:
    """The RFM segments a client can be in, in the map's order, then the clients outside the grid."""
    with database.connection_context():
        conn = database.connection()
        order = _segment_order(conn)
        conn.rollback()
    return list(order)


def default_as_of() -> date:
    with database.connection_context():
        return refreshing.default_as_of(database.connection())


def refresh(as_of: date | None, period_days: int, progress: refreshing.Progress) -> refreshing.RefreshResult:
    """The refresh on the bound login's own connection (the database refuses anyone but the administrator)."""
    with database.connection_context():
        return refreshing.refresh(database.connection(), as_of, period_days, progress)
