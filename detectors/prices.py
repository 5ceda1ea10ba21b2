"""Prices against MSRP and against peers. Pure arithmetic on decimal strings and the catalog.

MSRP is the storage variant's (`variant_msrp`) when the title names a storage the catalog prices,
else the model's; in the listing's currency when the catalog has it, only otherwise converted to
USD with Pricing.rates. New (and unknown-condition) devices are judged by low_ratio/high_ratio;
used and refurbished ones by used_low_ratio; accessories, parts, boxes, dummies, services and
phones sold broken never against a phone's MSRP. A 'device' at a few percent of its MSRP is far
more likely not the device: it is marked for review with that reason, not flagged price_low. Peers: listings of the same model and condition, compared by their MSRP ratio (so
currencies mix), with the median and MAD of at least PEER_MIN listings other than the one judged."""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from statistics import median

from detectors.risk import Signal
from grayhound.config import CatalogModel, Pricing

# Fewer peers than this and a median says little.
PEER_MIN = 5
# MAD → standard deviation of a normal distribution (the usual robust z-score constant).
MAD_SCALE = 0.6745
# Identical peer prices give MAD 0; assume at least this spread (fraction of the median).
MAD_FLOOR = 0.02

W_PRICE_LOW = 0.5  # far under MSRP: counterfeit, stolen or bait
W_USED_LOW = 0.45  # even a used device is rarely this cheap
W_PRICE_HIGH = 0.2  # over MSRP: scalping or gray import, rarely a brand risk alone
W_PEER_LOW = 0.4
W_PEER_HIGH = 0.15
# Under this share of MSRP a listing is almost never the phone itself (an empty box, a part, a
# dummy titled with the model): a reason to review it, not a price_low flag.
IMPLAUSIBLE_RATIO = 0.1
W_IMPLAUSIBLE = 0.3


@dataclass(frozen=True)
class PriceCheck:
    msrp: float | None = None
    msrp_currency: str | None = None
    ratio: float | None = None
    signals: tuple[Signal, ...] = ()
    notes: tuple[str, ...] = ()
    variant: str | None = None  # the storage whose MSRP was used


@dataclass(frozen=True)
class Goods:
    """What the title says the listing is, as far as the price check cares."""

    condition: str = "unknown"
    kind: str = "device"  # device | accessory | part | packaging | dummy | service
    storage: str | None = None  # '512GB', for variant_msrp
    broken: str | None = None  # 'for parts': a broken device's price says nothing of MSRP


def parse_price(price: str | None) -> float | None:
    if price is None:
        return None
    try:
        value = Decimal(str(price).strip())
    except (InvalidOperation, ValueError):
        return None
    return float(value) if value.is_finite() and value > 0 else None


def _to_usd(currency: str, rates: dict[str, float]) -> float | None:
    return 1.0 if currency == "USD" else rates.get(currency)


def msrp_in(model: CatalogModel, currency: str, rates: dict[str, float], storage=None):
    """(msrp, msrp_currency, factor turning the listing's price into msrp_currency, variant)
    or None. The storage variant's MSRP in the listing's currency first, then the model's,
    then (converted) the variant's and the model's in USD or any currency with a rate."""
    variant = model.variant_msrp.get(storage) if storage else None
    tables = [(variant, storage)] if variant else []
    tables.append((model.msrp, None))
    for table, label in tables:
        if currency in table:
            return table[currency], currency, 1.0, label
    rate = _to_usd(currency, rates)
    if rate is None:
        return None
    for table, label in tables:
        if "USD" in table:
            return table["USD"], "USD", rate, label
        for code, amount in table.items():
            code_rate = _to_usd(code, rates)
            if code_rate:
                return round(amount * code_rate, 2), "USD", rate, label
    return None


def check_price(
    price: str | None,
    currency: str | None,
    goods: Goods,
    model: CatalogModel | None,
    pricing: Pricing,
) -> PriceCheck:
    amount = parse_price(price)
    if model is None or amount is None:
        return PriceCheck()
    if goods.kind != "device":
        note = f"{goods.kind} for the {model.model}: not compared with the device's MSRP"
        return PriceCheck(notes=(note,))
    if goods.broken:
        note = f"sold broken ('{goods.broken}'): not compared with the {model.model} MSRP"
        return PriceCheck(notes=(note,))
    if not currency:
        return PriceCheck(notes=(f"price {price} has no currency: not compared with MSRP",))
    found = msrp_in(model, currency, pricing.rates, goods.storage)
    if found is None:
        note = f"no {model.model} MSRP in {currency} and no rate to USD: price not compared"
        return PriceCheck(notes=(note,))
    msrp, msrp_currency, factor, variant = found
    ratio = round(amount * factor / msrp, 4)
    shown = f"{price} {currency}"
    if factor != 1.0:
        shown += f" (≈ {amount * factor:.2f} USD at {factor:g}, no {currency} MSRP)"
    which = f"{model.model} {variant}" if variant else model.model
    against = f"{ratio:.0%} of the {which} MSRP {msrp:g} {msrp_currency}"
    if ratio < IMPLAUSIBLE_RATIO:
        signals = (_implausible(shown, against, model),)
    else:
        signals = _ratio_signals(shown, against, ratio, goods.condition, model, pricing)
    return PriceCheck(msrp, msrp_currency, ratio, signals, variant=variant)


def _implausible(shown: str, against: str, model: CatalogModel) -> Signal:
    reason = (
        f"price {shown} is {against}: too cheap to be the phone itself; more likely a part, "
        "box, dummy or accessory titled with its name — review it, not flagged price_low"
    )
    return Signal(W_IMPLAUSIBLE, "suspicious", reason, model.brand)


