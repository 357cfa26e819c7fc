"""Audit: who changed what and when, for the manager and the administrator (the database refuses salespeople,
and their footer has no key for it).

The Changes tab lists the log newest first, a page at a time (the next page is read as the cursor nears the end);
under it, the highlighted change's fields, the old value beside the new one, by their names in words. Enter opens
the client the change concerns. f sets the filters (login, client, table, period), c keeps only the highlighted
change's client, Esc drops every filter. The Per day tab sums each login's work per day over the period.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Static, TabbedContent, TabPane

from db import session
from db.audit import fields, reads
from db.audit.reads import AuditFilter
from db.i18n import grouped, t
from db.session import Identity
from screens.audit.dialogs import FilterDialog
from screens.base import DatabaseScreen, database_work
from tui.widgets.connection import ConnectionBack
from tui.widgets.app_header import AppHeader
from tui.widgets.footer import SteadyFooter

# The summary's period when no period is chosen: the log may hold years.
SUMMARY_DAYS = 7
# Rows left below the cursor when the next page is asked for.
READ_AHEAD = 5


class AuditScreen(DatabaseScreen, Screen):
    @dataclass
    class Page(Message):
        audit: AuditFilter
        entries: list[reads.Entry]
        first: bool

    @dataclass
    class Summary(Message):
        audit: AuditFilter  # as asked
        period: AuditFilter  # as read: with the default period when none was asked
        days: list[reads.DaySummary]

    @dataclass
    class Choices(Message):
        logins: list[str]

    CSS_PATH = Path(__file__).with_name("audit.tcss")
    BINDINGS = [
        Binding("enter", "open_card", t("Card"), tooltip=t("Open the client this change concerns"),
                id="audit.card"),
        Binding("f", "filters", t("Filters"), tooltip=t("Filter by login, client, table and period"),
                id="audit.filters"),
        Binding("c", "this_client", t("This client"), tooltip=t("Only the changes of the highlighted change's "
                                                                 "client"), id="audit.client"),
        Binding("escape", "clear_filters", t("All"), tooltip=t("Drop every filter"), id="audit.clear"),
        Binding("l", "reload", t("Reload"), tooltip=t("Read the log again from the newest change"),
                id="audit.reload"),
        Binding("1", "show_tab('changes')", t("Changes"), show=False, tooltip=t("Show the changes"),
                id="audit.tab.changes"),
        Binding("2", "show_tab('days')", t("Per day"), show=False, tooltip=t("Show each login's work per day"),
                id="audit.tab.days"),
    ]

    def __init__(self, identity: Identity) -> None:
        super().__init__()
        self.identity = identity
        self.audit = AuditFilter()
        self.entries: list[reads.Entry] = []
        self.complete = False
        self.reading = False
        self.logins: list[str] = []

    def compose(self) -> ComposeResult:
        yield AppHeader()
        yield Static("", id="audit-status")
        with TabbedContent(id="audit-tabs"):
            with TabPane(t("Changes"), id="changes"):
                yield DataTable(id="audit-list", cursor_type="row", zebra_stripes=True)
                yield Static("", id="audit-what")
                yield DataTable(id="audit-fields", cursor_type="none", show_cursor=False)
            with TabPane(t("Per day"), id="days"):
                yield Static("", id="days-note")
                yield DataTable(id="audit-days", cursor_type="row", zebra_stripes=True)
        yield SteadyFooter()

    def on_mount(self) -> None:
        listing = self.query_one("#audit-list", DataTable)
        listing.add_columns(t("When"), t("Login"), t("What"), t("Client"))
        self.query_one("#audit-fields", DataTable).add_columns(t("Field"), t("Before"), t("After"))
        self.query_one("#audit-days", DataTable).add_columns(
            t("Day"), t("Login"), t("Clients added"), t("Clients edited"), t("Purchases"), t("Mailings started"))
        self._choices()
        self._restart()

    # --- reading ----------------------------------------------------------------------------------

    def _restart(self) -> None:
        self.entries, self.complete = [], False
        self.query_one("#audit-list", DataTable).clear()
        self._show_fields(None)
        self._say_status()
        self.reading = True
        self._read_page(self.audit, None, True)
        self._read_summary(self.audit)

    @database_work(group="audit-page")
    def _read_page(self, audit: AuditFilter, after, first: bool) -> Page:
        return self.Page(audit, session.read(reads.load_page, audit, after), first)

    @database_work(group="audit-summary")
    def _read_summary(self, audit: AuditFilter) -> Summary:
        period = audit
        if audit.since is None and audit.until is None:
            until = session.read(reads.today)
            period = replace(audit, since=until - timedelta(days=SUMMARY_DAYS - 1), until=until)
        return self.Summary(audit, period, session.read(reads.load_summary, period))

    @database_work(group="audit-choices")
    def _choices(self) -> Choices:
        return self.Choices(session.read(reads.load_logins))

    @on(Choices)
    def _got_choices(self, message: Choices) -> None:
        self.logins = message.logins

    @on(Page)
    def _got_page(self, message: Page) -> None:
        if message.audit != self.audit:
            return  # the filters changed while it was read
        self.reading = False
        listing = self.query_one("#audit-list", DataTable)
        for entry in message.entries:
            table = t(fields.TABLE.get(entry.table_name, entry.table_name))
            what = f"{table} {t(fields.ACTION.get(entry.action, entry.action))}"
            client = entry.client_name or (f"#{entry.client_id}" if entry.client_id is not None else "")
            listing.add_row(entry.local_at.strftime("%d.%m.%y %H:%M"), entry.login[:14], what[:26],
                            client[:24])
        self.entries.extend(message.entries)
        self.complete = len(message.entries) < reads.PAGE_SIZE
        if message.first:
            listing.focus()
            self._show_fields(self.entries[0] if self.entries else None)
        self._say_status()

    @on(Summary)
    def _got_summary(self, message: Summary) -> None:
        if message.audit != self.audit:
            return
        period = message.period
        self.query_one("#days-note", Static).update(
            t("Each login's work per day, {since} to {until}.", since=period.since.isoformat() if period.since else "…",
              until=period.until.isoformat() if period.until else "…"))
        table = self.query_one("#audit-days", DataTable)
        table.clear()
        for day in message.days:
            table.add_row(day.day.isoformat(), day.login[:14], grouped(day.clients_created),
                          grouped(day.clients_edited), grouped(day.purchases_entered), grouped(day.mailings_started))

    def _say_status(self) -> None:
        audit = self.audit
        parts = []
        if audit.login:
            parts.append(t("login {login}", login=audit.login))
        if audit.client_id is not None:
            parts.append(t("client #{id}", id=audit.client_id))
        if audit.table_name:
            parts.append(t(fields.TABLE.get(audit.table_name, audit.table_name)))
        if audit.since or audit.until:
            parts.append(f"{audit.since.isoformat() if audit.since else '…'} – "
                         f"{audit.until.isoformat() if audit.until else '…'}")
        shown = t("{n:,} changes shown", n=len(self.entries)) + ("" if self.complete else "+")
        filters = " · ".join(parts) if parts else t("no filter (f filters)")
        self.query_one("#audit-status", Static).update(f"{shown} · {filters}")

    # --- the highlighted change -------------------------------------------------------------------

    @on(DataTable.RowHighlighted, "#audit-list")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        row = event.cursor_row
        self._show_fields(self.entries[row] if 0 <= row < len(self.entries) else None)
        if not self.complete and not self.reading and row >= len(self.entries) - READ_AHEAD and self.entries:
            self.reading = True
            self._read_page(self.audit, self.entries[-1].key, False)

    def _show_fields(self, entry: reads.Entry | None) -> None:
        table = self.query_one("#audit-fields", DataTable)
        table.clear()
        if entry is None:
            self.query_one("#audit-what", Static).update(t("No change matches these filters.") if self.complete
                                                         else "")
            return
        when = entry.local_at.strftime("%Y-%m-%d %H:%M:%S")
        row = f" #{entry.row_id}" if entry.row_id else ""
        self.query_one("#audit-what", Static).update(
            t("{login}, {when}: {table}{row} {action}", login=entry.login, when=when,
              table=t(fields.TABLE.get(entry.table_name, entry.table_name)), row=row,
              action=t(fields.ACTION.get(entry.action, entry.action))))
        for change in fields.changes(entry):
            table.add_row(t(change.label)[:22], change.old[:27], change.new[:27])

    def _entry(self) -> reads.Entry | None:
        row = self.query_one("#audit-list", DataTable).cursor_row
        return self.entries[row] if 0 <= row < len(self.entries) else None

    @on(DataTable.RowSelected, "#audit-list")
    def _row_chosen(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_card()

    def action_open_card(self) -> None:
        entry = self._entry()
        if entry is None or entry.client_id is None:
            return
        if not entry.client_name:
            self.notify(t("This client no longer exists; the change is all that is left of them."))
            return
        from screens.card.screen import CardScreen

        CardScreen.open(self.app, self.identity, entry.client_id)

    # --- filters ----------------------------------------------------------------------------------

    def action_filters(self) -> None:
        self.app.push_screen(FilterDialog(self.audit, self.logins, fields.TABLE), self._filtered)

    def _filtered(self, audit: AuditFilter | None) -> None:
        if audit is not None and audit != self.audit:
            self.audit = audit
            self._restart()

    def action_this_client(self) -> None:
        entry = self._entry()
        if entry is not None and entry.client_id is not None:
            self._filtered(replace(self.audit, client_id=entry.client_id))

    def action_clear_filters(self) -> None:
        self._filtered(AuditFilter())

    def action_reload(self) -> None:
        self._restart()

    def action_show_tab(self, name: str) -> None:
        self.query_one("#audit-tabs", TabbedContent).active = name
        self.query_one("#audit-list" if name == "changes" else "#audit-days", DataTable).focus()

    def on_connection_back(self, message: ConnectionBack) -> None:
        self._restart()
