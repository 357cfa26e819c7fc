"""The administrator merges another card into the open one: choose it by name, confirm, and it is done in
one transaction (db/card/merge.py)."""

from __future__ import annotations

from textual import work
from textual.worker import Worker, WorkerState

from db.card import merge
from db.card.cards import Card
from db.errors import ConflictError, UserError
from db.i18n import t
from screens.card.pick import PickClientScreen
from screens.confirm import ConfirmScreen


class MergeScreen(PickClientScreen):
    """Dismisses with the id of the card merged in, or None when nothing was merged."""

    def __init__(self, keep: Card) -> None:
        super().__init__(t("card.merge.title", id=keep.id, name=keep.draft.display_name), keep.id,
                         allow_nobody=False)
        self.keep = keep

    def choose(self, choice: tuple[int, str]) -> None:
        other_id, name = choice

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.run_merge(other_id)

        self.app.push_screen(ConfirmScreen(t("card.key.merge"),
                                           t("card.merge.explain") + "\n\n" +
                                           t("card.merge.confirm", other=f"#{other_id} {name}"),
                                           [(t("card.key.merge"), True), (t("card.form.cancel"), False)],
                                           cancel=False), confirmed)

    @work(thread=True, exclusive=True, group="card-merge", exit_on_error=False)
    def run_merge(self, other_id: int) -> int:
        merge.merge_cards(self.keep, other_id)
        return other_id

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "card-merge":
            return
        if event.state == WorkerState.SUCCESS:
            self.dismiss(event.worker.result)
        elif event.state == WorkerState.ERROR:
            error = event.worker.error
            if isinstance(error, ConflictError):
                message = t("card.merge.stale")
            elif isinstance(error, UserError):
                message = str(error)
            else:
                raise error
            self.notify(message, severity="error")
