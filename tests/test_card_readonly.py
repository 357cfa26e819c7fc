"""Manager and sales see the whole card and can change nothing: no write key, disabled editors, a visible
mark, and a sentence when they try anyway. (The database's own refusal: tests/test_cards_db.py.)"""

from __future__ import annotations

import pytest
from textual.widgets import Input, Static

from db import session
from db.card import cards
from db.connection import Target
from db.notify import Changes
from screens.card.actions import WRITES
from tests.card_helpers import CardApp, bind, make_client
from tests.pilot import settle
from tui.widgets.connection import ClientsChanged


@pytest.mark.parametrize("role", ["sales", "manager"])
async def test_a_read_only_login_sees_no_write_action_and_is_told_why(admin_session, role):
    card = make_client()
    bind(admin_session, role)
    app = CardApp(role, card.id)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.card_screen
        assert "READ-ONLY" in str(screen.query_one("#card-title", Static).render())
        for tab in ("f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9"):
            await pilot.press(tab)
            await pilot.pause()
            shown = {binding.binding.action for binding in screen.active_bindings.values() if binding.binding.show}
            assert not shown & WRITES, tab
        assert all(editor.disabled for editor in screen.query(Input))
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "read-only" in str(screen.query_one("#card-status", Static).render())
        screen.query_one("#card-status", Static).update("")
        await pilot.press("f3", "ctrl+n")
        await settle(pilot)
        assert "read-only" in str(screen.query_one("#card-status", Static).render())
        # The palette lists the same commands, and a write from there is refused with the same sentence.
        screen.query_one("#card-status", Static).update("")
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"Save", "enter")
        await settle(pilot)
        assert "read-only" in str(screen.query_one("#card-status", Static).render())
        await pilot.press("escape")
        await settle(pilot)
    assert app.dismissed == [None]
    assert cards.load_card(card.id).version == card.version


async def test_a_read_only_card_refreshes_when_another_terminal_saves_it(admin_session):
    card = make_client()
    bind(admin_session, "sales")
    app = CardApp("sales", card.id)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        with admin_session.connect("admin", autocommit=True) as other:
            other.execute("UPDATE client SET city = 'Тверь' WHERE id = %s", (card.id,))
        app.card_screen.post_message(ClientsChanged(Changes(frozenset({card.id}))))
        await settle(pilot)
        assert app.card_screen.query_one("#f-city", Input).value == "Тверь"


async def test_an_admin_sees_who_else_is_editing_the_card(admin_session):
    card = make_client()
    with admin_session.connect("admin", autocommit=True) as other_editor:
        other_editor.execute("SELECT pg_advisory_lock_shared(7243, %s)", (card.id,))
        since = other_editor.execute("SELECT backend_start FROM pg_stat_activity "
                                     "WHERE pid = pg_backend_pid()").fetchone()[0]
        app = CardApp("admin", card.id)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            title = str(app.card_screen.query_one("#card-title", Static).render())
            assert f"being edited by t_admin since {since.astimezone():%H:%M}" in title


async def test_the_draft_survives_a_dropped_connection_and_saves_once_it_is_back(admin_session):
    card = make_client()
    app = CardApp("admin", card.id)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.card_screen.query_one("#f-city", Input).focus()
        await pilot.press(*"Омск")
        # The server goes away: the app's connections now lead nowhere.
        session.bind(Target(url="postgresql://t_admin@127.0.0.1:1/nowhere", login="t_admin"))
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "cannot be reached" in str(app.card_screen.query_one("#card-status", Static).render())
        assert app.lost_connection == 1
        assert app.card_screen.query_one("#f-city", Input).value == "Омск"
        bind(admin_session, "admin")  # and it is back
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Saved" in str(app.card_screen.query_one("#card-status", Static).render())
    assert cards.load_card(card.id).draft.city == "Омск"


async def test_the_draft_survives_a_real_server_restart(admin_session):
    card = make_client()
    app = CardApp("admin", card.id)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.card_screen.query_one("#f-city", Input).focus()
        await pilot.press(*"Тула")
        admin_session.server.stop()
        try:
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert app.lost_connection >= 1
            assert app.card_screen.query_one("#f-city", Input).value == "Тула"
        finally:
            admin_session.server.start()
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Saved" in str(app.card_screen.query_one("#card-status", Static).render())
    assert cards.load_card(card.id).draft.city == "Тула"


async def test_the_consent_tab_shows_an_unsubscribed_address_to_a_salesperson(admin_session):
    card = make_client()
    with admin_session.connect("admin", autocommit=True) as conn:
        conn.execute("INSERT INTO suppression (channel, address, reason) VALUES ('email', 'anna.petrova@mail.ru', "
                     "'unsubscribed')")
    bind(admin_session, "sales")
    app = CardApp("sales", card.id)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f9")
        await settle(pilot)
        shown = str(app.card_screen.query_one("#suppressions", Static).render())
    assert "anna.petrova@mail.ru: unsubscribed" in shown
