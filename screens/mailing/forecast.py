"""The mailing forecast in the screen: who gets what over the next days, from the scheduled campaigns and the
triggers together, after the send days and the marketing cap, and the clients who would get two messages on
one day, listed before it happens (db/mailing/forecast.py computes it, as `clientbase mailing forecast` does).

The computation takes seconds on a large base (about 5 s on a million clients), so it runs in a worker while
the screen says "Computing…" and the keys stay live; nothing is enqueued by looking ahead.
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
from db.i18n import NP_, N_, grouped, t, tn
from db.mailing import forecast, reads
from db.mailing.triggers import LABEL
from db.session import Identity
from screens.base import DatabaseScreen, database_work
from screens.mailing import CSS
from tui.widgets.connection import ConnectionBack
from tui.widgets.app_header import AppHeader
from tui.widgets.footer import SteadyFooter

DEFAULT_DAYS = 14
DAY_CHOICES = (7, 14, 30)
# How many overlapping clients each day shows by name: enough to see who they are, the count says the rest.
OVERLAPS_SHOWN = 5
WEEKDAY = (NP_("weekday", "Mon"), NP_("weekday", "Tue"), NP_("weekday", "Wed"), NP_("weekday", "Thu"),
           NP_("weekday", "Fri"), NP_("weekday", "Sat"), NP_("weekday", "Sun"))


def clock() -> datetime:
    """Now, as the forecast starts from it; a test replaces it with a fixed day."""
    return datetime.now(timezone.utc)


def source_label(source: str) -> str:
    """A trigger by its name in the user's language; a campaign by its own name."""
    return t(LABEL[source]) if source in LABEL else source


class ForecastScreen(DatabaseScreen, Screen):
    @dataclass
    class Computed(Message):
        days: int
        found: forecast.Forecast

    HELP = N_("What the mailings will send over the next days: the scheduled campaigns and the automatic greetings, "
              "renewals and reactivation, per day, after the send days and the marketing cap. The second list "
              "shows clients who would get two or more messages on the same day, so that you can move a campaign "
              "before it happens. Nothing is sent or queued by looking ahead.")
    CSS_PATH = CSS
    BINDINGS = [
        Binding("escape", "back", t("Back"), tooltip=t("Back to the campaigns"), id="forecast.back"),
        Binding("d", "next_days", t("Days"), tooltip=t("Look 7, 14 or 30 days ahead"), id="forecast.days"),
        Binding("l", "reload", t("Reload"), tooltip=t("Compute the forecast again"), id="forecast.reload"),
    ]

    def __init__(self, identity: Identity, days: int = DEFAULT_DAYS) -> None:
        super().__init__()
        self.identity = identity
        self.days = days
        self.found: forecast.Forecast | None = None

    def compose(self) -> ComposeResult:
        yield AppHeader()
        yield Static("", id="forecast-state", markup=False)
        yield DataTable(id="forecast-days", cursor_type="row", zebra_stripes=True)
        yield Static(t("Clients who get more than one message on a day"), id="forecast-overlaps-title")
        yield DataTable(id="forecast-overlaps", cursor_type="row", zebra_stripes=True)
        yield SteadyFooter()

    def on_mount(self) -> None:
        self.title = t("Mailing forecast")
        self.query_one("#forecast-days", DataTable).add_columns(
            t("Day"), t("To send"), t("Held by the cap"), t("Overlaps"), t("What goes out"))
        self.query_one("#forecast-overlaps", DataTable).add_columns(t("Day"), t("No."), t("Client"), t("Messages"))
        self.query_one("#forecast-days", DataTable).focus()
        self._compute()

    def _compute(self) -> None:
        self.query_one("#forecast-state", Static).update(
            t("Computing the next {days} days…", days=self.days))
        self._forecast(self.days)

    @database_work(group="forecast")
    def _forecast(self, days: int) -> Computed:
        return self.Computed(days, session.read(reads.run, forecast.forecast, clock(), days, OVERLAPS_SHOWN))

    @on(Computed)
    def _computed(self, message: Computed) -> None:
        if message.days != self.days:
            return  # the user asked for another span meanwhile; its own result is on its way
        self.found = message.found
        found = message.found
        table = self.query_one("#forecast-days", DataTable)
        table.clear()
        for day in found.days:
            sources = ", ".join(f"{source_label(name)} {grouped(count)}"
                                for name, count in sorted(day.by_source.items()))
            table.add_row(f"{t(WEEKDAY[day.day.weekday()])} {day.day:%d.%m}", grouped(day.messages),
                          grouped(day.capped), grouped(day.overlapping_clients), sources, key=day.day.isoformat())
        overlaps = self.query_one("#forecast-overlaps", DataTable)
        overlaps.clear()
        for overlap in found.overlaps:
            overlaps.add_row(overlap.day.strftime("%d.%m"), str(overlap.client_id), overlap.name or "—",
                             " + ".join(source_label(source) for source in overlap.sources),
                             key=f"{overlap.day.isoformat()}:{overlap.client_id}")
        messages = sum(day.messages for day in found.days)
        overlapping = sum(day.overlapping_clients for day in found.days)
        if not found.days:
            said = t("Nothing planned for the next {days} days.", days=message.days)
        else:
            said = tn("Next {days} days: {messages} messages; {count} time a client gets more than one on a day.",
                      "Next {days} days: {messages} messages; {count} times a client gets more than one on a day.",
                      overlapping, days=message.days, messages=grouped(messages))
        self.query_one("#forecast-state", Static).update(said)
        self.query_one("#forecast-overlaps-title").display = bool(found.overlaps)
        overlaps.display = bool(found.overlaps)

    def show_user_error(self, error: UserError) -> None:
        self.query_one("#forecast-state", Static).update(str(error))

    def action_next_days(self) -> None:
        following = [choice for choice in DAY_CHOICES if choice > self.days]
        self.days = following[0] if following else DAY_CHOICES[0]
        self._compute()

    def action_reload(self) -> None:
        self._compute()

    def action_back(self) -> None:
        self.dismiss(None)

    def on_connection_back(self, message: ConnectionBack) -> None:
        self._compute()
