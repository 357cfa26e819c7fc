"""Campaigns: made, started (which enqueues every recipient in one statement), paused, resumed, cancelled."""

from __future__ import annotations

import json
import re
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

import psycopg
from psycopg.rows import class_row

from db.clients.listing import Criteria, where_sql
from db.errors import UserError
from db import labels, rows
from db.mailing import rules, splits
from db.i18n import N_, t
from db.settings import WEEKDAYS

STATES = ("queued", "sending", "sent", "failed", "skipped", "cancelled")
CONTACT_KIND = {"email": "email", "sms": "mobile"}
# What a valid address looks like once normalised (contact_point stores e-mail lower-cased and validated,
# phones in E.164).
_VALID_ADDRESS = {"email": r"^[^@\s]+@[^@\s]+\.[^@\s]+$", "sms": r"^\+[0-9]{8,15}$"}
# How enqueueing reads each field a template may need; the delivery renders from the same values
# (db/mailing/queue.py), so "missing" means the same thing in both places.
FIELD_SQL = {
    "first_name": "nullif(c.first_name, '')",
    "middle_name": "nullif(c.middle_name, '')",
    "last_name": "nullif(c.last_name, '')",
    "full_name": "nullif(btrim(concat_ws(' ', c.first_name, c.middle_name, c.last_name)), '')",
    "greeting": "c.gender",
    "birthday": "c.birth_date",
    "city": "nullif(c.city, '')",
    "favourite_product": "public.mailing_favourite_product(c.id)",
    "total_spent": "c.total_spent",
}



def scheduled_at(text: str | None, shop_timezone: str) -> datetime | None:
    """Empty means now; a time without an offset is on the shop's clock."""
    if text is None or not text.strip():
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UserError(N_("“{text}” is not a time; "
                           "write it as 2026-12-24 10:00 (the shop's time zone) or ISO 8601."), text=text) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zoneinfo.ZoneInfo(shop_timezone))

@dataclass(frozen=True)
class Campaign:
    id: int
    name: str
    channel: str
    purpose: str
    status: str
    segment_name: str | None
    template_id: int
    scheduled_at: datetime | None
    paused_reason: str
    created_at: datetime
    weekly_day: int | None = None
    weekly_time: time | None = None
    next_run_at: datetime | None = None
    parent_id: int | None = None  # set on one occurrence of a weekly campaign

    @property
    def weekly(self) -> Weekly | None:
        return None if self.weekly_day is None or self.weekly_time is None else Weekly(self.weekly_day,
                                                                                        self.weekly_time)


@dataclass(frozen=True)
class Weekly:
    """The same weekday and hour every week, on the shop's wall clock."""
    weekday: int  # 0 = Monday
    at: time

    @classmethod
    def parse(cls, text: str) -> Weekly:
        """"MON 10:00" (the weekdays as the send_days setting spells them)."""
        match = re.fullmatch(r"\s*([A-Za-z]{3})\s+(\d{1,2}):(\d{2})\s*", text)
        if not match or match[1].lower() not in WEEKDAYS or int(match[2]) > 23 or int(match[3]) > 59:
            raise UserError(N_("“{text}” is not a weekly time; write a weekday and an hour, such as “MON 10:00” "
                               "(MON TUE WED THU FRI SAT SUN)."), text=text)
        return cls(WEEKDAYS.index(match[1].lower()), time(int(match[2]), int(match[3])))

    def __str__(self) -> str:
        return f"{WEEKDAYS[self.weekday].upper()} {self.at:%H:%M}"

    def _on(self, day: date, zone: zoneinfo.ZoneInfo) -> datetime:
        # An hour that a spring DST change skips comes out an hour later (fold 0 reads it with the offset
        # before the change); an hour that an autumn change repeats is taken the first time.
        return datetime.combine(day, self.at, tzinfo=zone).astimezone(timezone.utc)

    def around(self, moment: datetime, zone: zoneinfo.ZoneInfo) -> tuple[datetime, datetime]:
        """The last occurrence at or before `moment` and the first one after it."""
        local = moment.astimezone(zone)
        day = local.date() - timedelta(days=(local.weekday() - self.weekday) % 7)
        candidate = self._on(day, zone)
        if candidate > moment:
            return self._on(day - timedelta(days=7), zone), candidate
        return candidate, self._on(day + timedelta(days=7), zone)

    def first_from(self, moment: datetime, zone: zoneinfo.ZoneInfo) -> datetime:
        """The first occurrence at or after `moment`."""
        latest, following = self.around(moment, zone)
        return latest if latest == moment else following


