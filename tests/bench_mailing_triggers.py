"""Triggers, the forecast and a split test's results on a copy of the bench base (the run commits), each beside
the bare SQL of its heaviest part.

- `triggers run` for one day (the shop's today), every trigger on, as cron runs it: the first run on the base
  (reactivation asks back those who went quiet within the catch-up week), then the following day's (the steady
  state). Bare: each trigger's candidate list counted, as one statement per trigger.
- The 14-day forecast. Bare: the same candidate lists counted for the 14 days.
- A split campaign's results (two arms and a 10 % holdout over a tenth of the base, sent 40 days ago), read from
  the stored figures (campaign_result, 0020) once they are computed. Bare: the computation itself.
The copy is brought to this branch's schema first with `clientbase init` (the shared base is left as it is).
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import psycopg

from db.mailing import forecast, splits, triggers
from db.models import database
from tests.bench_import import run_measured
from tests.benchlib import BenchContext, BenchRow, database_url, fmt_ms, scratch_copy, timed_ms
from tui.mailing import trigger_templates

SCRATCH = "bench_triggers_scratch"


def _load() -> str:
    try:
        return f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    except OSError:
        return ""


def _bare_candidates(conn: psycopg.Connection, days: list, settings: triggers.TriggerSettings,
                     reactivation_window: int = 1) -> float:
    started = time.perf_counter()
    for day in days:
        for trigger in triggers.TRIGGERS:
            params = triggers.candidate_params(trigger, day, settings, reactivation_window)
            if params is not None:
                conn.execute(f"SELECT count(*) FROM ({triggers.CANDIDATES[trigger]}) k", params).fetchone()
    return time.perf_counter() - started


def _split_campaign(owner: psycopg.Connection, sent_at: datetime) -> int:
    """Two arms and a holdout over every tenth client, sent at `sent_at`, written directly as the owner."""
    template = owner.execute("INSERT INTO template (name, channel, subject, body) VALUES"
                             " ('bench split', 'email', 'S', 'B') RETURNING id").fetchone()[0]
    campaign = owner.execute("INSERT INTO campaign (name, channel, status, holdout_percent) VALUES"
                             " ('Bench split', 'email', 'done', 10) RETURNING id").fetchone()[0]
    for label in "AB":
        owner.execute("INSERT INTO campaign_variant (campaign_id, label, template_id) VALUES (%s, %s, %s)",
                      (campaign, label, template))
    arm = splits.variant_sql(owner, campaign, "c.id")
    owner.execute(
        f"INSERT INTO message (campaign_id, variant_id, client_id, channel, address, status, sent_at)"
        f" SELECT %s, {arm}, c.id, 'email', 'c' || c.id || '@bench.invalid', 'sent', %s FROM client c"
        f" WHERE c.id %% 10 = 0", (campaign, sent_at))
    owner.execute("UPDATE message SET status = 'skipped', skip_reason = 'holdout', sent_at = NULL"
                  " WHERE campaign_id = %s AND variant_id IS NULL", (campaign,))
    owner.execute("ANALYZE message")
    return campaign


def _on_scratch(ctx: BenchContext, owner_url: str) -> list[BenchRow]:
    code, seconds, _, error = run_measured(["init"], owner_url)
    if code != 0:
        return [BenchRow("triggers run, one day", "< 10 s", "failed", note=error[-160:])]
    admin = replace(ctx.target, url=database_url(ctx.target.url, SCRATCH), embedded=None).conninfo()
    now = datetime.now(timezone.utc)
    rows = []
    with psycopg.connect(admin, autocommit=True) as conn:
        settings = triggers.read_settings(conn)
        today = triggers.shop_today(settings, now)
        started = time.perf_counter()
        done = trigger_templates.run(conn, now, today)
        app_seconds = time.perf_counter() - started
        bare_seconds = _bare_candidates(conn, [today], settings, triggers.CATCH_UP_DAYS)
        enqueued = sum(outcome.enqueued for outcome in done.outcomes)
        rows.append(BenchRow("triggers run, one day (the first run on the base)", "< 10 s", f"{app_seconds:.1f} s",
                             f"{bare_seconds:.2f} s (candidate lists counted)",
                             note=f"{enqueued:,} messages enqueued ({', '.join(o.trigger for o in done.outcomes)}); "
                                  f"migrations on the copy {seconds:.0f} s; {_load()}",
                             samples=(app_seconds,), unit="s"))
        # The steady state: the next day's run, a day's newly quiet clients.
        started = time.perf_counter()
        following = trigger_templates.run(conn, now + timedelta(days=1), today + timedelta(days=1))
        app_seconds = time.perf_counter() - started
        bare_seconds = _bare_candidates(conn, [today + timedelta(days=1)], settings)
        rows.append(BenchRow("triggers run, the following day", "< 10 s", f"{app_seconds:.1f} s",
                             f"{bare_seconds:.2f} s (candidate lists counted)",
                             note=f"{sum(o.enqueued for o in following.outcomes):,} messages enqueued; {_load()}",
                             samples=(app_seconds,), unit="s"))
        days = [today + timedelta(days=offset) for offset in range(14)]
        started = time.perf_counter()
        planned = forecast.forecast(conn, now, 14)
        app_seconds = time.perf_counter() - started
        bare_seconds = _bare_candidates(conn, days, settings)
        rows.append(BenchRow("mailing forecast, 14 days", "< 10 s", f"{app_seconds:.1f} s",
                             f"{bare_seconds:.2f} s (14 days of candidate lists counted)",
                             note=f"{sum(day.messages for day in planned.days):,} messages planned; {_load()}",
                             samples=(app_seconds,), unit="s"))
    with psycopg.connect(owner_url, autocommit=True) as owner:
        campaign = _split_campaign(owner, now - timedelta(days=40))
    repeat = 2 if ctx.smoke else 5
    with psycopg.connect(admin, autocommit=True) as conn:
        started = time.perf_counter()
        splits.refresh(conn, campaign)  # what the first view, `--refresh` or the daily `triggers run` pays
        compute_seconds = time.perf_counter() - started
        app = timed_ms(lambda: splits.results(conn, campaign, now), repeat=repeat, warmup=1)
        bare = timed_ms(lambda: conn.execute(splits._RESULTS, {"campaign": campaign}).fetchall(), repeat=repeat,
                        warmup=1)
        recipients = conn.execute("SELECT count(*) FROM message WHERE campaign_id = %s", (campaign,)).fetchone()[0]
    rows.append(BenchRow("split campaign results (30/60/90 days)", "< 300 ms", fmt_ms(app), fmt_ms(bare),
                         note=f"{recipients:,} recipients in 3 arms; the view reads the stored figures, the bare SQL "
                              f"is the computation (stored once in {compute_seconds:.1f} s); {_load()}",
                         samples=tuple(app)))
    return rows


def measure(ctx: BenchContext) -> list[BenchRow]:
    with scratch_copy(ctx, SCRATCH) as owner_url:
        try:
            return _on_scratch(ctx, owner_url)
        finally:
            database.close_all()  # the copy is dropped next, and nobody may be connected to it then
