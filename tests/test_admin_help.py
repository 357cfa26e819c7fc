"""F1 (issue 16): each screen's paragraph and the keys the login really has, the ones off the footer included."""

from __future__ import annotations

import re

import pytest

from db import session
from db.i18n import t
from screens.admin.products import ProductsScreen
from screens.clients.screen import ClientsScreen
from screens.help import HelpScreen
from tests.card_helpers import make_client
from tests.pilot import screen_text, settle
from tui.app import ClientbaseApp


def _app(db, role: str) -> ClientbaseApp:
    session.bind(db.target(role))
    return ClientbaseApp(db.target(role), session.identity(db.target(role)), listen=False)


def _flat(app) -> str:
    return " ".join(screen_text(app).split())


async def test_f1_on_the_list_says_what_it_is_for_and_lists_the_admin_keys(admin_session):
    make_client()
    app = _app(admin_session, "admin")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("tab", "f1")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        text = _flat(app)
        assert " ".join(t(ClientsScreen.HELP).split())[:60] in text
        keys = dict(app.screen.keys)  # the list scrolls below the paragraph
        assert keys["a"] == t("Archive, restore, delete or forget the selected client")
        assert keys["p"] == t("The product catalogue: names, prices, costs, passes")
        assert keys["b"] == t("Save the whole base to a file, with progress")
        listed = str(app.screen.query_one("#help-keys Static").content)  # what the scrolled list holds
        assert re.search(r"^a +" + re.escape(keys["a"]) + "$", listed, re.MULTILINE)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ClientsScreen)


@pytest.mark.parametrize("role", ["manager", "sales"])
async def test_f1_shows_a_reader_no_write_key(admin_session, role):
    make_client()
    app = _app(admin_session, role)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("tab", "p")
        await settle(pilot)
        assert isinstance(app.screen, ProductsScreen)
        await pilot.press("f1")
        await settle(pilot)
        text = _flat(app)
        assert " ".join(t(ProductsScreen.HELP).split())[:50] in text
        said = {said for _, said in app.screen.keys}
        assert t("Save the product") not in said and t("Start a new product") not in said
        assert t("Back to the clients") in said and t("Back to the clients") in text
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, ProductsScreen)
