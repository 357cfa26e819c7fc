"""Canonical forms of what people type: phones in E.164, e-mails validated and lower-cased."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from db.errors import ValidationError
from db.i18n import N_, current_locale

PHONE_KINDS = ("mobile", "home", "work", "whatsapp")
CONTACT_KINDS = ("mobile", "home", "work", "email", "telegram", "whatsapp", "skype", "vk", "website")


def normalize_phone(raw: str, default_country: str = "RU", field: str = "phone") -> str:
    text = (raw or "").strip()
    if not text:
        raise ValidationError(field, N_("This field is required."))
    try:
        number = phonenumbers.parse(text, default_country.upper())
    except phonenumbers.NumberParseException:
        raise ValidationError(field, N_("This does not look like a phone number.")) from None
    if not phonenumbers.is_valid_number(number):
        region = phonenumbers.region_code_for_number(number)
        if region and region != "ZZ":
            raise ValidationError(field, N_("This is not a valid phone number for {country}."), country=region)
        raise ValidationError(field, N_("This is not a valid phone number."))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(raw: str, field: str = "email") -> str:
    text = (raw or "").strip()
    if not text:
        raise ValidationError(field, N_("This field is required."))
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        reason = str(exc).rstrip(".")
        raise ValidationError(field, N_("This is not a valid "
                                        "e-mail address: {reason}."), reason=reason[:1].lower() + reason[1:]) from None
    return result.normalized.lower()


def normalize_contact(kind: str, raw: str, default_country: str = "RU", field: str = "value") -> str:
    if kind in PHONE_KINDS:
        return normalize_phone(raw, default_country, field)
    if kind == "email":
        return normalize_email(raw, field)
    if kind not in CONTACT_KINDS:
        raise ValidationError(field, N_("Unknown contact type '{kind}'."), kind=kind)
    text = (raw or "").strip()
    if not text:
        raise ValidationError(field, N_("This field is required."))
    if kind == "telegram":
        return "@" + text.removeprefix("https://t.me/").lstrip("@").lower()
    return text.lower() if kind in ("skype", "vk", "website") else text


def phone_search_digits(text: str) -> str:
    """The digits of a typed phone fragment, for matching "last digits" searches."""
    return "".join(ch for ch in text if ch.isdigit())


# --- amounts and dates as the shop's people write them ------------------------------------------------------

# The sign a shop writes after an amount; Babel's own symbols are not what these shops print (RON, L).
CURRENCY_SIGNS = {"RUB": "₽", "RON": "lei", "MDL": "MDL"}


def currency_sign(currency: str, locale: str | None = None) -> str:
    """₽, lei, MDL in Russian and Romanian; English keeps the ISO code it always showed."""
    if not currency:
        return ""
    if (locale or current_locale()).split("_")[0] == "en":
        return currency.upper()
    return CURRENCY_SIGNS.get(currency.upper(), currency.upper())


def format_amount(value: Decimal | int | float | None, decimals: int = 2, locale: str | None = None) -> str:
    """1 234,50 in ru, 1.234,50 in ro, and in English the space-grouped 1 234.50 that clientbase always wrote."""
    if value is None:
        return ""
    locale = locale or current_locale()
    if locale.split("_")[0] == "en":
        return f"{value:,.{decimals}f}".replace(",", " ")
    from babel.numbers import format_decimal

    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    # Babel groups with a no-break space; a terminal cell shows a plain one, and input accepts both.
    return format_decimal(value, format=pattern, locale=locale, decimal_quantization=True).replace("\xa0", " ")


def format_money(value: Decimal | int | float | None, currency: str = "", decimals: int = 2,
                 locale: str | None = None) -> str:
    """1 234,50 ₽ (ru, RUB), 1.234,50 lei (ro, RON), 1 234,50 MDL (ru_MD, MDL), 1 234.50 RUB (en); '' for none."""
    amount = format_amount(value, decimals, locale)
    if not amount or not currency:
        return amount
    return f"{amount} {currency_sign(currency, locale)}"


def parse_amount(text: str) -> Decimal:
    """What people type for money: 1 234,50 · 1234.50 · 1.234,50 · 1,234.50; ValueError when it is none."""
    raw = "".join((text or "").split()).replace("\u202f", "").replace("'", "")
    if not raw or not re.fullmatch(r"[+-]?[\d.,]+", raw):
        raise ValueError(text)
    last_comma, last_dot = raw.rfind(","), raw.rfind(".")
    if last_comma >= 0 and last_dot >= 0:
        decimal_mark = "," if last_comma > last_dot else "."
    elif last_comma >= 0:
        decimal_mark = "," if raw.count(",") == 1 else ""
    else:
        decimal_mark = "." if raw.count(".") == 1 else ""
    grouping = {",", "."} - {decimal_mark}
    digits = "".join(ch for ch in raw if ch not in grouping)
    try:
        return Decimal(digits.replace(",", "."))
    except InvalidOperation:
        raise ValueError(text) from None
