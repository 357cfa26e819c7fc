"""The audit log as the manager and the administrator read it: who changed what and when, filtered by login,
client, table and period, newest first with keyset paging, and a summary per login per day.

The log is written by the database (0002, 0010): one row per inserted, updated or deleted row, with the old
and new values of what changed, or one summary row for a bulk insert (row_id NULL, new_values
{"rows", "first_id", "last_id"}). Salespeople may not read it: PostgreSQL refuses them (no SELECT on
audit_log), and the app shows them no key for it.

Every filter is an index range ending in (at DESC, id DESC) (0016): audit_log_login, audit_log_table,
audit_log_by_client or audit_log_at; a page continues after the last (at, id) shown, so page 1,000 costs what
page 1 does. The client a row concerns is recorded with it (audit_log.client_id, 0022): the client itself, or
the client of the contact, purchase, purchase line, reminder... that changed, even when the change itself names
no client.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import psycopg

from db import rows
from db.models import database
from db.settings import CATALOGUE
from db.users import list_logins

PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditFilter:
    login: str | None = None
    client_id: int | None = None
    table_name: str | None = None
    # Calendar days in the shop's time zone, both included.
    since: date | None = None
    until: date | None = None


@dataclass(frozen=True)
class Entry:
    id: int
    at: datetime
    # The same moment on the shop's clock (its timezone setting), as the period filters and the summary count days.
    local_at: datetime
    login: str
    table_name: str
    row_id: str | None
    action: str
    old_values: dict | None
    new_values: dict | None
    client_id: int | None
    # Empty once the client is deleted (the change itself still says who it was).
    client_name: str

    @property
    def key(self) -> tuple[datetime, int]:
        return self.at, self.id


@dataclass(frozen=True)
class DaySummary:
    login: str
    day: date
    clients_created: int
    clients_edited: int
    purchases_entered: int
    mailings_started: int


def _time_zone(conn: psycopg.Connection) -> str:
    value = rows.value(conn.execute("SELECT value FROM public.settings WHERE key = 'timezone'"))
    return value if value is not None else CATALOGUE["timezone"].default


def _where(audit: AuditFilter, time_zone: str) -> tuple[list[str], dict]:
    """The filter's conditions, each a fixed fragment with its value bound."""
    parts: list[str] = []
    params: dict = {"tz": time_zone}
    if audit.login:
        parts.append("a.login = %(login)s")
        params["login"] = audit.login
    if audit.client_id is not None:
        parts.append("a.client_id = %(client_id)s")
        params["client_id"] = audit.client_id
    if audit.table_name:
        parts.append("a.table_name = %(table_name)s")
        params["table_name"] = audit.table_name
    if audit.since is not None:
        parts.append("a.at >= (%(since)s::date)::timestamp AT TIME ZONE %(tz)s")
        params["since"] = audit.since
    if audit.until is not None:
        parts.append("a.at < (%(until)s::date + 1)::timestamp AT TIME ZONE %(tz)s")
        params["until"] = audit.until
    return parts, params


def page(conn: psycopg.Connection, audit: AuditFilter, after: tuple[datetime, int] | None = None,
         limit: int = PAGE_SIZE) -> list[Entry]:
    """The next `limit` changes, newest first, after the (at, id) of the last one shown."""
    parts, params = _where(audit, _time_zone(conn))
    if after is not None:
        parts.append("(a.at, a.id) < (%(after_at)s, %(after_id)s)")
        params["after_at"], params["after_id"] = after
    params["limit"] = limit
    # The page first, then its clients' names: one primary-key lookup per row shown.
    sql = (f"SELECT shown.*, coalesce(nullif(concat_ws(' ', nullif(c.last_name, ''), nullif(c.first_name, '')), ''), "
           f"'') AS client_name FROM ("
           f"SELECT a.id, a.at, (a.at AT TIME ZONE %(tz)s) AS local_at, a.login, a.table_name, a.row_id, a.action, "
           f"a.old_values, a.new_values, "
           f"a.client_id FROM public.audit_log a "
           f"WHERE {' AND '.join(parts) or 'true'} ORDER BY a.at DESC, a.id DESC LIMIT %(limit)s) shown "
           f"LEFT JOIN public.client c ON c.id = shown.client_id ORDER BY shown.at DESC, shown.id DESC")
    return rows.all_of(Entry, conn.execute(sql, params))


# Over the filter's rows: clients created and edited (each client once a day), purchases entered (a bulk insert's
# summary row counts its rows) and mailings started (a campaign leaving draft or scheduled for sending).
SUMMARY_SQL = """
SELECT a.login, (a.at AT TIME ZONE %(tz)s)::date AS day,
       count(*) FILTER (WHERE a.table_name = 'client' AND a.action = 'insert')::int AS clients_created,
       count(DISTINCT a.row_id) FILTER (WHERE a.table_name = 'client' AND a.action = 'update')::int
           AS clients_edited,
       coalesce(sum(CASE WHEN a.row_id IS NULL THEN (a.new_values ->> 'rows')::bigint ELSE 1 END)
                    FILTER (WHERE a.table_name = 'purchase' AND a.action = 'insert'), 0)::int AS purchases_entered,
       count(*) FILTER (WHERE a.table_name = 'campaign' AND a.action = 'update'
                          AND a.new_values ->> 'status' = 'sending'
                          AND a.old_values ->> 'status' IN ('draft', 'scheduled'))::int AS mailings_started
  FROM public.audit_log a
 WHERE {where}
 GROUP BY 1, 2
 ORDER BY 2 DESC, 1
"""


def summary(conn: psycopg.Connection, audit: AuditFilter) -> list[DaySummary]:
    """One row per login and day over the filter's period (its table and client filters do not apply: the
    summary counts kinds of work across tables)."""
    parts, params = _where(AuditFilter(login=audit.login, since=audit.since, until=audit.until),
                           _time_zone(conn))
    return rows.all_of(DaySummary, conn.execute(SUMMARY_SQL.format(where=" AND ".join(parts) or "true"), params))


def logins(conn: psycopg.Connection) -> list[str]:
    """Every login of the base, for the login filter (reading the log's distinct logins would scan it)."""
    return [login.name for login in list_logins(conn)]


def _on_bound(action, *args):
    with database.connection_context():
        conn = database.connection()
        conn.rollback()
        try:
            return action(conn, *args)
        finally:
            conn.rollback()


def load_page(audit: AuditFilter, after: tuple[datetime, int] | None = None,
              limit: int = PAGE_SIZE) -> list[Entry]:
    return _on_bound(page, audit, after, limit)


def load_summary(audit: AuditFilter) -> list[DaySummary]:
    return _on_bound(summary, audit)


def load_logins() -> list[str]:
    return _on_bound(logins)


def today() -> date:
    return _on_bound(lambda conn: rows.value(conn.execute("SELECT (now() AT TIME ZONE %s)::date",
                                                          (_time_zone(conn),))))
