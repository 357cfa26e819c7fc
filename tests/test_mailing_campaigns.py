"""Campaigns: one set-based enqueue with a row, and a reason, for every client left out."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from db.errors import UserError
from db.mailing import campaigns
from tests.test_mailing_fixtures import add_client, email_campaign, states

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=timezone.utc)


def test_enqueue_gives_every_client_a_row_and_every_exclusion_its_reason(fresh_db):
    with fresh_db.connect() as setup:
        ok = add_client(setup, "Анна", email="anna@example.com")
        refused = add_client(setup, "Борис", email="boris@example.com", consent_email=False)
        no_address = add_client(setup, "Вера")
        bad_address = add_client(setup, "Глеб", email="not-an-address")
        suppressed = add_client(setup, "Дина", email="dina@example.com")
        nameless = add_client(setup, None, "Ершов", email="ershov@example.com")
        first_of_two = add_client(setup, "Жанна", email="shared@example.com")
        second_of_two = add_client(setup, "Зоя", email="shared@example.com")
        capped = add_client(setup, "Илья", email="ilya@example.com")
        setup.execute("INSERT INTO suppression (channel, address, reason) VALUES ('email', 'dina@example.com',"
                      " 'unsubscribed')")
        setup.commit()
    with fresh_db.connect("admin", autocommit=True) as conn:
        earlier = email_campaign(conn, "Лето")
        conn.execute("UPDATE campaign SET status = 'done' WHERE id = %s", (earlier,))
        for days_ago in (1, 2):
            conn.execute("INSERT INTO message (campaign_id, client_id, channel, address, status, sent_at)"
                         " VALUES (%s, %s, 'email', 'x', 'sent', %s)", (earlier, capped, NOW - timedelta(days_ago)))
            earlier = email_campaign(conn, f"Лето {days_ago}")
        campaign = email_campaign(conn)
        assert campaigns.start(conn, campaign, now=NOW) == 9
        assert states(conn, campaign) == {
            ok: ("queued", None), refused: ("skipped", "no consent"), no_address: ("skipped", "no valid address"),
            bad_address: ("skipped", "no valid address"), suppressed: ("skipped", "suppressed"),
            nameless: ("skipped", "missing first_name"), first_of_two: ("queued", None),
            second_of_two: ("skipped", "duplicate address"), capped: ("skipped", "frequency cap")}
        progress = campaigns.progress(conn, campaign)
        assert progress.campaign.status == "sending"
        assert progress.by_state["queued"] == 2 and progress.by_state["skipped"] == 7
        assert progress.by_skip_reason["no valid address"] == 2
        # A second start is refused, and could not enqueue anyone twice anyway.
        with pytest.raises(UserError):
            campaigns.start(conn, campaign, now=NOW)


def test_greetings_stop_only_at_an_explicit_no_and_ignore_the_cap(fresh_db):
    with fresh_db.connect() as setup:
        never_asked = add_client(setup, "Анна", email="anna@example.com", consent_email=False)
        said_no = add_client(setup, "Борис", email="boris@example.com", consent_email=False, refused_at=True)
        setup.commit()
    with fresh_db.connect("admin", autocommit=True) as conn:
        greeting = email_campaign(conn, "С днём рождения", purpose="greeting")
        campaigns.start(conn, greeting, now=NOW)
        assert states(conn, greeting) == {never_asked: ("queued", None), said_no: ("skipped", "no consent")}
        marketing = email_campaign(conn, "Распродажа")
        campaigns.start(conn, marketing, now=NOW)
        assert states(conn, marketing)[never_asked] == ("skipped", "no consent")


def test_a_segment_is_the_audience_and_all_is_everyone(fresh_db):
    with fresh_db.connect() as setup:
        moscow = add_client(setup, "Анна", email="anna@example.com", city="Москва")
        add_client(setup, "Борис", email="boris@example.com", city="Тверь")
        setup.execute("""INSERT INTO segment (name, filter) VALUES ('Москва', '{"filters": {"city": "Москва"}}')""")
        setup.commit()
    with fresh_db.connect("admin", autocommit=True) as conn:
        campaign = email_campaign(conn, segment="Москва")
        campaigns.start(conn, campaign, now=NOW)
        assert list(states(conn, campaign)) == [moscow]
        everyone = email_campaign(conn, "Все")
        assert campaigns.start(conn, everyone, now=NOW) == 2
        with pytest.raises(UserError, match="no segment"):
            email_campaign(conn, "Нет", segment="Нет такого")


def test_pause_resume_cancel_follow_the_rules(fresh_db):
    with fresh_db.connect() as setup:
        add_client(setup, "Анна", email="anna@example.com")
        setup.commit()
    with fresh_db.connect("admin", autocommit=True) as conn:
        # Scheduled by the real clock: the database promotes a campaign whose time has come (mailing_settle).
        later = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=1)
        campaign = email_campaign(conn, scheduled_at=later)
        with pytest.raises(UserError, match="cannot be resumed"):
            campaigns.resume(conn, campaign)
        campaigns.start(conn, campaign, now=NOW)
        assert campaigns.get(conn, campaign).status == "scheduled"
        not_before = conn.execute("SELECT not_before FROM message WHERE campaign_id = %s", (campaign,)).fetchone()[0]
        assert not_before == later
        campaigns.pause(conn, campaign)
        campaigns.resume(conn, campaign)
        assert campaigns.get(conn, campaign).status == "sending"
        campaigns.cancel(conn, campaign)
        assert campaigns.progress(conn, campaign).by_state["cancelled"] == 1
        with pytest.raises(UserError):
            campaigns.pause(conn, campaign)
        assert [c.id for c in campaigns.list_campaigns(conn)][0] == campaign


@pytest.mark.parametrize("role", ["sales", "manager", "mailer"])
def test_only_the_administrator_makes_or_starts_campaigns(fresh_db, role):
    with fresh_db.connect("admin", autocommit=True) as conn:
        campaign = email_campaign(conn)
    with fresh_db.connect(role, autocommit=True) as conn:
        for action in (campaigns.start, campaigns.pause, campaigns.cancel):
            with pytest.raises(UserError):
                action(conn, campaign)


def test_a_campaign_that_reaches_nobody_is_done_at_once(fresh_db):
    with fresh_db.connect() as setup:
        add_client(setup, "Анна", email="anna@example.com", consent_email=False)
        setup.commit()
    with fresh_db.connect("admin", autocommit=True) as conn:
        campaign = email_campaign(conn)
        campaigns.start(conn, campaign, now=NOW)
        assert campaigns.get(conn, campaign).status == "done"


def test_the_progress_tally_follows_every_change_of_the_queue(fresh_db):
    def counted_directly(conn, campaign_id):
        return {(status, reason): count for status, reason, count in conn.execute(
            "SELECT status, skip_reason, count(*) FROM message WHERE campaign_id = %s GROUP BY 1, 2",
            (campaign_id,))}

    def tallied(conn, campaign_id):
        return {(status, reason): count for status, reason, count in conn.execute(
            "SELECT * FROM public.mailing_progress(%s::bigint)", (campaign_id,))}

    with fresh_db.connect() as setup:
        clients = [add_client(setup, f"Имя{n}", email=f"c{n}@example.com") for n in range(6)]
        add_client(setup, "Без", email="x@example.com", consent_email=False)
        setup.commit()
    with fresh_db.connect("admin", autocommit=True) as conn:
        campaign = email_campaign(conn)
        campaigns.start(conn, campaign, now=NOW)
        assert tallied(conn, campaign) == counted_directly(conn, campaign) == {
            ("queued", None): 6, ("skipped", "no consent"): 1}
    with fresh_db.connect() as owner:  # a worker's marks, a client deleted, then part of the queue cancelled
        owner.execute("UPDATE message SET status = 'sending' WHERE client_id = ANY(%s)", (clients[:3],))
        owner.execute("UPDATE message SET status = 'sent' WHERE client_id = %s", (clients[0],))
        owner.execute("UPDATE message SET status = 'failed' WHERE client_id = %s", (clients[1],))
        owner.execute("DELETE FROM client WHERE id = %s", (clients[5],))
        owner.commit()
    with fresh_db.connect("admin", autocommit=True) as conn:
        campaigns.cancel(conn, campaign)
        assert tallied(conn, campaign) == counted_directly(conn, campaign) == {
            ("sent", None): 1, ("failed", None): 1, ("sending", None): 1, ("cancelled", None): 2,
            ("skipped", "no consent"): 1}
        other = email_campaign(conn, "Другая")
        campaigns.start(conn, other, now=NOW)
        conn.execute("DELETE FROM campaign WHERE id = %s", (campaign,))
        assert tallied(conn, campaign) == {}
        assert tallied(conn, other) == counted_directly(conn, other)
