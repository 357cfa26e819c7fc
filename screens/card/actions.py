"""The card editor's actions besides saving: rows, activity forms, referrer, merge, custom fields.

A mixin of CardScreen, kept apart so that neither module grows into a second app. `check_action` shows in
the footer only what applies to the role and the current tab; `CardCommands` puts every action in the
palette, where a read-only login's attempt to write is answered with the reason.
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass, replace
from datetime import date

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.message import Message
from textual.widgets import Input, Select

from db import session
from db.card import activity as card_activity

from db.card import cards
from db.card.values import format_date, parse_date
from db.errors import ValidationError
from db.i18n import N_, t
from screens.base import database_work
from screens.card.form_modal import FormScreen
from tui.widgets.field_grid import Field
from screens.card.pick import NOBODY, PickClientScreen
from screens.card.purchase import PurchaseScreen
from screens.confirm import ConfirmScreen
from tui.widgets.money import money
from tui.widgets.tab_strip import TabStrip
from db import labels

# action -> (key, label key, tooltip key, the tabs it applies to; empty: every tab)
ACTIONS = {
    "add_contact": ("ctrl+n", N_("Add contact"), None, ("contacts",)),
    "add_relative": ("ctrl+n", N_("Add relative"), None, ("family",)),
    "add_purchase": ("ctrl+n", N_("Add purchase"), None, ("purchases",)),
    "add_interaction": ("ctrl+n", N_("Add interaction"), None, ("activity",)),
    "add_reminder": ("ctrl+n", N_("Add reminder"), None, ("reminders",)),
    "add_subscription": ("ctrl+b", N_("Add subscription"), None, ("purchases",)),
    # Off the footer (full at 80 columns on this tab): Enter on a purchase corrects it, and the tab says both keys.
    "edit_purchase": ("ctrl+e", N_("Edit"), N_("Correct the purchase under the cursor"), ("purchases",)),
    "delete_purchase": ("ctrl+r", N_("Delete"), N_("Delete the purchase under the cursor"), ("purchases",)),
    "remove_row": ("ctrl+r", N_("Remove row"), N_("Remove "
                                                   "the contact or relative the cursor is in"), ("contacts", "family")),
    "tick": ("ctrl+t", N_("Done"), N_("Tick the selected reminder off (or back on)"), ("reminders",)),
    "pick_referrer": ("ctrl+o", N_("Referred by"), N_("Choose the client who referred this one"), ("main",)),
    "fields": ("ctrl+f", N_("Define fields"), N_("Define the custom fields every card shows"), ("custom",)),
    "merge": ("ctrl+g", N_("Merge"), N_("Merge another client's card into this one"), ("main",)),
}
OFF_FOOTER = {"edit_purchase", "delete_purchase"}
WRITES = {"save", *ACTIONS}
# These write at once, to a client that must already exist.
NEEDS_CLIENT = {"add_purchase", "add_interaction", "add_reminder", "add_subscription", "tick", "merge",
                "edit_purchase", "delete_purchase"}


def when_loaded(action):
    """While the reused editor loads the next card, the write keys stay as they will be once it is there,
    so that the footer is not rebuilt twice per card; pressed in that moment, they do nothing."""
    @functools.wraps(action)
    async def guarded(self, *args):
        if self.card is None:
            return
        result = action(self, *args)
        if inspect.isawaitable(result):
            await result

    return guarded


def _tooltip(action: str) -> str:
    _, label, tooltip, _ = ACTIONS[action]
    return t(tooltip) if tooltip else t("{what} to this client", what=t(label))


class CardActions:
    # Handled by name (on_card_actions_...): Textual's @on registers handlers only in the classes of its
    # widgets, not in a mixin like this one.
    @dataclass
    class FieldsRead(Message):
        """The card read again for its custom field definitions, which the administrator just changed."""

        card: cards.Card

    @dataclass
    class ProductsRead(Message):
        kind: str
        products: list[card_activity.Product]
        # The purchase to correct; None to add one.
        purchase: card_activity.Purchase | None = None

    @dataclass
    class HistoryRead(Message):
        """The card read again for its purchases, activity and reminders, which were just written."""

        card: cards.Card

    @dataclass
    class ReminderTicked(Message):
        client_id: int

    @dataclass
    class PurchaseDeleted(Message):
        client_id: int

    ACTION_BINDINGS = [
        *[Binding(key, action, t(label), tooltip=_tooltip(action), id=f"card-{action.replace('_', '-')}",
                  show=action not in OFF_FOOTER)
          for action, (key, label, _, _) in ACTIONS.items()],
        # For read-only logins the same keys answer with the reason instead of doing nothing.
        *[Binding(key, "refuse_write", show=False, id=f"card-refuse-{key.replace('+', '-')}")
          for key in sorted({"ctrl+s"} | {key for key, *_ in ACTIONS.values()})],
    ]

    @property
    def active_tab(self) -> str:
        return self.query_one("#card-tabs", TabStrip).active

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "refuse_write":
            return self.read_only
        if action not in WRITES:
            return True
        if self.read_only:
            return False
        client_id = self.card.id if self.card is not None else self.client_id
        if action in NEEDS_CLIENT and client_id is None:
            return False
        tabs = ACTIONS[action][3] if action in ACTIONS else ()
        return not tabs or self.active_tab in tabs

    def action_refuse_write(self) -> None:
        self.say(t("Your login is read-only: only an administrator may change client data."), error=True)
        self.notify(t("Your login is read-only: only an administrator may change client data."), severity="warning")

    # --- rows ---------------------------------------------------------------------------------------

    @when_loaded
    async def action_add_contact(self) -> None:
        await (await self.ensure_tab("contacts")).add_row()
        self.validate_draft()

    @when_loaded
    async def action_add_relative(self) -> None:
        await (await self.ensure_tab("family")).add_row()
        self.validate_draft()

    @when_loaded
    async def action_remove_row(self) -> None:
        tab = await self.ensure_tab(self.active_tab)
        row = tab.focused_row(self.focused) or (tab.rows()[-1] if tab.rows() else None)
        if row is not None:
            await tab.remove_row(row)
            self.validate_draft()

    # --- referrer, merge, fields --------------------------------------------------------------------

    @when_loaded
    def action_pick_referrer(self) -> None:
        def chosen(choice: tuple[int, str] | None) -> None:
            if choice is not None:
                client_id, name = choice
                self.body("main").set_referrer(None if choice == NOBODY else client_id, name)
                self.validate_draft()

        self.app.push_screen(PickClientScreen(t("Choose a client"), self.card.id), chosen)

    @when_loaded
    def action_merge(self) -> None:
        from screens.card.merge import MergeScreen

        if self.dirty:
            self.say(t("Save or discard your changes to this card before merging another into it."), error=True)
            return

        def merged(other: int | None) -> None:
            if other is not None:
                self.saved_id = self.card.id
                self.load(self.card.id)
                self.say(t("Merged #{other} into this card.", other=other))

        self.app.push_screen(MergeScreen(self.card), merged)

    @when_loaded
    def action_fields(self) -> None:
        from screens.admin.custom_fields import CustomFieldsScreen

        self.app.push_screen(CustomFieldsScreen(), lambda _: self.reload_fields(self.card.id))

    @database_work(group="card-fields")
    def reload_fields(self, client_id: int | None) -> FieldsRead:
        return self.FieldsRead(session.read(cards.load_card, client_id))

    async def on_card_actions_fields_read(self, message: FieldsRead) -> None:
        fresh = message.card
        # Only the definitions change: the card keeps its version and the user's draft keeps its values.
        mine = dict(self.draft().custom)
        custom = tuple((name, mine.get(name, value)) for name, value in fresh.draft.custom)
        draft = replace(self.draft(), custom=custom)
        self.card = replace(self.card, custom_fields=fresh.custom_fields,
                            draft=replace(self.card.draft, custom=fresh.draft.custom))
        await self.show_card(self.card, draft)

    # --- activity: written at once, then the history tabs reload ------------------------------------

    def _today(self) -> str:
        return format_date(date.today(), self.card.day_first)

    def _date(self, values: dict[str, str], field: str) -> date:
        parsed = parse_date(values[field], field, self.card.day_first)
        if parsed is None:
            raise ValidationError(field, N_("This field is required."))
        return parsed

    def _open_form(self, title_key: str, fields: list[Field], submit) -> None:
        def done(result: object) -> None:
            if result is not None:
                self.reload_history(self.card.id)

        self.app.push_screen(FormScreen(t(title_key), fields, submit), done)

    @when_loaded
    def action_add_purchase(self) -> None:
        self.open_product_form("purchase")

    async def _selected_purchase(self) -> card_activity.Purchase | None:
        purchase_id = (await self.ensure_tab("purchases")).selected()
        return next((p for p in self.card.purchases if p.id == purchase_id), None)

    @when_loaded
    async def action_edit_purchase(self) -> None:
        purchase = await self._selected_purchase()
        if purchase is not None:
            self.open_product_form("purchase", purchase)

    @when_loaded
    async def action_delete_purchase(self) -> None:
        purchase = await self._selected_purchase()
        if purchase is None:
            return
        client_id = self.card.id
        what = t("the purchase of {date} for {amount}", date=format_date(purchase.purchased_at.astimezone().date(),
                                                                          self.card.day_first),
                 amount=money(purchase.amount, currency=self.card.currency))

        def answered(sure: bool | None) -> None:
            if sure:
                self.remove_purchase(client_id, purchase.id, purchase.version)

        self.app.push_screen(ConfirmScreen(
            t("Delete {what}?", what=what),
            t("The client's totals and category are recomputed without it. This cannot be undone."),
            [(t("Delete"), True), (t("Keep"), False)]), answered)

    def on_data_table_row_selected(self, event) -> None:
        if event.data_table.id == "purchases" and self.check_action("edit_purchase", ()):
            self.run_worker(self.action_edit_purchase(), exclusive=False)

    @database_work(group="card-purchase-delete")
    def remove_purchase(self, client_id: int, purchase_id: int, version: int) -> PurchaseDeleted:
        card_activity.delete_purchase(purchase_id, version)
        return self.PurchaseDeleted(client_id)

    def on_card_actions_purchase_deleted(self, message: PurchaseDeleted) -> None:
        self.reload_history(message.client_id)

    @when_loaded
    def action_add_subscription(self) -> None:
        self.open_product_form("subscription")

    @database_work(group="card-products")
    def open_product_form(self, kind: str, purchase: card_activity.Purchase | None = None) -> ProductsRead:
        return self.ProductsRead(kind, card_activity.products(), purchase)

    def on_card_actions_products_read(self, message: ProductsRead) -> None:
        kind, products = message.kind, message.products
        client_id = self.card.id
        if kind == "purchase":
            def written(purchase_id: int | None) -> None:
                if purchase_id is not None:
                    self.reload_history(client_id)

            self.app.push_screen(PurchaseScreen(client_id, products, self.card.day_first, message.purchase),
                                 written)
            return

        def submit(values: dict[str, str]) -> int:
            return card_activity.add_subscription(
                client_id, int(values["product"]) if values["product"] else None,
                self._date(values, "starts_on"), self._date(values, "ends_on"), values["note"])

        product = Select([(p.name, str(p.id)) for p in products], compact=True, prompt=t("none"))
        self._open_form(N_("Add subscription"), [
            Field("product", product, t("Product")),
            Field("starts_on", Input(self._today(), compact=True), t("Starts on")),
            Field("ends_on", Input(compact=True), t("Ends on")),
            Field("note", Input(compact=True), t("Note"))], submit)

    @when_loaded
    def action_add_interaction(self) -> None:
        client_id = self.card.id
        kinds = Select([(t(labels.CARD_INTERACTION[k]), k) for k in card_activity.INTERACTION_KINDS],
                       value="call", allow_blank=False, compact=True)
        self._open_form(N_("Add interaction"), [
            Field("kind", kinds, t("Kind")),
            Field("text", Input(compact=True), t("Text")),
            Field("outcome", Input(compact=True), t("Outcome"))],
            lambda v: card_activity.add_interaction(client_id, v["kind"], v["text"], v["outcome"]))

    @when_loaded
    def action_add_reminder(self) -> None:
        client_id = self.card.id
        self._open_form(N_("Add reminder"), [
            Field("due_on", Input(self._today(), compact=True), t("Due on")),
            Field("text", Input(compact=True), t("Text")),
            Field("assignee", Input(self.identity.login, compact=True), t("Assignee"))],
            lambda v: card_activity.add_reminder(client_id, self._date(v, "due_on"), v["text"], v["assignee"]))

    @when_loaded
    async def action_tick(self) -> None:
        reminder_id = (await self.ensure_tab("reminders")).selected()
        if reminder_id is not None:
            done = next(r.done for r in self.card.reminders if r.id == reminder_id)
            self.tick_reminder(self.card.id, reminder_id, not done)

    @database_work(group="card-tick")
    def tick_reminder(self, client_id: int, reminder_id: int, done: bool) -> ReminderTicked:
        card_activity.set_reminder_done(reminder_id, done)
        return self.ReminderTicked(client_id)

    def on_card_actions_reminder_ticked(self, message: ReminderTicked) -> None:
        self.reload_history(message.client_id)

    @database_work(group="card-history")
    def reload_history(self, client_id: int) -> HistoryRead:
        return self.HistoryRead(session.read(cards.load_card, client_id))

    async def on_card_actions_history_read(self, message: HistoryRead) -> None:
        fresh = message.card
        # The history is not part of the draft: take it without touching the version or the user's edits.
        self.card = replace(self.card, category=fresh.category, purchase_count=fresh.purchase_count,
                            total_spent=fresh.total_spent, total_profit=fresh.total_profit,
                            last_purchase_at=fresh.last_purchase_at, purchases=fresh.purchases,
                            favourites=fresh.favourites, subscriptions=fresh.subscriptions,
                            interactions=fresh.interactions, reminders=fresh.reminders)
        await self.fill_tabs("purchases", "activity", "reminders")
        self._update_title()

    # --- the palette --------------------------------------------------------------------------------

    def palette_commands(self) -> list[tuple[str, str, object]]:
        """The actions the app's palette does not list by itself because they do not apply right now:
        those of another tab (the command switches to it), and writes for a read-only login (the
        command says why). What applies now comes from the screen's bindings (tui.app)."""
        commands = [(t("Save"), t("Save the card (only when every field is valid)"), "save")]
        commands += [(t(label), _tooltip(action), action) for action, (_, label, _, _) in ACTIONS.items()]
        return [(name, help_text, self._palette_runner(action)) for name, help_text, action in commands
                if self.check_action(action, ()) is not True]

    def _palette_runner(self, action: str):
        async def run() -> None:
            if self.read_only and action in WRITES:
                self.action_refuse_write()
                return
            tabs = ACTIONS[action][3] if action in ACTIONS else ()
            if tabs and self.active_tab not in tabs:
                await self.action_tab(tabs[0])
            await self.run_action(action)

        return run


class CardCommands(Provider):
    """The card's actions that do not apply at this moment, as palette commands that make them apply or
    say why they cannot."""

    async def discover(self) -> Hits:
        for name, help_text, run in self.screen.palette_commands():
            yield DiscoveryHit(name, run, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, run in self.screen.palette_commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), run, help=help_text)
