"""The filter panel: every filter of the clients list as one row; Ctrl+S (or Enter in a box) applies,
Escape cancels, Ctrl+R empties the panel. Returns the new Filters, or None when cancelled."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from decimal import Decimal, InvalidOperation

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Input, Label, Select, Static

from db import session
from db.analytics import reads as analytics
from db.clients import listing as clients

from db.card import custom_fields

from db.clients import filter_values

from db.clients import segments
from db.clients.listing import CATEGORIES, GENDERS, Filters
from db.errors import ValidationError
from db.card.values import CustomFieldDef
from db.i18n import t
from screens.base import DatabaseScreen, database_work
from db import labels

TEXT_FILTERS = ("tag", "region", "city", "assigned_to")
NUMBER_FILTERS = ("age_min", "age_max", "birthday_within", "no_purchase_days")
MONEY_FILTERS = ("spent_min", "spent_max")


class FiltersScreen(DatabaseScreen, ModalScreen[Filters | None]):
    @dataclass
    class ChoicesRead(Message):
        saved: list[segments.SegmentInfo]
        definitions: list[CustomFieldDef]
        rfm_segments: list[str]

    @dataclass
    class ValuesRead(Message):
        known: dict[str, list[str]]

    CSS_PATH = Path(__file__).with_name("clients.tcss")
    BINDINGS = [
        Binding("ctrl+s", "apply", t("Apply"), tooltip=t("Apply these filters to the list"),
                id="filters.apply"),
        Binding("escape", "cancel", t("Cancel"), tooltip=t("Close without changing the filters"),
                id="filters.cancel"),
        Binding("ctrl+r", "reset", t("Empty"), tooltip=t("Empty every filter in this panel"),
                id="filters.reset"),
    ]

    def __init__(self, filters: Filters) -> None:
        super().__init__()
        self.filters = filters
        self.segment_name: str | None = None  # the chosen segment's name, for the list to show
        self._segment_names: dict[int, str] = {}
        self._known: dict[str, list[str]] = {}

    def _row(self, name: str, widget) -> Horizontal:
        return Horizontal(Label(t(labels.CLIENTS_FILTER[name]), classes="filter-label"), widget, classes="filter-row")

    def compose(self) -> ComposeResult:
        f = self.filters
        with Vertical(id="filters-dialog"):
            yield Static(t("Filters"), classes="clients-dialog-title")
            with VerticalScroll():
                yield self._row("category", Select([(t(labels.CLIENTS_CATEGORY[c]), c) for c in CATEGORIES],
                                                   value=f.category or Select.NULL, prompt=t("any"),
                                                   id="category", compact=True))
                yield self._row("segment", Select([], prompt=t("any"), id="segment_id", compact=True))
                for name in TEXT_FILTERS:
                    yield self._row(name, Input(getattr(f, name) or "", id=name, compact=True))
                yield self._row("gender", Select([(t(labels.CLIENTS_GENDER[g]), g) for g in GENDERS],
                                                 value=f.gender or Select.NULL, prompt=t("any"),
                                                 id="gender", compact=True))
                yield self._row("has_children", Select(
                    [(t("yes"), True), (t("no"), False)], prompt=t("any"),
                    value=Select.NULL if f.has_children is None else f.has_children, id="has_children",
                    compact=True))
                for name in NUMBER_FILTERS + MONEY_FILTERS:
                    value = getattr(f, name)
                    yield self._row(name, Input("" if value is None else str(value), id=name, compact=True,
                                                restrict=r"[0-9.]*"))
                custom_name, custom_value = f.custom[0] if f.custom else (None, "")
                yield self._row("custom", Horizontal(
                    Select([], prompt=t("any"), id="custom_name", compact=True),
                    Input(custom_value, id="custom_value", compact=True), classes="custom-pair"))
                # The last analytics refresh's classes; last, so that the rows above keep their Tab order.
                for name, classes in (("abc_class", "ABC"), ("ae_class", "ABCDE")):
                    yield self._row(name, Select([(c, c) for c in classes], value=getattr(f, name) or Select.NULL,
                                                 prompt=t("any"), id=name, compact=True))
                yield self._row("rfm_segment", Select([], prompt=t("any"), id="rfm_segment", compact=True))
                # Archived clients are out of the list until asked for here; last, for the same Tab order.
                yield self._row("archived", Select(
                    [(t("archived only"), True)], prompt=t("in use"),
                    value=Select.NULL if f.archived is None else True, id="archived", compact=True))
            yield Static("", id="filters-error")
            yield Static(t("→ completes "
                           "· Ctrl+S or Enter applies · Esc cancels · Ctrl+R empties"), classes="clients-dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#category").focus()
        self._load_choices()

    @database_work(group="filters-choices")
    def _load_choices(self) -> ChoicesRead:
        return self.ChoicesRead(session.read(segments.list_segments), session.read(custom_fields.list_definitions),
                                session.read(analytics.segment_names))

    @database_work(group="filters-values")
    def _load_values(self) -> ValuesRead:
        return self.ValuesRead(session.read(filter_values.filter_values))

    @on(ValuesRead)
    def _values_loaded(self, message: ValuesRead) -> None:
        """Each text filter completes what is typed with the values in the base (→ accepts)."""
        self._known = known = message.known
        for name in TEXT_FILTERS:
            self.query_one(f"#{name}", Input).suggester = SuggestFromList(known[name], case_sensitive=False)

    @on(ChoicesRead)
    def _choices_loaded(self, message: ChoicesRead) -> None:
        # Read after the lists the panel needs at once: on a large base this takes a moment.
        self._load_values()
        saved, definitions = message.saved, message.definitions
        rfm = self.query_one("#rfm_segment", Select)
        rfm.set_options([(labels.rfm_segment(name), name) for name in message.rfm_segments])
        if self.filters.rfm_segment in message.rfm_segments:
            rfm.value = self.filters.rfm_segment
        self._segment_names = {s.id: s.name for s in saved}
        segment = self.query_one("#segment_id", Select)
        segment.set_options([(s.name, s.id) for s in saved])
        if self.filters.segment_id in {s.id for s in saved}:
            segment.value = self.filters.segment_id
        custom = self.query_one("#custom_name", Select)
        custom.set_options([(d.label, d.name) for d in definitions])
        if self.filters.custom and self.filters.custom[0][0] in {d.name for d in definitions}:
            custom.value = self.filters.custom[0][0]

    def _select(self, name: str) -> object | None:
        value = self.query_one(f"#{name}", Select).value
        return None if value == Select.NULL else value

    def _read(self) -> Filters:
        values: dict[str, object] = {name: self._select(name) for name in (
            "category", "segment_id", "gender", "has_children", "archived", "abc_class", "ae_class", "rfm_segment")}
        for name in TEXT_FILTERS:
            typed = self.query_one(f"#{name}", Input).value.strip()
            values[name] = filter_values.spelled_as_in_base(typed, self._known.get(name, [])) if typed else None
        for name in NUMBER_FILTERS + MONEY_FILTERS:
            text = self.query_one(f"#{name}", Input).value.strip()
            if not text:
                values[name] = None
                continue
            try:
                values[name] = Decimal(text) if name in MONEY_FILTERS else int(text)
            except (ValueError, InvalidOperation):
                raise ValueError(t("{field} must be a number.", field=t(labels.CLIENTS_FILTER[name]))) from None
            try:
                clients.check_filter_number(name, values[name])
            except ValidationError as exc:
                raise ValueError(f"{t(labels.CLIENTS_FILTER[name])}: {exc}") from None
        custom_name = self._select("custom_name")
        custom_value = self.query_one("#custom_value", Input).value.strip()
        values["custom"] = ((str(custom_name), custom_value),) if custom_name and custom_value else ()
        values["extra"] = self.filters.extra
        return Filters(**{item.name: values[item.name] for item in fields(Filters)})

    def on_input_submitted(self) -> None:
        self.action_apply()

    def action_apply(self) -> None:
        try:
            filters = self._read()
        except ValueError as exc:
            self.query_one("#filters-error", Static).update(str(exc))
            return
        self.segment_name = self._segment_names.get(filters.segment_id)
        self.dismiss(filters)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_reset(self) -> None:
        for select in self.query(Select):
            select.clear()
        for box in self.query(Input):
            box.value = ""
