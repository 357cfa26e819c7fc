"""Amounts as the shop reads them, in the current locale (db/normalize.py formats them: 1 234,50 ₽ in ru,
1.234,50 lei in ro), with the shop's currency (the `currency` setting's ISO code) after the amount."""

from __future__ import annotations

from decimal import Decimal

from db.normalize import currency_sign, format_money


def money(value: Decimal | None, decimals: int = 2, currency: str = "") -> str:
    return format_money(value, currency, decimals)


def money_title(title: str, currency: str) -> str:
    """A column of amounts names its currency once, in its title, where each cell has no room for it."""
    return f"{title}, {currency_sign(currency)}" if currency else title
