"""`grayhound detect`: judge every stored seller and listing and store the findings.

The spine's glue between the store and the pure detectors: read facts, call
`detectors.assess_sellers` / `assess_listings`, write `findings` rows (idempotent, with
history)."""

from __future__ import annotations

from grayhound.config import Config
from grayhound.store import Store, open_store, utc_now


def seller_facts(store: Store) -> list:
    from detectors import SellerFacts

    return [
        SellerFacts(
            key=str(row["id"]),
            name=row["name"],
            domain=row["domain"],
            claimed_domain=row["claimed_domain"],
            source=row["source"],
        )
        for row in store.sellers()
    ]


def listing_facts(store: Store) -> list:
    from detectors import ListingFacts

    facts = []
    for row in store.export_rows():
        facts.append(
            ListingFacts(
                id=row["id"],
                title=row["title"],
                price=row["price"],
                currency=row["currency"],
                condition=row["condition"] or "unknown",
                description=" · ".join(t for t in (row["description"], row["summary"]) if t)
                or None,
                brand=row["brand"],
                seller_key=str(row["seller_id"]) if row["seller_id"] is not None else None,
                seller_name=row["seller_name"],
                seller_domain=row["seller_domain"],
                source=row["source"],
                category=row.get("category"),
            )
        )
    return facts


def detect_findings(config: Config, run_id: int | None = None) -> dict:
    """Score every seller and listing in the database; return counts of what changed."""
    from detectors import BrandBook, assess_listings, assess_sellers

    book = BrandBook.from_config(config)
    with open_store(config.storage.database) as store:
        if run_id is None:
            latest = store.latest_run()
            run_id = latest["id"] if latest else None
        sellers = seller_facts(store)
        seller_findings = dict(
            zip((s.key for s in sellers), assess_sellers(sellers, book), strict=True)
        )
        assessments = assess_listings(listing_facts(store), book, seller_findings)
        rows = [_seller_row(int(key), f) for key, f in seller_findings.items()]
        rows += [_listing_row(a) for a in assessments]
        now = utc_now()
        counts = store.record_findings(rows, run_id, now)
    flagged = sum(1 for a in assessments if a.flags)
    risky_sellers = sum(1 for f in seller_findings.values() if f.verdict != "clean")
    return {
        **counts,
        "run_id": run_id,
        "listings": len(assessments),
        "flagged_listings": flagged,
        "sellers": len(seller_findings),
        "risky_sellers": risky_sellers,
    }


def _seller_row(seller_id: int, finding) -> dict:
    return {
        "subject_kind": "seller",
        "subject_id": seller_id,
        "subject": finding.subject,
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
