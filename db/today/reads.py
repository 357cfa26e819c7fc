"""What the Today screen shows: the week's birthdays, subscriptions running out, reminders due, clients who have
just gone quiet and the week's new clients.

Each list stops after `limit` rows and comes with the count of all its rows, so the screen reads a handful of
index ranges however large the base (1M clients: see tests/bench_today.py). Days are calendar days in the
shop's `timezone` setting. Archived clients (0018) are in none of the lists; a reminder about one still is, since
somebody wrote it to be done.

Birthdays: a birthday on 29 February is kept on 1 March in a year without one (the clients list's "birthday
within N days" filter counts it the same way). The window is today and the next 7 days, across the ends of
months and years; each day is a key month * 100 + day, looked up in the client_birthday and relative_birthday
indexes (0016), one index range per day.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

import psycopg

from db import rows
from db.models import database
from db.settings import CATALOGUE

WINDOW_DAYS = 7
LIST_LIMIT = 100
# A client who has "just" gone quiet crossed the inactivity threshold within this many days.
JUST_QUIET_DAYS = 7

# Archived clients (0018) are in no list. Taken from client_archived as one hashed set, so that a count stays an
# index-only scan of its own index (client_last_purchase_sort, client_created_sort hold the id), where a test of
# archived_at would read each row: the week's subscriptions were counted in 225 ms that way, 120 ms this one.
NOT_ARCHIVED = "{id} NOT IN (SELECT archived.id FROM public.client archived WHERE archived.archived_at IS NOT NULL)"

NAME_SQL = ("coalesce(nullif(concat_ws(' ', nullif(c.last_name, ''), nullif(c.first_name, ''), "
            "nullif(c.middle_name, '')), ''), co.name, '#' || c.id)")


@dataclass(frozen=True)
class Birthday:
    client_id: int
    client_name: str
    # Empty for the client's own birthday; else the relative whose birthday it is, shown with the parent.
    relative_name: str
    relation: str
    birth_date: date
    on_day: date

    @property
    def age(self) -> int:
        """The age reached on the day (a 29 February child turns a year older on 1 March too)."""
        return self.on_day.year - self.birth_date.year


@dataclass(frozen=True)
class Ending:
    subscription_id: int
    client_id: int
    client_name: str
    product: str
    ends_on: date


@dataclass(frozen=True)
class Reminder:
    id: int
    client_id: int | None
    client_name: str
    due_on: date
    text: str
    assignee: str


@dataclass(frozen=True)
class ClientOnDay:
    client_id: int
    client_name: str
    on_day: date


@dataclass(frozen=True)
class Counted:
    """The first rows of a list and how many there are in all."""

    shown: tuple
    total: int


@dataclass(frozen=True)
class TodayView:
    today: date
    login: str
    assignee: str | None
    birthdays: Counted
    endings: Counted
    reminders: Counted
    quiet: Counted
    new: Counted
    inactive_after_days: int
    assignees: tuple[str, ...]


def birthday_keys(today: date, days: int = WINDOW_DAYS) -> list[tuple[int, date]]:
    """(month * 100 + day, the date it falls on) for today and the next `days` days, with 229 on 1 March of a
    year without 29 February."""
    keys = []
    for offset in range(days + 1):
        day = today + timedelta(days=offset)
        keys.append((day.month * 100 + day.day, day))
        if (day.month, day.day) == (3, 1) and not calendar.isleap(day.year):
            keys.append((229, day))
    return keys


def _setting(conn: psycopg.Connection, key: str) -> str:
    value = rows.value(conn.execute("SELECT value FROM public.settings WHERE key = %s", (key,)))
    return value if value is not None else CATALOGUE[key].default


# Archived clients (0018) are out of every list here, as they are out of the clients list.
# One index range of client_birthday / relative_birthday per day of the window, each stopping after the
# rows shown; the union is ordered by day, then by client so that a child is listed beside its parent.
BIRTHDAYS_SQL = f"""
WITH window_days AS (SELECT * FROM unnest(%(keys)s::numeric[], %(days)s::date[]) AS w(key, on_day))
SELECT b.* FROM (
    SELECT own.*, w.on_day FROM window_days w CROSS JOIN LATERAL (
        SELECT c.id AS client_id, {NAME_SQL} AS client_name, '' AS relative_name, '' AS relation, c.birth_date
          FROM public.client c
          LEFT JOIN public.company co ON co.id = c.company_id
         WHERE extract(month FROM c.birth_date) * 100 + extract(day FROM c.birth_date) = w.key
           AND c.archived_at IS NULL
         ORDER BY extract(month FROM c.birth_date) * 100 + extract(day FROM c.birth_date), c.id
         LIMIT %(limit)s) own
    UNION ALL
    SELECT kin.*, w.on_day FROM window_days w CROSS JOIN LATERAL (
        SELECT r.client_id, {NAME_SQL} AS client_name, r.name AS relative_name, r.relation, r.birth_date
          FROM public.relative r
          JOIN public.client c ON c.id = r.client_id
          LEFT JOIN public.company co ON co.id = c.company_id
         WHERE extract(month FROM r.birth_date) * 100 + extract(day FROM r.birth_date) = w.key
           AND c.archived_at IS NULL
         ORDER BY extract(month FROM r.birth_date) * 100 + extract(day FROM r.birth_date), r.client_id, r.id
         LIMIT %(limit)s) kin) b
 ORDER BY b.on_day, b.client_id, b.relative_name <> '', b.relative_name
 LIMIT %(limit)s
