"""Issue 12: the language is resolved in the documented order, the catalogs are complete and right, amounts and
dates follow the locale, and every letter key also works from the Russian and Romanian layouts."""

from __future__ import annotations

import locale
import string
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from db import i18n as runtime
from db.card.values import parse_date
from db.i18n import N_, t, tn, tp
from db.normalize import format_money, parse_amount
from tui import i18n
from tui.i18n import Choice

LOCALE_DIR = Path(i18n.__file__).parent / "locale"


@pytest.fixture
def english_after():
    yield
    i18n.settle(environ={})  # English, and no --lang remembered from a test that ran the CLI in-process


def _catalog(language: str, compiled: bool = False):
    path = LOCALE_DIR / language / "LC_MESSAGES" / ("clientbase.mo" if compiled else "clientbase.po")
    with open(path, "rb") as source:
        return read_mo(source) if compiled else read_po(source, locale=language)


def _template():
    """Every message of the code in English (tests/test_i18n_catalog.py checks it against the code)."""
    with open(LOCALE_DIR / "clientbase.pot", "rb") as source:
        return [message for message in read_po(source) if message.id]


def _placeholders(text: str) -> list[tuple[str, str, str | None]]:
    return sorted((name, spec or "", conversion) for _, name, spec, conversion in string.Formatter().parse(text)
                  if name is not None)


# --- the order: --lang > the login's > the environment > the shop's > English --------------------------------

def test_each_source_wins_over_the_next():
    env = Choice("ro", "MD")
    assert i18n.resolve("ru", "ro", env, "ro") == Choice("ru", "RU")
    assert i18n.resolve(None, "ru", env, "ro") == Choice("ru", "RU")
    assert i18n.resolve(None, None, env, "ru") == env
    assert i18n.resolve(None, None, None, "ro") == Choice("ro", "RO")
    assert i18n.resolve(None, None, None, None) == Choice("en")
    # The region of the environment stays with its language: --lang ro under ro_MD formats as Moldova does.
    assert i18n.resolve("ro", None, env, None).locale == "ro_MD"


@pytest.mark.parametrize(("environ", "expected"), [
    ({"LANG": "ru_RU.UTF-8"}, Choice("ru", "RU")),
    ({"LANG": "ro_MD.utf8"}, Choice("ro", "MD")),
    ({"LANG": "ru_MD.UTF-8"}, Choice("ru", "MD")),
    ({"LANG": "C.UTF-8"}, None),
    ({"LANG": "POSIX"}, None),
    ({"LANG": "de_DE.UTF-8"}, None),
    ({"LC_ALL": "ro_RO.UTF-8", "LANG": "ru_RU.UTF-8"}, Choice("ro", "RO")),
    ({"LC_MESSAGES": "ru_RU.UTF-8", "LANG": "en_GB.UTF-8"}, Choice("ru", "RU")),
    ({"LANGUAGE": "de:ro:ru", "LANG": "ru_RU.UTF-8"}, Choice("ro", "RO")),
    ({"LANGUAGE": "", "LC_ALL": "", "LANG": "ro"}, Choice("ro", "RO")),
])
def test_the_environment_is_read_as_gettext_reads_it(environ, expected):
    assert i18n.from_environment(environ) == expected


def test_settling_never_calls_setlocale(monkeypatch, english_after):
    """Containers often have only C.UTF-8: choosing Russian must not depend on the OS having ru_RU."""
    def refuse(*args, **kwargs):
        raise locale.Error("unsupported locale setting")

    monkeypatch.setattr(locale, "setlocale", refuse)
    assert i18n.settle(environ={"LANG": "ru_RU.UTF-8"}) == Choice("ru", "RU")
    assert t("Filters") == "Фильтры"


def test_the_command_line_speaks_the_language_of_lang_and_of_lang_env(tmp_path):
    def run(*args, lang="C.UTF-8"):
        env = {"PATH": "/usr/bin:/bin", "LANG": lang, "CLIENTBASE_HOME": str(tmp_path)}
        return subprocess.run([sys.executable, "-m", "tui.cli", *args], env=env, capture_output=True, text=True,
                              timeout=60, cwd=Path(i18n.__file__).parents[1])

    help_ru = run("--lang", "ru", "--help").stdout
    assert "Общая клиентская база" in help_ru
    help_ro = run("--help", lang="ro_RO.UTF-8").stdout
    assert "O bază de clienți comună" in help_ro
    # --lang wins over LANG.
    assert "Общая клиентская база" in run("--lang", "ru", "--help", lang="ro_RO.UTF-8").stdout
    failed = run("--lang", "ro", "--database", "mysql://nowhere/x", "settings", "list")
    assert failed.returncode == 1 and "nu este un URL PostgreSQL" in failed.stderr


