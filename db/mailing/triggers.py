"""Triggers (`clientbase triggers run`): birthdays, children's birthdays, holidays, subscriptions ending and
reactivation, each enqueued as one campaign per trigger and day in one set-based statement.

Idempotent by construction: a campaign per (trigger, day) (trigger_campaign) and an occasion per (trigger,
client, occasion) (trigger_occasion, migration 0017). A second run on the same date finds everyone already
there; a missed day caught up later cannot greet anyone a second time, because the occasion (the birthday's
year, the holiday's date, the subscription's end, the purchase that began a quiet spell) is the key, not the
day of the run.

Each trigger goes by e-mail unless the shop sets it to SMS (trigger_<name>_channel): the same candidates, with
the consent, address and suppression of that channel; a day's campaign keeps the channel it was made with.

Greetings and renewals are 'greeting'/'service' purpose: they stop at a recorded "no" but not at the
marketing cap. Reactivation is marketing: it needs consent and counts toward the cap; a client it could not
reach for the cap alone is asked again on a later day, the others once per quiet spell.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import holidays as holiday_calendars
import psycopg

from db import labels, rows
from db.errors import UserError
from db.i18n import N_
from db.mailing import campaigns, rules
from db.mailing.campaigns import CONTACT_KIND, _VALID_ADDRESS, _missing_sql, no_consent_sql
from db.settings import CATALOGUE, validate as validate_setting

TRIGGERS = ("birthday", "child_birthday", "holiday", "subscription", "reactivation")
PURPOSE = {"birthday": "greeting", "child_birthday": "greeting", "holiday": "greeting",
           "subscription": "service", "reactivation": "marketing"}
CHANNEL = "email"  # each trigger's channel unless the shop set another (trigger_<name>_channel)
CHANNELS = ("email", "sms")
LABEL = labels.TRIGGER
# Holidays that greet one audience wherever they are kept: 23 February men, 8 March women.
GENDERED = {"02-23": "m", "03-08": "f"}
# How far back a run looks for days no run covered (cron stopped over a long weekend, say).
CATCH_UP_DAYS = 7
_RUN_LOCK = 7301501700
# The holidays package's names in the shop's language, where the country's calendar has them.
_CALENDAR_LANGUAGE = {"en": "en_US", "ru": "ru", "ro": "ro"}
# Where the calendar names a day off rather than the occasion (Russia's 1 January is "New Year holidays"),
# the occasion's own name, in the shop's language.
_OCCASION_NAMES = {"01-01": {"en": "New Year", "ru": "Новый год", "ro": "Anul Nou"}}
_DATE_FORMAT = {"en": "FMDD Mon YYYY", "ru": "DD.MM.YYYY", "ro": "DD.MM.YYYY"}

_SETTING_KEYS = ("timezone", "language", "phone_country", "inactive_after_days", "birthday_days_ahead",
                 "subscription_notice_days", "holiday_country", "holiday_dates", "shop_dates",
                 "holiday_unknown_gender") + tuple(f"trigger_{name}" for name in TRIGGERS) \
    + tuple(f"trigger_{name}_channel" for name in TRIGGERS)


@dataclass(frozen=True)
class TriggerSettings:
    enabled: frozenset[str]
    timezone: str
    language: str
    country: str
    inactive_after_days: int
    birthday_days_ahead: int
    subscription_notice_days: int
    holiday_dates: tuple[str, ...]
    shop_dates: tuple[tuple[str, str], ...]  # (MM-DD, name)
    unknown_gender_holidays: bool
    channels: dict[str, str] = field(default_factory=dict)  # trigger -> 'email' or 'sms'

    def channel(self, trigger: str) -> str:
        return self.channels.get(trigger, CHANNEL)


def read_settings(conn: psycopg.Connection) -> TriggerSettings:
    stored = {row["key"]: row["value"] for row in rows.dicts(
        conn.execute("SELECT key, value FROM settings WHERE key = ANY(%s)", (list(_SETTING_KEYS),)))}
    value = {key: stored.get(key, CATALOGUE[key].default) for key in _SETTING_KEYS}
    shop_dates = []
    for entry in value["shop_dates"].split(";"):
        day, _, name = entry.strip().partition(" ")
        if day and name.strip():
            shop_dates.append((day, name.strip()))
    return TriggerSettings(
        enabled=frozenset(name for name in TRIGGERS if value[f"trigger_{name}"] == "yes"),
        timezone=value["timezone"], language=value["language"],
        country=value["holiday_country"] or value["phone_country"],
        inactive_after_days=int(value["inactive_after_days"]),
        birthday_days_ahead=int(value["birthday_days_ahead"]),
        subscription_notice_days=int(value["subscription_notice_days"]),
        holiday_dates=tuple(day for day in value["holiday_dates"].split(",") if day),
        shop_dates=tuple(shop_dates), unknown_gender_holidays=value["holiday_unknown_gender"] == "yes",
        channels={name: value[f"trigger_{name}_channel"] for name in TRIGGERS})


@dataclass(frozen=True)
class TriggerState:
    """One trigger as the administrator sets it: on or off, and its channel."""

    trigger: str
    enabled: bool
    channel: str


def states(conn: psycopg.Connection) -> list[TriggerState]:
    settings = read_settings(conn)
    return [TriggerState(name, name in settings.enabled, settings.channel(name)) for name in TRIGGERS]


def configure(conn: psycopg.Connection, trigger: str, *, enabled: bool | None = None,
              channel: str | None = None) -> TriggerState:
    """Switches a trigger on or off and sets its channel, as the settings trigger_<name> and
    trigger_<name>_channel (administrator only); a day's campaign already made keeps its channel."""
    if trigger not in TRIGGERS:
        raise UserError(N_("There is no trigger '{name}'; the triggers are: {names}."), name=trigger,
                        names=", ".join(TRIGGERS))
    changes = {}
    if enabled is not None:
        changes[f"trigger_{trigger}"] = "yes" if enabled else "no"
    if channel is not None:
        changes[f"trigger_{trigger}_channel"] = validate_setting(f"trigger_{trigger}_channel", channel)
    try:
        with conn.transaction():
            for key, value in changes.items():
                conn.execute("INSERT INTO public.settings (key, value) VALUES (%s, %s)"
                             " ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))
    except psycopg.errors.InsufficientPrivilege:
        raise UserError(N_("Only an administrator may change settings.")) from None
    return next(state for state in states(conn) if state.trigger == trigger)


def shop_today(settings: TriggerSettings, now: datetime) -> date:
    """The shop's calendar day: a birthday is greeted on the shop's date, not the server's or UTC's."""
    return now.astimezone(zoneinfo.ZoneInfo(settings.timezone)).date()


@dataclass(frozen=True)
class Holiday:
    day: date
    name: str
    audience: str | None  # 'm', 'f', or None for everyone


def holidays_on(day: date, settings: TriggerSettings) -> Holiday | None:
    """The holiday greeted on `day`: one of the country's holidays the shop chose, or one of its own dates.
    Several on one day make one greeting naming them all."""
    month_day = day.strftime("%m-%d")
    names = []
    if month_day in settings.holiday_dates:
        try:
            calendar = holiday_calendars.country_holidays(settings.country, years=day.year)
            language = _CALENDAR_LANGUAGE.get(settings.language)
            if language in calendar.supported_languages:
                calendar = holiday_calendars.country_holidays(settings.country, years=day.year, language=language)
        except NotImplementedError:
            raise UserError(N_("The holidays calendar has no country “{country}”; set holiday_country."),
                            country=settings.country) from None
        if month_day in _OCCASION_NAMES and day in calendar:
            names.append(_OCCASION_NAMES[month_day].get(settings.language, _OCCASION_NAMES[month_day]["en"]))
        elif day in calendar:
            names += [name for name in calendar.get_list(day) if name not in names]
    names += [name for own_day, name in settings.shop_dates if own_day == month_day and name not in names]
    if not names:
        return None
    return Holiday(day, " / ".join(names), GENDERED.get(month_day))


def birthday_keys(day: date) -> list[int]:
    """month * 100 + day of the birthdays greeted on `day`: 29 February is greeted on 28 February in a year
    without one."""
    keys = [day.month * 100 + day.day]
    if (day.month, day.day) == (2, 28):
        try:
            date(day.year, 2, 29)
        except ValueError:
            keys.append(229)
    return keys


# Each candidate list gives one row per client: the occasion (the idempotency key) and the values the
# message adds. The birthday ones use the expression indexes client_birthday and relative_birthday (0001) on
# month * 100 + day, so a day's birthdays are an index lookup, not a scan of a million dates.
_BIRTHDAY_KEY = "extract(month FROM {0}.birth_date) * 100 + extract(day FROM {0}.birth_date)"
CANDIDATES = {
    "birthday": f"""
        SELECT c.id AS client_id, %(year)s::text AS occasion,
               jsonb_build_object('days_left', %(days_left)s::integer) AS extra
          FROM public.client c
         WHERE {_BIRTHDAY_KEY.format('c')} = ANY(%(keys)s::numeric[]) AND c.birth_date < %(target)s""",
    # Children born on the same day of the year (twins) make one message naming them all.
    "child_birthday": f"""
        SELECT r.client_id, %(target)s::text AS occasion,
               jsonb_build_object('child_name', string_agg(r.name, ', ' ORDER BY r.birth_date DESC, r.id),
                                  'child_age', min(%(year)s - extract(year FROM r.birth_date))::integer,
                                  'days_left', %(days_left)s::integer) AS extra
          FROM public.relative r
         WHERE r.relation = 'child' AND {_BIRTHDAY_KEY.format('r')} = ANY(%(keys)s::numeric[])
           AND r.birth_date < %(target)s
         GROUP BY r.client_id""",
    "holiday": """
        SELECT c.id AS client_id, %(target)s::text AS occasion,
               jsonb_build_object('holiday', %(holiday)s::text) AS extra
          FROM public.client c
         WHERE %(audience)s::text IS NULL
            OR (c.kind = 'person' AND (c.gender = %(audience)s OR (c.gender IS NULL AND %(unknown_gender)s)))""",
    # A subscription already renewed (a later one for the same product) needs no offer.
    "subscription": """
        SELECT s.client_id, %(target)s::text AS occasion,
               jsonb_build_object('product', string_agg(DISTINCT p.name, ', '),
                                  'end_date', to_char(%(target)s::date, %(date_format)s),
                                  'days_left', %(days_left)s::integer) AS extra
          FROM public.subscription s
          LEFT JOIN public.product p ON p.id = s.product_id
         WHERE s.ends_on = %(target)s
           AND NOT EXISTS (SELECT 1 FROM public.subscription later
                            WHERE later.client_id = s.client_id AND later.ends_on > s.ends_on
                              AND later.product_id IS NOT DISTINCT FROM s.product_id)
         GROUP BY s.client_id""",
    # The quiet spell is named by the purchase that began it: a new purchase ends it, and the next spell has a
    # new name. A run asks back those who crossed the threshold since the last run (the catch-up window, see
    # reactivation_days), not everyone who has ever gone quiet: the trigger answers the moment a client slips
    # away; clients quiet for years are a deliberate campaign to a segment, not a first-night blast of half the
    # base (505,665 messages and 73 s on the 1M demo base). client_last_purchase_sort serves the range. The
    # second branch takes again those a reactivation run held back for the marketing cap alone (their
    # occasion was not recorded), still in the same spell, so the cap delays them instead of dropping them.
    "reactivation": """
        SELECT c.id AS client_id, c.last_purchase_at::text AS occasion, '{}'::jsonb AS extra
          FROM public.client c
         WHERE c.last_purchase_at < %(quiet_since)s AND c.last_purchase_at >= %(quiet_from)s
        UNION
        SELECT c.id, c.last_purchase_at::text, '{}'::jsonb
          FROM public.trigger_campaign tc
          JOIN public.message m ON m.campaign_id = tc.campaign_id AND m.skip_reason = 'frequency cap'
          JOIN public.client c ON c.id = m.client_id
         WHERE tc.trigger = 'reactivation' AND tc.day < %(target)s AND c.last_purchase_at < %(quiet_since)s""",
}

# One statement per trigger and day: the candidates not yet greeted for their occasion, with the same reasons
# for leaving someone out as a campaign's enqueue (consent, address, suppression, the template's values, the
# cap for marketing), then the occasions of those it reached. ON CONFLICT makes a repeated run a no-op.
_ENQUEUE = """
WITH candidate AS ({candidates}),
fresh AS (
    SELECT k.* FROM candidate k
     WHERE NOT EXISTS (SELECT 1 FROM public.trigger_occasion o
                        WHERE o.trigger = %(trigger)s AND o.client_id = k.client_id AND o.occasion = k.occasion)),
reasoned AS (
    SELECT c.id, addr.address, f.extra,
           CASE WHEN {no_consent} THEN 'no consent'
                WHEN addr.address IS NULL THEN 'no valid address'
                WHEN EXISTS (SELECT 1 FROM public.suppression s
                              WHERE s.channel = %(channel)s AND s.address = addr.address) THEN 'suppressed'
                {missing}
                WHEN %(marketing)s
                     AND (SELECT count(*) FROM public.message m JOIN public.campaign mk ON mk.id = m.campaign_id
                           WHERE m.client_id = c.id AND mk.purpose = 'marketing' AND m.status = 'sent'
                             AND m.sent_at > %(cap_since)s) >= %(cap)s THEN 'frequency cap'
           END AS reason
      FROM fresh f
      -- An archived client (0018) is greeted by nobody. A lookup per fresh client (OFFSET 0 keeps the subquery a
      -- parameterised index probe): the planner cannot estimate `fresh` (a day's few hundred new rows after an
      -- anti-join with hundreds of thousands), guessed it large and hashed all million clients instead, 2 s.
      CROSS JOIN LATERAL (SELECT * FROM public.client c WHERE c.id = f.client_id AND c.archived_at IS NULL
                          OFFSET 0) c
      LEFT JOIN LATERAL (SELECT cp.normalized AS address FROM public.contact_point cp
                          WHERE cp.client_id = c.id AND cp.kind = %(contact_kind)s AND cp.normalized ~ %(valid)s
                          ORDER BY cp.is_primary DESC, cp.id LIMIT 1) addr ON true),
enqueued AS (
    INSERT INTO public.message (campaign_id, variant_id, client_id, channel, address, status, skip_reason,
                                not_before, extra)
    SELECT %(campaign)s, %(variant)s, r.id, %(channel)s, coalesce(r.address, ''),
           CASE WHEN r.reason IS NULL THEN 'queued' ELSE 'skipped' END, r.reason, %(not_before)s, r.extra
      FROM reasoned r
    ON CONFLICT (campaign_id, client_id) DO NOTHING
    RETURNING client_id, skip_reason),
remembered AS (
    INSERT INTO public.trigger_occasion (trigger, client_id, occasion, campaign_id)
    SELECT %(trigger)s, e.client_id, f.occasion, %(campaign)s
      FROM enqueued e JOIN fresh f ON f.client_id = e.client_id
     WHERE e.skip_reason IS DISTINCT FROM 'frequency cap'
    ON CONFLICT (trigger, client_id, occasion) DO NOTHING)
SELECT count(*) AS enqueued, count(*) FILTER (WHERE skip_reason IS NULL) AS queued FROM enqueued
"""


@dataclass(frozen=True)
class Outcome:
    trigger: str
    day: date
    campaign_id: int | None  # None: nobody to reach that day
    enqueued: int  # rows added, skipped ones included
    queued: int  # of which will be sent


def days_to_run(conn: psycopg.Connection, day: date) -> list[date]:
    """`day`, preceded by the days since the last run that no run covered (at most CATCH_UP_DAYS back)."""
    last = rows.value(conn.execute("SELECT max(day) FROM public.trigger_campaign WHERE day < %s", (day,)))
    if last is None or (day - last).days > CATCH_UP_DAYS:
        return [day]
    return [last + timedelta(days=offset) for offset in range(1, (day - last).days + 1)]


@dataclass(frozen=True)
class _DayCampaign:
    id: int
    variant_id: int
    channel: str
    template_id: int


def _campaign_for(conn: psycopg.Connection, trigger: str, day: date) -> _DayCampaign | None:
    """The trigger's campaign for `day`, if an earlier run made one: a later run adds to it on its channel and
    with its template, even if the administrator has switched the trigger's channel since."""
    found = rows.one_dict(conn.execute(
        "SELECT k.id, v.id AS variant_id, k.channel, v.template_id FROM public.trigger_campaign tc"
        "  JOIN public.campaign k ON k.id = tc.campaign_id"
        "  JOIN public.campaign_variant v ON v.campaign_id = k.id AND v.label = 'A'"
        " WHERE tc.trigger = %s AND tc.day = %s", (trigger, day)))
    return _DayCampaign(**found) if found else None


def _new_campaign(conn: psycopg.Connection, trigger: str, channel: str, template_id: int,
                  name: str) -> _DayCampaign:
    campaign_id = campaigns.create(conn, name=name, channel=channel, template_id=template_id, segment=None,
                                   purpose=PURPOSE[trigger])
    variant_id = rows.value(conn.execute(
        "SELECT id FROM public.campaign_variant WHERE campaign_id = %s AND label = 'A'", (campaign_id,)))
    return _DayCampaign(campaign_id, variant_id, channel, template_id)


def _statement(conn: psycopg.Connection, trigger: str, candidates_sql: str, params: dict, campaign: _DayCampaign,
               settings: TriggerSettings, now: datetime) -> str:
    """The enqueue statement for the campaign's channel and template; adds their parameters to `params`."""
    params |= {"channel": campaign.channel, "contact_kind": CONTACT_KIND[campaign.channel],
               "valid": _VALID_ADDRESS[campaign.channel], "campaign": campaign.id, "variant": campaign.variant_id}
    missing_sql = _add_sending_params(conn, params, campaign.template_id, settings, now)
    return _ENQUEUE.format(candidates=candidates_sql, no_consent=no_consent_sql(campaign.channel, PURPOSE[trigger]),
                           missing=_number_placeholders(missing_sql))


def _not_before(settings: TriggerSettings, window: str, now: datetime) -> datetime:
    """A greeting made by a run at midnight waits for the morning: the send window's opening, on the shop's
    clock, when the run comes before it."""
    zone = zoneinfo.ZoneInfo(settings.timezone)
    opening = datetime.combine(now.astimezone(zone).date(), time.fromisoformat(window.split("-")[0]), zone)
    return max(now, opening)


def reactivation_days(conn: psycopg.Connection, day: date) -> int:
    """How many days of newly quiet clients the reactivation for `day` asks back: those who crossed the
    threshold since the last run that covered reactivation, at most CATCH_UP_DAYS (as far back as a run catches
    up missed days); CATCH_UP_DAYS on the very first run. A run that catches up missed days covers each day in
    turn, so each of them takes one day."""
    last = rows.value(conn.execute("SELECT max(day) FROM public.trigger_campaign"
                                   " WHERE trigger = 'reactivation' AND day < %s", (day,)))
    return CATCH_UP_DAYS if last is None else min((day - last).days, CATCH_UP_DAYS)


def candidate_params(trigger: str, day: date, settings: TriggerSettings, reactivation_window: int = 1) -> dict | None:
    """The parameters of the trigger's CANDIDATES statement for `day`; None when it has nothing that day.
    `reactivation_window`: reactivation takes the clients who went quiet within that many days up to `day`."""
    if trigger in ("birthday", "child_birthday"):
        target = day + timedelta(days=settings.birthday_days_ahead)
        return {"target": target, "year": target.year, "keys": birthday_keys(target),
                "days_left": settings.birthday_days_ahead}
    if trigger == "holiday":
        holiday = holidays_on(day, settings)
        if holiday is None:
            return None
        return {"target": day, "holiday": holiday.name, "audience": holiday.audience,
                "unknown_gender": settings.unknown_gender_holidays}
    if trigger == "subscription":
        target = day + timedelta(days=settings.subscription_notice_days)
        return {"target": target, "days_left": settings.subscription_notice_days,
                "date_format": _DATE_FORMAT.get(settings.language, "YYYY-MM-DD")}
    # Quiet for the whole threshold: the last purchase was on or before the shop's day `day - N`.
    zone = zoneinfo.ZoneInfo(settings.timezone)
    quiet_since = datetime.combine(day - timedelta(days=settings.inactive_after_days - 1), time(), zone)
    return {"quiet_since": quiet_since, "quiet_from": quiet_since - timedelta(days=reactivation_window),
            "target": day}


def _add_sending_params(conn: psycopg.Connection, params: dict, template_id: int, settings: TriggerSettings,
                        now: datetime) -> str:
    """Adds the send window's opening, the marketing cap and the template's required values to the enqueue's
    parameters; returns the SQL of the missing-value reasons."""
    shop = rules.read(conn)
    params |= {"not_before": _not_before(settings, shop.window, now),
               "cap_since": now - timedelta(days=shop.cap_days), "cap": shop.cap_messages}
    required = rows.value(conn.execute("SELECT required_fields FROM public.template WHERE id = %s",
                                       (template_id,))) or []
    missing_sql, missing_params = _missing_sql(required)
    # _missing_sql's branches take positional parameters; the enqueue's are named.
    params |= {f"missing_{index}": value for index, value in enumerate(missing_params)}
    return missing_sql


def run_trigger(conn: psycopg.Connection, trigger: str, day: date, *, template_id: int, campaign_name: str,
                settings: TriggerSettings, now: datetime) -> Outcome | None:
    """Enqueues one trigger for one day on its channel (`template_id` is the trigger's template of that
    channel); None when the trigger has nothing to do that day (no holiday)."""
    window = reactivation_days(conn, day) if trigger == "reactivation" else 1
    candidates = candidate_params(trigger, day, settings, window)
    if candidates is None:
        return None
    params: dict = {"trigger": trigger, "marketing": PURPOSE[trigger] == "marketing", **candidates}
    counted = {"enqueued": 0, "queued": 0}
    with conn.transaction():
        # Two runs at once (cron and a person) take turns, so both cannot make the day's campaign.
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_RUN_LOCK,))
        existing = _campaign_for(conn, trigger, day)
        with conn.transaction() as attempt:
            campaign = existing or _new_campaign(conn, trigger, settings.channel(trigger), template_id,
                                                 campaign_name)
            statement = _statement(conn, trigger, CANDIDATES[trigger], params, campaign, settings, now)
            counted = rows.the_dict(conn.execute(statement, params))
            if existing is None and not counted["enqueued"]:
                raise psycopg.Rollback(attempt)  # nobody to greet: no empty campaign in the list
            conn.execute("UPDATE public.campaign SET status = 'sending' WHERE id = %s"
                         " AND (status = 'draft' OR (status = 'done' AND %s))", (campaign.id, counted["queued"] > 0))
            conn.execute("SELECT public.mailing_settle(%s::bigint)", (campaign.id,))  # nobody to send to: done
        if existing is None:
            made = campaign.id if counted["enqueued"] else None
            conn.execute("INSERT INTO public.trigger_campaign (trigger, day, campaign_id) VALUES (%s, %s, %s)"
                         " ON CONFLICT (trigger, day) DO UPDATE SET campaign_id = excluded.campaign_id",
                         (trigger, day, made))
            return Outcome(trigger, day, made, counted["enqueued"], counted["queued"])
    return Outcome(trigger, day, campaign.id, counted["enqueued"], counted["queued"])


