"""A small form as a modal, for what the card records at once: a purchase, a subscription, an interaction,
a reminder. The caller gives the fields and a `submit` that validates and writes (in a worker); a refused
value is said beside its field and the form stays open."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from db.errors import UserError, ValidationError
from db.i18n import t
from screens.base import DatabaseScreen, database_work
from tui.widgets.field_grid import Field, FieldGrid, get_text
from tui.widgets.footer import SteadyFooter


class FormScreen(DatabaseScreen, ModalScreen[object]):
    @dataclass
    class Written(Message):
        """What `submit` returned (the new row's id)."""

        result: object

    CSS_PATH = Path(__file__).with_name("card.tcss")
    BINDINGS = [
        Binding("ctrl+s", "submit", t("Add"), tooltip=t("Add"), id="form-submit"),
        Binding("escape", "cancel", t("Cancel"), tooltip=t("Cancel"), id="form-cancel"),
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
                yield Button(t("Add"), id="form-ok", variant="primary")
                yield Button(t("Cancel"), id="form-cancel")
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

    @database_work(group="card-form")
    def _write(self, values: dict[str, str]) -> Written:
        return self.Written(self.submit(values))

    @on(Written)
    def _written(self, message: Written) -> None:
        self.dismiss(message.result)

    def show_user_error(self, error: UserError) -> None:
        self.query_one(FieldGrid).show_errors({error.field: str(error)} if isinstance(error, ValidationError) else {})
        self.query_one("#form-status", Static).update(str(error))
