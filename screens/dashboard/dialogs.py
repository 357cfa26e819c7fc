"""The dashboard's two modals: the analysis date and period of a refresh, and the rules behind the numbers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from db import labels
from db.analytics.reads import SegmentRule
from db.i18n import t


@dataclass(frozen=True)
class RefreshChoice:
    as_of: date
    period_days: int


class RefreshDialog(ModalScreen[RefreshChoice | None]):
    """Enter (in either box) starts the refresh with the date and period typed; Esc cancels."""

    CSS_PATH = Path(__file__).with_name("dashboard.tcss")

    BINDINGS = [Binding("escape", "cancel", t("Cancel"), tooltip=t("Close without refreshing"),
                        id="dashboard.refresh.cancel")]

    def __init__(self, as_of: date, period_days: int) -> None:
        super().__init__()
        self.as_of = as_of
        self.period_days = period_days

    def compose(self) -> ComposeResult:
        with Vertical(id="refresh-dialog", classes="clients-dialog"):
            yield Static(t("Refresh the analytics"), classes="clients-dialog-title")
            with Horizontal(classes="refresh-row"):
                yield Label(t("Analysis date (YYYY-MM-DD)"), classes="refresh-label")
                yield Input(self.as_of.isoformat(), id="as-of", compact=True, restrict=r"[0-9-]*")
            with Horizontal(classes="refresh-row"):
                yield Label(t("Period, days (ABC, A–E)"), classes="refresh-label")
                yield Input(str(self.period_days), id="period", compact=True, restrict=r"[0-9]*")
            yield Static("", id="refresh-error")
            yield Static(t("Enter starts (in the background) · Esc cancels"), classes="clients-dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#as-of", Input).focus()

    def on_input_submitted(self) -> None:
        typed = self.query_one("#as-of", Input).value.strip()
        try:
            as_of = date.fromisoformat(typed)
        except ValueError:
            said = t("The analysis date is written as YYYY-MM-DD, not “{value}”.", value=typed)
            self.query_one("#refresh-error", Static).update(said)
            return
        period = self.query_one("#period", Input).value.strip()
        if not period.isdigit() or int(period) < 1:
            self.query_one("#refresh-error", Static).update(t("The period must be at least one day."))
            return
        self.dismiss(RefreshChoice(as_of, int(period)))

    def action_cancel(self) -> None:
        self.dismiss(None)


class DashboardHelp(ModalScreen[None]):
    """The exact rules behind every number, as the refresh (db/analytics/refresh.py) implements them, with the
    RFM map as the administrator has it now."""

    CSS_PATH = Path(__file__).with_name("dashboard.tcss")

    BINDINGS = [Binding("escape,f1,question_mark", "close", t("Close"), tooltip=t("Back to the dashboard"),
                        id="dashboard.help.close")]

    def __init__(self, rules: tuple[SegmentRule, ...]) -> None:
        super().__init__()
        self.rules = rules

    def compose(self) -> ComposeResult:
        with Vertical(id="dashboard-help", classes="clients-dialog"):
            yield Static(t("How the dashboard's numbers are computed"), classes="clients-dialog-title")
            with VerticalScroll(id="dashboard-help-text"):
                yield Static("\n\n".join(self._paragraphs()))
            yield Static(t("↑ ↓ scroll · Esc closes"), classes="clients-dialog-hint")

    def _paragraphs(self) -> list[str]:
        rules = "\n".join(
            t("{position}. {segment}: R {r_min}–{r_max}, F+M {fm_min}–{fm_max}", position=number,
              segment=labels.rfm_segment(rule.segment), r_min=rule.r_min, r_max=rule.r_max,
              fm_min=_score(rule.fm_min), fm_max=_score(rule.fm_max))
            for number, rule in enumerate(self.rules, 1))
        return [
            t("Enter on any number opens the clients list with exactly the clients behind it; Ctrl+S there saves "
              "them as a segment. The totals under the date (Shift+Tab from the tab names reaches them) are every "
              "client the refresh analysed and the buyers among them."),
            t("Days are the shop's calendar days in its time zone (the timezone setting): a purchase at 23:30 Moscow "
              "time on 5 March is a 5 March purchase. The analysis date is included; the period is the days ending "
              "with it."),
            t("ABC by revenue in the period: clients sorted by revenue, descending; ties are broken by client id. A "
              "client is A while the revenue of the clients before it is under 80 % of the total (so the client that "
              "crosses 80 % is A), B while under 95 %, otherwise C. A client with no revenue in the period, or a "
              "negative one, is C."),
            t("A–E by profitability and potential: E are the clients whose profit in the period (amount − cost) is "
              "negative. The others are scored: profit in the period + the expected 12-month value times the "
              "client's lifetime margin (profit / revenue, clipped to 0..1), without the expected part while the "
              "lifetime value is not reliable. With q1, q2, q3 the 25th, 50th and 75th percentiles of that score "
              "over the clients who are not E, each a score that occurs: A above q3, B above q2, C above q1, D "
              "otherwise. Equal scores always get the same class."),
            t("RFM over each client's whole history up to the analysis date: R = days since the last purchase, F = "
              "number of purchases, M = total amount; a refund counts toward M, not F. Scores 1–5 come from value "
              "thresholds, the 20th, 40th, 60th and 80th percentiles of values that occur: F score = 1 + the number "
              "of thresholds F is strictly above (M likewise), R score = 5 − the number R is strictly above. Tie "
              "rule: equal values always get equal scores, however many clients share them (most share F = 1), so "
              "a score may hold more or fewer than a fifth of the clients."),
            t("Segments: the first rule of this map, top-down, whose R range holds the R score and whose F+M range "
              "holds the mean of the F and M scores. The administrator edits the map; a buyer whom no rule matches "
              "is Unmatched, and clients with no purchase are Prospects, outside the grid. The stored segments "
              "follow the map of the last refresh.") + "\n" + rules,
            t("Lifetime value: the BG/NBD model gives the expected purchases and the probability that a client is "
              "still active, Gamma-Gamma the expected order value; both fitted by maximum likelihood. Below 500 "
              "buyers or 180 days of history the numbers are not shown."),
            t("Refunds and lifetime value: Gamma-Gamma describes orders, not refunds, so it is fitted on the "
              "purchases alone (positive amounts) of the clients who bought at least twice: the number of their "
              "purchases and their mean amount. A client's expected order value is then multiplied by their "
              "expected net share, 1 − their refund ratio: refunds / purchases by amount, weighed by the client's "
              "number of purchases against the shop's ratio weighed as two purchases. A client with one refund in "
              "two purchases is not expected to return half of everything from now on."),
            t("Revenue by month: purchases minus refunds in each month; Enter on a month (in the table, or on the "
              "bars above it, chosen with ← →) lists the clients who bought or refunded in it. Cohorts: the clients "
              "whose first purchase fell in a month, and the share of them who bought again on or before the 90th "
              "day after the day of their first purchase; Enter lists the cohort, those who came back or those who "
              "did not. Movement compares each client's classes with those of the refresh before."),
            t("Refunds (negative amounts) lower M, the revenue and the profit, but are no purchase: they count "
              "toward neither F nor R. A client with only refunds has never bought, so it is a Prospect, outside the "
              "grid; its negative profit makes it E, and its revenue C."),
        ]

    def on_mount(self) -> None:
        self.query_one("#dashboard-help-text").focus()

    def action_close(self) -> None:
        self.dismiss(None)


def _score(value: Decimal) -> str:
    """1.0 reads 1, 2.5 stays 2.5: the F+M bounds are means of two whole scores."""
    return f"{value:.1f}".removesuffix(".0")
