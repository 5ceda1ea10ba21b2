"""Listings judged in three passes, each a queue in the store worked through in chunks (one
transaction each, so a detection that stops leaves its work queued, never half-done):

1. read: each changed listing's title (kept, and read again only when the title, its
   condition, description, brand or category changed, or the config the reading depends on),
   its price check, peer group and price ratio; a group whose members or ratios moved is
   queued for 2;
2. peers: each queued (model, condition) group's robust z-scores, all its members at once;
   a member whose peer signal changed is queued for 3;
3. judge: each queued listing's judgement from its reading, price, peer signal and seller,
   stored as a finding (history kept); a listing whose finding changed queues its seller's
   verdict.

Memory holds a few chunks of listings (on a day's change, the chunks judged ahead of the one
stored: `ahead.HELD_AHEAD`), or a peer group's (listing id, ratio) pairs."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from functools import partial

from detectors import ListingFacts
from detectors.catalog import TitleReading, reading_state
from detectors.listings import (
    assess_listing,
    listing_price,
    listing_reading,
    listing_seller,
    peer_group,
)
from detectors.networks import image_key
from detectors.prices import peer_outliers
from detectors.risk import Signal
from grayhound.detection.ahead import chunks_ahead, queue_chunks, shares_work
from grayhound.detection.titles import read_titles
from grayhound.detection.work import Read, Work, listing_row
from grayhound.store.detectstate import dumps, listing_sales_row
from grayhound.store.findings import encoded_finding

CHUNK = 2000  # listings per transaction
GROUP_SEPARATOR = "\x1f"  # between a peer group's model and condition


def facts_of(row: dict) -> ListingFacts:
    description = " · ".join(t for t in (row["description"], row["summary"]) if t) or None
    return ListingFacts(
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
        category=row["category"],
    )


def read_pass(work: Work, upto: int) -> None:
    """Pass 1 over the queued listings (up to sequence number `upto`), a chunk a transaction;
    on a day's change the chunks are read by a second process where there is one and by this
    one, whichever is free (`ahead`), and stored here in order."""
    store = work.store
    # a later change is queued above `upto`
    queued = partial(store.claimed_listings, upto)
    with queue_chunks(work, queued, _read_held, CHUNK) as read:
        for ids, (chunk, held, counts, kept) in read:
            with store.db.atomic():
                work.store_held(held)
                _store_read(work, chunk)
                store.release_listings(ids, upto)
            work.counts.update(counts)
            for listing_id, read_listing in kept:
                work.keep_read(listing_id, read_listing)


def _read_held(work: Work, ids: list[int]):
    """`_read_chunk` with the writes it asks for held (`Work.held`) and its counts apart, to
    be stored at the chunk's turn by this process, whichever process read it: (its result,
    the writes, the counts, the listings kept for the judge pass)."""
    counts, work.counts, work.held = work.counts, Counter(), []
    try:
        chunk, kept = _read_chunk(work, ids)
        return chunk, work.held, work.counts, kept
    finally:
        work.counts, work.held = counts, None


def _store_read(work: Work, chunk) -> None:
    ids, saved, ratios, touched = chunk
    store = work.store
    store.save_listing_states(saved)
    store.update_peer_ratios(ratios)
    store.queue_groups(touched)
    store.queue_judgements(ids)


def _read_chunk(work: Work, ids: list[int]):
    """A chunk of listings read: (ids, the states to save, the price ratios to update, the
    peer groups touched) and the listings kept for the judge pass."""
    store, book = work.store, work.book
    states = store.listing_states(ids)
    rows = store.listing_fact_rows(ids)
    judged_with = work.scope.key("brands", "catalog", "detectors")
    facts = [facts_of(row) for row in rows]
    keys = [_reading_key(f, judged_with) for f in facts]
    readings: list[TitleReading | None] = []
    for row, key in zip(rows, keys, strict=True):
        old = states.get(row["id"])
        reading = None
        if old is not None and not work.scope.full and old["reading_key"] == key:
            reading = work.reading(old["reading"])  # nothing it depends on changed
        readings.append(reading)
    kept = [reading is not None for reading in readings]
    unread = [i for i, reading in enumerate(readings) if reading is None]
    for i, reading in zip(unread, read_titles(work, [facts[i] for i in unread]), strict=True):
        readings[i] = reading
    saved, ratios, touched, held = [], [], set(), []
    for row, fact, key, reading, same in zip(rows, facts, keys, readings, kept, strict=True):
        old = states.get(row["id"]) or {}
        check = listing_price(fact, reading, book)
        why = work.gone_why(row)
        gone = why is not None
        group = None if gone else peer_group(reading, check)  # a gone price is no peer
        group_key = GROUP_SEPARATOR.join(group) if group else None
        ratio = check.ratio if group else None
        if (group_key, ratio) != (old.get("peer_group"), old.get("peer_ratio")):
            touched.update(g for g in (group_key, old.get("peer_group")) if g)
        image = image_key(row["image"], book) if row["image"] and row["seller_id"] else None
        if old.get("image_key") != image or (image and old.get("seller_id") != row["seller_id"]):
            work.dirty()
        state = {
            "listing_id": row["id"],
            "reading_key": key,
            "reading": old["reading"] if same else None,  # kept: stored again as it is
            "peer_group": group_key,
            "peer_ratio": ratio,
            "peer_signal": old.get("peer_signal") if group_key == old.get("peer_group") else None,
            "image_key": image,
            "seller_id": row["seller_id"],
            "gone": int(gone),
        }
        if state["reading"] is not None and all(
            state[k] == old[k] for k in STATE_COLUMNS if k != "peer_ratio"
        ):
            if ratio != old["peer_ratio"]:  # its price moved, nothing else: one column
                ratios.append((ratio, group_key, row["id"]))
        else:
            state["reading"] = state["reading"] or dumps(reading_state(reading))
            saved.append(state)
        # the reading as the judge pass would decode it from the kept state (shared objects)
        kept = reading if same else work.reading(state["reading"])
        read = Read(fact, row["seller_id"], why, kept, state["peer_signal"])
        read.check = check if same else None  # a fresh reading is judged as the store keeps it
        if work.keep_read(row["id"], read):
            held.append((row["id"], read))
    work.counts["listings_read"] += len(rows)
    return (ids, saved, ratios, touched), held


# The kept state of a listing (`listing_state`'s columns but its id).
STATE_COLUMNS = (
    "reading_key", "reading", "peer_group", "peer_ratio", "peer_signal", "image_key",
    "seller_id", "gone",
)  # fmt: skip
_KEY_JSON = json.JSONEncoder(ensure_ascii=False)  # json.dumps(…, ensure_ascii=False), quicker


def _reading_key(facts: ListingFacts, judged_with: str) -> str:
    """What a title's reading depends on: if none of it changed, the kept reading holds."""
    inputs = (facts.title, facts.condition, facts.description, facts.brand, facts.category)
    blob = _KEY_JSON.encode([*inputs, judged_with])
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def peers_pass(work: Work) -> None:
    """Pass 2: each queued peer group, all its members' peer signals at once, a group a
    transaction; on a day's change the groups are scored by a second process where there is
    one and by this one, whichever is free (`ahead`), and stored here in order."""
    store = work.store
    chunks = [[group] for group in store.queued_groups()]
    with chunks_ahead(work, chunks, _peer_changes, share=shares_work(work)) as groups:
        for (group,), changed in groups:
            with store.db.atomic():
                store.set_peer_signals(group, changed)
                for signal, listing_id in changed:
                    if listing_id in work.read:
                        work.read[listing_id].peer_signal = signal
                store.queue_judgements([listing_id for _, listing_id in changed])
                store.release_group(group)
            work.counts["peer_groups"] += 1


