"""The app's modes (tui/modes.py): each main screen is a Textual mode with a key in the header, and a role that
may not open a mode never sees its key."""

from __future__ import annotations

import pytest
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Input, Label

from db import session
from db.i18n import t
from db.session import Identity
from screens.clients.screen import ClientsScreen
from tests.pilot import screen_lines, settle, shown_mode_label
from tui import modes
from tui.app import ClientbaseApp
from tui.widgets.app_header import AppHeader

AUDIT_LABEL = "Audit trail"


class AuditForTheTest(Screen):
    def __init__(self, identity: Identity) -> None:
        super().__init__()
        self.identity = identity

    def compose(self) -> ComposeResult:
        yield AppHeader()
        yield Label(f"audit of {self.identity.login}", id="audit-body")
        yield Footer()


@pytest.fixture
def admin_only_mode():
    """An audit mode only the administrator may open, registered as the product will register it."""
    mode = modes.register(modes.Mode("test_audit", "f12", AuditForTheTest, frozenset({"admin"}),
                                     label=AUDIT_LABEL, tooltip="Who changed what"))
    yield mode
    modes.unregister(mode.name)


def make_app(db, role: str) -> ClientbaseApp:
    target = db.target(role)
    session.bind(target)
    return ClientbaseApp(target, session.identity(target), listen=False)


def header(app: ClientbaseApp) -> str:
    return screen_lines(app)[0]


async def test_the_administrator_sees_the_audit_key_and_goes_there_and_back(fresh_db, admin_only_mode):
    app = make_app(fresh_db, "admin")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.current_mode == "clients" and isinstance(app.screen, ClientsScreen)
        assert f"f12 {AUDIT_LABEL}" in header(app)
        assert shown_mode_label(app) == f"^l {t('Clients')}", "the mode on screen is marked"
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert AUDIT_LABEL in titles and t("Clients") not in titles, "the palette offers the other modes"
        await pilot.press(*"Петр")
        await settle(pilot)
        await pilot.press("f12")
        await settle(pilot)
        assert app.current_mode == "test_audit"
        assert "audit of t_admin" in "\n".join(screen_lines(app))
        assert f"^l {t('Clients')}" in header(app) and shown_mode_label(app) == f"f12 {AUDIT_LABEL}"
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert app.current_mode == "clients"
        assert app.screen.query_one("#search", Input).value == "Петр", "a mode keeps its screen while away"


async def test_a_salesperson_never_sees_a_mode_restricted_to_the_administrator(fresh_db, admin_only_mode):
    app = make_app(fresh_db, "sales")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.current_mode == "clients"
        assert AUDIT_LABEL not in header(app)
        assert "f12" not in app.screen.active_bindings
        await pilot.press("f12")
        await settle(pilot)
        assert app.current_mode == "clients" and isinstance(app.screen, ClientsScreen)
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert AUDIT_LABEL not in titles


async def test_every_role_that_reads_clients_starts_on_the_clients_mode(fresh_db):
    for role in ("admin", "manager", "sales"):
        app = make_app(fresh_db, role)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            assert app.current_mode == "clients" and isinstance(app.screen, ClientsScreen), role


def test_a_mode_key_or_name_taken_twice_is_refused():
    registered = set(modes.REGISTRY)
    with pytest.raises(ValueError, match="ctrl\\+l"):
        modes.register(modes.Mode("elsewhere", "ctrl+l", AuditForTheTest, frozenset({"admin"})))
    with pytest.raises(ValueError, match="clients"):
        modes.register(modes.Mode("clients", "f11", AuditForTheTest, frozenset({"admin"})))
    assert set(modes.REGISTRY) == registered
