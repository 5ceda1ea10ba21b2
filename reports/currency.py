"""Money for reports: converting between currencies through [pricing].rates and writing amounts
the way a buyer reads them ("€899.00 (≈ $970.92)").

Rates are "units of USD per unit of the currency" (config contract), so any pair converts through
USD. A currency without a rate is never guessed: conversion returns None and the caller counts
the amount apart."""

from __future__ import annotations

from dataclasses import dataclass, field

# Prefix symbols a buyer recognises; any other currency is written "899.00 CHF".
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CNY": "CN¥", "INR": "₹", "KRW": "₩"}


@dataclass(frozen=True)
class Converter:
    """Converts amounts to `target` (and between any two currencies with a rate)."""

    target: str = "USD"
    rates: dict[str, float] = field(default_factory=dict)

    def rate(self, currency: str | None) -> float | None:
        if currency == "USD":
            return self.rates.get("USD", 1.0)
        return self.rates.get(currency) if currency else None

    def convert(self, amount: float, currency: str | None, to: str | None = None) -> float | None:
        """`amount` in `currency` expressed in `to` (default the target), or None."""
        to = to or self.target
        if currency == to:
            return amount
        source_rate, target_rate = self.rate(currency), self.rate(to)
        if not source_rate or not target_rate:
            return None
        return round(amount * source_rate / target_rate, 2)

    def can_convert(self, currency: str | None) -> bool:
        return currency == self.target or (
            self.rate(currency) is not None and self.rate(self.target) is not None
        )


def format_money(amount: float | None, currency: str | None) -> str:
    if amount is None:
        return "—"
    number = f"{amount:,.2f}"
    if currency in SYMBOLS:
        sign, number = ("-", number[1:]) if number.startswith("-") else ("", number)
        return f"{sign}{SYMBOLS[currency]}{number}"
    return f"{number} {currency or '(currency unknown)'}"


def format_signed(amount: float | None, currency: str | None) -> str:
    """A difference: "+$374.00", "−$27.00"."""
    if amount is None:
        return "—"
    sign = "−" if amount < 0 else "+"
    return sign + format_money(abs(amount), currency)


def format_with_conversion(
    amount: float | None, currency: str | None, converted: float | None, target: str
) -> str:
    """The original amount, and its value in the report currency when that differs."""
    original = format_money(amount, currency)
    if amount is None or currency == target:
        return original
    if converted is None:
        return f"{original} (no rate to {target})" if currency else original
    return f"{original} (≈ {format_money(converted, target)})"
