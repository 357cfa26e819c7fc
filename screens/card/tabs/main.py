"""The Main tab: name, gender, birth date, company, place, addresses, source, referrer, salesperson, tags, notes."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Button, Input, Select, TextArea

from db.card.draft import CardDraft
from db.card.cards import Card
from db.i18n import t, tp

from tui.widgets.field_grid import Field, FieldGrid, date_hint, get_text, set_text, text_input

TEXT_FIELDS = ("last_name", "first_name", "middle_name", "birth_date", "company", "position", "region", "city",
               "address", "postal_address", "source", "assigned_to", "tags")


class MainTab(VerticalScroll):
    DEFAULT_CSS = """
    MainTab #f-referred_by_id { min-width: 0; width: 1fr; }
    """

    def __init__(self, read_only: bool) -> None:
        super().__init__(id="tab-main-body")
        self.read_only = read_only
        self.referred_by_id: int | None = None
        self.referred_by_name = ""

    def compose(self) -> ComposeResult:
        gender = Select([(t("male"), "m"), (t("female"), "f")], prompt=tp("gender", "not given"),
                        compact=True, id="f-gender")
        yield FieldGrid(
            *[Field(name, text_input(name)) for name in TEXT_FIELDS[:3]],
            Field("gender", gender),
            Field("birth_date", text_input("birth_date", date_hint(True))),
            *[Field(name, text_input(name)) for name in TEXT_FIELDS[4:11]],
            Field("referred_by_id", Button(t("none"), id="f-referred_by_id", compact=True)),
            Field("assigned_to", text_input("assigned_to")),
            Field("tags", text_input("tags")),
            Field("notes", TextArea(id="f-notes", soft_wrap=True, compact=True)))

    def on_mount(self) -> None:
        if self.read_only:
            for editor in self.query("Input, Select, TextArea, Button"):
                editor.disabled = True

    async def fill(self, card: Card, draft: CardDraft) -> None:
        for name in TEXT_FIELDS + ("gender", "notes"):
            set_text(self.query_one(f"#f-{name}"), getattr(draft, name))
        self.query_one("#f-birth_date", Input).placeholder = date_hint(card.day_first)
        self.set_referrer(draft.referred_by_id, draft.referred_by_name)

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "f-referred_by_id":
            await self.screen.run_action("pick_referrer")

    def set_referrer(self, client_id: int | None, name: str) -> None:
        self.referred_by_id = client_id
        self.referred_by_name = name
        label = f"#{client_id} {name}" if client_id is not None else t("none")
        self.query_one("#f-referred_by_id", Button).label = label

    def collect(self) -> dict[str, object]:
        values: dict[str, object] = {name: get_text(self.query_one(f"#f-{name}"))
                                     for name in TEXT_FIELDS + ("gender", "notes")}
        values["referred_by_id"] = self.referred_by_id
        values["referred_by_name"] = self.referred_by_name
        return values
