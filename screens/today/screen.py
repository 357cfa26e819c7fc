"""Today: the screen a salesperson opens in the morning. The week's birthdays (clients and their children, with
the age they reach), subscriptions running out, reminders due today or overdue (one's own first), clients who
have just gone quiet and the week's new clients, one tab each (1-5, or ← → on the tab names).

Enter on a row opens the client's card. The administrator ticks a reminder off (x), puts it off by a day (d) or
a week (w), adds one (n, for the client of the highlighted row) and shows one login's reminders (a cycles through
them); the others read, and the database refuses them the same actions anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Static, TabbedContent, TabPane

from db import labels, session
from db.i18n import N_, grouped, t, tn
from db.session import Identity
from db.today import reads, reminders
from screens.base import DatabaseScreen, database_work
from screens.today.dialogs import NewReminder, ReminderDialog
from tui import textual_compat
from tui.mailing import trigger_templates
from tui.widgets.connection import ConnectionBack
from tui.widgets.app_header import AppHeader
from tui.widgets.footer import SteadyFooter

TABS = {
    "birthdays": N_("Birthdays"),
    "endings": N_("Subscriptions"),
    "reminders": N_("Reminders"),
    "quiet": N_("Gone quiet"),
    "new": N_("New clients"),
}
REMINDER_ACTIONS = ("tick", "postpone", "add_reminder", "next_assignee")
WRITE_ACTIONS = (*REMINDER_ACTIONS, "greet")


class TodayTable(DataTable):
    """One list of the screen: a row per client (or reminder), Enter opens the row's client."""

    def __init__(self, *, id: str) -> None:  # noqa: A002 - Textual's own name
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.client_ids: list[int | None] = []
        self.client_names: list[str] = []
        self.row_keys: list[int] = []

    def add_client_row(self, key: int, client_id: int | None, client_name: str, *cells: str) -> None:
        self.add_row(*cells)
        self.row_keys.append(key)
        self.client_ids.append(client_id)
        self.client_names.append(client_name)


