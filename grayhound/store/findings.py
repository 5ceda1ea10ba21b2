"""Findings: what the detectors concluded about each listing, seller and domain, with history.

Each `grayhound detect` compares a subject's new judgement with its current one: an identical
judgement changes nothing (detect is idempotent); a different one closes the current row
(`is_current = 0`) and appends a new one, so the history of findings is kept."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext

import sqlite_utils


def create_schema(db: sqlite_utils.Database) -> None:
    db["findings"].create(
        {
            "id": int,
            "crawl_run_id": int,  # the latest crawl run whose data was judged
            "detected_at": str,
            "subject_kind": str,  # listing | seller
            "subject_id": int,  # listings.id or sellers.id
            "subject": str,  # what was judged, for people: title or seller name
            "brand": str,
            "score": float,
            "verdict": str,
            "flags": str,  # JSON list
            "reasons": str,  # JSON list
            "model": str,
            "msrp": float,
            "msrp_currency": str,
            "price_ratio": float,
            "is_accessory": int,
            "condition": str,
            "fingerprint": str,
            "is_current": int,
        },
        pk="id",
        not_null={"detected_at", "subject_kind", "subject_id", "verdict", "fingerprint"},
        foreign_keys=[("crawl_run_id", "crawl_runs", "id")],
    )
    db["findings"].create_index(["subject_kind", "subject_id", "is_current"])
    db["findings"].create_index(["is_current", "verdict"])


CURRENT_FINDINGS_SQL = (
    "SELECT id, subject_id, fingerprint FROM findings WHERE subject_kind = ?"
    " AND subject_id IN ({marks}) AND is_current = 1"
)
RECORD_CHUNK = 500  # subjects per read of their current findings
FINDING_COLUMNS = (
    "crawl_run_id", "detected_at", "subject_kind", "subject_id", "subject", "brand", "score",
    "verdict", "flags", "reasons", "model", "msrp", "msrp_currency", "price_ratio",
    "is_accessory", "condition", "fingerprint", "is_current", "model_reason", "attributes",
    "kind",
)  # fmt: skip
# `OR FAIL`: a `NOT NULL` column left empty fails the insert as before (checked before the row
# is written), but no longer makes it a statement that may abort, which (with its triggers'
# writes) kept a statement journal of every page it wrote (`journal_free`). The triggers'
# statements take the same policy (their queue inserts were `OR FAIL` already; the flag
# counts' upsert keeps its `DO UPDATE`): a trigger on `findings` cannot rely on `OR IGNORE`
# or `OR REPLACE` (`tests/grayhound/test_finding_triggers.py` allows neither).
INSERT_FINDING_SQL = (
    f"INSERT OR FAIL INTO findings ({', '.join(FINDING_COLUMNS)})"
    f" VALUES ({', '.join('?' for _ in FINDING_COLUMNS)})"
)
JUDGEMENT_FIELDS = (
    "brand",
    "score",
    "verdict",
    "flags",
    "reasons",
    "model",
    "msrp",
    "msrp_currency",
    "price_ratio",
    "is_accessory",
    "condition",
    "model_reason",
    "attributes",
    "kind",
)


def fingerprint(row: dict) -> str:
    """A stable hash of a judgement, so an unchanged one is recognised."""
    payload = {k: row.get(k) for k in JUDGEMENT_FIELDS}
    if isinstance(payload.get("score"), float):
        payload["score"] = round(payload["score"], 4)
    blob = _FINGERPRINT_JSON.encode(payload)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


# json.dumps(payload, sort_keys=True, default=str), without making an encoder per call
_FINGERPRINT_JSON = json.JSONEncoder(sort_keys=True, default=str)
_LIST_JSON = json.JSONEncoder()  # json.dumps(value)
_SORTED_JSON = json.JSONEncoder(sort_keys=True)  # json.dumps(value, sort_keys=True)


def encoded_finding(row: dict) -> dict:
    """A judgement as the store keeps it (a copy): its flags and reasons as JSON lists, its
    attributes as a JSON object, and its `fingerprint`."""
    row = dict(row)
    row["flags"] = _flags_json(tuple(row.get("flags") or ()))
    row["reasons"] = _LIST_JSON.encode(list(row.get("reasons") or ()))
    if isinstance(row.get("attributes"), dict):
        row["attributes"] = _SORTED_JSON.encode(row["attributes"])
    row["fingerprint"] = fingerprint(row)
    return row


@functools.lru_cache(maxsize=256)
def _flags_json(flags: tuple[str, ...]) -> str:
    """A finding's flags as stored (few distinct lists: each encoded once)."""
    return _LIST_JSON.encode(list(flags))