def _peer_changes(work: Work, chunk: list[str]) -> list[tuple[str | None, int]]:
    """(peer signal, listing id) of the members of the chunk's one peer group whose signal
    moved, in id order; a signal as `listing_peers` keeps it (None: no signal)."""
    (group,) = chunk
    model, condition = group.split(GROUP_SEPARATOR)
    ratios, kept = [], {}  # kept: the members that had a signal
    for listing_id, ratio, signal in work.store.peer_members(group):
        ratios.append((listing_id, ratio))
        if signal is not None:
            kept[listing_id] = signal
    threshold = work.book.pricing.peer_mad_threshold
    signals = peer_outliers({(model, condition): ratios}, threshold)
    changed = []
    for listing_id in sorted(kept.keys() | signals.keys()):
        signal = signals.get(listing_id)
        now = dumps([signal.weight, signal.verdict, signal.reason, signal.flag]) if signal else None
        if now != kept.get(listing_id):
            changed.append((now, listing_id))
    return changed


def judge_pass(work: Work) -> None:
    """Pass 3: each queued listing judged and its finding stored, a chunk a transaction; the
    chunks judged by a second process where there is one and by this one, whichever is free
    (`ahead`), stored in order."""
    store = work.store
    # nothing queues a judgement during this pass
    with (
        store.journal_free(work.run_id),
        queue_chunks(work, store.queued_judgements, _judge_chunk, CHUNK) as judged,
    ):
        for ids, (rows, gone, sellers, sales) in judged:
            with store.db.atomic():
                counts, changed = store.record_judgements(rows, work.run_id, work.now, encoded=True)
                ended = store.end_findings("listing", gone, work.now)
                live = {row["subject_id"] for row in rows}
                store.stage_listing_sales(sales, [i for i in ids if i not in live])
                moved = {listing_id for _, listing_id in changed} | ended
                store.queue_verdicts({sellers[listing_id] for listing_id in moved} - {None})
                store.release_judgements(ids)
            work.counts["listings_judged"] += len(rows) + len(gone)
            work.counts["findings_ended"] += len(ended)
            work.counts.update(counts)
    with store.db.atomic():  # the chunks' sales, each seller's pages written once
        store.apply_staged_sales()
    work.read.clear()  # judged (a worker judged its own copy)


