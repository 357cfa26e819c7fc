"""Which language the user reads, settled before any screen or binding is built, and keys on any layout.

The order, first answer wins: `--lang`, the login's own choice, the environment (LANGUAGE, LC_ALL, LC_MESSAGES,
LANG, as gettext reads them), the shop's `language` setting, English. A C or POSIX locale says nothing (a
container's default is not a person's choice). The catalogs are the compiled gettext files in tui/locale;
the operating system's locales are never needed: nothing here calls setlocale.
"""

from __future__ import annotations

import gettext
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping

from db import i18n

DOMAIN = "clientbase"
LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("en", "ru", "ro")
DEFAULT_REGION = {"en": None, "ru": "RU", "ro": "RO"}
ENVIRONMENT = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")


@dataclass(frozen=True)
class Choice:
    language: str
    region: str | None = None

    @property
    def locale(self) -> str:
        """The Babel locale that formats numbers and dates, e.g. ru_RU, ro_MD, en."""
        return f"{self.language}_{self.region}" if self.region else self.language


def parse_locale(text: str | None) -> Choice | None:
    """`ru_RU.UTF-8`, `ro_MD@euro`, `ru` → the language clientbase speaks, or None for C, POSIX or another one."""
    if not text:
        return None
    name = text.split(".", 1)[0].split("@", 1)[0].replace("-", "_").strip()
    language, _, region = name.partition("_")
    language = language.lower()
    if language not in LANGUAGES:
        return None
    return Choice(language, region.upper() or DEFAULT_REGION[language])


def from_environment(environ: Mapping[str, str] | None = None) -> Choice | None:
    environ = os.environ if environ is None else environ
    for variable in ENVIRONMENT:
        value = environ.get(variable, "")
        if not value:
            continue
        # LANGUAGE is a list of preferences (ru:en); the others hold one locale.
        for part in value.split(":") if variable == "LANGUAGE" else [value]:
            choice = parse_locale(part)
            if choice is not None:
                return choice
    return None


def resolve(cli: str | None = None, login: str | None = None, environment: Choice | None = None,
            shop: str | None = None) -> Choice:
    """The language by the order in this module's docstring; the region comes from the environment when it
    speaks the same language (ru_MD), else the language's own (ru_RU)."""
    for said in (cli, login):
        if said:
            return _with_region(said, environment)
    if environment is not None:
        return environment
    if shop:
        return _with_region(shop, None)
    return Choice("en")


def _with_region(language: str, environment: Choice | None) -> Choice:
    language = language.lower()
    if language not in LANGUAGES:
        language = "en"
    if environment is not None and environment.language == language:
        return environment
    return Choice(language, DEFAULT_REGION[language])


def catalog(language: str) -> gettext.NullTranslations:
    if language == "en":
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[language], fallback=True)


_current = Choice("en")


def current() -> Choice:
    return _current


def activate(choice: Choice) -> Choice:
    """Installs the catalog of `choice` for every later sentence, and rebuilds the bindings of every
    widget class in its words, with the keys of the other layouts beside the Latin ones."""
    global _current
    _current = choice
    i18n.install(catalog(choice.language), choice.locale)
    localize_widget_classes()
    return choice


_said_on_command_line: str | None = None


def settle(cli: str | None = None, login: str | None = None, shop: str | None = None,
           environ: Mapping[str, str] | None = None) -> Choice:
    global _said_on_command_line
    _said_on_command_line = cli
    return activate(resolve(cli, login, from_environment(environ), shop))


def refine(login: str | None, shop: str | None, environ: Mapping[str, str] | None = None) -> Choice:
    """Settles again once the database has said what the login and the shop chose; --lang still wins."""
    return activate(resolve(_said_on_command_line, login, from_environment(environ), shop))


# --- keys on any layout ---------------------------------------------------------------------------

# The Russian ЙЦУКЕН layout: the letter that the key of each Latin letter types.
JCUKEN = dict(zip("qwertyuiopasdfghjklzxcvbnm", "йцукенгшщзфывапролдячсмить", strict=True))
# Romanian layouts are Latin: the standard one (SR 13392) keeps every Latin letter where QWERTY has it and
# puts ă â î ș ț on punctuation keys; the older QWERTZ one swaps y and z.
QWERTZ = {"y": "z", "z": "y"}
LAYOUTS = (JCUKEN, QWERTZ)


def layout_twins(key: str) -> list[str]:
    """The keys that the physical key of a single-letter binding types on the other layouts (f → а)."""
    if len(key) != 1 or not key.isascii() or not key.isalpha():
        return []
    twins = []
    for layout in LAYOUTS:
        twin = layout.get(key.lower())
        if twin is not None:
            twins.append(twin.upper() if key.isupper() else twin)
    return twins


def _source(text: str) -> str:
    """The English msgid behind a label that a class made at import time, in whatever language was active."""
    return _REVERSE.get(text, text)


def _build_reverse() -> dict[str, str]:
    reverse: dict[str, str] = {}
    for language in LANGUAGES[1:]:
        translations = catalog(language)
        for msgid, message in getattr(translations, "_catalog", {}).items():
            if isinstance(msgid, str) and isinstance(message, str) and msgid:
                reverse.setdefault(message, msgid)
    return reverse


_REVERSE: dict[str, str] = {}


def localized_bindings(bindings: Iterable[object]) -> list[object]:
    """Bindings with their description and tooltip in the current language, each single-letter one
    followed by its twins on the other layouts (hidden from the footer, which shows the Latin letter)."""
    from textual.binding import Binding

    result: list[object] = []
    taken = {binding.key for binding in bindings if isinstance(binding, Binding)}
    for binding in bindings:
        if not isinstance(binding, Binding):
            result.append(binding)
            continue
        description = i18n.t(_source(binding.description)) if binding.description else binding.description
        tooltip = i18n.t(_source(binding.tooltip)) if binding.tooltip else binding.tooltip
        translated = binding.__class__(**{**_fields(binding), "description": description, "tooltip": tooltip})
        result.append(translated)
        for twin in layout_twins(binding.key):
            if twin not in taken:
                taken.add(twin)
                twin_id = f"{binding.id}.layout.{twin}" if binding.id else None
                result.append(binding.__class__(**{**_fields(translated), "key": twin, "show": False,
                                                   "id": twin_id}))
    return result


def _fields(binding: object) -> dict[str, object]:
    from dataclasses import fields

    return {field.name: getattr(binding, field.name) for field in fields(binding)}  # type: ignore[arg-type]


def ensure_localized() -> None:
    """Localizes the bindings once if no language was settled yet (an app made without the CLI, as tests do)."""
    if not _localized:
        localize_widget_classes()


_localized = False


def localize_widget_classes() -> None:
    """Every widget, screen and app class gets its bindings again from its BINDINGS, localized, and so does
    every class made after this call (through tui/textual_compat.py, where the private API is)."""
    global _REVERSE, _localized
    from tui import textual_compat

    _localized = True
    if not _REVERSE:
        _REVERSE = _build_reverse()
    textual_compat.rebind_every_class(localized_bindings)  # type: ignore[arg-type]
