"""Triggers on fixed dates, on a small hand-made base: birthdays (the client's, a child's, 29 February), holidays
by gender, subscriptions ending, reactivation once per quiet spell, and runs repeated or missed."""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import date, datetime, timedelta, timezone

import psycopg
import pytest

from db.mailing import campaigns, queue, triggers
from tests.test_mailing_fixtures import add_client, set_setting
from tui.mailing import render, trigger_templates
from tui.mailing.delivery import rendered_for

# Noon in Moscow: inside the default send window, so greetings are due at once.
NOON = datetime(2026, 3, 8, 9, 0, tzinfo=timezone.utc)


def person(conn: psycopg.Connection, first: str, *, born: date | None = None, gender: str | None = None,
           email: str | None = None, **kwargs) -> int:
    client_id = add_client(conn, first, email=email or f"{uuid.uuid4().hex[:10]}@example.com", gender=gender,
                           **kwargs)
    if born:
        conn.execute("UPDATE client SET birth_date = %s WHERE id = %s", (born, client_id))
    return client_id


def run(db, day: date, now: datetime | None = None) -> trigger_templates.Run:
    with db.connect("admin", autocommit=True) as conn:
        return trigger_templates.run(conn, now or datetime.combine(day, NOON.timetz()), day)


def reached(db, trigger: str, day: date | None = None) -> dict[int, dict]:
    """Client -> the message's extra values, for every message the trigger queued (over all days, or one)."""
    with db.connect() as conn:
        return {client: extra for client, extra in conn.execute(
            "SELECT m.client_id, m.extra FROM message m JOIN trigger_campaign tc ON tc.campaign_id = m.campaign_id"
            " WHERE tc.trigger = %s AND (%s::date IS NULL OR tc.day = %s) AND m.status = 'queued'",
            (trigger, day, day))}


def messages_of(db, client_id: int) -> int:
    with db.connect() as conn:
        return conn.execute("SELECT count(*) FROM message WHERE client_id = %s", (client_id,)).fetchone()[0]


def only(db, *enabled: str) -> None:
    with db.connect() as conn:
        for name in triggers.TRIGGERS:
            set_setting(conn, f"trigger_{name}", "yes" if name in enabled else "no")
        conn.commit()


def test_a_birthday_is_greeted_on_the_day_and_not_the_day_before(fresh_db):
    only(fresh_db, "birthday")
    with fresh_db.connect() as setup:
        anna = person(setup, "Анна", born=date(1990, 3, 8))
        boris = person(setup, "Борис", born=date(1985, 3, 9))
        setup.commit()
    run(fresh_db, date(2026, 3, 7))
    assert reached(fresh_db, "birthday") == {}
    run(fresh_db, date(2026, 3, 8))
    assert set(reached(fresh_db, "birthday", date(2026, 3, 8))) == {anna}
    assert messages_of(fresh_db, boris) == 0
    with fresh_db.connect() as conn:
        purpose, status = conn.execute(
            "SELECT k.purpose, k.status FROM campaign k JOIN trigger_campaign tc ON tc.campaign_id = k.id"
            " WHERE tc.day = '2026-03-08'").fetchone()
    assert (purpose, status) == ("greeting", "sending")


def test_a_childs_birthday_reaches_the_parent_with_the_childs_name_and_age(fresh_db):
    only(fresh_db, "child_birthday")
    with fresh_db.connect() as setup:
        parent = person(setup, "Ольга")
        setup.execute("INSERT INTO relative (client_id, relation, name, birth_date) VALUES"
                      " (%s, 'child', 'Маша', '2019-03-08'), (%s, 'spouse', 'Игорь', '1980-03-08')",
                      (parent, parent))
        setup.commit()
    run(fresh_db, date(2026, 3, 8))
    assert reached(fresh_db, "child_birthday") == {parent: {"child_name": "Маша", "child_age": 7, "days_left": 0}}


def test_29_february_is_greeted_on_28_february_in_other_years(fresh_db):
    only(fresh_db, "birthday", "child_birthday")
    with fresh_db.connect() as setup:
        leapling = person(setup, "Вера", born=date(2000, 2, 29))
        parent = person(setup, "Глеб")
        setup.execute("INSERT INTO relative (client_id, name, birth_date) VALUES (%s, 'Петя', '2016-02-29')",
                      (parent,))
        setup.commit()
    run(fresh_db, date(2027, 2, 28))
    assert set(reached(fresh_db, "birthday", date(2027, 2, 28))) == {leapling}
    assert reached(fresh_db, "child_birthday", date(2027, 2, 28))[parent]["child_age"] == 11
    # In a leap year the day itself comes, and 28 February is nobody's.
    run(fresh_db, date(2028, 2, 28))
    assert reached(fresh_db, "birthday", date(2028, 2, 28)) == {}
    run(fresh_db, date(2028, 2, 29))
    assert set(reached(fresh_db, "birthday", date(2028, 2, 29))) == {leapling}


