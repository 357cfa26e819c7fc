"""The audit's filters: login, client number, table and period (dates in the shop's time zone, both included)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Select, Static

from db.audit.reads import AuditFilter
from db.i18n import t


class FilterDialog(ModalScreen[AuditFilter | None]):
    """Tab moves between the boxes, Enter in a text box applies the filters, Esc cancels."""

    CSS_PATH = Path(__file__).with_name("audit.tcss")
    BINDINGS = [Binding("escape", "cancel", t("Cancel"), tooltip=t("Close without changing the filters"),
                        id="audit.filters.cancel")]

    def __init__(self, audit: AuditFilter, logins: list[str], tables: dict[str, str]) -> None:
        super().__init__()
        self.audit = audit
        self.logins = logins
        self.tables = tables

    def compose(self) -> ComposeResult:
        audit = self.audit
        with Vertical(id="filter-dialog", classes="clients-dialog"):
            yield Static(t("Which changes to show"), classes="clients-dialog-title")
            with Horizontal(classes="filter-row"):
                yield Label(t("Login"), classes="filter-label")
                yield Select([(login, login) for login in self.logins], value=audit.login or Select.NULL,
                             prompt=t("any"), id="filter-login", compact=True)
            with Horizontal(classes="filter-row"):
                yield Label(t("Client number"), classes="filter-label")
                yield Input("" if audit.client_id is None else str(audit.client_id), id="filter-client",
                            compact=True, restrict=r"[0-9]*", placeholder=t("any"))
            with Horizontal(classes="filter-row"):
                yield Label(t("Table"), classes="filter-label")
                yield Select([(t(label), name) for name, label in self.tables.items()],
                             value=audit.table_name or Select.NULL, prompt=t("any"), id="filter-table", compact=True)
            with Horizontal(classes="filter-row"):
                yield Label(t("From (YYYY-MM-DD)"), classes="filter-label")
                yield Input(audit.since.isoformat() if audit.since else "", id="filter-since", compact=True,
                            restrict=r"[0-9-]*", placeholder=t("any"))
            with Horizontal(classes="filter-row"):
                yield Label(t("To (YYYY-MM-DD)"), classes="filter-label")
                yield Input(audit.until.isoformat() if audit.until else "", id="filter-until", compact=True,
                            restrict=r"[0-9-]*", placeholder=t("any"))
            yield Static("", id="filter-error")
            yield Static(t("Tab moves · Enter applies · Esc cancels"), classes="clients-dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#filter-client", Input).focus()

    def _date(self, box: str) -> date | None:
        typed = self.query_one(box, Input).value.strip()
        if not typed:
            return None
        try:
            return date.fromisoformat(typed)
        except ValueError:
            raise ValueError(t("A date is written as YYYY-MM-DD, not “{value}”.", value=typed)) from None

    def on_input_submitted(self) -> None:
        try:
            since, until = self._date("#filter-since"), self._date("#filter-until")
        except ValueError as error:
            self.query_one("#filter-error", Static).update(str(error))
            return
        if since and until and since > until:
            self.query_one("#filter-error", Static).update(t("The period ends before it starts."))
            return
        client = self.query_one("#filter-client", Input).value.strip()
        login = self.query_one("#filter-login", Select).value
        table = self.query_one("#filter-table", Select).value
        self.dismiss(AuditFilter(login=login if isinstance(login, str) else None,
                                 client_id=int(client) if client else None,
                                 table_name=table if isinstance(table, str) else None, since=since, until=until))

    def action_cancel(self) -> None:
        self.dismiss(None)