def add_model_reason(db: sqlite_utils.Database) -> None:
    """Why a listing is (or is not) a catalog model, the variant attributes its title names
    (JSON) and what kind of goods it is (device, accessory, part, packaging, dummy, service)."""
    columns = db["findings"].columns_dict
    for name in ("model_reason", "attributes", "kind"):
        if name not in columns:
            db["findings"].add_column(name, str)


def add_ended(db: sqlite_utils.Database) -> None:
    """Migration 0010_issue19_ended_findings: a finding that ended without a successor (its
    listing gone from its marketplace) says when and why; the row itself stays as history."""
    columns = db["findings"].columns_dict
    for name in ("ended_at", "ended_why"):
        if name not in columns:
            db["findings"].add_column(name, str)


class Findings:
    """Mixin of Store: findings with history."""

    db: sqlite_utils.Database

    def record_findings(self, rows: Iterable[dict], run_id: int | None, detected_at: str) -> dict:
        """Store judgements; return counts {"new": n, "changed": n, "unchanged": n}."""
        with self.db.atomic():
            counts, _ = self.record_judgements(rows, run_id, detected_at)
        return counts

    def record_judgements(
        self,
        rows: Iterable[dict],
        run_id: int | None,
        detected_at: str,
        *,
        encoded: bool = False,
    ) -> tuple[dict, set[tuple[str, int]]]:
        """Store judgements (inside the caller's transaction); return the counts and the
        (subject_kind, subject_id) of every subject whose current finding is new or changed.
        Set-based: the current fingerprints read a few hundred subjects per statement, the
        closed and new rows written in one `executemany` each (in the rows' order). With
        `encoded`, the rows are already as `encoded_finding` makes them."""
        counts = {"new": 0, "changed": 0, "unchanged": 0}
        moved: set[tuple[str, int]] = set()
        batch: list[dict] = []
        for row in rows:
            batch.append(row if encoded else encoded_finding(row))
            if len(batch) >= RECORD_CHUNK:
                self._record_batch(batch, run_id, detected_at, counts, moved)
                batch = []
        self._record_batch(batch, run_id, detected_at, counts, moved)
        return counts, moved

    def _record_batch(self, batch, run_id, detected_at, counts, moved) -> None:
        """Record rows of distinct subjects (a subject repeated is recorded in order, one
        statement at a time)."""
        keys = [(row["subject_kind"], row["subject_id"]) for row in batch]
        if len(set(keys)) != len(keys):
            for row in batch:
                self._record_batch([row], run_id, detected_at, counts, moved)
            return
        current = self._current_fingerprints(keys)
        closed, added = [], []
        for key, row in zip(keys, batch, strict=True):
            previous = current.get(key)
            if previous and previous[1] == row["fingerprint"]:
                counts["unchanged"] += 1
                continue
            if previous:
                closed.append((previous[0],))
                counts["changed"] += 1
            else:
                counts["new"] += 1
            moved.add(key)
            values = {**row, "crawl_run_id": run_id, "detected_at": detected_at, "is_current": 1}
            added.append([values.get(column) for column in FINDING_COLUMNS])
        # the successors first: a close that finds its successor written is not queued again
        # for serve and the digest (`changes.SUPERSEDED`), the successor's insert queued it
        self.db.conn.executemany(INSERT_FINDING_SQL, added)
        self.db.conn.executemany("UPDATE findings SET is_current = 0 WHERE id = ?", closed)

    def _current_fingerprints(self, keys: list[tuple[str, int]]) -> dict:
        """{(subject_kind, subject_id): (finding id, fingerprint)} of the current findings."""
        out = {}
        for kind in {kind for kind, _ in keys}:
            ids = [subject_id for k, subject_id in keys if k == kind]
            sql = CURRENT_FINDINGS_SQL.format(marks=", ".join("?" for _ in ids))
            for finding_id, subject_id, fingerprint_ in self.db.execute(sql, [kind, *ids]):
                out[kind, subject_id] = (finding_id, fingerprint_)
        return out

    def end_findings(self, subject_kind: str, why: dict[int, str], ended_at: str) -> set[int]:
        """End the current findings of these subjects ({id: why}) without a new one: no
        longer current, kept as history with when and why; return the ids that had one."""
        keys = [(subject_kind, subject_id) for subject_id in why]
        current = {}
        for start in range(0, len(keys), RECORD_CHUNK):
            current.update(self._current_fingerprints(keys[start : start + RECORD_CHUNK]))
        rows = {subject_id: finding_id for (_, subject_id), (finding_id, _) in current.items()}
        ended = {subject_id for _, subject_id in current}
        # committed now when the caller holds no transaction; in the caller's, no savepoint
        # (a savepoint journals every page written under it): on an error the closes made are
        # not undone here, and the caller must roll back (the judge pass's chunk does)
        with nullcontext() if self.db.conn.in_transaction else self.db.atomic():
            # by the row's id: an UPDATE that finds its rows through an index it changes
            # (`is_current`) collects them first, a few times the cost of a primary-key one
            self.db.conn.executemany(
                "UPDATE findings SET is_current = 0, ended_at = ?, ended_why = ? WHERE id = ?",
                [(ended_at, why[subject_id], rows[subject_id]) for subject_id in ended],
            )
        return ended

    @contextmanager
    def journal_free(self, run_id: int | None) -> Iterator[None]:
        """Around the transactions of a pass that records judgements: their finding inserts
        keep no statement journal. A statement that writes more than one row (a finding's
        insert fires its triggers) and may abort copies every page it writes first, and past
        64 KiB SQLite spills that copy to a temporary file: at a million listings a daily
        detection wrote 545,000 pages to such files (issue 19, round 39). The insert is `OR
        FAIL`; its one foreign key, to the crawl run judged, is checked here once, and
        `PRAGMA foreign_keys` is off until the pass ends (an immediate foreign key makes such
        a statement one that may abort). Nothing else the judge pass writes has a foreign
        key, nor is any row it writes another's parent (`tests/grayhound/test_journal_free.py`
        holds both). Begun inside a transaction, where the pragma does nothing, nothing changes."""
        if self.db.conn.in_transaction:
            yield
            return
        if (
            run_id is not None
            and not self.db.execute("SELECT 1 FROM crawl_runs WHERE id = ?", [run_id]).fetchone()
        ):
            raise ValueError(f"crawl run {run_id} is not in the store: nothing to judge it by")
        enforced = self.db.execute("PRAGMA foreign_keys").fetchone()[0]
        failed = False
        try:
            self.db.execute("PRAGMA foreign_keys = OFF")
            yield
        except BaseException:
            failed = True
            raise
        finally:
            # a transaction still open is the pass's own (it began outside any): undone, or
            # the pragma that enforces the keys again would do nothing
            left_open = self.db.conn.in_transaction
            if left_open:
                self.db.conn.rollback()
            if enforced:
                self.db.execute("PRAGMA foreign_keys = ON")
            if left_open and not failed:
                raise RuntimeError("the judge pass left a transaction open: rolled back")

    def judged_totals(self) -> dict:
        """How many listings and sellers there are, how many listings are flagged and how
        many sellers impersonating or suspicious, by their current findings.

        The two listing counts are kept in `detection_marks`, not counted again: a count of
        a million rows reads a whole index, ~0.2 s when it is in memory and several seconds
        when it is not (this is most of a "nothing changed" detect at 1M). `total:listings`
        is "count upto": the listings up to id `upto`, so only those added since are counted
        (listings are never deleted, and their ids only grow); `total:flagged_listings` moves
        with every write of `listing_sales` (`DetectState.apply_staged_sales`). A detection
        that judges everything again forgets both (`queue_everything`): counted anew."""
        one = lambda sql: self.db.execute(sql).fetchone()[0]  # noqa: E731
        return {
            "listings": self._listings_total(),
            "flagged_listings": self._flagged_total(),
            "sellers": one("SELECT COUNT(*) FROM sellers WHERE merged_into IS NULL"),
            # each seller's current finding by its index (not every finding of those verdicts)
            "risky_sellers": one(
                "SELECT COUNT(*) FROM sellers s CROSS JOIN findings f"
                " ON f.subject_kind = 'seller' AND f.subject_id = s.id AND f.is_current = 1"
                " WHERE f.verdict IN ('impersonation', 'suspicious')"
            ),
        }

    def _listings_total(self) -> int:
        """Read, then written in a transaction of its own only when it moved: a crawl that
        commits meanwhile adds ids above the newest counted, so the mark stays true."""
        kept = _parsed(self.detection_marks().get("total:listings"), 2)
        if kept is None:  # the smallest index counted, not the table; both in one statement
            count, upto = self.db.execute(
                "SELECT (SELECT COUNT(*) FROM listings),"
                " (SELECT COALESCE(MAX(id), 0) FROM listings)"
            ).fetchone()
        else:
            count, upto = kept
            added, newest = self.db.execute(
                "SELECT COUNT(*), MAX(id) FROM listings WHERE id > ?", [upto]
            ).fetchone()
            if not added:
                return count
            count, upto = count + added, newest
        with self.db.atomic():
            self.set_detection_marks({"total:listings": f"{count} {upto}"})
        return count

    def _flagged_total(self) -> int:
        kept = _parsed(self.detection_marks().get("total:flagged_listings"), 1)
        if kept is not None:
            return kept[0]
        # counted in the statement that keeps it, under the write lock: no detection moves it
        # meanwhile. A listing's flags are among FLAGS, one bit each in what its current
        # finding adds to its seller (`listing_sales`): a narrow index, not every finding's row
        with self.db.atomic():
            self.db.execute(
                "INSERT OR REPLACE INTO detection_marks (name, value) SELECT"
                " 'total:flagged_listings', COUNT(*) FROM listing_sales WHERE flags != 0"
            )
            return int(self.detection_marks()["total:flagged_listings"])

    def current_findings(self, subject_kind: str | None = None) -> Iterator[dict]:
        where, params = "is_current = 1", []
        if subject_kind:
            where += " AND subject_kind = ?"
            params.append(subject_kind)
        for row in self.db["findings"].rows_where(where, params, order_by="id"):
            yield _decoded(row)

    def finding_history(self, subject_kind: str, subject_id: int) -> list[dict]:
        rows = self.db["findings"].rows_where(
            "subject_kind = ? AND subject_id = ?", [subject_kind, subject_id], order_by="id"
        )
        return [_decoded(r) for r in rows]


def _parsed(value: str | None, parts: int) -> tuple[int, ...] | None:
    """A kept total's numbers, or None when there is none or it does not read (counted anew)."""
    try:
        numbers = tuple(int(part) for part in (value or "").split())
    except ValueError:
        return None
    return numbers if len(numbers) == parts else None


def _decoded(row: dict) -> dict:
    row = dict(row)
    for key in ("flags", "reasons", "attributes"):
        if isinstance(row.get(key), str):
            row[key] = json.loads(row[key])
    return row