@dataclass(frozen=True)
class Occurrence:
    """One week's run of a weekly campaign, made by `tick`."""
    parent_id: int
    campaign_id: int
    at: datetime
    enqueued: int


@dataclass(frozen=True)
class Progress:
    campaign: Campaign
    by_state: dict[str, int]
    by_skip_reason: dict[str, int]

    def to_json(self) -> dict:
        return {"id": self.campaign.id, "name": self.campaign.name, "status": self.campaign.status,
                "paused_reason": self.campaign.paused_reason, "states": self.by_state,
                "skipped": self.by_skip_reason,
                "weekly": None if self.campaign.weekly is None else str(self.campaign.weekly),
                "next_run_at": None if self.campaign.next_run_at is None else self.campaign.next_run_at.isoformat(),
                "parent_id": self.campaign.parent_id}


# Salespeople read campaigns but not templates (0003), so a campaign names its template by id only.
_SELECT = """
SELECT k.id, k.name, k.channel, k.purpose, k.status, s.name AS segment_name, v.template_id,
       k.scheduled_at, k.paused_reason, k.created_at, k.weekly_day, k.weekly_time, k.next_run_at, k.parent_id
  FROM campaign k
  JOIN campaign_variant v ON v.campaign_id = k.id AND v.label = 'A'
  LEFT JOIN segment s ON s.id = k.segment_id
"""


def create(conn: psycopg.Connection, *, name: str, channel: str, template_id: int, segment: str | None,
           purpose: str = "marketing", scheduled_at: datetime | None = None, criteria: Criteria | None = None,
           weekly: Weekly | None = None) -> int:
    """A draft campaign for a saved segment, the clients list's current `criteria`, or (neither) every client.
    The filter is copied now, so a later edit of the segment does not move the campaign's audience. A `weekly`
    campaign sends at that weekday and hour every week once started (see `tick`)."""
    if not name.strip():
        raise UserError(N_("A campaign needs a name."))
    if weekly is not None and scheduled_at is not None:
        raise UserError(N_("A campaign is sent once at a time or every week, not both."))
    try:
        with conn.transaction():
            template_channel = rows.value(conn.execute("SELECT channel FROM template WHERE id = %s", (template_id,)))
            if template_channel is None:
                raise UserError(N_("There is no template {id}."), id=template_id)
            if template_channel != channel:
                raise UserError(N_("The template is for {template}, "
                                   "the campaign for {campaign}."), template=template_channel, campaign=channel)
            segment_id, audience = None, None if criteria is None else criteria.to_json()
            if segment is not None:
                found = rows.one_dict(conn.execute("SELECT id, filter FROM segment WHERE name = %s", (segment,)))
                if found is None:
                    raise UserError(N_("There is no segment named “{name}”; 'all' means every client."), name=segment)
                segment_id, audience = found["id"], found["filter"]
            campaign_id = rows.value(conn.execute(
                "INSERT INTO campaign (name, channel, purpose, segment_id, audience, scheduled_at, weekly_day,"
                " weekly_time) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
                (name.strip(), channel, purpose, segment_id, None if audience is None else json.dumps(audience),
                 scheduled_at, None if weekly is None else weekly.weekday, None if weekly is None else weekly.at)))
            conn.execute("INSERT INTO campaign_variant (campaign_id, label, template_id) VALUES (%s, 'A', %s)",
                         (campaign_id, template_id))
    except psycopg.errors.InsufficientPrivilege:
        raise UserError(N_("Only an administrator may change templates and campaigns.")) from None
    return campaign_id


def get(conn: psycopg.Connection, campaign_id: int) -> Campaign:
    with conn.cursor(row_factory=class_row(Campaign)) as cur:
        found = cur.execute(_SELECT + " WHERE k.id = %s", (campaign_id,)).fetchone()
    if found is None:
        raise UserError(N_("There is no campaign {id}."), id=campaign_id)
    return found


def list_campaigns(conn: psycopg.Connection) -> list[Campaign]:
    with conn.cursor(row_factory=class_row(Campaign)) as cur:
        return cur.execute(_SELECT + " ORDER BY k.id DESC").fetchall()


