"""Analytics rows: the recompute step by step beside the bare SQL of its heaviest statement, the plan that
statement gets, the BG/NBD fit on distinct triples against row by row, and the dashboard's load.

The recompute writes its results, so it runs on a scratch copy of the bench base (benchlib.scratch_copy).
"""

from __future__ import annotations

import json
import os
import time

import numpy as np
import psycopg

from db.analytics import clv, dashboard
from db.analytics.refresh import STEPS, refresh
from tests.benchlib import BenchContext, BenchRow, fmt_ms, scratch_copy, timed_ms

_TARGETS = {"total": "< 15 s"}

# The summary's aggregate alone, as bare SQL: what one pass over the purchases costs without the client join,
# the temporary table or the time-zone conversion of the per-client days.
_BARE_SUMMARY = """
SELECT count(*) FROM (
    SELECT client_id, count(*) FILTER (WHERE amount > 0), sum(amount), sum(amount - coalesce(cost, 0)),
           sum(amount) FILTER (WHERE purchased_at >= %(start)s), min(purchased_at), max(purchased_at)
      FROM purchase WHERE purchased_at < %(cutoff)s GROUP BY client_id) s
"""


def _plan_nodes(plan: dict) -> list[str]:
    nodes = []
    stack = [plan]
    while stack:
        node = stack.pop()
        name = node["Node Type"]
        if node.get("Strategy") and name == "Aggregate":
            name = f"{node['Strategy']} {name}"
        if node.get("Partial Mode") and node["Partial Mode"] != "Simple":
            name = f"{node['Partial Mode']} {name}"
        if node.get("Workers Planned"):
            name += f" ({node['Workers Planned']} workers)"
        nodes.append(name)
        stack.extend(reversed(node.get("Plans", [])))
    return nodes


def _admin_url(scratch_owner_url: str, ctx: BenchContext) -> str:
    """The administrator login of the bench target, on the scratch copy."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    scratch = conninfo_to_dict(scratch_owner_url)
    admin = conninfo_to_dict(ctx.target.conninfo())
    admin["dbname"] = scratch["dbname"]
    return make_conninfo(**admin)


def measure(ctx: BenchContext) -> list[BenchRow]:
    rows: list[BenchRow] = []
    with scratch_copy(ctx, "bench_analytics_scratch") as owner_url:
        with psycopg.connect(_admin_url(owner_url, ctx), autocommit=True) as conn:
            # The machine is shared: the load beside each figure says how far it can be trusted.
            load_before = os.getloadavg()[0]
            first = refresh(conn)
            second = refresh(conn)  # the usual case: a previous run to compute movement against
            load = f"load average (1 min) {load_before:.1f} before, {os.getloadavg()[0]:.1f} after"
            for step in STEPS:
                rows.append(BenchRow(f"analytics recompute: {step}", "", f"{second.step_ms.get(step, 0)} ms",
                                     note=f"first refresh (no previous run): {first.step_ms.get(step, 0)} ms; {load}",
                                     samples=(float(second.step_ms.get(step, 0)),)))
            cutoff, start = conn.execute(
                "SELECT (%(d)s::date + 1)::timestamp AT TIME ZONE 'Europe/Moscow',"
                "       (%(d)s::date - 364)::timestamp AT TIME ZONE 'Europe/Moscow'", {"d": second.as_of}).fetchone()
            bare = timed_ms(lambda: conn.execute(_BARE_SUMMARY, {"cutoff": cutoff, "start": start}).fetchone(),
                            repeat=1 if ctx.smoke else 3, warmup=0 if ctx.smoke else 1)
            plan = conn.execute("EXPLAIN (FORMAT JSON) " + _BARE_SUMMARY, {"cutoff": cutoff, "start": start}
                                ).fetchone()[0]
            plan = plan if isinstance(plan, list) else json.loads(plan)
            purchases = conn.execute("SELECT count(*) FROM purchase").fetchone()[0]
            rows.append(BenchRow(
                "analytics recompute, total", _TARGETS["total"], f"{second.duration_ms / 1000:.1f} s",
                fmt_ms(bare), note=f"{second.clients:,} clients, {purchases:,} purchases; first refresh "
                                   f"{first.duration_ms / 1000:.1f} s; bare SQL: the purchases' aggregate "
                                   f"alone, planned as {' > '.join(_plan_nodes(plan[0]['Plan']))}; {load}",
                samples=(second.duration_ms / 1000,), unit="s"))
            if second.clv_reason:
                rows.append(BenchRow("CLV fit", "", "not reliable", note=second.clv_reason))
            else:
                rows.extend(_fit_rows(conn, ctx, second.as_of))
            samples = timed_ms(lambda: dashboard.load(conn), repeat=3 if ctx.smoke else 20)
            rows.append(BenchRow("dashboard open (all its reads)", "< 300 ms", fmt_ms(samples),
                                 fmt_ms(samples, "p95"), note="bare SQL column: the p95 of the same reads",
                                 samples=tuple(samples)))
    return rows


def _fit_rows(conn: psycopg.Connection, ctx: BenchContext, as_of) -> list[BenchRow]:
    """The fit on distinct triples against one row per client, and what weeks or a sample change."""
    per_client = np.array(conn.execute(
        "SELECT count(*) - 1, max(d) - min(d), %s::date - min(d) FROM ("
        "  SELECT client_id, (purchased_at AT TIME ZONE 'Europe/Moscow')::date AS d FROM purchase"
        "   WHERE amount > 0 AND purchased_at < (%s::date + 1)::timestamp AT TIME ZONE 'Europe/Moscow') p"
        " GROUP BY client_id",
        (as_of, as_of)).fetchall(), dtype=float)
    x, t_x, age = per_client.T
    (ux, ut, ua), weights = clv.distinct_weighted(x, t_x, age)
    started = time.perf_counter()
    triples = clv.fit_bgnbd(ux, ut, ua, weights)
    triples_s = time.perf_counter() - started
    started = time.perf_counter()
    by_row = clv.fit_bgnbd(x, t_x, age)
    by_row_s = time.perf_counter() - started
    (wx, wt, wa), w_weights = clv.distinct_weighted(x, np.floor(t_x / 7), np.floor(age / 7))
    weeks = clv.fit_bgnbd(wx, wt, wa, w_weights)
    rng = np.random.default_rng(1)
    sample = rng.random(len(x)) < 0.1
    (sx, st, sa), s_weights = clv.distinct_weighted(x[sample], t_x[sample], age[sample])
    sampled = clv.fit_bgnbd(sx, st, sa, s_weights)

    def described(p: clv.BgNbdParams, alpha_scale: float = 1.0) -> str:
        return f"r={p.r:.4g} alpha={p.alpha * alpha_scale:.4g} a={p.a:.4g} b={p.b:.4g}"

    return [
        BenchRow("BG/NBD fit, distinct triples", "", f"{triples_s:.2f} s", f"by row {by_row_s:.2f} s",
                 note=f"{len(ux):,} triples for {len(x):,} buyers; {described(triples)}; by row: {described(by_row)}",
                 samples=(triples_s,), unit="s"),
        BenchRow("BG/NBD in whole weeks (alpha x 7)", "", described(weeks, 7.0),
                 note=f"days: {described(triples)}"),
        BenchRow("BG/NBD on a 10 % sample", "", described(sampled), note=f"all: {described(triples)}"),
    ]
