"""Recomputes the analytics inside PostgreSQL and publishes them in one small step.

Definitions (the dashboard's help quotes them; tests/test_analytics.py checks them by hand and in Python):

Days are calendar days in the shop's `timezone` setting: a purchase at 23:30 Moscow time on 5 March is a
5 March purchase. The analysis date `as_of` is included; the period is the `period_days` days ending with it.

RFM, over each client's whole history up to the analysis date:
    R = days from the last purchase to the analysis date, F = number of purchases, M = total amount.
    A refund (negative amount) counts toward M, not F, and is not a "last purchase"; nor is a zero amount
    (the demo's returned orders). A client with no purchase (or refunds only) has F = 0 and is a "Prospect",
    outside the RFM grid.
    Scores are by value thresholds: t1..t4 are the 20th, 40th, 60th and 80th percentiles (percentile_disc,
    i.e. values that occur) of R, F and M over the buyers. F score = 1 + the number of thresholds F is
    strictly above; M likewise; R score = 5 - the number of thresholds R is strictly above. Equal values
    always get equal scores, however many clients share them (most clients share F = 1).
    Segment: the first rule of analytics_segment_rule, by position, whose R range holds the R score and
    whose F+M range holds the mean of the F and M scores.

ABC by revenue in the period: clients sorted by revenue, descending, ties by client id. A client is A while
    the revenue of the clients before it is under 80 % of the total, B while under 95 %, otherwise C.
    A client with no revenue in the period (or a negative one) is C.

A-E by profitability and potential:
    E: the profit in the period (amount - cost) is negative.
    The others get a score: profit in the period + expected profit of the next 12 months, which is the
    expected 12-month value (CLV) times the client's lifetime margin (profit / revenue, clipped to 0..1);
    without a reliable CLV the expected part is 0. With q1, q2, q3 the 25th, 50th and 75th percentiles
    (percentile_disc) of that score over the non-E clients: A if the score is above q3, B above q2,
    C above q1, D otherwise. Equal scores get equal classes.

CLV: BG/NBD and Gamma-Gamma (db/analytics/clv.py) fitted on the buyers: frequency = purchases - 1,
    recency = days from the first to the last purchase, age = days from the first purchase to the analysis
    date. Gamma-Gamma takes the repeat buyers' purchases alone: x = purchases, m = their mean amount; a
    client's expected order value is scaled by their expected net share, 1 - their refund ratio shrunk
    towards the shop's (clv.refund_ratio). Expected purchases and value over the next 365 days, and the
    probability that the client is still active.

Cohorts: the clients whose first purchase fell in a month, and those of them who bought again on or before
    the 90th day after the day of their first purchase.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import date
from typing import Callable

import numpy as np
import psycopg
from psycopg.types.json import Jsonb

from db import rows
from db.analytics import clv
from db.errors import UserError
from db.i18n import N_, t
from db.settings import CATALOGUE

HORIZON_DAYS = 365
DEFAULT_PERIOD_DAYS = 365
CLV_BUCKETS = 10
LIST_LENGTH = 100
# Any constant will do as long as every refresh uses the same one: two refreshes at once would fill the
# same idle slot.
_LOCK_KEY = 0x636C_6261_6E61  # "clbana"

STEPS = ("summary", "fit", "scoring", "classes", "aggregates", "publish")
_AGGREGATE_TABLES = ("analytics_class", "analytics_pareto", "analytics_month", "analytics_clv_bucket",
                     "analytics_list")

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class RefreshResult:
    run_id: int
    as_of: date
    period_days: int
    clients: int
    buyers: int
    clv_reason: str | None
    clv_message: str | None
    step_ms: dict[str, int]
    duration_ms: int


def _setting(conn: psycopg.Connection, key: str) -> str:
    value = rows.value(conn.execute("SELECT value FROM settings WHERE key = %s", (key,)))
    return value if value is not None else CATALOGUE[key].default


def _today(conn: psycopg.Connection, time_zone: str) -> date:
    return rows.value(conn.execute("SELECT (now() AT TIME ZONE %s)::date", (time_zone,)))


_SUMMARY_SQL = """
CREATE TEMP TABLE analytics_summary ON COMMIT PRESERVE ROWS AS
SELECT c.id AS client_id,
       coalesce(s.f, 0)::integer AS f,
       coalesce(s.m, 0)::numeric(14, 2) AS m,
       coalesce(s.gross, 0)::numeric(14, 2) AS gross,
       coalesce(s.revenue, 0)::numeric(14, 2) AS revenue,
       coalesce(s.profit, 0)::numeric(14, 2) AS profit,
       coalesce(s.profit_total, 0)::numeric(14, 2) AS profit_total,
       (s.first_at AT TIME ZONE %(tz)s)::date AS first_day,
       (s.last_at AT TIME ZONE %(tz)s)::date AS last_day,
       s.first_at
  FROM client c
  LEFT JOIN (
        -- One pass over the purchases (parallel aggregate); days are taken per client afterwards, not
        -- per purchase, because a time-zone conversion on five million rows costs a second.
        SELECT client_id,
               count(*) FILTER (WHERE amount > 0) AS f,
               sum(amount) AS m,
               sum(amount) FILTER (WHERE amount > 0) AS gross,
               sum(amount - coalesce(cost, 0)) AS profit_total,
               sum(amount) FILTER (WHERE purchased_at >= %(period_start)s) AS revenue,
               sum(amount - coalesce(cost, 0)) FILTER (WHERE purchased_at >= %(period_start)s) AS profit,
               min(purchased_at) FILTER (WHERE amount > 0) AS first_at,
               max(purchased_at) FILTER (WHERE amount > 0) AS last_at
          FROM purchase
         WHERE purchased_at < %(cutoff)s
         GROUP BY client_id) s ON s.client_id = c.id
