"""The clients list: type-ahead search, filters, sort and the count over a virtual, keyset-paged list.

Focus starts in the search box: typing searches, the arrows and Page keys move the selection, Enter opens
the card. Tab, Escape or Down leaves the box for the list, where single letters are keys (new, filters,
sort, segments); "/" goes back to the search.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input, Static

from db import session, settings
from db.clients import listing as clients

from db.transfer import export as exporting

from db.clients import segments
from db.card.values import format_date
from db.analytics import drill
from db.clients.listing import ClientRow, Count, Criteria, Filters
from db.errors import UserError
from db.i18n import N_, t, tn
from db.session import Identity
from screens.base import DatabaseScreen, database_work
from tui.widgets.connection import ClientsChanged, ConnectionBack
from tui.widgets.app_header import AppHeader
from tui.widgets.footer import SteadyFooter
from tui.widgets.money import money, money_title
from tui.widgets.phone import phone
from tui.widgets.virtual_list import Column, VirtualList
from db import labels

# A saved segment may hold a dashboard drill-down: its filters must be known before the first segment loads.
drill.register()

SORT_ORDER = tuple(clients.SORTS)
WRITE_ACTIONS = {"new_client", "save_segment", "import_file", "client_actions", "logins", "settings", "backup",
                 "mail_clients"}
COUNT_AFTER_SECONDS = 0.25
# The card editor is built in the background once the list is on screen, after the first page has painted.
PREPARE_CARD_AFTER_SECONDS = 0.5
PAGE_SIZE = clients.PAGE


@dataclass(frozen=True)
class Formats:
    """How the shop writes dates and money (its settings), read once with the first page."""

    day_first: bool = True
    currency: str = ""


def read_formats() -> Formats:
    values = {setting.key: setting.value for setting in settings.list_settings()}
    return Formats(values["date_day_first"] == "yes", values["currency"])


class ShownRow:
    """A fetched row with its cells written out once, when its page arrives (in the worker), as the card
    writes them: the list paints every visible row again on each scroll step, and parsing a phone number
    costs more than painting its line. Everything else is the row's own (`id`, `search`, ...)."""

    __slots__ = ("row", "id", "name", "email", "city", "category", "phone", "last_purchase", "spent", "birthday")

    def __init__(self, row: ClientRow, formats: Formats) -> None:
        self.row = row
        self.id, self.name, self.email, self.city, self.category = row.id, row.name, row.email, row.city, row.category
        self.phone = phone(row.phone)
        when = row.last_purchase_at
        self.last_purchase = format_date(when.astimezone().date(), formats.day_first) if when else ""
        self.spent = money(row.total_spent, decimals=0)
        self.birthday = format_date(row.birth_date, formats.day_first) if row.birth_date else ""

    def __getattr__(self, name: str) -> object:
        return getattr(self.row, name)


def columns(currency: str, sort: str = "name") -> list[Column]:
    # The narrowest widths let name, phone (+7 912 345-67-89), e-mail, city, last purchase and amount share
    # an 80-column terminal (76 inside the scrollbar); wider terminals give the spare to the names. The
    # birthday is the first to go, unless the list is sorted by it: then it is the second to stay.
    birthday_kept = sort == "birthday"
    return [
        Column(t("Name"), lambda row: row.name, width=14, flex=3, priority=1),
        Column(t("Birthday"), lambda row: row.birthday, width=10, priority=2 if birthday_kept else 9),
        Column(t("Phone"), lambda row: row.phone, width=16, priority=3 if birthday_kept else 2),
        Column(t("E-mail"), lambda row: row.email, width=12, flex=2, priority=7 if birthday_kept else 6),
        Column(t("City"), lambda row: row.city, width=9, flex=1, priority=6 if birthday_kept else 5),
        Column(t("Category"), lambda row: t(labels.CLIENTS_CATEGORY[row.category]), width=9, priority=8),
        Column(t("Last buy"), lambda row: row.last_purchase, width=10, priority=5 if birthday_kept else 4),
        Column(money_title(t("Spent"), currency), lambda row: row.spent, width=10, right=True,
               priority=4 if birthday_kept else 3),
    ]


