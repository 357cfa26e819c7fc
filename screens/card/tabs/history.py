"""The Purchases, Activity and Reminders tabs: what happened with the client, newest first."""

from __future__ import annotations

from datetime import date

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from db.card.draft import CardDraft
from db.card.values import format_date
from db.card.cards import Card
from db.i18n import t
from tui.widgets.money import money
from db import labels


# The channels the app and the import write; another one typed by hand is shown as typed.
CHANNELS = {"shop", "online", "phone"}


def _when(card: Card, value) -> str:
    """A timestamp's date as the shop writes dates, in this terminal's time zone."""
    return format_date(value.astimezone().date(), card.day_first)


def _table(table_id: str, *columns: str) -> DataTable:
    table = DataTable(id=table_id, cursor_type="row", zebra_stripes=True)
    for column in columns:
        table.add_column(t(labels.CARD_COL[column]), key=column)
    return table


class PurchasesTab(Vertical):
    DEFAULT_CSS = """
    PurchasesTab Static { height: auto; }
    PurchasesTab #purchases { height: 1fr; }
    PurchasesTab #subscriptions { height: auto; max-height: 7; }
    PurchasesTab #purchase-keys { color: $text-muted; }
    """

    def __init__(self, read_only: bool = True) -> None:
        super().__init__(id="tab-purchases-body")
        self.read_only = read_only

    def compose(self) -> ComposeResult:
        yield Static("", id="purchase-summary")
        if not self.read_only:
            # The keys off the footer, which is full on this tab at 80 columns.
            yield Static(t("Enter corrects the purchase under the cursor · Ctrl+R deletes it"), id="purchase-keys")
        yield _table("purchases", "date", "channel", "amount", "profit", "items")
        yield Static(t("Subscriptions"), classes="section")
        yield _table("subscriptions", "product", "from", "until")

    async def fill(self, card: Card, draft: CardDraft | None = None) -> None:
        summary = t("{category} · {count} purchases · {spent} spent "
                    "· {profit} profit", category=t(labels.CLIENTS_CATEGORY[card.category]), count=card.purchase_count,
                    spent=money(card.total_spent, currency=card.currency),
                    profit=money(card.total_profit, currency=card.currency))
        if card.favourites:
            products = ", ".join(f"{f.product} ×{f.quantity.normalize():f}" for f in card.favourites)
            summary += "\n" + t("Favourite products: {products}", products=products)
        self.query_one("#purchase-summary", Static).update(summary)
        purchases = self.query_one("#purchases", DataTable)
        purchases.clear()
        for purchase in card.purchases:
            items = "; ".join(f"{line.description} ×{line.quantity.normalize():f}" for line in purchase.lines)
            channel = t(labels.CARD_CHANNEL[purchase.channel]) if purchase.channel in CHANNELS else purchase.channel
            purchases.add_row(_when(card, purchase.purchased_at), channel,
                              money(purchase.amount, currency=card.currency),
                              money(purchase.profit, currency=card.currency), items, key=str(purchase.id))
        subscriptions = self.query_one("#subscriptions", DataTable)
        subscriptions.clear()
        today = date.today()
        for subscription in card.subscriptions:
            until = format_date(subscription.ends_on, card.day_first)
            if subscription.ends_on < today:
                until += f" ({t('expired')})"
            subscriptions.add_row(subscription.product, format_date(subscription.starts_on, card.day_first), until,
                                  key=str(subscription.id))


    def selected(self) -> int | None:
        """The id of the purchase under the cursor."""
        table = self.query_one("#purchases", DataTable)
        if table.row_count == 0:
            return None
        return int(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)


class ActivityTab(Vertical):
    def __init__(self) -> None:
        super().__init__(id="tab-activity-body")

    def compose(self) -> ComposeResult:
        yield _table("interactions", "date", "kind", "author", "text", "outcome")

    async def fill(self, card: Card, draft: CardDraft | None = None) -> None:
        table = self.query_one("#interactions", DataTable)
        table.clear()
        for item in card.interactions:
            table.add_row(f"{_when(card, item.happened_at)} {item.happened_at.astimezone():%H:%M}",
                          t(labels.CARD_INTERACTION[item.kind]), item.author, item.text, item.outcome,
                          key=str(item.id))


class RemindersTab(Vertical):
    def __init__(self) -> None:
        super().__init__(id="tab-reminders-body")

    def compose(self) -> ComposeResult:
        yield _table("reminders", "done", "due", "text", "assignee")

    async def fill(self, card: Card, draft: CardDraft | None = None) -> None:
        table = self.query_one("#reminders", DataTable)
        table.clear()
        for reminder in card.reminders:
            table.add_row("✓" if reminder.done else "·", format_date(reminder.due_on, card.day_first),
                          reminder.text, reminder.assignee, key=str(reminder.id))

    def selected(self) -> int | None:
        table = self.query_one("#reminders", DataTable)
        if table.row_count == 0:
            return None
        return int(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
