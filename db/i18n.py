"""Every sentence a user can read is a gettext message whose msgid is its English text.

English is the source language. `t(text, **values)` translates one sentence through the catalog of the current
language and fills its placeholders; `tn` is ngettext (counts), `tp` pgettext (a short, ambiguous label with
its context), `N_` marks a sentence that is translated later, where it is shown, and `NP_` does so with a
context (then `t` takes the pair). Babel extracts them all (babel.cfg).

db/ only marks sentences (a `UserError` keeps its message and values and is translated when it is shown), so
it never needs to know the language; tui/i18n.py chooses the language and installs its catalog here before any
screen is built. Until then, and whenever a catalog lacks a message, the English text is used.
"""

from __future__ import annotations

import gettext as _gettext
import string
from decimal import Decimal

_translations: _gettext.NullTranslations = _gettext.NullTranslations()
_locale = "en"


def install(translations: _gettext.NullTranslations, locale: str) -> None:
    """Make `translations` the catalog every later `t`/`tn`/`tp` reads; `locale` (e.g. ru_RU) formats numbers."""
    global _translations, _locale
    _translations = translations
    _locale = locale


def current_locale() -> str:
    return _locale


def N_(text: str) -> str:
    """Marks `text` for extraction; it is translated where it is shown."""
    return text


def NP_(context: str, text: str) -> tuple[str, str]:
    """Marks a label that needs its context; `t` translates the pair with pgettext."""
    return context, text


class _Formatter(string.Formatter):
    """str.format, except that grouped and fixed-point numbers follow the current locale (1 234,5 in ru)."""

    def format_field(self, value: object, format_spec: str) -> str:
        if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool) and format_spec:
            from babel.numbers import format_decimal

            if format_spec == ",":
                return format_decimal(value, locale=_locale)
            if format_spec.endswith("f") and format_spec[:-1].lstrip(",.").isdigit():
                places = int(format_spec[:-1].split(".")[-1])
                pattern = "#,##0" + ("." + "0" * places if places else "")
                return format_decimal(value, format=pattern, locale=_locale)
        if isinstance(value, str) and format_spec == ",":
            return value  # a number its caller formatted already
        return super().format_field(value, format_spec)


_FORMATTER = _Formatter()


def _fill(text: str, values: dict[str, object]) -> str:
    return _FORMATTER.vformat(text, (), values) if values else text


def grouped(number: int | Decimal) -> str:
    """A count with the current locale's grouping, for a table cell: 1 234 in ru, 1.234 in ro, 1,234 in en.
    (A sentence gets the same from `{count:,}` in its message.) Python's own `:,` writes the English comma, which
    a Russian reader takes for a decimal point."""
    from babel.numbers import format_decimal

    return format_decimal(number, locale=_locale).replace("\xa0", " ").replace("\u202f", " ")


def t(text: str | tuple[str, str], /, **values: object) -> str:
    """The sentence in the current language with its placeholders filled."""
    if isinstance(text, tuple):
        return tp(*text, **values)
    return _fill(_translations.gettext(text), values)


def tn(singular: str, plural: str, count: int, /, **values: object) -> str:
    """The sentence for `count` things, in the plural form the current language wants for that number;
    `count` is also the placeholder {count}."""
    return _fill(_translations.ngettext(singular, plural, count), {"count": count, **values})


def tp(context: str, text: str, /, **values: object) -> str:
    """A short label that needs its `context` to be translated right (the same English word, two meanings)."""
    return _fill(_translations.pgettext(context, text), values)
