"""The product catalogue: the list on top, the selected product's form below. Opened with P from the clients
list by every login: the administrator edits (Ctrl+S saves, Ctrl+N starts a new product, Ctrl+R retires or
puts back on sale), the others read, with no write key and every field disabled."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Input, Static

from db import session
from db.admin import products
from db.admin.products import Product, ProductDraft
from db.errors import UserError, ValidationError
from db.i18n import N_, t
from db.session import Identity
from screens.base import DatabaseScreen, database_work
from tui.widgets.field_grid import Field, FieldGrid, set_text
from tui.widgets.app_header import AppHeader
from tui.widgets.footer import SteadyFooter
from tui.widgets.money import money

WRITES = {"save", "new", "toggle_active"}
FIELDS = ("name", "category", "price", "cost", "subscription_days")


class ProductsScreen(DatabaseScreen, Screen[None]):
    HELP = N_("The catalogue the purchase form picks from: name, category, price, cost and, for a pass, how many days "
              "it lasts. The administrator adds, corrects and retires products; everyone else reads.")

    @dataclass
    class Listed(Message):
        products: list[Product]

    @dataclass
    class Written(Message):
        product_id: int | None

    CSS_PATH = Path(__file__).with_name("admin.tcss")
    BINDINGS = [
        Binding("ctrl+s", "save", t("Save"), tooltip=t("Save the product"), id="products-save"),
        Binding("ctrl+n", "new", t("New product"), tooltip=t("Start a new product"), id="products-new"),
        Binding("ctrl+r", "toggle_active", t("Retire / on sale"), tooltip=t("Take the product out of the "
                                                                             "purchase form, or put it back"),
                id="products-active"),
        Binding("escape", "close", t("Close"), tooltip=t("Back to the clients"), id="products-close"),
    ]

    def __init__(self, identity: Identity) -> None:
        super().__init__()
        self.identity = identity
        self.products: list[Product] = []
        self.editing: Product | None = None

    def compose(self) -> ComposeResult:
        yield AppHeader()
        table = DataTable(id="products", cursor_type="row", zebra_stripes=True)
        for key, title, width in (("name", t("Name"), 24), ("category", t("Category"), 14), ("price", t("Price"), 10),
                                  ("cost", t("Cost"), 10), ("days", t("Days"), 5), ("state", t("On sale"), 8)):
            table.add_column(title, key=key, width=width)
        yield table
        read_only = not self.identity.can_write
        yield FieldGrid(
            Field("name", Input(compact=True, id="product-name", disabled=read_only), t("Name")),
            Field("category", Input(compact=True, id="product-category", disabled=read_only), t("Category")),
            Field("price", Input(compact=True, id="product-price", disabled=read_only, restrict=r"[0-9., ]*"),
                  t("Price")),
            Field("cost", Input(compact=True, id="product-cost", disabled=read_only, restrict=r"[0-9., ]*"),
                  t("Cost")),
            Field("subscription_days", Input(compact=True, id="product-subscription_days", disabled=read_only,
                                             restrict=r"[0-9]*",
                                             placeholder=t("days a pass lasts; empty if not a pass")),
                  t("Pass, days")))
        yield Static("", id="products-status")
        yield SteadyFooter()

    def on_mount(self) -> None:
        self.title = t("Products")
        self.reload()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in WRITES:
            return self.identity.can_write
        return True

    @database_work(group="products-load")
    def reload(self) -> Listed:
        return self.Listed(session.read(products.list_products))

    @on(Listed)
    def _show(self, message: Listed) -> None:
        self.products = message.products
        table = self.query_one("#products", DataTable)
        table.clear()
        for product in self.products:
            table.add_row(product.name, product.category, money(product.price),
                          "" if product.cost is None else money(product.cost),
                          "" if product.subscription_days is None else str(product.subscription_days),
                          t("yes") if product.active else t("no"), key=str(product.id))
        if self.editing is not None:
            self.editing = next((p for p in self.products if p.id == self.editing.id), None)
            if self.editing is not None:
                table.move_cursor(row=self.products.index(self.editing))
        self._fill(self.editing if self.editing else (self.products[0] if self.products else None))

    def _fill(self, product: Product | None) -> None:
        self.editing = product
        values = {"name": "", "category": "", "price": "", "cost": "", "subscription_days": ""}
        if product is not None:
            values = {"name": product.name, "category": product.category, "price": f"{product.price}",
                      "cost": "" if product.cost is None else f"{product.cost}",
                      "subscription_days": "" if product.subscription_days is None else str(product.subscription_days)}
        for name, value in values.items():
            set_text(self.query_one(f"#product-{name}", Input), value)
        self.query_one(FieldGrid).show_errors({})

    @on(DataTable.RowHighlighted, "#products")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._fill(next((p for p in self.products if str(p.id) == event.row_key.value), None))

    @on(DataTable.RowSelected, "#products")
    def _selected(self) -> None:
        if self.identity.can_write:
            self.query_one("#product-name", Input).focus()

    def action_new(self) -> None:
        self._fill(None)
        self.query_one("#products-status", Static).update(t("A new product: fill in the form and save it."))
        self.query_one("#product-name", Input).focus()

    def action_save(self) -> None:
        draft = ProductDraft(**{name: self.query_one(f"#product-{name}", Input).value for name in FIELDS})
        self.write(products.save_product, self.editing, draft)

    def action_toggle_active(self) -> None:
        if self.editing is not None:
            self.write(products.set_active, self.editing, not self.editing.active)

    @database_work(group="products-write")
    def write(self, change, *args) -> Written:
        return self.Written(change(*args))

    @on(Written)
    def _written(self, message: Written) -> None:
        if message.product_id is not None:
            self.editing = Product(message.product_id, "", "", 0, None, None, True, 0)
        self.query_one("#products-status", Static).update(t("Saved."))
        self.reload()

    def show_user_error(self, error: UserError) -> None:
        self.query_one(FieldGrid).show_errors({error.field: str(error)} if isinstance(error, ValidationError) else {})
        self.query_one("#products-status", Static).update(str(error))
        if not isinstance(error, ValidationError):
            self.reload()

    def action_close(self) -> None:
        self.dismiss(None)
