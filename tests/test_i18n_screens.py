"""Issue 12 at 80×24: the clients list, the card (every tab), the filters, import and export in Russian and
Romanian, driven by real keys, Cyrillic letters among them. What is on the screen is in that language, and
every key the footer offers is still reachable (in the footer, or by Ctrl+P under its translated name)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from babel.messages.pofile import read_po
from textual.widgets._footer import FooterKey

from db import settings
from db.i18n import t, tn
from screens.card.screen import TAB_KEYS, CardScreen
from screens.clients.filters import FiltersScreen
from screens.transfer.export_dialog import ExportFileScreen
from screens.transfer.import_dialog import ImportFileScreen
from tests.test_app_clients import make_app, screen_text, settle
from tui import i18n
from tui.i18n import LOCALE_DIR, Choice
from db import labels

TODAY = date(2026, 6, 15)
WORD = re.compile(r"[A-Za-z][a-z]{3,}")


@pytest.fixture(autouse=True)
def count_at_once(monkeypatch):
    import screens.clients.screen

    monkeypatch.setattr(screens.clients.screen, "COUNT_AFTER_SECONDS", 0.001)


def _english_only_words(language: str) -> set[str]:
    """Words of the English interface that the language's own catalog never uses (so not 'Excel' or 'SMS')."""
    with open(LOCALE_DIR / language / "LC_MESSAGES" / "clientbase.po", "rb") as source:
        catalog = read_po(source, locale=language)
    translated = set()
    for message in catalog:
        for text in message.string if isinstance(message.string, tuple) else (message.string,):
            translated |= {word.lower() for word in WORD.findall(text or "")}
    with open(LOCALE_DIR / "clientbase.pot", "rb") as source:
        sources = [text for message in read_po(source) if message.id
                   for text in (message.id if isinstance(message.id, tuple) else (message.id,))]
    english = {word.lower() for text in sources for word in WORD.findall(text)}
    return english - translated


@pytest.fixture(params=["ru", "ro"])
def shop(request, make_db, demo_template):
    language = request.param
    db = make_db(demo_template(300, seed=7, as_of=TODAY, language=language))
    i18n.activate(Choice(language, i18n.DEFAULT_REGION[language]))
    yield db, language
    i18n.activate(Choice("en"))
    from db.models import database

    database.close_all()


# Data, not interface: the demo's consent source.
DATA_WORDS = {"demo"}


def assert_speaks(text: str, language: str) -> None:
    english = {word.lower() for word in WORD.findall(text)} & _english_only_words(language) - DATA_WORDS
    assert english == set(), text


def assert_footer_keys_reachable(app) -> None:
    screen = app.screen
    palette = {command.title for command in app.get_system_commands(screen)}
    footer = {key.description for key in screen.query(FooterKey)
              if key.region.width and key.region.right <= app.size.width}
    if not footer:
        return  # a dialog without a footer (import, export) has none in English either
    for key, binding in screen.active_bindings.items():
        if not binding.binding.show or not binding.binding.description:
            continue
        description = binding.binding.description
        assert description == t(description)  # already in the settled language
        assert description in footer or description in palette or key in ("ctrl+q", "ctrl+p"), (key, description)


async def test_the_list_filters_import_and_export_speak_the_language(shop):
    db, language = shop
    app = make_app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert tn("{count:,} client", "{count:,} clients", 300) in text and t("Name") in text
        assert_speaks(text, language)
        await pilot.press("tab")  # from the search box to the list, whose footer has the letter keys
        await settle(pilot)
        text = screen_text(app)
        assert t("Filters") in text
        assert_speaks(text, language)
        assert_footer_keys_reachable(app)

        # The Russian layout's а is where f is: it opens the filters, as f does.
        await pilot.press("а")
        await settle(pilot)
        assert isinstance(app.screen, FiltersScreen)
        text = screen_text(app)
        assert t("Filters") in text and t("Birthday within days") in text
        assert_speaks(text, language)
        await pilot.press("escape")
        await settle(pilot)

        await pilot.press("ш")  # i: import
        await settle(pilot)
        assert isinstance(app.screen, ImportFileScreen)
        text = screen_text(app)
        assert t("Check the file first: nothing is written until you confirm.") in text
        assert_speaks(text, language)
        assert_footer_keys_reachable(app)
        await pilot.press("escape")
        await settle(pilot)

        await pilot.press("у")  # e: export
        await settle(pilot)
        assert isinstance(app.screen, ExportFileScreen)
        text = screen_text(app)
        assert t("The file gets the clients of the current search and filters.") in text
        assert_speaks(text, language)
        assert_footer_keys_reachable(app)
        await pilot.press("escape")
        await settle(pilot)

        await pilot.press("ы")  # s: the next sort order, said in the language
        await settle(pilot)
        assert t("sorted by {sort}", sort=t("last purchase")) in screen_text(app)


async def test_every_tab_of_the_card_speaks_the_language(shop):
    db, language = shop
    app = make_app(db)
    settings.set_value("currency", {"ru": "RUB", "ro": "RON"}[language])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("tab", "enter")
        await settle(pilot)
        assert isinstance(app.screen, CardScreen)
        for tab, key in TAB_KEYS.items():
            await pilot.press(key)
            await settle(pilot)
            text = screen_text(app)
            assert t(labels.CARD_TAB[tab]) in text, tab
            assert_speaks(text, language)
            assert_footer_keys_reachable(app)
        await pilot.press("f5")
        await settle(pilot)
        sign = {"ru": "₽", "ro": "lei"}[language]
        assert sign in screen_text(app)


async def test_the_dashboard_speaks_the_language_on_every_tab(shop):
    from db.analytics.refresh import refresh
    from screens.dashboard.screen import TABS, DashboardScreen

    db, language = shop
    with db.connect("admin", autocommit=True) as conn:
        refresh(conn, TODAY, 365)
    app = make_app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+y")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        for number, name in enumerate(TABS, start=1):
            await pilot.press(str(number))
            await settle(pilot)
            text = screen_text(app)
            assert t(labels.DASHBOARD_TAB[name]) in text
            assert_speaks(text, language)
        assert_footer_keys_reachable(app)