def _missing_sql(required: list[str]) -> tuple[str, list]:
    """CASE branches naming the first field a client lacks, in the template's order."""
    branches, params = [], []
    for field in required:
        if field.startswith("custom."):
            branches.append("WHEN nullif(c.custom ->> %s, '') IS NULL THEN %s")
            params += [field.split(".", 1)[1], f"missing {field}"]
        elif field in FIELD_SQL:
            branches.append(f"WHEN {FIELD_SQL[field]} IS NULL THEN %s")
            params.append(f"missing {field}")
    return " ".join(branches), params


# One row per client of the audience, in one statement. The reasons are checked in this order: consent,
# address, suppression, the template's values, then a second client sharing the address (the lowest id
# keeps it), then the marketing frequency cap (message_client_sent), looked up only for a client nothing
# else has left out. Each client's address comes from one pass over the contact points (DISTINCT ON, joined
# by hash), not a lookup per client: on a million clients that was most of the statement. ON CONFLICT makes
# a second start a no-op. An archived client (0018) is nobody's audience, whatever the campaign's filters say.
_ENQUEUE = """
INSERT INTO message (campaign_id, variant_id, client_id, channel, address, status, skip_reason, not_before)
SELECT %s, {variant}, r.id, %s, coalesce(r.address, ''),
       CASE WHEN r.reason IS NULL THEN 'queued' ELSE 'skipped' END, r.reason, %s
  FROM (SELECT d.id, d.address,
               coalesce(d.reason, CASE WHEN d.nth > 1 THEN 'duplicate address'
                                       WHEN d.capped THEN 'frequency cap' END) AS reason
          FROM (SELECT a.*, row_number() OVER (PARTITION BY a.address, a.reason IS NULL ORDER BY a.id) AS nth,
                       CASE WHEN %s AND a.reason IS NULL
                            THEN (SELECT count(*) FROM message m JOIN campaign k ON k.id = m.campaign_id
                                   WHERE m.client_id = a.id AND k.purpose = 'marketing' AND m.status = 'sent'
                                     AND m.sent_at > %s) >= %s
                            ELSE false END AS capped
                  FROM (SELECT c.id, addr.address,
                               CASE WHEN {no_consent} THEN 'no consent'
                                    WHEN addr.address IS NULL THEN 'no valid address'
                                    WHEN EXISTS (SELECT 1 FROM suppression s
                                                  WHERE s.channel = %s AND s.address = addr.address)
                                         THEN 'suppressed'
                                    {missing}
                               END AS reason
                          FROM client c
                          LEFT JOIN (SELECT DISTINCT ON (cp.client_id) cp.client_id, cp.normalized AS address
                                       FROM contact_point cp
                                      WHERE cp.kind = %s AND cp.normalized ~ %s
                                      ORDER BY cp.client_id, cp.is_primary DESC, cp.id) addr ON addr.client_id = c.id
                         WHERE c.archived_at IS NULL AND {audience}) a) d) r
ON CONFLICT (campaign_id, client_id) DO NOTHING
"""


def no_consent_sql(channel: str, purpose: str, alias: str = "c") -> str:
    """Marketing needs a yes; greetings and service messages stop only at an explicit no (a recorded refusal)."""
    column = f"{alias}.consent_{'email' if channel == 'email' else 'sms'}"
    return f"NOT {column}" if purpose == "marketing" else f"(NOT {column} AND {column}_at IS NOT NULL)"


def _enqueue(conn: psycopg.Connection, campaign_id: int, now: datetime) -> int:
    campaign = get(conn, campaign_id)
    found = rows.the_dict(conn.execute(
        "SELECT k.audience, t.required_fields FROM campaign k"
        "  JOIN campaign_variant v ON v.campaign_id = k.id AND v.label = 'A'"
        "  JOIN template t ON t.id = v.template_id WHERE k.id = %s", (campaign_id,)))
    audience, required = found["audience"], found["required_fields"]
    audience_params: list = []
    if audience is None:
        audience_sql = "true"
    else:
        audience_sql, audience_params = where_sql(Criteria.from_json(audience), fuzzy=False, today=now.date())
    missing_sql, missing_params = _missing_sql(required)
    settings = rules.read(conn)
    not_before = max(now, campaign.scheduled_at) if campaign.scheduled_at else now
    statement = _ENQUEUE.format(no_consent=no_consent_sql(campaign.channel, campaign.purpose),
                                missing=missing_sql, audience=audience_sql,
                                variant=splits.variant_sql(conn, campaign_id, "r.id"))  # a split test's arms
    params = [campaign_id, campaign.channel, not_before,
              campaign.purpose == "marketing", now - timedelta(days=settings.cap_days), settings.cap_messages,
              campaign.channel, *missing_params, CONTACT_KIND[campaign.channel], _VALID_ADDRESS[campaign.channel],
              *audience_params]
    return conn.execute(statement, params).rowcount


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(timezone.utc)


