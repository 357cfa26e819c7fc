"""The Contacts and Family tabs: any number of rows, added and removed from the keyboard."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Select, Static

from db.card.draft import RELATIONS, CardDraft, ContactDraft, RelativeDraft
from db.card.cards import Card
from db.i18n import t, tp
from db.normalize import CONTACT_KINDS
from tui.widgets.tick_box import TickBox

from tui.widgets.field_grid import date_hint
from db import labels


_ROW_CSS = """
{row} {{ height: auto; }}
{row} > Horizontal {{ height: 1; }}
{row} Select {{ width: 16; }}
{row} Input {{ width: 1fr; }}
{row} .row-error {{ color: $error; display: none; padding: 0 0 0 16; }}
{row}.-invalid .row-error {{ display: block; }}
{row} .row-note {{ color: $warning; width: auto; padding: 0 1; }}
"""


class _Row(Vertical):
    def show_error(self, message: str | None) -> None:
        self.set_class(bool(message), "-invalid")
        for error in self.query(".row-error").results(Static):
            error.update(message or "")


class ContactRow(_Row):
    DEFAULT_CSS = _ROW_CSS.format(row="ContactRow") + "ContactRow Checkbox { width: 13; }"

    def __init__(self, contact: ContactDraft, suppressed: str | None, read_only: bool) -> None:
        super().__init__(classes="card-row")
        self.contact = contact
        self.suppressed = suppressed
        self.read_only = read_only

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Select([(t(labels.CARD_KIND[kind]), kind) for kind in CONTACT_KINDS], value=self.contact.kind,
                         allow_blank=False, compact=True, disabled=self.read_only, classes="kind")
            yield Input(self.contact.value, compact=True, disabled=self.read_only, classes="value")
            if self.suppressed:
                yield Static(self.suppressed, classes="row-note")
            yield TickBox(t("primary"), self.contact.is_primary, compact=True, disabled=self.read_only,
                           classes="primary")
        yield Static("", classes="row-error")

    def collect(self) -> ContactDraft:
        if not self.children:
            return self.contact  # mounted a moment ago, its editors not composed yet
        return ContactDraft(self.contact.id, self.query_one(".kind", Select).value,
                            self.query_one(".value", Input).value, self.query_one(".primary", Checkbox).value,
                            self.contact.note)


class RelativeRow(_Row):
    DEFAULT_CSS = _ROW_CSS.format(row="RelativeRow") + "RelativeRow .birth { width: 14; }"

    def __init__(self, relative: RelativeDraft, read_only: bool, day_first: bool = True) -> None:
        super().__init__(classes="card-row")
        self.relative = relative
        self.read_only = read_only
        self.day_first = day_first

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Select([(t(labels.CARD_RELATION[r]), r) for r in RELATIONS], value=self.relative.relation,
                         allow_blank=False, compact=True, disabled=self.read_only, classes="relation")
            yield Input(self.relative.name, compact=True, disabled=self.read_only, classes="name",
                        placeholder=t("First name"))
            yield Select([(t("male"), "m"), (t("female"), "f")], prompt=tp("gender", "not given"),
                         value=self.relative.gender or Select.NULL, compact=True, disabled=self.read_only,
                         classes="gender")
            yield Input(self.relative.birth_date, compact=True, disabled=self.read_only, classes="birth",
                        placeholder=date_hint(self.day_first))
        yield Static("", classes="row-error")

    def collect(self) -> RelativeDraft:
        if not self.children:
            return self.relative
        gender = self.query_one(".gender", Select).value
        return RelativeDraft(self.relative.id, self.query_one(".relation", Select).value,
                             self.query_one(".name", Input).value, "" if gender is Select.NULL else gender,
                             self.query_one(".birth", Input).value, self.relative.note)


class _RowsTab(VerticalScroll):
    prefix = ""

    def rows(self) -> list[_Row]:
        return list(self.query_children(_Row))

    def focused_row(self, focused: Widget | None) -> _Row | None:
        for row in self.rows():
            if focused is not None and (focused is row or row in focused.ancestors):
                return row
        return None

    def editor_for(self, field: str) -> Widget | None:
        """The editor of a row's field named as cards.check names it (`contact.1.value`), if there is one."""
        _, index, name = (field.split(".") + ["", ""])[:3]
        rows = self.rows()
        if not index.isdigit() or int(index) >= len(rows):
            return None
        css_class = {"is_primary": "primary", "birth_date": "birth"}.get(name, name)
        found = [widget for widget in rows[int(index)].query(f".{css_class}") if widget.focusable]
        return found[0] if found else None

    async def remove_row(self, row: _Row) -> None:
        await row.remove()

    def show_errors(self, errors: dict[str, str]) -> None:
        for index, row in enumerate(self.rows()):
            message = next((text for field, text in errors.items() if field.startswith(f"{self.prefix}.{index}.")),
                           None)
            row.show_error(message)


class ContactsTab(_RowsTab):
    prefix = "contact"

    def __init__(self, read_only: bool) -> None:
        super().__init__(id="tab-contacts-body")
        self.read_only = read_only

    async def fill(self, card: Card, draft: CardDraft) -> None:
        suppressed = {c.id: c.suppressed for c in card.contacts if c.suppressed}
        await self.remove_children()
        await self.mount_all([ContactRow(c, suppressed.get(c.id), self.read_only) for c in draft.contacts])

    async def add_row(self) -> None:
        kinds = {row.collect().kind for row in self.rows()}
        kind = next((k for k in ("mobile", "email") if k not in kinds), "mobile")
        row = ContactRow(ContactDraft(None, kind, "", kind not in kinds), None, self.read_only)
        await self.mount(row)
        row.query_one(".value", Input).focus()

    def collect(self) -> dict[str, object]:
        return {"contacts": tuple(row.collect() for row in self.rows())}


class FamilyTab(_RowsTab):
    prefix = "relative"

    def __init__(self, read_only: bool) -> None:
        super().__init__(id="tab-family-body")
        self.read_only = read_only
        self.day_first = True

    async def fill(self, card: Card, draft: CardDraft) -> None:
        self.day_first = card.day_first
        await self.remove_children()
        await self.mount_all([RelativeRow(r, self.read_only, self.day_first) for r in draft.relatives])

    async def add_row(self) -> None:
        row = RelativeRow(RelativeDraft(None, "child", ""), self.read_only, self.day_first)
        await self.mount(row)
        row.query_one(".name", Input).focus()

    def collect(self) -> dict[str, object]:
        return {"relatives": tuple(row.collect() for row in self.rows())}
