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
from textual.widgets import DataTable, Input, Select, Static

from db.card import custom_fields
from db.card.values import FIELD_TYPES, CustomFieldDef
from db.errors import ConflictError, UserError, ValidationError
from db.i18n import t
from screens.base import DatabaseScreen, database_work
from tui.widgets.field_grid import Field, FieldGrid, set_text
from screens.confirm import ConfirmScreen
from tui.widgets.app_header import AppHeader
from tui.widgets.footer import SteadyFooter
from db import labels


class CustomFieldsScreen(DatabaseScreen, Screen[None]):
    @dataclass
    class Listed(Message):
        definitions: list[CustomFieldDef]

    class Written(Message):
        """A definition was created, changed, moved or deleted."""

    CSS_PATH = Path(__file__).with_name("admin.tcss")
    BINDINGS = [
        Binding("ctrl+s", "save", t("Save field"), tooltip=t("Save field"), id="fields-save"),
        Binding("ctrl+n", "new", t("New field"), tooltip=t("New field"), id="fields-new"),
        Binding("ctrl+r", "delete", t("Delete field"), tooltip=t("Delete field"), id="fields-delete"),
        # Off the footer for want of room at 80 columns; in the palette by name.
        Binding("alt+up", "move(-1)", t("Move up"), tooltip=t("Move up"), id="fields-up", show=False),
        Binding("alt+down", "move(1)", t("Move down"), tooltip=t("Move down"), id="fields-down",
                show=False),
        Binding("escape", "close", t("Close"), tooltip=t("Close"), id="fields-close"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.definitions: list[CustomFieldDef] = []
        self.editing: CustomFieldDef | None = None

    def compose(self) -> ComposeResult:
        yield AppHeader()
        table = DataTable(id="fields", cursor_type="row")
        for column in ("name", "label", "type", "choices"):
            table.add_column(t(labels.CARD_FIELDS[column]), key=column)
        yield table
        yield FieldGrid(
            Field("name", Input(compact=True, id="field-name", placeholder=t("the key of the stored values: a-z, 0-9 "
                                                                             "and _")),
                  t("Name")),
            Field("label", Input(compact=True, id="field-label"), t("Label")),
            Field("type", Select([(t(labels.CARD_FIELDS_TYPE[kind]), kind) for kind in FIELD_TYPES],
                                 value="text", allow_blank=False, compact=True, id="field-type"),
                  t("Type")),
            Field("choices", Input(compact=True, id="field-choices", placeholder=t("for a choice field: "
                                                                                   "comma-separated")),
                  t("Choices")))
        yield Static("", id="fields-status")
        yield SteadyFooter()

    def on_mount(self) -> None:
        self.title = t("Custom fields")
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
            self.query_one("#fields-status", Static).update(t("Someone changed this field a moment ago; it now shows "
                                                              "their version."))
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
            table.add_row(field.name, field.label, t(labels.CARD_FIELDS_TYPE[field.type]), ", ".join(field.choices),
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

        self.app.push_screen(ConfirmScreen(t("Delete field"), t("Delete the field '{label}'? Values already "
                                                                      "typed into cards are kept and come back if a "
                                                                      "field of the "
                                                                      "same name is created again.", label=field.label),
                                           [(t("Delete field"), True), (t("Cancel"), False)],
                                           cancel=False), answered)

    def action_move(self, offset: int) -> None:
        if self.editing is not None:
            self.write(custom_fields.move_definition, self.editing, offset)

    def action_close(self) -> None:
        self.dismiss(None)
