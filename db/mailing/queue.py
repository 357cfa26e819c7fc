"""The delivery queue's state changes: claim under a lease, renew, mark, release. Runs as the mailer login.

A worker claims a small batch with FOR UPDATE SKIP LOCKED and a random token, and marks each message sent
right after the server accepted it, only where its token still holds. A worker killed at any moment leaves
its messages in 'sending' with a lease that runs out; the next claim takes them again. The one message that
can go out twice is the one between the server's 250 and the commit of its mark: at most one per killed
worker.

Consent, the suppression list and the frequency cap are checked again inside the claim, so an unsubscribe
or another campaign's message counts up to the moment of sending. Claims take turns
(public.mailing_claim_turn) so that two claims cannot both see room under one client's cap.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

import psycopg
from psycopg.rows import class_row

from db import rows
from db.mailing.campaigns import no_consent_sql

MAX_ATTEMPTS = 6
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=1)
BOUNCES_TO_SUPPRESS = 2


@dataclass(frozen=True)
class Claimed:
    id: int
    campaign_id: int
    client_id: int
    channel: str
    address: str
    attempts: int
    purpose: str
    subject: str
    body: str
    html_body: str
    cta_label: str
    cta_url: str
    first_name: str
    middle_name: str
    last_name: str
    gender: str | None
    birth_date: date | None
    city: str
    total_spent: Decimal
    custom: dict
    favourite_product: str | None
    extra: dict = field(default_factory=dict)  # a trigger's values (migration 0017)


@dataclass(frozen=True)
class Claim:
    messages: list[Claimed]  # to send now, under the claim's token
    picked: int  # picked in all, those skipped at the last check included
    campaign_ids: frozenset[int]


@dataclass(frozen=True)
class Backlog:
    due: int
    leased_live: int
    waiting_for_window: int


def _checks_sql() -> str:
    """The reason a picked message may not go out now, or NULL; evaluated inside the claim."""
    consent = " ".join(f"WHEN m.channel = '{channel}' AND k.purpose = '{purpose}'"
                       f" AND {no_consent_sql(channel, purpose)} THEN 'no consent'"
                       for channel in ("email", "sms") for purpose in ("marketing", "greeting", "service"))
    return f"""
        CASE {consent}
             WHEN EXISTS (SELECT 1 FROM suppression s WHERE s.channel = m.channel AND s.address = m.address)
                  THEN 'suppressed'
             WHEN k.purpose = 'marketing'
                  AND (SELECT count(*) FROM message o JOIN campaign ok ON ok.id = o.campaign_id
                        WHERE o.client_id = m.client_id AND o.id <> m.id AND ok.purpose = 'marketing'
                          AND ((o.status = 'sent' AND o.sent_at > %(cap_since)s)
                               OR (o.status = 'sending' AND o.lease_until >= %(now)s)))
                      + row_number() OVER (PARTITION BY m.client_id, k.purpose = 'marketing' ORDER BY m.id) - 1
                      >= %(cap)s
                  THEN 'frequency cap'
        END"""


# message_ready ((not_before, id) WHERE status IN ('queued', 'sending'), 0015) serves the pick in its order.
_CLAIM = """
WITH picked AS (
    SELECT m.id FROM message m JOIN campaign k ON k.id = m.campaign_id
     WHERE m.status IN ('queued', 'sending') AND m.not_before <= %(now)s
       AND (m.status = 'queued' OR m.lease_until < %(now)s)
       AND k.status IN ('sending', 'scheduled')
       AND (%(in_window)s OR k.purpose <> 'marketing')
     ORDER BY m.not_before, m.id
     LIMIT %(limit)s
     FOR UPDATE OF m SKIP LOCKED),
checked AS (
    SELECT m.id, {checks} AS reason
      FROM message m JOIN campaign k ON k.id = m.campaign_id JOIN client c ON c.id = m.client_id
     WHERE m.id IN (SELECT id FROM picked))
UPDATE message m
   SET status = CASE WHEN checked.reason IS NULL THEN 'sending' ELSE 'skipped' END,
       skip_reason = checked.reason,
       attempts = m.attempts + CASE WHEN checked.reason IS NULL THEN 1 ELSE 0 END,
       lease_token = CASE WHEN checked.reason IS NULL THEN %(token)s::uuid END,
       lease_until = CASE WHEN checked.reason IS NULL THEN %(lease_until)s END,
       leased_by = CASE WHEN checked.reason IS NULL THEN %(worker)s END
  FROM checked
 WHERE m.id = checked.id
