"""A question with a few answers, as a modal: discard unsaved changes, a possible duplicate, a merge."""

from __future__ import annotations

from pathlib import Path
from typing import Generic, TypeVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from db.i18n import t
from tui.widgets.footer import SteadyFooter

Answer = TypeVar("Answer")


class ConfirmScreen(ModalScreen[Answer], Generic[Answer]):
    """Dismisses with the value of the chosen answer; Esc gives `cancel`, the last answer's value by default."""

    CSS_PATH = Path(__file__).with_name("confirm.tcss")
    BINDINGS = [Binding("escape", "cancel", t("Cancel"), tooltip=t("Cancel"),
                        id="confirm-cancel")]

    def __init__(self, title: str, body: str, answers: list[tuple[str, Answer]], cancel: Answer | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.body = body
        self.answers = answers
        self.cancel_value = answers[-1][1] if cancel is None else cancel

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, classes="title")
            yield Static(self.body, id="confirm-body")
            with Horizontal():
                for index, (label, _) in enumerate(self.answers):
                    yield Button(label, id=f"answer-{index}", variant="primary" if index == 0 else "default")
        yield SteadyFooter()

    def on_mount(self) -> None:
        self.query_one("#answer-0", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        index = int(event.button.id.removeprefix("answer-"))
        self.dismiss(self.answers[index][1])

    def action_cancel(self) -> None:
        self.dismiss(self.cancel_value)
