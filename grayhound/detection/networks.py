"""Seller networks, found again when a seller's network keys, description sample or listings'
images moved (or a seller came or went): the ties are counted by SQLite over what the sellers
pass and the listings' read pass kept (a value held by few sellers), near-identical
descriptions through their shingles; only the ties and the networks are held in memory. A
seller whose network changed, and the other sellers of that network, get their verdict
again (each names its network's impersonators)."""

from __future__ import annotations

from collections import defaultdict

from detectors.networks import (
    MAX_TIE,
    Tie,
    description_ties,
    exact_tie,
    networks_of,
    specific,
)
from grayhound.detection.work import Work


def networks_pass(work: Work) -> int:
    """Find and store the networks if anything they rest on moved; return how many there are."""
    store = work.store
    dirty = store.detection_dirt()
    if not dirty:
        return store.networks_held(work.now)
    total = store.seller_count()
    with store.db.atomic():
        if "texts" in dirty:
            ties = description_ties(store.text_pairs(MAX_TIE, total))
            store.replace_description_ties([tie.to_dict() for tie in ties])
        ties = _exact_ties(store, total) + [
            Tie(t["kind"], t["value"], tuple(t["sellers"]), t["why"])
            for t in store.description_ties()
        ]
        sellers = sorted({seller for tie in ties for seller in tie.sellers})
        found = networks_of(ties, store.seller_sources(sellers))
        before = store.network_ids()
        after = store.record_networks(
            [
                {
                    "sellers": list(n.sellers),
                    "sources": list(n.sources),
                    "signals": [t.to_dict() for t in n.ties],
                }
                for n in found
            ],  # fmt: skip
            work.now,
        )
        store.queue_verdicts(_moved(before, after))
        store.clear_detection_dirt()
    work.counts["networks_found"] += 1
    return len(found)


def _exact_ties(store, total: int) -> list[Tie]:
    """Ties of the same domain, contact or image, ordered by kind and value."""
    ties = [
        exact_tie(kind, value, holders)
        for kind, value, holders in store.signal_holders(MAX_TIE)
        if specific(len(holders), total)
    ]
    ties += [
        exact_tie("image", key, dict.fromkeys(holders, key))
        for key, holders in store.image_holders(MAX_TIE)
        if specific(len(holders), total)
    ]
    return sorted(ties, key=lambda tie: (tie.kind, tie.value))


def _moved(before: dict[int, int], after: dict[int, int]) -> set[int]:
    """Every seller of a network whose membership changed (its sellers' peers changed)."""
    members: dict[int, tuple[set, set]] = defaultdict(lambda: (set(), set()))
    for seller, network in before.items():
        members[network][0].add(seller)
    for seller, network in after.items():
        members[network][1].add(seller)
    moved: set[int] = set()
    for old, new in members.values():
        if old != new:
            moved |= old | new
    return moved
