"""Split tests: reproducible assignment that follows the shares on 100,000 clients, and 30/60/90-day results
computed here independently from the purchases table, arm by arm, with the significance test checked by scipy."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections import Counter
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from scipy import stats

from db.mailing import campaigns, splits
from tests.test_mailing_fixtures import add_client, save_template
from tui.mailing.render import TemplateText

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=timezone.utc)


def _template(letter: str) -> TemplateText:
    return TemplateText(channel="email", subject=f"Offer {letter}", body=f"Hello{{{{ ', ' + first_name if first_name "
                        f"else '' }}}}! Offer {letter}.\n")


def split_campaign(conn, shares: list[int], holdout: float, name: str = "Split") -> int:
    ids = [(save_template(conn, f"{name} {chr(65 + i)}", _template(chr(65 + i))), share)
           for i, share in enumerate(shares)]
    campaign_id = campaigns.create(conn, name=name, channel="email", template_id=ids[0][0], segment=None)
    splits.add_variants(conn, campaign_id, ids, holdout)
    return campaign_id


def arms(conn, campaign_id: int) -> dict[int, str]:
    return dict(conn.execute(
        "SELECT m.client_id, CASE WHEN m.skip_reason = 'holdout' THEN 'holdout' ELSE v.label END"
        "  FROM message m LEFT JOIN campaign_variant v ON v.id = m.variant_id WHERE m.campaign_id = %s",
        (campaign_id,)).fetchall())


def test_assignment_is_reproducible_and_follows_the_shares_on_100000_clients(fresh_db):
    total = 100_000
    with fresh_db.connect() as setup:
        setup.execute("INSERT INTO client (first_name, last_name, consent_email, consent_email_at)"
                      " SELECT 'Имя' || g, 'Фамилия', true, now() FROM generate_series(1, %s) g", (total,))
        setup.execute("INSERT INTO contact_point (client_id, kind, value, normalized, is_primary)"
                      " SELECT id, 'email', 'c' || id || '@example.com', 'c' || id || '@example.com', true"
                      "  FROM client")
        setup.commit()
    with fresh_db.connect("admin", autocommit=True) as conn:
        campaign_id = split_campaign(conn, [50, 30, 20], 10)
        assert campaigns.start(conn, campaign_id, now=NOW) == total
        first = arms(conn, campaign_id)
        assert conn.execute("SELECT count(*) FROM message WHERE campaign_id = %s AND status = 'queued'",
                            (campaign_id,)).fetchone()[0] == total - Counter(first.values())["holdout"]
    counts = Counter(first.values())
    expected = {"holdout": 0.10, "A": 0.45, "B": 0.27, "C": 0.18}
    for arm, share in expected.items():
        # Five standard errors of a binomial share: a failure here is not bad luck.
        tolerance = 5 * (share * (1 - share) / total) ** 0.5
        assert abs(counts[arm] / total - share) < tolerance, (arm, counts[arm])
    # The bucket is a hash of the two ids, the same computed anywhere: Python agrees with the database.
    held, uppers = splits.boundaries(10, [50, 30, 20])
    for client_id in random.Random(7).sample(sorted(first), 500):
        bucket = splits.bucket(campaign_id, client_id)
        label = "holdout" if bucket < held else "ABC"[next(i for i, upper in enumerate(uppers) if bucket < upper)]
        assert first[client_id] == label
    # Enqueued again from scratch, every client lands in the same arm.
    with fresh_db.connect() as conn:
        conn.execute("DELETE FROM message WHERE campaign_id = %s", (campaign_id,))
        conn.execute("UPDATE campaign SET status = 'draft' WHERE id = %s", (campaign_id,))
        conn.commit()
    with fresh_db.connect("admin", autocommit=True) as conn:
        campaigns.start(conn, campaign_id, now=NOW + timedelta(days=1))
        assert arms(conn, campaign_id) == first


def _expected(conn, campaign_id: int, now: datetime) -> dict[str, dict]:
    """The results recomputed in Python from the message and purchase rows."""
    messages = conn.execute(
        "SELECT m.client_id, m.status, m.sent_at, m.skip_reason, v.label FROM message m"
        "  LEFT JOIN campaign_variant v ON v.id = m.variant_id WHERE m.campaign_id = %s", (campaign_id,)).fetchall()
    first_sent = min(sent_at for _, status, sent_at, _, _ in messages if status == "sent")
    purchases: dict[int, list[tuple[datetime, Decimal]]] = {}
    for client_id, at, amount in conn.execute("SELECT client_id, purchased_at, amount FROM purchase"):
        purchases.setdefault(client_id, []).append((at, amount))
    result: dict[str, dict] = {}
    for client_id, status, sent_at, reason, label in messages:
        arm = "holdout" if reason == "holdout" else label
        if arm is None or (arm != "holdout" and status not in ("sent", "failed")):
            continue
        entry = result.setdefault(arm, {"recipients": 0, "failed": 0, **{d: [0, Decimal(0)] for d in (30, 60, 90)}})
        if status == "failed":
            entry["failed"] += 1
            continue
        entry["recipients"] += 1
        since = sent_at or first_sent
        for days in (30, 60, 90):
            bought = [amount for at, amount in purchases.get(client_id, []) if since < at <= since + timedelta(days)]
            entry[days][0] += bool(bought)
            entry[days][1] += sum(bought, Decimal(0))
    return result


def test_results_per_arm_match_the_purchases_30_60_90_days_after_sending(fresh_db):
    rng = random.Random(15)
    with fresh_db.connect() as setup:
        clients = [add_client(setup, f"Клиент{i}", email=f"c{i}@example.com") for i in range(240)]
        setup.commit()
    with fresh_db.connect("admin", autocommit=True) as conn:
        campaign_id = split_campaign(conn, [1, 1], 20)
        campaigns.start(conn, campaign_id, now=NOW)
    sent_at = datetime(2026, 9, 1, 10, tzinfo=timezone.utc)
    with fresh_db.connect() as setup:
        queued = [row[0] for row in setup.execute(
            "SELECT id FROM message WHERE campaign_id = %s AND status = 'queued' ORDER BY id", (campaign_id,))]
        for index, message_id in enumerate(queued):
            status = "failed" if index % 25 == 0 else "sent"
            setup.execute("UPDATE message SET status = %s, sent_at = %s WHERE id = %s",
                          (status, sent_at + timedelta(minutes=index) if status == "sent" else None, message_id))
        for client_id in clients:
            for _ in range(rng.randint(0, 3)):
                offset = timedelta(days=rng.uniform(-20, 120))
                setup.execute("INSERT INTO purchase (client_id, purchased_at, amount) VALUES (%s, %s, %s)",
                              (client_id, sent_at + offset, Decimal(rng.randint(100, 5000))))
        unsubscribed = setup.execute("SELECT address FROM message WHERE campaign_id = %s AND status = 'sent'"
                                     " ORDER BY id LIMIT 3", (campaign_id,)).fetchall()
        for (address,) in unsubscribed:
            setup.execute("INSERT INTO suppression (channel, address, reason, created_at)"
                          " VALUES ('email', %s, 'unsubscribed', %s)", (address, sent_at + timedelta(days=2)))
        setup.commit()
    now = sent_at + timedelta(days=50, hours=5)  # the last message went out 4 hours after the first
    with fresh_db.connect("admin") as conn:
        found = splits.results(conn, campaign_id, now)
        expected = _expected(conn, campaign_id, now)
    assert {arm.label for arm in found.arms} == {"A", "B", "holdout"} == set(expected)
    for arm in found.arms:
        mine = expected[arm.label]
        assert arm.recipients == mine["recipients"] and arm.failed == mine["failed"], arm.label
        for days in (30, 60, 90):
            assert arm.windows[days].buyers == mine[days][0], (arm.label, days)
            assert arm.windows[days].revenue == mine[days][1], (arm.label, days)
        assert arm.windows[30].complete and not arm.windows[60].complete
    assert sum(arm.unsubscribed for arm in found.arms) == 3
    assert found.baseline == "holdout" and found.days_left == 90 - 50
    holdout = next(arm for arm in found.arms if arm.label == "holdout")
    for comparison in found.comparisons:
        arm = next(a for a in found.arms if a.label == comparison.label)
        assert comparison.share_difference == pytest.approx(
            arm.windows[comparison.days].buyers / arm.recipients
            - holdout.windows[comparison.days].buyers / holdout.recipients)
        assert comparison.p_value == pytest.approx(splits.two_proportion_p_value(
            arm.windows[comparison.days].buyers, arm.recipients, holdout.windows[comparison.days].buyers,
            holdout.recipients))


def _sent_split(fresh_db, clients: int = 60, sent_at: datetime = NOW) -> tuple[int, list[int], datetime]:
    with fresh_db.connect() as setup:
        ids = [add_client(setup, f"Клиент{i}", email=f"c{i}@example.com") for i in range(clients)]
        setup.commit()
    with fresh_db.connect("admin", autocommit=True) as conn:
        campaign_id = split_campaign(conn, [1, 1], 20)
        campaigns.start(conn, campaign_id, now=NOW)
    with fresh_db.connect() as setup:
        setup.execute("UPDATE message SET status = 'sent', sent_at = %s WHERE campaign_id = %s AND status = 'queued'",
                      (sent_at, campaign_id))
        setup.commit()
    return campaign_id, ids, sent_at


def _buyers(found: splits.Results) -> int:
    return sum(arm.windows[30].buyers for arm in found.arms)


def test_results_are_stored_and_computed_again_when_stale_or_asked(fresh_db):
    # Figures are stamped with the database's clock, so the follow-up runs on the real one here.
    now = datetime.now(timezone.utc)
    campaign_id, clients, sent_at = _sent_split(fresh_db, sent_at=now - timedelta(days=10))
    with fresh_db.connect("admin", autocommit=True) as conn:
        first = splits.results(conn, campaign_id, now)
        assert _buyers(first) == 0 and first.computed_at is not None
        stored = conn.execute("SELECT count(*) FROM campaign_result WHERE campaign_id = %s", (campaign_id,))
        assert stored.fetchone()[0] == 3 * len(splits.WINDOWS)
    with fresh_db.connect() as setup:
        for client_id in clients:
            setup.execute("INSERT INTO purchase (client_id, purchased_at, amount) VALUES (%s, %s, 100)",
                          (client_id, sent_at + timedelta(days=3)))
        setup.commit()
    with fresh_db.connect("admin", autocommit=True) as conn:
        # Fresh stored figures are read as they are, and say when they were computed.
        again = splits.results(conn, campaign_id, now)
        assert _buyers(again) == 0 and again.computed_at == first.computed_at
        # Asked for, or a day older than the view, they are computed again.
        asked = splits.results(conn, campaign_id, now, recompute=True)
        assert _buyers(asked) == len(clients) and asked.computed_at > first.computed_at
        later = asked.computed_at + splits.STALE_AFTER + timedelta(minutes=1)
        assert splits.results(conn, campaign_id, later).computed_at > asked.computed_at
        # The daily run recomputes what is older than REFRESH_AFTER, and nothing younger.
        assert splits.refresh_stale(conn, later + splits.REFRESH_AFTER) == 1
        assert splits.refresh_stale(conn, datetime.now(timezone.utc) + timedelta(hours=1)) == 0


def test_only_the_refresh_writes_stored_results_and_every_reader_may_ask_for_it(fresh_db):
    import psycopg

    campaign_id, _, sent_at = _sent_split(fresh_db, clients=10)
    for role in ("sales", "manager", "admin"):
        with fresh_db.connect(role, autocommit=True) as conn:
            found = splits.results(conn, campaign_id, sent_at + timedelta(days=5), recompute=True)
            assert {arm.label for arm in found.arms} <= {"A", "B", "holdout"}
            for forged in ("UPDATE campaign_result SET buyers = 1000",
                           "DELETE FROM campaign_result",
                           f"INSERT INTO campaign_result (campaign_id, arm, days, recipients, sent, failed,"
                           f" unsubscribed, buyers, revenue, computed_at)"
                           f" VALUES ({campaign_id}, 'Z', 30, 1, 1, 0, 0, 1, 1, now())"):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(forged)
    with fresh_db.connect("mailer", autocommit=True) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT public.campaign_results_refresh(%s)", (campaign_id,))


@pytest.mark.parametrize("case", [(120, 1000, 90, 1000), (30, 200, 45, 210), (7, 50, 2, 60)])
def test_the_significance_test_matches_scipy(case):
    bought_a, total_a, bought_b, total_b = case
    table = [[bought_a, total_a - bought_a], [bought_b, total_b - bought_b]]
    _, scipy_p, _, _ = stats.chi2_contingency(table, correction=False)
    assert splits.two_proportion_p_value(*case) == pytest.approx(scipy_p, rel=1e-9)
    pooled = (bought_a + bought_b) / (total_a + total_b)
    z = (bought_a / total_a - bought_b / total_b) / (pooled * (1 - pooled) * (1 / total_a + 1 / total_b)) ** 0.5
    assert splits.two_proportion_p_value(*case) == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-9)


def test_a_split_needs_two_variants_and_a_draft(fresh_db):
    from db.errors import UserError

    with fresh_db.connect("admin", autocommit=True) as conn:
        template_id = save_template(conn, "one", _template("A"))
        campaign_id = campaigns.create(conn, name="One", channel="email", template_id=template_id, segment=None)
        with pytest.raises(UserError):
            splits.add_variants(conn, campaign_id, [(template_id, 1)])
        campaigns.start(conn, campaign_id, now=NOW)
        with pytest.raises(UserError):
            splits.add_variants(conn, campaign_id, [(template_id, 1), (template_id, 1)])


def test_each_weekly_run_of_a_split_keeps_its_arms_and_holdout(fresh_db):
    from db.mailing.campaigns import Weekly

    with fresh_db.connect() as setup:
        for i in range(400):
            add_client(setup, f"Клиент{i}", email=f"c{i}@example.com")
        setup.commit()
    with fresh_db.connect("admin", autocommit=True) as conn:
        ids = [(save_template(conn, f"Weekly {letter}", _template(letter)), 1) for letter in "AB"]
        parent = campaigns.create(conn, name="Weekly", channel="email", template_id=ids[0][0], segment=None,
                                  weekly=Weekly.parse("MON 10:00"))
        splits.add_variants(conn, parent, ids, 25)
        campaigns.start(conn, parent, now=datetime(2027, 3, 17, 9, tzinfo=timezone.utc))
        run, = campaigns.tick(conn, now=datetime(2027, 3, 22, 8, tzinfo=timezone.utc))
        counts = Counter(arms(conn, run.campaign_id).values())
    assert set(counts) == {"A", "B", "holdout"} and 60 <= counts["holdout"] <= 140, counts


def _cli(db, *args):
    return subprocess.run([sys.executable, "-m", "tui.cli", "--lang", "en", *args], env=db.env("admin"),
                          capture_output=True, text=True, timeout=120)


def test_the_cli_creates_a_split_with_a_holdout_and_shows_its_results(fresh_db, tmp_path):
    with fresh_db.connect() as setup:
        for i in range(40):
            add_client(setup, f"Клиент{i}", email=f"c{i}@example.com")
        setup.commit()
    for letter in "ab":
        (tmp_path / f"{letter}.txt").write_text(f"Subject: Offer {letter}\n\nHello {{{{ first_name }}}}!\n",
                                                encoding="utf-8")
    created = _cli(fresh_db, "campaign", "create", "--name", "Split", "--channel", "email", "--segment", "all",
                   "--variant", f"{tmp_path / 'a.txt'}:70", "--variant", f"{tmp_path / 'b.txt'}:30",
                   "--holdout", "25")
    assert created.returncode == 0, created.stderr
    campaign_id = int(created.stdout.strip())
    assert _cli(fresh_db, "campaign", "start", str(campaign_id)).returncode == 0
    with fresh_db.connect() as conn:
        assert conn.execute("SELECT holdout_percent FROM campaign WHERE id = %s", (campaign_id,)).fetchone() == (25,)
        assert set(arms(conn, campaign_id).values()) == {"A", "B", "holdout"}
        conn.execute("UPDATE message SET status = 'sent', sent_at = %s WHERE campaign_id = %s AND status = 'queued'",
                     (datetime.now(timezone.utc) - timedelta(days=10), campaign_id))
        conn.commit()
    shown = _cli(fresh_db, "campaign", "results", str(campaign_id))
    assert shown.returncode == 0, shown.stderr
    assert "two-proportion z-test" in shown.stdout and "80 days left" in shown.stdout
    as_json = json.loads(_cli(fresh_db, "campaign", "results", str(campaign_id), "--json").stdout)
    assert [arm["label"] for arm in as_json["arms"]] == ["A", "B", "holdout"] and as_json["days_left"] == 80
    refused = _cli(fresh_db, "campaign", "create", "--name", "Bad", "--channel", "email", "--segment", "all",
                   "--variant", f"{tmp_path / 'a.txt'}:70")
    assert refused.returncode != 0 and "two or more --variant" in refused.stderr


def test_the_daily_triggers_run_recomputes_stale_results_and_the_view_says_their_age(fresh_db):
    now = datetime.now(timezone.utc)
    campaign_id, _, _ = _sent_split(fresh_db, clients=20, sent_at=now - timedelta(days=5))
    with fresh_db.connect("admin", autocommit=True) as conn:
        computed = splits.results(conn, campaign_id, now).computed_at
    shown = _cli(fresh_db, "campaign", "results", str(campaign_id))
    assert shown.returncode == 0 and "Figures computed just now." in shown.stdout
    with fresh_db.connect() as owner:  # as if computed yesterday evening
        owner.execute("UPDATE campaign_result SET computed_at = computed_at - interval '13 hours'")
        owner.commit()
    shown = _cli(fresh_db, "campaign", "results", str(campaign_id))
    assert "Figures computed 13 hours ago; --refresh computes them again." in shown.stdout
    ran = _cli(fresh_db, "triggers", "run")
    assert ran.returncode == 0, ran.stderr
    assert "Split test results recomputed for 1 campaign." in ran.stdout
    with fresh_db.connect() as conn:
        stamps = conn.execute("SELECT DISTINCT computed_at FROM campaign_result WHERE campaign_id = %s",
                              (campaign_id,)).fetchall()
    assert len(stamps) == 1 and stamps[0][0] > computed
    refreshed = _cli(fresh_db, "campaign", "results", str(campaign_id), "--refresh")
    assert refreshed.returncode == 0 and "Figures computed just now." in refreshed.stdout
