"""The optimistic-locking dialog: someone saved the card after it was opened here.

Both versions side by side, one row per differing field, the side that will win highlighted. Keep mine,
take theirs, or merge: each field starts on the side of whoever changed it, and Space switches it; Esc goes back
to editing with the draft intact.
Nothing is saved over the other version without one of these choices.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Label, Static

from db.card.draft import CardDraft, changed_fields, take_fields
from db.card.cards import Card
from db.i18n import t
from tui.widgets.footer import SteadyFooter
from db import labels


def shown(draft: CardDraft, field: str) -> str:
    if field.startswith("custom."):
        return draft.custom_value(field.removeprefix("custom."))
    if field == "contacts":
        return "; ".join(f"{c.kind} {c.value}{' *' if c.is_primary else ''}" for c in draft.contacts)
    if field == "relatives":
        return "; ".join(f"{r.name} {r.birth_date}".strip() for r in draft.relatives)
    if field == "referred_by_id":
        return f"#{draft.referred_by_id} {draft.referred_by_name}" if draft.referred_by_id else ""
    value = getattr(draft, field)
    if isinstance(value, bool):
        return t("yes") if value else t("no")
    return str(value)


def label_of(field: str, current: Card) -> str:
    if field.startswith("custom."):
        name = field.removeprefix("custom.")
        return next((d.label for d in current.custom_fields if d.name == name), name)
    return t(labels.CARD_F[field])


class ConflictScreen(ModalScreen[tuple[str, CardDraft] | None]):
    CSS_PATH = Path(__file__).with_name("card.tcss")
    BINDINGS = [
        Binding("space", "toggle", t("Switch side"), tooltip=t("Switch side"), id="conflict-toggle"),
        Binding("k", "keep", t("Keep mine"), tooltip=t("Keep mine"), id="conflict-keep"),
        Binding("t", "take", t("Take theirs"), tooltip=t("Take theirs"), id="conflict-take"),
        Binding("m", "merge", t("Merge as marked"), tooltip=t("Merge as marked"), id="conflict-merge"),
        Binding("escape", "cancel", t("Back to editing"), tooltip=t("Back to editing"),
                id="conflict-cancel"),
    ]

    def __init__(self, mine: CardDraft, base: CardDraft, current: Card) -> None:
        super().__init__()
        self.mine = mine
        self.current = current
        self.fields = changed_fields(mine, current.draft)
        # A field only they changed starts on their side, one I changed on mine: the merge loses nobody's work.
        untouched = set(self.fields) - set(changed_fields(mine, base))
        self.take_theirs: set[str] = untouched

    def compose(self) -> ComposeResult:
        at = f"{self.current.updated_at:%H:%M}" if self.current.updated_at else "?"
        with Vertical():
            yield Label(t("Someone else saved this card"), classes="title")
            yield Static(t("{login} saved it at {at}. Differing fields are "
                           "highlighted; Space picks a side per field.", login=self.current.updated_by or "?", at=at))
            table = DataTable(id="conflict-table", cursor_type="row")
            table.add_column(t("Field"), key="field", width=16)
            table.add_column(t("Mine"), key="mine", width=28)
            table.add_column(t("Theirs"), key="theirs", width=28)
            yield table
            with Horizontal():
                yield Button(t("Keep mine"), id="keep")
                yield Button(t("Take theirs"), id="take")
                yield Button(t("Merge as marked"), id="merge", variant="primary")
                yield Button(t("Back to editing"), id="cancel")
        yield SteadyFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for field in self.fields:
            table.add_row(*self._cells(field), key=field)
        table.focus()

    def _cells(self, field: str) -> tuple[Text, Text, Text]:
        theirs_win = field in self.take_theirs
        winner, loser = "bold reverse", "dim"
        return (Text(label_of(field, self.current)),
                Text(shown(self.mine, field), style=loser if theirs_win else winner),
                Text(shown(self.current.draft, field), style=winner if theirs_win else loser))

    def action_toggle(self) -> None:
        table = self.query_one(DataTable)
        if not self.fields:
            return
        field = self.fields[table.cursor_row]
        self.take_theirs ^= {field}
        for column, cell in zip(("field", "mine", "theirs"), self._cells(field), strict=True):
            table.update_cell(field, column, cell)

    def merged(self) -> CardDraft:
        return take_fields(self.mine, self.current.draft, sorted(self.take_theirs))

    def action_keep(self) -> None:
        self.dismiss(("keep", self.mine))

    def action_take(self) -> None:
        self.dismiss(("take", self.current.draft))

    def action_merge(self) -> None:
        self.dismiss(("merge", self.merged()))

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        getattr(self, f"action_{event.button.id}")()
