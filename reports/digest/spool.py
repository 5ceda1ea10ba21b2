"""The digest at scale (issue 19): built in one streamed pass and read back in order, so its
memory does not grow with the number of cases.

`stream_digest(store, inputs)` reads every flagged subject one row at a time from the store
(case, evidence last shown and newest capture joined in SQL: `Store.digest_rows`), makes each
digest item exactly as `build_digest` does, counts it, and writes it to a *spool*: a private
temporary SQLite database on disk (deleted when closed). The renderers then read the spool:
each group riskiest first (JSON, CSV, recording), one seller's cases at a time (the seller
views), the first cases of the listings that name no seller (the pages). What stays in memory
is one seller's worth: its view with its five worst listings."""

from __future__ import annotations

import json
import pickle  # the spool is this process's own temporary file: items as they were made
import sqlite3
from collections.abc import Iterator
from itertools import groupby

from grayhound.triage import SHOWN_STATES
from reports.digest.build import (
    GROUPS,
    SEVERITIES,
    Digest,
    DigestInputs,
    assemble,
    counts_of,
    item_fields,
    seller_counts,
)
from reports.digest.sellers import WORST_SHOWN

SPOOL = """
    CREATE TABLE spool (
        grp INTEGER, sev INTEGER, neg_score REAL, ratio REAL, case_id INTEGER,
        kind TEXT, seller_id INTEGER, severity TEXT, verdict TEXT, flags TEXT, item BLOB
    )
"""
BATCH = 200  # items written to the spool at a time: all the pass holds
RISK = "sev, neg_score, ratio, case_id"  # `risk_order` of build.py, as columns
# what `capture_summary` reads of a capture -> the `capture_*` column of `Store.digest_rows`
CAPTURE_COLUMNS = {
    "url": "url", "warc_file": "warc_file", "offset": "offset", "length": "length",
    "payload_sha256": "sha256", "fetched_at": "fetched_at",
}  # fmt: skip


class Spool:
    """The digest's items in a private temporary SQLite database, read back in order."""

    def __init__(self):
        self.conn = sqlite3.connect("")  # "": a temporary database on disk, gone when closed
        self.conn.execute(SPOOL)

    def write(self, items: Iterator[dict]) -> Iterator[dict]:
        """Spool every item, passing each on (to be counted) as it goes."""
        insert = "INSERT INTO spool VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        batch = []
        for item in items:
            ratio = item["price_ratio"] if item["price_ratio"] is not None else 9.0
            batch.append(
                (
                    GROUPS.index(item["group"]),
                    SEVERITIES.index(item["severity"]),
                    -item["score"],
                    ratio,
                    item["case_id"],
                    item["kind"],
                    item["seller_id"],
                    item["severity"],
                    item["verdict"],
                    json.dumps(item["flags"]),
                    pickle.dumps(item, pickle.HIGHEST_PROTOCOL),
                )
            )
            if len(batch) >= BATCH:
                self.conn.executemany(insert, batch)
                batch.clear()
            yield item
        self.conn.executemany(insert, batch)
        self.conn.execute(f"CREATE INDEX spool_risk ON spool (grp, {RISK})")
        self.conn.execute(f"CREATE INDEX spool_seller ON spool (seller_id, kind, {RISK})")

    def group(self, group: str) -> Iterator[dict]:
        sql = f"SELECT item FROM spool WHERE grp = ? ORDER BY {RISK}"
        for (item,) in self.conn.execute(sql, [GROUPS.index(group)]):
            yield pickle.loads(item)

    def by_seller(self) -> Iterator[tuple[int, dict | None, Iterator[dict]]]:
        """(seller id, its own case or None, its listing cases riskiest first) per seller."""
        sql = f"""SELECT seller_id, kind, item, grp, severity, -neg_score, verdict, flags
                  FROM spool WHERE seller_id IS NOT NULL
                  ORDER BY seller_id, kind = 'listing', {RISK}"""
        flags: dict[str, list] = {}
        for seller_id, rows in groupby(self.conn.execute(sql), key=lambda row: row[0]):
            first = next(rows)
            case = pickle.loads(first[2]) if first[1] == "seller" else None
            head = [] if case else [first]
            listings = (
                pickle.loads(row[2]) if number < WORST_SHOWN else _brief(row, flags)
                for number, row in enumerate(row for part in (head, rows) for row in part)
            )
            yield seller_id, case, listings

    def unattributed(self, group: str, limit: int) -> dict:
        """The riskiest `limit` listing cases of `group` that name no seller, and a count by
        severity of the rest: what the pages show of them."""
        where = "grp = ? AND kind = 'listing' AND seller_id IS NULL"
        group_at = GROUPS.index(group)
        sql = f"SELECT item FROM spool WHERE {where} ORDER BY {RISK} LIMIT ?"
        cases = [pickle.loads(item) for (item,) in self.conn.execute(sql, [group_at, limit])]
        rest = f"""SELECT severity, COUNT(*) FROM (SELECT severity FROM spool WHERE {where}
                   ORDER BY {RISK} LIMIT -1 OFFSET ?) GROUP BY severity"""
        hidden = dict.fromkeys(SEVERITIES, 0)
        hidden.update(self.conn.execute(rest, [group_at, limit]).fetchall())
        return {"cases": cases, "hidden": sum(hidden.values()), "by_severity": hidden}

    def count_unattributed(self) -> int:
        sql = "SELECT COUNT(*) FROM spool WHERE kind = 'listing' AND seller_id IS NULL"
        return self.conn.execute(sql).fetchone()[0]