def _number_placeholders(sql: str) -> str:
    parts = sql.split("%s")
    return "".join(part + (f"%(missing_{index})s" if index < len(parts) - 1 else "")
                   for index, part in enumerate(parts))


@dataclass(frozen=True)
class Greeting:
    campaign_id: int | None  # None: nothing queued (the campaign is not kept)
    skip_reason: str | None  # why the client cannot be greeted ('no consent', 'suppressed', ...), else None


def greet_one(conn: psycopg.Connection, trigger: str, client_id: int, on_day: date, *, template_id: int,
              campaign_name: str, settings: TriggerSettings, now: datetime) -> Greeting:
    """Queues now, by hand (the Today screen), the greeting the nightly run would send for the birthday on
    `on_day` of client `client_id` ('birthday') or of their child ('child_birthday'): a campaign of its own
    with one recipient, the same template, consent, address and suppression checks, and the same occasion,
    so that neither this nor the nightly run greets the same birthday twice. A client who cannot be reached
    leaves no campaign behind; one already greeted for this birthday is refused."""
    if trigger not in ("birthday", "child_birthday"):
        raise ValueError(f"not a birthday trigger: {trigger!r}")
    params: dict = {"trigger": trigger, "marketing": False, "client": client_id,
                    "target": on_day, "year": on_day.year, "keys": birthday_keys(on_day),
                    "days_left": max((on_day - shop_today(settings, now)).days, 0)}
    # The nightly candidates narrowed to one client: an index lookup on the day, then the client's id.
    one = f"SELECT * FROM ({CANDIDATES[trigger]}) one WHERE one.client_id = %(client)s"
    with conn.transaction() as greeting:
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_RUN_LOCK,))  # in turn with a nightly run
        campaign = _new_campaign(conn, trigger, settings.channel(trigger), template_id, campaign_name)
        statement = _statement(conn, trigger, one, params, campaign, settings, now)
        counted = rows.the_dict(conn.execute(statement, params))
        campaign_id = campaign.id
        if not counted["enqueued"]:
            raise UserError(N_("This birthday is already greeted, or is not on that day."))
        if not counted["queued"]:
            reason = rows.value(conn.execute("SELECT skip_reason FROM public.message WHERE campaign_id = %s",
                                             (campaign_id,)))
            raise psycopg.Rollback(greeting)
        conn.execute("UPDATE public.campaign SET status = 'sending' WHERE id = %s", (campaign_id,))
        return Greeting(campaign_id, None)
    return Greeting(None, reason)