def test_the_day_is_the_shops_calendar_day_in_its_time_zone(fresh_db):
    only(fresh_db, "birthday")
    with fresh_db.connect() as setup:
        anna = person(setup, "Анна", born=date(1990, 3, 8))
        set_setting(setup, "timezone", "Asia/Vladivostok")
        setup.commit()
    # 22:30 UTC on 7 March is 08:30 on 8 March in Vladivostok.
    with fresh_db.connect("admin", autocommit=True) as conn:
        done = trigger_templates.run(conn, datetime(2026, 3, 7, 22, 30, tzinfo=timezone.utc))
    assert done.days == [date(2026, 3, 8)]
    assert set(reached(fresh_db, "birthday", date(2026, 3, 8))) == {anna}
    with fresh_db.connect() as conn:
        not_before = conn.execute("SELECT not_before FROM message WHERE client_id = %s", (anna,)).fetchone()[0]
    # Made before the shop opened its send window: it waits for 10:00 there, not sent at dawn.
    assert not_before == datetime(2026, 3, 8, 0, 0, tzinfo=timezone.utc)


def test_a_birthday_n_days_ahead_is_greeted_once(fresh_db):
    only(fresh_db, "birthday")
    with fresh_db.connect() as setup:
        anna = person(setup, "Анна", born=date(1990, 3, 8))
        set_setting(setup, "birthday_days_ahead", "3")
        setup.commit()
    run(fresh_db, date(2026, 3, 5))
    assert reached(fresh_db, "birthday") == {anna: {"days_left": 3}}
    with fresh_db.connect() as setup:
        set_setting(setup, "birthday_days_ahead", "0")
        setup.commit()
    run(fresh_db, date(2026, 3, 8))
    assert messages_of(fresh_db, anna) == 1


def test_8_march_goes_to_women_and_23_february_to_men_only(fresh_db):
    only(fresh_db, "holiday")
    with fresh_db.connect() as setup:
        woman = person(setup, "Анна", gender="f")
        man = person(setup, "Борис", gender="m")
        unknown = person(setup, "Саша")
        setup.commit()
    run(fresh_db, date(2026, 3, 8))
    march = reached(fresh_db, "holiday", date(2026, 3, 8))
    assert set(march) == {woman}
    assert march[woman]["holiday"] == "International Women's Day"  # the holidays package's name, in English
    run(fresh_db, date(2027, 2, 23))
    assert set(reached(fresh_db, "holiday", date(2027, 2, 23))) == {man}
    run(fresh_db, date(2027, 1, 1))
    new_year = reached(fresh_db, "holiday", date(2027, 1, 1))
    assert set(new_year) == {woman, man, unknown}
    assert new_year[man]["holiday"] == "New Year"  # not the calendar's "New Year Holidays"
    # A day the admin did not choose (12 June, Russia Day) greets nobody; no empty campaign is made.
    outcome = run(fresh_db, date(2027, 6, 12))
    assert [o for o in outcome.outcomes if o.trigger == "holiday"] == []


def test_unknown_gender_gets_gendered_holidays_only_when_the_admin_says_so(fresh_db):
    only(fresh_db, "holiday")
    with fresh_db.connect() as setup:
        unknown = person(setup, "Саша")
        set_setting(setup, "holiday_unknown_gender", "yes")
        set_setting(setup, "language", "ru")
        set_setting(setup, "shop_dates", "06-15 День рождения магазина")
        setup.commit()
    run(fresh_db, date(2026, 3, 8))
    assert reached(fresh_db, "holiday", date(2026, 3, 8))[unknown]["holiday"] == "Международный женский день"
    run(fresh_db, date(2026, 6, 15))
    assert reached(fresh_db, "holiday", date(2026, 6, 15))[unknown]["holiday"] == "День рождения магазина"


