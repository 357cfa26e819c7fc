"""The administrator's screen for custom fields: the list on top, the selected field's form below.

A field's name is the key its values are stored under, so it is set once, when the field is created;
label, type and choices may change later.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Header, Input, Select, Static

from db.card import custom_fields
from db.card.values import FIELD_TYPES, CustomFieldDef
from db.errors import ConflictError, UserError, ValidationError
from db.i18n import t
from screens.base import DatabaseScreen, database_work
from tui.widgets.field_grid import Field, FieldGrid, set_text
from screens.confirm import ConfirmScreen
from tui.widgets.footer import SteadyFooter


class CustomFieldsScreen(DatabaseScreen, Screen[None]):
    @dataclass
    class Listed(Message):
        definitions: list[CustomFieldDef]

    class Written(Message):
        """A definition was created, changed, moved or deleted."""

    CSS_PATH = Path(__file__).with_name("admin.tcss")
    BINDINGS = [
        Binding("ctrl+s", "save", t("card.fields.update"), tooltip=t("card.fields.update"), id="fields-save"),
        Binding("ctrl+n", "new", t("card.fields.new"), tooltip=t("card.fields.new"), id="fields-new"),
        Binding("ctrl+r", "delete", t("card.fields.delete"), tooltip=t("card.fields.delete"), id="fields-delete"),
        # Off the footer for want of room at 80 columns; in the palette by name.
        Binding("alt+up", "move(-1)", t("card.fields.up"), tooltip=t("card.fields.up"), id="fields-up", show=False),
        Binding("alt+down", "move(1)", t("card.fields.down"), tooltip=t("card.fields.down"), id="fields-down",
                show=False),
        Binding("escape", "close", t("card.key.close"), tooltip=t("card.key.close"), id="fields-close"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.definitions: list[CustomFieldDef] = []
        self.editing: CustomFieldDef | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        table = DataTable(id="fields", cursor_type="row")
        for column in ("name", "label", "type", "choices"):
            table.add_column(t(f"card.fields.{column}"), key=column)
        yield table
        yield FieldGrid(
            Field("name", Input(compact=True, id="field-name", placeholder=t("card.fields.name_hint")),
                  t("card.fields.name")),
            Field("label", Input(compact=True, id="field-label"), t("card.fields.label")),
            Field("type", Select([(t(f"card.fields.type.{kind}"), kind) for kind in FIELD_TYPES],
                                 value="text", allow_blank=False, compact=True, id="field-type"),
                  t("card.fields.type")),
            Field("choices", Input(compact=True, id="field-choices", placeholder=t("card.fields.choices_hint")),
                  t("card.fields.choices")))
        yield Static("", id="fields-status")
        yield SteadyFooter()

    def on_mount(self) -> None:
        self.title = t("card.fields.title")
        self.reload()

    @database_work(group="fields-load")
    def reload(self) -> Listed:
        return self.Listed(custom_fields.list_definitions())

    @database_work(group="fields-write")
    def write(self, action, *args) -> Written:
        action(*args)
        return self.Written()

    @on(Written)
    def _written(self) -> None:
        self.query_one("#fields-status", Static).update("")
        self.reload()

    def worker_failed(self, error: BaseException) -> None:
        if isinstance(error, ConflictError):
            # Another terminal changed the field first: show the list as it is now, with the reason.
            self.query_one(FieldGrid).show_errors({})
            self.query_one("#fields-status", Static).update(t("card.fields.stale"))
            self.reload()
        else:
            super().worker_failed(error)

    def show_user_error(self, error: UserError) -> None:
        self.query_one(FieldGrid).show_errors({error.field: str(error)} if isinstance(error, ValidationError) else {})
        self.query_one("#fields-status", Static).update(str(error))

    @on(Listed)
    def _show(self, message: Listed) -> None:
        self.definitions = definitions = message.definitions
        table = self.query_one("#fields", DataTable)
        table.clear()
        for field in definitions:
            table.add_row(field.name, field.label, t(f"card.fields.type.{field.type}"), ", ".join(field.choices),
                          key=str(field.id))
        if self.editing is not None:
            self.editing = next((f for f in definitions if f.id == self.editing.id), None)
        self._fill(self.editing)

    def _fill(self, field: CustomFieldDef | None) -> None:
        self.editing = field
        name = self.query_one("#field-name", Input)
        set_text(name, field.name if field else "")
        name.disabled = field is not None
        set_text(self.query_one("#field-label", Input), field.label if field else "")
        self.query_one("#field-type", Select).value = field.type if field else "text"
        set_text(self.query_one("#field-choices", Input), ", ".join(field.choices) if field else "")

    @on(DataTable.RowHighlighted, "#fields")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._fill(next((f for f in self.definitions if str(f.id) == event.row_key.value), None))

    def action_new(self) -> None:
        self._fill(None)
        self.query_one("#field-name", Input).focus()

    def action_save(self) -> None:
        label = self.query_one("#field-label", Input).value
        kind = self.query_one("#field-type", Select).value
        choices = [c for c in self.query_one("#field-choices", Input).value.split(",")]
        if self.editing is None:
            self.write(custom_fields.create_definition, self.query_one("#field-name", Input).value, label, kind,
                       choices)
        else:
            self.write(custom_fields.update_definition, self.editing, label, kind, choices)

    def action_delete(self) -> None:
        field = self.editing
        if field is None:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.editing = None
                self.write(custom_fields.delete_definition, field)

        self.app.push_screen(ConfirmScreen(t("card.fields.delete"), t("card.fields.delete_ask", label=field.label),
                                           [(t("card.fields.delete"), True), (t("card.form.cancel"), False)],
                                           cancel=False), answered)

    def action_move(self, offset: int) -> None:
        if self.editing is not None:
            self.write(custom_fields.move_definition, self.editing, offset)

    def action_close(self) -> None:
        self.dismiss(None)
