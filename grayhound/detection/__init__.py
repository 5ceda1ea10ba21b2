"""`grayhound detect`: judge every stored seller and listing and store the findings.

The spine's glue between the store and the pure detectors: read facts, call
`detectors.assess_sellers` / `assess_listings`, find seller networks, give each seller its
verdict (`detectors.seller_verdicts`), write `findings` rows (idempotent, with history) and
the networks (stable ids)."""

from __future__ import annotations

from collections import defaultdict

from grayhound.config import Config
from grayhound.store import Store, open_store, utc_now

# Alias kinds that are a seller's own domains, its claimed websites, and its contacts.
OWN_DOMAINS = ("shop_domain", "myshopify")
CONTACTS = {
    "phone": "phones",
    "email": "emails",
    "address": "addresses",
    "company_id": "company_ids",
}


def seller_facts(store: Store, aliases: dict[int, list[dict]] | None = None) -> list:
    from detectors import SellerFacts

    aliases = store.aliases_by_seller() if aliases is None else aliases
    facts = []
    for row in store.sellers():
        own = aliases.get(row["id"], [])
        facts.append(
            SellerFacts(
                key=str(row["id"]),
                name=row["name"],
                domain=row["domain"],
                claimed_domain=row["claimed_domain"],
                source=row["source"],
                names=_raw(own, ("name",)),
                domains=_raw(own, OWN_DOMAINS),
                claimed_domains=_raw(own, ("website",)),
            )
        )
    return facts


def _raw(aliases: list[dict], kinds: tuple[str, ...]) -> tuple[str, ...]:
    """One shown value per distinct alias of these kinds, the latest spelling of each."""
    found: dict[str, str] = {}
    for alias in aliases:
        if alias["kind"] in kinds:
            found[alias["value"]] = alias["raw"] or alias["value"]
    return tuple(found.values())


def listing_facts(store: Store, extras: dict | None = None) -> list:
    """Every listing's facts; with `extras`, each seller's image URLs and descriptions are
    collected into it ({seller id: {"images": set, "descriptions": list}})."""
    from detectors import ListingFacts

    facts = []
    for row in store.export_rows():
        description = " · ".join(t for t in (row["description"], row["summary"]) if t) or None
        facts.append(
            ListingFacts(
                id=row["id"],
                title=row["title"],
                price=row["price"],
                currency=row["currency"],
                condition=row["condition"] or "unknown",
                description=description,
                brand=row["brand"],
                seller_key=str(row["seller_id"]) if row["seller_id"] is not None else None,
                seller_name=row["seller_name"],
                seller_domain=row["seller_domain"],
                source=row["source"],
                category=row.get("category"),
            )
        )
        if extras is not None and row["seller_id"] is not None:
            mine = extras.setdefault(row["seller_id"], {"images": set(), "descriptions": []})
            if row["image"]:
                mine["images"].add(row["image"])
            if row["description"]:
                mine["descriptions"].append(row["description"])
    return facts


def detect_findings(config: Config, run_id: int | None = None) -> dict:
    """Score every seller and listing in the database, find seller networks; return counts."""
    from detectors import BrandBook, assess_listings, assess_sellers

    book = BrandBook.from_config(config)
    with open_store(config.storage.database) as store:
        if run_id is None:
            latest = store.latest_run()
            run_id = latest["id"] if latest else None
        aliases = store.aliases_by_seller()
        sellers = seller_facts(store, aliases)
        identities = dict(zip((s.key for s in sellers), assess_sellers(sellers, book), strict=True))
        extras: dict = {}
        listings = listing_facts(store, extras)
        assessments = assess_listings(listings, book, identities)
        now = utc_now()
        networks = _networks(store, book, sellers, aliases, extras, now)
        by_seller = defaultdict(list)
        for facts, assessment in zip(listings, assessments, strict=True):
            by_seller[facts.seller_key].append(assessment)
        verdicts = _verdicts(book, sellers, identities, by_seller, networks)
        named = {s.key: s.name or s.domain for s in sellers}
        rows = [_seller_row(int(key), f, named[key]) for key, f in verdicts.items()]
        rows += [_listing_row(a) for a in assessments]
        counts = store.record_findings(rows, run_id, now)
    flagged = sum(1 for a in assessments if a.flags)
    risky = sum(1 for f in verdicts.values() if f.verdict in ("impersonation", "suspicious"))
    return {
        **counts,
        "run_id": run_id,
        "listings": len(assessments),
        "flagged_listings": flagged,
        "sellers": len(verdicts),
        "risky_sellers": risky,
        "networks": len(set(networks.values())),
    }


def _networks(store, book, sellers, aliases, extras, now) -> dict[int, int]:
    """Find the networks and store them; {seller id: network id}."""
    from detectors.networks import SellerSignals, find_networks

    signals = []
    for facts in sellers:
        seller_id = int(facts.key)
        own = aliases.get(seller_id, [])
        contacts = {field: _raw(own, (kind,)) for kind, field in CONTACTS.items()}
        listed = extras.get(seller_id, {"images": set(), "descriptions": []})
        domains = {*facts.all_domains(), *facts.all_claimed()}
        signals.append(
            SellerSignals(
                seller_id=seller_id,
                source=facts.source,
                name=facts.name,
                domains=tuple(sorted(domains)),
                images=tuple(sorted(listed["images"])),
                descriptions=tuple(listed["descriptions"]),
                **contacts,
            )
        )
    found = find_networks(signals, book)
    return store.record_networks(
        [
            {
                "sellers": list(n.sellers),
                "sources": list(n.sources),
                "signals": [t.to_dict() for t in n.ties],
            }
            for n in found
        ],
        now,
    )


def _verdicts(book, sellers, identities, by_seller, networks) -> dict:
    from detectors.seller_verdicts import seller_sales, seller_verdict
    from detectors.sellers import entitled

    members = defaultdict(list)
    for seller_id, network_id in networks.items():
        members[network_id].append(seller_id)
    names = {int(f.key): (f.name or f.domain or f"seller #{f.key}") for f in sellers}
    verdicts = {}
    for facts in sellers:
        seller_id = int(facts.key)
        network = networks.get(seller_id)
        peers = {
            names[other]: identities[str(other)].verdict
            for other in members.get(network, ())
            if other != seller_id
        }
        verdicts[facts.key] = seller_verdict(
            identities[facts.key],
            seller_sales(by_seller.get(facts.key, [])),
            book,
            names[seller_id],
            entitled=entitled(facts, book),
            network_peers=peers,
        )
    return verdicts


def _seller_row(seller_id: int, finding, name: str | None) -> dict:
    return {
        "subject_kind": "seller",
        "subject_id": seller_id,
        "subject": name or finding.subject,
        "brand": finding.brand,
        "score": finding.score,
        "verdict": finding.verdict,
        "flags": list(finding.flags),
        "reasons": list(finding.reasons),
    }


def _listing_row(assessment) -> dict:
    return {
        "subject_kind": "listing",
        "subject_id": assessment.id,
        "subject": None,
        "brand": assessment.brand,
        "score": assessment.risk,
        "verdict": assessment.verdict,
        "flags": list(assessment.flags),
        "reasons": list(assessment.reasons),
        "model": assessment.model,
        "msrp": assessment.msrp,
        "msrp_currency": assessment.msrp_currency,
        "price_ratio": assessment.price_ratio,
        "is_accessory": int(assessment.is_accessory),
        "condition": assessment.condition,
        "model_reason": assessment.model_reason,
        "attributes": assessment.attributes,
        "kind": assessment.kind,
    }