def _change(conn: psycopg.Connection, campaign_id: int, action: str, allowed: tuple[str, ...]) -> Campaign:
    status = rows.value(conn.execute("SELECT status FROM campaign WHERE id = %s FOR UPDATE", (campaign_id,)))
    if status is None:
        raise UserError(N_("There is no campaign {id}."), id=campaign_id)
    if status not in allowed:
        # The words are said in the language of whoever asked (settled before any command runs).
        raise UserError(N_("Campaign {id} is {status}; it cannot be {action} now."), id=campaign_id,
                        status=t(labels.CAMPAIGN_STATUS[status]), action=t(labels.CAMPAIGN_ACTION[action]))
    return get(conn, campaign_id)


def _shop_zone(conn: psycopg.Connection) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(rules.read(conn).timezone)


def start(conn: psycopg.Connection, campaign_id: int, now: datetime | None = None) -> int:
    """Enqueues the audience and lets the workers send; returns how many rows were enqueued. A weekly
    campaign enqueues nobody now: it waits for its first occurrence (`tick`)."""
    now = _now(now)
    try:
        with conn.transaction():
            campaign = _change(conn, campaign_id, "started", ("draft",))
            if campaign.weekly is not None:
                conn.execute("UPDATE campaign SET status = 'scheduled', next_run_at = %s WHERE id = %s",
                             (campaign.weekly.first_from(now, _shop_zone(conn)), campaign_id))
                return 0
            enqueued = _enqueue(conn, campaign_id, now)
            splits.hold_out(conn, campaign_id)
            status = "scheduled" if campaign.scheduled_at and campaign.scheduled_at > now else "sending"
            conn.execute("UPDATE campaign SET status = %s WHERE id = %s", (status, campaign_id))
            conn.execute("SELECT public.mailing_settle(%s::bigint)", (campaign_id,))  # everyone skipped: done
    except psycopg.errors.InsufficientPrivilege:
        raise UserError(N_("Only an administrator may change templates and campaigns.")) from None
    return enqueued


# A weekly campaign is a parent with no messages of its own; each occurrence is a child campaign (0015), so
# that (campaign, client) stays unique per week's mailing and each week's progress is its own. The parent is
# locked while its occurrence is made: a second sender skips it, and finds next_run_at moved on once the
# first commits; the (parent_id, occurrence) key refuses a duplicate whatever happens.
_DUE = """
SELECT id, name, weekly_day, weekly_time, next_run_at FROM campaign
 WHERE weekly_day IS NOT NULL AND status = 'scheduled' AND next_run_at <= %s
 ORDER BY next_run_at, id
 LIMIT 1
 FOR UPDATE SKIP LOCKED
"""

_OCCURRENCE = """
INSERT INTO campaign (name, channel, purpose, segment_id, audience, scheduled_at, parent_id, occurrence, status)
SELECT %s, channel, purpose, segment_id, audience, %s, id, %s, 'sending' FROM campaign WHERE id = %s
ON CONFLICT (parent_id, occurrence) DO NOTHING
RETURNING id
"""


def tick(conn: psycopg.Connection, now: datetime | None = None) -> list[Occurrence]:
    """Makes every weekly campaign's due occurrence and enqueues its audience as it is now. After weeks
    without a tick (the sender was down) only the latest missed occurrence is made: a client gets this
    week's mailing late, not three at once. Run by `clientbase send` (when its login may) or by cron with
    `clientbase campaign tick`; paused and cancelled campaigns have no occurrences."""
    now = _now(now)
    made: list[Occurrence] = []
    try:
        zone = _shop_zone(conn)
        while True:
            with conn.transaction():
                due = rows.one_dict(conn.execute(_DUE, (now,)))
                if due is None:
                    return made
                weekly = Weekly(due["weekly_day"], due["weekly_time"])
                latest, following = weekly.around(now, zone)
                # Never before the first occurrence the start settled on (the time zone may have changed since).
                at = max(latest, due["next_run_at"])
                name = f"{due['name']} · {at.astimezone(zone):%Y-%m-%d %H:%M}"
                child = rows.value(conn.execute(_OCCURRENCE, (name, at, at, due["id"])))
                enqueued = 0
                if child is not None:
                    conn.execute("INSERT INTO campaign_variant (campaign_id, label, template_id, weight)"
                                 " SELECT %s, label, template_id, weight FROM campaign_variant"
                                 " WHERE campaign_id = %s", (child, due["id"]))
                    splits.inherit_holdout(conn, due["id"], child)
                    enqueued = _enqueue(conn, child, now)
                    splits.hold_out(conn, child)
                    conn.execute("SELECT public.mailing_settle(%s::bigint)", (child,))
                    made.append(Occurrence(due["id"], child, at, enqueued))
                conn.execute("UPDATE campaign SET next_run_at = %s WHERE id = %s", (following, due["id"]))
    except psycopg.errors.InsufficientPrivilege:
        raise UserError(N_("Only an administrator may change templates and campaigns.")) from None


