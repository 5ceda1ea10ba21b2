"""The digest at scale (issue 19): decided in SQL, read back in order, so its work is what
changed since the last digest and its memory does not grow with the number of cases.

`stream_digest(store, inputs)` copies every shown case into the store's `CaseBook` (a private
temporary SQLite database reading the store) with its risk order and, where SQL can tell, its
group: a case never shown is new; one whose finding and evidence are what the last digest
showed is still open. Python makes the evidence of the rest (what changed) and compares it,
exactly as `build_digest` does. Counts and seller summaries are SQL aggregates; the pages read
only what they show (each seller's worst listings, the riskiest cases naming no seller); JSON,
CSV and the record read every case from the book, riskiest first, one at a time."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from functools import partial
from typing import IO

from grayhound.store import settle_store, utc_now
from grayhound.store.digestbook import book_waits_whole
from grayhound.store.digestcases import database_file
from grayhound.store.digestlines import Pinned
from grayhound.triage import SHOWN_STATES, evidence_of
from reports.digest import jsontext, lines, parts
from reports.digest import sellers as seller_pages
from reports.digest.build import (
    GROUPS,
    SEVERITIES,
    Digest,
    DigestInputs,
    assemble,
    case_fields,
    compare,
    seller_counts,
    tally,
)
from reports.parallel import forks, worker_count, write_parts

# what `capture_summary` reads of a capture -> the `capture_*` column of the book's rows
CAPTURE_COLUMNS = {
    "url": "url", "warc_file": "warc_file", "offset": "offset", "length": "length",
    "payload_sha256": "sha256", "fetched_at": "fetched_at",
}  # fmt: skip
# Python's rounding (`item_fields` rounds scores and ratios to 4 places), not SQLite's
FUNCTIONS = {"digest_round": lambda value: round(value, 4)}
# `json.dumps(evidence, sort_keys=True, default=str)` without making an encoder per decided
# case (twice the time: 0.4 s CPU on a 1M day of 130,000)
EVIDENCE_JSON = json.JSONEncoder(sort_keys=True, default=str)
# by the (seller, kind, risk) index: the few cases naming no seller, not a whole group
# (`+` keeps SQLite from reading them through the group's index: 700,000 rows at 1M)
UNATTRIBUTED = "+dc.grp = ? AND dc.kind = 'listing' AND dc.seller_id IS NULL"


class SpooledGroup(list):
    """One group's items, read from the book each time it is iterated (riskiest first).
    A list to the JSON encoder, which writes it item by item; it holds none of them."""

    def __init__(self, book, group: str, length: int, pinned=None):
        super().__init__()
        self._book, self._group, self._length = book, group, length
        self._pinned = pinned  # the kept book's snapshot, read by workers too (`parts`)

    def __iter__(self) -> Iterator:
        return _items(self._book.items("dc.grp = ?", [GROUPS.index(self._group)]))

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index):
        """An item or a slice, read in full first: for callers that index a small digest (the
        renderers only iterate)."""
        return list(iter(self))[index]

    def __eq__(self, other) -> bool:
        return list(iter(self)) == other

    __hash__ = None

    def __bool__(self) -> bool:
        return self._length > 0

    def json_texts(self, pad: str) -> Iterator[str]:
        """The JSON text of the items at indentation `pad`, joined as `jsontext` joins a
        list's elements, rendered by SQLite (`lines.json_items`)."""
        return lines.json_items(self._book, GROUPS.index(self._group), pad)

    def write_json(self, stream, pad: str) -> None:
        """Write what `json_texts` gives into `stream`, a large group in parts on several
        cores (`parts.write_json`)."""
        number = GROUPS.index(self._group)
        steps = [parts.Cases(number)]
        parts.write_json(self._book, self._pinned, steps, {number: self._length}, stream, pad)

    def write_csv(self, stream) -> int:
        """Write the items as `write_csv` rows (no header), rendered by SQLite (a large group
        in parts on several cores)."""
        number = GROUPS.index(self._group)
        steps, lengths = [parts.Cases(number)], {number: self._length}
        return parts.write_csv(self._book, self._pinned, steps, lengths, stream, csv_item)