# --- the catalogs ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("language", ["ru", "ro"])
def test_every_english_sentence_is_translated(language):
    catalog = _catalog(language)
    missing = []
    for source in _template():
        message = catalog.get(source.id, context=source.context)
        strings = message.string if message is not None and isinstance(message.string, tuple) else (
            (message.string,) if message is not None else ())
        if message is None or message.fuzzy or not strings or not all(strings):
            missing.append(source.id)
    assert len(_template()) > 500 and missing == []


@pytest.mark.parametrize("language", ["ru", "ro"])
def test_each_translation_has_exactly_the_placeholders_of_its_source(language):
    wrong = []
    for message in _catalog(language):
        if not message.id:
            continue
        sources = message.id if isinstance(message.id, tuple) else (message.id,)
        translations = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = _placeholders(sources[-1])
        wrong += [(sources[0], text) for text in translations if _placeholders(text) != expected]
    assert wrong == []


def test_no_sentence_quotes_with_repr():
    texts = [text for message in _template() for text in (message.id if isinstance(message.id, tuple)
                                                           else (message.id,))]
    assert [text for text in texts if "!r}" in text] == []


@pytest.mark.parametrize("language", ["ru", "ro"])
def test_the_compiled_catalog_is_the_text_one(language):
    def entries(catalog):
        def plain(value):
            return tuple(value) if isinstance(value, (list, tuple)) else value

        return {(m.context, plain(m.id)): plain(m.string) for m in catalog if m.id}

    assert entries(_catalog(language, compiled=True)) == entries(_catalog(language))


def test_romanian_writes_comma_below_letters():
    romanian = "".join(str(m.string) for m in _catalog("ro") if m.id)
    assert "ş" not in romanian and "ţ" not in romanian and "Ş" not in romanian and "Ţ" not in romanian
    assert "ș" in romanian and "ț" in romanian and "ă" in romanian and "â" in romanian and "î" in romanian


@pytest.mark.parametrize(("language", "counts"), [
    ("ru", {1: "1 клиент", 2: "2 клиента", 4: "4 клиента", 5: "5 клиентов", 11: "11 клиентов", 12: "12 клиентов",
            21: "21 клиент", 22: "22 клиента", 25: "25 клиентов", 111: "111 клиентов",
            1001: "1 001 клиент"}),
    ("ro", {1: "1 client", 2: "2 clienți", 19: "19 clienți", 20: "20 de clienți", 100: "100 de clienți",
            101: "101 clienți", 120: "120 de clienți", 1000: "1.000 de clienți"}),
    ("en", {1: "1 client", 2: "2 clients", 1000: "1,000 clients"}),
])
def test_plurals(language, counts, english_after):
    i18n.activate(i18n.resolve(cli=language))
    shown = {count: tn("{count:,} client", "{count:,} clients", count).replace("\xa0", " ") for count in counts}
    assert shown == counts


@pytest.mark.parametrize("language, expected", [("ru", "1 234 567"), ("ro", "1.234.567"), ("en", "1,234,567")])
def test_a_count_in_a_table_cell_is_grouped_as_the_language_groups_it(language, expected, english_after):
    """Python's `:,` would write 1,234,567 in every language: a Russian reader takes that comma for a decimal."""
    i18n.activate(i18n.resolve(cli=language))
    assert runtime.grouped(1234567) == expected


def test_a_user_error_is_translated_when_it_is_shown_not_when_it_is_raised(english_after):
    from db.errors import UserError

    error = UserError(N_("The login '{login}' already exists."), login="ana")
    assert str(error) == "The login 'ana' already exists."
    i18n.activate(Choice("ru", "RU"))
    assert str(error) == "Логин «ana» уже существует."
    i18n.activate(Choice("ro", "RO"))
    assert str(error) == "Utilizatorul „ana” există deja."


