"""The dashboard's two modals: the analysis date and period of a refresh, and the rules behind the numbers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from db.i18n import t


@dataclass(frozen=True)
class RefreshChoice:
    as_of: date
    period_days: int


class RefreshDialog(ModalScreen[RefreshChoice | None]):
    """Enter (in either box) starts the refresh with the date and period typed; Esc cancels."""

    CSS_PATH = Path(__file__).with_name("dashboard.tcss")

    BINDINGS = [Binding("escape", "cancel", t("dashboard.cancel"), tooltip=t("dashboard.cancel.tip"),
                        id="dashboard.refresh.cancel")]

    def __init__(self, as_of: date, period_days: int) -> None:
        super().__init__()
        self.as_of = as_of
        self.period_days = period_days

    def compose(self) -> ComposeResult:
        with Vertical(id="refresh-dialog", classes="clients-dialog"):
            yield Static(t("dashboard.refresh.title"), classes="clients-dialog-title")
            with Horizontal(classes="refresh-row"):
                yield Label(t("dashboard.refresh.as_of"), classes="refresh-label")
                yield Input(self.as_of.isoformat(), id="as-of", compact=True, restrict=r"[0-9-]*")
            with Horizontal(classes="refresh-row"):
                yield Label(t("dashboard.refresh.period"), classes="refresh-label")
                yield Input(str(self.period_days), id="period", compact=True, restrict=r"[0-9]*")
            yield Static("", id="refresh-error")
            yield Static(t("dashboard.refresh.hint"), classes="clients-dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#as-of", Input).focus()

    def on_input_submitted(self) -> None:
        typed = self.query_one("#as-of", Input).value.strip()
        try:
            as_of = date.fromisoformat(typed)
        except ValueError:
            self.query_one("#refresh-error", Static).update(t("analytics.bad_date", value=typed))
            return
        period = self.query_one("#period", Input).value.strip()
        if not period.isdigit() or int(period) < 1:
            self.query_one("#refresh-error", Static).update(t("analytics.bad_period"))
            return
        self.dismiss(RefreshChoice(as_of, int(period)))

    def action_cancel(self) -> None:
        self.dismiss(None)


class DashboardHelp(ModalScreen[None]):
    """The exact rules behind every number, quoted from the definitions the refresh implements."""

    CSS_PATH = Path(__file__).with_name("dashboard.tcss")

    BINDINGS = [Binding("escape,f1,question_mark", "close", t("dashboard.close"), tooltip=t("dashboard.close.tip"),
                        id="dashboard.help.close")]

    def compose(self) -> ComposeResult:
        with Vertical(id="dashboard-help", classes="clients-dialog"):
            yield Static(t("dashboard.help.title"), classes="clients-dialog-title")
            with VerticalScroll(id="dashboard-help-text"):
                yield Static(t("dashboard.help.text"))
            yield Static(t("dashboard.help.hint"), classes="clients-dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#dashboard-help-text").focus()

    def action_close(self) -> None:
        self.dismiss(None)
