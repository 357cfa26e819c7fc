"""Weekly campaigns: an occurrence a week on the shop's wall clock, on a clock the test controls."""

from __future__ import annotations

import threading
import zoneinfo
from datetime import datetime, time, timedelta, timezone

import pytest

from db.errors import UserError
from db.mailing import campaigns
from db.mailing.campaigns import Weekly
from tests.test_mailing_fixtures import add_client, email_campaign, set_setting, smtp_sink, states  # noqa: F401
from tui.mailing.delivery import Delivery, Options, SmtpServer

CHISINAU = zoneinfo.ZoneInfo("Europe/Chisinau")  # summer time from 2027-03-28 02:00 to 2027-10-31 03:00


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=CHISINAU)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


def weekly_campaign(conn, name: str = "Новости недели", when: str = "MON 10:00", started: datetime | None = None):
    set_setting(conn, "timezone", "Europe/Chisinau")
    campaign = email_campaign(conn, name, weekly=Weekly.parse(when))
    assert campaigns.start(conn, campaign, now=started or local(2027, 3, 17, 12, 0)) == 0
    return campaign


def test_weekly_text_is_a_weekday_and_an_hour():
    assert Weekly.parse("mon 10:00") == Weekly(0, time(10, 0))
    assert str(Weekly.parse(" SUN  7:05 ")) == "SUN 07:05"
    for wrong in ("MONDAY 10:00", "MON", "MON 24:00", "MON 10:60", "XYZ 10:00", "10:00 MON"):
        with pytest.raises(UserError, match="weekly time"):
            Weekly.parse(wrong)


def test_the_hour_stays_on_the_shops_wall_clock_across_a_dst_change(fresh_db):
    with fresh_db.connect() as setup:
        add_client(setup, "Анна", email="anna@example.com")
        setup.commit()
    with fresh_db.connect("admin", autocommit=True) as conn:
        parent = weekly_campaign(conn)
        assert campaigns.get(conn, parent).status == "scheduled"
        # Monday 22 March is still winter time (+02), Monday 29 March summer time (+03).
        assert campaigns.get(conn, parent).next_run_at == utc(2027, 3, 22, 8, 0)
        assert campaigns.tick(conn, now=utc(2027, 3, 22, 7, 59)) == []
        first, = campaigns.tick(conn, now=utc(2027, 3, 22, 8, 0))
        assert first.at == utc(2027, 3, 22, 8, 0) and first.enqueued == 1
        assert campaigns.get(conn, parent).next_run_at == utc(2027, 3, 29, 7, 0)
        assert campaigns.tick(conn, now=utc(2027, 3, 29, 6, 59)) == []
        second, = campaigns.tick(conn, now=utc(2027, 3, 29, 7, 0))
        assert second.at.astimezone(CHISINAU) == local(2027, 3, 29, 10, 0)
        # And back to winter time at the end of October.
        assert Weekly.parse("MON 10:00").around(utc(2027, 11, 1, 8, 30), CHISINAU) == (
            utc(2027, 11, 1, 8, 0), utc(2027, 11, 8, 8, 0))
        assert Weekly.parse("MON 10:00").around(utc(2027, 10, 25, 7, 30), CHISINAU) == (
            utc(2027, 10, 25, 7, 0), utc(2027, 11, 1, 8, 0))
        children = campaigns.occurrences(conn, parent)
        assert [child.id for child in children] == [second.campaign_id, first.campaign_id]
        assert all(child.parent_id == parent for child in children)
        assert children[0].name == "Новости недели · 2027-03-29 10:00"
        assert campaigns.get(conn, parent).status == "scheduled"  # a weekly campaign is never done


