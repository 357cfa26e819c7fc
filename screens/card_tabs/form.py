"""A labelled field with its validation message beside it, the building block of the card's tabs."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static, TextArea

from db.i18n import t


class FieldRow(Widget):
    """Label and editor side by side; the reason a value is refused appears below them when there is one.
    The reason's widget is made only when needed: a card has dozens of rows and few errors."""

    DEFAULT_CSS = """
    /* A fixed height spares Textual arranging every row's grid to measure it, each time a card is shown;
       only a row showing a reason, which may wrap, is measured. */
    FieldRow { layout: grid; grid-size: 2; grid-columns: 16 1fr; grid-rows: auto; height: 1; }
    FieldRow.-tall { height: 4; }
    FieldRow.-with-error { height: auto; }
    FieldRow > Label { padding: 0 1 0 0; }
    FieldRow > .field-error { column-span: 2; color: $error; padding: 0 0 0 16; }
    FieldRow TextArea { height: 4; }
    FieldRow Checkbox { width: auto; }
    """

    def __init__(self, name: str, editor: Widget, label: str | None = None) -> None:
        super().__init__(id=f"row-{name.replace('.', '-')}")
        self.field_name = name
        self.editor = editor
        self.label = label if label is not None else t(f"card.f.{name}")
        self.set_class(isinstance(editor, TextArea), "-tall")

    def compose(self) -> ComposeResult:
        yield Label(self.label)
        yield self.editor

    def show_error(self, message: str | None) -> None:
        self.set_class(bool(message), "-with-error")
        shown = self.query_children(".field-error")
        if message and shown:
            shown.first(Static).update(message)
        elif message:
            self.mount(Static(message, classes="field-error"))
        else:
            shown.remove()

    @property
    def error(self) -> str:
        shown = self.query_children(".field-error")
        return str(shown.first(Static).render()) if shown else ""


def text_input(field: str, placeholder: str = "", **kwargs) -> Input:
    # Validation is the card's own (cards.check, shown by FieldRow); Textual's would only restyle each
    # input as -valid on every change.
    return Input(placeholder=placeholder, compact=True, id=f"f-{field.replace('.', '-')}", validate_on=(),
                 **kwargs)


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
