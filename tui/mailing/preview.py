"""A template as one client would get it, and a test message to an address the administrator types.

Headless, for the mailing screen's preview and "send a test"; the rendering and the message are exactly
the delivery's (tui/mailing/delivery.py), only the recipient differs.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from email.utils import parseaddr

from db.mailing.queue import Claimed
from db.mailing.rules import Rules
from db.mailing.templates import ClientValues, Template
from tui.mailing.delivery import SmtpTransport, build_email, rendered_for, utc_now
from tui.mailing.render import SAMPLE_EXTRA, Rendered


def as_message(template: Template, client: ClientValues, address: str, purpose: str = "marketing") -> Claimed:
    """The client and template in the shape a claimed message has (no queue row behind it)."""
    return Claimed(id=0, campaign_id=0, client_id=client.client_id, channel=template.channel, address=address,
                   attempts=0, purpose=purpose, subject=template.subject, body=template.body,
                   html_body=template.html_body, cta_label=template.cta_label, cta_url=template.cta_url,
                   first_name=client.first_name, middle_name=client.middle_name, last_name=client.last_name,
                   gender=client.gender, birth_date=client.birth_date, city=client.city,
                   total_spent=client.total_spent, custom=client.custom, favourite_product=client.favourite_product,
                   extra=dict(SAMPLE_EXTRA))


def preview(template: Template, client: ClientValues, purpose: str = "marketing") -> Rendered:
    """Raises render.MissingValue when the client lacks a value the template needs: that client is skipped."""
    address = (client.email if template.channel == "email" else client.phone) or ""
    return rendered_for(as_message(template, client, address, purpose))


def send_test(transport: SmtpTransport, settings: Rules, template: Template, client: ClientValues, address: str,
              now: datetime | None = None) -> str:
    """Sends the client's message to `address` instead; returns the server's reply."""
    message = as_message(template, client, address)
    now = now or utc_now()
    domain = parseaddr(settings.mail_from)[1].rpartition("@")[2]
    email = build_email(message, rendered_for(message), settings, now,
                        message_id=f"<clientbase.test.{uuid.uuid4().hex}@{domain}>")
    try:
        return transport.send(email, parseaddr(settings.mail_from)[1], address)
    finally:
        transport.close()
