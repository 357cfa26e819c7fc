"""The administrator's new reminder: due date, text and assignee, for the client highlighted on Today (if any)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from db.i18n import t


@dataclass(frozen=True)
class NewReminder:
    due_on: date
    text: str
    assignee: str
    client_id: int | None


class ReminderDialog(ModalScreen[NewReminder | None]):
    """Enter in any box adds the reminder; Esc cancels."""

    CSS_PATH = Path(__file__).with_name("today.tcss")
    BINDINGS = [Binding("escape", "cancel", t("Cancel"), tooltip=t("Close without adding a reminder"),
                        id="today.reminder.cancel")]

    def __init__(self, today: date, client_id: int | None, client_name: str, assignee: str) -> None:
        super().__init__()
        self.today = today
        self.client_id = client_id
        self.client_name = client_name
        self.assignee = assignee

    def compose(self) -> ComposeResult:
        with Vertical(id="reminder-dialog", classes="clients-dialog"):
            title = t("New reminder for {client}", client=self.client_name) if self.client_id is not None \
                else t("New reminder")
            yield Static(title, classes="clients-dialog-title")
            with Horizontal(classes="reminder-row"):
                yield Label(t("Due (YYYY-MM-DD)"), classes="reminder-label")
                yield Input(self.today.isoformat(), id="reminder-due", compact=True, restrict=r"[0-9-]*")
            with Horizontal(classes="reminder-row"):
                yield Label(t("Text"), classes="reminder-label")
                yield Input("", id="reminder-text", compact=True)
            with Horizontal(classes="reminder-row"):
                yield Label(t("Assignee (login)"), classes="reminder-label")
                yield Input(self.assignee, id="reminder-assignee", compact=True)
            yield Static("", id="reminder-error")
            yield Static(t("Enter adds · Esc cancels"), classes="clients-dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#reminder-text", Input).focus()

    def on_input_submitted(self) -> None:
        typed = self.query_one("#reminder-due", Input).value.strip()
        try:
            due_on = date.fromisoformat(typed)
        except ValueError:
            self._say(t("The date is written as YYYY-MM-DD, not “{value}”.", value=typed))
            return
        text = self.query_one("#reminder-text", Input).value.strip()
        if not text:
            self._say(t("Say what to do: the text is empty."))
            return
        self.dismiss(NewReminder(due_on, text, self.query_one("#reminder-assignee", Input).value.strip(),
                                 self.client_id))

    def _say(self, sentence: str) -> None:
        self.query_one("#reminder-error", Static).update(sentence)

    def action_cancel(self) -> None:
        self.dismiss(None)