"""

# Measured on the 1M demo base (tests/bench_analytics.py): with the default work_mem the per-client
# aggregate (750k groups, estimated at 146k from purchase.client_id's n_distinct) spilled a hash aggregate
# to disk in 21 batches, and the classes' sorts went to disk as external merges of 200 MB. A sort-based
# aggregate in memory is faster than a hash one here, because the parallel partial aggregation barely
# reduces the rows (a client's few purchases are spread over the whole table). SET LOCAL: for the
# statement's own transaction only, never the session's.
_SUMMARY_SETTINGS = "SET LOCAL work_mem = '256MB'; SET LOCAL enable_hashagg = off"
# The classes: the planner sorted the whole summary by the (frequency, recency, age) triple to merge-join the
# CLV scores (2.6 s of 16 s); hashing the 414k scored triples instead costs a fraction of that.
_SORT_SETTINGS = "SET LOCAL work_mem = '256MB'; SET LOCAL enable_mergejoin = off"

_TRIPLES_SQL = """
SELECT f - 1, last_day - first_day, %(as_of)s::date - first_day, count(*)
  FROM analytics_summary WHERE f > 0 GROUP BY 1, 2, 3
"""


# Scores, segment, ABC, A-E and CLV in one statement into the idle slot. The thresholds are one row
# joined to every client (not a subquery per row). ABC needs each client's place in the revenue order, but
# not a sort of the wide rows: the A and B sets are prefixes of that order, so a sort of the narrow
# (revenue, client_id) pairs of the clients with revenue finds the last client of each, and every client is
# then compared with those two. (The running sum over the wide rows spilled a 220 MB sort to disk on the 1M
# base and handed the insert its rows in revenue order, a random insert into the primary key each; now they
# come in client order, the summary's, and the key grows at its right edge.) The previous run's classes come
# from the other slot by one hash join on its narrow rows, so the movement matrix later is a GROUP BY of
# this slot. The Pareto curve, the CLV buckets and the two lists are written from the same CTEs (the revenue
# order of `ranked`, the scored rows of `potential`, both in memory) instead of three more statements that
# read the million rows of the slot back (1.2 s + 1.9 s + 0.75 s on the 1M base, mostly reads).
_CLASSES_SQL = """
WITH thresholds AS (
    SELECT percentile_disc(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY %(as_of)s::date - last_day) AS r_t,
           percentile_disc(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY f) AS f_t,
           percentile_disc(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY m) AS m_t
      FROM analytics_summary WHERE f > 0
), ranked AS (
    SELECT client_id, revenue,
           row_number() OVER by_revenue AS rn, count(*) OVER () AS n,
           sum(revenue) OVER by_revenue - revenue AS before,
           sum(revenue) OVER () AS total
      FROM analytics_summary WHERE revenue > 0
    WINDOW by_revenue AS (ORDER BY revenue DESC, client_id ROWS UNBOUNDED PRECEDING)
), pareto AS (
    INSERT INTO analytics_pareto (slot, point, client_share, revenue_share)
    SELECT %(slot)s, (rn * 100 / n)::integer, rn::double precision / n, ((before + revenue) / total)::double precision
      FROM ranked WHERE rn * 100 / n > (rn - 1) * 100 / n
), last_a AS (
    -- The last client of A and of B in the revenue order (none without revenue: everyone is then C).
    SELECT revenue AS a_revenue, client_id AS a_client FROM ranked WHERE before < 0.80 * total
     ORDER BY revenue, client_id DESC LIMIT 1
), last_b AS (
    SELECT revenue AS b_revenue, client_id AS b_client FROM ranked WHERE before < 0.95 * total
     ORDER BY revenue, client_id DESC LIMIT 1
), segment_map AS (
    SELECT r.score AS r_score, fm.doubled,
           (SELECT rule.segment FROM analytics_segment_rule rule
             WHERE r.score BETWEEN rule.r_min AND rule.r_max AND fm.doubled / 2.0 BETWEEN rule.fm_min AND rule.fm_max
             ORDER BY rule.position LIMIT 1) AS segment
      FROM generate_series(1, 5) r(score) CROSS JOIN generate_series(2, 10) fm(doubled)
), scored AS (
    SELECT s.*,
           CASE WHEN s.f > 0 THEN %(as_of)s::date - s.last_day END AS r_days,
           CASE WHEN s.f > 0 THEN 5 - (%(as_of)s::date - s.last_day > t.r_t[1])::int
                                    - (%(as_of)s::date - s.last_day > t.r_t[2])::int
                                    - (%(as_of)s::date - s.last_day > t.r_t[3])::int
                                    - (%(as_of)s::date - s.last_day > t.r_t[4])::int END AS r_score,
           CASE WHEN s.f > 0 THEN 1 + (s.f > t.f_t[1])::int + (s.f > t.f_t[2])::int
                                    + (s.f > t.f_t[3])::int + (s.f > t.f_t[4])::int END AS f_score,
           CASE WHEN s.f > 0 THEN 1 + (s.m > t.m_t[1])::int + (s.m > t.m_t[2])::int
                                    + (s.m > t.m_t[3])::int + (s.m > t.m_t[4])::int END AS m_score,
           prev.rfm_segment AS prev_segment, prev.abc_class AS prev_abc_class, prev.ae_class AS prev_ae_class
      FROM analytics_summary s LEFT JOIN thresholds t ON true
      LEFT JOIN analytics_client prev ON prev.slot = %(prev_slot)s AND prev.client_id = s.client_id
), valued AS (
    SELECT sc.*,
           v.expected_purchases, v.p_alive,
           round((v.expected_purchases * """ + clv.EXPECTED_NET_ORDER_VALUE_SQL + """)::numeric, 2) AS expected_value
      FROM scored sc
      LEFT JOIN analytics_clv_scores v
        ON v.x = sc.f - 1 AND v.t_x = sc.last_day - sc.first_day AND v.age = %(as_of)s::date - sc.first_day
), potential AS (
    SELECT va.*,
           va.profit + coalesce(va.expected_value, 0)
               * CASE WHEN va.m > 0 THEN least(greatest(va.profit_total / va.m, 0), 1) ELSE 0 END AS ae_score
      FROM valued va
), ae_thresholds AS (
    SELECT percentile_disc(ARRAY[0.25, 0.5, 0.75]) WITHIN GROUP (ORDER BY ae_score) AS q
      FROM potential WHERE profit >= 0
), clv_bounds AS (
    SELECT greatest(percentile_disc(0.99) WITHIN GROUP (ORDER BY expected_value), 0.01) AS top,
           max(expected_value) AS highest
      FROM potential WHERE expected_value IS NOT NULL
), clv_buckets AS (
    INSERT INTO analytics_clv_bucket (slot, bucket, low, high, clients)
    SELECT %(slot)s, bucket,
           round(b.top * (bucket - 1) / %(buckets)s, 2),
           CASE WHEN bucket > %(buckets)s THEN greatest(b.highest, b.top)
                ELSE round(b.top * bucket / %(buckets)s, 2) END,
           count(*)
      FROM potential po CROSS JOIN clv_bounds b
     CROSS JOIN LATERAL (SELECT least(width_bucket(po.expected_value, 0, b.top, %(buckets)s),
                                      %(buckets)s + 1) AS bucket) w
     WHERE po.expected_value IS NOT NULL
     GROUP BY bucket, b.top, b.highest
), lists AS (
    -- A top-N sort each, instead of two indexes that every inserted row would update.
    INSERT INTO analytics_list (slot, kind, rank, client_id)
    SELECT %(slot)s, 'top_value', row_number() OVER (ORDER BY expected_value DESC, client_id), client_id
      FROM (SELECT client_id, expected_value FROM potential WHERE expected_value IS NOT NULL
             ORDER BY expected_value DESC, client_id LIMIT %(list_length)s) top
    UNION ALL
    SELECT %(slot)s, 'inactive', row_number() OVER (ORDER BY m DESC, client_id), client_id
      FROM (SELECT client_id, m FROM potential WHERE r_days >= %(inactive_after_days)s
             ORDER BY m DESC, client_id LIMIT %(list_length)s) quiet
)
INSERT INTO analytics_client (slot, client_id, first_day, last_day, r_days, f, m, revenue, profit,
                              r_score, f_score, m_score, rfm_segment, abc_class, ae_class,
                              expected_purchases_12m, expected_value_12m, p_alive,
                              prev_segment, prev_abc_class, prev_ae_class)
