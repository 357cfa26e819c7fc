"""A backup from the app, with progress: the same job as `clientbase backup FILE` (tui/transfer/backup_job.py),
through the owner's connection, so it needs the same rights as the command line. The file and its manifest
are private (0600). Opened with B from the clients list, by the administrator only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Label, ProgressBar, Static

from db.i18n import N_, t
from screens.base import database_work
from screens.transfer.base import TransferDialog
from tui.transfer.backup_job import backup_report


class BackupScreen(TransferDialog):
    HELP = N_("Saves the whole base to one file while everyone keeps working. Keep the file and its manifest on another"
              " machine; 'clientbase restore FILE' brings them back and checks every table.")

    BINDINGS = [Binding("ctrl+s", "backup", t("Back up"), tooltip=t("Save the whole base to the file"),
                        id="backup.run")]

    @dataclass
    class Saved(Message):
        said: str

    def __init__(self, folder: Path | None = None) -> None:
        super().__init__()
        self.folder = folder or Path.home()

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(t("Back up the whole base"), classes="title")
            yield Input(str(self.folder / f"clientbase-{date.today().isoformat()}.dump"), id="backup-path")
            with Horizontal():
                yield Button(t("Back up"), id="backup-run", variant="primary")
                yield Button(t("Close"), id="backup-close")
            yield Static("", id="transfer-stage")
            yield ProgressBar(id="backup-progress", show_eta=True)
            yield self.result_view(t("The file and its .manifest.json are what 'clientbase restore' reads back; "
                                     "keep them together, away from this machine."))

    def on_mount(self) -> None:
        self.query_one("#backup-path", Input).focus()

    @on(Button.Pressed, "#backup-run")
    @on(Input.Submitted)
    def action_backup(self) -> None:
        path = self.query_one("#backup-path", Input).value.strip()
        if not path:
            self.say(t("Type the path of a file."), error=True)
            return
        self.busy(True)
        self._run(Path(path).expanduser())

    @on(Button.Pressed, "#backup-close")
    def _close(self) -> None:
        self.action_close()

    @database_work(group="backup")
    def _run(self, path: Path) -> Saved:
        return self.Saved("\n".join(backup_report(self.app.target, path, self.report_from_worker)))

    @on(Saved)
    def _done(self, message: Saved) -> None:
        self.busy(False)
        self.say(message.said)

    def busy(self, running: bool) -> None:
        self.query_one("#backup-run", Button).disabled = running