def _ratio_signals(shown, against, ratio, condition, model, pricing) -> tuple[Signal, ...]:
    brand = model.brand
    if condition in ("used", "refurbished"):
        if ratio < pricing.used_low_ratio:
            reason = f"{condition} price {shown} is {against}, under {pricing.used_low_ratio:.0%} even for {condition} goods"
            return (Signal(W_USED_LOW, "suspicious", reason, brand, "price_low"),)
    elif ratio < pricing.low_ratio:
        judged = "new" if condition == "new" else "condition unknown, judged as new"
        reason = f"price {shown} is {against} ({judged}), under the {pricing.low_ratio:.0%} floor"
        return (Signal(W_PRICE_LOW, "suspicious", reason, brand, "price_low"),)
    if ratio > pricing.high_ratio:
        reason = f"price {shown} is {against}, over the {pricing.high_ratio:.0%} ceiling"
        return (Signal(W_PRICE_HIGH, "clean", reason, brand, "price_high"),)
    return ()


def peer_outliers(
    groups: dict[tuple[str, str], list[tuple[int, float]]], threshold: float
) -> dict[int, Signal]:
    """Robust z-scores of MSRP ratios within each (model, condition) group, leave-one-out."""
    out: dict[int, Signal] = {}
    for (model_name, condition), members in groups.items():
        if len(members) <= PEER_MIN:
            continue
        peer_count = len(members) - 1
        for (index, ratio), (z, mid) in _far_members(members, threshold):
            if abs(z) <= threshold:
                continue
            side = "under" if z < 0 else "over"
            reason = (
                f"price is {ratio:.0%} of MSRP, far {side} the {peer_count} other {condition} "
                f"{model_name} listings (median {mid:.0%}, robust z {z:+.1f})"
            )
            # Peer outliers add risk and a reason; the price_low / price_high flags stay defined
            # by the configured MSRP ratios, so an analyst can predict them.
            if z < 0:
                out[index] = Signal(W_PEER_LOW, "suspicious", reason)
            else:
                out[index] = Signal(W_PEER_HIGH, "clean", reason)
    return out


def _leave_one_out_z(members: list[tuple[int, float]]) -> list[tuple[float, float]]:
    """robust_z(ratio, all other ratios) for every member, in O(n log n) instead of O(n²):
    the leave-one-out median takes at most three values, so the sorted deviations from each
    are computed once and the member's own deviation is skipped by position."""
    ordered = sorted(ratio for _, ratio in members)
    deviations: dict[float, list[float]] = {}
    return [_z_without(ordered, deviations, ratio) for _, ratio in members]


def _z_without(ordered: list[float], deviations: dict, ratio: float) -> tuple[float, float]:
    """(robust z, median) of `ratio` against the others of `ordered` (which holds it)."""
    mid = _median_without(ordered, bisect_left(ordered, ratio))
    if mid not in deviations:
        deviations[mid] = sorted(abs(p - mid) for p in ordered)
    spread = deviations[mid]
    mad = _median_without(spread, bisect_left(spread, abs(ratio - mid)))
    mad = max(mad, MAD_FLOOR * abs(mid), 1e-9)
    return MAD_SCALE * (ratio - mid) / mad, mid


def _far_members(members: list[tuple[int, float]], threshold: float):
    """The members whose leave-one-out robust z may pass `threshold`, in order, each with
    `_leave_one_out_z`'s (z, median); the others provably do not, and are skipped without
    their z. Each of the (at most three) leave-one-out medians has a smallest leave-one-out
    MAD (its deviations without the largest); a ratio whose z against every median is within
    the threshold even with that smallest MAD is within it with its own (the same floating-
    point operations, divided by a larger or equal number). Those ratios form one range of
    the sorted ratios, found by bisection: the work is a sort and the few far members."""
    ordered = sorted(ratio for _, ratio in members)
    last = len(ordered) - 1
    deviations: dict[float, list[float]] = {}
    low, high = -math.inf, math.inf
    for mid in {_median_without(ordered, skip) for skip in (0, last // 2, last)}:
        deviations[mid] = sorted(abs(p - mid) for p in ordered)
        mad = max(_median_without(deviations[mid], last), MAD_FLOOR * abs(mid), 1e-9)

        def within(ratio: float, mid=mid, mad=mad) -> bool:
            return MAD_SCALE * abs(ratio - mid) / mad <= threshold

        split = bisect_left(ordered, mid)
        first = bisect_left(ordered, True, 0, split, key=within)  # first within, below mid
        after = bisect_left(ordered, True, split, len(ordered), key=lambda r: not within(r))
        low = max(low, ordered[first] if first < len(ordered) else math.inf)
        high = min(high, ordered[after - 1] if after > 0 else -math.inf)
    for member in members:
        if not low <= member[1] <= high:
            yield member, _z_without(ordered, deviations, member[1])


def _median_without(ordered: list[float], skip: int) -> float:
    """statistics.median of `ordered` (sorted) without the element at position `skip`."""
    count = len(ordered) - 1

    def at(position: int) -> float:
        return ordered[position if position < skip else position + 1]

    if count % 2:
        return at(count // 2)
    return (at(count // 2 - 1) + at(count // 2)) / 2


def robust_z(value: float, peers: Sequence[float]) -> tuple[float, float]:
    mid = median(peers)
    mad = median(abs(p - mid) for p in peers)
    mad = max(mad, MAD_FLOOR * abs(mid), 1e-9)
    return MAD_SCALE * (value - mid) / mad, mid
