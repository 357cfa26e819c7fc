"""Saved segments: pick one to load its search and filters, or name the current ones to save them."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from db import segments, session
from db.i18n import t
from db.session import ConnectionLost


class SegmentPicker(ModalScreen[segments.SegmentInfo | None]):
    BINDINGS = [
        Binding("escape", "cancel", t("clients.filters.cancel"), tooltip=t("clients.segments.cancel.tip"),
                id="segments.cancel"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.saved: dict[str, segments.SegmentInfo] = {}

    def compose(self) -> ComposeResult:
        with Vertical(id="segments-dialog", classes="clients-dialog"):
            yield Static(t("clients.segments.title"), classes="clients-dialog-title")
            yield OptionList(id="segment-list")
            yield Static(t("clients.loading"), id="segments-note", classes="clients-dialog-hint")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()
        self._load()

    @work(thread=True, exclusive=True, group="segments-list", exit_on_error=False)
    def _load(self) -> None:
        saved = session.read(segments.list_segments)
        self.app.call_from_thread(self._loaded, saved)

    def _loaded(self, saved: list[segments.SegmentInfo]) -> None:
        self.saved = {str(s.id): s for s in saved}
        options = self.query_one(OptionList)
        options.add_options([Option(s.name, id=str(s.id)) for s in saved])
        note = self.query_one("#segments-note", Static)
        note.update(t("clients.segments.hint") if saved else t("clients.segments.none"))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.group == "segments-list":
            if isinstance(event.worker.error, ConnectionLost):
                self.app.connection_lost()
            else:
                raise event.worker.error

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.saved[event.option.id])

    def action_cancel(self) -> None:
        self.dismiss(None)


class SegmentNameDialog(ModalScreen[str | None]):
    BINDINGS = [
        Binding("escape", "cancel", t("clients.filters.cancel"), tooltip=t("clients.segments.cancel.tip"),
                id="segment-name.cancel"),
    ]

    def __init__(self, name: str) -> None:
        super().__init__()
        self.initial = name

    def compose(self) -> ComposeResult:
        with Vertical(id="segment-name-dialog", classes="clients-dialog"):
            yield Static(t("clients.segments.save_title"), classes="clients-dialog-title")
            yield Input(self.initial, placeholder=t("clients.segments.name"), id="segment-name")
            yield Static(t("clients.segments.save_hint"), classes="clients-dialog-hint")

    @on(Input.Submitted)
    def _named(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
