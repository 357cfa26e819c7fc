"""The Custom tab (the administrator's own fields, a widget per type) and the Consent tab."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Checkbox, Input, Select, Static

from db.card.draft import CardDraft
from db.card.values import CustomFieldDef, format_date
from db.card.cards import Card
from db.i18n import t, tp
from tui.widgets.tick_box import TickBox

from tui.widgets.field_grid import Field, FieldGrid, date_hint, get_text, set_text, text_input


class CustomTab(VerticalScroll):
    def __init__(self, read_only: bool) -> None:
        super().__init__(id="tab-custom-body")
        self.read_only = read_only
        self.definitions: tuple[CustomFieldDef, ...] = ()
        self.loaded: dict[str, str] = {}
        self.day_first = True

    async def fill(self, card: Card, draft: CardDraft) -> None:
        if card.custom_fields != self.definitions or card.day_first != self.day_first:
            self.definitions, self.day_first = card.custom_fields, card.day_first
            await self.remove_children()
            fields = [Field(f"custom.{d.name}", self._editor(d), d.label) for d in self.definitions]
            await self.mount(FieldGrid(*fields))
        self.loaded = dict(draft.custom)
        for definition in self.definitions:
            editor = self.query_one(f"#f-custom-{definition.name}")
            value = draft.custom_value(definition.name)
            if isinstance(editor, Checkbox):
                with editor.prevent(Checkbox.Changed):
                    editor.value = value == "yes"
            else:
                set_text(editor, value)

    def _editor(self, definition: CustomFieldDef):
        name = f"custom.{definition.name}"
        if definition.type == "choice":
            return Select([(choice, choice) for choice in definition.choices], compact=True,
                          id=f"f-custom-{definition.name}", disabled=self.read_only, prompt=t("none"))
        if definition.type == "bool":
            return TickBox(t("yes"), compact=True, id=f"f-custom-{definition.name}",
                           disabled=self.read_only)
        placeholder = {"number": "12.5", "date": date_hint(self.day_first)}.get(definition.type, "")
        editor = text_input(name, placeholder, disabled=self.read_only)
        if definition.type == "number":
            editor.restrict = r"[-0-9.,\s]*"
        return editor

    def collect(self) -> dict[str, object]:
        values = []
        for definition in self.definitions:
            editor = self.query_one(f"#f-custom-{definition.name}")
            if isinstance(editor, Checkbox):
                # An unticked box over a field never filled stays "not filled" rather than becoming "no".
                unticked = "no" if self.loaded.get(definition.name) == "no" else ""
                values.append((definition.name, "yes" if editor.value else unticked))
            else:
                values.append((definition.name, get_text(editor)))
        return {"custom": tuple(sorted(values))}


class ConsentTab(VerticalScroll):
    DEFAULT_CSS = """
    ConsentTab .consent-when { color: $text-muted; padding: 0 0 1 16; }
    ConsentTab #suppressions { padding: 1 0 0 0; }
    """

    def __init__(self, read_only: bool) -> None:
        super().__init__(id="tab-consent-body")
        self.read_only = read_only

    def compose(self) -> ComposeResult:
        items: list[Field | Static] = []
        for channel in ("email", "sms"):
            items += [Field(f"consent_{channel}", TickBox(t("agrees to receive"), compact=True,
                                                           id=f"f-consent_{channel}", disabled=self.read_only)),
                      Field(f"consent_{channel}_source",
                            text_input(f"consent_{channel}_source", disabled=self.read_only)),
                      Static("", id=f"when-{channel}", classes="consent-when")]
        yield FieldGrid(*items)
        yield Static("", id="suppressions")

    async def fill(self, card: Card, draft: CardDraft) -> None:
        for channel, at in (("email", card.consent_email_at), ("sms", card.consent_sms_at)):
            box = self.query_one(f"#f-consent_{channel}", Checkbox)
            with box.prevent(Checkbox.Changed):
                box.value = getattr(draft, f"consent_{channel}")
            set_text(self.query_one(f"#f-consent_{channel}_source", Input), getattr(draft, f"consent_{channel}_source"))
            if getattr(draft, f"consent_{channel}") and at is not None:
                local = at.astimezone()
                when = t("given {at} ({source})", at=f"{format_date(local.date(), card.day_first)} {local:%H:%M}",
                         source=getattr(draft, f"consent_{channel}_source") or "—")
            else:
                when = tp("consent", "not given")
            self.query_one(f"#when-{channel}", Static).update(when)
        suppressed = [t("{address}: {reason} — mailings skip it", address=c.value, reason=c.suppressed)
                      for c in card.contacts if c.suppressed]
        self.query_one("#suppressions", Static).update("\n".join(suppressed) or t("No address of this client is "
                                                                                  "unsubscribed or bounced."))

    def collect(self) -> dict[str, object]:
        values: dict[str, object] = {}
        for channel in ("email", "sms"):
            values[f"consent_{channel}"] = self.query_one(f"#f-consent_{channel}", Checkbox).value
            values[f"consent_{channel}_source"] = self.query_one(f"#f-consent_{channel}_source", Input).value
        return values

