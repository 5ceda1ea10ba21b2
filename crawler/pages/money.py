"""Money: amounts as decimal strings and currencies as ISO 4217 codes, from structured values
("1299.00", 1299) and from what a shop prints ("1.299,00 €", "US $199.99", "CHF 1'299.–").

Normalisation: every price is `str(Decimal)` quantized to two places ("1299" → "1299.00",
"2999" yen → "2999.00"), so equal prices compare equal as strings."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from price_parser import Price

from crawler.pages._data import (
    AMBIGUOUS_SYMBOLS,
    COUNTRY_SETTLES,
    ISO_CODES,
    LANGUAGE_CURRENCY,
    REGION_CURRENCY,
    UNAMBIGUOUS_MARKERS,
)

CENTS = Decimal("0.01")
# Above this an amount is a product code or a phone number, not a retail price.
MAX_PRICE = Decimal("100000000")
_PLAIN_DECIMAL = re.compile(r"^\s*\d+(\.\d+)?\s*$")
_ISO_WORD = re.compile(r"(?<![A-Za-z])([A-Z]{3})(?![A-Za-z])")
_DIGIT = re.compile(r"\d")
# Only the euro sign: nobody writes "599$99", and "2 $15" is two numbers.
_SYMBOL_DECIMALS = re.compile(r"(\d)(€)(\d{2})(?![\d.,])")
# 元, 円 and 원 are also plain words or syllables ("販売元" is "seller"): a currency only right
# after a number.
_AFTER_NUMBER_ONLY = ("元", "円", "원")


def _word_end(marker: str) -> str:
    """A marker ending in a Latin letter ("Rp", "RMB") is not the start of a word ("Rpm")."""
    return r"(?![A-Za-z])" if re.fullmatch(r"[A-Za-z]", marker[-1]) else ""


_MARKER_PATTERNS = tuple(
    (
        re.compile(
            rf"(?<=\d){marker}|(?<=\d\s){marker}"
            if marker in _AFTER_NUMBER_ONLY
            else r"(?<![A-Za-z])" + re.escape(marker) + _word_end(marker)
        ),
        code,
    )
    for marker, code in UNAMBIGUOUS_MARKERS
)
_AMBIGUOUS_PATTERNS = (
    ("$", re.compile(r"\$")),
    ("¥", re.compile(r"[¥￥]")),
    ("kr", re.compile(r"(?<![A-Za-z])kr\.?(?![A-Za-z])", re.I)),
    ("Fr", re.compile(r"(?<![A-Za-z])Fr\.(?![A-Za-z])")),
    ("Rs", re.compile(r"(?<![A-Za-z])Rs\.?(?![A-Za-z])")),
)


# Any currency marker, longest first ("US $" before "$"), and a printed amount with one.
CURRENCY = (
    "|".join(
        re.escape(m)
        for m in sorted(
            {m for m, _ in UNAMBIGUOUS_MARKERS} | set(AMBIGUOUS_SYMBOLS), key=len, reverse=True
        )
    )
    + "|"
    + "|".join(sorted(ISO_CODES))
    + "|￥"
)
NUMBER = r"\d[\d.,'’\u00a0\u202f ]*\d|\d"
MONEY = re.compile(rf"(?:(?:{CURRENCY})\.?\s*(?:{NUMBER}))|(?:(?:{NUMBER})\s*(?:{CURRENCY}))")
MONEY_OR_MARKER = re.compile(rf"(?:{CURRENCY})")


def format_price(amount: Decimal | None) -> str | None:
    if amount is None:
        return None
    return str(amount.quantize(CENTS, rounding=ROUND_HALF_UP))


def parse_amount(value: object) -> Decimal | None:
    """An amount from a structured value (number or plain decimal string) or from printed text
    in any local format. None for nothing, zero-or-less, or absurd values."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        return _sane(Decimal(str(value)))
    if not isinstance(value, str) or not _DIGIT.search(value):
        return None
    text = value.strip()
    if _PLAIN_DECIMAL.match(text):
        return _sane(Decimal(text))
    return parse_printed_amount(text)


def join_symbol_decimals(text: str) -> str:
    """French shops print the currency sign as the decimal separator ("599€99"): read it as
    "599,99 €", so the cents are not lost and the sign still names the currency."""
    return _SYMBOL_DECIMALS.sub(r"\1,\3 \2", text)


def parse_printed_amount(text: str) -> Decimal | None:
    """What price-parser reads from shop text, with the Swiss "1'299.–" dash and the Amazon
    "1,299.00" joins it already understands."""
    text = join_symbol_decimals(text).replace("–", "").replace(".-", "").replace(",-", "")[:200]
    try:
        amount = Price.fromstring(text).amount
    except (InvalidOperation, ValueError, ArithmeticError):
        return None
    return _sane(amount)


def detect_currency(text: str, default: str | None = None) -> tuple[str | None, str | None]:
    """(ISO code or None, problem or None) for the currency printed in `text`.

    Unambiguous markers and ISO words decide; an ambiguous symbol ($, ¥, kr) takes the
    source's default currency only when that default is one of the symbol's currencies."""
    if not text:
        return None, None
    code = unambiguous_currency(text)
    if code:
        return code, None
    for symbol, pattern in _AMBIGUOUS_PATTERNS:
        if pattern.search(text):
            candidates = AMBIGUOUS_SYMBOLS[symbol]
            if default and default.upper() in candidates:
                return default.upper(), None
            if len(candidates) == 1:
                return candidates[0], None
            return None, f"ambiguous currency symbol '{symbol}'"
    return None, None


def currency_from_context(
    text: str, *, page_currency: str | None, lang: str | None, host: str | None
) -> str | None:
    """For a price printed with a shared symbol ("￥10,990", "$7,649"): the one of the
    symbol's currencies that the page names elsewhere ("1,000円OFF"), or, for "$", "kr" and
    "Rs", that its language region ("es-MX") or country domain (".com.au") names."""
    if not text or unambiguous_currency(text):
        return None
    symbol = next((s for s, pattern in _AMBIGUOUS_PATTERNS if pattern.search(text)), None)
    if symbol is None:
        return None
    evidence = [page_currency]
    if symbol in COUNTRY_SETTLES:
        language, _, region = (lang or "").replace("_", "-").partition("-")
        tld = (host or "").rstrip(".").rpartition(".")[2].upper()
        evidence.append(REGION_CURRENCY.get(region[:2].upper()))
        evidence.append(LANGUAGE_CURRENCY.get(language.lower()))
        evidence.append(REGION_CURRENCY.get(tld))
    for code in evidence:
        if code in AMBIGUOUS_SYMBOLS[symbol]:
            return code
    return None


def unambiguous_currency(text: str) -> str | None:
    for pattern, code in _MARKER_PATTERNS:
        if pattern.search(text):
            return code
    for word in _ISO_WORD.findall(text):
        if word in ISO_CODES:
            return word
    return None


def normalize_currency(value: object) -> str | None:
    """An ISO code from a structured priceCurrency ("usd", "EUR", "€")."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.upper() in ISO_CODES or re.fullmatch(r"[A-Za-z]{3}", text):
        return text.upper()
    return unambiguous_currency(text)


def _sane(amount: Decimal | None) -> Decimal | None:
    if amount is None or not amount.is_finite() or amount <= 0 or amount >= MAX_PRICE:
        return None
    return amount
