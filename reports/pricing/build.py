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

import json
from array import array
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator
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
    _competitor,
    _order,
    competitors_of,
    msrp_position,
    parse_amount,
    point_of,
    price_amount,
    rank_competitors,
    seller_key,
    seller_name,
)
from reports.pricing.history import HistorySummary, summarize_groups, summarize_rows

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
    if isinstance(value, (list, tuple, PriceHistoryRows)):
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
    def model_price_listings(self, names, condition, newest, rated) -> Iterable[tuple]: ...
    def model_price_history(self, names, condition, newest) -> Iterable[tuple]: ...
    # a part of a report in parts (`reports.pricing.parts`) also passes runs=(after, up to)
    # optional: the history's groups (`history.summarize_groups`); without it, the rows
    # def model_price_history_groups(self, names, condition, newest) -> Iterable[tuple]: ...
    def listings_price_trails(self, listing_ids: list[int]) -> Iterable[tuple[int, list]]: ...


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
    """`price_report`, one catalog model at a time and from SQL: the report's `models` is an
    iterator that yields each model's pricing as its turn comes. A model's figures come from one
    row per current listing (its latest observation), folded as they are read into per-seller
    bests and a price array; only each seller's cheapest listing's price trail is read (for "since
    when"). Its `history` is a `PriceHistoryRows`: read from the store, in history order, each
    time a renderer walks it, never held. `history=False`: no history (the terminal table)."""
    chosen = config.catalog if models is None else models
    pricings = model_pricings(source, runs, config, currency, condition, chosen, history)
    return PriceReport(currency, condition, source.price_data_as_of(), pricings)


def model_pricings(
    source: PriceSource,
    runs: list[dict],
    config: Config,
    currency: str,
    condition: str,
    models: tuple[CatalogModel, ...],
    history: bool = True,
    kept: bool = False,
    snapshot: bool = True,
) -> Iterator[ModelPricing]:
    """`stream_price_report`'s models: each catalog model of `models` built as its turn comes.
    `models` may be any run of the catalog (a part of the report, `reports.pricing.parts`):
    a model's figures depend on its own listings only. `kept`: each model's kept listings
    first copied into a table of their own (`Store.price_kept_table`), which its figures and
    its history (`PriceHistoryRows.kept`) then read, until the next model is asked for;
    `snapshot=False`: without what only the history cache reads of them."""
    converter = Converter(currency, dict(config.pricing.rates))
    stored = source.price_model_names()
    newest = _newest_runs(runs)
    groups = [stored_names(stored, entry) for entry in models]
    if kept and hasattr(source, "price_kept_table"):
        yield from _kept_pricings(
            source, models, groups, condition, newest, converter, history, snapshot
        )
        return
    # every model's current listings in one pass when the store gives them (see
    # `Store.price_listings_of_models`), else each model's read as its turn comes
    together = getattr(source, "price_listings_of_models", None)
    batched = together(groups, condition, newest, _rated(converter)) if together else None
    given = _split_by_position(batched, len(models)) if batched is not None else None
    prices = PricePoints(converter)  # a price text's point is the same in every model
    for entry, names in zip(models, groups, strict=True):
        rows = PriceHistoryRows(source, names, condition, newest, converter, prices)
        if given is not None:
            rows.given = next(given)
        yield streamed_pricing(entry, rows, converter, history)


def _kept_pricings(source, models, groups, condition, newest, converter, history, snapshot):
    """`model_pricings` of models whose kept listings are each copied into a table first (the
    history cache and the HTML page's history read them from it too: one copy a model instead
    of the newest runs' observations copied for every model's figures and each model's
    listings found again for its history)."""
    prices = PricePoints(converter)
    for entry, names in zip(models, groups, strict=True):
        table = source.price_kept_table(names, condition, newest, snapshot)
        try:
            rows = PriceHistoryRows(source, names, condition, newest, converter, prices)
            rows.kept = table
            yield streamed_pricing(entry, rows, converter, history)
        finally:
            source.drop_price_kept_table(table)


def _split_by_position(rows: Iterable[tuple], count: int) -> Iterator[Iterator[tuple]]:
    """The rows (position, *row) in position order, as one iterator of rows per position of
    `range(count)` (empty for a position without rows), each to be read before the next."""
    groups = groupby(rows, key=itemgetter(0))
    pending = next(groups, None)
    for at in range(count):
        if pending is not None and pending[0] == at:
            yield (row[1:] for row in pending[1])
            pending = next(groups, None)
        else:
            yield iter(())


def stored_names(stored: list[str], entry: CatalogModel) -> list[str]:
    """The model names judgements carry (`stored`) that name the catalog model `entry`."""
    return [name for name in stored if name.casefold() == entry.model.casefold()]


