"""A split campaign's results in the mailing screen, by real keys at 80x24: per arm and window the figures the test
computes itself from the message and purchase rows, the difference from the holdout with the pooled z-test worked
out by hand, the days left of the follow-up, the F1 help naming the test, and r recomputing in a worker."""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from db.i18n import t
from db.mailing import campaigns
from screens.help import HelpScreen
from screens.mailing.campaign import CampaignScreen
from screens.mailing.results import ResultsScreen
from tests.pilot import screen_lines, screen_text, settle, wait_for
from tests.test_mailing_fixtures import add_client
from tests.test_mailing_screen import make_app, open_mailing
from tests.test_splits import _expected, split_campaign

SENT_DAYS_AGO = 40


@pytest.fixture
def split(fresh_db):
    """120 clients in a split A/B with a 20 % holdout, sent 40 days ago (by the real clock: the stored figures
    are stamped by the database's), a few failed, and purchases from before the sending to well after."""
    rng = random.Random(1515)
    now = datetime.now(timezone.utc)
    sent_at = now - timedelta(days=SENT_DAYS_AGO, hours=6)
    with fresh_db.connect() as setup:
        clients = [add_client(setup, f"Клиент{i}", email=f"c{i}@example.com") for i in range(120)]
        setup.commit()
    with fresh_db.connect("admin", autocommit=True) as conn:
        campaign_id = split_campaign(conn, [1, 1], 20)
        campaigns.start(conn, campaign_id, now=sent_at)
    with fresh_db.connect() as setup:
        queued = [row[0] for row in setup.execute(
            "SELECT id FROM message WHERE campaign_id = %s AND status = 'queued' ORDER BY id", (campaign_id,))]
        for index, message_id in enumerate(queued):
            status = "failed" if index % 20 == 0 else "sent"
            setup.execute("UPDATE message SET status = %s, sent_at = %s WHERE id = %s",
                          (status, sent_at + timedelta(minutes=index) if status == "sent" else None, message_id))
        for client_id in clients:
            for _ in range(rng.randint(0, 2)):
                setup.execute("INSERT INTO purchase (client_id, purchased_at, amount) VALUES (%s, %s, %s)",
                              (client_id, sent_at + timedelta(days=rng.uniform(-10, SENT_DAYS_AGO - 1)),
                               Decimal(rng.randint(100, 3000))))
        setup.commit()
    yield fresh_db, campaign_id, clients
    from db.models import database

    database.close_all()


def pooled_z_p_value(bought_a: int, total_a: int, bought_b: int, total_b: int) -> float:
    """The two-sided p-value of the pooled two-proportion z-test, from the textbook formula."""
    pooled = (bought_a + bought_b) / (total_a + total_b)
    z = (bought_a / total_a - bought_b / total_b) / math.sqrt(pooled * (1 - pooled) * (1 / total_a + 1 / total_b))
    return 2 * (1 - 0.5 * (1 + math.erf(abs(z) / math.sqrt(2))))


def row(app, arm: str, days: str) -> list[str]:
    for line in screen_lines(app):
        cells = line.split()
        if len(cells) >= 2 and cells[0] == arm and cells[1] == days:
            return cells
    raise AssertionError(f"no row {arm} {days} in:\n{screen_text(app)}")


async def open_results(app, pilot, campaign_id: int) -> None:
    await open_mailing(app, pilot)
    app.screen.query_one("#campaign-list").focus()
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(app.screen, CampaignScreen) and app.screen.campaign_id == campaign_id
    await pilot.press("r")
    await settle(pilot)
    assert isinstance(app.screen, ResultsScreen)


async def test_the_results_per_arm_match_the_purchases_and_the_holdout(split):
    db, campaign_id, clients = split
    with db.connect() as conn:
        expected = _expected(conn, campaign_id, datetime.now(timezone.utc))
    holdout = expected["holdout"]
    app = make_app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_results(app, pilot, campaign_id)
        text = " ".join(screen_text(app).split())
        assert t("{count} days left of the 90-day follow-up.", count=90 - SENT_DAYS_AGO) in text
        for arm in ("A", "B"):
            mine = expected[arm]
            counts = next(line.split() for line in screen_lines(app) if line.split()[:1] == [arm]
                          and len(line.split()) == 5)
            assert counts[1:4] == [str(mine["recipients"]), str(mine["recipients"]), str(mine["failed"])]
            for days in (30, 60, 90):
                buyers, revenue = mine[days]
                share = buyers / mine["recipients"]
                per_recipient = revenue / mine["recipients"]
                held_share = holdout[days][0] / holdout["recipients"]
                held_per_recipient = holdout[days][1] / holdout["recipients"]
                cells = row(app, arm, str(days) if days == 30 else f"{days}…")
                assert cells[2] == f"{share:.1%}", (arm, days)
                assert cells[3] == f"{per_recipient:,.2f}", (arm, days)
                assert cells[4] == f"{(share - held_share) * 100:+.1f}", (arm, days)
                assert cells[5] == f"{per_recipient - held_per_recipient:+,.2f}", (arm, days)
                p_value = pooled_z_p_value(buyers, mine["recipients"], holdout[days][0], holdout["recipients"])
                assert cells[6] == f"{p_value:.3f}", (arm, days)
                assert cells[7] == (t("yes") if p_value < 0.05 else t("no"))
        assert row(app, t("holdout"), "30")[2] == f"{holdout[30][0] / holdout['recipients']:.1%}"

        # F1 names the test and what the figures mean.
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert t("Help: {screen}", screen=t("Results of campaign {id}", id=campaign_id)) in screen_text(app)
        assert "pooled two-proportion z-test, two-sided, 5 %" in str(app.screen.query_one("#help-paragraph").content)
        await pilot.press("escape")
        await settle(pilot)

        # A purchase after the figures were stored: shown only once r recomputes them.
        client_a = next(client for client in clients if _arm_of(db, campaign_id, client) == "A")
        with db.connect() as setup:
            sent_at = setup.execute("SELECT sent_at FROM message WHERE campaign_id = %s AND client_id = %s",
                                    (campaign_id, client_a)).fetchone()[0]
            setup.execute("INSERT INTO purchase (client_id, purchased_at, amount) VALUES (%s, %s, 1000000)",
                          (client_a, sent_at + timedelta(days=1)))
            setup.commit()
        before = row(app, "A", "30")[3]
        await pilot.press("r")
        await settle(pilot)
        with db.connect() as conn:
            again = _expected(conn, campaign_id, datetime.now(timezone.utc))["A"]
        after = row(app, "A", "30")[3]
        assert after != before and after == f"{again[30][1] / again['recipients']:,.2f}"
        assert t("Computed just now.") in " ".join(screen_text(app).split())


def _arm_of(db, campaign_id: int, client_id: int) -> str | None:
    with db.connect() as conn:
        found = conn.execute(
            "SELECT v.label FROM message m JOIN campaign_variant v ON v.id = m.variant_id"
            " WHERE m.campaign_id = %s AND m.client_id = %s AND m.status = 'sent'", (campaign_id, client_id)).fetchone()
    return found[0] if found else None
