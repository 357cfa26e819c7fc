"""A campaign's results per arm (its variants and the holdout): sent, failed, unsubscribed, and 30, 60 and 90 days
after sending the share who bought and the revenue per recipient, each against the holdout (or the first arm
when there is none) with the significance of the difference, and the days left of the 90-day follow-up.

The figures are the stored ones (public.campaign_result, 0020), read in milliseconds; db/mailing/splits.py
computes them first when there are none or they are a day old. `r` computes them again now, in a worker: that
reads every recipient's purchases, seconds on a large base, and the screen stays live meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Static

from db import session
from db.errors import UserError
from db.i18n import N_, grouped, t, tn
from db.mailing import reads, splits
from db.session import Identity
from screens.base import DatabaseScreen, database_work
from screens.mailing import CSS
from tui.widgets.connection import ConnectionBack
from tui.widgets.app_header import AppHeader
from tui.widgets.footer import SteadyFooter


def clock() -> datetime:
    """Now, as the follow-up counts its days from it; a test may replace it."""
    return datetime.now(timezone.utc)


def arm_label(label: str) -> str:
    return t("holdout") if label == splits.HOLDOUT else label


class ResultsScreen(DatabaseScreen, Screen):
    @dataclass
    class Read(Message):
        results: splits.Results
        now: datetime

    HELP = N_("A campaign's results per arm: each variant, and the holdout, the share of the audience that got "
              "nothing. Sent, failed and unsubscribed count the messages. For 30, 60 and 90 days after each message "
              "was sent (for the holdout, after the campaign's first message): the share of recipients who bought "
              "anything, and the revenue per recipient (Per client). The differences are each arm's figure minus "
              "the holdout's (the first arm's when there is no holdout). The significance of a difference in the "
              "share who bought is a pooled two-proportion z-test, two-sided, 5 %: p below 0.05 is marked "
              "significant, meaning the difference is unlikely to be chance. A window that has not fully passed is "
              "marked with … and its figures can still grow. The figures are stored; r computes them again now.")
    CSS_PATH = CSS
    BINDINGS = [
        Binding("escape", "back", t("Back"), tooltip=t("Back to the campaign"), id="results.back"),
        Binding("r", "recompute", t("Recompute"), tooltip=t("Compute the figures again from the purchases now"),
                id="results.recompute"),
    ]

    def __init__(self, identity: Identity, campaign_id: int) -> None:
        super().__init__()
        self.identity = identity
        self.campaign_id = campaign_id
        self.results: splits.Results | None = None

    def compose(self) -> ComposeResult:
        yield AppHeader()
        yield Static(t("Reading the results…"), id="results-state", markup=False)
        yield DataTable(id="results-arms", cursor_type="row", zebra_stripes=True)
        yield DataTable(id="results-windows", cursor_type="row", zebra_stripes=True)
        yield SteadyFooter()

    def on_mount(self) -> None:
        self.title = t("Results of campaign {id}", id=self.campaign_id)
        self.query_one("#results-arms", DataTable).add_columns(
            t("Arm"), t("Recipients"), t("Sent"), t("Failed"), t("Unsubscribed"))
        self.query_one("#results-windows", DataTable).add_columns(
            t("Arm"), t("Days"), t("Bought"), t("Per client"), t("Δ bought"), t("Δ per client"), "p",
            t("Significant"))
        self.query_one("#results-windows", DataTable).focus()
        self._read(recompute=False)

    @database_work(group="results")
    def _read(self, recompute: bool) -> Read:
        now = clock()
        return self.Read(session.read(reads.run, splits.results, self.campaign_id, now, recompute=recompute), now)

    @on(Read)
    def _shown(self, message: Read) -> None:
        found = self.results = message.results
        arms = self.query_one("#results-arms", DataTable)
        arms.clear()
        for arm in found.arms:
            arms.add_row(arm_label(arm.label), grouped(arm.recipients), grouped(arm.sent), grouped(arm.failed),
                         grouped(arm.unsubscribed), key=arm.label)
        compared = {(comparison.label, comparison.days): comparison for comparison in found.comparisons}
        windows = self.query_one("#results-windows", DataTable)
        windows.clear()
        for arm in found.arms:
            for days, window in sorted(arm.windows.items()):
                comparison = compared.get((arm.label, days))
                cells = [arm_label(arm.label), f"{days}" if window.complete else f"{days}…",
                         f"{window.buyer_share(arm.recipients):.1%}",
                         f"{window.revenue_per_recipient(arm.recipients):,.2f}"]
                if comparison is None:
                    cells += ["", "", "", ""]
                else:
                    cells += [f"{comparison.share_difference * 100:+.1f}", f"{comparison.revenue_difference:+,.2f}",
                              "—" if comparison.p_value is None else f"{comparison.p_value:.3f}",
                              t("yes") if comparison.significant else t("no")]
                windows.add_row(*cells, key=f"{arm.label}:{days}")
        self.query_one("#results-state", Static).update(self._summary(found, message.now))

    def _summary(self, found: splits.Results, now: datetime) -> str:
        if not found.arms:
            return t("Nothing sent yet: the results begin with the first message.")
        baseline = t("the holdout") if found.baseline == splits.HOLDOUT else found.baseline
        said = t("Compared with {baseline}; Δ bought in percentage points.", baseline=baseline)
        if found.days_left:
            said += " " + tn("{count} day left of the 90-day follow-up.",
                             "{count} days left of the 90-day follow-up.", found.days_left)
        else:
            said += " " + t("The 90-day follow-up is complete.")
        age = found.age(now)
        if age is not None:
            hours = int(age.total_seconds() // 3600)
            said += " " + (tn("Computed {count} hour ago.", "Computed {count} hours ago.", hours) if hours
                           else t("Computed just now."))
        return said

    def show_user_error(self, error: UserError) -> None:
        self.query_one("#results-state", Static).update(str(error))

    def action_recompute(self) -> None:
        self.query_one("#results-state", Static).update(t("Computing the results from the purchases…"))
        self._read(recompute=True)

    def action_back(self) -> None:
        self.dismiss(None)

    def on_connection_back(self, message: ConnectionBack) -> None:
        self._read(recompute=False)
