"""Labelled fields with their validation messages, the building block of the card's tabs and forms."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static, TextArea

from db.i18n import t
from db import labels


@dataclass(frozen=True)
class Field:
    """One labelled editor of a form; the label defaults to the card's own name for the field."""

    name: str
    editor: Widget
    label: str = ""


class FieldGrid(Widget):
    """Labels and editors in two columns, and below an editor the reason its value is refused, when there
    is one. A flat grid rather than a container per row: Textual lays out and paints every widget of a
    screen the first time it is shown, and a card's Main tab alone has sixteen fields. Other widgets given
    among the fields (a note, a heading) span both columns."""

    DEFAULT_CSS = """
    FieldGrid { layout: grid; grid-size: 2; grid-columns: 16 1fr; grid-rows: auto; height: auto; }
    FieldGrid > .field-label { height: 1; padding: 0 1 0 0; }
    FieldGrid > .wide, FieldGrid > .field-error { column-span: 2; }
    FieldGrid > .field-error { height: auto; color: $error; padding: 0 0 0 16; }
    FieldGrid > Input, FieldGrid > Select { width: 1fr; }
    FieldGrid > TextArea { height: 4; }
    FieldGrid > Checkbox { width: auto; }
    """

    def __init__(self, *items: Field | Widget, id: str | None = None) -> None:
        super().__init__(id=id)
        self.items = items
        self.fields = {item.name: item for item in items if isinstance(item, Field)}
        self.shown_errors: dict[str, Static] = {}

    def compose(self) -> ComposeResult:
        for item in self.items:
            if isinstance(item, Field):
                yield Label(item.label or t(labels.CARD_F[item.name]), classes="field-label")
                yield item.editor
            else:
                item.add_class("wide")
                yield item

    def show_errors(self, errors: Mapping[str, str]) -> None:
        """Shows each field's reason from `errors` and takes away the reasons of fields not in it."""
        for name in self.fields:
            self.show_error(name, errors.get(name))

    def show_error(self, name: str, message: str | None) -> None:
        shown = self.shown_errors.get(name)
        if message and shown is not None:
            shown.update(message)
        elif message:
            # The reason's widget is made only when needed: a card has dozens of fields and few errors.
            self.shown_errors[name] = Static(message, classes="field-error")
            self.mount(self.shown_errors[name], after=self.fields[name].editor)
        elif shown is not None:
            del self.shown_errors[name]
            shown.remove()

    def error(self, name: str) -> str:
        shown = self.shown_errors.get(name)
        return str(shown.render()) if shown is not None else ""


def text_input(field: str, placeholder: str = "", **kwargs) -> Input:
    # Validation is the card's own (cards.check, shown by FieldGrid); Textual's would only restyle each
    # input as -valid on every change.
    return Input(placeholder=placeholder, compact=True, id=f"f-{field.replace('.', '-')}", validate_on=(),
                 **kwargs)


def date_hint(day_first: bool) -> str:
    """The placeholder of an empty date: the format to type, which no one can take for a date on file."""
    return t("dd.mm.yyyy") if day_first else t("yyyy-mm-dd")


def get_text(widget: Widget) -> str:
    if isinstance(widget, TextArea):
        return widget.text
    if isinstance(widget, Select):
        return "" if widget.value is Select.NULL else str(widget.value)
    return widget.value


def set_text(widget: Widget, value: str) -> None:
    """Sets an editor's value without announcing it as the user's change (the card is being shown)."""
    with widget.prevent(Input.Changed, Select.Changed, TextArea.Changed):
        if isinstance(widget, TextArea):
            widget.load_text(value)
        elif isinstance(widget, Select):
            widget.value = value if value else Select.NULL
        else:
            widget.value = value
