"""The card editor driven by keys, as a user works it, checked on screen and in the database."""

from __future__ import annotations

from textual.widgets import Button, Input, Static

from db.card import cards

from db.card import custom_fields
from db.i18n import t
from tui.widgets.field_grid import FieldGrid
from screens.card.tabs.people import ContactRow
from screens.confirm import ConfirmScreen
from screens.card.conflict import ConflictScreen
from tests.card_helpers import CardApp, make_client
from tests.pilot import settle


def status(app: CardApp) -> str:
    return str(app.card_screen.query_one("#card-status", Static).render())


def title(app: CardApp) -> str:
    return str(app.card_screen.query_one("#card-title", Static).render())


async def test_open_edit_save_and_see_it_in_the_database(admin_session):
    card = make_client()
    app = CardApp("admin", card.id)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "Петрова" in title(app)
        app.card_screen.query_one("#f-city", Input).focus()
        await pilot.press(*"Казань")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert cards.load_card(card.id).draft.city == "Казань"
        assert "Saved" in status(app)
        await pilot.press("escape")
        await settle(pilot)
    assert app.dismissed == [card.id]


async def test_an_invalid_email_blocks_saving_and_keeps_the_draft(admin_session):
    card = make_client()
    app = CardApp("admin", card.id)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f3")
        email = [row for row in app.card_screen.query(ContactRow) if row.contact.kind == "email"][0]
        field = email.query_one(".value", Input)
        field.focus()
        await pilot.press("ctrl+u", *"anna at mail")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "not a valid e-mail" in status(app)
        assert "not a valid e-mail" in str(email.query_one(".row-error", Static).render())
        assert field.value == "anna at mail"
        assert cards.load_card(card.id).version == card.version
        # Fixing it saves.
        await pilot.press("ctrl+u", *"anna@example.org", "ctrl+s")
        await settle(pilot)
    assert any(c.normalized == "anna@example.org" for c in cards.load_card(card.id).contacts)


async def test_escape_with_unsaved_changes_asks_before_discarding(admin_session):
    card = make_client()
    app = CardApp("admin", card.id)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.card_screen.query_one("#f-position", Input).focus()
        await pilot.press(*"boss", "escape")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("tab", "enter")  # the second answer keeps editing
        await settle(pilot)
        assert app.dismissed == [] and app.card_screen.query_one("#f-position", Input).value == "boss"
        await pilot.press("escape", "escape")  # so does Esc
        await settle(pilot)
        assert app.dismissed == [] and app.screen is app.card_screen
        await pilot.press("escape", "tab", "tab", "enter")  # the third answer discards
        await settle(pilot)
    assert app.dismissed == [None]
    assert cards.load_card(card.id).draft.position == ""


async def test_escape_then_enter_saves_and_closes(admin_session):
    card = make_client()
    app = CardApp("admin", card.id)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.card_screen.query_one("#f-position", Input).focus()
        await pilot.press(*"boss", "escape")
        await settle(pilot)
        assert t("Save and close") in str(app.screen.query_one("#answer-0", Button).label)
        await pilot.press("enter")
        await settle(pilot)
    assert app.dismissed == [card.id]
    assert cards.load_card(card.id).draft.position == "boss"


async def test_save_and_close_refused_keeps_the_card_open_with_the_reason_and_the_draft(admin_session):
    card = make_client()
    app = CardApp("admin", card.id)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.card_screen
        screen.query_one("#f-birth_date", Input).focus()
        await pilot.press("ctrl+u", *"31.02.1990", "escape")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen and app.dismissed == []
        assert screen.query_one("#f-birth_date", Input).value == "31.02.1990"
        assert screen.query_one(FieldGrid).error("birth_date") and screen.focused is screen.query_one("#f-birth_date")
        # Someone else saves meanwhile: the conflict is shown, the card stays open, nothing is overwritten.
        with admin_session.connect("admin", autocommit=True) as other:
            other.execute("UPDATE client SET city = 'Тверь' WHERE id = %s", (card.id,))
        await pilot.press("ctrl+u", *"28.02.1990", "escape")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConflictScreen) and app.dismissed == []
    stored = cards.load_card(card.id).draft
    assert (stored.city, stored.birth_date) == ("Тверь", "12.03.1985")


