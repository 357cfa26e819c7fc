"""What the dashboard reads: the stored results of the last published refresh (db/analytics/refresh.py), and
the conditions that pick the clients behind any of its numbers for the clients list.

Everything comes from the few hundred aggregate rows of one slot, plus two heads of per-client indexes (top
clients by expected value, analytics_client_value) and one count (the inactive clients), so the dashboard
opens in a few milliseconds whatever the size of the base; tests/bench_dashboard.py times it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Callable

from psycopg.rows import class_row

from db.analytics import refresh as refreshing
from db.models import database
from db.settings import CATALOGUE

# The slot readers follow (migration 0011): that of the latest published run, NULL (no row matches) before
# the first refresh. analytics_run_published keeps it one index probe.
CURRENT_SLOT = "(SELECT slot FROM analytics_run WHERE published ORDER BY id DESC LIMIT 1)"
TOP_CLIENTS = 10


@dataclass(frozen=True, slots=True)
class Run:
    id: int
    as_of: date
    period_days: int
    time_zone: str
    computed_at: datetime
    duration_ms: int
    clients: int
    buyers: int
    clv_reason: str | None
    # How old the results are, by the database's clock (the terminal's may differ).
    age_seconds: float


@dataclass(frozen=True, slots=True)
class ClassRow:
    kind: str
    name: str
    clients: int
    revenue: Decimal
    purchases: int


@dataclass(frozen=True, slots=True)
class ParetoPoint:
    point: int
    client_share: float
    revenue_share: float


@dataclass(frozen=True, slots=True)
class Month:
    month: date
    revenue: Decimal
    purchases: int
    new_clients: int
    returned_90d: int


@dataclass(frozen=True, slots=True)
class ClvBucket:
    bucket: int
    low: Decimal
    high: Decimal
    clients: int


@dataclass(frozen=True, slots=True)
class TopClient:
    client_id: int
    name: str
    expected_value_12m: Decimal
    expected_purchases_12m: float
    p_alive: float


@dataclass(frozen=True)
class Dashboard:
    run: Run | None
    classes: tuple[ClassRow, ...] = ()
    pareto: tuple[ParetoPoint, ...] = ()
    months: tuple[Month, ...] = ()
    clv_buckets: tuple[ClvBucket, ...] = ()
    top_clients: tuple[TopClient, ...] = ()
    inactive_days: int = 0
    inactive: int = 0
    segment_order: tuple[str, ...] = ()

    def of_kind(self, kind: str) -> tuple[ClassRow, ...]:
        return tuple(row for row in self.classes if row.kind == kind)


_RUN_SQL = """
SELECT id, as_of, period_days, time_zone, computed_at, duration_ms, clients, buyers, clv_reason,
       extract(epoch FROM now() - computed_at)::float8 AS age_seconds
  FROM analytics_run WHERE published ORDER BY id DESC LIMIT 1
"""

# analytics_client_value: the head of (slot, expected_value_12m DESC NULLS LAST, client_id).
_TOP_SQL = """
SELECT a.client_id,
       coalesce(nullif(concat_ws(' ', c.last_name, c.first_name, c.middle_name), ''),
                (SELECT name FROM company WHERE id = c.company_id), '#' || c.id) AS name,
       a.expected_value_12m, a.expected_purchases_12m, a.p_alive
  FROM analytics_client a JOIN client c ON c.id = a.client_id
 WHERE a.slot = %(slot)s AND a.expected_value_12m IS NOT NULL
 ORDER BY a.expected_value_12m DESC NULLS LAST, a.client_id
 LIMIT %(top)s
"""


def _rows(cls: type, sql: str, params: dict | None = None) -> tuple:
    with database.connection().cursor(row_factory=class_row(cls)) as cursor:
        return tuple(cursor.execute(sql, params).fetchall())


def inactive_after_days() -> int:
    row = database.execute_sql("SELECT value FROM settings WHERE key = 'inactive_after_days'").fetchone()
    return int(row[0] if row else CATALOGUE["inactive_after_days"].default)


def load_dashboard(top: int = TOP_CLIENTS) -> Dashboard:
    """The last published results, read in one transaction so that a refresh publishing meanwhile cannot
    mix two runs; Dashboard(run=None) before the first refresh."""
    with database.connection_context(), database.atomic():
        database.execute_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        runs = _rows(Run, _RUN_SQL)
        if not runs:
            return Dashboard(run=None)
        run = runs[0]
        slot = database.execute_sql(f"SELECT {CURRENT_SLOT}").fetchone()[0]
        values = {"slot": slot, "top": top}
        days = inactive_after_days()
        inactive = database.execute_sql(
            "SELECT count(*) FROM analytics_client WHERE slot = %s AND f > 0 AND r_days >= %s",
            (slot, days)).fetchone()[0]
        order = tuple(name for (name,) in database.execute_sql(
            "SELECT segment FROM analytics_segment_rule ORDER BY position").fetchall())
        return Dashboard(
            run=run,
            classes=_rows(ClassRow, "SELECT kind, class AS name, clients, revenue, purchases FROM analytics_class"
                                    " WHERE slot = %(slot)s ORDER BY kind, class", values),
            pareto=_rows(ParetoPoint, "SELECT point, client_share, revenue_share FROM analytics_pareto"
                                      " WHERE slot = %(slot)s ORDER BY point", values),
            months=_rows(Month, "SELECT month, revenue, purchases, new_clients, returned_90d FROM analytics_month"
                                " WHERE slot = %(slot)s ORDER BY month", values),
            clv_buckets=_rows(ClvBucket, "SELECT bucket, low, high, clients FROM analytics_clv_bucket"
                                         " WHERE slot = %(slot)s ORDER BY bucket", values),
            top_clients=_rows(TopClient, _TOP_SQL, values),
            inactive_days=days, inactive=inactive, segment_order=order)


def segment_names() -> list[str]:
    """The RFM segments a client can be in, in the map's order, then the clients outside the grid."""
    with database.connection_context():
        rows = database.execute_sql("SELECT segment FROM analytics_segment_rule ORDER BY position").fetchall()
    return [name for (name,) in rows] + ["Prospects"]


