"""What the administrator does to a whole client, from its row in the list: archive or restore, delete for
good, forget the person. One key (A) opens this small menu, since the list's letters are nearly all taken;
each choice that cannot be undone asks first, naming the client. Dismisses with True when the client changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from db import session
from db.admin import clients as admin_clients
from db.errors import UserError
from db.i18n import N_, t
from screens.base import DatabaseScreen, database_work
from screens.confirm import ConfirmScreen
from tui.widgets.footer import SteadyFooter


class ClientActionsScreen(DatabaseScreen, ModalScreen[bool | None]):
    HELP = N_("Archive hides a client from the list and the mailings until restored. Delete removes the client for "
              "good. Forget erases the person everywhere, the audit log included, on their request; purchases stay, "
              "anonymous.")

    @dataclass
    class StateRead(Message):
        state: admin_clients.ClientState

    @dataclass
    class Done(Message):
        said: str

    CSS_PATH = Path(__file__).with_name("admin.tcss")
    BINDINGS = [
        Binding("a", "archive", t("Archive / restore"), tooltip=t("Hide the client from the list and the "
                                                                  "mailings, or bring an archived one back"),
                id="client-actions.archive"),
        Binding("d", "delete", t("Delete"), tooltip=t("Delete the client and everything of theirs for good"),
                id="client-actions.delete"),
        Binding("f", "forget", t("Forget"), tooltip=t("Erase the person's data everywhere, the audit log "
                                                      "included, on their request"),
                id="client-actions.forget"),
        Binding("escape", "cancel", t("Cancel"), tooltip=t("Cancel"), id="client-actions.cancel"),
    ]

    def __init__(self, client_id: int) -> None:
        super().__init__()
        self.client_id = client_id
        self.state: admin_clients.ClientState | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="client-actions"):
            yield Label(t("Client"), id="client-actions-title", classes="title")
            yield Button(t("A  Archive"), id="archive", disabled=True)
            yield Button(t("D  Delete for good…"), id="delete", disabled=True)
            yield Button(t("F  Forget this person…"), id="forget", disabled=True)
            yield Static("", id="client-actions-status")
        yield SteadyFooter()

    def on_mount(self) -> None:
        self.read_state()

    @database_work(group="client-actions-state")
    def read_state(self) -> StateRead:
        return self.StateRead(session.read(admin_clients.state, self.client_id))

    @on(StateRead)
    def _state_read(self, message: StateRead) -> None:
        self.state = state = message.state
        self.query_one("#client-actions-title", Label).update(state.name)
        archive = self.query_one("#archive", Button)
        archive.label = t("A  Restore to the list") if state.archived_at else t("A  Archive")
        for button in self.query(Button):
            button.disabled = state.forgotten_at is not None and button.id != "delete"
        archive.focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.run_action(event.button.id)

    def action_archive(self) -> None:
        if self.state is None or self.state.forgotten_at is not None:
            return
        archived = self.state.archived_at is None
        self.write(admin_clients.set_archived, archived,
                   t("Archived {name}.", name=self.state.name) if archived
                   else t("{name} is back in the list.", name=self.state.name))

    def action_delete(self) -> None:
        if self.state is None:
            return
        name = self.state.name

        def answered(sure: bool | None) -> None:
            if sure:
                self.write(admin_clients.delete, None, t("Deleted {name}.", name=name))

        self.app.push_screen(ConfirmScreen(
            t("Delete {name}?", name=name),
            t("{name} will be deleted for good, with their contacts, family, purchases and history. "
              "This cannot be undone.", name=name),
            [(t("Delete {name}", name=name), True), (t("Keep"), False)]), answered)

    def action_forget(self) -> None:
        if self.state is None or self.state.forgotten_at is not None:
            return
        name = self.state.name

        def answered(sure: bool | None) -> None:
            if sure:
                self.write(admin_clients.forget, None, t("Forgot the person who was {name}.", name=name))

        self.app.push_screen(ConfirmScreen(
            t("Forget {name}?", name=name),
            t("Everything that names or describes {name} is erased, the audit log included. Their purchases "
              "stay, anonymous, so the analytics still add up. This cannot be undone.", name=name),
            [(t("Forget {name}", name=name), True), (t("Keep"), False)]), answered)

    @database_work(group="client-actions-write")
    def write(self, change, argument: bool | None, said: str) -> Done:
        if argument is None:
            change(self.client_id)
        else:
            change(self.client_id, argument)
        return self.Done(said)

    @on(Done)
    def _done(self, message: Done) -> None:
        self.app.notify(message.said)
        self.dismiss(True)

    def show_user_error(self, error: UserError) -> None:
        self.query_one("#client-actions-status", Static).update(str(error))

    def action_cancel(self) -> None:
        self.dismiss(None)