def _judge_chunk(work: Work, ids: list[int]) -> tuple[list[dict], dict, dict, list[tuple]]:
    """The finding rows of the live listings among `ids` (as the store keeps them:
    `encoded_finding`), {id: why} of the gone ones, {id: seller id} of all, and the live
    ones' `listing_sales` rows."""
    book = work.book
    listings = _judged(work, ids)
    identities = work.identities({read.seller_id for read in listings if read.seller_id})
    rows, gone, sellers, sales = [], {}, {}, []
    for read in listings:
        listing_id, facts = read.facts.id, read.facts
        sellers[listing_id] = read.seller_id
        if read.gone_why is not None:
            gone[listing_id] = read.gone_why
            continue
        reading = read.reading
        if reading is None:  # queued by its seller before it was ever read
            reading = listing_reading(facts, book)
        check = read.check if read.check is not None else listing_price(facts, reading, book)
        peer = None
        if read.peer_signal:
            weight, verdict, reason, flag = json.loads(read.peer_signal)
            peer = Signal(weight, verdict, reason, None, flag)
        seller = listing_seller(facts, book, identities)
        row = listing_row(assess_listing(facts, reading, check, peer, seller, book))
        sales.append(listing_sales_row(listing_id, read.seller_id, row))
        rows.append(encoded_finding(row))
    return rows, gone, sellers, sales


def _judged(work: Work, ids: list[int]) -> list[Read]:
    """These listings (those that exist, in id order) as the read pass left them: kept in
    memory by it, else read from the store (queued by their seller, their peers, or a
    detection that stopped)."""
    unread = [listing_id for listing_id in ids if listing_id not in work.read]
    rows = {row["id"]: row for row in work.store.listing_fact_rows(unread)}
    states = work.store.listing_states(unread)
    out = []
    for listing_id in sorted(ids):
        read = work.read.pop(listing_id, None)
        if read is None and listing_id in rows:
            row, state = rows[listing_id], states.get(listing_id) or {}
            read = Read(
                facts_of(row),
                row["seller_id"],
                work.gone_why(row),
                work.reading(state["reading"]) if state.get("reading") else None,
                state.get("peer_signal"),
            )
        if read is not None:
            out.append(read)
    return out
