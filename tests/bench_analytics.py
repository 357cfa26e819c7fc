"""Analytics rows: the recompute step by step beside the same statements run bare (refresh.step_sql), in
rounds of app-then-bare so that both saw the same load, the plan the summary gets, the BG/NBD fit on
distinct triples against row by row, and the dashboard's load.

The recompute writes its results, so it runs on a scratch copy of the bench base (benchlib.scratch_copy).
"""

from __future__ import annotations

import json
import os
import statistics
import time

import numpy as np
import psycopg

from db.analytics import clv, dashboard
from db.analytics import refresh as refresh_module
from db.analytics.refresh import STEPS, refresh
from tests.benchlib import BenchContext, BenchRow, fmt_ms, scratch_copy, timed_ms

_TARGETS = {"total": "< 15 s"}
# The machine is shared: each step is measured in several rounds, each the app's refresh then the same
# statements bare, so both columns saw the same load.
_ROUNDS = 3
# Steps that are SQL; the fit and the scoring are Python between them (the fit's own SQL is timed bare).
_SQL_STEPS = ("summary", "classes", "aggregates")


def _bare_round(conn: psycopg.Connection, as_of, period_days: int) -> dict[str, float]:
    """The refresh's statements (refresh.step_sql), run bare over psycopg in the refresh's order, without
    the Python between them, into the idle slot (never published). Milliseconds per step."""
    values = refresh_module.statement_values(conn, as_of, period_days)
    sql = refresh_module.step_sql(values["slot"])
    times: dict[str, float] = {}

    def timed(name: str, action) -> None:
        started = time.perf_counter()
        action()
        times[name] = (time.perf_counter() - started) * 1000

    conn.execute("DROP TABLE IF EXISTS analytics_summary, analytics_clv_scores")
    timed("summary", lambda: refresh_module.run_step(conn, sql["summary"], values))
    timed("fit", lambda: (conn.execute(refresh_module._TRIPLES_SQL, values).fetchall(),
                          conn.execute(clv.ORDER_VALUES_SQL).fetchall()))
    # The scores table the classes join is the app's: a fit is Python, not bare SQL.
    params, _ = refresh_module._fit_and_score(conn, values["as_of"], {})
    values.update(refresh_module.gamma_gamma_values(params))
    for name in ("classes", "aggregates"):
        timed(name, lambda name=name: refresh_module.run_step(conn, sql[name], values))
    conn.execute("DROP TABLE IF EXISTS analytics_summary, analytics_clv_scores")
    return times


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


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
            load_before = os.getloadavg()[0]
            first = refresh(conn)  # no previous run to compute movement against
            apps, bares = [], []
            for _ in range(1 if ctx.smoke else _ROUNDS):
                apps.append(refresh(conn))
                bares.append(_bare_round(conn, apps[-1].as_of, apps[-1].period_days))
            last = apps[-1]
            load = f"load average (1 min) {load_before:.1f} before, {os.getloadavg()[0]:.1f} after"
            for step in STEPS:
                app = [float(run.step_ms.get(step, 0)) for run in apps]
                bare = [round(b[step]) for b in bares if step in b]
                what = "bare: the same statements" if step in _SQL_STEPS else \
                    "bare: its SQL (triples, order values)" if step == "fit" else "Python and COPY"
                rows.append(BenchRow(f"analytics recompute: {step}", "", f"{_median(app):.0f} ms (median)",
                                     f"{_median(bare):.0f} ms (median)" if bare else "",
                                     note=f"app {[int(a) for a in app]} ms" + (f", bare {bare} ms" if bare else "")
                                          + f" ({what}); first refresh "
                                          f"{first.step_ms.get(step, 0)} ms; {load}",
                                     samples=tuple(app)))
            with conn.transaction():
                conn.execute(refresh_module._SUMMARY_SETTINGS)
                values = refresh_module.statement_values(conn, last.as_of, last.period_days)
                plan = conn.execute("EXPLAIN (FORMAT JSON) " + refresh_module._SUMMARY_SQL.split(" AS\n", 1)[1],
                                    values).fetchone()[0]
            plan = plan if isinstance(plan, list) else json.loads(plan)
            purchases = conn.execute("SELECT count(*) FROM purchase").fetchone()[0]
            totals = [run.duration_ms / 1000 for run in apps]
            bare_totals = [sum(b.values()) / 1000 for b in bares]
            rows.append(BenchRow(
                "analytics recompute, total", _TARGETS["total"], f"{_median(totals):.1f} s (median)",
                f"{_median(bare_totals):.1f} s (median, SQL steps + the fit's SQL)",
                note=f"{last.clients:,} clients, {purchases:,} purchases; rounds {[round(x, 1) for x in totals]} s; "
                     f"first refresh {first.duration_ms / 1000:.1f} s; the summary planned as "
                     f"{' > '.join(_plan_nodes(plan[0]['Plan']))}; {load}",
                samples=tuple(totals), unit="s"))
            if last.clv_reason:
                rows.append(BenchRow("CLV fit", "", "not reliable", note=last.clv_reason))
            else:
                rows.extend(_fit_rows(conn, ctx, last.as_of))
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
