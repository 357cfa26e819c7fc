"""The shop's mailing rules, read from settings over any connection (the mailer's too)."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import datetime, time

import psycopg

from db import rows
from db.settings import CATALOGUE, WEEKDAYS

_KEYS = ("timezone", "send_window", "send_days", "frequency_cap_messages", "frequency_cap_days", "mail_from",
         "mail_reply_to", "unsubscribe_mailto", "unsubscribe_url", "language")


@dataclass(frozen=True)
class Rules:
    timezone: str
    window: str
    days: str
    cap_messages: int
    cap_days: int
    mail_from: str
    reply_to: str
    unsubscribe_mailto: str
    unsubscribe_url: str
    language: str = "en"  # the shop's: what a recipient whose own the base does not know reads

    def _open_days(self) -> set[int]:
        if "-" in self.days:
            first, last = (WEEKDAYS.index(day) for day in self.days.split("-"))
            return set(range(first, last + 1))
        return {WEEKDAYS.index(day) for day in self.days.split(",")}

    def _hours(self) -> tuple[time, time]:
        start, end = self.window.split("-")
        end_time = time.max if end == "24:00" else time.fromisoformat(end)
        return time.fromisoformat(start), end_time

    def in_window(self, now: datetime) -> bool:
        """Whether marketing may go out at `now`, judged on the shop's wall clock."""
        local = now.astimezone(zoneinfo.ZoneInfo(self.timezone))
        start, end = self._hours()
        return local.weekday() in self._open_days() and start <= local.time() < end


def read(conn: psycopg.Connection) -> Rules:
    stored = {row["key"]: row["value"] for row in rows.dicts(
        conn.execute("SELECT key, value FROM settings WHERE key = ANY(%s)", (list(_KEYS),)))}
    value = {key: stored.get(key, CATALOGUE[key].default) for key in _KEYS}
    return Rules(timezone=value["timezone"], window=value["send_window"], days=value["send_days"],
                 cap_messages=int(value["frequency_cap_messages"]), cap_days=int(value["frequency_cap_days"]),
                 mail_from=value["mail_from"], reply_to=value["mail_reply_to"],
                 unsubscribe_mailto=value["unsubscribe_mailto"] or value["mail_from"],
                 unsubscribe_url=value["unsubscribe_url"], language=value["language"])


def read_country(conn: psycopg.Connection) -> str:
    """The country assumed for a phone number written without its +code."""
    return rows.value(conn.execute("SELECT value FROM settings WHERE key = 'phone_country'")) \
        or CATALOGUE["phone_country"].default
