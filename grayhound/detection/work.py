"""One detection's shared state: the store, the BrandBook, what must be judged again, the
moment and crawl run the findings are stored under, and what was done (counted for the
command's output); and the finding rows the passes store."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

from detectors import BrandBook, ListingFacts
from detectors.catalog import TitleReading, reading_from_state
from detectors.prices import PriceCheck
from grayhound.detection.scope import Scope
from grayhound.models import Finding
from grayhound.store import Store

READINGS_DECODED = 1 << 14  # distinct kept readings held decoded (a few hundred bytes each)
# Listings the read pass hands to the judge pass in memory (their facts, not read again),
# ~1.4 KB each: a day of a 100k store fits; beyond, the rest are read again (at 1M all 65,536
# of a day's 66,000 held cost 88 MiB of peak for no CPU seen at that scale: memory stays flat).
READ_FOR_JUDGING = 1 << 14
IDENTITIES_HELD = 1 << 15  # sellers' identity findings held decoded (a few hundred bytes each)


@dataclass
class Work:
    store: Store
    book: BrandBook
    scope: Scope
    run_id: int | None
    now: str
    counts: Counter = field(default_factory=Counter)
    samples_moved: set[int] = field(default_factory=set)  # sellers whose sample may move

    def __post_init__(self) -> None:
        self.models = {(m.brand, m.model): m for m in self.book.config.catalog}
        self._readings: dict[str, TitleReading | None] = {}
        # {listing id: Read} of the listings the read pass read, for the judge pass
        self.read: dict[int, Read] = {}
        self._identities: dict[int, Finding | None] = {}  # by seller id (`identities`)
        # while a chunk is read (`held_writes`): the writes it asks for, in order, for the
        # process that stores it; and in a worker reading ahead, the title words it made
        self.held: list[tuple[str, object]] | None = None
        self.worker = False  # this process is a worker reading or judging ahead (`ahead`)
        self.words_made: dict[str, str] = {}

    def keep_read(self, listing_id: int, read: Read) -> bool:
        """What the read pass found of a listing, kept for the judge pass (while there is room):
        its facts and kept state as they stand after the pass (the peers pass updates the
        peer signal), so judging it reads neither again. Whether it is kept."""
        if len(self.read) < READ_FOR_JUDGING or listing_id in self.read:
            self.read[listing_id] = read
            return True
        return False

    def reading(self, kept: str) -> TitleReading | None:
        """A reading as `listing_state` keeps it, decoded once per distinct text (listings
        share them: the same model, kind, attributes and condition); None when its model
        left the catalog."""
        if kept not in self._readings:
            if len(self._readings) >= READINGS_DECODED:
                self._readings.clear()
            self._readings[kept] = reading_from_state(json.loads(kept), self.models)
        return self._readings[kept]

    def gone_why(self, row: dict) -> str | None:
        """Why a listing (its facts row) is gone, or None while it is live: its page answered
        404 or 410 in a crawl run after the one that last saw it."""
        if row["gone"] is None:  # read with the facts (`Store.listing_fact_rows`)
            return None
        run_id, status = row["gone"].split(" ")
        return f"gone: its page answered {status} in crawl run {run_id}"

    def dirty(self, *, texts: bool = False) -> None:
        """Networks must be found again (a seller's keys or images moved, a seller came or
        went); with `texts`, near-identical descriptions too. Kept in the store, in the
        transaction of the change, so a detection that stops still finds them next time."""
        if self.held is not None:
            self.held.append(("dirt", texts))
        else:
            self.store.mark_dirt(texts=texts)

    def kept_title_words(self, keys: list[str]) -> dict[str, str]:
        """{key: words} of these title keys kept in the store, or made by this worker
        since its snapshot of the store (stored since by its parent)."""
        kept = self.store.kept_title_words(keys)
        if self.words_made:
            kept.update((k, self.words_made[k]) for k in keys if k in self.words_made)
        return kept

    def keep_title_words(self, rows: list[tuple[str, str]]) -> None:
        """Keep the words of titles just read (held while a chunk is read), counted as
        `titles_read` once kept: a title read by both processes of a pass (`ahead`) is kept
        and counted once, as reading it in one process would."""
        if self.worker:
            self.words_made.update(rows)
        if self.held is not None:
            self.held.append(("words", rows))
        else:
            self.counts["titles_read"] += self.store.keep_title_words(rows)

    def store_held(self, held: list[tuple[str, object]]) -> None:
        """The writes a chunk's reading asked for (`held`), made now, in their order."""
        assert self.held is None and not self.worker, "held writes are made by the parent"
        for kind, value in held:
            if kind == "dirt":
                self.dirty(texts=value)
            else:
                self.keep_title_words(value)

    def identities(self, seller_ids) -> dict[str, Finding]:
        """The kept identity findings of these sellers, by seller key (str of the id). Read
        and decoded once a detection (the facts pass, which sets them, runs first): every
        chunk of a large store's listings reaches most of its sellers."""
        wanted = set(seller_ids)
        if len(self._identities) + len(wanted) > IDENTITIES_HELD:
            self._identities.clear()
        unread = [seller_id for seller_id in wanted if seller_id not in self._identities]
        for seller_id, state in self.store.seller_states(unread).items():
            identity = finding_of(json.loads(state["identity"])) if state["identity"] else None
            self._identities[seller_id] = identity
        return {
            str(seller_id): self._identities[seller_id]
            for seller_id in wanted
            if self._identities.get(seller_id) is not None
        }


@dataclass(slots=True)
class Read:
    """A listing as the read pass leaves it: what the judge pass needs of its facts row
    (`facts_of` it, its seller's id, why it is gone) and of its kept state."""

    facts: ListingFacts
    seller_id: int | None
    gone_why: str | None
    reading: TitleReading | None  # `listing_state.reading`, decoded (`Work.reading`)
    peer_signal: str | None  # `listing_peers.peer_signal`
    check: PriceCheck | None = None  # its price check, when made with the kept reading


def finding_state(finding: Finding) -> dict:
    return {
        "kind": finding.kind,
        "subject": finding.subject,
        "brand": finding.brand,
        "score": finding.score,
        "verdict": finding.verdict,
        "reasons": list(finding.reasons),
        "flags": list(finding.flags),
    }


def finding_of(state: dict) -> Finding:
    return Finding(
        state["kind"],
        state["subject"],
        state["brand"],
        state["score"],
        state["verdict"],
        tuple(state["reasons"]),
        tuple(state["flags"]),
    )


def seller_row(seller_id: int, finding: Finding, name: str | None) -> dict:
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


def listing_row(assessment) -> dict:
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
