"""The top and bottom lines at 80 columns: the header (tui/widgets/app_header.py) shows every mode the login may
open with its key and marks the shown one; the footer (tui/widgets/footer.py) leads with F1 and then gives its
width to the screen's own keys."""

from __future__ import annotations

import pytest

from db import session
from db.i18n import t
from screens.clients.screen import ClientsScreen
from tests.pilot import screen_lines, settle, shown_mode_label
from tui.app import ClientbaseApp
from tui.widgets.app_header import AppHeader


@pytest.mark.parametrize("role", ["admin", "manager", "sales"])
async def test_the_header_shows_the_modes_and_the_footer_the_screens_keys_at_80_columns(fresh_db, role):
    target = fresh_db.target(role)
    session.bind(target)
    app = ClientbaseApp(target, session.identity(target), listen=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ClientsScreen)
        # From the search box to the list, where the screen shows the most keys of its own.
        await pilot.press("tab")
        await settle(pilot)
        header, footer = screen_lines(app)[0], screen_lines(app)[-1]
        assert f"^y {t('Dashboard')}" in header and f"^t {t('Today')}" in header
        assert (f"^o {t('Audit')}" in header) == (role != "sales")
        assert shown_mode_label(app) == f"^l {t('Clients')}"
        assert footer.startswith(f"f1 {t('Help')}")
        assert "^y" not in footer
        assert f"s {t('Sort')}" in footer and f"g {t('Segments')}" in footer
        if role == "sales":
            assert t("read-only") in header
        await pilot.press("ctrl+y")
        await settle(pilot)
        assert app.current_mode == "dashboard"
        assert shown_mode_label(app) == f"^y {t('Dashboard')}"


async def test_a_click_on_a_mode_in_the_header_opens_it(fresh_db):
    target = fresh_db.target("admin")
    session.bind(target)
    app = ClientbaseApp(target, session.identity(target), listen=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        header = screen_lines(app)[0]
        await pilot.click(AppHeader, offset=(header.index(t("Today")), 0))
        await settle(pilot)
        assert app.current_mode == "today"


async def test_a_mode_key_the_card_takes_for_itself_is_not_drawn_in_the_header(fresh_db):
    target = fresh_db.target("admin")
    session.bind(target)
    app = ClientbaseApp(target, session.identity(target), listen=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("tab", "n")
        await settle(pilot)
        assert type(app.screen).__name__ == "CardScreen"
        header = screen_lines(app)[0]
        # On the card's main tab Ctrl+O is "Referred by", so Audit is named without a key there.
        assert f"^o {t('Audit')}" not in header and t("Audit") in header
        assert f"^y {t('Dashboard')}" in header
        assert shown_mode_label(app) == f"^l {t('Clients')}"
