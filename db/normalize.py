"""Canonical forms of what people type: phones in E.164, e-mails validated and lower-cased."""

from __future__ import annotations

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from db.errors import ValidationError

PHONE_KINDS = ("mobile", "home", "work", "whatsapp")
CONTACT_KINDS = ("mobile", "home", "work", "email", "telegram", "whatsapp", "skype", "vk", "website")


def normalize_phone(raw: str, default_country: str = "RU", field: str = "phone") -> str:
    text = (raw or "").strip()
    if not text:
        raise ValidationError(field, "valid.empty")
    try:
        number = phonenumbers.parse(text, default_country.upper())
    except phonenumbers.NumberParseException:
        raise ValidationError(field, "valid.phone_parse") from None
    if not phonenumbers.is_valid_number(number):
        region = phonenumbers.region_code_for_number(number)
        raise ValidationError(field, "valid.phone", country=f" for {region}" if region and region != "ZZ" else "")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(raw: str, field: str = "email") -> str:
    text = (raw or "").strip()
    if not text:
        raise ValidationError(field, "valid.empty")
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        reason = str(exc).rstrip(".")
        raise ValidationError(field, "valid.email", reason=reason[:1].lower() + reason[1:]) from None
    return result.normalized.lower()


def normalize_contact(kind: str, raw: str, default_country: str = "RU", field: str = "value") -> str:
    if kind in PHONE_KINDS:
        return normalize_phone(raw, default_country, field)
    if kind == "email":
        return normalize_email(raw, field)
    if kind not in CONTACT_KINDS:
        raise ValidationError(field, "valid.kind", kind=kind)
    text = (raw or "").strip()
    if not text:
        raise ValidationError(field, "valid.empty")
    if kind == "telegram":
        return "@" + text.removeprefix("https://t.me/").lstrip("@").lower()
    return text.lower() if kind in ("skype", "vk", "website") else text


def phone_search_digits(text: str) -> str:
    """The digits of a typed phone fragment, for matching "last digits" searches."""
    return "".join(ch for ch in text if ch.isdigit())
