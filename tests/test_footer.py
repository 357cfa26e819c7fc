"""The footer (tui/widgets/footer.py): the app's mode keys stay on screen at 80 columns, however many keys the
screen itself shows."""

from __future__ import annotations

import pytest

from db import session
from db.i18n import t
from screens.clients.screen import ClientsScreen
from tests.pilot import screen_lines, settle
from tui.app import ClientbaseApp


@pytest.mark.parametrize("role", ["admin", "manager", "sales"])
async def test_the_clients_screen_shows_the_dashboard_key_at_80_columns(fresh_db, role):
    target = fresh_db.target(role)
    session.bind(target)
    app = ClientbaseApp(target, session.identity(target), listen=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ClientsScreen)
        # From the search box to the list, where the screen shows the most keys of its own.
        await pilot.press("tab")
        await settle(pilot)
        footer = screen_lines(app)[-1]
        assert f"^y {t('Dashboard')}" in footer
        await pilot.press("ctrl+y")
        await settle(pilot)
        assert app.current_mode == "dashboard"