RETURNING m.id, checked.reason, m.campaign_id
"""

_CLAIMED = """
SELECT m.id, m.campaign_id, m.client_id, m.channel, m.address, m.attempts, k.purpose,
       t.subject, t.body, t.html_body, t.cta_label, t.cta_url,
       c.first_name, c.middle_name, c.last_name, c.gender, c.birth_date, c.city, c.total_spent, c.custom,
       CASE WHEN strpos(t.subject || t.body || t.html_body || t.cta_url, 'favourite_product') > 0
            THEN public.mailing_favourite_product(c.id) END AS favourite_product,
       m.extra
  FROM message m
  JOIN campaign k ON k.id = m.campaign_id
  JOIN campaign_variant v ON v.id = m.variant_id
  JOIN template t ON t.id = v.template_id
  JOIN client c ON c.id = m.client_id
 WHERE m.id = ANY(%s) AND m.lease_token = %s
 ORDER BY m.id
"""


def claim(conn: psycopg.Connection, *, worker: str, token: uuid.UUID, limit: int, lease: timedelta,
          now: datetime, in_window: bool, cap_messages: int, cap_days: int) -> Claim:
    """Takes up to `limit` due messages under the lease `token`; those that may no longer go out are skipped
    with their reason instead."""
    with conn.transaction():
        conn.execute("SELECT public.mailing_claim_turn()")
        updated = rows.dicts(conn.execute(_CLAIM.format(checks=_checks_sql()), {
            "now": now, "in_window": in_window, "limit": limit, "token": token, "lease_until": now + lease,
            "worker": worker, "cap_since": now - timedelta(days=cap_days), "cap": cap_messages}))
        ids = [picked["id"] for picked in updated if picked["reason"] is None]
        with conn.cursor(row_factory=class_row(Claimed)) as cur:
            messages = cur.execute(_CLAIMED, (ids, token)).fetchall() if ids else []
    return Claim(messages, len(updated), frozenset(picked["campaign_id"] for picked in updated))


def renew(conn: psycopg.Connection, token: uuid.UUID, lease: timedelta, now: datetime) -> int:
    with conn.transaction():
        return conn.execute("UPDATE message SET lease_until = %s WHERE lease_token = %s AND status = 'sending'",
                            (now + lease, token)).rowcount


def _mark(conn: psycopg.Connection, message_id: int, token: uuid.UUID, assignments: str, params: tuple) -> bool:
    statement = (f"UPDATE message SET {assignments}, lease_token = NULL, lease_until = NULL"
                 " WHERE id = %s AND lease_token = %s AND status = 'sending'")
    if conn.autocommit:  # the workers' connections: one statement commits at once, one round trip, not three
        return conn.execute(statement, (*params, message_id, token)).rowcount == 1
    with conn.transaction():
        return conn.execute(statement, (*params, message_id, token)).rowcount == 1


def mark_sent(conn: psycopg.Connection, message_id: int, token: uuid.UUID, reply: str, now: datetime) -> bool:
    """False when the lease was lost (another worker owns the message now)."""
    return _mark(conn, message_id, token, "status = 'sent', sent_at = %s, last_reply = %s, error = NULL",
                 (now, reply))


def mark_skipped(conn: psycopg.Connection, message_id: int, token: uuid.UUID, reason: str) -> bool:
    return _mark(conn, message_id, token, "status = 'skipped', skip_reason = %s", (reason,))


def retry_delay(attempts: int) -> timedelta:
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_RETRY)


def mark_temporary_failure(conn: psycopg.Connection, message: Claimed, token: uuid.UUID, reply: str,
                           now: datetime) -> str:
    """A 4xx: queued again after a growing delay, or failed after MAX_ATTEMPTS; returns the new status."""
    if message.attempts >= MAX_ATTEMPTS:
        _mark(conn, message.id, token, "status = 'failed', error = %s, last_reply = %s", (reply, reply))
        return "failed"
    _mark(conn, message.id, token, "status = 'queued', not_before = %s, last_reply = %s, leased_by = NULL",
          (now + retry_delay(message.attempts), reply))
    return "queued"


@dataclass(frozen=True)
class FailureOutcome:
    suppressed: bool
    paused: bool


def mark_failed(conn: psycopg.Connection, message: Claimed, token: uuid.UUID, reply: str, *,
                pause_above: float, pause_after: int) -> FailureOutcome:
    """A 5xx: the message fails keeping the reply; a repeatedly bouncing address is suppressed and a campaign
    failing too often pauses itself (both decided by the database, public.mailing_*)."""
    _mark(conn, message.id, token, "status = 'failed', error = %s, last_reply = %s", (reply, reply))
    with conn.transaction():
        suppressed = rows.value(conn.execute("SELECT public.mailing_suppress_bounced(%s, %s, %s::integer)",
                                             (message.channel, message.address, BOUNCES_TO_SUPPRESS)))
        paused = rows.value(conn.execute(
            "SELECT public.mailing_pause_on_errors(%s::bigint, %s::numeric, %s::integer)",
            (message.campaign_id, pause_above, pause_after)))
    return FailureOutcome(bool(suppressed), bool(paused))


def release(conn: psycopg.Connection, token: uuid.UUID) -> int:
    """Gives back what a stopping worker claimed and did not send; the attempt is not counted."""
    with conn.transaction():
        return conn.execute(
            "UPDATE message SET status = 'queued', lease_token = NULL, lease_until = NULL, leased_by = NULL,"
            " attempts = greatest(attempts - 1, 0) WHERE lease_token = %s AND status = 'sending'",
            (token,)).rowcount


def settle(conn: psycopg.Connection, campaign_ids: Iterable[int]) -> None:
    with conn.transaction():
        for campaign_id in sorted(campaign_ids):
            conn.execute("SELECT public.mailing_settle(%s::bigint)", (campaign_id,))


def paused_reason(conn: psycopg.Connection, campaign_id: int) -> str:
    return rows.value(conn.execute("SELECT paused_reason FROM campaign WHERE id = %s", (campaign_id,))) or ""


def backlog(conn: psycopg.Connection, now: datetime) -> Backlog:
    """What is left after a run: due now, held by a live lease (a worker elsewhere, or a dead one's), and
    marketing waiting for the send window."""
    left = rows.the_dict(conn.execute(
        "SELECT count(*) FILTER (WHERE m.status = 'queued' OR m.lease_until < %(now)s) AS due,"
        "       count(*) FILTER (WHERE m.status = 'sending' AND m.lease_until >= %(now)s) AS leased_live,"
        "       count(*) FILTER (WHERE m.status = 'queued' AND k.purpose = 'marketing') AS waiting_for_window"
        "  FROM message m JOIN campaign k ON k.id = m.campaign_id"
        " WHERE m.status IN ('queued', 'sending') AND m.not_before <= %(now)s"
        "   AND k.status IN ('sending', 'scheduled')", {"now": now}))
    return Backlog(**left)


def unsubscribe(conn: psycopg.Connection, channel: str, address: str) -> bool:
    """Suppresses the address at once; False when it already was."""
    with conn.transaction():
        return bool(rows.value(conn.execute("SELECT public.mailing_unsubscribe(%s, %s)", (channel, address))))


# What a client's `language` custom field may hold, in the shop's words as much as in codes.
_LANGUAGE_NAMES = {"en": "en", "eng": "en", "english": "en", "английский": "en", "engleză": "en", "engleza": "en",
                   "ru": "ru", "rus": "ru", "russian": "ru", "русский": "ru", "rusă": "ru", "rusa": "ru",
                   "ro": "ro", "ron": "ro", "rum": "ro", "romanian": "ro", "română": "ro", "romana": "ro",
                   "румынский": "ro", "молдавский": "ro", "moldovenească": "ro"}


def language_named(said: str | None) -> str | None:
    """ru, ro or en for what a client's `language` field or the shop's setting holds, None when unknown."""
    return _LANGUAGE_NAMES.get(str(said or "").strip().lower())


def recipient_language(custom: dict | None, shop: str | None) -> str:
    """The language a recipient reads: the client's own, from a custom field named `language`, else the
    shop's `language` setting, else English."""
    return language_named((custom or {}).get("language")) or language_named(shop) or "en"


def reader_language(conn: psycopg.Connection, message_id: int | None) -> str:
    """The language to answer a message's recipient in (the unsubscribe page), as recipient_language."""
    found = rows.the_dict(conn.execute(
        "SELECT (SELECT c.custom FROM message m JOIN client c ON c.id = m.client_id"
        "         WHERE m.id = %s) AS custom,"
        "       (SELECT value FROM settings WHERE key = 'language') AS shop", (message_id,)))
    return recipient_language(found["custom"], found["shop"])


def recipient_of(conn: psycopg.Connection, message_id: int) -> tuple[str, str] | None:
    """(channel, address) of a message, for checking an unsubscribe link's signature."""
    found = rows.one_dict(conn.execute("SELECT channel, address FROM message WHERE id = %s", (message_id,)))
    return (found["channel"], found["address"]) if found else None