"""

# Every birthday of the window by an index-only scan, less those of archived clients (hidden from every list),
# found the other way round, from client_archived: the archived are few, where a filter on archived_at would read
# the heap row of each of the week's 26,000 birthdays.
BIRTHDAY_COUNT_SQL = """
SELECT (SELECT count(*) FROM public.client
         WHERE extract(month FROM birth_date) * 100 + extract(day FROM birth_date) = ANY(%(keys)s::numeric[]))
     + (SELECT count(*) FROM public.relative
         WHERE extract(month FROM birth_date) * 100 + extract(day FROM birth_date) = ANY(%(keys)s::numeric[]))
     - (SELECT count(*) FROM public.client
         WHERE archived_at IS NOT NULL
           AND extract(month FROM birth_date) * 100 + extract(day FROM birth_date) = ANY(%(keys)s::numeric[]))
     - (SELECT count(*) FROM public.client c JOIN public.relative r ON r.client_id = c.id
         WHERE c.archived_at IS NOT NULL
           AND extract(month FROM r.birth_date) * 100 + extract(day FROM r.birth_date) = ANY(%(keys)s::numeric[]))
       AS total
"""

# subscription_ends; a subscription renewed by a later one of the same product is not running out. OFFSET 0 keeps
# the renewal check a lookup in subscription_client per subscription of the week: as an anti-join the planner
# hashes all 264,000 subscriptions of the bench base first (250 ms for the count instead of 23 ms).
ENDINGS_WHERE = f"""
  FROM public.subscription s
 WHERE s.ends_on BETWEEN %(today)s AND %(today)s::date + %(window)s
   AND NOT EXISTS (SELECT 1 FROM public.subscription later
                    WHERE later.client_id = s.client_id AND later.product_id IS NOT DISTINCT FROM s.product_id
                      AND later.ends_on > s.ends_on OFFSET 0)
   AND {NOT_ARCHIVED.format(id="s.client_id")}
"""
ENDINGS_SQL = f"""
SELECT s.id AS subscription_id, s.client_id, {NAME_SQL} AS client_name, coalesce(p.name, '') AS product, s.ends_on
{ENDINGS_WHERE.replace("FROM public.subscription s", '''FROM public.subscription s
  JOIN public.client c ON c.id = s.client_id
  LEFT JOIN public.company co ON co.id = c.company_id
  LEFT JOIN public.product p ON p.id = s.product_id''')}
 ORDER BY s.ends_on, s.id
 LIMIT %(limit)s
"""
ENDINGS_COUNT_SQL = f"SELECT count(*) AS total {ENDINGS_WHERE}"

# reminder_due (partial: open reminders only). The login's own reminders first, then by due date.
REMINDERS_WHERE = """
  FROM public.reminder m
 WHERE NOT m.done AND m.due_on <= %(today)s
   AND (%(assignee)s::text IS NULL OR m.assignee = %(assignee)s)
"""
# The open reminders due are sorted alone, and only the ones shown are joined to their clients' names (joining
# all 10,000 overdue ones of the bench base first took 250 ms).
REMINDERS_SQL = f"""
SELECT m.id, m.client_id, coalesce({NAME_SQL}, '') AS client_name, m.due_on, m.text,
       coalesce(m.assignee, '') AS assignee
  FROM (SELECT m.* {REMINDERS_WHERE}
         ORDER BY m.assignee IS NOT DISTINCT FROM %(login)s DESC, m.due_on, m.id
         LIMIT %(limit)s) m
  LEFT JOIN public.client c ON c.id = m.client_id
  LEFT JOIN public.company co ON co.id = c.company_id
 ORDER BY m.assignee IS NOT DISTINCT FROM %(login)s DESC, m.due_on, m.id