def default_as_of() -> date:
    with database.connection_context():
        return refreshing.default_as_of(database.connection())


def refresh(as_of: date | None, period_days: int, progress: refreshing.Progress) -> refreshing.RefreshResult:
    """The refresh on the bound login's own connection (the database refuses anyone but the administrator)."""
    with database.connection_context():
        return refreshing.refresh(database.connection(), as_of, period_days, progress)


# --- the clients behind a number -------------------------------------------------------------------------
#
# Each condition is over `client c` (db/clients/listing.py) and reads the current slot, so a saved segment
# made from a drill-down follows the latest refresh. A client added after the refresh is in no class yet.


def in_current_run(condition: str) -> str:
    """SQL over `client c`: the client is in the current results and `condition` (over `a`) holds there."""
    return (f"c.id IN (SELECT a.client_id FROM analytics_client a"
            f" WHERE a.slot = {CURRENT_SLOT} AND {condition})")


def _rf_cell(value: str) -> tuple[str, list]:
    r_score, f_score = (int(part) for part in value.split(","))
    return in_current_run("a.r_score = %s AND a.f_score = %s"), [r_score, f_score]


def _movement(column: str, previous: str) -> Callable[[str], tuple[str, list]]:
    def condition(value: str) -> tuple[str, list]:
        before, after = value.split(">", 1)
        return in_current_run(f"a.{previous} = %s AND a.{column} = %s"), [before, after]

    return condition


def _cohort(value: str) -> tuple[str, list]:
    first = date.fromisoformat(value + "-01")
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return in_current_run("a.first_day >= %s AND a.first_day < %s"), [first, following]


def _category(value: str) -> tuple[str, list]:
    bought = {"prospect": "a.f = 0", "one-time": "a.f = 1", "regular": "a.f >= 2"}[value]
    return in_current_run(bought), []


def _inactive(value: str) -> tuple[str, list]:
    return in_current_run("a.f > 0 AND a.r_days >= %s"), [int(value)]


def _clv_range(value: str) -> tuple[str, list]:
    # "low..high" is [low, high); "low.." (the last bucket) has no upper end.
    low, high = value.split("..")
    if not high:
        return in_current_run("a.expected_value_12m >= %s"), [Decimal(low)]
    return in_current_run("a.expected_value_12m >= %s AND a.expected_value_12m < %s"), [Decimal(low), Decimal(high)]


def _pareto_top(value: str) -> tuple[str, list]:
    # The clients of a point of analytics_pareto: the first ceil(p * n / 100) by period revenue, in its order.
    sql = (f"c.id IN (SELECT ranked.client_id FROM (SELECT a.client_id,"
           f" row_number() OVER (ORDER BY a.revenue DESC, a.client_id) AS rn, count(*) OVER () AS n"
           f" FROM analytics_client a WHERE a.slot = {CURRENT_SLOT} AND a.revenue > 0) ranked"
           f" WHERE ranked.rn <= ceil(%s * ranked.n / 100.0))")
    return sql, [int(value)]


def _client(value: str) -> tuple[str, list]:
    return "c.id = %s", [int(value)]


# Registered in db/clients/listing.EXTRA_FILTERS; the names are those of Filters.extra pairs.
DRILL_FILTERS: dict[str, Callable[[str], tuple[str, list]]] = {
    "rf_cell": _rf_cell,
    "move_segment": _movement("rfm_segment", "prev_segment"),
    "move_abc": _movement("abc_class", "prev_abc_class"),
    "move_ae": _movement("ae_class", "prev_ae_class"),
    "cohort": _cohort,
    "bought": _category,
    "inactive_days": _inactive,
    "clv_range": _clv_range,
    "pareto_top": _pareto_top,
    "client": _client,
}