def test_an_hour_the_spring_change_skips_comes_an_hour_later_and_a_repeated_one_comes_once():
    # 28 March 2027, 02:30 does not exist in Chisinau: the clock jumps from 02:00 to 03:00.
    weekly = Weekly.parse("SUN 02:30")
    latest, following = weekly.around(utc(2027, 3, 28, 12, 0), CHISINAU)
    assert latest == utc(2027, 3, 28, 0, 30) and latest.astimezone(CHISINAU).hour == 3
    assert following.astimezone(CHISINAU) == local(2027, 4, 4, 2, 30)
    # 31 October 2027, 02:30 happens twice (03:00 goes back to 02:00): the first one, a week after the last.
    latest, following = weekly.around(utc(2027, 10, 31, 12, 0), CHISINAU)
    assert latest == utc(2027, 10, 30, 23, 30)
    assert following - latest == timedelta(days=7, hours=1)


def test_each_occurrence_enqueues_the_audience_as_it_is_then(fresh_db):
    with fresh_db.connect() as setup:
        anna = add_client(setup, "Анна", email="anna@example.com")
        setup.commit()
    with fresh_db.connect("admin", autocommit=True) as conn:
        parent = weekly_campaign(conn)
        first, = campaigns.tick(conn, now=utc(2027, 3, 22, 8, 5))
        with fresh_db.connect() as setup:
            boris = add_client(setup, "Борис", email="boris@example.com")
            setup.commit()
        second, = campaigns.tick(conn, now=utc(2027, 3, 29, 7, 5))
        assert states(conn, first.campaign_id) == {anna: ("queued", None)}
        assert states(conn, second.campaign_id) == {anna: ("queued", None), boris: ("queued", None)}
        # Each week's run has its own progress; the parent holds no message.
        assert campaigns.progress(conn, second.campaign_id).by_state["queued"] == 2
        assert sum(campaigns.progress(conn, parent).by_state.values()) == 0


def test_missed_weeks_are_caught_up_once_not_twice(fresh_db):
    with fresh_db.connect() as setup:
        add_client(setup, "Анна", email="anna@example.com")
        setup.commit()
    with fresh_db.connect("admin", autocommit=True) as conn:
        parent = weekly_campaign(conn)
        # No sender ran for three Mondays; on Wednesday one occurrence is made, for the latest Monday.
        late = utc(2027, 4, 7, 9, 0)
        made, = campaigns.tick(conn, now=late)
        assert made.at == utc(2027, 4, 5, 7, 0)
        assert campaigns.tick(conn, now=late) == []  # a second sender, or the same one restarted
        assert campaigns.tick(conn, now=late + timedelta(days=2)) == []
        assert len(campaigns.occurrences(conn, parent)) == 1
        assert campaigns.get(conn, parent).next_run_at == utc(2027, 4, 12, 7, 0)


