"""What the import and export dialogs share: a path, a progress bar fed from a worker thread, and the
sentence on the dialog that a worker's failure becomes (besides the app's connection banner)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from textual import on
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import ProgressBar, Static

from db.errors import UserError
from db.i18n import t
from screens.base import DatabaseScreen

PROGRESS_EVERY = 0.1  # seconds between progress messages, so a fast job does not flood the screen


class TransferDialog(DatabaseScreen, ModalScreen[bool]):
    """Dismisses with True when it changed or wrote something, so the caller can refresh what it shows."""

    @dataclass
    class Progress(Message):
        """Posted while the job runs, unlike every other result: the only message that does not wait for
        its worker to end."""

        label: str
        done: int
        total: int

    # Absolute, because Textual resolves a relative CSS_PATH against the module of a subclass.
    CSS_PATH = Path(__file__).with_name("transfer.tcss")
    BINDINGS = [Binding("escape", "close", t("Close"), tooltip=t("Close this dialog"),
                        id="import.close")]

    def __init__(self) -> None:
        super().__init__()
        self.changed = False
        self._last_progress = 0.0

    def report_from_worker(self, stage: str, done: int, total: int) -> None:
        """The `progress` callback handed to tui jobs; runs in the worker thread."""
        now = time.monotonic()
        if now - self._last_progress < PROGRESS_EVERY and done < total:
            return
        self._last_progress = now
        self.post_message(self.Progress(self.stage_label(stage), done, total))

    def stage_label(self, stage: str) -> str:
        return t(stage)

    @on(Progress)
    def _show_progress(self, message: Progress) -> None:
        self.query_one(ProgressBar).update(total=max(message.total, 1), progress=message.done)
        self.query_one("#transfer-stage", Static).update(message.label)

    @staticmethod
    def result_view(hint: str) -> VerticalScroll:
        """Where the dialog says what happened: scrolled from the keyboard once it has the focus."""
        return VerticalScroll(Static(hint, id="transfer-summary", classes="summary"), id="transfer-result")

    def say(self, text: str, error: bool = False, focus: bool = False) -> None:
        """Shows `text` from its first line; with `focus`, the keys scroll it (a report longer than the dialog)."""
        summary = self.query_one("#transfer-summary", Static)
        summary.set_class(error, "error")
        summary.update(text)
        view = self.query_one("#transfer-result", VerticalScroll)
        view.scroll_home(animate=False)
        if focus:
            view.focus()

    def worker_failed(self, error: BaseException) -> None:
        self.busy(False)
        super().worker_failed(error)

    def show_user_error(self, error: UserError) -> None:
        self.say(str(error), error=True)

    def connection_lost(self) -> None:
        self.say(t("The connection to the database was lost; reconnecting…"), error=True)
        super().connection_lost()

    def busy(self, running: bool) -> None:
        """Subclasses disable their buttons while a job runs."""

    def action_close(self) -> None:
        # The running job reports to this dialog; closing it now would hide whether the file went in.
        if any(worker.node is self and worker.is_running for worker in self.app.workers):
            self.say(t("Please wait until the job finishes."))
            return
        self.dismiss(self.changed)
