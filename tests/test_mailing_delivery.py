"""Delivery through a real SMTP server on loopback (aiosmtpd), on a clock the test controls."""

from __future__ import annotations

import email
import email.policy
from datetime import datetime, timedelta, timezone

import pytest

from db.mailing import campaigns, queue
from tests.test_mailing_fixtures import (Sink, add_client, email_campaign, set_setting, smtp_sink,  # noqa: F401
                                         states)
from tui import i18n as tui_i18n
from tui.mailing import delivery
from tui.mailing.delivery import Delivery, FileGateway, Options, RateLimiter, SmtpServer
from tui.mailing.render import TemplateText

MONDAY_NOON = datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc)  # 12:00 in Moscow, inside 10:00-18:00 mon-fri
SATURDAY = datetime(2026, 12, 12, 9, 0, tzinfo=timezone.utc)


def _send(db, sink: Sink | None, now: datetime, **options) -> delivery.Totals:
    smtp = SmtpServer(False, "127.0.0.1", sink.port, "", "") if sink else None
    sms = options.pop("sms", None)
    secret = options.pop("secret", None)
    return Delivery(db.url_for("mailer"), Options(once=True, **options), smtp=smtp, sms=sms, clock=lambda: now,
                    secret=secret).run()


def _prepare(db, *clients: dict, sender: str = "Магазин <news@shop.example>") -> dict[str, int]:
    made = {}
    with db.connect() as setup:
        for client in clients:
            made[client["email"] or client["first"]] = add_client(setup, client.pop("first"), **client)
        set_setting(setup, "mail_from", sender)
        setup.commit()
    return made


def _start(db, now: datetime = MONDAY_NOON, **kwargs) -> int:
    with db.connect("admin", autocommit=True) as conn:
        campaign = email_campaign(conn, **kwargs)
        campaigns.start(conn, campaign, now=now)
    return campaign


def _parsed(sink: Sink) -> dict[str, email.message.EmailMessage]:
    return {recipients[0]: email.message_from_bytes(raw, policy=email.policy.default)
            for recipients, raw in sink.received}


def test_a_campaign_arrives_with_proper_headers_and_a_personal_body(fresh_db, smtp_sink):
    _prepare(fresh_db, {"first": "Анна", "last": "Иванова", "email": "anna@example.com"},
             {"first": "Борис", "last": "Петров", "email": "boris@example.com"})
    campaign = _start(fresh_db)
    totals = _send(fresh_db, smtp_sink, MONDAY_NOON)
    assert (totals.sent, totals.failed, totals.skipped) == (2, 0, 0)
    received = _parsed(smtp_sink)
    assert set(received) == {"anna@example.com", "boris@example.com"}
    anna = received["anna@example.com"]
    assert anna["Subject"] == "Скидка для вас, Анна"
    head = smtp_sink.received[0][1].split(b"\r\n\r\n", 1)[0]
    assert head.isascii() and b"=?utf-8?" in head  # RFC 2047 on the wire
    assert anna["From"] == "Магазин <news@shop.example>"
    assert anna["To"].addresses[0].display_name == "Анна Иванова"
    assert anna["Message-ID"].startswith(f"<clientbase.{campaign}.") and anna["Message-ID"].endswith("@shop.example>")
    assert anna["List-Unsubscribe"] == "<mailto:news@shop.example?subject=unsubscribe>"
    assert "List-Unsubscribe-Post" not in anna
    body = anna.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert body.startswith("Здравствуйте, Анна!\n") and "Здравствуйте, !" not in body
    assert "Купить: https://shop.example/offer" in body and "news@shop.example" in body
    assert received["boris@example.com"].get_body(("plain",)).get_content().startswith("Здравствуйте, Борис!")
    with fresh_db.connect() as conn:
        assert conn.execute("SELECT status FROM campaign WHERE id = %s", (campaign,)).fetchone() == ("done",)
        assert {row[0] for row in conn.execute("SELECT last_reply FROM message")} == {"250 2.0.0 Ok: queued"}


