"""Import a file from the app (administrator): name the file, see the dry run's summary, then confirm.

The import button works only after a dry run of the same file with the same choices, so what is written is
what the administrator saw.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Checkbox, Input, Label, ProgressBar, Static

from db.i18n import N_, t
from screens.base import database_work
from screens.transfer.base import TransferDialog
from tui.transfer.import_job import ImportOptions, ImportReport, describe, run_import
from tui.widgets.tick_box import TickBox


class ImportFileScreen(TransferDialog):
    BINDINGS = [
        Binding("ctrl+r", "check", t("Check"), tooltip=t("Read the file and say what an import would do, "
                                                                   "writing nothing"), id="import.check"),
        Binding("ctrl+s", "run_import", t("Import"), tooltip=t("Import the checked "
                                                                      "file, all of it or nothing"), id="import.run"),
    ]

    @dataclass
    class Imported(Message):
        """A dry run or an import of `path` with `options` ended; `summary` is its report."""

        path: str
        options: ImportOptions
        dry_run: bool
        summary: str

    def __init__(self, path: str = "") -> None:
        super().__init__()
        self.initial_path = path
        self.checked: tuple[str, ImportOptions] | None = None
        self.dry_run = False

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(t("Import clients or purchases from a file (CSV, XLSX, vCard)"), classes="title")
            yield Input(self.initial_path, placeholder=t("Path of the file, e.g. "
                                                         "~/Documents/clients.csv"), id="import-path", compact=True)
            with Horizontal():
                yield TickBox(t("Purchases"), id="import-purchases", compact=True)
                yield TickBox(t("Overwrite"), id="import-overwrite", compact=True)
                yield TickBox(t("Create missing"), id="import-create-missing", compact=True)
            with Horizontal():
                yield Button(t("Check"), id="import-check", variant="primary", compact=True)
                yield Button(t("Import"), id="import-run", variant="warning", disabled=True, compact=True)
                yield Button(t("Close"), id="import-close", compact=True)
            yield Static("", id="transfer-stage")
            yield ProgressBar(id="import-progress", show_eta=True)
            yield self.result_view(t("Check the file first: nothing is written until you confirm."))

    def on_mount(self) -> None:
        self.query_one("#import-path", Input).focus()

    def _request(self) -> tuple[str, ImportOptions]:
        path = self.query_one("#import-path", Input).value.strip()
        options = ImportOptions(purchases=self.query_one("#import-purchases", Checkbox).value,
                                overwrite=self.query_one("#import-overwrite", Checkbox).value,
                                create_missing=self.query_one("#import-create-missing", Checkbox).value)
        return path, options

    @on(Input.Changed)
    @on(Checkbox.Changed)
    def _choices_changed(self) -> None:
        self.query_one("#import-run", Button).disabled = self.checked != self._request()

    @on(Button.Pressed, "#import-check")
    @on(Input.Submitted)
    def action_check(self) -> None:
        path, options = self._request()
        if not path:
            self.say(t("Type the path of a file."), error=True)
            return
        self.busy(True)
        self.dry_run = True
        self._run(path, options, dry_run=True)

    @on(Button.Pressed, "#import-run")
    def action_run_import(self) -> None:
        if self.checked is None or self.checked != self._request():
            self.say(t("Check the file first, so that you see what will be written."), error=True)
            return
        self.busy(True)
        self.dry_run = False
        self._run(*self.checked, dry_run=False)

    @on(Button.Pressed, "#import-close")
    def _close(self) -> None:
        self.action_close()

    @database_work(group="import")
    def _run(self, path: str, options: ImportOptions, dry_run: bool) -> Imported:
        chosen = ImportOptions(dry_run=dry_run, purchases=options.purchases, overwrite=options.overwrite,
                               create_missing=options.create_missing)
        result = run_import(Path(path).expanduser(), chosen, self.report_from_worker)
        return self.Imported(path, options, dry_run, self._report(result))

    @staticmethod
    def _report(result: ImportReport) -> str:
        """The report with what decides the next step first: whether anything was written, how many rows
        were refused and where they are; then the confirmation asked for; then every count and reason."""
        first = [t("Dry run: nothing was written.")] if result.options.dry_run else []
        first.append(t("  invalid rows:                {count:,}", count=len(result.rejects)).strip())
        if result.rejects and result.reject_file:
            first.append(t("Invalid rows are "
                           "in {path}, each with its reason; fix them and import that file.", path=result.reject_file))
        if result.options.dry_run:
            first.append(t("Press Import (Ctrl+S) to write this, or change the file and check again."))
        rest = [line for line in describe(result) if line.strip() not in first]
        return "\n".join(first + [""] + rest)

    def stage_label(self, stage: str) -> str:
        # The dry run goes through the same steps as the import, writing in a transaction it rolls back.
        if stage == N_("Writing") and self.dry_run:
            return t("Checking")
        return t(stage)

    @on(Imported)
    def _done(self, message: Imported) -> None:
        self.busy(False)
        if message.dry_run:
            self.checked = (message.path, message.options)
        else:
            self.checked = None
            self.changed = True
        self.say(message.summary, focus=True)
        self._choices_changed()

    def busy(self, running: bool) -> None:
        self.query_one("#import-check", Button).disabled = running
        if running:
            self.query_one("#import-run", Button).disabled = True