def test_a_subscription_ending_tomorrow_gets_a_renewal_offer_naming_product_and_date(fresh_db):
    only(fresh_db, "subscription")
    with fresh_db.connect() as setup:
        gym = setup.execute("INSERT INTO product (name, subscription_days) VALUES ('Абонемент в зал', 30)"
                            " RETURNING id").fetchone()[0]
        ending = person(setup, "Анна")
        renewed = person(setup, "Борис")
        later = person(setup, "Вера")
        setup.execute("INSERT INTO subscription (client_id, product_id, starts_on, ends_on) VALUES"
                      " (%(a)s, %(gym)s, '2026-02-07', '2026-03-09'), (%(b)s, %(gym)s, '2026-02-07', '2026-03-09'),"
                      " (%(b)s, %(gym)s, '2026-03-10', '2026-04-09'), (%(v)s, %(gym)s, '2026-02-10', '2026-03-12')",
                      {"a": ending, "b": renewed, "v": later, "gym": gym})
        set_setting(setup, "language", "ru")
        setup.commit()
    run(fresh_db, date(2026, 3, 8))
    assert reached(fresh_db, "subscription") == {
        ending: {"product": "Абонемент в зал", "end_date": "09.03.2026", "days_left": 1}}
    with fresh_db.connect() as conn:
        purpose = conn.execute("SELECT k.purpose FROM campaign k JOIN trigger_campaign tc ON tc.campaign_id = k.id"
                               " WHERE tc.trigger = 'subscription'").fetchone()[0]
    assert purpose == "service"


def _buy(conn: psycopg.Connection, client_id: int, when: datetime) -> None:
    conn.execute("INSERT INTO purchase (client_id, purchased_at, amount) VALUES (%s, %s, 100)", (client_id, when))


def test_reactivation_asks_once_per_quiet_spell(fresh_db):
    only(fresh_db, "reactivation")
    with fresh_db.connect() as setup:
        quiet = person(setup, "Анна")
        active = person(setup, "Борис")
        never = person(setup, "Вера")
        # 180 days without a purchase from 7 March: within the first run's catch-up week.
        _buy(setup, quiet, datetime(2025, 9, 8, 12, tzinfo=timezone.utc))
        _buy(setup, active, datetime(2026, 3, 1, 12, tzinfo=timezone.utc))
        setup.commit()
    run(fresh_db, date(2026, 3, 8))
    assert set(reached(fresh_db, "reactivation")) == {quiet}
    for day in (date(2026, 3, 9), date(2026, 3, 20)):
        run(fresh_db, day)
    assert messages_of(fresh_db, quiet) == 1 and messages_of(fresh_db, never) == 0
    # She comes back, then goes quiet again: a new spell, asked once more.
    with fresh_db.connect() as setup:
        _buy(setup, quiet, datetime(2026, 3, 21, 12, tzinfo=timezone.utc))
        setup.commit()
    run(fresh_db, date(2026, 9, 16))
    assert messages_of(fresh_db, quiet) == 1
    run(fresh_db, date(2026, 9, 17))
    run(fresh_db, date(2026, 9, 18))
    assert messages_of(fresh_db, quiet) == 2
    with fresh_db.connect() as conn:
        assert conn.execute("SELECT DISTINCT k.purpose FROM campaign k JOIN trigger_campaign tc"
                            " ON tc.campaign_id = k.id").fetchall() == [("marketing",)]


def test_reactivation_asks_back_who_went_quiet_since_the_last_run_not_everyone_ever_quiet(fresh_db):
    """The first run looks back a catch-up week; a run after missed days takes each missed day's newly quiet
    clients, once; a client quiet for a year is left to a campaign of the administrator's."""
    only(fresh_db, "reactivation")
    first = date(2026, 3, 8)

    def quiet_from(day: date) -> int:
        # The last purchase 180 days before `day`: quiet from `day` on (inactive_after_days = 180).
        client = person(setup, f"Тихий {day.isoformat()}")
        _buy(setup, client, datetime.combine(day - timedelta(days=180), NOON.timetz()))
        return client

    with fresh_db.connect() as setup:
        long_ago = person(setup, "Давний")
        _buy(setup, long_ago, datetime(2025, 1, 1, 12, tzinfo=timezone.utc))
        six_days_before = quiet_from(first - timedelta(days=6))
        eight_days_before = quiet_from(first - timedelta(days=8))
        missed = [quiet_from(first + timedelta(days=offset)) for offset in (1, 2, 3)]
        setup.commit()
    outcome = run(fresh_db, first)
    assert set(reached(fresh_db, "reactivation")) == {six_days_before}
    assert sum(each.enqueued for each in outcome.outcomes) == 1
    # Cron missed two days: the run on the third catches each of them up.
    caught_up = run(fresh_db, first + timedelta(days=3))
    assert caught_up.days == [first + timedelta(days=offset) for offset in (1, 2, 3)]
    assert {day: set(reached(fresh_db, "reactivation", day)) for day in caught_up.days} == {
        first + timedelta(days=offset): {missed[offset - 1]} for offset in (1, 2, 3)}
    run(fresh_db, first + timedelta(days=3))
    run(fresh_db, first + timedelta(days=4))
    for client in (six_days_before, *missed):
        assert messages_of(fresh_db, client) == 1
    assert messages_of(fresh_db, long_ago) == 0 and messages_of(fresh_db, eight_days_before) == 0


