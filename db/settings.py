"""The shop's settings: a fixed catalogue of keys, each with a default and a validator.

Only rows that differ from the default are stored, so a new setting added later has its default
everywhere without a migration.
"""

from __future__ import annotations

import email.utils
import re
import zoneinfo
from dataclasses import dataclass
from typing import Callable

import peewee
import phonenumbers

from db.errors import UserError, is_permission_denied
from db.i18n import t
from db.models import Settings, database

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
LANGUAGES = ("en",)


def _country(value: str) -> str:
    code = value.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(t("settings.reason.country"))
    return code


def _currency(value: str) -> str:
    code = value.strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise ValueError(t("settings.reason.currency"))
    return code


def _timezone(value: str) -> str:
    name = value.strip()
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(t("settings.reason.timezone")) from None
    return name


def _window(value: str) -> str:
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", value)
    if not match:
        raise ValueError(t("settings.reason.window"))
    start_h, start_m, end_h, end_m = map(int, match.groups())
    if not (0 <= start_h < 24 and 0 <= end_h <= 24 and start_m < 60 and end_m < 60) or \
            (start_h, start_m) >= (end_h, end_m):
        raise ValueError(t("settings.reason.window"))
    return f"{start_h:02d}:{start_m:02d}-{end_h:02d}:{end_m:02d}"


def _days(value: str) -> str:
    text = value.strip().lower()
    range_match = re.fullmatch(r"([a-z]{3})-([a-z]{3})", text)
    if range_match and set(range_match.groups()) <= set(WEEKDAYS):
        first, last = (WEEKDAYS.index(day) for day in range_match.groups())
        if first <= last:
            return text
    days = [day.strip() for day in text.split(",")]
    if days and all(day in WEEKDAYS for day in days) and len(set(days)) == len(days):
        return ",".join(days)
    raise ValueError(t("settings.reason.days"))


def _integer(low: int, high: int) -> Callable[[str], str]:
    def check(value: str) -> str:
        try:
            number = int(value.strip())
        except ValueError:
            raise ValueError(t("settings.reason.int", low=low, high=high)) from None
        if not low <= number <= high:
            raise ValueError(t("settings.reason.int", low=low, high=high))
        return str(number)

    return check


def _boolean(value: str) -> str:
    text = value.strip().lower()
    if text in ("yes", "y", "true", "1", "on", "да"):
        return "yes"
    if text in ("no", "n", "false", "0", "off", "нет"):
        return "no"
    raise ValueError(t("settings.reason.bool"))


def _mailbox(value: str) -> str:
    """An address with an optional display name ("Shop <news@shop.example>"), or empty for none."""
    text = value.strip()
    if text and "@" not in email.utils.parseaddr(text)[1]:
        raise ValueError(t("settings.reason.mailbox"))
    return text


def _https_url(value: str) -> str:
    text = value.strip()
    if text and not re.fullmatch(r"https://[^\s/]+(/\S*)?", text):
        raise ValueError(t("settings.reason.https_url"))
    return text.rstrip("/")


def _language(value: str) -> str:
    code = value.strip().lower()
    if code not in LANGUAGES:
        raise ValueError(t("settings.reason.language", choices=", ".join(LANGUAGES)))
    return code


@dataclass(frozen=True)
class Setting:
    key: str
    default: str
    check: Callable[[str], str]
    description: str


CATALOGUE: dict[str, Setting] = {s.key: s for s in (
    Setting("phone_country", "RU", _country, "Country assumed for phone numbers written without +code"),
    Setting("currency", "RUB", _currency, "Currency of amounts"),
    Setting("timezone", "Europe/Moscow", _timezone, "The shop's time zone (send window, birthdays)"),
    Setting("send_window", "10:00-18:00", _window, "Hours in which marketing messages may go out"),
    Setting("send_days", "mon-fri", _days, "Days on which marketing messages may go out"),
    Setting("frequency_cap_messages", "2", _integer(1, 100), "At most this many marketing messages per client…"),
    Setting("frequency_cap_days", "7", _integer(1, 365), "…within this many days"),
    Setting("inactive_after_days", "180", _integer(1, 3650), "A client with no purchase for this long has gone quiet"),
    Setting("date_day_first", "yes", _boolean, "Read 01/02/85 as 1 February (yes) or 2 January (no)"),
    Setting("sales_may_export", "no", _boolean, "Whether salespeople may export client lists"),
    Setting("language", "en", _language, "Language of the interface"),
    Setting("mail_from", "", _mailbox, "Sender of e-mail (From), such as Shop <news@shop.example>"),
    Setting("mail_reply_to", "", _mailbox, "Where replies to e-mail go (Reply-To); empty: to the sender"),
    Setting("unsubscribe_mailto", "", _mailbox, "Address of the List-Unsubscribe mailto; empty: the sender"),
    Setting("unsubscribe_url", "", _https_url, "https base URL of the one-click unsubscribe service; empty: none"),
)}


@dataclass(frozen=True)
class SettingValue:
    key: str
    value: str
    default: str
    description: str

    @property
    def is_default(self) -> bool:
        return self.value == self.default


def _setting(key: str) -> Setting:
    try:
        return CATALOGUE[key]
    except KeyError:
        raise UserError("settings.unknown", key=key) from None


def list_settings() -> list[SettingValue]:
    with database.connection_context():
        stored = {row.key: row.value for row in Settings.select(Settings.key, Settings.value)}
    return [SettingValue(s.key, stored.get(s.key, s.default), s.default, s.description) for s in CATALOGUE.values()]


def get(key: str) -> str:
    setting = _setting(key)
    with database.connection_context():
        row = Settings.get_or_none(Settings.key == key)
    return row.value if row is not None else setting.default


def validate(key: str, value: str) -> str:
    setting = _setting(key)
    try:
        return setting.check(value)
    except ValueError as exc:
        raise UserError("settings.bad_value", key=key, value=value, reason=str(exc)) from None


def set_value(key: str, value: str) -> str:
    clean = validate(key, value)
    try:
        with database.connection_context(), database.atomic():
            (Settings.insert(key=key, value=clean)
             .on_conflict(conflict_target=[Settings.key], update={Settings.value: clean})
             .execute())
    except peewee.DatabaseError as exc:
        if is_permission_denied(exc):
            raise UserError("settings.admin_only") from None
        raise
    return clean
