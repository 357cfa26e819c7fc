"""Split tests: a campaign with two or more arms (templates) sharing its audience, plus an optional holdout that
gets nothing, judged on the purchases of 30, 60 and 90 days after sending.

Assignment is random but reproducible: a client's bucket is a hash of the campaign's and the client's ids
(md5, so a test or an analyst can recompute it outside the database), and the same bucket always lands in the
same arm, whenever and however often the campaign is enqueued.

The significance of a difference in the share who bought is a two-sided two-proportion z-test with a pooled
proportion (equivalent to Pearson's chi-squared test of the 2x2 table without continuity correction).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

import psycopg

from db import rows
from db.errors import UserError
from db.i18n import N_

BUCKETS = 10_000
WINDOWS = (30, 60, 90)
HOLDOUT = "holdout"
SIGNIFICANCE_TEST = N_("two-sided two-proportion z-test (pooled), p < 0.05 marked significant")

# The bucket of a client in a campaign: 0 .. BUCKETS-1.
BUCKET_SQL = "mod(('x' || substr(md5({campaign}::text || ':' || {client}::text), 1, 8))::bit(32)::bigint, {buckets})"


def bucket(campaign_id: int, client_id: int) -> int:
    """The same bucket as BUCKET_SQL, computed in Python."""
    import hashlib

    return int(hashlib.md5(f"{campaign_id}:{client_id}".encode()).hexdigest()[:8], 16) % BUCKETS


@dataclass(frozen=True)
class Arm:
    label: str
    template_id: int
    share: int


def add_variants(conn: psycopg.Connection, campaign_id: int, arms: list[tuple[int, int]],
                 holdout_percent: float = 0.0) -> None:
    """Makes a draft campaign a split test: `arms` are (template id, share) in order, the first being the
    campaign's own template (arm A); the holdout is a percentage of the whole audience."""
    if len(arms) < 2:
        raise UserError(N_("A split test needs at least two variants."))
    if not 0 <= holdout_percent < 100:
        raise UserError(N_("The holdout is a percentage from 0 to 99."))
    try:
        with conn.transaction():
            status = rows.value(conn.execute("SELECT status FROM campaign WHERE id = %s FOR UPDATE", (campaign_id,)))
            if status != "draft":
                raise UserError(N_("Only a draft campaign can be split."))
            conn.execute("UPDATE campaign_variant SET weight = %s WHERE campaign_id = %s AND label = 'A'",
                         (arms[0][1], campaign_id))
            for index, (template_id, share) in enumerate(arms[1:], start=1):
                conn.execute("INSERT INTO campaign_variant (campaign_id, label, template_id, weight)"
                             " VALUES (%s, %s, %s, %s)", (campaign_id, chr(ord("A") + index), template_id, share))
            conn.execute("UPDATE campaign SET holdout_percent = %s WHERE id = %s", (holdout_percent, campaign_id))
    except psycopg.errors.InsufficientPrivilege:
        raise UserError(N_("Only an administrator may change templates and campaigns.")) from None


def boundaries(holdout_percent: float, weights: list[int]) -> tuple[int, list[int]]:
    """The holdout's upper bucket, and each arm's upper bucket, in order: the arms share what the holdout
    leaves in proportion to their weights."""
    held = round(float(holdout_percent) * BUCKETS / 100)
    total = sum(weights)
    uppers, running = [], 0
    for weight in weights:
        running += weight
        uppers.append(held + round((BUCKETS - held) * running / total))
    return held, uppers


def variant_sql(conn: psycopg.Connection, campaign_id: int, client_sql: str) -> str:
    """The arm of the client `client_sql` as an SQL expression for the enqueue's INSERT ... SELECT: arm A's id
    for a campaign without a split, else the arm of the client's bucket, NULL in the holdout. Every value in
    it is an integer read from the database here, so it is written in place."""
    found = rows.dicts(conn.execute(
        "SELECT v.id, v.weight, k.holdout_percent FROM campaign_variant v JOIN campaign k ON k.id = v.campaign_id"
        " WHERE v.campaign_id = %s ORDER BY v.label", (campaign_id,)))
    if len(found) == 1 and not found[0]["holdout_percent"]:
        return str(int(found[0]["id"]))
    held, uppers = boundaries(found[0]["holdout_percent"], [arm["weight"] for arm in found])
    branches = " ".join(f"WHEN bucket < {int(upper)} THEN {int(arm['id'])}::bigint"
                        for arm, upper in zip(found, uppers, strict=True))
    bucket = BUCKET_SQL.format(campaign=int(campaign_id), client=client_sql, buckets=BUCKETS)
    return f"(SELECT CASE WHEN bucket < {int(held)} THEN NULL {branches} END FROM (SELECT {bucket} AS bucket) b)"