class SpooledGroups(dict):
    """A spooled digest's groups (name -> `SpooledGroup`), written whole: the JSON dict or
    the CSV rows of every group, in parts on several cores that share all the groups' cases
    (`parts`), not each group's alone."""

    def __init__(self, groups: dict, book, pinned=None):
        super().__init__(groups)
        self._book, self._pinned = book, pinned

    def _lengths(self) -> dict[int, int]:
        return {GROUPS.index(name): len(group) for name, group in self.items()}

    def write_json(self, stream, pad: str) -> None:
        """Write the text `jsontext.chunks` makes of this dict at indentation `pad`: its keys
        sorted, each group a list of its items' text (`lines.json_items`), `[]` if empty."""
        inner = pad + jsontext.INDENT
        steps: list = []
        separator = "{\n" + inner
        for name, group in sorted(self.items()):
            steps.append(separator + jsontext.encoded(name) + ": ")
            if group:
                steps.extend(["[\n" + inner + jsontext.INDENT, parts.Cases(GROUPS.index(name))])
                steps.append("\n" + inner + "]")
            else:
                steps.append("[]")
            separator = ",\n" + inner
        steps.append("\n" + pad + "}" if self else "{}")
        items_pad = inner + jsontext.INDENT
        parts.write_json(self._book, self._pinned, steps, self._lengths(), stream, items_pad)

    def write_csv(self, stream) -> int:
        """Write every group's rows, in the order of `GROUPS` (no header); return how many."""
        steps = [parts.Cases(GROUPS.index(name)) for name in GROUPS if name in self]
        return parts.write_csv(self._book, self._pinned, steps, self._lengths(), stream, csv_item)


class SpooledDigest(Digest):
    """A digest whose items live in its case book; renderers read it as any `Digest`."""

    book: object

    def shown_unattributed(self, group: str, limit: int) -> dict:
        """The riskiest `limit` listing cases of `group` that name no seller, and a count by
        severity of the rest: what the pages show of them."""
        at = GROUPS.index(group)
        cases = list(_items(self.book.items(UNATTRIBUTED, [at], grouped=False, limit=limit)))
        hidden = dict.fromkeys(SEVERITIES, 0)
        sql = f"""SELECT sev, COUNT(*) FROM (SELECT dc.sev FROM cases_now dc
                  WHERE {UNATTRIBUTED} ORDER BY dc.sev, dc.nscore, dc.rkey, dc.case_id
                  LIMIT -1 OFFSET ?) GROUP BY sev"""
        for sev, number in self.book.execute(sql, [at, limit]):
            hidden[SEVERITIES[sev]] = number
        return {"cases": cases, "hidden": sum(hidden.values()), "by_severity": hidden}

    pinned: object = None
    store_path: str = ""  # the store's file, copied back into once the book's readers are gone

    def as_page(self) -> dict:
        """`Digest.as_page` with the groups as they are kept (`SpooledGroups`): the JSON
        writes them whole, in parts."""
        return {**super().as_page(), "groups": self.items}

    def close(self) -> None:
        # the pin's connection (it may write) first: the last connection to a store folds its
        # WAL into the database as it closes, which a read-only one cannot; after the store
        # was closed (its clean stamp written) that would have the next command check it all
        if self.pinned is not None:
            self.pinned.close()
        self.book.close()
        if self.store_path:  # the book's reader was the store's last connection: read-only,
            settle_store(self.store_path)  # it could not copy the log back; this does

    def recorded(self) -> Iterator[tuple]:
        """What the store must remember of this digest: the cases whose finding or evidence
        differ from what it last recorded of them."""
        for case_id, finding_id, fingerprint, grp, evidence in self.book.recorded():
            yield case_id, finding_id, fingerprint, GROUPS[grp], evidence