SELECT %(slot)s, po.client_id, po.first_day, po.last_day, po.r_days, po.f, po.m, po.revenue, po.profit,
       po.r_score, po.f_score, po.m_score,
       CASE WHEN po.f = 0 THEN 'Prospects' ELSE coalesce(sm.segment, 'Unmatched') END,
       CASE WHEN po.revenue <= 0 THEN 'C'
            WHEN po.revenue > ab.a_revenue OR (po.revenue = ab.a_revenue AND po.client_id <= ab.a_client) THEN 'A'
            WHEN po.revenue > bb.b_revenue OR (po.revenue = bb.b_revenue AND po.client_id <= bb.b_client) THEN 'B'
            ELSE 'C' END,
       CASE WHEN po.profit < 0 THEN 'E'
            WHEN po.ae_score > aq.q[3] THEN 'A'
            WHEN po.ae_score > aq.q[2] THEN 'B'
            WHEN po.ae_score > aq.q[1] THEN 'C'
            ELSE 'D' END,
       po.expected_purchases, po.expected_value, po.p_alive,
       po.prev_segment, po.prev_abc_class, po.prev_ae_class
  FROM potential po
  LEFT JOIN last_a ab ON true
  LEFT JOIN last_b bb ON true
  LEFT JOIN ae_thresholds aq ON true
  LEFT JOIN segment_map sm ON sm.r_score = po.r_score AND sm.doubled = po.f_score + po.m_score
