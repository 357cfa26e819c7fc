"""Two people on one card: the second save meets the conflict dialog, and each answer does what it says."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Input

from db.card import cards
from screens.card.conflict import ConflictScreen
from tests.card_helpers import CardApp, make_client
from tests.pilot import settle


async def _conflicting_edit(app, pilot, admin_session, card):
    """The user changes the city; meanwhile another terminal changes the notes and the city."""
    await settle(pilot)
    app.card_screen.query_one("#f-city", Input).focus()
    await pilot.press(*"Сочи")
    with admin_session.connect("admin", autocommit=True) as other:
        other.execute("UPDATE client SET notes = 'allergic to nuts', city = 'Пермь' WHERE id = %s", (card.id,))
    await pilot.press("ctrl+s")
    await settle(pilot)
    assert isinstance(app.screen, ConflictScreen)


async def test_the_dialog_shows_both_versions_of_the_differing_fields(admin_session):
    card = make_client()
    app = CardApp("admin", card.id)
    async with app.run_test(size=(80, 24)) as pilot:
        await _conflicting_edit(app, pilot, admin_session, card)
        table = app.screen.query_one(DataTable)
        rows = {str(table.get_row(key)[0]): (str(table.get_row(key)[1]), str(table.get_row(key)[2]))
                for key in table.rows}
        assert rows == {"City": ("Сочи", "Пермь"), "Notes": ("", "allergic to nuts")}
        await pilot.press("escape")
        await settle(pilot)
        # Back to editing: the draft is intact and nothing was written.
        assert app.card_screen.query_one("#f-city", Input).value == "Сочи"
    assert cards.load_card(card.id).draft.city == "Пермь"


@pytest.mark.parametrize("key, city, notes", [
    ("k", "Сочи", ""),                  # keep mine: my whole draft, their notes change undone knowingly
    ("t", "Пермь", "allergic to nuts"),  # take theirs: nothing of mine is saved
    ("m", "Сочи", "allergic to nuts"),   # merge: each field from whoever changed it
])
async def test_each_answer_does_what_it_says(admin_session, key, city, notes):
    card = make_client()
    app = CardApp("admin", card.id)
    async with app.run_test(size=(80, 24)) as pilot:
        await _conflicting_edit(app, pilot, admin_session, card)
        await pilot.press(key)
        await settle(pilot)
        shown = app.card_screen.query_one("#f-city", Input).value
        assert not isinstance(app.screen, ConflictScreen)
    saved = cards.load_card(card.id)
    assert (saved.draft.city, saved.draft.notes) == (city, notes)
    assert shown == city


async def test_merging_field_by_field_with_a_switched_side(admin_session):
    card = make_client()
    app = CardApp("admin", card.id)
    async with app.run_test(size=(80, 24)) as pilot:
        await _conflicting_edit(app, pilot, admin_session, card)
        table = app.screen.query_one(DataTable)
        assert [str(table.get_row(key)[0]) for key in table.rows] == ["City", "Notes"]
        await pilot.press("space", "m")  # City: switch to theirs, then merge
        await settle(pilot)
    saved = cards.load_card(card.id)
    assert (saved.draft.city, saved.draft.notes) == ("Пермь", "allergic to nuts")


async def test_two_terminals_edit_one_card_and_the_second_save_meets_the_dialog(admin_session):
    card = make_client()
    first, second = CardApp("admin", card.id), CardApp("admin", card.id)
    async with first.run_test(size=(80, 24)) as first_pilot, second.run_test(size=(80, 24)) as second_pilot:
        await settle(first_pilot)
        await settle(second_pilot)
        first.card_screen.query_one("#f-city", Input).focus()
        await first_pilot.press(*"Сочи")
        second.card_screen.query_one("#f-position", Input).focus()
        await second_pilot.press(*"директор")
        await first_pilot.press("ctrl+s")
        await settle(first_pilot)
        assert not isinstance(first.screen, ConflictScreen)
        await second_pilot.press("ctrl+s")
        await settle(second_pilot)
        assert isinstance(second.screen, ConflictScreen)
        await second_pilot.press("m")
        await settle(second_pilot)
    saved = cards.load_card(card.id)
    assert (saved.draft.city, saved.draft.position) == ("Сочи", "директор")
