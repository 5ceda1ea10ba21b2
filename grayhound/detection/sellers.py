"""Sellers judged in two passes over queues in the store:

- facts: each changed seller's identity (who it says it is: names, domains, claimed websites,
  judged again only when they or the config they are judged against changed), its network
  keys (domains and contacts) and its description sample; a seller whose identity or shown
  name changed queues its listings to be judged again, and its network's sellers' verdicts;
- verdicts: each queued seller's verdict from its identity, its listings' current findings
  (summed in the store), its network's other sellers, stored as a finding.

A seller's description sample is read again only when a listing it was read from changed
(`Store.samples_moved`). Memory holds one chunk of sellers; a seller's listings are summed by
SQLite from what each listing's current finding adds (`listing_sales`, set at the end of the
judge pass from the rows its chunks staged)."""

from __future__ import annotations

import hashlib
import json

from detectors import SellerFacts, entitled, seller_verdict
from detectors.networks import (
    DESCRIPTIONS_PER_SELLER,
    SellerSignals,
    description_sample,
    seller_keys,
)
from detectors.seller_verdicts import SellerSales
from detectors.sellers import assess_seller
from grayhound.detection.ahead import queue_chunks
from grayhound.detection.work import Work, finding_of, finding_state, seller_row
from grayhound.models import FLAGS
from grayhound.store.detectstate import dumps

CHUNK = 500  # sellers per transaction
EVERY_LISTING = 2**63 - 1  # a sample not full: any listing of the seller may change it
# Alias kinds that are a seller's own domains, its claimed websites, and its contacts.
OWN_DOMAINS = ("shop_domain", "myshopify")
CONTACTS = {
    "phone": "phones",
    "email": "emails",
    "address": "addresses",
    "company_id": "company_ids",
}


def seller_facts(row: dict, aliases: list[dict]) -> SellerFacts:
    return SellerFacts(
        key=str(row["id"]),
        name=row["name"],
        domain=row["domain"],
        claimed_domain=row["claimed_domain"],
        source=row["source"],
        names=_raw(aliases, ("name",)),
        domains=_raw(aliases, OWN_DOMAINS),
        claimed_domains=_raw(aliases, ("website",)),
    )


def _raw(aliases: list[dict], kinds: tuple[str, ...]) -> tuple[str, ...]:
    """One shown value per distinct alias of these kinds, the latest spelling of each."""
    found: dict[str, str] = {}
    for alias in aliases:
        if alias["kind"] in kinds:
            found[alias["value"]] = alias["raw"] or alias["value"]
    return tuple(found.values())


def facts_pass(work: Work, upto: int) -> None:
    """Each queued seller (up to sequence number `upto`): identity, keys, sample."""
    store = work.store
    while True:
        ids = store.claimed_sellers(upto, CHUNK)
        if not ids:
            return
        with store.db.atomic():
            work.samples_moved, texts_upto = store.samples_moved(ids)
            rows = {row["id"]: row for row in store.seller_fact_rows(ids)}
            aliases = store.aliases_of(ids)
            states = store.seller_states(ids)
            for seller_id in ids:
                row = rows.get(seller_id)
                if row is None or row["merged_into"] is not None:
                    if seller_id in states:
                        store.forget_sellers([seller_id])
                        work.dirty(texts=True)
                    continue
                _seller(work, row, aliases.get(seller_id, []), states.get(seller_id))
            store.release_sellers(ids, upto)
            store.release_texts(ids, texts_upto)
        work.counts["sellers_read"] += len(ids)