"""

# The per-class tables and the movement matrix in one pass over the slot: grouping sets hash every grouping
# at once (1.4 s on the 1M base, where a VALUES row per client and kind, 8M rows, took 4.2 s + 2.3 s).
# A movement needs a previous run (prev_* NULL otherwise) and the R x F grid buyers (r_score NULL otherwise):
# those groups have a NULL class and are left out.
# With the server's work_mem the grouping sets' sort of the slot spilled 62 MB to disk (external merge):
# 2.6 s, in memory 2.0 s, alternated at load 5 on the 1M base.
_GROUPING_SETTINGS = "SET LOCAL work_mem = '256MB'"
_CLASS_TABLES_SQL = """
INSERT INTO analytics_class (slot, kind, class, clients, revenue, purchases)
SELECT %(slot)s, kind, class, clients, CASE WHEN kind IN ('abc', 'ae') THEN revenue ELSE m END, purchases
  FROM (
SELECT CASE WHEN GROUPING(prev_segment) = 0 THEN 'move_segment'
            WHEN GROUPING(prev_abc_class) = 0 THEN 'move_abc'
            WHEN GROUPING(prev_ae_class) = 0 THEN 'move_ae'
            WHEN GROUPING(abc_class) = 0 THEN 'abc'
            WHEN GROUPING(ae_class) = 0 THEN 'ae'
            WHEN GROUPING(rfm_segment) = 0 THEN 'segment'
            WHEN GROUPING(category) = 0 THEN 'category'
            ELSE 'rf' END AS kind,
       CASE WHEN GROUPING(prev_segment) = 0 THEN prev_segment || '>' || rfm_segment
            WHEN GROUPING(prev_abc_class) = 0 THEN prev_abc_class::text || '>' || abc_class::text
            WHEN GROUPING(prev_ae_class) = 0 THEN prev_ae_class::text || '>' || ae_class::text
            WHEN GROUPING(abc_class) = 0 THEN abc_class::text
            WHEN GROUPING(ae_class) = 0 THEN ae_class::text
            WHEN GROUPING(rfm_segment) = 0 THEN rfm_segment
            WHEN GROUPING(category) = 0 THEN category
            ELSE r_score || ',' || f_score END AS class,
       count(*) AS clients, coalesce(sum(revenue), 0) AS revenue, coalesce(sum(m), 0) AS m,
       coalesce(sum(f), 0) AS purchases
  FROM (SELECT abc_class, ae_class, rfm_segment, f, m, revenue, r_score, f_score, prev_segment, prev_abc_class,
               prev_ae_class, CASE f WHEN 0 THEN 'prospect' WHEN 1 THEN 'one-time' ELSE 'regular' END AS category
          FROM analytics_client WHERE slot = %(slot)s) c
 GROUP BY GROUPING SETS ((abc_class), (ae_class), (rfm_segment), (category), (r_score, f_score),
                         (prev_segment, rfm_segment), (prev_abc_class, abc_class), (prev_ae_class, ae_class))) g
 WHERE class IS NOT NULL
