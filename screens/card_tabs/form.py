"""A labelled field with its validation message beside it, the building block of the card's tabs."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static, TextArea

from db.i18n import t


class FieldRow(Vertical):
    """Label, editor and the reason the value is refused (hidden while the value is fine)."""

    DEFAULT_CSS = """
    FieldRow { height: auto; }
    FieldRow > Horizontal { height: auto; }
    FieldRow Label { width: 16; padding: 0 1 0 0; }
    FieldRow .field-error { color: $error; padding: 0 0 0 16; display: none; }
    FieldRow.-invalid .field-error { display: block; }
    FieldRow TextArea { height: 4; }
    FieldRow Checkbox { width: auto; }
    """

    def __init__(self, name: str, editor: Widget, label: str | None = None) -> None:
        super().__init__(id=f"row-{name.replace('.', '-')}")
        self.field_name = name
        self.editor = editor
        self.label = label if label is not None else t(f"card.f.{name}")

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Label(self.label)
            yield self.editor
        yield Static("", classes="field-error")

    def show_error(self, message: str | None) -> None:
        self.set_class(bool(message), "-invalid")
        self.query_one(".field-error", Static).update(message or "")


def text_input(field: str, placeholder: str = "", **kwargs) -> Input:
    return Input(placeholder=placeholder, compact=True, id=f"f-{field.replace('.', '-')}", **kwargs)


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
