"""Competitor pricing per catalog model, as data: who sells each model, at what price, how that
compares with the MSRP and with the distributor's landed cost, and since when.

A pure function of the store's price observations (one row per listing per crawl run, with the
listing's current model judgement), the crawl runs and the config. Each seller's offer is judged
in `reports/competitors.py`; renderers live in `reports/price_report.py`, the chart in
`reports/pricechart.py`.

Rules a reader of the report relies on:
- Accessories never count. `condition="new"` also takes listings that state no condition:
  marketplaces say when goods are used or refurbished, so an unstated condition is new.
- A listing is current unless a later finished crawl of its source no longer saw it; gone
  listings stay in the history.
- MSRP position compares the price with the catalog MSRP in the listing's own currency; only
  when the catalog has no MSRP in that currency is the price converted. The same rule picks the
  landed cost a margin is computed against.
- Listings without a currency are counted apart and never converted; so are listings whose
  currency has no rate (they still get an MSRP position when the catalog has their currency).
- The median is the low median: always the price of an actual listing."""

from __future__ import annotations

import contextlib
import gc
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from itertools import groupby
from operator import attrgetter, itemgetter
from typing import Protocol

from grayhound.config import CatalogModel, Config
from grayhound.errors import UsageError
from reports.currency import Converter
from reports.pricing.competitors import (
    Competitor,
    PricePoint,
    competitors_of,
    msrp_position,
    point_of,
    price_amount,
    seller_key,
    seller_name,
)

CONDITION_CHOICES = ("new", "used", "refurbished", "any")


@dataclass(frozen=True, slots=True)  # one per observation: 100,000s in a large store
class HistoryPoint:
    crawl_run_id: int
    observed_at: str
    seller: str
    source: str
    listing_id: int
    price: PricePoint
    is_current: bool  # False: a later crawl of its source no longer saw the listing


@dataclass(frozen=True)
class ModelPricing:
    brand: str
    model: str
    msrp: dict[str, float]
    landed_cost: dict[str, float]
    landed_components: dict[str, dict[str, float]]
    msrp_converted: float | None  # the MSRP in the report currency (its own, else converted)
    landed_converted: float | None  # the landed cost in the report currency, likewise
    listings: int
    sellers: int
    unknown_currency: int  # listings whose page gives no currency: never converted
    no_rate: int  # listings in a currency [pricing].rates does not cover
    price_min: PricePoint | None
    price_median: PricePoint | None
    price_max: PricePoint | None
    median_position: float | None
    below_landed: int  # sellers priced below the landed cost
    competitors: tuple[Competitor, ...]
    history: tuple[HistoryPoint, ...]
    variant_msrp: dict[str, dict[str, float]] = field(default_factory=dict)  # per storage


@dataclass(frozen=True)
class PriceReport:
    currency: str
    condition: str
    data_as_of: str | None  # the latest observation in the report
    models: tuple[ModelPricing, ...]  # from `stream_price_report`: an iterator, read once

    def to_dict(self) -> dict:
        """JSON-ready data: dataclasses become dicts, tuples lists. Not dataclasses.asdict,
        which deep-copies every leaf: 20 s of a 100,000-listing report went there."""
        return plain(self)


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def plain(value):
    """`value` with every dataclass turned into a dict of its fields and tuples into lists."""
    if type(value) is HistoryPoint:  # most of a report: spelled out, 10 times faster
        price = value.price
        return {
            "crawl_run_id": value.crawl_run_id,
            "observed_at": value.observed_at,
            "seller": value.seller,
            "source": value.source,
            "listing_id": value.listing_id,
            "price": {
                "amount": price.amount,
                "currency": price.currency,
                "converted": price.converted,
            },
            "is_current": value.is_current,
        }
    if value is None or isinstance(value, (str, int, float)):
        return value
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    names = _FIELD_NAMES.get(type(value))
    if names is None:
        names = _FIELD_NAMES[type(value)] = tuple(f.name for f in fields(value))
    return {name: plain(getattr(value, name)) for name in names}


def price_report(
    observations: Iterable[dict],
    runs: list[dict],
    config: Config,
    *,
    currency: str = "USD",
    condition: str = "new",
    models: tuple[CatalogModel, ...] | None = None,
) -> PriceReport:
    """Competitor pricing for `models` (default the whole catalog), in `currency`.

    `observations` come grouped by listing, as `Store.price_observations` yields them; they
    are read once, so the rows of listings the report leaves out are never all held."""
    converter = Converter(currency, dict(config.pricing.rates))
    chosen = config.catalog if models is None else models
    wanted = {entry.model.casefold() for entry in chosen}
    by_listing, latest = _listings(observations, condition, wanted)
    newest = _newest_runs(runs)
    by_model: dict[str, list[list[dict]]] = defaultdict(list)
    for rows in by_listing.values():
        by_model[rows[-1]["model"].casefold()].append(rows)
    results = tuple(
        _model_pricing(entry, by_model.get(entry.model.casefold(), []), newest, converter)
        for entry in chosen
    )
    return PriceReport(currency, condition, latest, results)


