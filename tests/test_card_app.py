"""The card inside the real app: opened from the shell, refreshed by LISTEN/NOTIFY, driven from the palette."""

from __future__ import annotations

from textual.widgets import Input

from screens.card import CardScreen
from screens.card_tabs.people import ContactRow
from tests.card_helpers import bind, identity, make_client, settle
from tui.app import ClientbaseApp


async def _wait_for(pilot, condition, seconds: float = 5.0) -> bool:
    for _ in range(int(seconds / 0.1)):
        if condition():
            return True
        await pilot.pause(0.1)
    return condition()


async def test_a_read_only_card_refreshes_itself_when_another_terminal_saves(admin_session):
    card = make_client()
    bind(admin_session, "sales")
    app = ClientbaseApp(admin_session.target("sales"), identity("sales"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = CardScreen(identity("sales"), card.id)
        app.push_screen(screen)
        await settle(app, pilot)
        with admin_session.connect("admin", autocommit=True) as other:
            other.execute("UPDATE client SET city = 'Тверь' WHERE id = %s", (card.id,))
        assert await _wait_for(pilot, lambda: screen.query_one("#f-city", Input).value == "Тверь")


async def test_an_action_of_another_tab_runs_from_the_palette(admin_session):
    card = make_client()
    app = ClientbaseApp(admin_session.target("admin"), identity("admin"), listen=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = CardScreen(identity("admin"), card.id)
        app.push_screen(screen)
        await settle(app, pilot)
        await pilot.press("ctrl+p", *"Add contact")
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        assert screen.active_tab == "contacts"
        assert len(screen.query(ContactRow)) == 3


async def test_the_reused_editor_shows_each_card_and_nothing_of_the_previous_one(admin_session):
    first = make_client()
    second = make_client(last_name="Сидоров", first_name="Пётр", contacts=(), relatives=())
    app = ClientbaseApp(admin_session.target("admin"), identity("admin"), listen=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        returned = []
        editor = CardScreen.reusable(app, identity("admin"), first.id)
        app.push_screen(editor, returned.append)
        await settle(app, pilot)
        await pilot.press("f3")
        await settle(app, pilot)
        assert len(editor.query(ContactRow)) == 2
        editor.query_one("#f-city", Input).value = "Уфа"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        await pilot.press("escape")
        await settle(app, pilot)
        again = CardScreen.reusable(app, identity("admin"), second.id)
        assert again is editor
        app.push_screen(again, returned.append)
        await settle(app, pilot)
        assert again.query_one("#f-last_name", Input).value == "Сидоров"
        assert len(again.query(ContactRow)) == 0 and again.active_tab == "main"
        assert again.claim is not None and again.claim.client_id == second.id
        await pilot.press("escape")
        await settle(app, pilot)
    assert returned == [first.id, None]
