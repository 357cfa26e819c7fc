"""The mailing forecast (`clientbase mailing forecast [--days 14]`): who gets what over the next days, from the
queue (scheduled and sending campaigns), weekly campaigns' coming runs and the triggers together, after the
send days and the marketing cap, with the clients who would get more than one message on a day.

Everything is planned into a temporary table (dropped at commit) by set-based statements, one per source and
day, then the cap and the overlaps are window functions over it. Nothing is enqueued.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import psycopg

from db import rows
from db.clients.listing import Criteria, where_sql
from db.mailing import rules, triggers
from db.mailing.campaigns import CONTACT_KIND, _VALID_ADDRESS, no_consent_sql


@dataclass(frozen=True)
class Day:
    day: date
    messages: int  # that go out, after the cap
    capped: int  # marketing held back by the frequency cap
    by_source: dict[str, int]
    overlapping_clients: int  # clients who get two or more messages that day


@dataclass(frozen=True)
class Overlap:
    day: date
    client_id: int
    name: str
    sources: list[str]


@dataclass(frozen=True)
class Forecast:
    days: list[Day]
    overlaps: list[Overlap]  # the first few of each day, for the admin to look at


_PLAN = ("CREATE TEMPORARY TABLE forecast_plan (day date NOT NULL, client_id bigint NOT NULL, source text NOT NULL,"
         " marketing boolean NOT NULL) ON COMMIT DROP")

# Who a campaign or trigger can reach at all: consent as its purpose needs it and an address of the channel.
_REACHABLE = """
    {no_consent_negated}
    AND EXISTS (SELECT 1 FROM public.contact_point cp
                 WHERE cp.client_id = c.id AND cp.kind = %(kind)s AND cp.normalized ~ %(valid)s)
    AND NOT EXISTS (SELECT 1 FROM public.contact_point cp JOIN public.suppression s
                                ON s.channel = %(channel)s AND s.address = cp.normalized
                     WHERE cp.client_id = c.id AND cp.kind = %(kind)s AND cp.is_primary)"""


# A day's birthdays or renewals are a few thousand clients: each is checked against trigger_occasion by one
# probe of its unique index (OFFSET 0 keeps NOT EXISTS a per-row subplan). As an anti-join the planner, misled
# by an occasion's statistics right after a run has filled the table, rescanned a whole year's greetings for
# each candidate: 2 s a day, most of the forecast. The first day's reactivation (every quiet client, hundreds
# of thousands) stays an anti-join, which hashes them once.
_PROBE_EACH = "OFFSET 0"


def _reachable(channel: str, purpose: str) -> str:
    return _REACHABLE.format(no_consent_negated=f"NOT {no_consent_sql(channel, purpose)}")


def _open_day(day: date, settings: rules.Rules) -> date:
    """The first day from `day` on which marketing may go out."""
    zone = zoneinfo.ZoneInfo(settings.timezone)
    for offset in range(8):
        candidate = day + timedelta(days=offset)
        if settings.in_window(datetime.combine(candidate, time.fromisoformat(settings.window.split("-")[0]), zone)):
            return candidate
    return day


def forecast(conn: psycopg.Connection, now: datetime, days: int = 14, overlaps_per_day: int = 5) -> Forecast:
    shop = rules.read(conn)
    settings = triggers.read_settings(conn)
    today = triggers.shop_today(settings, now)
    last = today + timedelta(days=days - 1)
    zone = zoneinfo.ZoneInfo(shop.timezone)
    with conn.transaction():
        conn.execute(_PLAN)
        # The queue: what is already enqueued and waiting, on the day it becomes due.
        conn.execute(
            "INSERT INTO forecast_plan SELECT greatest((m.not_before AT TIME ZONE %s)::date, %s), m.client_id,"
            "       k.name, k.purpose = 'marketing'"
            "  FROM message m JOIN campaign k ON k.id = m.campaign_id"
            " WHERE m.status = 'queued' AND k.status IN ('sending', 'scheduled')"
            "   AND (m.not_before AT TIME ZONE %s)::date <= %s", (shop.timezone, today, shop.timezone, last))
        # Weekly campaigns: each coming run reaches its audience as it is now.
        weekly = rows.dicts(conn.execute(
            "SELECT id, name, channel, purpose, audience, next_run_at FROM campaign"
            " WHERE weekly_day IS NOT NULL AND status = 'scheduled' AND next_run_at IS NOT NULL"))
        for campaign in weekly:
            audience_sql, audience_params = "true", list[object]()
            if campaign["audience"] is not None:
                audience_sql, audience_params = where_sql(Criteria.from_json(campaign["audience"]), fuzzy=False,
                                                          today=today)
            run_at = campaign["next_run_at"]
            while run_at.astimezone(zone).date() <= last:
                if run_at.astimezone(zone).date() >= today:
                    reach = _reachable(campaign["channel"], campaign["purpose"]).replace("%(kind)s", "%s") \
                        .replace("%(valid)s", "%s").replace("%(channel)s", "%s")
                    conn.execute(
                        f"INSERT INTO forecast_plan SELECT %s, c.id, %s, %s FROM client c"
                        f" WHERE ({audience_sql}) AND {reach}",
                        [run_at.astimezone(zone).date(), campaign["name"], campaign["purpose"] == "marketing",
                         *audience_params, CONTACT_KIND[campaign["channel"]], _VALID_ADDRESS[campaign["channel"]],
                         campaign["channel"], CONTACT_KIND[campaign["channel"]]])
                run_at += timedelta(days=7)
        # The triggers, day by day, as `triggers run` would find them (those already greeted left out).
        for offset in range(days):
            day = today + timedelta(days=offset)
            for trigger in triggers.TRIGGERS:
                if trigger not in settings.enabled:
                    continue
                params = triggers.candidate_params(trigger, day, settings, newly_only=offset > 0)
                if params is None:
                    continue
                purpose, channel = triggers.PURPOSE[trigger], settings.channel(trigger)
                params |= {"trigger": trigger, "day": day, "source": trigger, "marketing": purpose == "marketing",
                           "kind": CONTACT_KIND[channel], "valid": _VALID_ADDRESS[channel], "channel": channel}
                # Those not yet greeted first, then whether each can be reached: right after a run has filled
                # trigger_occasion its statistics are stale, and the planner checked the reachability of every
                # quiet client (hashing every e-mail address) before finding almost all already asked.
                conn.execute(
                    f"WITH fresh AS MATERIALIZED ("
                    f"  SELECT k.client_id FROM ({triggers.CANDIDATES[trigger]}) k"
                    f"   WHERE NOT EXISTS (SELECT 1 FROM public.trigger_occasion o WHERE o.trigger = %(trigger)s"
                    f"                      AND o.client_id = k.client_id AND o.occasion = k.occasion"
                    f"                      {_PROBE_EACH if trigger != 'reactivation' else ''}))"
                    f" INSERT INTO forecast_plan SELECT %(day)s, f.client_id, %(source)s, %(marketing)s"
                    f"  FROM fresh f CROSS JOIN LATERAL (SELECT * FROM public.client c WHERE c.id = f.client_id"
                    f"                                   OFFSET 0) c"
                    f" WHERE {_reachable(channel, purpose)}", params)
        # Marketing waits for a send day.
        planned_days = rows.values(conn.execute("SELECT DISTINCT day FROM forecast_plan WHERE marketing"))
        for day in planned_days:
            moved = _open_day(day, shop)
            if moved != day:
                conn.execute("UPDATE forecast_plan SET day = %s WHERE marketing AND day = %s", (moved, day))
        # The cap: a client's marketing messages in order, each counting those planned within the cap's days
        # before it and those already sent; past the cap it is held back. Window functions over the plan (one
        # sort), and one pass over the recently sent: no lookup per planned message.
        conn.execute("ANALYZE forecast_plan")
        counted = rows.dicts(conn.execute(
            f"""WITH sent AS (
                   SELECT m.client_id, count(*) AS recently
                     FROM message m JOIN campaign k ON k.id = m.campaign_id
                    WHERE k.purpose = 'marketing' AND m.status = 'sent' AND m.sent_at > %(since)s
                    GROUP BY m.client_id),
               ordered AS (
                   SELECT p.*, row_number() OVER (PARTITION BY p.client_id ORDER BY p.day, p.source)
                               - count(*) OVER (PARTITION BY p.client_id ORDER BY p.day
                                                RANGE BETWEEN UNBOUNDED PRECEDING
                                                AND INTERVAL '{int(shop.cap_days)} days' PRECEDING) AS nth
                     FROM forecast_plan p WHERE p.marketing),
               kept AS (
                   SELECT o.day, o.source, o.nth + coalesce(s.recently, 0) > %(cap)s AS capped
                     FROM ordered o LEFT JOIN sent s ON s.client_id = o.client_id
                   UNION ALL
                   SELECT day, source, false FROM forecast_plan WHERE NOT marketing)
               SELECT day, source, count(*) FILTER (WHERE NOT capped) AS messages,
                      count(*) FILTER (WHERE capped) AS capped
                 FROM kept GROUP BY day, source ORDER BY day, source""",
            {"since": now - timedelta(days=shop.cap_days), "cap": shop.cap_messages}))
        # The overlaps and their count per day in one hashed pass over the plan (an ordered array_agg would
        # sort the whole plan; the few sources are sorted here instead); only the examples shown look their
        # client's name up, one probe each (OFFSET 0: the planner, guessing many overlaps, walked all the
        # clients' primary key instead; joining the whole plan first cost 4 s on a large base).
        examples = rows.dicts(conn.execute(
            "SELECT o.day, o.client_id, n.name, o.sources, o.clients"
            "  FROM (SELECT g.*, row_number() OVER (PARTITION BY g.day ORDER BY g.client_id) AS nth,"
            "               count(*) OVER (PARTITION BY g.day) AS clients"
            "          FROM (SELECT p.day, p.client_id, array_agg(p.source) AS sources"
            "                  FROM forecast_plan p GROUP BY p.day, p.client_id HAVING count(*) > 1) g) o"
            " CROSS JOIN LATERAL (SELECT btrim(concat_ws(' ', c.first_name, c.last_name)) AS name"
            "                       FROM client c WHERE c.id = o.client_id OFFSET 0) n"
            " WHERE o.nth <= %s ORDER BY o.day, o.client_id", (overlaps_per_day,)))
        overlapping = {row["day"]: row["clients"] for row in examples}
    by_day: dict[date, dict] = {}
    for row in counted:
        entry = by_day.setdefault(row["day"], {"messages": 0, "capped": 0, "by_source": {}})
        entry["messages"] += row["messages"]
        entry["capped"] += row["capped"]
        if row["messages"]:
            entry["by_source"][row["source"]] = row["messages"]
    return Forecast(
        [Day(day, entry["messages"], entry["capped"], entry["by_source"], overlapping.get(day, 0))
         for day, entry in sorted(by_day.items()) if day <= last],
        [Overlap(row["day"], row["client_id"], row["name"], sorted(row["sources"])) for row in examples])
