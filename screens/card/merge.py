"""The administrator merges another card into the open one: choose it by name, confirm, and it is done in
one transaction (db/card/merge.py)."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.message import Message

from db.card import merge
from db.card.cards import Card
from db.errors import ConflictError
from db.i18n import t
from screens.base import database_work
from screens.card.pick import PickClientScreen
from screens.confirm import ConfirmScreen


class MergeScreen(PickClientScreen):
    """Dismisses with the id of the card merged in, or None when nothing was merged."""

    @dataclass
    class Merged(Message):
        other_id: int

    def __init__(self, keep: Card) -> None:
        super().__init__(t("Merge another card into #{id} {name}", id=keep.id, name=keep.draft.display_name), keep.id,
                         allow_nobody=False)
        self.keep = keep

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