def _seller(work: Work, row: dict, aliases: list[dict], old: dict | None) -> None:
    store, book, seller_id = work.store, work.book, row["id"]
    facts = seller_facts(row, aliases)
    key = _key([facts.__dict__, work.scope.key("brands", "catalog", "authorized", "detectors")])
    if old and not work.scope.full and old["facts_key"] == key:
        identity, allowed = old["identity"], bool(old["entitled"])
    else:
        identity, allowed = dumps(finding_state(assess_seller(facts, book))), entitled(facts, book)
        work.counts["sellers_judged"] += 1
    label = facts.name or facts.domain or f"seller #{seller_id}"
    shown = [row["name"], row["domain"], row["claimed_domain"], identity]
    if old is None or old["identity"] != identity or old["label"] != label or (
        old.get("shown_key") != _key(shown)
    ):  # fmt: skip
        work.counts["listings_of_changed_sellers"] += store.queue_listings_of(seller_id)
        store.queue_verdicts(store.network_peers(seller_id))
    if old is None:
        work.dirty(texts=True)  # one more seller: ties may no longer hold
    keys = _network_keys(work, facts, aliases)
    if keys != store.seller_keys_kept(seller_id):
        store.replace_seller_signals(seller_id, keys)
        work.dirty()
    if old is None or work.scope.full or seller_id in work.samples_moved:
        sample, upto = _sample(store, seller_id)
        sample_key = _key([text for text, _ in sample])
        work.counts["samples_read"] += 1
        if old is None or old["sample_key"] != sample_key:
            store.replace_seller_texts(seller_id, sample)
            work.dirty(texts=True)
    else:  # none of the listings it was read from changed: the kept sample holds
        sample_key, upto = old["sample_key"], old["sample_upto"]
    store.save_seller_state(
        {"seller_id": seller_id, "facts_key": key, "identity": identity, "entitled": int(allowed),
         "label": label, "subject": facts.name or facts.domain, "source": row["source"],
         "sample_key": sample_key, "shown_key": _key(shown), "sample_upto": upto}
    )  # fmt: skip
    store.queue_verdicts([seller_id])


def _sample(store, seller_id: int) -> tuple[list, int | None]:
    """The seller's description sample, and the id of the listing that filled it
    (EVERY_LISTING when it is not full: every listing of the seller, and any new one,
    counts)."""
    last = [None]

    def descriptions():
        for listing_id, description in store.seller_descriptions(seller_id):
            last[0] = listing_id
            yield description

    sample = description_sample(descriptions())
    return sample, last[0] if len(sample) >= DESCRIPTIONS_PER_SELLER else EVERY_LISTING


def _network_keys(work: Work, facts: SellerFacts, aliases: list[dict]) -> list[tuple]:
    """(kind, value, shown) of the seller's domains and contacts, each (kind, value) once."""
    contacts = {field: _raw(aliases, (kind,)) for kind, field in CONTACTS.items()}
    signals = SellerSignals(
        seller_id=int(facts.key),
        source=facts.source,
        name=facts.name,
        domains=tuple(sorted({*facts.all_domains(), *facts.all_claimed()})),
        **contacts,
    )
    found: dict[tuple[str, str], str] = {}
    for kind, value, shown in seller_keys(signals, work.book):
        found.setdefault((kind, value), shown)
    return sorted((kind, value, shown) for (kind, value), shown in found.items())


def verdicts_pass(work: Work) -> None:
    """Each queued seller's verdict, stored as its finding, a chunk a transaction; on a day's
    change the chunks are judged by a second process where there is one and by this one,
    whichever is free (`ahead`), and stored here in order (nothing this pass stores is read
    by judging: the sellers' identities, sales and networks were stored by the passes
    before, and no verdict is queued during it)."""
    store = work.store
    with queue_chunks(work, store.queued_verdicts, _verdicts, CHUNK) as judged:
        for ids, rows in judged:
            with store.db.atomic():
                counts, _ = store.record_judgements(rows, work.run_id, work.now)
                store.release_verdicts(ids)
            work.counts["sellers_given_verdicts"] += len(rows)
            work.counts.update(counts)


def _verdicts(work: Work, ids: list[int]) -> list[dict]:
    store, book = work.store, work.book
    states = store.seller_states(ids)
    sales = store.seller_sales_rows(ids, FLAGS)
    rows = []
    for seller_id in ids:
        state = states.get(seller_id)
        if state is None:  # merged since it was queued
            continue
        peers = {
            label: finding_of(json.loads(identity)).verdict
            for label, identity in store.network_peer_identities(seller_id)
        }
        verdict = seller_verdict(
            finding_of(json.loads(state["identity"])),
            _sales(sales.get(seller_id)),
            book,
            state["label"],
            entitled=bool(state["entitled"]),
            network_peers=peers,
        )
        rows.append(seller_row(seller_id, verdict, state["subject"]))
    return rows


def _sales(row: dict | None) -> SellerSales:
    """`detectors.seller_sales` of a seller's listings, from the sums the store made."""
    if row is None:
        return SellerSales()
    return SellerSales(
        listings=row["listings"],
        flags={flag: row[f"flag:{flag}"] for flag in FLAGS if row[f"flag:{flag}"]},
        counterfeits=row["counterfeits"],
        priced_new=row["priced_new"],
        lowest_ratio=row["lowest_ratio"],
        brands=set(row["brands"]),
        unauthorized_brands=dict(row["unauthorized"]),
        gray_examples=list(row["gray"]),
    )


def _key(value) -> str:
    blob = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]