def _brief(row: tuple, flags: dict) -> dict:
    """What a seller's view reads of a listing beyond its worst few (`seller_view`), from the
    spool's columns: no item is decoded."""
    if row[7] not in flags:
        flags[row[7]] = json.loads(row[7])
    return {
        "group": GROUPS[row[3]],
        "severity": row[4],
        "score": row[5],
        "verdict": row[6],
        "flags": flags[row[7]],
    }


class SpooledGroup(list):
    """One group's items, read from the spool each time it is iterated (riskiest first).
    A list to the JSON encoder, which writes it item by item; it holds none of them."""

    def __init__(self, spool: Spool, group: str, length: int):
        super().__init__()
        self._spool, self._group, self._length = spool, group, length

    def __iter__(self) -> Iterator[dict]:
        return self._spool.group(self._group)

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


class SpooledDigest(Digest):
    """A digest whose items live in its spool; renderers read it as any `Digest`."""

    spool: Spool

    def shown_unattributed(self, group: str, limit: int) -> dict:
        return self.spool.unattributed(group, limit)


def stream_digest(store, inputs: DigestInputs) -> SpooledDigest:
    """The digest of every flagged subject whose case is shown, in one streamed pass (the
    `rows`, `cases`, `shown` and `captures` of `inputs` are not read: the store joins them)."""
    from reports.digest.sellers import _network, _rank, seller_view

    spool = Spool()
    counts = counts_of(spool.write(_items(store, inputs.reference)))
    views = [
        seller_view(seller_id, case, listings, inputs.sellers.get(seller_id))
        for seller_id, case, listings in spool.by_seller()
    ]
    views.sort(key=_rank)
    by_id = {view["seller_id"]: view for view in views}
    networks = [_network(n, by_id, inputs.sellers) for n in inputs.networks]
    networks.sort(key=lambda n: (SEVERITIES.index(n["severity"]), -n["score"], n["id"]))
    views_of = {"sellers": views, "networks": networks}
    counts["sellers"] = seller_counts(views_of, spool.count_unattributed())
    items = {group: SpooledGroup(spool, group, counts["groups"][group]) for group in GROUPS}
    digest = assemble(inputs, items, views_of, counts)
    spooled = SpooledDigest(**{name: getattr(digest, name) for name in digest.__dataclass_fields__})
    spooled.spool = spool
    return spooled


def _items(store, reference: str) -> Iterator[dict]:
    for row in store.digest_rows(reference, SHOWN_STATES):
        case = {"id": row["case_id"], "state": row["case_state"]}
        shown = row["shown_evidence"]
        capture = None
        if row["capture_id"] is not None:
            capture = {key: row[f"capture_{name}"] for key, name in CAPTURE_COLUMNS.items()}
        shown = json.loads(shown) if shown is not None else None
        yield item_fields(row, case, shown, capture)
