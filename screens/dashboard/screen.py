"""The dashboard: ABC, A-E, RFM, the Pareto curve, revenue and cohorts, lifetime value and the movement
between segments, read from the stored results of the last refresh.

Tab moves between the tables (and the row of tab names, where ← and → change the tab; 1-6 jump to one),
the arrows between cells, and Enter opens the clients list filtered to exactly the clients behind the cell.
The administrator refreshes with `r`, in the background: the screen stays usable and shows the step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Label, ProgressBar, Static, TabbedContent, TabPane

from db import session
from db.analytics import reads as analytics
from db.analytics.refresh import DEFAULT_PERIOD_DAYS, STEPS
from db.i18n import N_, t, tn
from db.session import Identity
from screens.base import DatabaseScreen, database_work
from screens.dashboard import tables
from screens.dashboard.dialogs import DashboardHelp, RefreshChoice, RefreshDialog
from screens.dashboard.months import Month, MonthBars
from tui import textual_compat
from tui.widgets.charts import DrillTable
from tui.widgets.connection import ConnectionBack
from tui.widgets.app_header import AppHeader
from tui.widgets.footer import SteadyFooter
from db import labels

# Conversion and retention come last: their two tables would double the work of the first tab, which every
# opening builds (tests/bench_dashboard.py), and below ABC and A-E they were off the 80x24 screen anyway.
TABS = ("classes", "rfm", "revenue", "value", "movement", "retention")


def age(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 1:
        return t("just now")
    if minutes < 120:
        return t("{n} min ago", n=minutes)
    if minutes < 48 * 60:
        return t("{n} h ago", n=minutes // 60)
    return tn("{n} day ago", "{n} days ago", minutes // (24 * 60), n=minutes // (24 * 60))


class DashboardScreen(DatabaseScreen, Screen):
    @dataclass
    class Loaded(Message):
        view: analytics.DashboardView

    @dataclass
    class TodayRead(Message):
        """The date a refresh proposes, read before its dialog opens."""

        today: date
        period_days: int

    @dataclass
    class RefreshProgress(Message):
        """Posted while the refresh runs, unlike every other result: the one message that does not wait for
        its worker to end (as the import's progress)."""

        step: str
        done: int

    @dataclass
    class Refreshed(Message):
        duration_ms: int

    # The tab names take the keys first, as before the totals came above them.
    AUTO_FOCUS = "#dash-tabs Tabs"
    # Absolute, because Textual resolves a relative CSS_PATH against the module of a subclass.
    CSS_PATH = Path(__file__).with_name("dashboard.tcss")
    BINDINGS = [
        Binding("r", "refresh_analytics", t("Refresh"), tooltip=t("Recompute the analytics for a date "
                                                                                "and period, in the background"),
                id="dashboard.refresh"),
        Binding("l", "reload", t("Reload"), tooltip=t("Read the stored results again (another terminal "
                                                                    "may have refreshed them)"),
                id="dashboard.reload"),
        Binding("f1,question_mark", "help", t("Rules"), tooltip=t("How every class, score and segment is "
                                                                               "computed"),
                key_display="F1", id="dashboard.help"),
        *(Binding(str(number), f"show_tab('{name}')", t(labels.DASHBOARD_TAB[name]), show=False,
                  tooltip=t("Show this tab of the dashboard"), id=f"dashboard.tab.{name}")
          for number, name in enumerate(TABS, 1)),
    ]

    def __init__(self, identity: Identity) -> None:
        super().__init__()
        self.identity = identity
        textual_compat.styles_already_current(self, self.app)
        # Until the screen is first left, its widgets hold the styles they were given as they mounted.
        self.styled_on_mount = True
        self.view: analytics.DashboardView | None = None
        self.built_tabs: set[str] = set()
        self.refreshing = False

    def compose(self) -> ComposeResult:
        yield AppHeader()
        yield Static(t("Reading the stored analytics…"), id="dash-status")
        # The run's totals, a number each that drills like any other: Shift+Tab from the tab names reaches them.
        with Horizontal(id="dash-totals-row"):
            yield DrillTable(id="dash-totals")
            yield Static(t("Enter on a number lists its clients"), id="dash-hint")
        # The step and the bar are made by the first refresh: most openings never show them.
        yield Horizontal(id="dash-progress-row")
        with TabbedContent(id="dash-tabs"):
            for name in TABS:
                with TabPane(t(labels.DASHBOARD_TAB[name]), id=name):
                    # A tab's tables are made when the results are read and the tab is first shown, already
                    # filled: tables made empty would be laid out and painted twice, and a dozen tables at once
                    # would double the time from the key to the first painted table.
                    yield VerticalScroll(id=f"{name}-body")
        yield SteadyFooter()

    @staticmethod
    def _pane_widgets(name: str) -> list[Widget]:
        def title(key: str) -> Label:
            return Label(t(labels.DASHBOARD_TITLE[key]), classes="dash-title")

        if name == "classes":
            return [title("abc"), DrillTable(id="abc"), title("ae"), DrillTable(id="ae")]
        if name == "retention":
            return [title("buyers"), DrillTable(id="buyers"), title("inactive"), DrillTable(id="inactive")]
        if name == "rfm":
            return [title("segments"), DrillTable(id="segments"), title("rf"), DrillTable(id="rf")]
        if name == "revenue":
            return [title("months"), MonthBars(id="months-spark"), DrillTable(id="months"), title("pareto"),
                    DrillTable(id="pareto")]
        if name == "value":
            return [Static("", id="clv-note"), title("clv"), DrillTable(id="clv"), title("top"), DrillTable(id="top")]
        return [Static("", id="move-note"), title("move_segment"), DrillTable(id="move-segment"), title("move_abc"),
                DrillTable(id="move-abc"), title("move_ae"), DrillTable(id="move-ae")]

    @on(TabbedContent.TabActivated, "#dash-tabs")
    def _tab_shown(self, event: TabbedContent.TabActivated) -> None:
        self._build_tab(event.pane.id or "")

    def _build_tab(self, name: str) -> None:
        """Makes a tab's tables, once, and fills them; mounting registers them at once, so they are filled before
        the next layout."""
        if self.view is None or name in self.built_tabs:
            return
        self.built_tabs.add(name)
        self.query_one(f"#{name}-body", VerticalScroll).mount_all(self._pane_widgets(name))
        self._fill_tab(name, self.view)

    def on_mount(self) -> None:
        self.query_one("#dash-progress-row").display = False
        self.query_one("#dash-totals", DrillTable).show_header = False
        self.query_one("#dash-totals-row").display = False
        self._load()

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        # Runs before Textual's own handler: opening the mode resumes a new screen twice (its mode's first
        # screen, then the mode), and each time Textual would style every widget again, 70 ms of CPU in all
        # (tests/bench_dashboard.py), for styles given a moment before.
        if self.styled_on_mount:
            event.refresh_styles = False

    def on_screen_suspend(self) -> None:
        self.styled_on_mount = False

    # --- reading ----------------------------------------------------------------------------------

    @database_work(group="dashboard-load")
    def _load(self) -> Loaded:
        return self.Loaded(session.read(analytics.load_dashboard))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        view = message.view
        self.view = view
        run = view.board.run
        if run is None:
            if self.identity.can_write:
                key = N_("The analytics have not been computed yet; press r to compute them.")
            else:
                key = N_("The analytics have not been computed yet; an administrator refreshes them (key r here, "
                         "or `clientbase analytics refresh`).")
            self.query_one("#dash-status", Static).update(t(key))
        else:
            status = t("As of {as_of}, over {days} days · computed {age}", as_of=run.as_of.isoformat(),
                       days=run.period_days, age=age(run.age_seconds))
            if run.buyers == 0:
                status += "\n" + t("There are no purchases up to this date yet, so every table is empty; they fill in "
                                   "once clients buy.")
            self.query_one("#dash-status", Static).update(status)
        self.query_one("#dash-totals-row").display = run is not None
        if run is not None:
            tables.fill_totals(self.query_one("#dash-totals", DrillTable), run)
        self._fill(view)

    def _fill(self, view: analytics.DashboardView) -> None:
        for name in self.built_tabs:
            self._fill_tab(name, view)
        self._build_tab(self.query_one("#dash-tabs", TabbedContent).active)

    def _fill_tab(self, name: str, view: analytics.DashboardView) -> None:
        table = self._table
        if name == "classes":
            tables.fill_abc(table("abc"), view)
            tables.fill_ae(table("ae"), view)
        elif name == "retention":
            tables.fill_buyers(table("buyers"), view)
            tables.fill_inactive(table("inactive"), view)
        elif name == "rfm":
            tables.fill_segments(table("segments"), view)
            tables.fill_rf_grid(table("rf"), view)
        elif name == "revenue":
            self.query_one("#months-spark", MonthBars).set_months([Month(month.month, month.revenue)
                                                                   for month in view.board.months])
            tables.fill_months(table("months"), view)
            tables.fill_pareto(table("pareto"), view)
        elif name == "value":
            run = view.board.run
            note = ""
            if run is not None and run.clv_reason:
                note = t(labels.DASHBOARD_CLV_UNRELIABLE.get(run.clv_reason, labels.CLV_FIT_FAILED))
            self.query_one("#clv-note", Static).update(note)
            self.query_one("#clv-note", Static).display = bool(note)
            tables.fill_clv(table("clv"), view)
            tables.fill_top(table("top"), view)
        else:
            moved = any(view.board.movement.values())
            if not moved:
                note = t("Movement shows after the second refresh: it compares each client's classes with those of "
                         "the refresh before.")
            elif all(move.from_class == move.to_class for move in view.board.movement.get("segment", [])):
                note = t("Every client kept their RFM segment since the refresh before.")
            else:
                note = ""
            self.query_one("#move-note", Static).update(note)
            self.query_one("#move-note", Static).display = bool(note)
            tables.fill_segment_moves(table("move-segment"), view)
            tables.fill_movement(table("move-abc"), view, "abc", tables.ABC)
            tables.fill_movement(table("move-ae"), view, "ae", tables.AE)

    def _table(self, table_id: str) -> DrillTable:
        return self.query_one(f"#{table_id}", DrillTable)

    def action_reload(self) -> None:
        self._load()

    def action_show_tab(self, name: str) -> None:
        self.query_one("#dash-tabs", TabbedContent).active = name

    def action_help(self) -> None:
        self.app.push_screen(DashboardHelp(self.view.segment_rules if self.view else ()))

    # --- drilling down ----------------------------------------------------------------------------

    @on(DrillTable.Drill)
    async def _drill(self, event: DrillTable.Drill) -> None:
        target = event.target
        if isinstance(target, tables.OpenCard):
            from screens.card.screen import CardScreen

            CardScreen.open(self.app, self.identity, target.client_id)
            return
        assert isinstance(target, tables.Drill)
        await self._show_clients(target)

    @on(MonthBars.Drill)
    async def _drill_month(self, event: MonthBars.Drill) -> None:
        await self._show_clients(tables.month_drill(event.month))

    async def _show_clients(self, target: tables.Drill) -> None:
        await self.app.switch_mode("clients")
        # The clients mode's own screen, under any card left open in that mode.
        self.app.screen_stack[0].show_filters(target.filters)

    # --- refreshing -------------------------------------------------------------------------------

    def action_refresh_analytics(self) -> None:
        if self.refreshing:
            return
        run = self.view.board.run if self.view else None
        self._ask_refresh(run.period_days if run else DEFAULT_PERIOD_DAYS)

    @database_work(group="dashboard-today")
    def _ask_refresh(self, period_days: int) -> TodayRead:
        return self.TodayRead(session.read(analytics.default_as_of), period_days)

    @on(TodayRead)
    def _show_refresh_dialog(self, message: TodayRead) -> None:
        self.app.push_screen(RefreshDialog(message.today, message.period_days), self._refresh_chosen)

    def _refresh_chosen(self, choice: RefreshChoice | None) -> None:
        if choice is None:
            return
        self.refreshing = True
        row = self.query_one("#dash-progress-row", Horizontal)
        if not row.children:
            row.mount_all([Label("", id="dash-step"),
                           ProgressBar(total=len(STEPS), show_eta=False, id="dash-progress")])
        row.display = True
        self.query_one("#dash-progress", ProgressBar).update(progress=0)
        self.refresh_bindings()
        self._refresh(choice)

    @database_work(group="dashboard-refresh")
    def _refresh(self, choice: RefreshChoice) -> Refreshed:
        def progress(step: str, done: int, total: int) -> None:
            # Runs in the worker thread; post_message is the thread-safe way back to the screen.
            self.post_message(self.RefreshProgress(step, done))

        result = analytics.refresh(choice.as_of, choice.period_days, progress)
        return self.Refreshed(result.duration_ms)

    @on(RefreshProgress)
    def _progress(self, message: RefreshProgress) -> None:
        self.query_one("#dash-step", Label).update(t(labels.ANALYTICS_STEP[message.step]))
        self.query_one("#dash-progress", ProgressBar).update(progress=message.done)

    @on(Refreshed)
    def _refreshed(self, message: Refreshed) -> None:
        self._refresh_over()
        self.notify(t("The analytics were refreshed in {seconds:.1f} s.", seconds=message.duration_ms / 1000))
        self._load()

    def _refresh_over(self) -> None:
        self.refreshing = False
        self.query_one("#dash-progress-row").display = False
        self.refresh_bindings()

    # --- errors -----------------------------------------------------------------------------------

    def worker_failed(self, error: BaseException) -> None:
        # Whichever worker failed, a refresh that is no longer running is over: its progress row must not stay.
        if self.refreshing and not self._refresh_running():
            self._refresh_over()
        super().worker_failed(error)

    def _refresh_running(self) -> bool:
        return any(worker.node is self and worker.group == "dashboard-refresh" and worker.is_running
                   for worker in self.app.workers)

    def on_connection_back(self, message: ConnectionBack) -> None:
        self._load()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "refresh_analytics":
            # The administrator alone may refresh (the database refuses the others anyway).
            return self.identity.can_write and not self.refreshing
        return True
