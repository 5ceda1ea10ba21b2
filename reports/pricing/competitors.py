"""Judging one seller's offer of a catalog model: its MSRP position, the margin a distributor
would make matching it, whether it is below the distributor's landed cost, and since when.

The MSRP is the storage variant's (`variant_msrp`) when the listing's title names a storage the
catalog prices (the detectors' judgement, `storage` in the observation row), else the model's.

The currency rule (DESIGN, [pricing].rates): compare with the catalog amount in the price's own
currency; convert only when the catalog has none in that currency."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from grayhound.config import CatalogModel
from reports.currency import Converter


@dataclass(frozen=True)
class PricePoint:
    """One listing's price in its own currency, and in the report currency (None: no rate)."""

    amount: float
    currency: str | None
    converted: float | None


@dataclass(frozen=True)
class Competitor:
    """A seller's cheapest current listing of a model, judged against MSRP and landed cost."""

    seller: str
    seller_url: str | None
    source: str
    listing_id: int
    url: str
    title: str | None
    price: PricePoint
    listings: int  # the seller's current listings of this model
    msrp_position: float | None  # price / MSRP − 1 (−0.12 = 12 % below MSRP)
    msrp_basis: str | None  # the currency of the MSRP compared against
    landed_cost: float | None
    landed_currency: str | None
    margin: float | None  # (price − landed cost) / price, in the landed cost's currency
    landed_gap: float | None  # price − landed cost; negative = below your cost
    below_landed: bool
    first_seen: str
    price_since: str  # first observation of the unbroken run at today's price
    below_landed_since: str | None  # first observation of the unbroken run below landed cost
    msrp_variant: str | None = None  # the storage ('1TB') whose variant_msrp was compared


def competitors_of(
    entry: CatalogModel, offers: list[tuple[list[dict], PricePoint]], converter: Converter
) -> tuple[Competitor, ...]:
    """One row per seller: their cheapest listing, cheapest sellers first."""
    by_seller: dict[tuple, list[tuple[list[dict], PricePoint]]] = defaultdict(list)
    for rows, point in offers:
        by_seller[seller_key(rows[-1])].append((rows, point))
    competitors = []
    for own in by_seller.values():
        rows, point = min(
            own, key=lambda item: _order(item[1], entry, converter, item[0][-1].get("storage"))
        )
        competitors.append(_competitor(entry, rows, point, len(own), converter))
    return rank_competitors(competitors, entry, converter)


def rank_competitors(
    competitors, entry: CatalogModel, converter: Converter
) -> tuple[Competitor, ...]:
    """Cheapest sellers first (see `_order`), then by listing."""
    return tuple(
        sorted(
            competitors,
            key=lambda c: (*_order(c.price, entry, converter, c.msrp_variant), c.listing_id),
        )
    )


def _order(
    point: PricePoint, entry: CatalogModel, converter: Converter, storage: str | None = None
) -> tuple:
    """Cheapest first in the report currency; unconvertible prices after, by MSRP position."""
    if point.converted is not None:
        return (0, point.converted)
    position = msrp_position(point, entry, converter, storage)[0]
    return (1, position if position is not None else float("inf"))


def _competitor(
    entry: CatalogModel, rows: list[dict], point: PricePoint, count: int, converter: Converter
) -> Competitor:
    """`rows`: the listing's observations in run order, its latest last. Of the others only
    the price, currency and time are read (a price trail, `Store.listings_price_trails`)."""
    latest = rows[-1]
    position, basis, variant = msrp_position(point, entry, converter, latest.get("storage"))
    landed, landed_currency, in_landed = _landed(point, entry, converter)
    below = in_landed is not None and in_landed < landed

    def below_cost(row: dict) -> bool:
        cost, _, amount = _landed(point_of(row, converter), entry, converter)
        return amount is not None and amount < cost

    same_price = (latest["price"], latest["currency"])
    return Competitor(
        seller=seller_name(latest),
        seller_url=latest.get("seller_url"),
        source=latest["source"],
        listing_id=latest["listing_id"],
        url=latest["url"],
        title=latest.get("title"),
        price=point,
        listings=count,
        msrp_position=position,
        msrp_basis=basis,
        msrp_variant=variant,
        landed_cost=landed,
        landed_currency=landed_currency,
        margin=round((in_landed - landed) / in_landed, 4) if in_landed else None,
        landed_gap=round(in_landed - landed, 2) if in_landed is not None else None,
        below_landed=below,
        first_seen=latest["first_seen"],
        price_since=_since(rows, lambda r: (r["price"], r["currency"]) == same_price),
        below_landed_since=_since(rows, below_cost) if below else None,
    )


