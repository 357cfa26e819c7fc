"""Logins and settings, for the administrator (the clients list's U and O keys; no other role sees them).

Logins: the list of logins with their role and whether they may connect; the form below adds one (Ctrl+S),
and for the selected login Ctrl+E sets the password typed in the form and Ctrl+R disables or enables it.
Settings: every setting of db/settings.py with its value and what it means; Enter (or the box below) edits the
selected one, Ctrl+S saves it through the setting's own validation. Each change is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Input, Select, Static

from db import session, settings, users
from db.admin import logins
from db.errors import UserError
from db.i18n import N_, t
from db.session import Identity
from screens.base import DatabaseScreen, database_work
from tui.widgets.field_grid import Field, FieldGrid, set_text
from tui.widgets.app_header import AppHeader
from tui.widgets.footer import SteadyFooter
from db import labels


class LoginsScreen(DatabaseScreen, Screen[None]):
    HELP = N_("Who may connect, and with which role: administrator, manager, salesperson or mail delivery. "
              "Add a login with a password, give one a new password, or stop one from connecting. Every change "
              "is in the audit log.")

    @dataclass
    class Listed(Message):
        logins: list[users.Login]

    @dataclass
    class Done(Message):
        said: str

    CSS_PATH = Path(__file__).with_name("admin.tcss")

    BINDINGS = [
        Binding("ctrl+s", "add", t("Add login"), tooltip=t("Create the login of the form with its role and "
                                                           "password"), id="logins-add"),
        Binding("ctrl+e", "reset_password", t("Set password"), tooltip=t("Give the selected login the password "
                                                                         "typed in the form"),
                id="logins-password"),
        Binding("ctrl+r", "toggle_login", t("Disable / enable"), tooltip=t("Stop the selected login from "
                                                                           "connecting, or let it again"),
                id="logins-toggle"),
        Binding("escape", "close", t("Close"), tooltip=t("Back to the clients"), id="logins-close"),
    ]

    def __init__(self, identity: Identity) -> None:
        super().__init__()
        self.identity = identity
        self.logins: list[users.Login] = []

    def compose(self) -> ComposeResult:
        yield AppHeader()
        table = DataTable(id="logins", cursor_type="row", zebra_stripes=True)
        for key, title, width in (("name", t("Login"), 30), ("role", t("Role"), 20), ("state", t("May connect"), 14)):
            table.add_column(title, key=key, width=width)
        yield table
        yield FieldGrid(
            Field("login", Input(compact=True, id="login-name", placeholder=t("a new login, such as anna")),
                  t("Login")),
            Field("role", Select([(t(labels.ROLE[role]), role) for role in users.ROLES], value="sales",
                                 allow_blank=False, compact=True, id="login-role"), t("Role")),
            Field("password", Input(compact=True, password=True, id="login-password"), t("Password")))
        yield Static("", id="logins-status")
        yield SteadyFooter()

    def on_mount(self) -> None:
        self.title = t("Logins")
        self.reload()

    @property
    def target(self):
        return self.app.target

    @database_work(group="logins-load")
    def reload(self) -> Listed:
        return self.Listed(logins.list_logins(self.target))

    @on(Listed)
    def _show(self, message: Listed) -> None:
        self.logins = message.logins
        table = self.query_one("#logins", DataTable)
        table.clear()
        for login in self.logins:
            role = t(labels.ROLE[login.role]) if login.role in labels.ROLE else (login.role or "")
            table.add_row(login.name, role, t("yes") if login.can_login else t("no"), key=login.name)

    def _selected(self) -> users.Login | None:
        table = self.query_one("#logins", DataTable)
        if table.row_count == 0:
            return None
        name = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((login for login in self.logins if login.name == name), None)

    def _password(self) -> str:
        return self.query_one("#login-password", Input).value

    def action_add(self) -> None:
        name = self.query_one("#login-name", Input).value.strip()
        role = str(self.query_one("#login-role", Select).value)
        self.write(logins.add_login, name, role, self._password(),
                   said=t("Added {login} as {role}.", login=name, role=t(labels.ROLE[role])))

    def action_reset_password(self) -> None:
        chosen = self._selected()
        if chosen is not None:
            self.write(logins.reset_password, chosen.name, self._password(),
                       said=t("Password changed for {login}.", login=chosen.name))

    def action_toggle_login(self) -> None:
        chosen = self._selected()
        if chosen is not None:
            enabled = not chosen.can_login
            self.write(logins.set_enabled, chosen.name, enabled,
                       said=t("{login} may connect again.", login=chosen.name) if enabled
                       else t("{login} can no longer connect.", login=chosen.name))

    @database_work(group="logins-write")
    def write(self, change, *args, said: str) -> Done:
        change(self.target, self.identity.login, *args)
        return self.Done(said)

    @on(Done)
    def _done(self, message: Done) -> None:
        self.query_one("#logins-status", Static).update(message.said)
        set_text(self.query_one("#login-password", Input), "")
        self.reload()

    def show_user_error(self, error: UserError) -> None:
        self.query_one("#logins-status", Static).update(str(error))

    def action_close(self) -> None:
        self.dismiss(None)


class SettingsScreen(DatabaseScreen, Screen[None]):
    HELP = N_("The shop's settings. Choose one, type its new value below and save: a value the setting cannot take is "
              "refused with the reason. Every change is in the audit log.")

    @dataclass
    class Listed(Message):
        values: list[settings.SettingValue]

    @dataclass
    class Saved(Message):
        key: str
        value: str

    CSS_PATH = Path(__file__).with_name("admin.tcss")
    BINDINGS = [
        Binding("ctrl+s", "save", t("Save"), tooltip=t("Save the selected setting (after checking the value)"),
                id="settings-save"),
        Binding("escape", "close", t("Close"), tooltip=t("Back to the clients"), id="settings-close"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.values: list[settings.SettingValue] = []
        self.editing: settings.SettingValue | None = None

    def compose(self) -> ComposeResult:
        yield AppHeader()
        table = DataTable(id="settings", cursor_type="row", zebra_stripes=True)
        for key, title, width in (("key", t("Setting"), 24), ("value", t("Value"), 48)):
            table.add_column(title, key=key, width=width)
        yield table
        yield Static("", id="setting-description")
        yield Input(compact=True, id="setting-value")
        yield Static("", id="settings-status")
        yield SteadyFooter()

    def on_mount(self) -> None:
        self.title = t("Settings")
        self.reload()

    @database_work(group="settings-load")
    def reload(self) -> Listed:
        return self.Listed(session.read(settings.list_settings))

    @on(Listed)
    def _show(self, message: Listed) -> None:
        self.values = message.values
        table = self.query_one("#settings", DataTable)
        row = table.cursor_row
        table.clear()
        for value in self.values:
            table.add_row(value.key, value.value, key=value.key)
        if self.values:
            table.move_cursor(row=min(row, len(self.values) - 1))
            self._fill(self.values[table.cursor_row])

    def _fill(self, value: settings.SettingValue) -> None:
        self.editing = value
        self.query_one("#setting-description", Static).update(
            t("{description} · default: {default}", description=t(value.description), default=value.default or "—"))
        set_text(self.query_one("#setting-value", Input), value.value)

    @on(DataTable.RowHighlighted, "#settings")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        chosen = next((v for v in self.values if v.key == event.row_key.value), None)
        if chosen is not None:
            self._fill(chosen)

    @on(DataTable.RowSelected, "#settings")
    def _selected(self) -> None:
        self.query_one("#setting-value", Input).focus()

    @on(Input.Submitted, "#setting-value")
    def _submitted(self) -> None:
        self.action_save()

    def action_save(self) -> None:
        if self.editing is not None:
            self.save(self.editing.key, self.query_one("#setting-value", Input).value)

    @database_work(group="settings-write")
    def save(self, key: str, value: str) -> Saved:
        return self.Saved(key, settings.set_value(key, value))

    @on(Saved)
    def _saved(self, message: Saved) -> None:
        self.query_one("#settings-status", Static).update(t("Saved {key} = {value}.", key=message.key,
                                                            value=message.value))
        self.query_one("#settings", DataTable).focus()
        self.reload()

    def show_user_error(self, error: UserError) -> None:
        self.query_one("#settings-status", Static).update(str(error))

    def action_close(self) -> None:
        self.dismiss(None)
