"""Drill-downs: each number of the dashboard names the clients behind it as a filter of the clients list.

The filters are registered in the list's `EXTRA_FILTERS` hook under the names below, so that a drill-down
is an ordinary `Filters(extra=((name, value),))`, shown among the active filters and savable as a segment.
Each reads the current run's slot of analytics_client (primary key slot, client_id).
"""

from __future__ import annotations

from db.analytics.dashboard import CURRENT_SLOT_SQL
from db.clients import listing

_IN_CURRENT = "c.id IN (SELECT a.client_id FROM analytics_client a WHERE a.slot = " + CURRENT_SLOT_SQL + " AND {})"
# The published run's time zone and the end of its analysis date, as its refresh took them: a month and the
# 90 days of a cohort are the shop's calendar days, and a purchase after the analysis date was not counted.
_RUN_TZ = "(SELECT time_zone FROM analytics_run WHERE published ORDER BY id DESC LIMIT 1)"
_CUTOFF = ("(((SELECT as_of FROM analytics_run WHERE published ORDER BY id DESC LIMIT 1) + 1)::timestamp"
           " AT TIME ZONE " + _RUN_TZ + ")")


def _equals(column: str):
    def build(value: str) -> tuple[str, list]:
        return _IN_CURRENT.format(f"a.{column} = %s"), [value]
    return build


def _rf_cell(value: str) -> tuple[str, list]:
    r_score, f_score = (int(part) for part in value.split(","))
    return _IN_CURRENT.format("a.r_score = %s AND a.f_score = %s"), [r_score, f_score]


def _moved(previous: str, current: str):
    def build(value: str) -> tuple[str, list]:
        before, after = value.split(">", 1)
        return _IN_CURRENT.format(f"a.{previous} = %s AND a.{current} = %s"), [before, after]
    return build


def _category(value: str) -> tuple[str, list]:
    # "all" and "buyer" are the totals of the dashboard's status line: every client the run analysed (a client
    # added since is in no slot yet), and those of them with a purchase.
    condition = {"prospect": "a.f = 0", "one-time": "a.f = 1", "regular": "a.f > 1", "buyer": "a.f > 0",
                 "all": "true"}[value]
    return _IN_CURRENT.format(condition), []


def _clv_bucket(value: str) -> tuple[str, list]:
    return _IN_CURRENT.format(
        "EXISTS (SELECT 1 FROM analytics_clv_bucket b WHERE b.slot = a.slot AND b.bucket = %s"
        " AND a.expected_value_12m >= b.low"
        " AND (a.expected_value_12m < b.high OR (b.bucket = (SELECT max(bucket) FROM analytics_clv_bucket m"
        "      WHERE m.slot = a.slot) AND a.expected_value_12m <= b.high)))"), [int(value)]


def _pareto(value: str) -> tuple[str, list]:
    """The top clients by period revenue behind the Pareto point `value`: the first ceil(value % of n)."""
    return ("c.id IN (SELECT ranked.client_id FROM (SELECT a.client_id,"
            " row_number() OVER (ORDER BY a.revenue DESC, a.client_id) AS rn, count(*) OVER () AS n"
            " FROM analytics_client a WHERE a.slot = " + CURRENT_SLOT_SQL + " AND a.revenue > 0) ranked"
            " WHERE (ranked.rn - 1) * 100 < %s * ranked.n)"), [int(value)]


def _cohort(value: str) -> tuple[str, list]:
    """New clients of a month, YYYY-MM."""
    return _IN_CURRENT.format("date_trunc('month', a.first_day) = to_date(%s, 'YYYY-MM')"), [value]


def _month(value: str) -> tuple[str, list]:
    """The clients behind a month's revenue, YYYY-MM: every client with a purchase or a refund in it, as the
    refresh sums them (a range of the purchase_date index per month); a zero amount (the demo's returned
    orders) adds nothing to the revenue and is left out."""
    starts = "(to_date(%s, 'YYYY-MM')::timestamp AT TIME ZONE " + _RUN_TZ + ")"
    ends = "least(((to_date(%s, 'YYYY-MM') + interval '1 month') AT TIME ZONE " + _RUN_TZ + "), " + _CUTOFF + ")"
    return (f"c.id IN (SELECT p.client_id FROM purchase p WHERE p.purchased_at >= {starts}"
            f" AND p.purchased_at < {ends} AND p.amount <> 0)"), [value, value]


# Bought again within 90 days, as the refresh counts it: a second purchase moment after the first one, before
# the end of the 90th day after the first purchase's day (purchase_client_date, one probe per cohort member).
_CAME_BACK = ("(SELECT count(DISTINCT p.purchased_at) FROM purchase p WHERE p.client_id = a.client_id"
              " AND p.amount > 0 AND p.purchased_at < " + _CUTOFF +
              " AND p.purchased_at < ((a.first_day + 91)::timestamp AT TIME ZONE " + _RUN_TZ + ")) > 1")


def _cohort_back(came_back: bool):
    def build(value: str) -> tuple[str, list]:
        test = _CAME_BACK if came_back else f"NOT {_CAME_BACK}"
        return _IN_CURRENT.format(f"date_trunc('month', a.first_day) = to_date(%s, 'YYYY-MM') AND {test}"), [value]
    return build


def _top_value(value: str) -> tuple[str, list]:
    """The first `value` clients by expected 12-month value, as the refresh ranked them (analytics_list)."""
    return ("c.id IN (SELECT l.client_id FROM analytics_list l WHERE l.slot = " + CURRENT_SLOT_SQL +
            " AND l.kind = 'top_value' AND l.rank <= %s)"), [int(value)]


def _inactive(value: str) -> tuple[str, list]:
    return _IN_CURRENT.format("a.r_days >= %s"), [int(value)]


FILTERS = {
    "abc_class": _equals("abc_class"),
    "ae_class": _equals("ae_class"),
    "rfm_segment": _equals("rfm_segment"),
    "rfm_cell": _rf_cell,
    "analytics_category": _category,
    "segment_move": _moved("prev_segment", "rfm_segment"),
    "abc_move": _moved("prev_abc_class", "abc_class"),
    "ae_move": _moved("prev_ae_class", "ae_class"),
    "clv_bucket": _clv_bucket,
    "pareto_top": _pareto,
    "cohort": _cohort,
    "cohort_back": _cohort_back(True),
    "cohort_not_back": _cohort_back(False),
    "month_revenue": _month,
    "top_value": _top_value,
    "inactive_days": _inactive,
}


def register() -> None:
    """Makes the drill-down filters known to the clients list (idempotent)."""
    listing.EXTRA_FILTERS.update(FILTERS)


register()
