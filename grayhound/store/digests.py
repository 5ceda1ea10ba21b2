"""What the digest reads and remembers: flagged findings with their subjects, the digests sent
(which cases, with which evidence), and the log of scheduled runs."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from contextlib import nullcontext

import sqlite_utils

# An authorized seller with nothing else found is no case; an unauthorized one is (informational).
FLAGGED = (
    "f.is_current = 1 AND (f.verdict NOT IN ('clean', 'authorized') OR f.flags NOT IN ('[]', ''))"
)
# The order SQLite's (is_current, verdict) index has always returned them in; first-time cases
# are numbered in this order, so it is now explicit.
FLAGGED_ORDER = "f.verdict, f.id"
# What the digest, triage and `review list` read of a finding; no more, since a digest of
# 100,000 listings holds tens of thousands of these rows at once.
FLAGGED_COLUMNS = """
    f.id, f.subject_kind, f.subject_id, f.subject, f.brand, f.score, f.verdict, f.flags,
    f.reasons, f.model, f.msrp, f.msrp_currency, f.price_ratio, f.fingerprint
"""
# Text that repeats across rows (a brand, a seller, a currency): one shared string, not one
# per row.
SHARED_TEXT = (
    "subject_kind", "brand", "verdict", "model", "msrp_currency", "currency", "source",
    "seller_name", "seller_domain", "claimed_domain",
)  # fmt: skip


class Record(Mapping):
    """A read-only row with a dict's reading interface (`row["title"]`, `row.get`, `{**row}`,
    `dict(row)`) over one tuple; the rows of a query share one column index. Tens of thousands
    of them take a third of the memory of as many dicts."""

    __slots__ = ("_columns", "_values")

    def __init__(self, columns: dict[str, int], values: tuple):
        self._columns = columns
        self._values = values

    @classmethod
    def of(cls, columns: dict[str, int], fields: Mapping) -> Record:
        """The record of `fields`, whose keys are exactly those of `columns`."""
        return cls(columns, tuple(map(fields.__getitem__, columns)))

    def as_dict(self) -> dict:
        """A plain dict copy, made at C speed: for code that reads every field."""
        return dict(zip(self._columns, self._values, strict=True))

    def __getitem__(self, key: str):
        return self._values[self._columns[key]]

    def get(self, key: str, default=None):
        index = self._columns.get(key)
        return default if index is None else self._values[index]

    def __contains__(self, key) -> bool:
        return key in self._columns

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns)

    def __len__(self) -> int:
        return len(self._columns)

    def __repr__(self) -> str:
        return f"Record({dict(self)!r})"


class JsonValues(Mapping):
    """A read-only {key: JSON text} read as {key: decoded value}, decoded on each read."""

    __slots__ = ("_texts",)

    def __init__(self, texts: dict):
        self._texts = texts

    def __getitem__(self, key):
        return json.loads(self._texts[key])

    def __contains__(self, key) -> bool:
        return key in self._texts

    def __iter__(self) -> Iterator:
        return iter(self._texts)

    def __len__(self) -> int:
        return len(self._texts)


def columns_of(names) -> dict[str, int]:
    """The shared column index of records with these field names, in this order."""
    return {name: index for index, name in enumerate(names)}


def create_schema(db: sqlite_utils.Database) -> None:
    db["digests"].create(
        {
            "id": int,
            "created_at": str,
            "since": str,  # the reference point the digest compared against
            "counts": str,  # JSON: per group and per flag
            "crawl_run_id": int,
        },
        pk="id",
        not_null={"created_at"},
    )
    db["digest_items"].create(
        {
            "digest_id": int,
            "case_id": int,
            "finding_id": int,
            "fingerprint": str,  # the finding's judgement fingerprint
            "grouping": str,  # new | changed | open
            "evidence": str,  # JSON snapshot: what "changed" compares against next time
        },
        pk=("digest_id", "case_id"),
        foreign_keys=[("digest_id", "digests", "id"), ("case_id", "cases", "id")],
    )
    db["digest_items"].create_index(["case_id"])
    db["schedule_runs"].create(
        {
            "id": int,
            "scheduled_for": str,
            "started_at": str,
            "finished_at": str,
            "exit_status": int,
            "pid": int,
        },
        pk="id",
        not_null={"started_at"},
    )


class Digests:
    """Mixin of Store: reads for the digest, the digests sent, and scheduled runs."""

    db: sqlite_utils.Database

    # -- what the digest shows --------------------------------------------------------------
    def flagged_listing_findings(self, listing_id: int | None = None) -> list[Record]:
        """Current listing findings that flag something, with the listing's latest state
        (one listing's with `listing_id`)."""
        sql = f"""
            SELECT {FLAGGED_COLUMNS}, l.canonical_url AS url, l.title, l.price, l.currency,
                   l.source, l.first_seen, l.last_seen, l.seller_id,
                   COALESCE(l.seller_name, s.name) AS seller_name,
                   COALESCE(l.seller_domain, s.domain, s.claimed_domain) AS seller_domain
            FROM findings f
            JOIN listings l ON l.id = f.subject_id
            LEFT JOIN sellers s ON s.id = l.seller_id
            WHERE f.subject_kind = 'listing' AND {FLAGGED} {_one_subject(listing_id)}
            ORDER BY {FLAGGED_ORDER}
        """
        return _shared_rows(self.db.execute(sql, _subject_params(listing_id)))

    def flagged_seller_findings(self, seller_id: int | None = None) -> list[Record]:
        """Current seller findings that flag something, with the seller's latest state
        (one seller's with `seller_id`)."""
        sql = f"""
            SELECT {FLAGGED_COLUMNS}, s.profile_url AS url, s.name AS seller_name, s.source,
                   s.id AS seller_id,
                   COALESCE(s.domain, s.claimed_domain) AS seller_domain, s.claimed_domain,
                   s.first_seen, s.last_seen,
                   (SELECT COUNT(*) FROM listings l WHERE l.seller_id = s.id) AS listing_count
            FROM findings f
            JOIN sellers s ON s.id = f.subject_id
            WHERE f.subject_kind = 'seller' AND {FLAGGED} {_one_subject(seller_id)}
            ORDER BY {FLAGGED_ORDER}
        """
        return _shared_rows(self.db.execute(sql, _subject_params(seller_id)))

    # -- digests sent -------------------------------------------------------------------------
    def record_digest(
        self,
        created_at: str,
        since: str,
        counts: dict,
        items: Iterable[tuple],
        run_id: int | None,
        *,
        newest: bool = True,
        in_book: bool = False,
    ) -> int:
        """Remember a digest and what it showed of the cases in `items` ((case_id,
        finding_id, fingerprint, grouping, evidence JSON)): those whose finding or evidence
        differ from what an earlier digest showed (`remember_shown`; not the `newest`: every
        case it showed, the newer digest's record kept). With `in_book` (a digest decided on
        the store's kept book) the book's rows of those cases are set as its next fill would
        make them (`digestbook.recording_in_book`)."""
        from grayhound.store.digestbook import recording_in_book

        with self.db.atomic():
            digest_id = (
                self.db["digests"]
                .insert(
                    {
                        "created_at": created_at,
                        "since": since,
                        "counts": json.dumps(counts, sort_keys=True),
                        "crawl_run_id": run_id,
                    }
                )
                .last_pk
            )
            with recording_in_book(self.db, digest_id) if in_book else nullcontext():
                self.remember_shown(digest_id, items, newest=newest)
        return digest_id

    def previous_digest(self, before: str) -> dict | None:
        rows = list(
            self.db["digests"].rows_where(
                "created_at <= ?", [before], order_by="created_at desc, id desc", limit=1
            )
        )
        return rows[0] if rows else None

    def digests(self) -> list[dict]:
        return list(self.db["digests"].rows_where(order_by="id"))

    def shown_evidence(self, reference: str) -> Mapping[int, dict]:
        """Per case, the evidence shown in the latest digest created at or before `reference`
        (kept as its JSON text until read: the digest reads each case's once)."""
        sql = """
            SELECT i.case_id, i.evidence FROM digest_items i
            JOIN digests d ON d.id = i.digest_id
            WHERE d.created_at <= ?
            ORDER BY d.created_at DESC, d.id DESC
        """
        shown: dict[int, str] = {}
        for case_id, evidence in self.db.execute(sql, [reference]):
            shown.setdefault(case_id, evidence)  # newest first
        return JsonValues(shown)

    # -- scheduled runs -----------------------------------------------------------------------
    def start_schedule_run(self, scheduled_for: str, started_at: str, pid: int) -> int:
        with self.db.atomic():
            return (
                self.db["schedule_runs"]
                .insert({"scheduled_for": scheduled_for, "started_at": started_at, "pid": pid})
                .last_pk
            )

    def finish_schedule_run(self, schedule_run_id: int, finished_at: str, exit_status: int) -> None:
        with self.db.atomic():
            self.db["schedule_runs"].update(
                schedule_run_id, {"finished_at": finished_at, "exit_status": exit_status}
            )

    def schedule_runs(self) -> list[dict]:
        return list(self.db["schedule_runs"].rows_where(order_by="id"))


def _one_subject(subject_id: int | None) -> str:
    return "" if subject_id is None else "AND f.subject_id = ?"


def _subject_params(subject_id: int | None) -> list:
    return [] if subject_id is None else [subject_id]


def _shared_rows(cursor: sqlite3.Cursor) -> list[Record]:
    """Flagged rows as records, with `flags` and `reasons` decoded into tuples and repeated
    text shared between rows (thousands of listings carry the same brand, seller, flags and
    reasons)."""
    return list(shared_rows(cursor))


def shared_rows(cursor: sqlite3.Cursor, keep: int | None = None) -> Iterator[Record]:
    """`_shared_rows` one row at a time; with `keep`, the shared text is forgotten every `keep`
    rows, so a pass over every flagged row holds no more than that many rows' worth."""
    columns = columns_of(column[0] for column in cursor.description)
    texts = [columns[name] for name in SHARED_TEXT if name in columns]
    lists = [columns["flags"], columns["reasons"]]
    shared: dict = {}
    decoded: dict[str, tuple] = {}  # JSON text -> its tuple
    for number, values in enumerate(cursor, 1):
        values = list(values)
        for index in texts:
            values[index] = _shared(values[index], shared)
        for index in lists:
            text = values[index] or "[]"
            if text not in decoded:
                decoded[text] = tuple(_shared(value, shared) for value in json.loads(text))
            values[index] = decoded[text]
        yield Record(columns, tuple(values))
        if keep and number % keep == 0:
            shared.clear()
            decoded.clear()


def _shared(value, shared: dict):
    """One object for equal text: `value` itself the first time, that same object after."""
    return shared.setdefault(value, value) if isinstance(value, str) else value