def history_points(history) -> Iterator[tuple]:
    """(crawl_run_id, observed_at, seller, source, listing_id, PricePoint, is_current) of each
    point of a model's history: from the store's rows when it is read from it, else from the
    points (what `history.summarize` and the report's history take)."""
    if isinstance(history, PriceHistoryRows):
        return history.points()
    return (
        (p.crawl_run_id, p.observed_at, p.seller, p.source, p.listing_id, p.price, p.is_current)
        for p in history
    )


class PriceHistoryRows:
    """One model's price history, read from the store each time it is walked: `points()` gives
    (crawl_run_id, observed_at, seller, source, listing_id, PricePoint, is_current) tuples in the
    order of `ModelPricing.history`; iterating gives `HistoryPoint`s."""

    def __init__(
        self, source, names, condition, newest, converter: Converter, prices=None, runs=None
    ) -> None:
        self.source, self.names, self.condition = source, names, condition
        self.newest, self.converter = newest, converter
        # shared by every pass over this model (and by the models of one report: `prices`)
        self.prices = PricePoints(converter) if prices is None else prices
        self.given: Iterable[tuple] | None = None  # the listings' rows, read with other models'
        # (after, up to): the history of these crawl runs only (a part: `reports.pricing.parts`)
        self.runs: tuple[int | None, int | None] | None = runs
        # the temporary table of its kept listings (`Store.price_kept_table`), while it lasts
        self.kept: str | None = None

    def listings(self, rated: Collection[str] = ()) -> Iterable[tuple]:
        """The current listings' rows; those in a currency of `rated` without their storage
        (`given` rows once, if any: read with `_rated(converter)`)."""
        if self.given is not None:
            given, self.given = self.given, None
            return given
        if self.kept is not None:
            return self.source.model_price_listings_of(self.kept, rated)
        return self.source.model_price_listings(self.names, self.condition, self.newest, rated)

    def raw(self) -> Iterable[tuple]:
        """The store's rows: (run, observed_at, seller, source, listing_id, price, currency,
        is_current), unpriced observations included; of the crawl runs `runs` says, if any."""
        if self.kept is not None:  # the model's kept listings, copied (`model_pricings`)
            return self.source.model_price_history_of(self.kept, self.runs or (None, None))
        if self.runs is not None:
            return self.source.model_price_history(
                self.names, self.condition, self.newest, self.runs
            )
        return self.source.model_price_history(self.names, self.condition, self.newest)

    def summary(self) -> HistorySummary:
        """What the HTML page draws and tabulates of this history: from the groups SQLite folds
        the rows into when the store gives them and they give the same summary
        (`history.summarize_groups`), else folded from the rows."""
        grouped = getattr(self.source, "model_price_history_groups", None)
        if grouped is not None and self.runs is None:  # the groups are of every run
            grouped_of = getattr(self.source, "model_price_history_groups_of", None)
            if self.kept is not None and grouped_of is not None:  # copied (`model_pricings`)
                groups = grouped_of(self.kept)
            else:
                groups = grouped(self.names, self.condition, self.newest)
            summary = summarize_groups(groups, self.prices, self.converter.rates.values())
            if summary is not None:
                return summary
        return summarize_rows(self.raw(), self.prices, self.prices.known)

    def points(self) -> Iterator[tuple]:
        price = self.prices
        known = price.known
        for run, at, seller, source, listing_id, text, code, is_current in self.raw():
            point = known.get((text, code), _UNKNOWN)
            if point is _UNKNOWN:
                point = price(text, code)
            if point is not None:
                yield run, at, seller, source, listing_id, point, bool(is_current)

    def __iter__(self) -> Iterator[HistoryPoint]:
        return (HistoryPoint(*point) for point in self.points())

    def __eq__(self, other) -> bool:  # the points it reads, as `ModelPricing.history` holds them
        if isinstance(other, (PriceHistoryRows, tuple, list)):
            return tuple(self) == tuple(other)
        return NotImplemented

    __hash__ = None


_UNKNOWN = object()  # a value not made yet (a cached None is "no amount"); render.py too


class PricePoints:
    """`point_of` a (price, currency) pair, each pair computed once (None: no amount). One per
    report (of a process), shared by the models, the pass over each one's listings and every
    walk of its history: a listing's latest price is most of its history's, and most prices
    recur from model to model. A pair not met before costs what `point_of` costs, less its
    detours (issue 19, round 31: 3.3 µs a new pair, and a store's prices are mostly new pairs
    where their cents vary): no exception for the miss, and the amount parsed once here rather
    than through `_amount`'s own cache too."""

    def __init__(self, converter: Converter):
        self.converter = converter
        self.known: dict[tuple, PricePoint | None] = {}

    def __call__(self, price, currency) -> PricePoint | None:
        key = (price, currency)
        point = self.known.get(key, _UNKNOWN)
        if point is not _UNKNOWN:
            return point
        if len(self.known) > 100_000:  # distinct prices, not listings; kept bounded anyway
            self.known.clear()
        # point_of({"price": price, "currency": currency}), its amount parsed once
        amount = None if price is None else parse_amount(str(price))
        if amount is None:
            point = None
        else:
            code = currency or None
            point = PricePoint(amount, code, self.converter.convert(amount, code) if code else None)
        self.known[key] = point
        return point