def test_one_click_unsubscribe_and_html_alternative(fresh_db, smtp_sink):
    _prepare(fresh_db, {"first": "Анна", "email": "anna@example.com"})
    with fresh_db.connect() as setup:
        set_setting(setup, "unsubscribe_url", "https://shop.example/u")
        setup.commit()
    html = TemplateText(channel="email", subject="Новости", body="Привет, {{ first_name }}",
                        html="<p>Привет, {{ first_name }}</p>")
    _start(fresh_db, template=html)
    _send(fresh_db, smtp_sink, MONDAY_NOON, secret=b"k")
    anna = _parsed(smtp_sink)["anna@example.com"]
    assert anna.get_content_type() == "multipart/alternative"
    link, mailto = anna["List-Unsubscribe"].split(", ")
    assert link.startswith("<https://shop.example/u/") and mailto.startswith("<mailto:")
    assert anna["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "<p>Привет, Анна</p>" in anna.get_body(("html",)).get_content()
    assert link.strip("<>") in anna.get_body(("plain",)).get_content()


def test_an_unsubscribe_or_a_withdrawn_consent_stops_what_is_still_queued(fresh_db, smtp_sink):
    made = _prepare(fresh_db, {"first": "Анна", "email": "anna@example.com"},
                    {"first": "Борис", "email": "boris@example.com"}, {"first": "Вера", "email": "vera@example.com"})
    campaign = _start(fresh_db)
    with fresh_db.connect("mailer", autocommit=True) as mailer:
        assert queue.unsubscribe(mailer, "email", "Anna@Example.com ")
        assert not queue.unsubscribe(mailer, "email", "anna@example.com")
    with fresh_db.connect("admin", autocommit=True) as admin:
        admin.execute("UPDATE client SET consent_email = false WHERE id = %s", (made["boris@example.com"],))
    _send(fresh_db, smtp_sink, MONDAY_NOON)
    assert list(smtp_sink.count_by_recipient()) == ["vera@example.com"]
    with fresh_db.connect() as conn:
        assert states(conn, campaign) == {made["anna@example.com"]: ("skipped", "suppressed"),
                                          made["boris@example.com"]: ("skipped", "no consent"),
                                          made["vera@example.com"]: ("sent", None)}


def test_two_campaigns_started_the_same_day_cannot_both_pass_the_cap(fresh_db, smtp_sink):
    _prepare(fresh_db, {"first": "Анна", "email": "anna@example.com"})
    with fresh_db.connect() as setup:
        set_setting(setup, "frequency_cap_messages", "1")
        setup.commit()
    first = _start(fresh_db, name="Первая")
    second = _start(fresh_db, name="Вторая")
    greeting = _start(fresh_db, name="Поздравление", purpose="greeting")
    totals = _send(fresh_db, smtp_sink, MONDAY_NOON, batch=10)
    assert totals.sent == 2 and smtp_sink.count_by_recipient() == {"anna@example.com": 2}
    with fresh_db.connect() as conn:
        outcomes = sorted(next(iter(states(conn, c).values())) for c in (first, second))
        assert outcomes == [("sent", None), ("skipped", "frequency cap")]
        assert list(states(conn, greeting).values()) == [("sent", None)]


def test_marketing_waits_for_the_window_and_greetings_do_not(fresh_db, smtp_sink):
    _prepare(fresh_db, {"first": "Анна", "email": "anna@example.com"})
    marketing = _start(fresh_db, name="Распродажа", now=SATURDAY)
    greeting = _start(fresh_db, name="Поздравление", purpose="greeting", now=SATURDAY)
    _send(fresh_db, smtp_sink, SATURDAY)
    with fresh_db.connect() as conn:
        assert list(states(conn, marketing).values()) == [("queued", None)]
        assert list(states(conn, greeting).values()) == [("sent", None)]
        assert queue.backlog(conn, SATURDAY).waiting_for_window == 1
    evening = MONDAY_NOON.replace(hour=16)  # 19:00 in Moscow
    _send(fresh_db, smtp_sink, evening)
    assert len(smtp_sink.received) == 1
    _send(fresh_db, smtp_sink, MONDAY_NOON + timedelta(days=7))
    assert len(smtp_sink.received) == 2


def test_a_4xx_is_retried_with_backoff_and_a_5xx_fails_keeping_the_reply(fresh_db, smtp_sink):
    made = _prepare(fresh_db, {"first": "Анна", "email": "anna@example.com"},
                    {"first": "Борис", "email": "boris@example.com"})
    smtp_sink.refusals = {"anna@example.com": ["451 4.7.1 Try again later"],
                          "boris@example.com": ["550 5.1.1 No such user"]}
    campaign = _start(fresh_db)
    totals = _send(fresh_db, smtp_sink, MONDAY_NOON)
    assert (totals.sent, totals.retried, totals.failed) == (0, 1, 1)
    with fresh_db.connect() as conn:
        rows = dict((client, rest) for client, *rest in conn.execute(
            "SELECT client_id, status, attempts, not_before, last_reply FROM message WHERE campaign_id = %s",
            (campaign,)))
    assert rows[made["anna@example.com"]] == ["queued", 1, MONDAY_NOON + queue.FIRST_RETRY, "451 4.7.1 Try again later"]
    assert rows[made["boris@example.com"]][0] == "failed"
    assert rows[made["boris@example.com"]][3] == "550 5.1.1 No such user"
    # Not yet due: nothing happens; once due, it goes.
    _send(fresh_db, smtp_sink, MONDAY_NOON + timedelta(seconds=30))
    assert smtp_sink.received == []
    _send(fresh_db, smtp_sink, MONDAY_NOON + timedelta(minutes=2))
    assert smtp_sink.count_by_recipient() == {"anna@example.com": 1}
    assert queue.retry_delay(2) == 2 * queue.FIRST_RETRY and queue.retry_delay(30) == queue.LONGEST_RETRY


def test_repeated_hard_bounces_suppress_the_address(fresh_db, smtp_sink):
    _prepare(fresh_db, {"first": "Борис", "email": "boris@example.com"})
    smtp_sink.refusals = {"boris@example.com": ["550 5.1.1 No such user"] * 2}
    for name in ("Первая", "Вторая"):
        _start(fresh_db, name=name, purpose="service")
        _send(fresh_db, smtp_sink, MONDAY_NOON)
    with fresh_db.connect() as conn:
        assert conn.execute("SELECT reason FROM suppression WHERE address = 'boris@example.com'").fetchall() == \
            [("bounced",)]
    third = _start(fresh_db, name="Третья", purpose="service")
    with fresh_db.connect() as conn:
        assert list(states(conn, third).values()) == [("skipped", "suppressed")]


def test_a_campaign_failing_too_often_pauses_itself_and_says_why(fresh_db, smtp_sink):
    people = [{"first": f"Клиент{n}", "email": f"c{n}@example.com"} for n in range(6)]
    _prepare(fresh_db, *people)
    smtp_sink.refusals = {f"c{n}@example.com": ["554 5.7.1 Rejected"] for n in range(6)}
    campaign = _start(fresh_db)
    totals = _send(fresh_db, smtp_sink, MONDAY_NOON, batch=1, pause_after=3, pause_above=0.5)
    assert totals.failed == 3 and campaign in totals.paused
    with fresh_db.connect() as conn:
        status, reason = conn.execute("SELECT status, paused_reason FROM campaign WHERE id = %s",
                                      (campaign,)).fetchone()
    assert status == "paused" and reason == "3 of 3 messages failed (100%)"


def test_sms_go_through_the_file_gateway(fresh_db, tmp_path):
    with fresh_db.connect() as setup:
        anna = add_client(setup, "Анна", phone="+79123456789")
        setup.commit()
    with fresh_db.connect("admin", autocommit=True) as conn:
        campaign = email_campaign(conn, template=TemplateText(channel="sms", body="{{ first_name }}, скидка!\nЖдём"))
        campaigns.start(conn, campaign, now=MONDAY_NOON)
    outbox = tmp_path / "sms.txt"
    assert _send(fresh_db, None, MONDAY_NOON, sms=FileGateway(outbox)).sent == 1
    assert outbox.read_text(encoding="utf-8") == "+79123456789\tАнна, скидка!\\nЖдём\n"
    assert outbox.stat().st_mode & 0o777 == 0o600
    with fresh_db.connect() as conn:
        assert states(conn, campaign) == {anna: ("sent", None)}


def test_the_rate_limit_is_a_rolling_window():
    now = [0.0]
    limiter = RateLimiter(per_second=2, per_hour=3, clock=lambda: now[0])
    assert limiter.delay() == 0 and limiter.delay() == 0
    assert limiter.delay() == pytest.approx(1.0)
    now[0] = 0.5
    assert limiter.delay() == pytest.approx(0.5)
    now[0] = 1.0
    assert limiter.delay() == 0  # the third of the hour
    now[0] = 5.0
    assert limiter.delay() == pytest.approx(3595.0)


@pytest.mark.parametrize("url, expected", [
    ("smtp://mail.example", SmtpServer(False, "mail.example", 587, "", "")),
    ("smtps://u%40x:p%3Aw@mail.example:2465", SmtpServer(True, "mail.example", 2465, "u@x", "p:w")),
])
def test_the_smtp_url(url, expected):
    assert SmtpServer.from_url(url) == expected


def test_a_bad_smtp_url_hides_its_password():
    from db.errors import UserError

    with pytest.raises(UserError) as refused:
        SmtpServer.from_url("http://user:secret@mail.example")
    assert "secret" not in str(refused.value)


def test_headers_parsed_and_folded_once_give_the_standard_bytes_and_stay_personal():
    from decimal import Decimal

    from db.mailing.queue import Claimed
    from db.mailing.rules import Rules

    settings = Rules("Europe/Moscow", "10:00-18:00", "mon-fri", 2, 7, "Магазин «Уют» <news@shop.example>",
                     "Отдел заботы <care@shop.example>", "news@shop.example", "https://shop.example/u")
    built = {}
    for number, first in enumerate(("Анна", "Борис")):
        message = Claimed(
            id=100 + number, campaign_id=7, client_id=number, channel="email", address=f"{number}@example.com",
            attempts=1, purpose="marketing", subject="Очень длинная тема письма для {{ first_name }}, " * 3,
            body="Здравствуйте, {{ first_name }}!\n", html_body="", cta_label="", cta_url="", first_name=first,
            middle_name="", last_name="Иванова", gender=None, birth_date=None, city="", total_spent=Decimal(0),
            custom={}, favourite_product=None, extra={})
        for _ in range(2):  # the second time from the caches
            email_message = delivery.build_email(message, delivery.rendered_for(message), settings, MONDAY_NOON,
                                                 b"key")
            cached = email_message.as_bytes(policy=delivery.SMTP_FOLDING_ONCE)
            assert cached == email_message.as_bytes(policy=email.policy.SMTP)
        built[first] = email.message_from_bytes(cached, policy=email.policy.default)
    assert built["Анна"]["Subject"].startswith("Очень длинная тема письма для Анна")
    assert built["Борис"]["Subject"].startswith("Очень длинная тема письма для Борис")
    assert built["Анна"]["To"] != built["Борис"]["To"] and built["Анна"]["From"] == built["Борис"]["From"]


def test_the_unsubscribe_line_is_in_the_recipients_language_else_the_shops_not_the_senders(fresh_db, smtp_sink):
    _prepare(fresh_db, {"first": "Анна", "email": "anna@example.com", "custom": {"language": "русский"}},
             {"first": "Dan", "email": "dan@example.com", "custom": {"language": "en"}},
             {"first": "Clara", "email": "clara@example.com"},
             {"first": "Vlad", "email": "vlad@example.com", "custom": {"language": "klingon"}})
    html = TemplateText(channel="email", subject="Noutăți", body="Salut, {{ first_name }}",
                        html="<p>Salut, {{ first_name }}</p>")
    with fresh_db.connect() as setup:
        set_setting(setup, "language", "ro")
        setup.commit()
    _start(fresh_db, template=html)
    sender_language = tui_i18n.current()
    tui_i18n.activate(tui_i18n.Choice("ru"))  # the person running `clientbase send` reads Russian
    try:
        _send(fresh_db, smtp_sink, MONDAY_NOON)
    finally:
        tui_i18n.activate(sender_language)
    received = _parsed(smtp_sink)

    def line_and_link(address: str) -> tuple[str, str]:
        message = received[address]
        plain = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
        return plain.split("\n-- \n", 1)[1].strip(), message.get_body(("html",)).get_content()

    mailto = "mailto:news@shop.example?subject=unsubscribe"
    expected = {"anna@example.com": (f"Чтобы больше не получать эти сообщения: {mailto}", "Отписаться"),
                "dan@example.com": (f"To stop receiving these messages: {mailto}", ">Unsubscribe<"),
                "clara@example.com": (f"Pentru a nu mai primi aceste mesaje: {mailto}", "Dezabonare"),
                "vlad@example.com": (f"Pentru a nu mai primi aceste mesaje: {mailto}", "Dezabonare")}
    for address, (line, link_text) in expected.items():
        plain_line, html = line_and_link(address)
        assert plain_line == line, address
        assert link_text in html, address
