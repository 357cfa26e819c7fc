"""A purchase with its lines, entered or corrected from the card: date, channel, then one row per product
(Ctrl+N adds a row). Written at once in one transaction (db/card/activity.add_purchase, update_purchase); a
refused value is said and the form stays open with everything typed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Select, Static

from db.card import activity as card_activity
from db.card.values import format_date, parse_date
from db.errors import UserError, ValidationError
from db.normalize import parse_amount
from db.i18n import N_, t
from screens.base import DatabaseScreen, database_work
from tui.widgets.field_grid import Field, FieldGrid
from tui.widgets.footer import SteadyFooter


class LineRow(Horizontal):
    DEFAULT_CSS = """
    LineRow { height: 1; }
    LineRow Select { width: 28; }
    LineRow .description { width: 1fr; }
    LineRow .quantity { width: 7; }
    LineRow .price { width: 11; }
    """

    def __init__(self, products: list[card_activity.Product], line: card_activity.PurchaseLine | None = None) -> None:
        super().__init__()
        self.products = products
        self.initial = line

    def compose(self) -> ComposeResult:
        line = self.initial
        known = line is not None and any(p.id == line.product_id for p in self.products)
        yield Select([(p.name, p.id) for p in self.products], compact=True, prompt=t("Product"),
                     value=line.product_id if known else Select.NULL, classes="product")
        # The loaded description of a product's line is the product's name; typed again it would be stored twice.
        description = "" if line is None or known else line.description
        yield Input(description, placeholder=t("Description"), compact=True, classes="description")
        yield Input(f"{line.quantity.normalize():f}" if line else "1", compact=True, classes="quantity",
                    restrict=r"[0-9.,]*")
        yield Input(f"{line.price}" if line else "", placeholder=t("Price"), compact=True, classes="price",
                    restrict=r"-?[0-9., ]*")

    def line(self, prices: dict[int, Decimal]) -> tuple[int | None, str, Decimal, Decimal]:
        product = self.query_one(".product", Select).value
        product_id = None if product is Select.NULL else int(product)
        description = self.query_one(".description", Input).value.strip()
        if product_id is None and not description:
            raise ValidationError("lines", N_("Each line needs a product or a description."))
        try:
            quantity = parse_amount(self.query_one(".quantity", Input).value or "1")
            typed = self.query_one(".price", Input).value.strip()
            price = parse_amount(typed) if typed else prices.get(product_id)
        except (InvalidOperation, ValueError):
            raise ValidationError("lines", N_("Expected a number such as 12 or 12.5.")) from None
        if price is None:
            raise ValidationError("price", N_("Each line needs a price (a negative one for a refund)."))
        return product_id, description, quantity, price

    @on(Select.Changed, ".product")
    def _suggest_price(self, event: Select.Changed) -> None:
        price = self.query_one(".price", Input)
        chosen = next((p for p in self.products if p.id == event.value), None)
        if chosen is not None and not price.value:
            price.value = f"{chosen.price}"


class PurchaseScreen(DatabaseScreen, ModalScreen[int | None]):
    """Dismisses with the purchase's id (new or corrected), or None. Given `purchase`, corrects that one."""

    @dataclass
    class Written(Message):
        purchase_id: int

    CSS_PATH = Path(__file__).with_name("card.tcss")
    BINDINGS = [
        Binding("ctrl+s", "submit", t("Save"), tooltip=t("Save the purchase"), id="purchase-submit"),
        Binding("ctrl+n", "add_line", t("Add line"), tooltip=t("Add line"), id="purchase-line"),
        Binding("ctrl+r", "remove_line", t("Remove line"), tooltip=t("Remove line"),
                id="purchase-remove-line"),
        Binding("escape", "cancel", t("Cancel"), tooltip=t("Cancel"), id="purchase-cancel"),
    ]

    def __init__(self, client_id: int, products: list[card_activity.Product], day_first: bool,
                 purchase: card_activity.Purchase | None = None) -> None:
        super().__init__()
        self.client_id = client_id
        self.products = products
        self.day_first = day_first
        self.purchase = purchase

    def compose(self) -> ComposeResult:
        purchase = self.purchase
        when = purchase.purchased_at.astimezone().date() if purchase else date.today()
        with Vertical():
            yield Label(t("Edit purchase") if purchase else t("Add purchase"), classes="title")
            yield FieldGrid(
                Field("date", Input(format_date(when, self.day_first), compact=True, id="purchase-date"),
                      t("Date")),
                Field("channel", Input(purchase.channel if purchase else "shop", compact=True,
                                       id="purchase-channel"), t("Channel")))
            with VerticalScroll(id="lines"):
                for line in (purchase.lines if purchase and purchase.lines else (None,)):
                    yield LineRow(self.products, line)
            yield Static("", id="purchase-status")
        yield SteadyFooter()

    def on_mount(self) -> None:
        self.query_one(LineRow).query_one(".product", Select).focus()

    async def action_add_line(self) -> None:
        row = LineRow(self.products)
        await self.query_one("#lines").mount(row)
        row.query_one(".product", Select).focus()

    async def action_remove_line(self) -> None:
        rows = list(self.query(LineRow))
        focused = next((row for row in rows if self.focused in row.query("*")), rows[-1])
        if len(rows) > 1:
            await focused.remove()

    def action_submit(self) -> None:
        prices = {p.id: p.price for p in self.products}
        try:
            when = parse_date(self.query_one("#purchase-date", Input).value, "date", self.day_first)
            if when is None:
                raise ValidationError("date", N_("This field is required."))
            lines = [row.line(prices) for row in self.query(LineRow)]
        except ValidationError as problem:
            self.query_one("#purchase-status", Static).update(str(problem))
            return
        purchase = self.purchase
        if purchase is not None and when == purchase.purchased_at.astimezone().date():
            moment = purchase.purchased_at  # the date was left as it was: so is the time
        elif when == date.today():
            moment = datetime.now().astimezone()
        else:
            # Another day: midday of that day, so the date survives any time zone.
            moment = datetime(when.year, when.month, when.day, 12).astimezone()
        self.write(moment, self.query_one("#purchase-channel", Input).value, lines)

    @database_work(group="card-purchase")
    def write(self, moment: datetime, channel: str, lines: list) -> Written:
        if self.purchase is None:
            return self.Written(card_activity.add_purchase(self.client_id, moment, channel, lines))
        card_activity.update_purchase(self.purchase.id, self.purchase.version, moment, channel, lines,
                                      self.purchase.note)
        return self.Written(self.purchase.id)

    @on(Written)
    def _written(self, message: Written) -> None:
        self.dismiss(message.purchase_id)

    def show_user_error(self, error: UserError) -> None:
        self.query_one("#purchase-status", Static).update(str(error))

    def action_cancel(self) -> None:
        self.dismiss(None)
