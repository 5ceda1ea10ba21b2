"""What grayhound serve's seller, network and listing pages show, gathered from the store
(`grayhound/store/subjects.py` and its neighbours) on Datasette's read-only connection. Plain
data: the pages render it, and each page's `.json` is this, for scripts."""

from __future__ import annotations

from itertools import groupby

from grayhound.store.sellerviews import DOMAIN_KINDS, PROFILE_KINDS
from grayhound.triage import INFORMATIONAL
from reports.digest.build import price_text

# Identifier kinds in the order a reviewer reads them: who it says it is, where it lives, how
# to reach it, what it is registered as.
IDENTIFIER_ORDER = (
    "name", "profile", "ld_id", "site", "website", "shop_domain", "myshopify", "same_as",
    "phone", "email", "address", "company_id", "legal_name",
)  # fmt: skip


def seller_view(store, seller_id: int) -> dict | None:
    """The seller with everything known about it; for a seller merged into another, only
    {"moved_to": id} (its page leads to the seller it is now part of)."""
    seller = store.seller_profile(seller_id)
    if seller is None:
        return None
    if seller.get("merged_into"):
        return {"moved_to": store.resolved_seller_id(seller_id)}
    identifiers = store.seller_identifiers(seller_id)
    listings = [_priced(row) for row in store.seller_listings(seller_id)]
    case = store.case_of("seller", seller_id)
    return {
        "seller": seller,
        "identifiers": _grouped(identifiers),
        "profile_urls": _distinct(identifiers, PROFILE_KINDS),
        "claimed_domains": _distinct(identifiers, DOMAIN_KINDS),
        "merged": store.merged_sellers(seller_id),
        "listings": listings,
        # the listing cases a dismissal of this seller takes with it (`triage.follow_sellers`)
        "informational": sum(1 for row in listings if _informational(row)),
        "network": _network_of(store, seller["network_id"], seller_id),
        "case": case,
        "review_log": store.review_log(case["id"]) if case else [],
        "listing_cases": store.listing_cases(seller_id),
        "finding_history": _with_changes(store.finding_history("seller", seller_id)),
        "capture_count": len(store.captures_of("seller", seller_id)),
    }


def network_view(store, network_id: int) -> dict | None:
    """A seller network: its sellers (current and former), the signals that tie them, each
    signal with the sellers it names; for a network that joined another, {"moved_to": id}."""
    network = store.network_profile(network_id)
    if network is None:
        return None
    if network["merged_into"]:
        target = network
        for _ in range(100):  # a chain of joins, never a loop (ids only ever point older)
            if not target["merged_into"]:
                break
            target = store.network_profile(target["merged_into"]) or {"merged_into": None}
        return {"moved_to": target.get("id", network["merged_into"])}
    sellers = store.network_sellers(network_id)
    return {
        "network": network,
        "sellers": sellers,
        "member_count": sum(1 for seller in sellers if seller["is_current"]),
        "signals": _signals(network["signals"], sellers),
        "capture_count": len(store.captures_of("network", network_id)),
    }


def listing_view(store, listing_id: int) -> dict | None:
    listing = store.listing_profile(listing_id)
    if listing is None:
        return None
    case = store.case_of("listing", listing_id)
    return {
        "listing": _priced(listing),
        "observations": list(store.observations(listing_id)),
        "captures": store.captures_of("listing", listing_id),
        "case": case,
        "review_log": store.review_log(case["id"]) if case else [],
        "finding_history": _with_changes(store.finding_history("listing", listing_id)),
    }


def _network_of(store, network_id: int | None, seller_id: int) -> dict | None:
    """The seller's network as its page summarises it: the other sellers and the signals
    that tie this one."""
    if network_id is None:
        return None
    network = store.network_profile(network_id)
    sellers = store.network_sellers(network_id)
    current = [s for s in sellers if s["is_current"]]
    return {
        "id": network_id,
        "sources": network["sources"],
        "size": len(current),
        "others": [s for s in current if s["id"] != seller_id],
        "signals": [s for s in _signals(network["signals"], sellers) if seller_id in s["sellers"]],
    }


def _signals(signals: list[dict], sellers: list[dict]) -> list[dict]:
    by_id = {seller["id"]: seller for seller in sellers}
    return [
        {**signal, "members": [by_id.get(i, {"id": i}) for i in signal.get("sellers") or []]}
        for signal in signals
    ]


def _grouped(identifiers: list[dict]) -> list[dict]:
    """One entry per identifier (kind and value), each with every place it was read."""
    rank = {kind: i for i, kind in enumerate(IDENTIFIER_ORDER)}
    ordered = sorted(
        identifiers, key=lambda a: (rank.get(a["kind"], len(rank)), a["kind"], a["first_seen"])
    )
    groups = []
    for (kind, value), rows in groupby(ordered, key=lambda a: (a["kind"], a["value"])):
        rows = list(rows)
        # as a page gave it; a stored key holds only the normalised form
        shown = [row for row in rows if row["via"] != "stored key"] or rows
        groups.append({"kind": kind, "value": value, "raw": shown[0]["raw"], "seen": rows})
    return groups


def _distinct(identifiers: list[dict], kinds: tuple[str, ...]) -> list[str]:
    """Distinct values of these kinds as the pages gave them, oldest first."""
    found: dict[str, str] = {}
    for alias in sorted(identifiers, key=lambda a: a["first_seen"]):
        if alias["kind"] in kinds:
            found.setdefault(alias["value"], alias["raw"] or alias["value"])
    return list(found.values())


def _with_changes(history: list[dict]) -> list[dict]:
    """Each judgement with the reasons it gave that the one before did not, and those it
    dropped: how the verdict came to be."""
    out, before = [], None
    for finding in history:
        reasons = finding.get("reasons") or []
        earlier = (before.get("reasons") or []) if before else []
        out.append(
            {
                **finding,
                "new_reasons": [r for r in reasons if r not in earlier] if before else [],
                "dropped_reasons": [r for r in earlier if r not in reasons],
            }
        )
        before = finding
    return out


def _informational(row: dict) -> bool:
    flags = set(row.get("flags") or ())
    return bool(flags) and flags <= INFORMATIONAL and row.get("verdict") == "clean"


def _priced(row: dict) -> dict:
    """The row with "$449.00 — 45 % of MSRP $999.00", as the digest says it."""
    return {**row, "price_text": price_text(row)}
