"""Export what the clients list shows (its search and filters) to a file, from the app."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Label, ProgressBar, Select, Static

from db.clients.listing import Criteria
from db.i18n import t
from screens.base import database_work
from screens.transfer.base import TransferDialog
from tui.transfer.export_job import ExportOptions, run_export
from db import labels

FORMATS = ("csv", "xlsx", "vcf", "txt")


class ExportFileScreen(TransferDialog):
    BINDINGS = [Binding("ctrl+s", "export", t("Export"), tooltip=t("Write the clients of the current search "
                                                                          "and filters to the file"), id="export.run")]

    @dataclass
    class Exported(Message):
        said: str

    def __init__(self, criteria: Criteria | None = None, folder: Path | None = None) -> None:
        super().__init__()
        self.criteria = criteria or Criteria()
        self.folder = folder or Path.home()

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(t("Export the clients the list shows"), classes="title")
            yield Input(str(self.folder / f"clients-{date.today().isoformat()}.csv"), id="export-path")
            yield Select([(t(labels.EXPORT_UI_FORMAT[name]), name) for name in FORMATS], value="csv",
                         allow_blank=False, id="export-format")
            with Horizontal():
                yield Button(t("Export"), id="export-run", variant="primary")
                yield Button(t("Close"), id="export-close")
            yield Static("", id="transfer-stage")
            yield ProgressBar(id="export-progress", show_eta=True)
            yield self.result_view(t("The file gets the clients of the current search and filters."))

    def on_mount(self) -> None:
        self.query_one("#export-path", Input).focus()

    @on(Select.Changed, "#export-format")
    def _format_changed(self, event: Select.Changed) -> None:
        path_input = self.query_one("#export-path", Input)
        path = Path(path_input.value.strip() or "clients.csv")
        path_input.value = str(path.with_suffix(f".{event.value}"))

    @on(Button.Pressed, "#export-run")
    @on(Input.Submitted)
    def action_export(self) -> None:
        path = self.query_one("#export-path", Input).value.strip()
        if not path:
            self.say(t("Type the path of a file."), error=True)
            return
        self.busy(True)
        self._run(Path(path).expanduser(), str(self.query_one("#export-format", Select).value))

    @on(Button.Pressed, "#export-close")
    def _close(self) -> None:
        self.action_close()

    @database_work(group="export")
    def _run(self, path: Path, fmt: str) -> Exported:
        written = run_export(path, ExportOptions(format=fmt, criteria=self.criteria), self.report_from_worker)
        return self.Exported(t("Exported {count:,} rows to {path}.", count=written, path=path))

    @on(Exported)
    def _done(self, message: Exported) -> None:
        self.busy(False)
        self.say(message.said)

    def busy(self, running: bool) -> None:
        self.query_one("#export-run", Button).disabled = running
