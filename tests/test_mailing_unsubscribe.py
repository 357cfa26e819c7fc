"""The one-click unsubscribe service: the link in the e-mail suppresses at once; a forged one does nothing."""

from __future__ import annotations

import urllib.error
import urllib.request
from datetime import datetime, timezone

import pytest

from db.mailing import campaigns
from tests.test_mailing_fixtures import add_client, email_campaign, set_setting, smtp_sink  # noqa: F401
from tui.mailing.delivery import Delivery, Options, SmtpServer
from tui.mailing.unsubscribe import UnsubscribeServer

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc)
SECRET = b"the sender's key"


@pytest.fixture
def sent_link(fresh_db, smtp_sink):
    """The https one-click link of a real e-mail, and the service that answers it."""
    import email
    import email.policy

    with fresh_db.connect() as setup:
        add_client(setup, "Анна", email="anna@example.com")
        set_setting(setup, "mail_from", "Shop <news@shop.example>")
        set_setting(setup, "unsubscribe_url", "https://shop.example/u")
        setup.commit()
    with fresh_db.connect("admin", autocommit=True) as conn:
        campaign = email_campaign(conn)
        campaigns.start(conn, campaign, now=NOW)
    smtp = SmtpServer(False, "127.0.0.1", smtp_sink.port, "", "")
    Delivery(fresh_db.url_for("mailer"), Options(once=True), smtp=smtp, clock=lambda: NOW, secret=SECRET).run()
    message = email.message_from_bytes(smtp_sink.received[0][1], policy=email.policy.default)
    link = message["List-Unsubscribe"].split(",")[0].strip("<> ")
    server = UnsubscribeServer(("127.0.0.1", 0), fresh_db.url_for("mailer"), SECRET)
    server.serve_in_thread()
    yield link.replace("https://shop.example/u", f"http://127.0.0.1:{server.server_address[1]}")
    server.shutdown()
    server.server_close()


def _suppressed(db) -> list[tuple]:
    with db.connect() as conn:
        return conn.execute("SELECT channel, address, reason, created_by FROM suppression").fetchall()


def _request(url: str, data: bytes | None = None) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read().decode()


def test_the_one_click_post_unsubscribes_at_once(fresh_db, sent_link):
    assert _request(sent_link, b"List-Unsubscribe=One-Click")[0] == 200
    assert _suppressed(fresh_db) == [("email", "anna@example.com", "unsubscribed", "t_mailer")]


def test_the_body_link_asks_before_unsubscribing(fresh_db, sent_link):
    status, page = _request(sent_link)
    assert status == 200 and "<form method=\"post\">" in page
    assert _suppressed(fresh_db) == []  # a mail scanner following the link unsubscribes nobody
    assert _request(sent_link, b"confirm=yes")[0] == 200
    assert len(_suppressed(fresh_db)) == 1


def test_a_forged_or_unknown_link_does_nothing(fresh_db, sent_link):
    base, token = sent_link.rsplit("/", 1)
    message_id, signature = token.split(".")
    forged = f"{base}/{message_id}.{'0' * 32}"
    other_message = f"{base}/{int(message_id) + 1}.{signature}"
    for url in (forged, other_message, f"{base}/nonsense", base + "/"):
        assert _request(url, b"List-Unsubscribe=One-Click")[0] == 404, url
    assert _request(sent_link, b"something=else")[0] == 400
    assert _suppressed(fresh_db) == []


def test_the_pages_speak_the_clients_language_else_the_shops(fresh_db, smtp_sink):
    import email
    import email.policy

    with fresh_db.connect() as setup:
        add_client(setup, "Ana", email="ana@example.com", custom={"language": "ro"})
        add_client(setup, "Борис", email="boris@example.com", custom={"language": "Русский"})
        add_client(setup, "Clara", email="clara@example.com", custom={"language": "klingon"})
        set_setting(setup, "mail_from", "Shop <news@shop.example>")
        set_setting(setup, "unsubscribe_url", "https://shop.example/u")
        set_setting(setup, "language", "en")
        setup.commit()
    with fresh_db.connect("admin", autocommit=True) as conn:
        campaigns.start(conn, email_campaign(conn), now=NOW)
    smtp = SmtpServer(False, "127.0.0.1", smtp_sink.port, "", "")
    Delivery(fresh_db.url_for("mailer"), Options(once=True), smtp=smtp, clock=lambda: NOW, secret=SECRET).run()
    server = UnsubscribeServer(("127.0.0.1", 0), fresh_db.url_for("mailer"), SECRET)
    server.serve_in_thread()
    try:
        here = f"http://127.0.0.1:{server.server_address[1]}"
        links = {}
        for recipients, raw in smtp_sink.received:
            header = email.message_from_bytes(raw, policy=email.policy.default)["List-Unsubscribe"]
            links[recipients[0]] = header.split(",")[0].strip("<> ").replace("https://shop.example/u", here)
        status, page = _request(links["ana@example.com"])
        assert status == 200 and '<html lang="ro">' in page
        assert "Doriți să nu mai primiți aceste mesaje?" in page and "Da, dezabonați-mă" in page
        status, page = _request(links["boris@example.com"])
        assert '<html lang="ru">' in page and "<h1>Отписаться</h1>" in page and "Да, отпишите меня" in page
        assert "Вы отписались." in _request(links["boris@example.com"], b"confirm=yes")[1]
        # A language clientbase does not speak: the shop's, English here, then Russian once the shop says so.
        status, page = _request(links["clara@example.com"])
        assert '<html lang="en">' in page and "Do you want to stop receiving these messages?" in page
        with fresh_db.connect() as setup:
            set_setting(setup, "language", "ru")
            setup.commit()
        assert "Вы хотите перестать получать эти сообщения?" in _request(links["clara@example.com"])[1]
        # A forged link for Ana's message is answered in the shop's language, not hers.
        forged = links["ana@example.com"].rsplit(".", 1)[0] + "." + "0" * 32
        status, page = _request(forged)
        assert status == 404 and '<html lang="ru">' in page and "Эта ссылка для отписки недействительна." in page
    finally:
        server.shutdown()
        server.server_close()
