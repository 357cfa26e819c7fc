"""Reading the values people write in spreadsheets: names, dates, amounts, yes/no, gender.

Every reader raises ValueError with a translated reason, which the import puts beside the rejected row.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from db.i18n import t
from db import labels

PATRONYMIC_ENDINGS = ("вич", "вна", "ична", "инична", "оглы", "кызы", "улы", "ович", "евич")
MALE_PATRONYMIC = ("вич", "оглы", "улы")
FEMALE_PATRONYMIC = ("вна", "ична", "кызы")

MONTHS = {
    # English, Russian (nominative and genitive stems) and Romanian month names, by their first letters.
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10,
    "nov": 11, "dec": 12,
    "янв": 1, "фев": 2, "мар": 3, "апр": 4, "мая": 5, "май": 5, "июн": 6, "июл": 7, "авг": 8, "сен": 9,
    "окт": 10, "ноя": 11, "дек": 12,
    "ian": 1, "mai": 5, "iun": 6, "iul": 7, "noi": 11,
}
TRUE_WORDS = {"yes", "y", "true", "1", "on", "да", "д", "+", "da", "x", "✓", "согласен", "согласна"}
FALSE_WORDS = {"no", "n", "false", "0", "off", "нет", "н", "-", "nu"}
MALE_WORDS = {"m", "male", "man", "м", "муж", "мужской", "мужчина", "masculin", "b", "bărbat", "barbat"}
FEMALE_WORDS = {"f", "female", "woman", "ж", "жен", "женский", "женщина", "feminin", "femeie"}


def is_patronymic(word: str) -> bool:
    return len(word) > 4 and word.lower().endswith(PATRONYMIC_ENDINGS)


def gender_from_patronymic(middle_name: str) -> str | None:
    lowered = middle_name.lower()
    if lowered.endswith(MALE_PATRONYMIC):
        return "m"
    if lowered.endswith(FEMALE_PATRONYMIC):
        return "f"
    return None


def split_full_name(text: str) -> tuple[str, str, str]:
    """(last, first, middle). Russian lists write Фамилия Имя Отчество; a patronymic in second place means
    Имя Отчество [Фамилия]; Latin-script two-word names are First Last."""
    words = text.split()
    if not words:
        return "", "", ""
    if len(words) == 1:
        return words[0], "", ""
    cyrillic = any("а" <= ch.lower() <= "я" or ch.lower() == "ё" for ch in text)
    if len(words) >= 3:
        if is_patronymic(words[1]):
            return " ".join(words[2:]), words[0], words[1]
        return words[0], words[1], " ".join(words[2:])
    if is_patronymic(words[1]):
        return "", words[0], words[1]
    if cyrillic:
        return words[0], words[1], ""
    return words[1], words[0], ""


def parse_date(text: str, day_first: bool = True) -> date:
    value = text.strip()
    try:
        return _parse_date(value, day_first)
    except ValueError:
        raise ValueError(t("'{value}' is not a date (expected e.g. 31.12.1985 or 1985-12-31)", value=value)) from None


def _parse_date(value: str, day_first: bool) -> date:
    match = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T].*)?", value)
    if match:
        return date(int(match[1]), int(match[2]), int(match[3]))
    match = re.fullmatch(r"(\d{1,2})[./-](\d{1,2})[./-](\d{2}|\d{4})(?:[ T,]+\d{1,2}:\d{2}(?::\d{2})?)?", value)
    if match:
        first, second, year = int(match[1]), int(match[2]), _full_year(match[3])
        # Dots are the Russian and Romanian way and always day first; slashes follow the setting.
        if "." in value or day_first:
            return date(year, second, first)
        return date(year, first, second)
    match = re.fullmatch(r"(\d{1,2})\s+([^\W\d_]+)\.?\s+(\d{4})(?:\s*г\.?)?", value)
    if match:
        month = MONTHS.get(match[2][:3].lower())
        if month:
            return date(int(match[3]), month, int(match[1]))
    raise ValueError(value)


def _full_year(text: str) -> int:
    year = int(text)
    if len(text) == 2:
        # A two-digit year is in the past: birth dates and purchases, never the future.
        this_year = date.today().year % 100
        year += 2000 if year <= this_year else 1900
    return year


def parse_datetime(text: str, day_first: bool = True) -> str:
    """An ISO timestamp without zone (the shop's time zone applies), from a date or a date and time."""
    value = text.strip()
    match = re.fullmatch(r"(.+?)[ T,]+(\d{1,2}):(\d{2})(?::(\d{2}))?", value)
    try:
        if match and not re.fullmatch(r"\d{4}-\d{2}-\d{2}T.*", value):
            day = _parse_date(match[1].strip(), day_first)
            moment = datetime(day.year, day.month, day.day, int(match[2]), int(match[3]), int(match[4] or 0))
            return moment.isoformat(sep=" ")
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:?\d{2}|Z)?", value):
            return datetime.fromisoformat(value.replace("Z", "+00:00")).isoformat(sep=" ")
        return _parse_date(value, day_first).isoformat()
    except ValueError:
        raise ValueError(t("'{value}' is not a date (expected e.g. 31.12.1985 or 1985-12-31)", value=value)) from None


# The columns hold numeric(12, 2) and numeric(12, 3): a larger number is a typing mistake in the file.
AMOUNT_LIMIT = Decimal(10) ** 9


def parse_amount(text: str, what: str = "amount", negative: bool = False) -> Decimal:
    """1 234,50 ₽, 1,234.50, 1234.5 → Decimal; refuses negatives unless `negative` (a refund's amount).
    Zero stays valid: the base holds zero-amount purchases (a gift, a returned order), and an export must
    import back."""
    value = re.sub(r"[\s\u00a0\u202f'₽$€£]|руб\.?|lei|mdl|rub|eur|usd", "", text.strip().lower())
    if "," in value and "." in value:
        if value.rfind(".") > value.rfind(","):
            value = value.replace(",", "")
        else:
            value = value.replace(".", "").replace(",", ".")
    elif re.fullmatch(r"-?\d{1,3}(,\d{3})+", value):
        value = value.replace(",", "")  # 12,000 or 1,234,567: money never has three decimals
    elif "," in value:
        value = value.replace(",", ".")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValueError(t("'{value}' "
                           "is not a valid {what}", what=t(labels.IMPORT_WHAT[what]), value=text.strip())) from None
    if not number.is_finite() or (number < 0 and not negative):
        raise ValueError(t("'{value}' is not a valid {what}", what=t(labels.IMPORT_WHAT[what]), value=text.strip()))
    if abs(number) >= AMOUNT_LIMIT:
        raise ValueError(t("the {what} '{value}' is too large", what=t(labels.IMPORT_WHAT[what]), value=text.strip()))
    return number


def parse_bool(text: str) -> bool | None:
    value = text.strip().lower()
    if not value:
        return None
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise ValueError(t("'{value}' is neither yes nor no", value=text.strip()))


def parse_gender(text: str) -> str | None:
    value = text.strip().lower().rstrip(".")
    if not value:
        return None
    if value in MALE_WORDS:
        return "m"
    if value in FEMALE_WORDS:
        return "f"
    raise ValueError(t("'{value}' is not a gender (expected m or f)", value=text.strip()))


def split_list(text: str) -> list[str]:
    """Several values in one cell: '+7 912 …, +7 913 …' or 'a@b.ru; c@d.ru' or one per line."""
    return [part.strip() for part in re.split(r"[;,\n]+", text) if part.strip()]
