"""The card editor driven by keys, as a user works it, checked on screen and in the database."""

from __future__ import annotations

from textual.widgets import Input

from db import cards
from tests.card_helpers import CardApp, bind, make_client, settle


async def test_open_edit_save_and_see_it_in_the_database(admin_session):
    card = make_client()
    app = CardApp("admin", card.id)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.card_screen
        assert "Петрова" in str(screen.query_one("#card-title").render())
        city = screen.query_one("#f-city", Input)
        city.focus()
        await pilot.press(*"Казань")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert cards.load_card(card.id).draft.city == "Казань"
        await pilot.press("escape")
        await settle(app, pilot)
    assert app.dismissed == [card.id]
