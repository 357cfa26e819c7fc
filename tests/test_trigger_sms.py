"""Triggers by SMS, on fixed dates: a trigger's channel (e-mail unless the shop sets SMS) decides who can be
greeted; the SMS default templates are short (one or two segments, counted as a phone counts them) in Russian,
Romanian and English, chosen by the shop's language; switching the channel never greets anyone twice."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest

from db.mailing import queue, triggers
from tests.test_mailing_fixtures import add_client, set_setting
from tests.test_triggers import NOON, only, run
from tui.mailing import render, trigger_templates
from tui.mailing.delivery import rendered_for

BIRTHDAY = date(2026, 3, 8)
# Long values in each language, so that the length check holds for real clients, not only for short names.
LONG = {
    "ru": render.Client(first_name="Александра", extra={
        "child_name": "Анастасия, Владислав", "child_age": 12, "product": "Абонемент в бассейн на 12 месяцев",
        "end_date": "09.03.2026", "holiday": "Международный женский день", "days_left": 3}),
    "ro": render.Client(first_name="Alexandra", extra={
        "child_name": "Ana-Maria, Ștefan", "child_age": 12, "product": "Abonament la piscină pe 12 luni",
        "end_date": "09.03.2026", "holiday": "Ziua Internațională a Femeii", "days_left": 3}),
    "en": render.Client(first_name="Alexandrina", extra={
        "child_name": "Anastasia, Vladislav", "child_age": 12, "product": "12-month swimming pool pass",
        "end_date": "9 Mar 2026", "holiday": "International Women's Day", "days_left": 3}),
}


@pytest.fixture
def base(fresh_db):
    """Анна left a phone and no e-mail; Борис an e-mail and no phone; Вера a phone but said no to SMS. All
    three were born on 8 March."""
    only(fresh_db, "birthday")
    with fresh_db.connect() as setup:
        ids = {"anna": add_client(setup, "Анна", phone="+79161234567"),
               "boris": add_client(setup, "Борис", email="boris@example.com"),
               "vera": add_client(setup, "Вера", phone="+79161234568", consent_sms=False, refused_at=True)}
        setup.execute("UPDATE client SET birth_date = '1990-03-08'")
        set_setting(setup, "language", "ru")
        setup.commit()
    return fresh_db, ids


def messages(db) -> dict[int, tuple[str, str, str | None, str]]:
    """Client -> (channel, status, skip reason, address) of every trigger message."""
    with db.connect() as conn:
        return {client: (channel, status, reason, address) for client, channel, status, reason, address in
                conn.execute("SELECT client_id, channel, status, skip_reason, address FROM message")}


def test_by_default_a_birthday_goes_by_e_mail_and_a_client_with_only_a_phone_is_not_reached(base):
    db, ids = base
    run(db, BIRTHDAY)
    found = messages(db)
    assert found[ids["boris"]][:2] == ("email", "queued")
    assert found[ids["anna"]][:3] == ("email", "skipped", "no valid address")


def test_a_trigger_set_to_sms_greets_the_client_who_left_only_a_phone(base):
    db, ids = base
    with db.connect() as setup:
        set_setting(setup, "trigger_birthday_channel", "sms")
        setup.commit()
    run(db, BIRTHDAY)
    found = messages(db)
    assert found[ids["anna"]] == ("sms", "queued", None, "+79161234567")
    assert found[ids["boris"]][:3] == ("sms", "skipped", "no valid address")
    assert found[ids["vera"]][:3] == ("sms", "skipped", "no consent")
    with db.connect() as conn:
        assert conn.execute("SELECT channel FROM campaign").fetchall() == [("sms",)]
        assert conn.execute("SELECT name FROM template WHERE channel = 'sms'").fetchall() == [
            (trigger_templates.SMS_TEMPLATE_NAME["birthday"],)]
    # The delivery renders the Russian SMS for her: the default, short and with her name.
    with db.connect("mailer", autocommit=True) as conn:
        claim = queue.claim(conn, worker="test", token=uuid.uuid4(), limit=10, lease=timedelta(minutes=1), now=NOON,
                            in_window=True, cap_messages=2, cap_days=7)
    [message] = claim.messages
    text = rendered_for(message).text
    assert text.startswith("Анна, с днём рождения!") and render.sms_length(text).segments <= 2


def test_switching_the_channel_the_same_day_greets_nobody_twice(base):
    db, ids = base
    run(db, BIRTHDAY)
    with db.connect() as setup:
        set_setting(setup, "trigger_birthday_channel", "sms")
        setup.commit()
    # The day's campaign keeps its channel; the occasion, not the channel, says who was greeted.
    run(db, BIRTHDAY)
    assert {channel for channel, *_ in messages(db).values()} == {"email"}
    # The next year's birthday goes by SMS, and reaches Анна this time.
    run(db, date(2027, 3, 8))
    with db.connect() as conn:
        assert conn.execute("SELECT channel, status FROM message WHERE client_id = %s ORDER BY id",
                            (ids["anna"],)).fetchall() == [("email", "skipped"), ("sms", "queued")]


def test_the_forecast_counts_a_trigger_on_its_channel(base):
    from datetime import datetime, timezone

    from db.mailing import forecast

    db, ids = base
    now = datetime(2026, 3, 7, 9, 0, tzinfo=timezone.utc)
    with db.connect("admin", autocommit=True) as conn:
        by_email = forecast.forecast(conn, now, days=2)
    with db.connect() as setup:
        set_setting(setup, "trigger_birthday_channel", "sms")
        setup.commit()
    with db.connect("admin", autocommit=True) as conn:
        by_sms = forecast.forecast(conn, now, days=2)
    # By e-mail only Борис can be reached; by SMS only Анна (Вера said no).
    assert [day.by_source for day in by_email.days] == [{"birthday": 1}]
    assert [day.by_source for day in by_sms.days] == [{"birthday": 1}]


@pytest.mark.parametrize("language", ["ru", "ro", "en"])
@pytest.mark.parametrize("trigger", triggers.TRIGGERS)
def test_the_sms_defaults_are_short_warm_and_never_leave_a_hole(language, trigger):
    template = trigger_templates.default_template(trigger, language, "sms")
    assert template.channel == "sms" and render.check(template) == []
    long = LONG[language]
    for client in (long, render.Client(extra={**long.extra, "days_left": 0}), render.Client(extra=long.extra)):
        text = render.render(template, client).text
        length = render.sms_length(text)
        assert 1 <= length.segments <= 2, (text, length)
        assert "{{" not in text and " ," not in text and ", !" not in text and "  " not in text
        # English keeps to GSM-7 (with English values); a Cyrillic or Romanian letter makes an SMS UCS-2.
        assert length.encoding == ("GSM-7" if language == "en" else "UCS-2"), text


def test_the_setting_takes_only_a_channel(fresh_db):
    from db import settings
    from db.errors import UserError

    assert settings.validate("trigger_holiday_channel", "SMS") == "sms"
    assert settings.validate("trigger_holiday_channel", "e-mail") == "email"
    with pytest.raises(UserError):
        settings.validate("trigger_holiday_channel", "post")


def _cli(db, *args: str):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "tui.cli", "--lang", "en", "triggers", *args],
                          env=db.env("admin"), capture_output=True, text=True, timeout=120)


def test_the_cli_lists_the_triggers_and_sets_a_channel_and_a_switch(fresh_db):
    from tui.cli import triggers as cli

    assert cli.TRIGGERS == triggers.TRIGGERS
    listed = _cli(fresh_db, "list")
    assert listed.returncode == 0, listed.stderr
    assert "birthday (birthdays): on, by e-mail" in listed.stdout and len(listed.stdout.splitlines()) == 5
    changed = _cli(fresh_db, "set", "reactivation", "--off", "--channel", "sms")
    assert changed.returncode == 0, changed.stderr
    assert changed.stdout.strip() == "reactivation (reactivation): off, by SMS"
    with fresh_db.connect() as conn:
        settings = triggers.read_settings(conn)
    assert "reactivation" not in settings.enabled and settings.channel("reactivation") == "sms"
    assert settings.channel("birthday") == "email"
    refused = _cli(fresh_db, "set", "reactivation")
    assert refused.returncode != 0 and "--channel" in refused.stderr + refused.stdout
