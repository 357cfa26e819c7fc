"""Amounts as the shop reads them: a space between thousands, as in Russian and Romanian writing, and the
shop's currency (the `currency` setting's ISO code) after the amount."""

from __future__ import annotations

from decimal import Decimal


def money(value: Decimal | None, decimals: int = 2, currency: str = "") -> str:
    if value is None:
        return ""
    amount = f"{value:,.{decimals}f}".replace(",", " ")
    return f"{amount} {currency}" if currency else amount


def money_title(title: str, currency: str) -> str:
    """A column of amounts names its currency once, in its title, where each cell has no room for it."""
    return f"{title}, {currency}" if currency else title