def test_an_ambiguous_label_takes_its_context(english_after):
    i18n.activate(Choice("ru", "RU"))
    assert tp("gender", "not given") == "не указан" and tp("consent", "not given") == "не дано"


# --- formats ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("locale_name", "currency", "expected"), [
    ("ru_RU", "RUB", "1 234,50 ₽"),
    ("ro_RO", "RON", "1.234,50 lei"),
    ("ru_MD", "MDL", "1 234,50 MDL"),
    ("ro_MD", "MDL", "1.234,50 MDL"),
    ("en", "RUB", "1 234.50 RUB"),
])
def test_money_follows_the_locale(locale_name, currency, expected):
    assert format_money(Decimal("1234.5"), currency, locale=locale_name) == expected


def test_money_follows_the_settled_language(english_after):
    i18n.activate(Choice("ru", "RU"))
    assert format_money(Decimal("1234.5"), "RUB") == "1 234,50 ₽"
    assert t("Exported {count:,} rows to {path}.", count=12345, path="x.csv").startswith("Выгружено строк: 12\xa0345")


@pytest.mark.parametrize("typed", ["1 234,50", "1234.50", "1234,5", "1.234,50", "1,234.50", "1\xa0234,50"])
def test_amounts_are_read_in_every_form_people_type(typed):
    assert parse_amount(typed) == Decimal("1234.50")


@pytest.mark.parametrize("typed", ["", "abc", "1,2,3.4.5x"])
def test_what_is_no_amount_is_refused(typed):
    with pytest.raises(ValueError):
        parse_amount(typed)


def test_dates_are_read_in_both_forms():
    assert parse_date("12.03.1985", "birth_date") == parse_date("1985-03-12", "birth_date") == date(1985, 3, 12)


@pytest.mark.parametrize(("language", "region", "expected"), [
    ("ru", "RU", {"language": "ru"}),
    ("ro", "RO", {"language": "ro", "phone_country": "RO", "currency": "RON", "timezone": "Europe/Bucharest"}),
    ("ro", "MD", {"language": "ro", "phone_country": "MD", "currency": "MDL", "timezone": "Europe/Chisinau"}),
    ("ru", "MD", {"language": "ru", "phone_country": "MD", "currency": "MDL", "timezone": "Europe/Chisinau"}),
    ("en", None, {}),
])
def test_a_new_base_takes_currency_and_phone_country_from_the_locale(language, region, expected):
    from db import settings

    assert settings.defaults_for_locale(language, region) == expected


# --- keys on any layout ----------------------------------------------------------------------------------

def test_the_layout_twins_of_a_letter():
    assert i18n.layout_twins("f") == ["а"]
    assert i18n.layout_twins("x") == ["ч"]
    assert i18n.layout_twins("y") == ["н", "z"]
    assert i18n.layout_twins("N") == ["Т"]
    assert i18n.layout_twins("ctrl+s") == [] and i18n.layout_twins("f5") == [] and i18n.layout_twins("/") == []


def test_argparse_still_looks_its_words_up_through_its_module_level_gettext():
    """Canary for tui/cli's translate_argparse: argparse calls the module global `_` for 'usage: '."""
    import argparse
    import inspect

    assert callable(getattr(argparse, "_", None))
    assert "_('usage: ')" in inspect.getsource(argparse.HelpFormatter)


def test_argparse_speaks_the_language(capsys, english_after):
    from tui.cli import main

    with pytest.raises(SystemExit):
        main(["--lang", "ru", "settings", "set"])
    error = capsys.readouterr().err
    assert "использование: " in error and "ошибка: нужны аргументы: key, value" in error


def test_textual_still_merges_bindings_where_clientbase_localizes_them():
    """Canary for the private API tui/textual_compat.rebind_every_class relies on: a class's merged bindings,
    made by the classmethod `_merge_bindings` into the class attribute `_merged_bindings`, which each instance
    copies."""
    from textual.binding import Binding, BindingsMap
    from textual.dom import DOMNode
    from textual.widget import Widget

    assert isinstance(DOMNode.__dict__["_merge_bindings"], classmethod)

    class Probe(Widget):
        BINDINGS = [Binding("f", "probe", "Filters")]

    assert isinstance(Probe._merged_bindings, BindingsMap)
    i18n.localize_widget_classes()
    assert {"f", "а"} <= set(Probe._merged_bindings.key_to_bindings)
    assert {"f", "а"} <= set(Probe()._bindings.key_to_bindings)