def test_reactivation_is_marketing_and_a_capped_client_is_asked_again_later(fresh_db):
    only(fresh_db, "reactivation")
    with fresh_db.connect() as setup:
        quiet = person(setup, "Анна")
        refused = person(setup, "Борис", consent_email=False)
        # Both quiet from 7 March, within the first run's catch-up week.
        _buy(setup, quiet, datetime(2025, 9, 8, 12, tzinfo=timezone.utc))
        _buy(setup, refused, datetime(2025, 9, 8, 12, tzinfo=timezone.utc))
        set_setting(setup, "frequency_cap_messages", "1")
        other = setup.execute("INSERT INTO campaign (name, channel, status) VALUES ('Весна', 'email', 'done')"
                              " RETURNING id").fetchone()[0]
        setup.execute("INSERT INTO message (campaign_id, client_id, channel, address, status, sent_at)"
                      " VALUES (%s, %s, 'email', 'x', 'sent', %s)", (other, quiet, NOON - timedelta(days=1)))
        setup.commit()
    run(fresh_db, date(2026, 3, 8))
    with fresh_db.connect() as conn:
        assert dict(conn.execute("SELECT client_id, skip_reason FROM message WHERE status = 'skipped'")) == {
            quiet: "frequency cap", refused: "no consent"}
    run(fresh_db, date(2026, 3, 20), datetime(2026, 3, 20, 9, tzinfo=timezone.utc))
    assert set(reached(fresh_db, "reactivation", date(2026, 3, 20))) == {quiet}
    assert messages_of(fresh_db, refused) == 1


def test_a_second_run_adds_nothing_and_a_missed_day_is_caught_up_once(fresh_db):
    only(fresh_db, "birthday", "holiday")
    with fresh_db.connect() as setup:
        born_8th = person(setup, "Анна", born=date(1990, 3, 8), gender="f")
        born_9th = person(setup, "Борис", born=date(1991, 3, 9), gender="m")
        setup.commit()
    run(fresh_db, date(2026, 3, 7))
    first = run(fresh_db, date(2026, 3, 7))
    assert sum(o.enqueued for o in first.outcomes) == 0
    # No run on the 8th; the run of the 9th catches it up.
    caught = run(fresh_db, date(2026, 3, 9))
    assert caught.days == [date(2026, 3, 8), date(2026, 3, 9)]
    assert set(reached(fresh_db, "birthday", date(2026, 3, 8))) == {born_8th}
    assert set(reached(fresh_db, "holiday", date(2026, 3, 8))) == {born_8th}
    assert set(reached(fresh_db, "birthday", date(2026, 3, 9))) == {born_9th}
    with fresh_db.connect() as conn:
        before = conn.execute("SELECT count(*) FROM message").fetchone()[0]
    again = run(fresh_db, date(2026, 3, 9))
    assert again.days == [date(2026, 3, 9)] and sum(o.enqueued for o in again.outcomes) == 0
    # The missed day run by hand as well: everyone was already greeted for that birthday.
    assert sum(o.enqueued for o in run(fresh_db, date(2026, 3, 8)).outcomes) == 0
    with fresh_db.connect() as conn:
        assert conn.execute("SELECT count(*) FROM message").fetchone()[0] == before == 3
        # One campaign per trigger and day, each listed with its counts.
        listed = {c.name: campaigns.progress(conn, c.id).by_state["queued"] for c in campaigns.list_campaigns(conn)}
    assert listed == {"Birthdays 2026-03-08": 1, "Holiday 2026-03-08": 1, "Birthdays 2026-03-09": 1}


def test_a_trigger_switched_off_enqueues_nothing(fresh_db):
    only(fresh_db, "holiday")
    with fresh_db.connect() as setup:
        anna = person(setup, "Анна", born=date(1990, 3, 8))
        setup.commit()
    run(fresh_db, date(2026, 3, 8))
    assert messages_of(fresh_db, anna) == 0  # her gender is unknown, and birthdays are off