def may_tick(conn: psycopg.Connection) -> bool:
    """Whether this login may make occurrences (the administrator may; the mailer login may not)."""
    return bool(rows.value(conn.execute("SELECT has_column_privilege('public.campaign', 'parent_id', 'INSERT')")))


def occurrences(conn: psycopg.Connection, parent_id: int) -> list[Campaign]:
    """A weekly campaign's occurrences so far, the latest first."""
    with conn.cursor(row_factory=class_row(Campaign)) as cur:
        return cur.execute(_SELECT + " WHERE k.parent_id = %s ORDER BY k.scheduled_at DESC, k.id DESC",
                           (parent_id,)).fetchall()


def pause(conn: psycopg.Connection, campaign_id: int) -> None:
    """A paused weekly campaign makes no occurrence, and its running ones pause with it."""
    _set_status(conn, campaign_id, "paused", ("sending", "scheduled"))


def resume(conn: psycopg.Connection, campaign_id: int, now: datetime | None = None) -> None:
    """A weekly campaign resumes at its next occurrence from now: the weeks it was paused are not caught up."""
    _set_status(conn, campaign_id, "sending", ("paused",), _now(now))


def cancel(conn: psycopg.Connection, campaign_id: int) -> None:
    """Stops the campaign for good; what was still queued is cancelled, what was sent stays sent. A weekly
    campaign's occurrences stop with it."""
    _set_status(conn, campaign_id, "cancelled", ("draft", "scheduled", "sending", "paused"))


def _set_status(conn: psycopg.Connection, campaign_id: int, status: str, allowed: tuple[str, ...],
                now: datetime | None = None) -> None:
    action = {"paused": "paused", "sending": "resumed", "cancelled": "cancelled"}[status]
    try:
        with conn.transaction():
            campaign = _change(conn, campaign_id, action, allowed)
            own = status
            if campaign.weekly is not None and status == "sending":
                own = "scheduled"
                conn.execute("UPDATE campaign SET next_run_at = %s WHERE id = %s",
                             (campaign.weekly.first_from(now or _now(None), _shop_zone(conn)), campaign_id))
            conn.execute("UPDATE campaign SET status = %s, paused_reason = '' WHERE id = %s", (own, campaign_id))
            if campaign.weekly is not None:
                following = {"paused": ("sending", "scheduled"), "sending": ("paused",),
                             "cancelled": ("draft", "scheduled", "sending", "paused")}[status]
                conn.execute("UPDATE campaign SET status = %s, paused_reason = '' WHERE parent_id = %s"
                             " AND status = ANY(%s)", (status, campaign_id, list(following)))
            if status == "cancelled":
                conn.execute("UPDATE message SET status = 'cancelled' WHERE status = 'queued' AND campaign_id IN"
                             " (SELECT id FROM campaign WHERE id = %s OR parent_id = %s)", (campaign_id, campaign_id))
    except psycopg.errors.InsufficientPrivilege:
        raise UserError(N_("Only an administrator may change templates and campaigns.")) from None


def progress(conn: psycopg.Connection, campaign_id: int) -> Progress:
    """Counts by state and by skip reason (kept in message_tally, 0015), for every role that reads campaigns."""
    campaign = get(conn, campaign_id)
    counted = rows.dicts(conn.execute("SELECT * FROM public.mailing_progress(%s::bigint)", (campaign_id,)))
    by_state = dict.fromkeys(STATES, 0)
    by_reason: dict[str, int] = {}
    for count in counted:
        by_state[count["status"]] += count["messages"]
        if count["status"] == "skipped":
            reason = count["skip_reason"] or ""
            by_reason[reason] = by_reason.get(reason, 0) + count["messages"]
    return Progress(campaign, by_state, by_reason)
