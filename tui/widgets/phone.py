"""Phone numbers as people read them, from the E.164 form the base keeps beside what was typed."""

from __future__ import annotations

import phonenumbers


def phone(e164: str) -> str:
    """`+79123456789` as `+7 912 345-67-89`: grouped by the number's own country, with its code, so that a
    number reads the same whichever country it is from. Anything that is not a number is shown as it is."""
    if not e164.startswith("+"):
        return e164
    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