_LABELLED_FILTERS = {
    "category", "segment", "tag", "region", "city", "assigned_to", "gender", "age_min", "age_max",
    "has_children", "archived", "birthday_within", "no_purchase_days", "spent_min", "spent_max", "abc_class",
    "ae_class", "rfm_segment", "rfm_cell", "segment_move", "abc_move", "ae_move", "cohort", "analytics_category",
    "inactive_days", "clv_bucket", "pareto_top", "cohort_back", "cohort_not_back", "month_revenue", "top_value"}
# How the dashboard's drill-downs (db/analytics/drill.py) read in the filter line.
_DRILL_VALUES = {
    "rfm_cell": lambda value: "R {} · F {}".format(*value.split(",")),
    "rfm_segment": labels.rfm_segment,
    "segment_move": lambda value: " → ".join(labels.rfm_segment(name) for name in value.split(">")),
    "abc_move": lambda value: value.replace(">", " → "),
    "ae_move": lambda value: value.replace(">", " → "),
    "analytics_category": lambda value: t(labels.DASHBOARD_BOUGHT[value]),
    "pareto_top": lambda value: f"{value} %",
}


def describe_filters(filters: Filters, segment_name: str | None = None) -> str:
    parts = [f"{t('Segment')}: {segment_name}"] if segment_name else []
    for name, value in filters.active():
        if name == "segment_id":
            continue
        label = t(labels.CLIENTS_FILTER[name]) if name in _LABELLED_FILTERS else name
        if name == "category":
            value = t(labels.CLIENTS_CATEGORY[value])
        elif name in ("has_children", "archived"):
            value = t("yes") if value == "True" else t("no")
        elif name == "gender":
            value = t(labels.CLIENTS_GENDER[value])
        elif name in _DRILL_VALUES:
            value = _DRILL_VALUES[name](value)
        parts.append(f"{label}: {value}")
    return " · ".join(parts)


