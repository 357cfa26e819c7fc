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

from db import rows
from db.errors import UserError, is_permission_denied
from db.i18n import N_, t
from db.models import Settings, database

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
LANGUAGES = ("en", "ru", "ro")


def _country(value: str) -> str:
    code = value.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(t("expected a two-letter country code such as RU, MD or GB"))
    return code


def _currency(value: str) -> str:
    code = value.strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise ValueError(t("expected a three-letter currency code such as RUB, MDL or EUR"))
    return code


def _timezone(value: str) -> str:
    name = value.strip()
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(t("expected a time zone such as Europe/Moscow")) from None
    return name


def _window(value: str) -> str:
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", value)
    if not match:
        raise ValueError(t("expected a window such as 10:00-18:00"))
    start_h, start_m, end_h, end_m = map(int, match.groups())
    if not (0 <= start_h < 24 and 0 <= end_h <= 24 and start_m < 60 and end_m < 60) or \
            (start_h, start_m) >= (end_h, end_m):
        raise ValueError(t("expected a window such as 10:00-18:00"))
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
    raise ValueError(t("expected weekdays such as mon-fri or mon,wed,fri"))


def _integer(low: int, high: int) -> Callable[[str], str]:
    def check(value: str) -> str:
        try:
            number = int(value.strip())
        except ValueError:
            raise ValueError(t("expected a whole number from {low} to {high}", low=low, high=high)) from None
        if not low <= number <= high:
            raise ValueError(t("expected a whole number from {low} to {high}", low=low, high=high))
        return str(number)

    return check


def _boolean(value: str) -> str:
    text = value.strip().lower()
    if text in ("yes", "y", "true", "1", "on", "да"):
        return "yes"
    if text in ("no", "n", "false", "0", "off", "нет"):
        return "no"
    raise ValueError(t("expected yes or no"))


def _mailbox(value: str) -> str:
    """An address with an optional display name ("Shop <news@shop.example>"), or empty for none."""
    text = value.strip()
    if text and "@" not in email.utils.parseaddr(text)[1]:
        raise ValueError(t("expected an e-mail address, optionally with a name: Shop <news@shop.example>"))
    return text


def _https_url(value: str) -> str:
    text = value.strip()
    if text and not re.fullmatch(r"https://[^\s/]+(/\S*)?", text):
        raise ValueError(t("expected an https:// address, such as https://shop.example/unsubscribe"))
    return text.rstrip("/")


def _country_or_empty(value: str) -> str:
    return _country(value) if value.strip() else ""


def _month_days(value: str) -> str:
    """Month-day pairs such as 01-01,02-23,03-08 (any year)."""
    days = [day.strip() for day in value.split(",") if day.strip()]
    for day in days:
        if not re.fullmatch(r"(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])", day):
            raise ValueError(t("expected month-day pairs such as 01-01,02-23,03-08"))
    return ",".join(days)


def _named_days(value: str) -> str:
    """The shop's own dates: 'MM-DD Name' separated by semicolons, such as 06-15 Our shop's birthday."""
    entries = [entry.strip() for entry in value.split(";") if entry.strip()]
    for entry in entries:
        day, _, name = entry.partition(" ")
        if not name.strip() or _month_days(day) != day:
            raise ValueError(t("expected dates with names such as 06-15 Our shop's birthday; 09-01 Knowledge Day"))
    return "; ".join(entries)


def _channel(value: str) -> str:
    said = value.strip().lower().replace("-", "")
    if said not in ("email", "sms"):
        raise ValueError(t("expected one of: {choices}", choices="email, sms"))
    return said


def _language(value: str) -> str:
    code = value.strip().lower()
    if code not in LANGUAGES:
        raise ValueError(t("expected one of: {choices}", choices=", ".join(LANGUAGES)))
    return code


@dataclass(frozen=True)
class Setting:
    key: str
    default: str
    check: Callable[[str], str]
    description: str


