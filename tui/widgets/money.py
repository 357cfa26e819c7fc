"""Amounts as the shop reads them: a space between thousands, as in Russian and Romanian writing."""

from __future__ import annotations

from decimal import Decimal


def money(value: Decimal | None, decimals: int = 2) -> str:
    return "" if value is None else f"{value:,.{decimals}f}".replace(",", " ")
