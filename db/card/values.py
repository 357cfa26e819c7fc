"""Values as the card editor shows and reads them: dates in the shop's order, custom fields by their type."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from db.errors import ValidationError
from db.i18n import N_

FIELD_TYPES = ("text", "number", "date", "choice", "bool")
YES = ("yes", "y", "true", "1", "on", "да")
NO = ("no", "n", "false", "0", "off", "нет")


@dataclass(frozen=True)
class CustomFieldDef:
    id: int
    name: str
    label: str
    type: str
    choices: tuple[str, ...]
    position: int
    version: int


def format_date(value: date | None, day_first: bool) -> str:
    if value is None:
        return ""
    return value.strftime("%d.%m.%Y") if day_first else value.isoformat()


def parse_date(text: str, field: str, day_first: bool = True) -> date | None:
    """'' is no date; ISO, 31.12.1985, 31/12/1985 (or 12/31/1985 when the shop writes month first)."""
    raw = (text or "").strip()
    if not raw:
        return None
    try:
        if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", raw):
            year, month, day = map(int, raw.split("-"))
            return date(year, month, day)
        match = re.fullmatch(r"(\d{1,2})([./-])(\d{1,2})\2(\d{2}|\d{4})", raw)
        if match:
            first, second, year = int(match[1]), int(match[3]), int(match[4])
            if len(match[4]) == 2:
                # Two-digit years are birth years more often than not: 85 is 1985, 07 is 2007.
                year += 2000 if 2000 + year <= date.today().year else 1900
            day, month = (first, second) if day_first or match[2] == "." else (second, first)
            return date(year, month, day)
    except ValueError:
        pass
    raise ValidationError(field, N_("Expected a date such as 31.12.1985 or 1985-12-31."))


def custom_to_json(definition: CustomFieldDef, text: str, day_first: bool = True) -> object:
    """The JSON value stored for what the editor holds; None means "not filled"."""
    field = f"custom.{definition.name}"
    raw = (text or "").strip()
    if not raw:
        return None
    if definition.type == "number":
        try:
            number = Decimal(raw.replace(" ", "").replace(",", "."))
        except InvalidOperation:
            raise ValidationError(field, N_("Expected a number such as 12 or 12.5.")) from None
        if not number.is_finite():
            raise ValidationError(field, N_("Expected a number such as 12 or 12.5."))
        return int(number) if number == number.to_integral_value() else float(number)
    if definition.type == "date":
        parsed = parse_date(raw, field, day_first)
        return None if parsed is None else parsed.isoformat()
    if definition.type == "choice":
        if raw not in definition.choices:
            raise ValidationError(field, N_("Expected one of: {choices}."), choices=", ".join(definition.choices))
        return raw
    if definition.type == "bool":
        lowered = raw.lower()
        if lowered in YES:
            return True
        if lowered in NO:
            return False
        raise ValidationError(field, N_("Expected yes or no."))
    return raw


def custom_to_text(definition: CustomFieldDef, value: object, day_first: bool = True) -> str:
    if value is None:
        return ""
    if definition.type == "bool":
        return "yes" if value is True else "no" if value is False else str(value)
    if definition.type == "date" and isinstance(value, str):
        try:
            return format_date(date.fromisoformat(value), day_first)
        except ValueError:
            return value
    return str(value)
