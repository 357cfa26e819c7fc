"""Logins and settings from the app (issue 16): admin only, through db/users.py and db/settings.py, audited."""

from __future__ import annotations

import psycopg
import pytest
from textual.widgets import Input

from db import session, settings
from db.admin import logins
from db.connection import Target
from db.errors import UserError
from db.i18n import t
from screens.admin.logins import LoginsScreen, SettingsScreen
from tests.pilot import screen_text, settle
from tui.app import ClientbaseApp


def _owner_target(db) -> Target:
    """The administrator's app where its owner connection may manage roles, as with the embedded server (the
    superuser) or an administrator who owns the database."""
    return Target(url=db.url(), login="t_admin")


def _audit(db, login: str) -> list[tuple]:
    with db.connect(autocommit=True) as conn:
        return conn.execute("SELECT login, action, new_values FROM audit_log WHERE table_name = 'login'"
                            " AND row_id = %s ORDER BY id", (login,)).fetchall()


@pytest.fixture
def new_login(fresh_db):
    made = []
    yield made
    with fresh_db.connect(autocommit=True) as conn:
        for name in made:
            conn.execute(f'DROP ROLE IF EXISTS "{name}"')


def test_add_reset_and_disable_a_login_each_audited(fresh_db, new_login):
    target = _owner_target(fresh_db)
    new_login.append("anna_t16")
    logins.add_login(target, "t_admin", "anna_t16", "sales", "secret-1")
    found = {login.name: login for login in logins.list_logins(target)}
    assert found["anna_t16"].role == "sales" and found["anna_t16"].can_login
    psycopg.connect(fresh_db.url("anna_t16") + "&password=secret-1" if "?" in fresh_db.url("anna_t16")
                    else fresh_db.url("anna_t16")).close()
    logins.reset_password(target, "t_admin", "anna_t16", "secret-2")
    logins.set_enabled(target, "t_admin", "anna_t16", False)
    assert not {login.name: login for login in logins.list_logins(target)}["anna_t16"].can_login
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(fresh_db.url("anna_t16")).close()
    rows = _audit(fresh_db, "anna_t16")
    assert [(r[0], r[1]) for r in rows] == [("t_admin", "insert"), ("t_admin", "update"), ("t_admin", "update")]
    assert rows[0][2] == {"role": "sales"} and rows[1][2] == {"password": "reset"}
    assert rows[2][2] == {"can_login": False}
    assert "secret" not in str(rows)
    with pytest.raises(UserError):
        logins.set_enabled(target, "t_admin", "t_admin", False)  # nobody locks themselves out


@pytest.mark.parametrize("role", ["admin", "manager", "sales"])
def test_a_connection_that_may_not_manage_roles_is_refused_in_a_sentence(fresh_db, role, new_login):
    """An office server where the login is not the database owner: the database refuses, nothing is written."""
    new_login.append("boris_t16")
    target = fresh_db.target(role)
    with pytest.raises(UserError):
        logins.add_login(target, target.login, "boris_t16", "admin", "pw")
    with pytest.raises(UserError):
        logins.set_enabled(target, target.login, "t_sales", False)
    assert "boris_t16" not in {login.name for login in logins.list_logins(_owner_target(fresh_db))}
    assert _audit(fresh_db, "boris_t16") == []


def test_settings_are_validated_and_audited(admin_session):
    assert settings.set_value("currency", " mdl ") == "MDL"
    with pytest.raises(UserError):
        settings.set_value("send_window", "18:00-10:00")
    with admin_session.connect(autocommit=True) as conn:
        assert conn.execute("SELECT login, action FROM audit_log WHERE table_name = 'settings' AND row_id = 'currency'"
                            ).fetchall() == [("t_admin", "insert")]
    session.bind(admin_session.target("manager"))
    with pytest.raises(UserError):
        settings.set_value("currency", "EUR")


async def test_the_admin_adds_a_login_and_disables_it_from_the_app(fresh_db, new_login):
    new_login.append("vera_t16")
    target = _owner_target(fresh_db)
    session.bind(fresh_db.target("admin"))
    app = ClientbaseApp(target, session.identity(fresh_db.target("admin")), listen=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("tab", "u")
        await settle(pilot)
        assert isinstance(app.screen, LoginsScreen)
        assert "t_sales" in screen_text(app)
        app.screen.query_one("#login-name", Input).focus()
        await pilot.press(*"vera_t16", "tab", "tab", *"pw-vera", "ctrl+s")
        await settle(pilot)
        assert t("Added {login} as {role}.", login="vera_t16", role=t("salesperson")) in screen_text(app)
        await pilot.press("shift+tab", "shift+tab", "shift+tab", "shift+tab")
        table = app.screen.query_one("#logins")
        table.focus()
        table.move_cursor(row=[login.name for login in app.screen.logins].index("vera_t16"))
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert t("{login} can no longer connect.", login="vera_t16") in screen_text(app)
    assert [r[1] for r in _audit(fresh_db, "vera_t16")] == ["insert", "update"]


async def test_the_admin_edits_a_setting_and_a_wrong_value_is_said(admin_session):
    app = ClientbaseApp(admin_session.target("admin"), session.identity(admin_session.target("admin")),
                        listen=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("tab", "o")
        await settle(pilot)
        assert isinstance(app.screen, SettingsScreen)
        await pilot.press("down", "enter")  # the second setting: currency
        await settle(pilot)
        assert app.screen.editing.key == "currency"
        field = app.screen.query_one("#setting-value", Input)
        field.value = ""
        await pilot.press(*"XX", "enter")
        await settle(pilot)
        assert "currency" in screen_text(app) and settings.get("currency") == "RUB"
        field.value = ""
        await pilot.press(*"eur", "ctrl+s")
        await settle(pilot)
        assert settings.get("currency") == "EUR"
        assert t("Saved {key} = {value}.", key="currency", value="EUR") in screen_text(app)


@pytest.mark.parametrize("role", ["manager", "sales"])
async def test_readers_have_no_logins_or_settings_keys(admin_session, role):
    session.bind(admin_session.target(role))
    app = ClientbaseApp(admin_session.target(role), session.identity(admin_session.target(role)), listen=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("tab", "u", "o")
        await settle(pilot)
        assert app.identity.role == role
        assert not isinstance(app.screen, (LoginsScreen, SettingsScreen))


async def test_the_logins_read_with_no_color(fresh_db, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    session.bind(fresh_db.target("admin"))
    app = ClientbaseApp(_owner_target(fresh_db), session.identity(fresh_db.target("admin")), listen=False)
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.no_color
        await settle(pilot)
        await pilot.press("tab", "u")
        await settle(pilot)
        text = screen_text(app)
        assert "t_manager" in text and t("manager") in text and t("May connect") in text