CATALOGUE: dict[str, Setting] = {s.key: s for s in (
    Setting("phone_country", "RU", _country, N_("Country assumed for phone numbers written without +code")),
    Setting("currency", "RUB", _currency, N_("Currency of amounts")),
    Setting("timezone", "Europe/Moscow", _timezone, N_("The shop's time zone (send window, birthdays)")),
    Setting("send_window", "10:00-18:00", _window, N_("Hours in which marketing messages may go out")),
    Setting("send_days", "mon-fri", _days, N_("Days on which marketing messages may go out")),
    Setting("frequency_cap_messages", "2", _integer(1, 100), N_("At most this many marketing messages per client…")),
    Setting("frequency_cap_days", "7", _integer(1, 365), N_("…within this many days")),
    Setting("inactive_after_days", "180", _integer(1, 3650),
            N_("A client with no purchase for this long has gone quiet")),
    Setting("date_day_first", "yes", _boolean, N_("Read 01/02/85 as 1 February (yes) or 2 January (no)")),
    Setting("sales_may_export", "no", _boolean, N_("Whether salespeople may export client lists")),
    Setting("language", "en", _language, N_("Language of the interface")),
    Setting("mail_from", "", _mailbox, N_("Sender of e-mail (From), such as Shop <news@shop.example>")),
    Setting("mail_reply_to", "", _mailbox, N_("Where replies to e-mail go (Reply-To); empty: to the sender")),
    Setting("unsubscribe_mailto", "", _mailbox, N_("Address of the List-Unsubscribe mailto; empty: the sender")),
    Setting("unsubscribe_url", "", _https_url,
            N_("https base URL of the one-click unsubscribe service; empty: none")),
    # Triggers (`clientbase triggers run`, db/mailing/triggers.py): each on unless switched off.
    Setting("trigger_birthday", "yes", _boolean, N_("Greet clients on their birthday")),
    Setting("trigger_child_birthday", "yes", _boolean, N_("Greet parents on their children's birthdays")),
    Setting("trigger_holiday", "yes", _boolean, N_("Greet clients on holidays")),
    Setting("trigger_subscription", "yes", _boolean, N_("Offer a renewal before a subscription ends")),
    Setting("trigger_reactivation", "yes", _boolean, N_("Ask clients who have gone quiet to come back")),
    # Each trigger's channel: an SMS reaches the clients who left a phone but no e-mail.
    Setting("trigger_birthday_channel", "email", _channel, N_("How birthday greetings go: email or sms")),
    Setting("trigger_child_birthday_channel", "email", _channel,
            N_("How greetings on children's birthdays go: email or sms")),
    Setting("trigger_holiday_channel", "email", _channel, N_("How holiday greetings go: email or sms")),
    Setting("trigger_subscription_channel", "email", _channel, N_("How renewal offers go: email or sms")),
    Setting("trigger_reactivation_channel", "email", _channel,
            N_("How clients who have gone quiet are asked back: email or sms")),
    Setting("birthday_days_ahead", "0", _integer(0, 30),
            N_("Send the birthday greeting this many days ahead (with the gift offer)")),
    Setting("subscription_notice_days", "1", _integer(0, 60),
            N_("Offer the renewal this many days before a subscription ends")),
    Setting("holiday_country", "", _country_or_empty,
            N_("Country whose holiday calendar greetings follow; empty: the phone country")),
    Setting("holiday_dates", "01-01,02-23,03-08", _month_days,
            N_("Which of the country's holidays to greet, as month-day pairs")),
    Setting("shop_dates", "", _named_days, N_("The shop's own dates to greet: 06-15 Name; 09-01 Name")),
    Setting("holiday_unknown_gender", "no", _boolean,
            N_("Whether clients of unknown gender get greetings for 23 February and 8 March")),
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
        raise UserError(N_("There "
                           "is no setting '{key}'; 'clientbase settings list' shows them all."), key=key) from None


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
        raise UserError(N_("{key} cannot be '{value}': {reason}."), key=key, value=value, reason=str(exc)) from None


def set_value(key: str, value: str) -> str:
    clean = validate(key, value)
    try:
        with database.connection_context(), database.atomic():
            (Settings.insert(key=key, value=clean)
             .on_conflict(conflict_target=[Settings.key], update={Settings.value: clean})
             .execute())
    except peewee.DatabaseError as exc:
        if is_permission_denied(exc):
            raise UserError(N_("Only an administrator may change settings.")) from None
        raise
    return clean


# What a new base assumes where the person who creates it lives: the locale's region, else its language's.
LOCALE_DEFAULTS: dict[str, tuple[str, str, str]] = {
    "RU": ("RU", "RUB", "Europe/Moscow"),
    "MD": ("MD", "MDL", "Europe/Chisinau"),
    "RO": ("RO", "RON", "Europe/Bucharest"),
}
LANGUAGE_REGIONS = {"ru": "RU", "ro": "RO"}


def defaults_for_locale(language: str, region: str | None) -> dict[str, str]:
    """The settings a new base starts with for a locale such as ru_RU, ro_MD or en: its language, and the
    currency, phone country and time zone of its region; an unknown region keeps the catalogue's defaults."""
    chosen: dict[str, str] = {}
    if language in LANGUAGES and language != CATALOGUE["language"].default:
        chosen["language"] = language
    place = (region or LANGUAGE_REGIONS.get(language, "")).upper()
    if place in LOCALE_DEFAULTS:
        chosen["phone_country"], chosen["currency"], chosen["timezone"] = LOCALE_DEFAULTS[place]
    return {key: value for key, value in chosen.items() if value != CATALOGUE[key].default}


def seed_new_base(conn, language: str, region: str | None) -> dict[str, str]:
    """Stores the locale's defaults in a base just created (psycopg connection of its owner); returns them."""
    chosen = defaults_for_locale(language, region)
    for key, value in chosen.items():
        conn.execute("INSERT INTO settings (key, value) VALUES (%s, %s) ON CONFLICT (key) DO NOTHING", (key, value))
    return chosen


def my_language() -> str | None:
    """The language this login chose for itself (migration 0012), or None."""
    with database.connection_context():
        return rows.value(database.execute_sql("SELECT public.my_language()"))


def set_my_language(value: str | None) -> str | None:
    """Chooses (or, with None or '', forgets) this login's own language."""
    clean = _language(value) if value else None
    with database.connection_context():
        database.execute_sql("SELECT public.set_my_language(%s)", (clean,))
    return clean
