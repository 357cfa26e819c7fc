"""Saved segments: pick one to load its search and filters, rename or delete one (administrator), or name
the current search and filters to save them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from db import session
from db.clients import segments
from db.errors import UserError
from db.i18n import N_, t
from screens.base import DatabaseScreen, database_work
from screens.confirm import ConfirmScreen
from tui.widgets.footer import SteadyFooter

WRITE_ACTIONS = {"rename", "delete"}


class SegmentPicker(DatabaseScreen, ModalScreen[segments.SegmentInfo | None]):
    """Lists the saved segments with the first one highlighted, so that Enter loads it at once. Renaming
    and deleting are offered to those who may write (the database refuses everyone else anyway)."""

    @dataclass
    class Listed(Message):
        saved: list[segments.SegmentInfo]
        highlight_id: int | None
        refusal: str

    @dataclass
    class Written(Message):
        said: str
        highlight_id: int | None

    CSS_PATH = Path(__file__).with_name("clients.tcss")
    BINDINGS = [
        Binding("escape", "cancel", t("Cancel"), tooltip=t("Close without loading a segment"),
                id="segments.cancel"),
        Binding("r", "rename", t("Rename"), tooltip=t("Give the highlighted segment another name"),
                id="segments.rename"),
        Binding("delete", "delete", t("Delete"), tooltip=t("Delete the highlighted segment, "
                                                                                "after asking"),
                id="segments.delete"),
    ]

    def __init__(self, can_write: bool = False) -> None:
        super().__init__()
        self.can_write = can_write
        self.saved: dict[str, segments.SegmentInfo] = {}

    def compose(self) -> ComposeResult:
        with Vertical(id="segments-dialog", classes="clients-dialog"):
            yield Static(t("Segments"), classes="clients-dialog-title")
            yield OptionList(id="segment-list")
            yield Static(t("Loading…"), id="segments-note", classes="clients-dialog-hint")
        yield SteadyFooter()

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()
        self._load()

    @property
    def highlighted(self) -> segments.SegmentInfo | None:
        options = self.query_one(OptionList)
        if options.highlighted is None or not self.saved:
            return None
        return self.saved.get(options.get_option_at_index(options.highlighted).id)

    @database_work(group="segments-list")
    def _load(self, highlight_id: int | None = None, refusal: str = "") -> Listed:
        return self.Listed(session.read(segments.list_segments), highlight_id, refusal)

    @on(Listed)
    def _loaded(self, message: Listed) -> None:
        saved, highlight_id, refusal = message.saved, message.highlight_id, message.refusal
        self.saved = {str(s.id): s for s in saved}
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options([Option(s.name, id=str(s.id)) for s in saved])
        if saved:
            ids = [s.id for s in saved]
            options.highlighted = ids.index(highlight_id) if highlight_id in ids else 0
        hint = (N_("Enter loads · r renames · Del deletes · Esc closes") if self.can_write
                else N_("Enter loads the segment · Esc closes"))
        if refusal:
            self._note(refusal, error=True)
        else:
            self._note(t(hint) if saved else t("No segment has been saved yet."))
        self.refresh_bindings()

    def _note(self, text: str, error: bool = False) -> None:
        note = self.query_one("#segments-note", Static)
        note.set_class(error, "-error")
        note.update(text)

    def show_user_error(self, error: UserError) -> None:
        # Shown over the list as it is now: another terminal may have renamed or deleted the segment.
        current = self.highlighted
        self._load(current.id if current is not None else None, str(error))

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.saved[event.option.id])

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in WRITE_ACTIONS:
            return self.can_write and bool(self.saved)
        return True

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_rename(self) -> None:
        segment = self.highlighted
        if segment is None:
            return

        def named(name: str | None) -> None:
            if name and name != segment.name:
                self._rename(segment, name)

        self.app.push_screen(SegmentNameDialog(segment.name, t("Rename the segment '{name}'", name=segment.name),
                                               t("Enter renames · Esc cancels")), named)

    @database_work(group="segments-write")
    def _rename(self, segment: segments.SegmentInfo, name: str) -> Written:
        renamed = segments.rename(segment.id, name)
        return self.Written(t("Renamed the segment to '{name}'.", name=renamed.name), renamed.id)

    def action_delete(self) -> None:
        segment = self.highlighted
        if segment is None:
            return

        def answered(delete: bool | None) -> None:
            if delete:
                self._delete(segment)

        # "Keep it" first, so that the Enter of a hurried user keeps the segment.
        self.app.push_screen(ConfirmScreen(t("Delete the segment?"),
                                           t("The segment '{name}' will be deleted for everyone. Its clients stay as "
                                             "they are.", name=segment.name),
                                           [(t("Keep it"), False),
                                            (t("Delete"), True)], cancel=False), answered)

    @database_work(group="segments-write")
    def _delete(self, segment: segments.SegmentInfo) -> Written:
        segments.delete(segment.id)
        return self.Written(t("Deleted the segment '{name}'.", name=segment.name), None)

    @on(Written)
    def _written(self, message: Written) -> None:
        self.notify(message.said)
        self._load(message.highlight_id)


class SegmentNameDialog(ModalScreen[str | None]):
    CSS_PATH = Path(__file__).with_name("clients.tcss")
    BINDINGS = [
        Binding("escape", "cancel", t("Cancel"), tooltip=t("Close without loading a segment"),
                id="segment-name.cancel"),
    ]

    def __init__(self, name: str, title: str | None = None, hint: str | None = None) -> None:
        super().__init__()
        self.initial = name
        self.title_text = title or t("Save the current search and filters as a segment")
        self.hint = hint or t("Enter saves (a segment of the same name is replaced) · Esc cancels")

    def compose(self) -> ComposeResult:
        with Vertical(id="segment-name-dialog", classes="clients-dialog"):
            yield Static(self.title_text, classes="clients-dialog-title")
            yield Input(self.initial, placeholder=t("Segment name"), id="segment-name")
            yield Static(self.hint, classes="clients-dialog-hint")

    @on(Input.Submitted)
    def _named(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