def _since(rows: list[dict], holds) -> str | None:
    """When the unbroken run of observations (up to the latest) for which `holds` began."""
    since = None
    for row in reversed(rows):
        if price_amount(row) is None or not holds(row):
            break
        since = row["observed_at"]
    return since


def msrp_position(
    point: PricePoint, entry: CatalogModel, converter: Converter, storage: str | None = None
) -> tuple[float | None, str | None, str | None]:
    """(price / MSRP − 1, the MSRP's currency, the storage variant compared or None).

    The storage variant's MSRP in the price's own currency first, then the model's; only then
    converted, to the variant's and else the model's (the order detectors.prices.msrp_in
    judges a listing by, so the report and the listing's price flag agree)."""
    variant = entry.variant_msrp.get(storage) if storage else None
    tables = [(variant, storage)] if variant else []
    tables.append((entry.msrp, None))
    if point.currency is not None:
        for table, label in tables:
            if point.currency in table:
                return round(point.amount / table[point.currency] - 1, 4), point.currency, label
    for table, label in tables:
        found = _in_currency_of(point, table, converter)
        if found is not None:
            basis, amount = found
            return round(amount / table[basis] - 1, 4), basis, label
    return None, None, None


def _landed(
    point: PricePoint, entry: CatalogModel, converter: Converter
) -> tuple[float | None, str | None, float | None]:
    """(landed cost, its currency, the price in that currency) — same currency rule as MSRP."""
    totals = {code: cost.total for code, cost in entry.landed_cost.items()}
    found = _in_currency_of(point, totals, converter)
    if found is None:
        return None, None, None
    code, amount = found
    return totals[code], code, amount


def _in_currency_of(
    point: PricePoint, table: dict[str, float], converter: Converter
) -> tuple[str, float] | None:
    """The price in a currency of `table`: its own first, then the report currency, USD, rest."""
    if point.currency is None or not table:
        return None
    if point.currency in table:
        return point.currency, point.amount
    preferred = [converter.target, "USD", *sorted(table)]
    for code in dict.fromkeys(c for c in preferred if c in table):
        amount = converter.convert(point.amount, point.currency, code)
        if amount is not None:
            return code, amount
    return None


def point_of(row: dict, converter: Converter) -> PricePoint:
    amount = price_amount(row)
    currency = row.get("currency") or None
    converted = converter.convert(amount, currency) if currency else None
    return PricePoint(amount=amount, currency=currency, converted=converted)


def price_amount(row: dict) -> float | None:
    price = row.get("price")
    return None if price is None else _amount(str(price))


def parse_amount(text: str) -> float | None:
    """A stored price's text as a number, `float(Decimal(text))`; None when it is not one.
    ASCII digits with at most one point are read by `float` directly: the same double (both
    round the exact decimal value correctly) in a third of the time."""
    if text.isascii() and text.replace(".", "", 1).isdigit():
        return float(text)
    try:
        return float(Decimal(text))
    except (InvalidOperation, ValueError):
        return None


# a price is read several times per observation; prices repeat (`PricePoints` keeps its own)
_amount = lru_cache(maxsize=1 << 16)(parse_amount)


def seller_key(row: dict) -> tuple:
    if row.get("seller_id") is not None:
        return ("id", row["seller_id"])
    if row.get("seller_name"):
        return ("name", row["source"], row["seller_name"])
    return ("listing", row["listing_id"])


def seller_name(row: dict) -> str:
    return row.get("seller_name") or row.get("seller_domain") or f"(unnamed, {row['source']})"
