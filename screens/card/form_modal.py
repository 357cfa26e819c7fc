"""A small form as a modal, for what the card records at once: a purchase, a subscription, an interaction,
a reminder. The caller gives the fields and a `submit` that validates and writes (in a worker); a refused
value is said beside its field and the form stays open."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static
from textual.worker import Worker, WorkerState

from db.errors import UserError, ValidationError
from db.i18n import t
from tui.widgets.field_grid import Field, FieldGrid, get_text
from tui.widgets.footer import SteadyFooter


class FormScreen(ModalScreen[object]):
    CSS_PATH = Path(__file__).with_name("card.tcss")
    BINDINGS = [
        Binding("ctrl+s", "submit", t("card.form.ok"), tooltip=t("card.form.ok"), id="form-submit"),
        Binding("escape", "cancel", t("card.form.cancel"), tooltip=t("card.form.cancel"), id="form-cancel"),
    ]

    def __init__(self, title: str, fields: list[Field], submit: Callable[[dict[str, str]], object]) -> None:
        super().__init__()
        self.form_title = title
        self.fields = fields
        self.submit = submit

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Label(self.form_title, classes="title")
            yield FieldGrid(*self.fields)
            yield Static("", id="form-status")
            with Horizontal(classes="buttons"):
                yield Button(t("card.form.ok"), id="form-ok", variant="primary")
                yield Button(t("card.form.cancel"), id="form-cancel")
        yield SteadyFooter()

    def on_mount(self) -> None:
        self.fields[0].editor.focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "form-ok":
            self.action_submit()
        else:
            self.action_cancel()

    def action_submit(self) -> None:
        self._write({field.name: get_text(field.editor) for field in self.fields})

    def action_cancel(self) -> None:
        self.dismiss(None)

    @work(thread=True, exclusive=True, group="card-form", exit_on_error=False)
    def _write(self, values: dict[str, str]) -> object:
        return self.submit(values)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "card-form":
            return
        if event.state == WorkerState.SUCCESS:
            self.dismiss(event.worker.result)
        elif event.state == WorkerState.ERROR:
            error = event.worker.error
            self.query_one(FieldGrid).show_errors(
                {error.field: str(error)} if isinstance(error, ValidationError) else {})
            self.query_one("#form-status", Static).update(str(error) if isinstance(error, UserError)
                                                          else f"{type(error).__name__}: {error}")