def stream_digest(
    store,
    inputs: DigestInputs,
    *,
    since_last: bool = True,
    record_all: bool = False,
    in_parts: bool = False,
) -> SpooledDigest:
    """The digest of every flagged subject whose case is shown (the `rows`, `cases`, `shown`
    and `captures` of `inputs` are not read: the book joins them). With `since_last` the
    reference point is the last digest, whose record (`digest_shown`) says what is new or
    changed; else the history in `digest_items` at `inputs.reference`. With `record_all`
    every case is to be recorded, not only those that moved since the last record. With
    `in_parts` (a digest not recorded: a record commits before the digest is written) large
    groups of the JSON and CSV may be written by several processes (`reports.digest.parts`).
    """
    in_parts = in_parts and worker_count() > 1  # a bad GRAYHOUND_WORKERS said before the fill
    stored = since_last and not record_all  # the store's own book, up to date with a change
    book = store.stored_case_book(FUNCTIONS) if stored else store.case_book(FUNCTIONS)
    reference = None if since_last else inputs.reference
    if stored:  # the kept book's decision on another CPU, when there is one to fork
        book.fill(SHOWN_STATES, None, _decisions, beside=_beside if forks() else None)
    else:
        book.fill(SHOWN_STATES, reference, _decisions, record_all=record_all)
    # a kept book's snapshot pinned before anything of it is read, so that worker processes
    # can tell they read the same (a private book is this process's alone)
    pinned = Pinned(book, FUNCTIONS) if in_parts and book.kept else None
    counts = _counts(book)
    views = _seller_views(book, inputs)
    unattributed = book.execute(
        "SELECT COUNT(*) FROM cases_now WHERE kind = 'listing' AND seller_id IS NULL"
    ).fetchone()[0]
    counts["sellers"] = seller_counts(views, unattributed)
    groups = {group: SpooledGroup(book, group, counts["groups"][group], pinned) for group in GROUPS}
    items = SpooledGroups(groups, book, pinned)
    digest = assemble(inputs, items, views, counts)
    spooled = SpooledDigest(**{name: getattr(digest, name) for name in digest.__dataclass_fields__})
    spooled.book, spooled.pinned = book, pinned
    spooled.store_path = database_file(store.db)
    return spooled


def make_kept_book(store, say: Callable[[str], None]) -> int:
    """After a recorded digest not made on the store's kept book (a store's first, compared
    with 24 hours ago; a `--since` or late one), if the kept book still waits to be made
    whole (a new store's: `digestbook.EVERYTHING` queued), make it now against the record just
    written, as the next digest would have: first a case for every flagged subject without
    one (the queue's mark asks to look at every one), then the book. The next daily digest
    makes only what changed since. Before, that digest made the whole book itself: at a
    million listings the first daily digest took 25.6 s, the others ~10.5 s (issue 19, round
    42). Says so (`say`) before it begins; returns the rows made."""
    if not book_waits_whole(store.db):
        return 0
    say("digest: making the case book later digests keep up to date (once)…")
    store.open_cases(store.flagged_subjects(), utc_now())
    book = store.stored_case_book(FUNCTIONS)
    try:
        book.fill(SHOWN_STATES, None, _decisions)
        return book.refreshed
    finally:
        book.close()


def _beside(
    here: Callable[[IO[str]], None], aside: Callable[[IO[str]], None], out: IO[str]
) -> None:
    """The kept book's `beside`: `here(out)` in this process while a forked worker runs
    `aside` into a file of its own, copied into `out` after."""
    write_parts(out, [here, aside], lambda part, stream: part(stream))