class ClientsScreen(DatabaseScreen, Screen):
    HELP = N_("Every client of the shop. Type to search by name, phone, e-mail or company; Tab goes to the list, where "
              "Enter opens the card and single letters are keys: filters, sort, segments, import and export, and for "
              "the administrator archive (A), products (P), logins (U), settings (O) and backup (B).")

    @dataclass
    class ExportRightRead(Message):
        allowed: bool

    @dataclass
    class Counted(Message):
        criteria: Criteria
        count: Count

    @dataclass
    class RowsRead(Message):
        """Fresh rows of clients saved elsewhere, by id, written out for the list."""

        rows: dict[int, ShownRow]

    @dataclass
    class SegmentSaved(Message):
        segment: segments.SegmentInfo

    CSS_PATH = Path(__file__).with_name("clients.tcss")
    BINDINGS = [
        Binding("n", "new_client", t("New"), tooltip=t("Create a new client card"), id="clients.new"),
        Binding("f", "filters", t("Filters"), tooltip=t("Choose "
                                                                    "filters for the list"), id="clients.filters"),
        Binding("x", "clear_filters", t("Clear"), tooltip=t("Remove every filter and the loaded segment"),
                id="clients.clear"),
        Binding("s", "next_sort", t("Sort"), tooltip=t("Sort by name, last purchase, total spent, date added or "
                                                       "next birthday, in turn"), id="clients.sort"),
        # Off the footer (full at 80 columns); in the palette and F1 under its name.
        Binding("v", "reverse_sort", t("Reverse sort"), tooltip=t("Turn the current sort's order round"),
                show=False, id="clients.reverse_sort"),
        Binding("g", "segments", t("Segments"), tooltip=t("Load a saved segment"),
                id="clients.segments"),
        # Off the footer so that the keys fit in 80 columns; it is in the palette under its name.
        Binding("ctrl+s", "save_segment", t("Save segment"), tooltip=t("Save the current search and "
                                                                                   "filters as a segment"),
                show=False, id="clients.save_segment"),
        Binding("i", "import_file", t("Import"), tooltip=t("Import clients or purchases from a CSV, XLSX "
                                                                       "or vCard file"),
                id="clients.import"),
        Binding("e", "export_file", t("Export"), tooltip=t("Export the clients the list shows now to a "
                                                                       "file"),
                id="clients.export"),
        # One key for archive, delete and forget (a menu): the list's letters are nearly all taken, and the footer
        # is full at 80 columns, so it is off the footer, in the palette under its name (like Save segment).
        Binding("a", "client_actions", t("Archive…"), tooltip=t("Archive, restore, delete or forget the selected "
                                                               "client"), show=False, id="clients.client_actions"),
        # Off the footer for want of room; in the palette and F1. Every login reads the catalogue.
        Binding("p", "products", t("Products"), tooltip=t("The product catalogue: names, prices, costs, passes"),
                show=False, id="clients.products"),
        Binding("u", "logins", t("Logins"), tooltip=t("Add a login, set a password, disable a login"),
                show=False, id="clients.logins"),
        Binding("o", "settings", t("Settings"), tooltip=t("The shop's settings: phone country, currency, send window…"),
                show=False, id="clients.settings"),
        Binding("b", "backup", t("Backup"), tooltip=t("Save the whole base to a file, with progress"),
                show=False, id="clients.backup"),
        # Off the footer (full at 80 columns); in the palette under its name.
        Binding("m", "mail_clients", t("Mail these clients"), tooltip=t("Create a campaign for the clients the "
                                                                        "list shows: its segment or its search and "
                                                                        "filters"), show=False, id="clients.mail"),
        Binding("r", "refresh", t("Refresh"), tooltip=t("Read "
                                                                    "the list again from the database"), show=False,
                id="clients.refresh"),
        Binding("slash", "focus_search", t("Search"), tooltip=t("Go to the search box"),
                id="clients.search"),
        Binding("escape", "focus_list", t("List"), tooltip=t("Go "
                                                                         "from the search box to the list"), show=False,
                id="clients.list"),
        Binding("down", "move(1)", t("Down"), tooltip=t("Select the row below"), show=False,
                id="clients.down"),
        Binding("up", "move(-1)", t("Up"), tooltip=t("Select the row above"), show=False,
                id="clients.up"),
        Binding("pagedown", "move(20)", t("Page down"), tooltip=t("Go down one screenful"), show=False,
                id="clients.page_down"),
        Binding("pageup", "move(-20)", t("Page up"), tooltip=t("Go up one screenful"), show=False,
                id="clients.page_up"),
    ]

    def __init__(self, identity: Identity) -> None:
        super().__init__()
        self.identity = identity
        self.criteria = Criteria()
        self.sales_may_export = False
        self.segment_name: str | None = None
        self.count: Count | None = None
        self.fuzzy = False
        self._reads = session.Cancellable()
        self._count_timer: Timer | None = None
        self._card_editor_prepared = False
        self.formats: Formats | None = None
        self._titled_for: tuple[str, str] | None = None

    def compose(self) -> ComposeResult:
        yield AppHeader()
        yield Input(placeholder=t("Search: name, phone, e-mail or company"), id="search", compact=True)
        yield Static("", id="status")
        yield Static("", id="active-filters")
        yield VirtualList(columns(""), PAGE_SIZE, placeholder=t("Loading…"), empty=t("No client matches."),
                          id="list")
        yield SteadyFooter()

    def on_mount(self) -> None:
        self.query_one("#search", Input).focus()
        self._reload()
        if self.identity.role == "sales":
            self._load_export_right()

    @database_work(group="clients-export-right")
    def _load_export_right(self) -> ExportRightRead:
        try:
            session.read(exporting.check_may_export)
        except UserError:
            return self.ExportRightRead(False)
        return self.ExportRightRead(True)

    @on(ExportRightRead)
    def _export_right_read(self, message: ExportRightRead) -> None:
        self.sales_may_export = message.allowed
        self.refresh_bindings()

    @property
    def list(self) -> VirtualList:
        return self.query_one("#list", VirtualList)

    # --- loading ----------------------------------------------------------------------------------

    def _reload(self, keep_position: bool = False) -> None:
        criteria = self.criteria
        self.count = None
        self._show_status()
        self.refresh_bindings()
        # The previous search's statements stop on the server; the new one does not queue behind them.
        self._reads.cancel()
        self._reads = reads = session.Cancellable()
        if self._count_timer is not None:
            self._count_timer.stop()
            self._count_timer = None
        self.list.load(lambda start: self._shown(reads.run(clients.find_page, criteria, self._page_start(start),
                                                           PAGE_SIZE)), keep_position)

    def _shown(self, page: clients.Page) -> clients.Page:
        """The page with its rows written out for the list (runs in the page's worker)."""
        if self.formats is None:
            self.formats = session.read(read_formats)
        return replace(page, rows=tuple(ShownRow(row, self.formats) for row in page.rows))

    def _page_start(self, start: clients.Cursor | int | None) -> clients.Cursor | clients.RowNumber | None:
        # The list asks for a page it jumps to by its row number; the search stays in its mode (fuzzy or not).
        return clients.RowNumber(start, self.fuzzy) if isinstance(start, int) else start

    @on(VirtualList.Loaded, "#list")
    def _page_loaded(self, event: VirtualList.Loaded) -> None:
        titled_for = (self.formats.currency, self.criteria.sort) if self.formats is not None else None
        if titled_for is not None and titled_for != self._titled_for:
            self._titled_for = titled_for
            self.list.columns = columns(*titled_for)
            self.list.refresh()
        end = self.list.counted_end
        if self.count is not None and not self.count.exact and end is not None:
            # A jump reached the last match: the estimate gives way to the number.
            self.count = Count(end, exact=True)
            self._show_status()
        if event.first:
            self.fuzzy = event.page.fuzzy
            self._show_status()
            # Counted once the first page is on screen and the typing has paused, so that counting
            # never delays a page.
            criteria, fuzzy, reads = self.criteria, self.fuzzy, self._reads
            self._count_timer = self.set_timer(COUNT_AFTER_SECONDS, lambda: self._count(criteria, fuzzy, reads))
            if not self._card_editor_prepared:
                self._card_editor_prepared = True
                self.set_timer(PREPARE_CARD_AFTER_SECONDS, self._prepare_card_editor)

    @database_work(group="clients-count")
    def _count(self, criteria: Criteria, fuzzy: bool, reads: session.Cancellable, exact: bool = False) -> Counted:
        return self.Counted(criteria, reads.run(clients.count, criteria, fuzzy, None, exact))

    @on(VirtualList.NeedsExactTotal, "#list")
    def _count_exactly(self) -> None:
        # End on an estimated count: counting every match (30 ms to 400 ms on a million rows) and then one
        # jump is faster than jumping by the estimate and correcting, and lands on the last row at once.
        self._count(self.criteria, self.fuzzy, self._reads, exact=True)

    @on(Counted)
    def _counted(self, message: Counted) -> None:
        if message.criteria == self.criteria:
            self.count = message.count
            self.list.set_total(message.count.value, message.count.exact)
            self._show_status()

    def _show_status(self) -> None:
        if self.count is None:
            count = t("counting…")
        elif self.count.exact:
            count = tn("{count:,} client", "{count:,} clients", self.count.value)
        else:
            count = tn("about {count:,} client", "about {count:,} clients", self.count.value)
        sort = t(labels.CLIENTS_SORT[self.criteria.sort])
        parts = [count, t("sorted by {sort}, reversed", sort=sort) if self.criteria.reverse
                 else t("sorted by {sort}", sort=sort)]
        if self.fuzzy:
            parts.append(t("few exact matches, similar names shown too"))
        self.query_one("#status", Static).update(" · ".join(parts))
        described = describe_filters(self.criteria.filters, self.segment_name)
        active = self.query_one("#active-filters", Static)
        active.update(t("Filters: {filters}  (x clears)", filters=described) if described else "")
        active.display = bool(described)

    @on(VirtualList.Failed, "#list")
    def _page_failed(self, event: VirtualList.Failed) -> None:
        # The list's page workers are the list's own; their failures are told apart here like this screen's.
        self.worker_failed(event.error)

    def on_connection_back(self, message: ConnectionBack) -> None:
        self._reload(keep_position=True)

    def on_clients_changed(self, message: ClientsChanged) -> None:
        if message.changes.everything:
            self._reload(keep_position=True)
            return
        shown = {row.id for row in self.list.cached_rows()} & message.changes.ids
        if shown:
            self._refresh_rows(sorted(shown))

    @database_work(group="clients-rows", exclusive=False)
    def _refresh_rows(self, ids: list[int]) -> RowsRead:
        fresh = session.read(clients.get_rows, ids)
        formats = self.formats or session.read(read_formats)
        return self.RowsRead({key: ShownRow(row, formats) for key, row in fresh.items()})

    @on(RowsRead)
    def _rows_read(self, message: RowsRead) -> None:
        self.list.replace_rows(message.rows, lambda row: row.id)

    # --- searching --------------------------------------------------------------------------------

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        if event.value != self.criteria.text:
            self.segment_name = None  # the search is no longer the saved segment's
            self.criteria = replace(self.criteria, text=event.value)
            self._reload()

    @on(Input.Submitted, "#search")
    def _search_submitted(self) -> None:
        self.action_open()

    @on(VirtualList.Chosen, "#list")
    def _chosen(self) -> None:
        self.action_open()

    def action_move(self, delta: int) -> None:
        self.list.move_cursor(delta)

    def action_focus_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_focus_list(self) -> None:
        self.list.focus()

    def action_refresh(self) -> None:
        self._reload(keep_position=True)

    def action_next_sort(self) -> None:
        position = SORT_ORDER.index(self.criteria.sort)
        self.criteria = clients.with_sort(self.criteria, SORT_ORDER[(position + 1) % len(SORT_ORDER)])
        self._reload()

    def action_reverse_sort(self) -> None:
        self.criteria = clients.reversed_sort(self.criteria)
        self._reload()

    # --- filters and segments ---------------------------------------------------------------------

    def action_filters(self) -> None:
        from screens.clients.filters import FiltersScreen

        panel = FiltersScreen(self.criteria.filters)

        def chosen(filters: Filters | None) -> None:
            if filters is not None and filters != self.criteria.filters:
                self.segment_name = panel.segment_name
                self.criteria = replace(self.criteria, filters=filters)
                self._reload()

        self.app.push_screen(panel, chosen)

    def show_filters(self, filters: Filters) -> None:
        """The list of exactly the clients these filters select, the search emptied (the dashboard's
        drill-down); Ctrl+S saves it as a segment like any other filters."""
        self.segment_name = None
        self.criteria = Criteria(filters=filters, sort=self.criteria.sort, reverse=self.criteria.reverse)
        search = self.query_one("#search", Input)
        with search.prevent(Input.Changed):
            search.value = ""
        self._reload()
        self.list.focus()

    def action_clear_filters(self) -> None:
        if self.criteria.filters != Filters() or self.segment_name:
            self.segment_name = None
            self.criteria = replace(self.criteria, filters=Filters())
            self._reload()

    def action_segments(self) -> None:
        from screens.clients.segments import SegmentPicker

        self.app.push_screen(SegmentPicker(self.identity.can_write), self._segment_chosen)

    def _segment_chosen(self, segment: segments.SegmentInfo | None) -> None:
        if segment is None:
            return
        self.segment_name = segment.name
        self.criteria = segment.criteria
        search = self.query_one("#search", Input)
        with search.prevent(Input.Changed):
            search.value = segment.criteria.text
        self._reload()

    def action_save_segment(self) -> None:
        from screens.clients.segments import SegmentNameDialog

        self.app.push_screen(SegmentNameDialog(self.segment_name or ""), self._segment_named)

    def _segment_named(self, name: str | None) -> None:
        if name:
            self._save_segment(name, self.criteria)

    @database_work(group="clients-segment", exclusive=False)
    def _save_segment(self, name: str, criteria: Criteria) -> SegmentSaved:
        return self.SegmentSaved(segments.save(name, criteria))

    @on(SegmentSaved)
    def _segment_saved(self, message: SegmentSaved) -> None:
        self.segment_name = message.segment.name
        self._show_status()
        self.notify(t("Saved the segment '{name}'.", name=message.segment.name))

    # --- the card ---------------------------------------------------------------------------------

    def action_open(self) -> None:
        row: ClientRow | None = self.list.current
        if row is not None:
            self._open_card(row.id)

    def action_new_client(self) -> None:
        self._open_card(None)

    def action_client_actions(self) -> None:
        from screens.admin.client_actions import ClientActionsScreen

        row: ClientRow | None = self.list.current
        if row is None:
            return

        def returned(changed: bool | None) -> None:
            if changed:
                self._reload(keep_position=True)

        self.app.push_screen(ClientActionsScreen(row.id), returned)

    def action_products(self) -> None:
        from screens.admin.products import ProductsScreen

        self.app.push_screen(ProductsScreen(self.identity))

    def action_logins(self) -> None:
        from screens.admin.logins import LoginsScreen

        self.app.push_screen(LoginsScreen(self.identity))

    def action_settings(self) -> None:
        from screens.admin.logins import SettingsScreen

        def closed(_: None) -> None:
            self.formats = None  # the date order or the currency may have changed
            self._reload(keep_position=True)

        self.app.push_screen(SettingsScreen(), closed)

    def action_backup(self) -> None:
        from screens.admin.backup import BackupScreen

        self.app.push_screen(BackupScreen())

    def action_import_file(self) -> None:
        from screens.transfer.import_dialog import ImportFileScreen

        def returned(wrote: bool | None) -> None:
            if wrote:
                self._reload()

        self.app.push_screen(ImportFileScreen(), returned)

    def action_export_file(self) -> None:
        from screens.transfer.export_dialog import ExportFileScreen

        self.app.push_screen(ExportFileScreen(criteria=self.criteria))

    async def action_mail_clients(self) -> None:
        criteria, segment = self.criteria, self.segment_name
        await self.app.switch_mode("mailing")
        # The mailing mode's own screen, under any campaign left open in that mode.
        self.app.screen_stack[0].new_campaign(criteria=None if segment else criteria, segment=segment)

    def _prepare_card_editor(self) -> None:
        from screens.card.screen import CardScreen

        first = self.list.row_at(0)
        CardScreen.prepare(self.app, self.identity, first.id if first is not None else None)

    def _open_card(self, client_id: int | None) -> None:
        from screens.card.screen import CardScreen

        def returned(saved_id: int | None) -> None:
            if saved_id is None:
                return
            if client_id is None:
                self._reload()
            else:
                self._refresh_rows([saved_id])

        CardScreen.open(self.app, self.identity, client_id, returned)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in WRITE_ACTIONS and not self.identity.can_write:
            return False
        if action == "clear_filters":
            # Shown only when there is something to clear.
            return self.criteria.filters != Filters() or self.segment_name is not None
        if action == "export_file":
            # Only keeps a key the login may not use off the footer: db/exporting refuses anyway. Salespeople
            # are asked about once the screen is up (it depends on a setting); the others know by their role.
            return self.identity.role in ("admin", "manager") or self.sales_may_export
        return True