def inherit_holdout(conn: psycopg.Connection, parent_id: int, child_id: int) -> None:
    """A weekly campaign's run holds back the same share as the campaign (each run's clients by its own id)."""
    conn.execute("UPDATE campaign SET holdout_percent = (SELECT holdout_percent FROM campaign WHERE id = %s)"
                 " WHERE id = %s", (parent_id, child_id))


def hold_out(conn: psycopg.Connection, campaign_id: int) -> int:
    """Holds the holdout's queued messages back (skipped, 'holdout'); the enqueue left them without an arm.
    Status and reason are delivery state, not audited (0010), so this costs no audit row per message."""
    return conn.execute(
        "UPDATE message SET status = 'skipped', skip_reason = %s"
        " WHERE campaign_id = %s AND status = 'queued' AND variant_id IS NULL"
        "   AND (SELECT holdout_percent FROM campaign WHERE id = %s) > 0",
        (HOLDOUT, campaign_id, campaign_id)).rowcount


# --- results ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Window:
    days: int
    buyers: int
    revenue: Decimal
    complete: bool  # the window has fully passed for every recipient

    def buyer_share(self, recipients: int) -> float:
        return self.buyers / recipients if recipients else 0.0

    def revenue_per_recipient(self, recipients: int) -> float:
        return float(self.revenue) / recipients if recipients else 0.0


@dataclass(frozen=True)
class ArmResult:
    label: str  # 'A', 'B', ... or 'holdout'
    recipients: int  # sent (the holdout: held back)
    sent: int
    failed: int
    unsubscribed: int
    windows: dict[int, Window] = field(default_factory=dict)


@dataclass(frozen=True)
class Comparison:
    label: str
    days: int
    share_difference: float  # arm's buyer share minus the holdout's (or the first arm's)
    revenue_difference: float  # per recipient
    p_value: float | None
    significant: bool


@dataclass(frozen=True)
class Results:
    campaign_id: int
    first_sent_at: datetime | None
    days_left: int  # until 90 days have passed since the last message went out
    arms: list[ArmResult]
    comparisons: list[Comparison]
    baseline: str  # what the arms are compared with: 'holdout', else the first arm
    computed_at: datetime | None = None  # when the stored figures were computed

    def age(self, now: datetime) -> timedelta | None:
        return None if self.computed_at is None else max(timedelta(0), now - self.computed_at)

    def to_json(self) -> dict:
        return {
            "campaign": self.campaign_id,
            "computed_at": self.computed_at.isoformat() if self.computed_at else None,
            "first_sent_at": self.first_sent_at.isoformat() if self.first_sent_at
            else None, "days_left": self.days_left, "baseline": self.baseline,
            "test": "two-sided two-proportion z-test (pooled)",
            "arms": [{"label": arm.label, "recipients": arm.recipients, "sent": arm.sent, "failed": arm.failed,
                      "unsubscribed": arm.unsubscribed,
                      "windows": {str(days): {"buyers": w.buyers, "buyer_share": w.buyer_share(arm.recipients),
                                              "revenue": str(w.revenue),
                                              "revenue_per_recipient": w.revenue_per_recipient(arm.recipients),
                                              "complete": w.complete}
                                  for days, w in arm.windows.items()}} for arm in self.arms],
            "comparisons": [{"label": c.label, "days": c.days, "share_difference": c.share_difference,
                             "revenue_difference": c.revenue_difference, "p_value": c.p_value,
                             "significant": c.significant} for c in self.comparisons],
        }


def two_proportion_p_value(successes_a: int, total_a: int, successes_b: int, total_b: int) -> float | None:
    """Two-sided p-value of the pooled two-proportion z-test; None when it cannot be computed."""
    if not total_a or not total_b:
        return None
    pooled = (successes_a + successes_b) / (total_a + total_b)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / total_a + 1 / total_b))
    if spread == 0:
        return None
    z = (successes_a / total_a - successes_b / total_b) / spread
    return math.erfc(abs(z) / math.sqrt(2))


# The results statement is public.campaign_results_compute (0020); public.campaign_results_refresh stores its rows
# in campaign_result, which the view reads: the computation takes seconds on a large base, the read milliseconds.
_RESULTS = "SELECT * FROM public.campaign_results_compute(%(campaign)s)"
_STORED = ("SELECT arm, days, recipients, sent, failed, unsubscribed, buyers, revenue, first_sent_at, last_sent_at,"
           " computed_at FROM public.campaign_result WHERE campaign_id = %s ORDER BY arm, days")
