"""The administrator merges another card into the open one: choose it by name (the likely duplicates are
offered before anything is typed), confirm, and it is done in one transaction (db/card/merge.py)."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.message import Message
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from db.card import merge
from db.card.cards import Card
from db.errors import ConflictError
from db.card.cards import ClientName
from db.i18n import N_, t
from screens.base import database_work
from screens.card.pick import PickClientScreen
from screens.confirm import ConfirmScreen


REASONS = {"phone": N_("same phone"), "email": N_("same e-mail"), "name": N_("similar name")}


class MergeScreen(PickClientScreen):
    """Dismisses with the id of the card merged in, or None when nothing was merged."""

    @dataclass
    class Merged(Message):
        other_id: int

    @dataclass
    class Suggested(Message):
        suggestions: list[merge.Suggestion]

    def __init__(self, keep: Card) -> None:
        super().__init__(t("Merge another card into #{id} {name}", id=keep.id, name=keep.draft.display_name), keep.id,
                         allow_nobody=False)
        self.keep = keep
        self.suggestions: list[merge.Suggestion] = []

    def on_mount(self) -> None:
        super().on_mount()
        self.suggest()

    @database_work(group="card-merge-suggest")
    def suggest(self) -> Suggested:
        return self.Suggested(merge.likely_duplicates(self.keep.id))

    @on(Suggested)
    def _suggested(self, message: Suggested) -> None:
        self.suggestions = message.suggestions
        if not self.query_one("#pick-text", Input).value.strip():
            self._fill([])

    def _fill(self, found: list[ClientName]) -> None:
        # With nothing typed, the list offers the likely duplicates, each with why it is offered.
        if found or not self.suggestions or self.query_one("#pick-text", Input).value.strip():
            super()._fill(found)
            return
        listing = self.query_one("#pick-list", OptionList)
        listing.clear_options()
        listing.add_options([Option(f"#{s.client_id}  {s.name} — {t(REASONS[s.reason])}", id=str(s.client_id))
                             for s in self.suggestions])
        self.found = {s.client_id: s.name for s in self.suggestions}

    def choose(self, choice: tuple[int, str]) -> None:
        other_id, name = choice

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.run_merge(other_id)

        self.app.push_screen(ConfirmScreen(t("Merge"),
                                           t("The other card's contacts, purchases, subscriptions, relatives, "
                                             "interactions and reminders move here, its data fills this card's empty "
                                             "fields, and the other card is deleted.") + "\n\n" +
                                           t("Merge {other} "
                                             "into this card? This cannot be undone.", other=f"#{other_id} {name}"),
                                           [(t("Merge"), True), (t("Cancel"), False)],
                                           cancel=False), confirmed)

    @database_work(group="card-merge")
    def run_merge(self, other_id: int) -> Merged:
        merge.merge_cards(self.keep, other_id)
        return self.Merged(other_id)

    @on(Merged)
    def _merged(self, message: Merged) -> None:
        self.dismiss(message.other_id)

    def worker_failed(self, error: BaseException) -> None:
        # The kept card changed since it was opened: merging into it would overwrite what was saved.
        if isinstance(error, ConflictError):
            self.notify(t("Someone "
                          "saved this card a moment ago; close it, open it again and merge then."), severity="error")
        else:
            super().worker_failed(error)