"""


# Revenue by month needs the purchases again. Grouping by the month of each purchase in the shop's time
# zone converted 4.5M timestamps (2.2 s on the 1M base, a seq scan that an INSERT cannot hand to parallel
# workers); here the month bounds are converted instead, a few dozen of them, and each month is a range of
# the purchase_date index (1.0 s). A month with only refunds is still a month, as in a GROUP BY.
_MONTHS_SQL = """
INSERT INTO analytics_month (slot, month, revenue, purchases, new_clients, returned_90d)
SELECT %(slot)s, m.month, s.revenue, s.purchases, 0, 0
  FROM (SELECT local_month::date AS month, local_month AT TIME ZONE %(tz)s AS starts,
               least((local_month + interval '1 month') AT TIME ZONE %(tz)s, %(cutoff)s) AS ends
          FROM generate_series(
                date_trunc('month', (SELECT min(purchased_at) FROM purchase) AT TIME ZONE %(tz)s),
                date_trunc('month', (SELECT max(purchased_at) FROM purchase WHERE purchased_at < %(cutoff)s)
                                    AT TIME ZONE %(tz)s),
                interval '1 month') local_month) m
 CROSS JOIN LATERAL (SELECT sum(amount) AS revenue, count(*) FILTER (WHERE amount > 0) AS purchases,
                            count(*) AS rows_in_month
                       FROM purchase WHERE purchased_at >= m.starts AND purchased_at < m.ends) s
 WHERE s.rows_in_month > 0