def test_two_senders_ticking_at_once_make_one_occurrence(fresh_db):
    with fresh_db.connect() as setup:
        for number in range(200):
            add_client(setup, f"Клиент{number}", email=f"c{number}@example.com")
        setup.commit()
    with fresh_db.connect("admin", autocommit=True) as conn:
        parent = weekly_campaign(conn)
    now = utc(2027, 3, 22, 8, 1)
    barrier = threading.Barrier(3)
    made: list[list] = []

    def sender() -> None:
        with fresh_db.connect("admin", autocommit=True) as conn:
            barrier.wait()
            made.append(campaigns.tick(conn, now=now))

    threads = [threading.Thread(target=sender) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(len(occurrences) for occurrences in made) == [0, 0, 1]
    with fresh_db.connect("admin", autocommit=True) as conn:
        child, = campaigns.occurrences(conn, parent)
        assert campaigns.progress(conn, child.id).by_state["queued"] == 200


def test_pause_and_cancel_stop_future_occurrences(fresh_db):
    with fresh_db.connect() as setup:
        add_client(setup, "Анна", email="anna@example.com")
        setup.commit()
    with fresh_db.connect("admin", autocommit=True) as conn:
        parent = weekly_campaign(conn)
        running, = campaigns.tick(conn, now=utc(2027, 3, 22, 8, 0))
        campaigns.pause(conn, parent)
        assert campaigns.get(conn, running.campaign_id).status == "paused"  # this week's run pauses too
        assert campaigns.tick(conn, now=utc(2027, 3, 29, 8, 0)) == []
        # Resumed on Wednesday: the paused Monday is not caught up, the next one comes.
        campaigns.resume(conn, parent, now=utc(2027, 3, 31, 9, 0))
        assert campaigns.get(conn, parent).status == "scheduled"
        assert campaigns.get(conn, running.campaign_id).status == "sending"
        assert campaigns.get(conn, parent).next_run_at == utc(2027, 4, 5, 7, 0)
        assert campaigns.tick(conn, now=utc(2027, 3, 31, 9, 0)) == []
        campaigns.cancel(conn, parent)
        assert campaigns.get(conn, running.campaign_id).status == "cancelled"
        assert set(states(conn, running.campaign_id).values()) == {("cancelled", None)}
        assert campaigns.tick(conn, now=utc(2027, 4, 5, 8, 0)) == []
        assert len(campaigns.occurrences(conn, parent)) == 1


def test_once_or_weekly_not_both(fresh_db):
    with fresh_db.connect("admin", autocommit=True) as conn:
        with pytest.raises(UserError, match="not both"):
            email_campaign(conn, weekly=Weekly.parse("MON 10:00"), scheduled_at=utc(2027, 3, 22, 8, 0))


def test_the_mailer_login_may_not_make_occurrences(fresh_db):
    with fresh_db.connect("admin", autocommit=True) as conn:
        weekly_campaign(conn)
        assert campaigns.may_tick(conn)
    with fresh_db.connect("mailer", autocommit=True) as conn:
        assert not campaigns.may_tick(conn)
        with pytest.raises(UserError, match="administrator"):
            campaigns.tick(conn, now=utc(2027, 3, 22, 8, 0))


def _send(db, role: str | None, sink, now: datetime):
    """`role` None: the database's owner, as `clientbase send` on the shop's own computer runs."""
    smtp = SmtpServer(False, "127.0.0.1", sink.port, "", "")
    return Delivery(db.url_for(role) if role else db.url(), Options(once=True), smtp=smtp, clock=lambda: now).run()


def test_the_sender_makes_a_due_run_and_delivers_it_once_across_restarts(fresh_db, smtp_sink):
    with fresh_db.connect() as setup:
        add_client(setup, "Анна", email="anna@example.com")
        set_setting(setup, "mail_from", "Магазин <news@shop.example>")
        setup.commit()
    with fresh_db.connect("admin", autocommit=True) as conn:
        parent = weekly_campaign(conn)
    monday = utc(2027, 3, 22, 8, 5)
    # The sender running as the mailer login may not make the run (cron's `campaign tick` does): nothing is
    # sent, nothing breaks.
    assert _send(fresh_db, "mailer", smtp_sink, monday).sent == 0
    assert _send(fresh_db, None, smtp_sink, monday).sent == 1
    assert _send(fresh_db, None, smtp_sink, monday + timedelta(hours=1)).sent == 0  # restarted: no second run
    assert smtp_sink.count_by_recipient() == {"anna@example.com": 1}
    with fresh_db.connect("admin", autocommit=True) as conn:
        run, = campaigns.occurrences(conn, parent)
        assert run.status == "done" and campaigns.get(conn, parent).status == "scheduled"
    with fresh_db.connect("admin", autocommit=True) as conn:  # the administrator's cron, for the mailer
        assert len(campaigns.tick(conn, now=utc(2027, 3, 29, 7, 5))) == 1
    assert _send(fresh_db, "mailer", smtp_sink, utc(2027, 3, 29, 7, 6)).sent == 1  # next week's, in summer time
    assert smtp_sink.count_by_recipient() == {"anna@example.com": 2}