def test_every_letter_key_of_every_screen_has_its_cyrillic_twin(english_after):
    from screens.card.conflict import ConflictScreen
    from screens.card.screen import CardScreen
    from screens.clients.screen import ClientsScreen
    from screens.clients.segments import SegmentPicker

    i18n.activate(Choice("ru", "RU"))
    for screen in (ClientsScreen, CardScreen, SegmentPicker, ConflictScreen):
        keys = screen._merged_bindings.key_to_bindings
        for key, bindings in list(keys.items()):
            for twin in i18n.layout_twins(key):
                if twin in {"z"}:
                    continue
                assert [b.action for b in keys[twin]] == [b.action for b in bindings], (screen, key)
                assert not any(b.show for b in keys[twin])
    filters = ClientsScreen._merged_bindings.key_to_bindings["f"][0]
    assert filters.description == "Фильтры"
    assert ClientsScreen._merged_bindings.key_to_bindings["а"][0].action == "filters"


def test_the_language_setting_accepts_ru_and_ro():
    from db import settings

    assert settings.validate("language", " RU ") == "ru"
    assert settings.validate("language", "ro") == "ro"


def test_the_runtime_keeps_english_until_a_catalog_is_installed(english_after):
    runtime.install(runtime._gettext.NullTranslations(), "en")
    assert t("Filters") == "Filters"


def test_the_shop_and_each_login_choose_their_language(fresh_db, english_after):
    """`settings set language ru` is accepted; a login's own choice (0012) wins over it, and only that login
    sees or changes it."""
    import subprocess as run_process

    from db import session
    from db import settings as shop_settings
    from tui.cli.common import settle_language_from_database

    def cli(role, *args):
        return run_process.run([sys.executable, "-m", "tui.cli", *args], env=fresh_db.env(role),
                               capture_output=True, text=True, timeout=120)

    assert cli("admin", "settings", "set", "language", "ru").stdout.strip() == "language = ru"
    assert "Язык вашего логина" not in cli("sales", "settings", "my-language").stdout
    chosen = cli("sales", "settings", "my-language", "ro")
    assert chosen.returncode == 0 and "Limba utilizatorului dvs.: ro." in chosen.stdout
    # The admin (no choice of its own) reads the shop's language; the salesperson its own.
    listed_admin = cli("admin", "settings", "list").stdout
    assert "Язык интерфейса" in listed_admin
    listed_sales = cli("sales", "settings", "list").stdout
    assert "Limba interfeței" in listed_sales
    # --lang wins over both.
    assert "Language of the interface" in cli("sales", "--lang", "en", "settings", "list").stdout
    refused = cli("sales", "settings", "my-language", "de")
    assert refused.returncode == 1 and "de" in refused.stderr

    session.bind(fresh_db.target("sales"))
    assert shop_settings.my_language() == "ro"
    settle_language_from_database()
    assert i18n.current() == Choice("ro", "RO")
    session.bind(fresh_db.target("admin"))
    assert shop_settings.my_language() is None  # one login's choice is not another's
    shop_settings.set_my_language("en")
    assert shop_settings.my_language() == "en"
    shop_settings.set_my_language(None)
    assert shop_settings.my_language() is None
    from db.models import database

    database.close_all()


def test_the_demo_and_the_mailing_say_their_states_in_the_language(monkeypatch, capsys, english_after):
    """Stages and states stored or reported as English names are said through their tables, not shown raw."""
    from db import labels
    from db.errors import UserError
    from tui.cli.common import progress_printer

    i18n.activate(Choice("ru", "RU"))
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    progress_printer()("companies", 1200, 20000)
    assert "компании: 1\xa0200 / 20\xa0000" in capsys.readouterr().err
    error = UserError(N_("Campaign {id} is {status}; it cannot be {action} now."), id=7,
                      status=t(labels.CAMPAIGN_STATUS["done"]), action=t(labels.CAMPAIGN_ACTION["paused"]))
    assert str(error) == "Рассылка 7 — завершена; сейчас её нельзя приостановить."
    assert tn("{n} day ago", "{n} days ago", 5, n=5) == "5 дней назад"
