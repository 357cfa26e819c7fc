"""Shared helpers of the mailing tests: clients with contacts, templates saved the way the CLI saves them."""

from __future__ import annotations

import json

import psycopg

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
