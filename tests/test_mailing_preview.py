"""Preview any recipient's message and send a test to a typed address: exactly what delivery would send."""

from __future__ import annotations

import email
import email.policy

import pytest

from db.clients.listing import Criteria, Filters
from db.mailing import campaigns, rules, templates
from tests.test_mailing_fixtures import (GREETING_EMAIL, add_client, email_campaign, save_template,  # noqa: F401
                                         set_setting, smtp_sink, states)
from tui.mailing import preview
from tui.mailing.delivery import SmtpServer, SmtpTransport
from tui.mailing.render import MissingValue


def test_the_preview_is_personal_and_a_client_lacking_a_value_is_named(fresh_db):
    with fresh_db.connect() as setup:
        anna = add_client(setup, "Анна", email="anna@example.com")
        nameless = add_client(setup, None, "Петров", email="p@example.com")
        setup.commit()
    with fresh_db.connect("admin", autocommit=True) as conn:
        template = templates.load(conn, save_template(conn, "Осень", GREETING_EMAIL))
        shown = preview.preview(template, templates.client_values(conn, anna))
        assert shown.subject == "Скидка для вас, Анна" and shown.text.startswith("Здравствуйте, Анна!")
        with pytest.raises(MissingValue, match="missing first_name"):
            preview.preview(template, templates.client_values(conn, nameless))


def test_a_test_message_goes_to_the_typed_address(fresh_db, smtp_sink):
    with fresh_db.connect() as setup:
        anna = add_client(setup, "Анна", email="anna@example.com")
        set_setting(setup, "mail_from", "Shop <news@shop.example>")
        setup.commit()
    with fresh_db.connect("admin", autocommit=True) as conn:
        template = templates.load(conn, save_template(conn, "Осень", GREETING_EMAIL))
        reply = preview.send_test(SmtpTransport(SmtpServer(False, "127.0.0.1", smtp_sink.port, "", "")),
                                  rules.read(conn), template, templates.client_values(conn, anna), "admin@shop.example")
    assert reply.startswith("250")
    [(recipients, raw)] = smtp_sink.received
    assert recipients == ["admin@shop.example"]
    sent = email.message_from_bytes(raw, policy=email.policy.default)
    assert sent["Subject"] == "Скидка для вас, Анна" and sent["Message-ID"].startswith("<clientbase.test.")


def test_the_clients_lists_current_filters_can_be_the_audience(fresh_db):
    with fresh_db.connect() as setup:
        tver = add_client(setup, "Борис", email="boris@example.com", city="Тверь")
        add_client(setup, "Анна", email="anna@example.com", city="Москва")
        setup.commit()
    with fresh_db.connect("admin", autocommit=True) as conn:
        campaign = email_campaign(conn, criteria=Criteria(filters=Filters(city="Тверь")))
        campaigns.start(conn, campaign)
        assert list(states(conn, campaign)) == [tver]
