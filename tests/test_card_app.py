"""The card inside the real app: opened from the shell, refreshed by LISTEN/NOTIFY, driven from the palette."""

from __future__ import annotations

import gc
import threading

from textual.widgets import Input, Static
from textual.widgets._footer import FooterKey

from db.card import cards
from db.i18n import t
from db.errors import ConnectionLost
from screens.card.screen import REUSED, SHOW_LOADING_AFTER, CardScreen
from screens.card.tabs.main import MainTab
from screens.card.tabs.people import ContactRow
from tests.card_helpers import bind, identity, make_client
from tests.pilot import settle
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
        await settle(pilot)
        screen = CardScreen(identity("sales"), card.id)
        app.push_screen(screen)
        await settle(pilot)
        with admin_session.connect("admin", autocommit=True) as other:
            other.execute("UPDATE client SET city = 'Тверь' WHERE id = %s", (card.id,))
        assert await _wait_for(pilot, lambda: screen.query_one("#f-city", Input).value == "Тверь")


async def test_an_action_of_another_tab_runs_from_the_palette(admin_session):
    card = make_client()
    app = ClientbaseApp(admin_session.target("admin"), identity("admin"), listen=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = CardScreen(identity("admin"), card.id)
        app.push_screen(screen)
        await settle(pilot)
        await pilot.press("ctrl+p", *"Add contact")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert screen.active_tab == "contacts"
        assert len(screen.query(ContactRow)) == 3


async def test_the_reused_editor_shows_each_card_and_nothing_of_the_previous_one(admin_session):
    first = make_client()
    second = make_client(last_name="Сидоров", first_name="Пётр", contacts=(), relatives=())
    app = ClientbaseApp(admin_session.target("admin"), identity("admin"), listen=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        returned = []
        editor = CardScreen.open(app, identity("admin"), first.id, returned.append)
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        assert len(editor.query(ContactRow)) == 2
        editor.query_one("#f-city", Input).value = "Уфа"
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        again = CardScreen.open(app, identity("admin"), second.id, returned.append)
        assert again is editor
        await settle(pilot)
        assert app.screen is again
        assert again.query_one("#f-last_name", Input).value == "Сидоров"
        assert len(again.query(ContactRow)) == 0 and again.active_tab == "main"
        assert again.claim is not None and again.claim.client_id == second.id
        await pilot.press("escape")
        await settle(pilot)
    assert returned == [first.id, None]


async def test_the_clients_screen_builds_the_editor_beforehand_and_enter_shows_it_filled(admin_session,
                                                                                         monkeypatch):
    first = make_client()
    read: list[int | None] = []
    real_load = cards.load_card
    monkeypatch.setattr(cards, "load_card", lambda client_id: read.append(client_id) or real_load(client_id))
    app = ClientbaseApp(admin_session.target("admin"), identity("admin"), listen=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert await _wait_for(pilot, lambda: app.is_screen_installed(REUSED)
                               and app.get_screen(REUSED).is_mounted and read)
        editor = app.get_screen(REUSED)
        built = editor.query_one(MainTab)
        # The first row's card was read once ahead (the session's first read is the slow one), and dropped:
        # nothing shown, nobody told that this terminal is editing it.
        await settle(pilot)
        assert read == [first.id] and editor.card is None and editor.claim is None
        keys = list(editor.query(FooterKey))
        await pilot.press("down", "enter")
        assert await _wait_for(pilot, lambda: app.screen is editor)
        # Shown only once it holds the card: no "Loading…" frame, no widgets built for it, not even the
        # footer's keys, which were made for an existing client's card.
        assert editor.card is not None and editor.query_one("#f-last_name", Input).value == "Петрова"
        assert editor.query_one(MainTab) is built
        await settle(pilot)
        assert list(editor.query(FooterKey)) == keys and "merge" in [key.action for key in keys]


async def test_what_the_app_builds_at_start_is_kept_out_of_full_collections_until_it_ends(admin_session):
    make_client()
    app = ClientbaseApp(admin_session.target("admin"), identity("admin"), listen=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert gc.get_freeze_count() == 0
        assert await _wait_for(pilot, lambda: app.is_screen_installed(REUSED) and app.get_screen(REUSED).is_mounted)
        await settle(pilot)
        # Frozen: the modules, both screens and their widgets, which a full collection would walk each time.
        assert gc.get_freeze_count() > len(app.get_screen(REUSED).walk_children()) > 50
        await pilot.press("enter")
        assert await _wait_for(pilot, lambda: app.screen is app.get_screen(REUSED))
    assert gc.get_freeze_count() == 0, "once the app has ended, its objects can be collected again"


async def test_a_failed_read_ahead_says_nothing_and_the_card_still_opens(admin_session, monkeypatch):
    make_client()
    real_load = cards.load_card
    refused: list[int] = []

    def unreachable_once(client_id):
        if not refused:
            refused.append(client_id)
            raise ConnectionLost("server closed the connection")
        return real_load(client_id)

    monkeypatch.setattr(cards, "load_card", unreachable_once)
    app = ClientbaseApp(admin_session.target("admin"), identity("admin"), listen=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert await _wait_for(pilot, lambda: bool(refused))
        await settle(pilot)
        assert app._banner is None, "no banner: the user asked for nothing yet"
        await pilot.press("enter")
        assert await _wait_for(pilot, lambda: app.screen is app.get_screen(REUSED))
        assert app.screen.query_one("#f-last_name", Input).value == "Петрова"


async def test_a_slow_card_shows_the_editor_loading_and_its_keys_wait_for_the_card(admin_session, monkeypatch):
    first = make_client()
    second = make_client(last_name="Сидоров", first_name="Пётр", contacts=(), relatives=())
    app = ClientbaseApp(admin_session.target("admin"), identity("admin"), listen=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        CardScreen.open(app, identity("admin"), first.id)
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)

        real_load = cards.load_card
        arrived = threading.Event()

        def slow_load(client_id):
            arrived.wait(10)
            return real_load(client_id)

        monkeypatch.setattr(cards, "load_card", slow_load)
        editor = CardScreen.open(app, identity("admin"), second.id)
        await pilot.pause(SHOW_LOADING_AFTER + 0.2)
        assert app.screen is editor
        assert not editor.query_one("#card-body").display, "the previous client's values stay hidden"
        assert "Петрова" not in str(editor.query_one("#card-title", Static).render())
        await pilot.press("ctrl+s", "ctrl+g")
        arrived.set()
        await settle(pilot)
        assert editor.query_one("#card-body").display
        assert editor.query_one("#f-last_name", Input).value == "Сидоров"
        assert app.screen is editor
    with admin_session.connect("admin") as conn:
        assert conn.execute("SELECT version FROM client WHERE id = %s", (second.id,)).fetchone()[0] == second.version


async def test_the_footer_is_rebuilt_only_when_its_keys_change(admin_session):
    card = make_client()
    app = ClientbaseApp(admin_session.target("admin"), identity("admin"), listen=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        editor = CardScreen.open(app, identity("admin"), card.id)
        await settle(pilot)
        keys = list(editor.query(FooterKey))
        await pilot.press("tab", "tab", "tab")
        await settle(pilot)
        assert list(editor.query(FooterKey)) == keys, "moving between fields changes no key"
        await pilot.press("f3")
        await settle(pilot)
        shown = [key.description for key in editor.query(FooterKey)]
        assert t("Add contact") in shown and t("Referred by") not in shown
