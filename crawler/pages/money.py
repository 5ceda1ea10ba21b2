"""Money: amounts as decimal strings and currencies as ISO 4217 codes, from structured values
("1299.00", 1299) and from what a shop prints ("1.299,00 €", "US $199.99", "CHF 1'299.–").

Normalisation: every price is `str(Decimal)` quantized to two places ("1299" → "1299.00",
"2999" yen → "2999.00"), so equal prices compare equal as strings."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

from babel import core as cldr
from babel.numbers import get_currency_precision, get_territory_currencies
from price_parser import Price

from crawler.pages._data import AMBIGUOUS_SYMBOLS, ISO_CODES
from crawler.pages._data import UNAMBIGUOUS_MARKERS as _MARKERS
from crawler.pages._money_data import (
    EXTRA_MARKERS,
    OFFICIAL_STATUSES,
    REGISTRY_SECOND_LEVELS,
    TEMPLATE_REGIONS,
    TLD_TERRITORY,
    VANITY_TLDS,
)

# The extraction's markers first (their order settles "US $" before "$"), then the ones this
# module adds; none of the added ones is part of an earlier one.
UNAMBIGUOUS_MARKERS = (*_MARKERS, *EXTRA_MARKERS)

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
    """(ISO code or None, problem or None) for the currency printed in `text`, with no page
    around it: `resolve_currency` with only the source's default as evidence."""
    found = resolve_currency(text, default=default)
    return (found.code if found.printed else None), found.problem


@dataclass(frozen=True)
class CurrencyReading:
    """A price's currency and the evidence that decided it, as a sentence (`source`)."""

    code: str | None
    source: str | None = None
    problem: str | None = None
    printed: bool = False  # decided by a sign or code printed with the price


def resolve_currency(
    text: str,
    *,
    default: str | None = None,
    lang: str | None = None,
    host: str | None = None,
    page_currency: str | None = None,
) -> CurrencyReading:
    """The currency of a printed price, from evidence in this order: a sign or ISO code that
    names one currency; for a shared sign ($, ¥, kr, Rs) the source's configured currency,
    a currency the page prints elsewhere, the site's country domain, the page language's
    region, the countries whose official language the page is in, an "en-US" template
    region; with no sign at all, the source's configured currency."""
    text = text or ""
    code = unambiguous_currency(text)
    if code:
        marker = _printed_marker(text, code)
        return CurrencyReading(code, f"printed '{marker}' names {code}", printed=True)
    symbol = next((s for s, pattern in _AMBIGUOUS_PATTERNS if pattern.search(text)), None)
    if symbol is None:
        if default:
            return CurrencyReading(
                default.upper(), f"no currency printed: the source's currency {default.upper()}"
            )
        return CurrencyReading(None)
    for code, why in _shared_sign_evidence(symbol, default, lang, host, page_currency):
        return CurrencyReading(code, f"'{symbol}' read as {code}: {why}", printed=True)
    candidates = AMBIGUOUS_SYMBOLS[symbol]
    if len(candidates) == 1:
        return CurrencyReading(candidates[0], f"'{symbol}' is only {candidates[0]}", printed=True)
    return CurrencyReading(
        None, problem=f"ambiguous currency symbol '{symbol}': no page or site evidence settles it"
    )


def _shared_sign_evidence(symbol, default, lang, host, page_currency):
    """(code, why) for each piece of evidence that leaves exactly one of the sign's currencies."""
    language, _, region = (lang or "").replace("_", "-").partition("-")
    region = region[:2].upper() if region[:2].isalpha() else ""
    territory = _host_territory(host)
    evidence = [
        ({(default or "").upper()}, f"the source's configured currency {(default or '').upper()}"),
        ({page_currency or ""}, f"the page prints {page_currency} elsewhere"),
        (_territory_currencies(territory), f"the site's country domain .{territory.lower()}"),
    ]
    if region not in TEMPLATE_REGIONS:
        evidence.append((_territory_currencies(region), f"the page language {lang}"))
    evidence.append((_language_currencies(language.lower()), f"the page language {lang}"))
    if region in TEMPLATE_REGIONS:
        evidence.append((_territory_currencies(region), f"the page language {lang}"))
    for codes, why in evidence:
        fitting = {code for code in codes if code and _written_with(symbol, code)}
        if len(fitting) == 1:
            yield fitting.pop(), why
            return


def _written_with(symbol: str, code: str) -> bool:
    """Whether `code` is one of the currencies shops print with this shared sign."""
    return code in AMBIGUOUS_SYMBOLS[symbol]


def _host_territory(host: str | None) -> str:
    """The ISO country of a site's country-code domain ("shopee.com.my" → "MY"), or "" for a
    generic domain or a country domain sold to anyone ("brand.co", not "falabella.com.co")."""
    labels = (host or "").lower().rstrip(".").split(".")
    if len(labels) < 2 or len(labels[-1]) != 2 or not labels[-1].isalpha():
        return ""
    tld = labels[-1]
    if tld in VANITY_TLDS and not (len(labels) > 2 and labels[-2] in REGISTRY_SECOND_LEVELS):
        return ""
    return TLD_TERRITORY.get(tld, tld.upper())


@lru_cache(maxsize=512)
def _territory_currencies(territory: str) -> frozenset[str]:
    """The currencies a country uses today, from CLDR ("AU" → AUD); "EU" → EUR."""
    if not territory:
        return frozenset()
    if territory == "EU":
        return frozenset({"EUR"})
    try:
        return frozenset(get_territory_currencies(territory))
    except (KeyError, ValueError):
        return frozenset()


@lru_cache(maxsize=256)
def _language_currencies(language: str) -> frozenset[str]:
    """The currencies of the countries where `language` is official, from CLDR ("ja" → JPY;
    "sv" → SEK, EUR). Many for a world language, so it settles a sign only with few."""
    if not language.isalpha():
        return frozenset()
    codes: set[str] = set()
    for territory, languages in cldr.get_global("territory_languages").items():
        status = languages.get(language, {}).get("official_status")
        if status in OFFICIAL_STATUSES:
            codes |= _territory_currencies(territory)
    return frozenset(codes)


def _printed_marker(text: str, code: str) -> str:
    for pattern, marker_code in _MARKER_PATTERNS:
        found = pattern.search(text) if marker_code == code else None
        if found:
            return found.group()
    return code


@lru_cache(maxsize=256)
def minor_units(code: str | None) -> int:
    """Digits after the decimal point a price in this currency is written with (CLDR: JPY,
    IDR, KRW, VND, CLP 0; most 2): a ".000" there is thousands, never a fraction."""
    if not code:
        return 2
    try:
        return get_currency_precision(code)
    except (KeyError, ValueError):
        return 2


def amount_in(text: str, code: str | None) -> Decimal | None:
    """`parse_amount`, read knowing the currency: in a currency written without minor units a
    separator before the last three digits groups thousands ("12.500" yen is 12500)."""
    amount = parse_amount(text)
    if amount is None or minor_units(code) or amount == amount.to_integral_value():
        return amount
    number = re.search(NUMBER, text) if isinstance(text, str) else None
    if number and re.search(r"[.,'’\u00a0\u202f ]\d{3}$", number.group()):
        return _sane(Decimal(re.sub(r"\D", "", number.group())))
    return amount


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