"""

# Cohorts come from the summary; "bought again within 90 days" is an index probe (purchase_client_date)
# only where the summary cannot tell. A last purchase on a later day but within the 90 days is a return; a
# client with two purchases whose last one is past the 90 days did not return (the other one is the first).
# Only a client with more purchases whose last is past the 90 days, or whose purchases all fell on the first
# day (the same instant or not), is probed: 219k probes instead of 507k on the 1M base.
_COHORTS_SQL = """
INSERT INTO analytics_month AS m (slot, month, revenue, purchases, new_clients, returned_90d)
SELECT %(slot)s, date_trunc('month', s.first_day)::date, 0, 0, count(*),
       count(*) FILTER (WHERE s.f > 1 AND CASE
           WHEN s.last_day > s.first_day AND s.last_day <= s.first_day + 90 THEN true
           WHEN s.last_day > s.first_day + 90 AND s.f = 2 THEN false
           ELSE EXISTS (
               SELECT 1 FROM purchase p
                WHERE p.client_id = s.client_id AND p.amount > 0
                  AND p.purchased_at > s.first_at AND p.purchased_at < %(cutoff)s
                  AND p.purchased_at < ((s.first_day + 91)::timestamp AT TIME ZONE %(tz)s)) END)
  FROM analytics_summary s WHERE s.f > 0 GROUP BY 2
