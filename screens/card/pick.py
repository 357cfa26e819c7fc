"""Choose a client by typing a part of the name: for "referred by" and for the card to merge in."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from db.card import cards
from db.i18n import t
from screens.base import DatabaseScreen, database_work
from tui.widgets.footer import SteadyFooter

NOBODY = (0, "")


class PickClientScreen(DatabaseScreen, ModalScreen[tuple[int, str] | None]):
    """Dismisses with (id, name), with NOBODY when the user clears the choice, or None on Esc."""

    @dataclass
    class Found(Message):
        clients: list[cards.ClientName]

    CSS_PATH = Path(__file__).with_name("card.tcss")
    BINDINGS = [
        Binding("escape", "cancel", t("Cancel"), tooltip=t("Cancel"), id="pick-cancel"),
        Binding("down", "to_list", show=False, id="pick-down"),
    ]

    def __init__(self, title: str, exclude: int | None, allow_nobody: bool = True) -> None:
        super().__init__()
        self.pick_title = title
        self.exclude = exclude
        self.allow_nobody = allow_nobody
        self.found: dict[int, str] = {}

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.pick_title)
            yield Input(placeholder=t("Type a part of the name"), id="pick-text")
            yield OptionList(id="pick-list")
        yield SteadyFooter()

    def on_mount(self) -> None:
        self._fill([])

    @on(Found)
    def _found(self, message: Found) -> None:
        self._fill(message.clients)

    def _fill(self, found: list[cards.ClientName]) -> None:
        listing = self.query_one("#pick-list", OptionList)
        listing.clear_options()
        if self.allow_nobody:
            listing.add_option(Option(t("No one"), id="0"))
        listing.add_options([Option(f"#{client.id}  {client.name}", id=str(client.id)) for client in found])
        self.found = {client.id: client.name for client in found}

    @on(Input.Changed, "#pick-text")
    def _search(self, event: Input.Changed) -> None:
        self.search(event.value)

    @database_work(group="card-pick")
    def search(self, text: str) -> Found:
        return self.Found(cards.pick_clients(text, exclude=self.exclude))

    def action_to_list(self) -> None:
        self.query_one("#pick-list", OptionList).focus()

    @on(Input.Submitted, "#pick-text")
    def _first(self) -> None:
        if self.found:
            self.choose(next(iter(self.found.items())))

    @on(OptionList.OptionSelected, "#pick-list")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        client_id = int(event.option.id)
        self.choose(NOBODY if client_id == 0 else (client_id, self.found[client_id]))

    def choose(self, choice: tuple[int, str]) -> None:
        self.dismiss(choice)

    def action_cancel(self) -> None:
        self.dismiss(None)