def _decisions(undecided: Iterator[tuple]) -> Iterator[tuple]:
    """(case id, group, changes, evidence to record) of the cases SQL could not decide (the
    book's `undecided`)."""
    for row, shown, dirty in undecided:
        evidence = evidence_of(row)
        if row["grp"] is None:
            group, changes = compare(json.loads(shown), evidence)
        else:
            group, changes = GROUPS[row["grp"]], []
        record = EVIDENCE_JSON.encode(evidence) if dirty else None
        changes_text = json.dumps(changes) if changes else None
        yield row["case_id"], GROUPS.index(group), changes_text, record


def _items(rows: Iterator[dict]) -> Iterator[dict]:
    """Each book row as the digest item `item_fields` makes of it."""
    for row in rows:
        case = {"id": row["case_id"], "state": row["case_state"]}
        capture = None
        if row["capture_id"] is not None:
            capture = {key: row[f"capture_{name}"] for key, name in CAPTURE_COLUMNS.items()}
        changes = json.loads(row["changes"]) if row["changes"] else []
        yield case_fields(row, case, GROUPS[row["grp"]], changes, capture, evidence_of(row))


def csv_item(book, case_id: int) -> dict:
    """One case's item as the CSV writer reads it (its capture as a reference)."""
    (item,) = _items(book.items("dc.case_id = ?", [case_id], grouped=False))
    return {**item, "capture": lines.capture_ref(item)}


def _worst(book, seller_id: int) -> Iterator[dict]:
    """The riskiest listing cases of a seller, as many as its card shows."""
    where = "dc.seller_id = ? AND dc.kind = 'listing'"
    rows = book.items(where, [seller_id], grouped=False, limit=seller_pages.WORST_SHOWN)
    return _items(rows)


def _counts(book) -> dict:
    """`counts_of` every case, from one SQL aggregate."""
    return tally(
        (GROUPS[grp], SEVERITIES[sev], state, json.loads(text or "[]"), number)
        for grp, sev, state, text, number in book.tally()
    )


def _seller_views(book, inputs: DigestInputs) -> dict:
    """`seller_views` of every case: per seller its own case, an SQL summary of its listing
    cases and the worst few of them."""
    own = {item["seller_id"]: item for item in _items(book.items("dc.kind = 'seller'"))}
    summaries: dict[int, dict] = {}
    for seller_id, text, count, new, score, sev, grp, clean in book.seller_summaries():
        summary = summaries.get(seller_id)
        if summary is None:
            summary = summaries[seller_id] = {"count": 0, "new": 0, "flags": set()}
            summary.update(score=score, sev=sev, grp=grp, all_clean=True)
        summary["count"] += count
        summary["new"] += new
        summary["flags"].update(json.loads(text or "[]"))
        summary.update(score=max(summary["score"], score), sev=min(summary["sev"], sev))
        summary.update(grp=min(summary["grp"], grp), all_clean=summary["all_clean"] and clean)
    for summary in summaries.values():
        summary["severity"] = SEVERITIES[summary.pop("sev")]
        summary["group"] = GROUPS[summary.pop("grp")]
        summary["all_clean"] = bool(summary["all_clean"])
    empty = {"count": 0, "new": 0, "flags": set(), "score": None, "severity": "watch"}
    empty.update(group=None, all_clean=True)
    views = []
    for seller_id in sorted(set(own) | set(summaries)):
        summary = summaries.get(seller_id, empty)
        worst = []
        if seller_id in summaries:  # read when shown: the pages show the first cards' only
            worst = seller_pages.ReadWhenShown(partial(_worst, book, seller_id))
        seller = inputs.sellers.get(seller_id)
        views.append(
            seller_pages.summarised_view(seller_id, own.get(seller_id), summary, worst, seller)
        )
    views.sort(key=seller_pages._rank)
    by_id = {view["seller_id"]: view for view in views}
    networks = [seller_pages._network(n, by_id, inputs.sellers) for n in inputs.networks]
    networks.sort(key=lambda n: (SEVERITIES.index(n["severity"]), -n["score"], n["id"]))
    return {"sellers": views, "networks": networks}