ON CONFLICT (slot, month) DO UPDATE SET new_clients = excluded.new_clients, returned_90d = excluded.returned_90d
"""


def _fit_and_score(conn: psycopg.Connection, as_of: date,
                   timings: dict[str, int]) -> tuple[dict | None, clv.NotReliable | None]:
    """Fits the models on the summary and leaves per-triple scores in analytics_clv_scores."""
    conn.execute("CREATE TEMP TABLE analytics_clv_scores (x integer, t_x integer, age integer, "
                 "expected_purchases double precision, p_alive double precision)")
    started = time.perf_counter()
    triples = np.array(conn.execute(_TRIPLES_SQL, {"as_of": as_of}).fetchall(), dtype=float).reshape(-1, 4)
    x, t_x, age, weights = triples.T
    try:
        clv.check_enough_data(x, age, weights)
        bgnbd = _fit_bgnbd(conn, x, t_x, age, weights)
        pairs = np.array(conn.execute(clv.ORDER_VALUES_SQL).fetchall(), dtype=float).reshape(-1, 3)
        gamma_gamma = clv.fit_gamma_gamma(pairs[:, 0], pairs[:, 1], pairs[:, 2])
        shop_refund_ratio = rows.value(conn.execute(clv.SHOP_REFUND_RATIO_SQL))
    except clv.NotReliable as exc:
        timings["fit"] = _ms(started)
        timings["scoring"] = 0
        return None, exc
    timings["fit"] = _ms(started)
    started = time.perf_counter()
    scores = clv.score_bgnbd(bgnbd, x, t_x, age, horizon=HORIZON_DAYS)
    # Plain Python numbers (tolist) format twice as fast as numpy scalars: 0.6 s for 414k triples, not 1.3 s.
    with conn.cursor().copy("COPY analytics_clv_scores FROM STDIN") as copy:
        copy.write("".join([
            f"{frequency}\t{recency}\t{days}\t{_number(purchases)}\t{_number(alive)}\n"
            for frequency, recency, days, purchases, alive in zip(
                x.astype(int).tolist(), t_x.astype(int).tolist(), age.astype(int).tolist(),
                scores.expected_purchases.tolist(), scores.p_alive.tolist(), strict=True)]))
    conn.execute("ANALYZE analytics_clv_scores")
    timings["scoring"] = _ms(started)
    params = {"bgnbd": {"r": bgnbd.r, "alpha": bgnbd.alpha, "a": bgnbd.a, "b": bgnbd.b},
              "gamma_gamma": {"p": gamma_gamma.p, "q": gamma_gamma.q, "gamma": gamma_gamma.gamma},
              "shop_refund_ratio": shop_refund_ratio,
              "time_unit": "day", "horizon_days": HORIZON_DAYS}
    return params, None


def _fit_bgnbd(conn: psycopg.Connection, x: np.ndarray, t_x: np.ndarray, age: np.ndarray,
               weights: np.ndarray) -> clv.BgNbdParams:
    """The fit started from the previous refresh's parameters, and from the usual start when that fails: a
    degenerate previous fit (a limit such as a -> 0) can leave the search stuck where a cold start is not."""
    near = _previous_fit(conn)
    if near is not None:
        try:
            return clv.fit_bgnbd(x, t_x, age, weights, near=near)
        except clv.NotReliable:
            pass
    return clv.fit_bgnbd(x, t_x, age, weights)


def _previous_fit(conn: psycopg.Connection) -> clv.BgNbdParams | None:
    """The latest published BG/NBD parameters in days: the fit starts there (on the 1M base a cold start
    took most of the fit's seconds; a refresh rarely moves the optimum far)."""
    params = rows.value(conn.execute(
        "SELECT clv_params FROM analytics_run WHERE published AND clv_params ->> 'time_unit' = 'day'"
        " ORDER BY id DESC LIMIT 1"))
    try:
        return clv.BgNbdParams(**{name: float(params["bgnbd"][name]) for name in ("r", "alpha", "a", "b")})
    except (TypeError, KeyError, ValueError):
        return None


def gamma_gamma_values(params: dict | None) -> dict:
    """The Gamma-Gamma parameters the classes statement takes. Without a fit the expected purchases are NULL,
    so these neutral values never reach a result."""
    spend = (params or {}).get("gamma_gamma", {})
    return {"p": spend.get("p", 1.0), "q": spend.get("q", 2.0), "gamma": spend.get("gamma", 0.0),
            "shop_refund_ratio": (params or {}).get("shop_refund_ratio", 0.0)}


def _number(value: float) -> str:
    return repr(value) if math.isfinite(value) else "\\N"


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


def refresh(conn: psycopg.Connection, as_of: date | None = None, period_days: int = DEFAULT_PERIOD_DAYS,
            progress: Progress | None = None) -> RefreshResult:
    """Recomputes every analysis as of `as_of` (default: today in the shop's time zone) and publishes it.

    `conn` must be an administrator's connection; each step commits on its own, so no snapshot is held
    for the whole recompute, and readers switch to the new results only at the last, tiny step.
    """
    if period_days < 1:
        raise UserError(N_("The period must be at least one day."))
    previous_autocommit = conn.autocommit
    conn.autocommit = True
    try:
        if not rows.value(conn.execute("SELECT pg_try_advisory_lock(%s)", (_LOCK_KEY,))):
            raise UserError(N_("Another analytics refresh is running; try again when it has finished."))
        try:
            return _refresh(conn, as_of, period_days, progress or (lambda step, done, total: None))
        finally:
            conn.execute("DROP TABLE IF EXISTS analytics_summary, analytics_clv_scores")
            conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
    except psycopg.errors.InsufficientPrivilege:
        raise UserError(N_("Only an administrator may refresh the analytics.")) from None
    finally:
        conn.autocommit = previous_autocommit


def statement_values(conn: psycopg.Connection, as_of: date | None, period_days: int) -> dict:
    """The parameters every statement of a refresh takes: the idle slot to fill, the published one, the day
    bounds in the shop's time zone, and the settings the lists are drawn with."""
    time_zone = _setting(conn, "timezone")
    as_of = as_of or _today(conn, time_zone)
    prev_slot = rows.value(conn.execute("SELECT slot FROM analytics_run WHERE published ORDER BY id DESC LIMIT 1"))
    bounds = rows.the_dict(conn.execute(
        "SELECT (%(d)s::date + 1)::timestamp AT TIME ZONE %(tz)s AS cutoff, "
        "       (%(d)s::date - %(n)s + 1)::timestamp AT TIME ZONE %(tz)s AS period_start",
        {"d": as_of, "n": period_days, "tz": time_zone}))
    return {"slot": 1 - prev_slot if prev_slot is not None else 0, "prev_slot": prev_slot, "as_of": as_of,
            "tz": time_zone, "cutoff": bounds["cutoff"], "period_start": bounds["period_start"],
            "buckets": CLV_BUCKETS, "list_length": LIST_LENGTH,
            "inactive_after_days": int(_setting(conn, "inactive_after_days"))}


_EMPTY_SLOT_SQL = """
DO $$
DECLARE
    waited text := current_setting('lock_timeout');
BEGIN
    PERFORM set_config('lock_timeout', '3s', true);
    BEGIN
        TRUNCATE analytics_client_{slot};
    EXCEPTION WHEN lock_not_available THEN
        DELETE FROM analytics_client_{slot};
    END;
    PERFORM set_config('lock_timeout', waited, true);
END $$
"""


def step_sql(slot: int) -> dict[str, list[tuple[str, list[str]]]]:
    """The SQL steps, each a list of transactions (settings, statements), exactly as the refresh runs them;
    tests/bench_analytics.py times the same statements bare beside the app. The fit and the scoring are
    Python between the summary and the classes (_fit_and_score)."""
    return {
        "summary": [(_SUMMARY_SETTINGS, [_SUMMARY_SQL]), ("", ["ANALYZE analytics_summary"])],
        # The idle slot is emptied in statements of their own: a TRUNCATE holds its partition's lock only
        # for an instant, and readers never look at the idle slot. A reader idle in a transaction may still
        # hold a lock on it (0028): after three seconds the rows are deleted instead, which that lock allows.
        "classes": [("", [_EMPTY_SLOT_SQL.format(slot=slot)]),
                    ("", [f"DELETE FROM {table} WHERE slot = %(slot)s" for table in _AGGREGATE_TABLES]),
                    (_SORT_SETTINGS, [_CLASSES_SQL]), ("", [f"ANALYZE analytics_client_{slot}"])],
        "aggregates": [(_GROUPING_SETTINGS, [_CLASS_TABLES_SQL]), ("", [_MONTHS_SQL, _COHORTS_SQL])],
    }


def run_step(conn: psycopg.Connection, transactions: list[tuple[str, list[str]]], values: dict) -> None:
    for settings, statements in transactions:
        with conn.transaction():
            if settings:
                conn.execute(settings)
            for statement in statements:
                conn.execute(statement, values)


def _refresh(conn: psycopg.Connection, as_of: date | None, period_days: int, progress: Progress) -> RefreshResult:
    started_all = time.perf_counter()
    values = statement_values(conn, as_of, period_days)
    as_of, slot, time_zone = values["as_of"], values["slot"], values["tz"]
    run_id = rows.value(conn.execute(
        "INSERT INTO analytics_run (slot, as_of, period_days, time_zone) VALUES (%s, %s, %s, %s) RETURNING id",
        (slot, as_of, period_days, time_zone)))
    timings: dict[str, int] = {}
    total = len(STEPS)
    sql = step_sql(slot)

    def step(name: str) -> None:
        progress(name, STEPS.index(name), total)
        begun = time.perf_counter()
        run_step(conn, sql[name], values)
        timings[name] = _ms(begun)

    conn.execute("DROP TABLE IF EXISTS analytics_summary, analytics_clv_scores")
    step("summary")
    progress("fit", STEPS.index("fit"), total)
    params, not_reliable = _fit_and_score(conn, as_of, timings)
    reason = not_reliable.reason if not_reliable else None
    values.update(gamma_gamma_values(params))
    step("classes")
    step("aggregates")
    progress("publish", STEPS.index("publish"), total)
    begun = time.perf_counter()
    counts = rows.the_dict(conn.execute(
        "SELECT count(*) AS clients, count(*) FILTER (WHERE f > 0) AS buyers FROM analytics_summary"))
    clients, buyers = counts["clients"], counts["buyers"]
    timings["publish"] = _ms(begun)
    duration = _ms(started_all)
    conn.execute(
        "UPDATE analytics_run SET published = true, computed_at = now(), duration_ms = %s, clients = %s,"
        " buyers = %s, clv_params = %s, clv_reason = %s, inactive_after_days = %s, step_ms = %s WHERE id = %s",
        (duration, clients, buyers, Jsonb(params) if params else None, reason, values["inactive_after_days"],
         Jsonb(timings), run_id))
    progress("publish", total, total)
    message = t(not_reliable.reason, **not_reliable.values) if not_reliable else None
    return RefreshResult(run_id=run_id, as_of=as_of, period_days=period_days, clients=clients, buyers=buyers,
                         clv_reason=reason, clv_message=message, step_ms=timings, duration_ms=duration)


def default_as_of(conn: psycopg.Connection) -> date:
    """Today in the shop's time zone."""
    return _today(conn, _setting(conn, "timezone"))
