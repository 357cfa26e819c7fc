"""Shared helpers of the mailing tests: clients with contacts, templates saved the way the CLI saves them."""

from __future__ import annotations

import json

import psycopg
import pytest

from db.mailing import campaigns, templates
from tui.mailing import render
from tui.mailing.render import TemplateText


def add_client(conn: psycopg.Connection, first: str | None, last: str = "Клиентов", *, email: str | None = None,
               phone: str | None = None, gender: str | None = None, consent_email: bool = True,
               consent_sms: bool = True, refused_at: bool = False, city: str = "", custom: dict | None = None) -> int:
    client_id = conn.execute(
        "INSERT INTO client (first_name, last_name, gender, city, custom, consent_email, consent_sms,"
        " consent_email_at, consent_sms_at) VALUES (%s, %s, %s, %s, %s, %s, %s,"
        " CASE WHEN %s OR %s THEN now() END, CASE WHEN %s OR %s THEN now() END) RETURNING id",
        (first or "", last, gender, city, json.dumps(custom or {}), consent_email, consent_sms,
         consent_email, refused_at, consent_sms, refused_at)).fetchone()[0]
    if email:
        conn.execute("INSERT INTO contact_point (client_id, kind, value, normalized, is_primary)"
                     " VALUES (%s, 'email', %s, lower(%s), true)", (client_id, email, email))
    if phone:
        conn.execute("INSERT INTO contact_point (client_id, kind, value, normalized, is_primary)"
                     " VALUES (%s, 'mobile', %s, %s, true)", (client_id, phone, phone))
    return client_id


def save_template(conn: psycopg.Connection, name: str, template: TemplateText) -> int:
    needed = render.check(template, templates.custom_field_names(conn))
    return templates.save(conn, name=name, channel=template.channel, subject=template.subject, body=template.body,
                          html_body=template.html, cta_label=template.cta_label, cta_url=template.cta_url,
                          required_fields=needed).id


GREETING_EMAIL = TemplateText(
    channel="email", subject="Скидка для вас, {{ first_name }}",
    body="Здравствуйте, {{ first_name }}!\nВаша скидка ждёт вас.\n", cta_label="Купить",
    cta_url="https://shop.example/offer")


def email_campaign(conn: psycopg.Connection, name: str = "Осень", purpose: str = "marketing",
                   segment: str | None = None, template: TemplateText = GREETING_EMAIL, **kwargs) -> int:
    template_id = save_template(conn, f"{name} template", template)
    return campaigns.create(conn, name=name, channel=template.channel, template_id=template_id, segment=segment,
                            purpose=purpose, **kwargs)


def states(conn: psycopg.Connection, campaign_id: int) -> dict[int, tuple[str, str | None]]:
    return {client: (status, reason) for client, status, reason in conn.execute(
        "SELECT client_id, status, skip_reason FROM message WHERE campaign_id = %s", (campaign_id,))}


class Sink:
    """An aiosmtpd handler that keeps every accepted message and can refuse given recipients, a number of
    times each, with a given reply; `delay` slows every DATA down (to kill a worker mid-batch)."""

    def __init__(self, delay: float = 0.0) -> None:
        self.received: list[tuple[list[str], bytes]] = []
        self.refusals: dict[str, list[str]] = {}
        self.delay = delay
        self.pipelining = False  # offer RFC 2920 PIPELINING, as production relays do (aiosmtpd does not)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        return [*responses[:-1], "250-PIPELINING", responses[-1]] if self.pipelining else responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        planned = self.refusals.get(address)
        if planned:
            return planned.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            import asyncio

            await asyncio.sleep(self.delay)
        self.received.append((list(envelope.rcpt_tos), envelope.original_content or envelope.content))
        return "250 2.0.0 Ok: queued"

    def count_by_recipient(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for recipients, _ in self.received:
            for recipient in recipients:
                counts[recipient] = counts.get(recipient, 0) + 1
        return counts


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_sink():
    from aiosmtpd.controller import Controller

    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    sink.port = controller.port
    yield sink
    controller.stop()


def set_setting(conn: psycopg.Connection, key: str, value: str) -> None:
    conn.execute("INSERT INTO settings (key, value) VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = %s",
                 (key, value, value))
