"""The digest seen by seller: brand-protection teams act on sellers (a takedown names a
storefront, a seller id, a domain) and legal teams on networks, so the pages lead with them.

`seller_views(items, sellers, networks)` groups the digest's cases by seller: one view per
seller with a case of its own or a flagged listing (its verdict, reasons, counts, claimed
domains and its worst listings), ranked by risk; one view per network; and the listing cases
that name no known seller. A seller is *informational* when everything found about it is
`unauthorized_seller` (genuine goods resold without authorization): those go in one compact
table, not cards. Pure: rows in, plain data out."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

from reports.digest.build import GROUPS, SEVERITIES

INFORMATIONAL_FLAGS = frozenset({"unauthorized_seller"})
# Flags a listing inherits from its seller's name or domain: the card says them once.
SELLER_FLAGS = frozenset({"impersonation", "suspicious_name", "suspicious_domain"})
INFORMATIONAL_VERDICTS = frozenset({"unauthorized", "authorized", "clean", None})
WORST_SHOWN = 5  # a seller card's worst listings: enough to act on, short enough to read
_GROUP_ORDER = {group: i for i, group in enumerate(GROUPS)}


def seller_views(
    items: Sequence[Mapping], sellers: Mapping[int, Mapping], networks: Sequence[Mapping]
) -> dict:
    """{"sellers": [view, …] riskiest first, "networks": [view, …], "unattributed": [item, …]}."""
    own: dict[int, Mapping] = {}
    listed: dict[int, list[Mapping]] = defaultdict(list)
    unattributed = []
    for item in items:
        if item["kind"] == "seller":
            own[item["subject_id"]] = item
        elif item.get("seller_id") is not None:
            listed[item["seller_id"]].append(item)
        else:
            unattributed.append(item)
    views = [
        seller_view(
            seller_id,
            own.get(seller_id),
            sorted(listed.get(seller_id, []), key=_listing_rank),
            sellers.get(seller_id),
        )
        for seller_id in sorted(set(own) | set(listed))
    ]
    views.sort(key=_rank)
    by_id = {view["seller_id"]: view for view in views}
    network_views = [_network(n, by_id, sellers) for n in networks]
    network_views.sort(key=lambda n: (SEVERITIES.index(n["severity"]), -n["score"], n["id"]))
    return {"sellers": views, "networks": network_views, "unattributed": unattributed}


def seller_view(
    seller_id: int, case: Mapping | None, listings: Iterable[Mapping], seller: Mapping | None
) -> dict:
    """One seller's view from its own case and its listing cases, which come riskiest first
    and are read once, one at a time (only the worst few are kept)."""
    summary = {"count": 0, "new": 0, "flags": set(), "score": None, "severity": "watch"}
    summary.update(group=None, all_clean=True)
    worst: list[Mapping] = []
    for item in listings:
        summary["count"] += 1
        summary["new"] += item["group"] == "new"
        summary["flags"].update(item["flags"])
        score = summary["score"]
        summary["score"] = item["score"] if score is None else max(score, item["score"])
        summary["severity"] = min(summary["severity"], item["severity"], key=SEVERITIES.index)
        group = summary["group"]
        summary["group"] = (
            item["group"] if group is None else min(group, item["group"], key=_GROUP_ORDER.get)
        )
        summary["all_clean"] = summary["all_clean"] and item["verdict"] == "clean"
        if len(worst) < WORST_SHOWN:
            worst.append(item)
    return summarised_view(seller_id, case, summary, worst, seller)


def summarised_view(
    seller_id: int, case: Mapping | None, summary: Mapping, worst: list, seller: Mapping | None
) -> dict:
    """A seller's view from its own case and a `summary` of its listing cases (count, new,
    flags, best score or None, worst severity, lowest group or None, all clean) with the
    `worst` few of them, riskiest first."""
    seller = seller or {}
    flags = set(case["flags"]) if case else set()
    flags.update(summary["flags"])
    count, new, all_clean = summary["count"], summary["new"], summary["all_clean"]
    score = case["score"] if case else 0.0
    if summary["score"] is not None:
        score = summary["score"] if not case else max(score, summary["score"])
    severity = min(case["severity"] if case else "watch", summary["severity"], key=SEVERITIES.index)
    group = case["group"] if case else None
    if summary["group"] is not None:
        group = (
            summary["group"]
            if group is None
            else min(group, summary["group"], key=_GROUP_ORDER.get)
        )

    def lead() -> Mapping:  # read only when the seller's own row lacks a name or source
        return case or (worst[0] if worst else {})

    verdict = case["verdict"] if case else seller.get("verdict")
    return {
        "seller_id": seller_id,
        "name": seller.get("name") or (case or {}).get("seller") or lead().get("seller"),
        "source": seller.get("source") or lead().get("source"),
        "verdict": verdict,
        "score": score,
        "severity": severity,
        "case_id": case["case_id"] if case else None,
        "state": case["state"] if case else None,
        "group": group or "still_open",
        "reasons": list(case["reasons"]) if case else list(seller.get("reasons") or []),
        "flags": sorted(flags),
        "informational": flags <= INFORMATIONAL_FLAGS
        and verdict in INFORMATIONAL_VERDICTS
        and all_clean,
        "claimed_domains": list(seller.get("claimed_domains") or []),
        "aliases": [n for n in seller.get("names") or [] if n != seller.get("name")],
        "profile_url": seller.get("profile_url"),
        "network_id": seller.get("network_id"),
        "listing_count": seller.get("listings") or count,
        "flag_counts": {
            flag: number
            for flag, number in (seller.get("flag_counts") or {}).items()
            if flag not in SELLER_FLAGS
        },
        "flagged_listings": count,
        "new_listings": new,
        "worst": _shown_worst(worst),
    }


class ReadWhenShown(list):
    """A list made by `make()` the first time it is read: a seller's worst listings, which
    the pages show only on the first cards (25 of 2,500 sellers at 1M listings) and JSON on
    every seller. Reads as the list it makes (iteration, length, truth, indexing, equality)."""

    def __init__(self, make: Callable[[], Iterable]):
        super().__init__()
        self._make = make

    def _made(self) -> list:
        if self._make is not None:
            make, self._make = self._make, None
            self.extend(make())
        return self

    def __iter__(self) -> Iterator:
        return list.__iter__(self._made())

    def __len__(self) -> int:
        return list.__len__(self._made())

    def __bool__(self) -> bool:
        return len(self) > 0

    def __getitem__(self, index):
        return list.__getitem__(self._made(), index)

    def __eq__(self, other) -> bool:
        if isinstance(other, ReadWhenShown):
            other._made()
        return list.__eq__(self._made(), other)

    __hash__ = None

    def __repr__(self) -> str:
        return list.__repr__(self._made())


def _shown_worst(worst: Sequence[Mapping]) -> list:
    """The worst listings as the card shows them; made when first read if `worst` is."""
    if isinstance(worst, ReadWhenShown):
        return ReadWhenShown(lambda: [_listing(item) for item in worst])
    return [_listing(item) for item in worst]


def _listing(item: Mapping) -> dict:
    """A listing as its seller's card shows it: the flags of its own, not its seller's."""
    keys = ("case_id", "group", "title", "price_text", "price_ratio", "url", "severity",
            "score", "model", "capture", "changes")  # fmt: skip
    shown = {key: item.get(key) for key in keys}
    shown["flags"] = [flag for flag in item["flags"] if flag not in SELLER_FLAGS]
    return shown


def _network(network: Mapping, views: Mapping[int, dict], sellers: Mapping[int, Mapping]) -> dict:
    members = []
    for seller_id in network["sellers"]:
        view = views.get(seller_id)
        seller = sellers.get(seller_id, {})
        members.append(
            {
                "seller_id": seller_id,
                "name": seller.get("name") or (view or {}).get("name"),
                "source": seller.get("source"),
                "verdict": (view or {}).get("verdict") or seller.get("verdict"),
                "case_id": (view or {}).get("case_id"),
            }
        )
    shown = [views[m] for m in network["sellers"] if m in views]
    return {
        "id": network["id"],
        "sellers": members,
        "sources": list(network.get("sources") or []),
        "signals": [tie.get("why") for tie in network.get("signals") or []],
        "severity": min((v["severity"] for v in shown), key=SEVERITIES.index, default="watch"),
        "score": max((v["score"] for v in shown), default=0.0),
    }


def _rank(view: Mapping) -> tuple:
    return (
        view["informational"],
        SEVERITIES.index(view["severity"]),
        -view["score"],
        -view["flagged_listings"],
        view["seller_id"],
    )


def _listing_rank(item: Mapping) -> tuple:
    ratio = item["price_ratio"] if item["price_ratio"] is not None else 9.0
    return (SEVERITIES.index(item["severity"]), -item["score"], ratio, item["case_id"])