"""
REMINDERS_COUNT_SQL = f"SELECT count(*) AS total {REMINDERS_WHERE}"

ASSIGNEES_SQL = """
SELECT DISTINCT assignee FROM public.reminder WHERE NOT done AND assignee IS NOT NULL ORDER BY assignee
"""

# client_last_purchase_sort: gone quiet means no purchase for `threshold` days or more (as on the dashboard); just
# gone quiet, for at most JUST_QUIET_DAYS - 1 days more than that, so a client is listed for a week.
QUIET_WHERE = f"""
  FROM public.client c
 WHERE c.last_purchase_at >= (%(today)s::date - %(threshold)s - %(just)s)::timestamp AT TIME ZONE %(tz)s
   AND c.last_purchase_at < (%(today)s::date - %(threshold)s + 1)::timestamp AT TIME ZONE %(tz)s
   AND {NOT_ARCHIVED.format(id="c.id")}
"""
QUIET_SQL = f"""
SELECT c.id AS client_id, {NAME_SQL} AS client_name, (c.last_purchase_at AT TIME ZONE %(tz)s)::date AS on_day
{QUIET_WHERE.replace("FROM public.client c", '''FROM public.client c
  LEFT JOIN public.company co ON co.id = c.company_id''')}
 ORDER BY c.last_purchase_at DESC NULLS LAST, c.id
 LIMIT %(limit)s
"""
QUIET_COUNT_SQL = f"SELECT count(*) AS total {QUIET_WHERE}"

# client_created_sort: since Monday of this week.
NEW_WHERE = f"""
  FROM public.client c
 WHERE c.created_at >= (%(monday)s::date)::timestamp AT TIME ZONE %(tz)s
   AND {NOT_ARCHIVED.format(id="c.id")}
"""
NEW_SQL = f"""
SELECT c.id AS client_id, {NAME_SQL} AS client_name, (c.created_at AT TIME ZONE %(tz)s)::date AS on_day
{NEW_WHERE.replace("FROM public.client c", '''FROM public.client c
  LEFT JOIN public.company co ON co.id = c.company_id''')}
 ORDER BY c.created_at DESC, c.id
 LIMIT %(limit)s
"""
NEW_COUNT_SQL = f"SELECT count(*) AS total {NEW_WHERE}"


def _counted(conn: psycopg.Connection, cls: type, sql: str, count_sql: str, params: dict) -> Counted:
    shown: tuple = tuple(rows.all_of(cls, conn.execute(sql, params)))
    if len(shown) < params["limit"]:
        return Counted(shown, len(shown))
    return Counted(shown, rows.the_dict(conn.execute(count_sql, params))["total"])


def shop_today(conn: psycopg.Connection) -> date:
    return rows.value(conn.execute("SELECT (now() AT TIME ZONE %s)::date", (_setting(conn, "timezone"),)))


def load(conn: psycopg.Connection, login: str, *, today: date | None = None, assignee: str | None = None,
         limit: int = LIST_LIMIT) -> TodayView:
    """Everything the Today screen shows, for `login` (whose reminders come first); `assignee` keeps only the
    reminders of one login. `today` defaults to the date in the shop's time zone."""
    tz = _setting(conn, "timezone")
    threshold = int(_setting(conn, "inactive_after_days"))
    if today is None:
        today = rows.value(conn.execute("SELECT (now() AT TIME ZONE %s)::date", (tz,)))
    keys = birthday_keys(today)
    params = {"today": today, "window": WINDOW_DAYS, "limit": limit, "tz": tz, "login": login,
              "assignee": assignee or None, "threshold": threshold, "just": JUST_QUIET_DAYS - 1,
              "monday": today - timedelta(days=today.weekday()),
              "keys": [key for key, _ in keys], "days": [day for _, day in keys]}
    return TodayView(
        today=today, login=login, assignee=assignee or None,
        birthdays=_counted(conn, Birthday, BIRTHDAYS_SQL, BIRTHDAY_COUNT_SQL, params),
        endings=_counted(conn, Ending, ENDINGS_SQL, ENDINGS_COUNT_SQL, params),
        reminders=_counted(conn, Reminder, REMINDERS_SQL, REMINDERS_COUNT_SQL, params),
        quiet=_counted(conn, ClientOnDay, QUIET_SQL, QUIET_COUNT_SQL, params),
        new=_counted(conn, ClientOnDay, NEW_SQL, NEW_COUNT_SQL, params),
        inactive_after_days=threshold,
        assignees=tuple(rows.values(conn.execute(ASSIGNEES_SQL))),
    )


def load_today(login: str, assignee: str | None = None, today: date | None = None) -> TodayView:
    """`load` on the app's bound connection, in one read-only snapshot."""
    with database.connection_context():
        conn = database.connection()
        conn.rollback()
        try:
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            return load(conn, login, today=today, assignee=assignee)
        finally:
            conn.rollback()