def streamed_pricing(
    entry: CatalogModel, rows: PriceHistoryRows, converter: Converter, history: bool = True
) -> ModelPricing:
    """`_model_pricing` of one model from its current listings' rows (see
    `stream_price_report`): the same figures, the same competitors."""
    price = rows.prices if rows.converter is converter else PricePoints(converter)
    known = price.known
    priced, unknown, no_rate = 0, 0, 0
    best: dict[tuple, list] = {}  # seller key → [order, listing id, point, listings]
    converted, points, ids = array("d"), [], array("q")
    for listing_id, text, code, seller_id, name, source, storage in rows.listings(
        _rated(converter)
    ):
        point = known.get((text, code), _UNKNOWN)  # most prices repeat: no call for those
        if point is _UNKNOWN:
            point = price(text, code)
        if point is None:
            continue
        priced += 1
        if seller_id is not None:
            key = ("id", seller_id)
        else:
            key = ("name", source, name) if name else ("listing", listing_id)
        if point.currency is None:
            unknown += 1
            order = (1, float("inf"))
        elif point.converted is None:
            no_rate += 1
            order = _order(point, entry, converter, storage)
        else:
            order = (0, point.converted)
            converted.append(point.converted)
            points.append(point)
            ids.append(listing_id)
        mine = best.get(key)
        if mine is None:
            best[key] = [order, listing_id, point, 1]
        else:
            mine[3] += 1
            if order < mine[0]:  # the first cheapest, as min() keeps it
                mine[:3] = order, listing_id, point
    # the order `_model_pricing` sorts in (the same keys from the same start: equal even for
    # a NaN price, which compares false both ways), the position last: what a stable sort
    # keeps for equal keys, compared in C rather than through a key function
    ranked = [n for _, _, n in sorted(zip(converted, ids, range(len(ids)), strict=True))]
    middle = ranked[(len(ranked) - 1) // 2] if ranked else None  # the low median
    wanted = [mine[1] for mine in best.values()]
    if middle is not None:
        wanted.append(ids[middle])
    whole = _rows_of(rows.source, wanted)
    competitors = tuple(
        _competitor(entry, whole[listing_id], point, count, converter)
        for _, listing_id, point, count in best.values()
    )
    landed_totals = {code: cost.total for code, cost in entry.landed_cost.items()}
    median = points[middle] if middle is not None else None
    return ModelPricing(
        brand=entry.brand,
        model=entry.model,
        msrp=dict(entry.msrp),
        landed_cost=landed_totals,
        landed_components={code: dict(cost.components) for code, cost in entry.landed_cost.items()},
        msrp_converted=_reference(entry.msrp, converter),
        landed_converted=_reference(landed_totals, converter),
        listings=priced,
        sellers=len(best),  # a key each priced listing's seller, as `_model_pricing` counts
        unknown_currency=unknown,
        no_rate=no_rate,
        price_min=points[ranked[0]] if ranked else None,
        price_median=median,
        price_max=points[ranked[-1]] if ranked else None,
        median_position=(
            msrp_position(median, entry, converter, whole[ids[middle]][-1].get("storage"))[0]
            if median
            else None
        ),
        below_landed=sum(1 for c in competitors if c.below_landed),
        competitors=rank_competitors(competitors, entry, converter),
        history=rows if history else (),
        variant_msrp={storage: dict(table) for storage, table in entry.variant_msrp.items()},
    )


def _rated(converter: Converter) -> list[str]:
    """The currencies whose listings need no storage: a listing's storage matters only for a
    price the converter cannot convert (`_order`)."""
    return [code for code in _codes(converter) if converter.convert(1.0, code) is not None]


def _codes(converter: Converter) -> list[str]:
    """The currencies `converter` may convert: the target, USD and those with a rate (whether
    a price converts depends on its currency alone, never on its amount)."""
    return sorted({converter.target, "USD", *(c for c in converter.rates if isinstance(c, str))})


def _rows_of(source: PriceSource, listing_ids: list[int]) -> dict[int, list[dict]]:
    """The price trails of a few listings (each seller's cheapest), per listing: what
    `competitors._competitor` reads of a listing's observations."""
    return dict(source.listings_price_trails(listing_ids))


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