class TodayScreen(DatabaseScreen, Screen):
    @dataclass
    class Loaded(Message):
        view: reads.TodayView

    @dataclass
    class ReminderChanged(Message):
        said: str

    @dataclass
    class Greeted(Message):
        said: str
        queued: bool

    CSS_PATH = Path(__file__).with_name("today.tcss")
    # Nothing until the shown list is made and focused: the row of tab names taking the focus first would be one
    # more change of the footer's keys, rebuilt at each, on every opening.
    AUTO_FOCUS = ""
    BINDINGS = [
        Binding("enter", "open_card", t("Card"), tooltip=t("Open the card of the highlighted client"),
                id="today.card"),
        Binding("x", "tick", t("Done"), tooltip=t("Tick the highlighted reminder off"), id="today.tick"),
        Binding("d", "postpone('day')", t("+1 day"), tooltip=t("Put the highlighted reminder off until tomorrow"),
                id="today.postpone.day"),
        Binding("w", "postpone('week')", t("+1 week"), tooltip=t("Put the highlighted reminder off by a week"),
                id="today.postpone.week"),
        Binding("n", "add_reminder", t("Remind"), tooltip=t("Add a reminder, for the highlighted client if any"),
                id="today.reminder.add"),
        Binding("a", "next_assignee", t("Whose"), tooltip=t("Show the reminders of one login, then the next, then "
                                                           "everyone's"), id="today.assignee"),
        Binding("g", "greet", t("Greet"), tooltip=t("Queue the birthday greeting for the highlighted client now"),
                id="today.greet"),
        Binding("l", "reload", t("Reload"), tooltip=t("Read the lists again"), id="today.reload"),
        *(Binding(str(number), f"show_tab('{name}')", t(label), show=False, tooltip=t("Show this list"),
                  id=f"today.tab.{name}") for number, (name, label) in enumerate(TABS.items(), 1)),
    ]

    def __init__(self, identity: Identity) -> None:
        super().__init__()
        self.identity = identity
        self.view: reads.TodayView | None = None
        self.assignee: str | None = None
        self.birthday_rows: list[reads.Birthday] = []
        self.built_tabs: set[str] = set()
        textual_compat.styles_already_current(self, self.app)
        # Until the screen is first left, its widgets hold the styles they were given as they mounted.
        self.styled_on_mount = True

    def compose(self) -> ComposeResult:
        yield AppHeader()
        yield Static(t("Reading today's lists…"), id="today-status")
        with TabbedContent(id="today-tabs"):
            for name, label in TABS.items():
                # Empty until the lists are read and the tab is first shown: its note and table are then made
                # already filled (tables made empty would be laid out and painted twice, and five tables at
                # once cost the opening three times the CPU of the one a user looks at; tests/bench_today.py).
                yield TabPane(t(label), id=name)
        yield SteadyFooter()

    def on_mount(self) -> None:
        self._load()

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        # Opening the mode resumes a new screen twice, and each time Textual would style every widget again
        # for styles given a moment before (as on the dashboard).
        if self.styled_on_mount:
            event.refresh_styles = False

    def on_screen_suspend(self) -> None:
        self.styled_on_mount = False

    # --- reading ----------------------------------------------------------------------------------

    @database_work(group="today-load")
    def _load(self) -> Loaded:
        return self.Loaded(session.read(reads.load_today, self.identity.login, self.assignee))

    def action_reload(self) -> None:
        self._load()

    def on_connection_back(self, message: ConnectionBack) -> None:
        self._load()

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        view = self.view = message.view
        status = t("Today is {day} · Enter opens the card", day=view.today.isoformat())
        if view.assignee:
            status += " · " + t("reminders of {login}", login=view.assignee)
        self.query_one("#today-status", Static).update(status)
        tabs = self.query_one("#today-tabs", TabbedContent)
        for name in TABS:
            tabs.get_tab(name).label = f"{t(TABS[name])} {grouped(getattr(view, name).total)}"
        for name in self.built_tabs:
            self._refill_tab(name, view)
        if self._build_tab(tabs.active):
            # The list, not the row of tab names: the arrows move between clients at once.
            self.query_one(f"#{tabs.active}-table", TodayTable).focus()
        self.refresh_bindings()

    def _fill_tab(self, name: str, view: reads.TodayView, table: TodayTable) -> str:
        """Fills the tab's table (columns and rows) from the lists read; returns the tab's note."""
        if name == "birthdays":
            return self._fill_birthdays(view, table)
        if name == "endings":
            return self._fill_endings(view, table)
        if name == "reminders":
            return self._fill_reminders(view, table)
        if name == "quiet":
            return self._fill_clients(table, view.quiet, t("Last purchase"),
                                      t("No purchase for {days} days, since this week: time to call them back.",
                                        days=view.inactive_after_days))
        return self._fill_clients(table, view.new, t("Since"), t("New clients since Monday."))

    def _build_tab(self, name: str) -> bool:
        """Makes a tab's note and table once, filled before they are mounted; says whether it made them."""
        if self.view is None or name in self.built_tabs:
            return False
        self.built_tabs.add(name)
        table = TodayTable(id=f"{name}-table")
        note = self._note(self._fill_tab(name, self.view, table), getattr(self.view, name))
        self.query_one(f"#{name}", TabPane).mount_all([Static(note, id=f"{name}-note", classes="today-note"), table])
        return True

    def _refill_tab(self, name: str, view: reads.TodayView) -> None:
        table = self.query_one(f"#{name}-table", TodayTable)
        cursor = table.cursor_row
        table.clear(columns=True)
        table.client_ids, table.client_names, table.row_keys = [], [], []
        note = self._note(self._fill_tab(name, view, table), getattr(view, name))
        self.query_one(f"#{name}-note", Static).update(note)
        table.call_after_refresh(table.move_cursor, row=cursor)

    @staticmethod
    def _note(note: str, counted: reads.Counted) -> str:
        if counted.total > len(counted.shown):
            note += " " + t("The first {shown} of {total:,} are shown.", shown=len(counted.shown),
                            total=counted.total)
        if not counted.total:
            note += " " + t("Nothing here today.")
        return note.strip()

    def _fill_birthdays(self, view: reads.TodayView, table: TodayTable) -> str:
        note = t("Birthdays today and in the next 7 days, children with their parent.")
        if self.identity.can_write:
            note += " " + t("g queues the greeting")
        table.add_columns(t("Day"), t("Client"), t("Whose"), t("Turns"))
        self.birthday_rows = list(view.birthdays.shown)
        for birthday in view.birthdays.shown:
            whose = ""
            if birthday.relative_name:
                relation = t(labels.CARD_RELATION.get(birthday.relation, birthday.relation))
                whose = f"{birthday.relative_name} ({relation})"
            table.add_client_row(birthday.client_id, birthday.client_id, birthday.client_name,
                                 _day(birthday.on_day, view.today), birthday.client_name[:30], whose[:24],
                                 str(birthday.age))
        return note

    def _fill_endings(self, view: reads.TodayView, table: TodayTable) -> str:
        table.add_columns(t("Ends"), t("Client"), t("Product"))
        for ending in view.endings.shown:
            table.add_client_row(ending.subscription_id, ending.client_id, ending.client_name,
                                 _day(ending.ends_on, view.today), ending.client_name[:30], ending.product[:30])
        return t("Subscriptions ending within 7 days and not renewed.")

    def _fill_reminders(self, view: reads.TodayView, table: TodayTable) -> str:
        note = t("Due today or overdue, yours first.")
        if self.identity.can_write:
            note += " " + t("x done · d +1 day · w +1 week · n new · a whose")
        table.add_columns(t("Due"), t("Text"), t("Client"), t("Assignee"))
        for reminder in view.reminders.shown:
            table.add_client_row(reminder.id, reminder.client_id, reminder.client_name,
                                 _day(reminder.due_on, view.today), reminder.text[:30], reminder.client_name[:20],
                                 reminder.assignee[:12])
        return note

    @staticmethod
    def _fill_clients(table: TodayTable, counted: reads.Counted, when: str, note: str) -> str:
        table.add_columns(t("Client"), when)
        for client in counted.shown:
            table.add_client_row(client.client_id, client.client_id, client.client_name, client.client_name[:40],
                                 client.on_day.isoformat())
        return note

    # --- moving around ----------------------------------------------------------------------------

    def action_show_tab(self, name: str) -> None:
        self.query_one("#today-tabs", TabbedContent).active = name
        self._build_tab(name)
        table = self._active()[1]
        if table is not None:
            table.focus()

    @on(TabbedContent.TabActivated, "#today-tabs")
    def _tab_shown(self, event: TabbedContent.TabActivated) -> None:
        self._build_tab(event.pane.id or "")
        self.refresh_bindings()

    def _active(self) -> tuple[str, TodayTable | None]:
        """The shown tab and its table, None until the lists are read."""
        name = self.query_one("#today-tabs", TabbedContent).active
        tables = self.query(f"#{name}-table").results(TodayTable)
        return name, next(tables, None)

    def _highlighted(self) -> tuple[int | None, int | None, str]:
        """(the row's key, its client, the client's name) of the active list's highlighted row; Nones on an empty
        list."""
        _, table = self._active()
        if table is None:
            return None, None, ""
        row = table.cursor_row
        if not table.row_count or not 0 <= row < len(table.row_keys):
            return None, None, ""
        return table.row_keys[row], table.client_ids[row], table.client_names[row]

    @on(DataTable.RowSelected)
    def _row_chosen(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_card()

    def action_open_card(self) -> None:
        _, client_id, _ = self._highlighted()
        if client_id is None:
            return
        from screens.card.screen import CardScreen

        CardScreen.open(self.app, self.identity, client_id, lambda _saved: self._load())

    # --- the administrator's reminders ------------------------------------------------------------

    def _highlighted_reminder(self) -> int | None:
        # Another tab's rows are clients and subscriptions, not reminders.
        return self._highlighted()[0] if self._active()[0] == "reminders" else None

    def action_tick(self) -> None:
        reminder_id = self._highlighted_reminder()
        if reminder_id is not None:
            self._tick(reminder_id)

    @database_work(group="today-reminder")
    def _tick(self, reminder_id: int) -> ReminderChanged:
        reminders.tick_off(reminder_id)
        return self.ReminderChanged(t("The reminder is done."))

    def action_postpone(self, how: str) -> None:
        reminder_id = self._highlighted_reminder()
        if reminder_id is not None and self.view is not None:
            self._postpone(reminder_id, reminders.POSTPONE_DAYS[how], self.view.today)

    @database_work(group="today-reminder")
    def _postpone(self, reminder_id: int, days: int, today: date) -> ReminderChanged:
        due = reminders.postpone(reminder_id, days, today)
        return self.ReminderChanged(t("The reminder is now due on {day}.", day=due.isoformat()))

    def action_add_reminder(self) -> None:
        if self.view is None:
            return
        _, client_id, client_name = self._highlighted()
        self.app.push_screen(ReminderDialog(self.view.today, client_id, client_name, self.identity.login),
                             self._reminder_typed)

    def _reminder_typed(self, typed: NewReminder | None) -> None:
        if typed is not None:
            self._add(typed)

    @database_work(group="today-reminder")
    def _add(self, typed: NewReminder) -> ReminderChanged:
        reminders.add(typed.due_on, typed.text, typed.assignee, typed.client_id)
        return self.ReminderChanged(t("The reminder is added."))

    # --- the administrator's greetings --------------------------------------------------------------

    def action_greet(self) -> None:
        name, table = self._active()
        if name != "birthdays" or table is None or not 0 <= table.cursor_row < len(self.birthday_rows):
            return
        birthday = self.birthday_rows[table.cursor_row]
        if birthday.relative_name and birthday.relation != "child":
            self.notify(t("Greetings go to a client's own birthday and their children's."), severity="warning")
            return
        self._greet(birthday)

    @database_work(group="today-greet")
    def _greet(self, birthday: reads.Birthday) -> Greeted:
        greeting = trigger_templates.greet_birthday(birthday.client_id, birthday.on_day,
                                                    child=bool(birthday.relative_name), now=datetime.now(timezone.utc))
        if greeting.campaign_id is None:
            raw = greeting.skip_reason or ""
            reason = t(labels.SKIP_REASON[raw]) if raw in labels.SKIP_REASON else raw
            return self.Greeted(t("No greeting queued for {name}: {reason}.", name=birthday.client_name,
                                  reason=reason), queued=False)
        return self.Greeted(t("The birthday greeting for {name} is queued.", name=birthday.client_name), queued=True)

    @on(Greeted)
    def _greeted(self, message: Greeted) -> None:
        self.notify(message.said, severity="information" if message.queued else "warning")

    @on(ReminderChanged)
    def _reminder_changed(self, message: ReminderChanged) -> None:
        self.notify(message.said)
        self._load()

    def action_next_assignee(self) -> None:
        if self.view is None:
            return
        choices: list[str | None] = [None, *self.view.assignees]
        at = choices.index(self.assignee) if self.assignee in choices else 0
        self.assignee = choices[(at + 1) % len(choices)]
        self.notify(t("Reminders of {login}", login=self.assignee) if self.assignee else t("Everyone's reminders"))
        self._load()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "open_card":
            # No list yet, no card to open. Once the list is focused its own Enter is shown in place of this one,
            # so the footer's keys are the same before and after the lists are read: not rebuilt on every opening.
            return self.is_mounted and self._active()[1] is not None
        if action in WRITE_ACTIONS:
            if not self.identity.can_write:
                return False  # read-only logins see no write key (and the database refuses them anyway)
            if action == "greet":
                return self.is_mounted and self.query_one("#today-tabs", TabbedContent).active == "birthdays"
            on_reminders = self.is_mounted and self.query_one("#today-tabs", TabbedContent).active == "reminders"
            return action in ("add_reminder", "next_assignee") or on_reminders
        return True


def _day(day: date, today: date) -> str:
    """Today, tomorrow, or the date with its distance: what a salesperson plans a call by."""
    distance = (day - today).days
    if distance == 0:
        return t("today")
    if distance == 1:
        return t("tomorrow")
    if distance > 0:
        return tn("{day}, in {n} day", "{day}, in {n} days", distance, day=day.strftime("%d.%m"), n=distance)
    return tn("{day}, {n} day ago", "{day}, {n} days ago", -distance, day=day.strftime("%d.%m"), n=-distance)