class PriceSource(Protocol):
    """What `stream_price_report` reads: the store's `PriceHistory`."""

    def price_model_names(self) -> list[str]: ...
    def price_data_as_of(self) -> str | None: ...
    def model_price_observations(self, names: list[str]) -> Iterable[dict]: ...
    def price_observations_in_order(self, names: list[str]) -> Iterable[dict]: ...


def stream_price_report(
    source: PriceSource,
    runs: list[dict],
    config: Config,
    *,
    currency: str = "USD",
    condition: str = "new",
    models: tuple[CatalogModel, ...] | None = None,
    history: bool = True,
) -> PriceReport:
    """`price_report`, one catalog model at a time: the report's `models` is an iterator that
    reads a model's observations, yields its pricing and holds nothing of it afterwards, so
    memory is one model's listings however large the store. `history=False`: each model's
    `history` is left empty (the terminal table shows none: a point per observation)."""
    converter = Converter(currency, dict(config.pricing.rates))
    chosen = config.catalog if models is None else models
    stored = source.price_model_names()
    newest = _newest_runs(runs)

    def each_model() -> Iterator[ModelPricing]:
        for entry, rows in _rows_per_model(source, chosen, stored):
            with _no_cycle_collection():
                pricing = _model_from(entry, rows, condition, newest, converter, history)
            del rows
            yield pricing
            del pricing

    return PriceReport(currency, condition, source.price_data_as_of(), each_model())


def _rows_per_model(
    source: PriceSource, chosen: tuple[CatalogModel, ...], stored: list[str]
) -> Iterator[tuple[CatalogModel, Iterable[dict]]]:
    """Each chosen model with its observations, read as the model's turn comes: one model
    through its index; several in one sorted pass over the tables (measured at 1,000,000
    listings: `prices --format json` took 167 s reading 7 models by index, 62 s in one pass)."""
    names = [[n for n in stored if n.casefold() == entry.model.casefold()] for entry in chosen]
    if len(chosen) == 1:
        yield chosen[0], source.model_price_observations(names[0])
        return
    owner: dict[str, int] = {}
    for index, own in enumerate(names):
        for name in own:
            owner.setdefault(name, index)  # a model listed twice is read again, by its index
    order = sorted(owner, key=owner.__getitem__)
    groups = groupby(source.price_observations_in_order(order), key=lambda r: owner[r["model"]])
    pending = next(groups, None)
    for index, entry in enumerate(chosen):
        if pending is not None and pending[0] == index:
            yield entry, pending[1]
            pending = next(groups, None)
        elif any(owner[name] != index for name in names[index]):
            yield entry, source.model_price_observations(names[index])
        else:
            yield entry, ()