def test_greetings_stop_at_an_explicit_no_but_not_at_the_marketing_cap(fresh_db):
    only(fresh_db, "birthday")
    with fresh_db.connect() as setup:
        never_asked = person(setup, "Анна", born=date(1990, 3, 8), consent_email=False)
        said_no = person(setup, "Борис", born=date(1990, 3, 8), consent_email=False, refused_at=True)
        capped = person(setup, "Вера", born=date(1990, 3, 8))
        set_setting(setup, "frequency_cap_messages", "1")
        other = setup.execute("INSERT INTO campaign (name, channel, status) VALUES ('Весна', 'email', 'done')"
                              " RETURNING id").fetchone()[0]
        setup.execute("INSERT INTO message (campaign_id, client_id, channel, address, status, sent_at)"
                      " VALUES (%s, %s, 'email', 'x', 'sent', %s)", (other, capped, NOON - timedelta(days=1)))
        setup.commit()
    run(fresh_db, date(2026, 3, 8))
    assert set(reached(fresh_db, "birthday")) == {never_asked, capped}
    with fresh_db.connect() as conn:
        assert conn.execute("SELECT skip_reason FROM message WHERE client_id = %s", (said_no,)).fetchone() == (
            "no consent",)


def _plan(conn: psycopg.Connection, sql: str) -> str:
    conn.execute("SET enable_seqscan = off")
    return "\n".join(row[0] for row in conn.execute("EXPLAIN " + sql))


def test_the_birthday_queries_use_the_month_day_indexes(fresh_db):
    with fresh_db.connect() as conn:
        keys = triggers.birthday_keys(date(2027, 2, 28))
        for table, index in (("client", "client_birthday"), ("relative", "relative_birthday")):
            where = triggers._BIRTHDAY_KEY.format("x")
            plan = _plan(conn, f"SELECT x.id FROM {table} x WHERE {where} = ANY('{{{keys[0]},{keys[1]}}}'::numeric[])")
            assert index in plan, plan


def test_the_default_templates_check_and_never_leave_a_hole():
    nameless = render.Client(extra=render.SAMPLE_EXTRA)
    named = render.Client(first_name="Анна", extra={**render.SAMPLE_EXTRA, "days_left": 0})
    for language in ("ru", "ro", "en"):
        for trigger in triggers.TRIGGERS:
            template = trigger_templates.default_template(trigger, language)
            assert render.check(template) == []
            for client in (nameless, named):
                text = render.render(template, client)
                assert " ," not in text.text and ", !" not in text.text and "Dear" not in text.text
                assert "{{" not in text.text and text.subject.strip()
            assert "Анна" in render.render(template, named).text or trigger not in ("child_birthday",)


def test_the_delivery_renders_what_the_trigger_gave(fresh_db):
    only(fresh_db, "child_birthday")
    with fresh_db.connect() as setup:
        parent = person(setup, "Ольга", email="olga@example.com")
        setup.execute("INSERT INTO relative (client_id, name, birth_date) VALUES (%s, 'Маша', '2019-03-08')",
                      (parent,))
        set_setting(setup, "language", "ru")
        setup.commit()
    run(fresh_db, date(2026, 3, 8))
    with fresh_db.connect("mailer", autocommit=True) as conn:
        claim = queue.claim(conn, worker="test", token=uuid.uuid4(), limit=10, lease=timedelta(minutes=1), now=NOON,
                            in_window=True, cap_messages=2, cap_days=7)
    [message] = claim.messages
    text = rendered_for(message)
    assert "Ольга, здравствуйте!" in text.text and "Маша — 7!" in text.text
    assert text.subject == "Маша празднует день рождения!"


def test_the_cli_runs_a_date_and_says_what_it_enqueued(fresh_db):
    only(fresh_db, "birthday")
    with fresh_db.connect() as setup:
        person(setup, "Анна", born=date(1990, 3, 8))
        setup.commit()
    args = [sys.executable, "-m", "tui.cli", "--lang", "en", "triggers", "run", "--date", "2026-03-08"]
    first = subprocess.run(args, env=fresh_db.env("admin"), capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert "2026-03-08 birthdays: campaign" in first.stdout and "1 to send" in first.stdout
    second = subprocess.run(args, env=fresh_db.env("admin"), capture_output=True, text=True, timeout=120)
    assert second.returncode == 0 and "Nothing new to enqueue for 2026-03-08." in second.stdout
    listed = subprocess.run([sys.executable, "-m", "tui.cli", "--lang", "en", "campaign", "list"],
                            env=fresh_db.env("admin"), capture_output=True, text=True, timeout=120)
    assert "Birthdays 2026-03-08" in listed.stdout


@pytest.mark.parametrize("role", ["sales", "manager"])
def test_a_reader_cannot_run_the_triggers(fresh_db, role):
    result = subprocess.run([sys.executable, "-m", "tui.cli", "triggers", "run", "--date", "2026-03-08"],
                            env=fresh_db.env(role), capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "Traceback" not in result.stderr