# Stored figures older than this are computed again when the results are viewed; the daily `triggers run`
# recomputes those older than REFRESH_AFTER, so a view the next day finds them ready.
STALE_AFTER = timedelta(days=1)
REFRESH_AFTER = timedelta(hours=12)


def _stale(stored: list[dict], now: datetime, older_than: timedelta) -> bool:
    """No figures yet, or figures older than `older_than` while purchases can still change them (until the
    last recipient's 90 days have passed since the figures were computed)."""
    if not stored:
        return True
    computed, last_sent = stored[0]["computed_at"], stored[0]["last_sent_at"]
    following = last_sent is None or computed < last_sent + timedelta(days=max(WINDOWS))
    return following and computed < now - older_than


def refresh(conn: psycopg.Connection, campaign_id: int) -> None:
    """Computes the campaign's results again and stores them."""
    with conn.transaction():
        conn.execute("SELECT public.campaign_results_refresh(%s)", (campaign_id,))


def refresh_stale(conn: psycopg.Connection, now: datetime) -> int:
    """Recomputes every stored campaign's results that are older than REFRESH_AFTER and still followed (the
    daily `triggers run` calls this); returns how many campaigns it recomputed."""
    stale = rows.values(conn.execute(
        "SELECT campaign_id FROM public.campaign_result GROUP BY campaign_id"
        " HAVING min(computed_at) < %s"
        "    AND (max(last_sent_at) IS NULL OR min(computed_at) < max(last_sent_at) + make_interval(days => %s))",
        (now - REFRESH_AFTER, max(WINDOWS))))
    for campaign_id in stale:
        refresh(conn, campaign_id)
    return len(stale)


def results(conn: psycopg.Connection, campaign_id: int, now: datetime, *, recompute: bool = False) -> Results:
    """The campaign's results per arm, from the stored figures; computed first when there are none, when they
    are stale (STALE_AFTER) or when `recompute` asks for it. Results.computed_at says how old they are."""
    if rows.value(conn.execute("SELECT id FROM campaign WHERE id = %s", (campaign_id,))) is None:
        raise UserError(N_("There is no campaign {id}."), id=campaign_id)
    stored = rows.dicts(conn.execute(_STORED, (campaign_id,)))
    if recompute or _stale(stored, now, STALE_AFTER):
        refresh(conn, campaign_id)
        stored = rows.dicts(conn.execute(_STORED, (campaign_id,)))
    return _from_rows(campaign_id, stored, now)


def _from_rows(campaign_id: int, counted: list[dict], now: datetime) -> Results:
    first_sent = counted[0]["first_sent_at"] if counted else None
    last_sent = counted[0]["last_sent_at"] if counted else None
    computed_at = counted[0]["computed_at"] if counted else None
    arms: dict[str, ArmResult] = {}
    for row in counted:
        arm = arms.get(row["arm"]) or ArmResult(row["arm"], row["recipients"], row["sent"], row["failed"],
                                                 row["unsubscribed"], {})
        complete = last_sent is not None and now >= last_sent + timedelta(days=row["days"])
        arm.windows[row["days"]] = Window(row["days"], row["buyers"], Decimal(row["revenue"]), complete)
        arms[row["arm"]] = arm
    ordered = sorted((arm for label, arm in arms.items() if label != HOLDOUT), key=lambda arm: arm.label)
    baseline = arms.get(HOLDOUT) or (ordered[0] if ordered else None)
    comparisons = []
    if baseline is not None:
        for arm in ordered:
            if arm is baseline:
                continue
            for days in WINDOWS:
                ours, theirs = arm.windows[days], baseline.windows[days]
                p_value = two_proportion_p_value(ours.buyers, arm.recipients, theirs.buyers, baseline.recipients)
                comparisons.append(Comparison(
                    arm.label, days,
                    ours.buyer_share(arm.recipients) - theirs.buyer_share(baseline.recipients),
                    ours.revenue_per_recipient(arm.recipients) - theirs.revenue_per_recipient(baseline.recipients),
                    p_value, p_value is not None and p_value < 0.05))
    # The follow-up lasts until the last recipient's 90 days have passed.
    days_left = max(WINDOWS) if last_sent is None else max(0, max(WINDOWS) - (now - last_sent).days)
    listed = ordered + ([arms[HOLDOUT]] if HOLDOUT in arms else [])
    return Results(campaign_id, first_sent, days_left, listed, comparisons,
                   HOLDOUT if HOLDOUT in arms else (ordered[0].label if ordered else ""), computed_at)