@contextlib.contextmanager
def _no_cycle_collection():
    """A model's pricing makes a few small objects per observation, hundreds of thousands in a
    large store, none in a reference cycle: Python's cycle collector would rescan them all many
    times over (a fifth of the time at 100,000 listings), so it waits until the model is built.
    Rendering (matplotlib) runs with it on."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _model_from(
    entry: CatalogModel,
    observations: Iterable[dict],
    condition: str,
    newest: dict[str | None, int],
    converter: Converter,
    history: bool = True,
) -> ModelPricing:
    by_listing, _ = _listings(observations, condition, {entry.model.casefold()})
    return _model_pricing(entry, list(by_listing.values()), newest, converter, history)


def select_models(
    catalog: tuple[CatalogModel, ...], model: str | None = None, brand: str | None = None
) -> tuple[CatalogModel, ...]:
    """The catalog entries named by --model (name or alias) and --brand (id), case-insensitive."""
    chosen = catalog
    if brand:
        chosen = tuple(m for m in chosen if m.brand.casefold() == brand.casefold())
        if not chosen:
            known = ", ".join(sorted({m.brand for m in catalog})) or "none"
            raise UsageError(f"--brand: no catalog model of brand {brand!r} (known: {known})")
    if model:
        wanted = model.casefold()
        chosen = tuple(m for m in chosen if wanted in {n.casefold() for n in (m.model, *m.aliases)})
        if not chosen:
            known = ", ".join(m.model for m in catalog)
            raise UsageError(f"--model: {model!r} is not in the catalog (known: {known})")
    return chosen


def _listings(
    observations: Iterable[dict], condition: str, models: set[str]
) -> tuple[dict[int, list[dict]], str | None]:
    """Observations grouped per listing (in run order), keeping listings of the wanted
    condition and models only; and the latest observation time of them all."""
    kept: dict[int, list[dict]] = {}
    seen: set[int] = set()
    latest_at = None
    for listing_id, group in groupby(observations, key=itemgetter("listing_id")):
        if listing_id in seen:
            raise ValueError(f"observations of listing {listing_id} are not grouped together")
        seen.add(listing_id)
        rows = sorted(group, key=itemgetter("crawl_run_id"))
        observed_at = max(row["observed_at"] for row in rows)
        latest_at = observed_at if latest_at is None else max(latest_at, observed_at)
        latest = rows[-1]
        if latest.get("is_accessory") or not latest.get("model"):
            continue
        if latest["model"].casefold() not in models:
            continue
        if condition == "any" or _condition(latest) == condition:
            kept[listing_id] = rows
    return kept, latest_at


def _condition(row: dict) -> str:
    for value in (row.get("judged_condition"), row.get("observed_condition")):
        if value and value != "unknown":
            return value
    return "new"  # unstated: see the module docstring


def _newest_runs(runs: list[dict]) -> dict[str | None, int]:
    """The latest finished crawl run of each source (None: of every source)."""
    latest_by_source: dict[str | None, int] = {}
    for run in runs:
        if run.get("status") != "finished":
            continue
        sources = json.loads(run.get("sources") or "[]") or [None]  # [] = every source
        for source in sources:
            latest_by_source[source] = max(latest_by_source.get(source, 0), run["id"])
    return latest_by_source


def _current_ids(listings: list[list[dict]], newest: dict[str | None, int]) -> set[int]:
    """Listings not missing from a later finished crawl of their source."""
    current = set()
    for rows in listings:
        seen = rows[-1]["crawl_run_id"]
        source = rows[-1]["source"]
        if seen >= max(newest.get(source, 0), newest.get(None, 0)):
            current.add(rows[-1]["listing_id"])
    return current


def _model_pricing(
    entry: CatalogModel,
    listings: list[list[dict]],
    newest: dict[str | None, int],
    converter: Converter,
    history: bool = True,
) -> ModelPricing:
    current = _current_ids(listings, newest)
    live = [rows for rows in listings if rows[-1]["listing_id"] in current]
    priced = [rows for rows in live if price_amount(rows[-1]) is not None]
    offers = [(rows, point_of(rows[-1], converter)) for rows in priced]
    known = [(rows, point) for rows, point in offers if point.currency]
    convertible = sorted(
        ((rows, p) for rows, p in known if p.converted is not None),
        key=lambda item: (item[1].converted, item[0][-1]["listing_id"]),
    )
    median = convertible[(len(convertible) - 1) // 2] if convertible else None  # low median
    competitors = competitors_of(entry, offers, converter)
    landed_totals = {code: cost.total for code, cost in entry.landed_cost.items()}
    return ModelPricing(
        brand=entry.brand,
        model=entry.model,
        msrp=dict(entry.msrp),
        landed_cost=landed_totals,
        landed_components={code: dict(cost.components) for code, cost in entry.landed_cost.items()},
        msrp_converted=_reference(entry.msrp, converter),
        landed_converted=_reference(landed_totals, converter),
        listings=len(priced),
        sellers=len({seller_key(rows[-1]) for rows in priced}),
        unknown_currency=len(offers) - len(known),
        no_rate=len(known) - len(convertible),
        price_min=convertible[0][1] if convertible else None,
        price_median=median[1] if median else None,
        price_max=convertible[-1][1] if convertible else None,
        median_position=(
            msrp_position(median[1], entry, converter, median[0][-1].get("storage"))[0]
            if median
            else None
        ),
        below_landed=sum(1 for c in competitors if c.below_landed),
        competitors=competitors,
        history=_history(listings, current, converter) if history else (),
        variant_msrp={storage: dict(table) for storage, table in entry.variant_msrp.items()},
    )


def _reference(table: dict[str, float], converter: Converter) -> float | None:
    """A catalog amount in the report currency: given directly, else converted."""
    if converter.target in table:
        return table[converter.target]
    for code in sorted(table):
        amount = converter.convert(table[code], code)
        if amount is not None:
            return amount
    return None


def _history(
    listings: list[list[dict]], current: set[int], converter: Converter
) -> tuple[HistoryPoint, ...]:
    points = [
        HistoryPoint(
            crawl_run_id=row["crawl_run_id"],
            observed_at=row["observed_at"],
            seller=seller_name(row),
            source=row["source"],
            listing_id=row["listing_id"],
            price=point_of(row, converter),
            is_current=row["listing_id"] in current,
        )
        for rows in listings
        for row in rows
        if price_amount(row) is not None
    ]
    points.sort(key=attrgetter("crawl_run_id", "seller", "listing_id"))
    return tuple(points)
