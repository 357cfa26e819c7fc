"""Shared pieces of the card editor's tests: a tiny app that shows one CardScreen, and a small client."""

from __future__ import annotations

from textual.app import App

from db import session
from db.card import cards
from db.card.draft import CardDraft, ContactDraft, RelativeDraft
from db.session import Identity
from screens.card.screen import CardScreen

ROLES = {"admin": "t_admin", "manager": "t_manager", "sales": "t_sales"}


def identity(role: str) -> Identity:
    return Identity(login=ROLES[role], role=role, database="test", schema_version=0, server_version="")


class CardApp(App):
    """Pushes one card; records what it dismissed with."""

    def __init__(self, role: str, client_id: int | None) -> None:
        super().__init__()
        self.role = role
        self.client_id = client_id
        self.dismissed: list[int | None] = []
        self.lost_connection = 0

    def on_mount(self) -> None:
        self.push_screen(CardScreen(identity(self.role), self.client_id), self.dismissed.append)

    def connection_lost(self) -> None:
        """ClientbaseApp shows its banner and reconnects here; the tests count the calls."""
        self.lost_connection += 1

    @property
    def card_screen(self) -> CardScreen:
        screens = [s for s in self.screen_stack if isinstance(s, CardScreen)]
        return screens[-1]


def bind(db, role: str = "admin") -> None:
    session.bind(db.target(role))


def make_client(**overrides) -> cards.Card:
    draft = CardDraft(last_name="Петрова", first_name="Анна", birth_date="12.03.1985",
                      contacts=(ContactDraft(None, "mobile", "8 912 345-67-89", True),
                                ContactDraft(None, "email", "anna.petrova@mail.ru", True)),
                      relatives=(RelativeDraft(None, "child", "Маша", "f", "01.06.2015"),))
    from dataclasses import replace

    return cards.save_card(cards.load_card(None), replace(draft, **overrides))