async def test_a_new_client_with_a_known_phone_offers_the_existing_card(admin_session):
    existing = make_client()
    app = CardApp("admin", None)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "New client" in title(app)
        app.card_screen.query_one("#f-last_name", Input).focus()
        await pilot.press(*"Другая")
        await pilot.press("f3", "ctrl+n")
        await settle(pilot)
        await pilot.press(*"+7 912 345 67 89", "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert f"#{existing.id}" in str(app.screen.query_one("#confirm-body").render())
        await pilot.press("enter")  # open that card
        await settle(pilot)
        assert app.card_screen.card.id == existing.id
        assert "Петрова" in title(app)


async def test_a_new_client_is_created_when_the_duplicate_is_accepted(admin_session):
    make_client()
    app = CardApp("admin", None)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.card_screen.query_one("#f-first_name", Input).focus()
        await pilot.press(*"Иван", "f3", "ctrl+n")
        await settle(pilot)
        await pilot.press(*"89123456789", "ctrl+s")
        await settle(pilot)
        await pilot.press("tab", "enter")  # save anyway
        await settle(pilot)
        created = app.card_screen.card
        assert created.id is not None and created.draft.first_name == "Иван"
        await pilot.press("escape")
        await settle(pilot)
    assert app.dismissed == [created.id]


async def test_custom_fields_are_defined_on_their_screen_and_filled_on_the_card(admin_session):
    card = make_client()
    app = CardApp("admin", card.id)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f8", "ctrl+f")
        await settle(pilot)
        await pilot.press("ctrl+n", *"shoe_size", "tab", *"Shoe size", "ctrl+s")
        await settle(pilot)
        assert [d.name for d in custom_fields.list_definitions()] == ["shoe_size"]
        await pilot.press("escape")
        await settle(pilot)
        field = app.card_screen.query_one("#f-custom-shoe_size", Input)
        field.focus()
        await pilot.press(*"38", "ctrl+s")
        await settle(pilot)
    assert cards.load_card(card.id).draft.custom_value("shoe_size") == "38"


async def test_an_interaction_and_a_reminder_are_added_and_ticked_off(admin_session):
    card = make_client()
    app = CardApp("admin", card.id)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f6", "ctrl+n")
        await settle(pilot)
        await pilot.press("tab", *"Asked about prices", "ctrl+s")
        await settle(pilot)
        await pilot.press("f7", "ctrl+n")
        await settle(pilot)
        await pilot.press("tab", *"Call back", "ctrl+s")
        await settle(pilot)
        await pilot.press("ctrl+t")
        await settle(pilot)
    loaded = cards.load_card(card.id)
    assert loaded.interactions[0].text == "Asked about prices"
    assert loaded.reminders[0].text == "Call back" and loaded.reminders[0].done


async def test_a_purchase_with_two_lines_is_added_from_the_card(admin_session):
    card = make_client()
    app = CardApp("admin", card.id)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f5", "ctrl+n")
        await settle(pilot)
        await pilot.press("tab", *"Подарочный сертификат", "tab", "ctrl+u", "2", "tab", *"1500")
        await pilot.press("ctrl+n")
        await settle(pilot)
        await pilot.press("tab", *"Упаковка", "tab", "tab", *"100", "ctrl+s")
        await settle(pilot)
        assert "1 purchases" in str(app.card_screen.query_one("#purchase-summary").render())
    loaded = cards.load_card(card.id)
    assert loaded.purchase_count == 1 and str(loaded.total_spent) == "3100.00"
    assert [line.description for line in loaded.purchases[0].lines] == ["Подарочный сертификат", "Упаковка"]


async def test_a_refund_is_a_purchase_with_a_negative_price_and_a_zero_one_is_refused(admin_session):
    card = make_client()
    app = CardApp("admin", card.id)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f5", "ctrl+n")
        await settle(pilot)
        await pilot.press("tab", *"Крем", "tab", "tab", *"0", "ctrl+s")
        await settle(pilot)
        modal = app.screen
        assert str(modal.query_one("#purchase-status", Static).render()) == t(
            "The amount is zero: a purchase needs a price, a refund a negative one.")
        await pilot.press("ctrl+u", *"-450,50", "ctrl+s")
        await settle(pilot)
        assert app.screen is not modal
    loaded = cards.load_card(card.id)
    assert (loaded.purchase_count, str(loaded.total_spent)) == (0, "-450.50"), "a refund is no purchase"
    assert str(loaded.purchases[0].amount) == "-450.50"


async def test_the_reason_appears_beside_the_field_the_user_leaves_and_on_saving(admin_session):
    card = make_client()
    app = CardApp("admin", card.id)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.card_screen
        screen.query_one("#f-birth_date", Input).focus()
        await pilot.press("ctrl+u", *"01.01.2990")
        await settle(pilot)
        assert screen.query_one(FieldGrid).error("birth_date") == "", "not while the date is being typed"
        await pilot.press("tab")
        await settle(pilot)
        assert "cannot be in the future" in screen.query_one(FieldGrid).error("birth_date")
        # Once said, the reason follows the typing and goes as soon as the date is right.
        await pilot.press("shift+tab", "ctrl+u", *"01.01.1990")
        await settle(pilot)
        assert screen.query_one(FieldGrid).error("birth_date") == ""
        screen.query_one("#f-last_name", Input).focus()
        await pilot.press("ctrl+u")
        screen.query_one("#f-first_name", Input).focus()
        await pilot.press("ctrl+u", "ctrl+s")
        await settle(pilot)
        assert "name is required" in screen.query_one(FieldGrid).error("last_name")
        assert screen.focused is screen.query_one("#f-last_name")
        # Saved from another tab, the refusal brings the user back to the field it is about.
        await pilot.press(*"Петрова", "f3")
        await settle(pilot)
        assert screen.active_tab == "contacts" and screen.focused in screen.query("#tab-contacts-body *")
        screen.query_one("#f-birth_date", Input).value = "01.01.2990"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert screen.active_tab == "main" and screen.focused is screen.query_one("#f-birth_date")
        assert "cannot be in the future" in status(app)
    assert cards.load_card(card.id).draft.last_name == "Петрова"


async def test_the_tab_strip_switches_tabs_by_arrow_keys_and_by_a_click(admin_session):
    card = make_client()
    app = CardApp("admin", card.id)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.card_screen
        strip = screen.query_one("#card-tabs")
        strip.focus()
        await pilot.press("right")
        await settle(pilot)
        # The pane follows the strip, built the first time it is shown.
        assert screen.active_tab == "contacts" and screen.query("#tab-contacts-body")
        assert screen.query_one("#contacts").display and not screen.query_one("#main").display
        await pilot.press("left", "left")
        await settle(pilot)
        assert screen.active_tab == "consent", "Left from the first tab goes round to the last"
        # "  Main  Contacts  Family": the click falls on the third label.
        await pilot.click(strip, offset=(20, 0))
        await settle(pilot)
        assert screen.active_tab == "family" and screen.query_one("#family").display
        assert screen.query("#tab-family-body")
        await pilot.press("f2")
        await settle(pilot)
        assert screen.active_tab == "main" and strip.active == "main"
