"""Triage: one case per judged subject (a listing or a seller), its state, and the append-only
log of every decision about it (who, when, why, and the evidence it was made on).

States and the rules between them live in `grayhound/triage.py`; this module only stores."""

from __future__ import annotations

import hashlib
import itertools
import json
import operator
from collections.abc import Iterable, Iterator

import sqlite_utils

from grayhound.store.digestrows import LISTING_COLUMNS, FlaggedSubjects
from grayhound.store.digests import FLAGGED, FLAGGED_COLUMNS, Record, columns_of, shared_rows

# A case opened, in the list's order, for each subject of one kind without one: the cases
# looked up in SQL, not one INSERT each from Python (0.31 s for a day's 92,688 subjects at a
# million listings, nearly all of them with a case already: 0.09 s this way).
OPEN_SOME = """
    INSERT OR IGNORE INTO cases (subject_kind, subject_id, state, opened_at, updated_at)
    SELECT :kind, j.value, 'open', :now, :now FROM json_each(:ids) j
    WHERE NOT EXISTS (SELECT 1 FROM cases c WHERE c.subject_kind = :kind AND c.subject_id = j.value)
    ORDER BY j.key
"""
# `grayhound review list`: every case in some states with its subject's flagged finding (none
# when no longer flagged), riskiest first, sorted by SQLite (which spills to disk), so the
# command holds one row at a time.
CASE_LIST_WITHIN = f"""
    SELECT c.id, c.state, c.subject_kind, c.subject_id, c.updated_at, f.id AS finding_id,
           f.verdict, f.score, f.brand, f.flags, f.subject, l.title, l.price, l.currency,
           l.canonical_url, COALESCE(l.seller_name, ls.name) AS listing_seller,
           s.name AS seller_name, s.profile_url
    FROM cases c
    LEFT JOIN findings f
      ON f.subject_kind = c.subject_kind AND f.subject_id = c.subject_id AND {FLAGGED}
    LEFT JOIN listings l ON c.subject_kind = 'listing' AND l.id = c.subject_id
    LEFT JOIN sellers ls ON ls.id = l.seller_id
    LEFT JOIN sellers s ON c.subject_kind = 'seller' AND s.id = c.subject_id
    WHERE c.state IN (SELECT value FROM json_each(:states)){{within}}
    ORDER BY COALESCE(f.score, 0) DESC, c.id
"""
# A part of that order (issue 19, round 9): the cases from the key (risk, case id) `:low_risk`,
# `:low_id` (included) to `:high_risk`, `:high_id` (excluded), compared as the ORDER BY does.
CASE_LIST_FROM = """
      AND (COALESCE(f.score, 0) < :low_risk
           OR (COALESCE(f.score, 0) = :low_risk AND c.id >= :low_id))"""
CASE_LIST_UPTO = """
      AND (COALESCE(f.score, 0) > :high_risk
           OR (COALESCE(f.score, 0) = :high_risk AND c.id < :high_id))"""
# The order keys of the listed cases among the given case ids (a sample, where to cut the list
# into parts): one lookup per id.
CASE_LIST_KEYS = f"""
    SELECT COALESCE(f.score, 0), c.id
    FROM json_each(:ids) j
    CROSS JOIN cases c ON c.id = j.value
    LEFT JOIN findings f
      ON f.subject_kind = c.subject_kind AND f.subject_id = c.subject_id AND {FLAGGED}
    WHERE c.state IN (SELECT value FROM json_each(:states))
"""
CASE_LIST = CASE_LIST_WITHIN.replace("{within}", "")
# What `review list` shows of a case, in the order of `Reviews.case_list_values`' values.
CASE_KEYS = (
    "case_id", "state", "kind", "subject_id", "verdict", "risk", "brand", "flags", "subject",
    "seller", "price", "currency", "url", "updated_at",
)  # fmt: skip
# One seller's flagged listings (as `Store.flagged_listing_findings` gives them) with their case:
# by the listings' seller index, so a decision about a seller reads that seller's rows only.
SELLER_FLAGGED_LISTINGS = f"""
    SELECT {FLAGGED_COLUMNS}, {LISTING_COLUMNS}, c.id AS case_id, c.state AS case_state
    FROM listings l
    CROSS JOIN findings f ON f.subject_kind = 'listing' AND f.subject_id = l.id AND {FLAGGED}
    LEFT JOIN sellers s ON s.id = l.seller_id
    LEFT JOIN cases c ON c.subject_kind = 'listing' AND c.subject_id = l.id
    WHERE l.seller_id = ?
    ORDER BY c.id
"""


def create_schema(db: sqlite_utils.Database) -> None:
    db["cases"].create(
        {
            "id": int,
            "subject_kind": str,  # listing | seller
            "subject_id": int,
            "state": str,  # open | confirmed | dismissed | takedown-requested | resolved
            "opened_at": str,
            "updated_at": str,
        },
        pk="id",
        not_null={"subject_kind", "subject_id", "state", "opened_at", "updated_at"},
    )
    db["cases"].create_index(["subject_kind", "subject_id"], unique=True)
    db["cases"].create_index(["state"])
    db["review_log"].create(
        {
            "id": int,
            "case_id": int,
            "at": str,
            "by": str,
            "previous_state": str,
            "state": str,
            "note": str,
            "evidence": str,  # JSON: the evidence snapshot the decision was made on
            "evidence_fingerprint": str,
        },
        pk="id",
        not_null={"case_id", "at", "by", "state"},
        foreign_keys=[("case_id", "cases", "id")],
    )
    db["review_log"].create_index(["case_id"])


def evidence_fingerprint(evidence: dict) -> str:
    """A short stable hash of an evidence snapshot, quoted in the log and the digest."""
    blob = json.dumps(evidence, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


class Reviews:
    """Mixin of Store: cases and their review log."""

    db: sqlite_utils.Database

    def ensure_cases(self, subjects: Iterable[tuple[str, int]], now: str) -> dict:
        """Open a case for every (subject_kind, subject_id) that has none; return
        {(subject_kind, subject_id): case row} for all of them."""
        wanted = {key: key for key in subjects}  # each key once, and one tuple object per key
        self.open_cases(wanted, now)
        cursor = self.db.execute("SELECT * FROM cases ORDER BY id")
        columns = columns_of(column[0] for column in cursor.description)
        kind_at, subject_at = columns["subject_kind"], columns["subject_id"]
        shared: dict = {}  # tens of thousands of cases share a kind, a state and a few dates
        cases = {}
        for values in cursor:
            key = wanted.get((values[kind_at], values[subject_at]))
            if key is not None:
                values = tuple(shared.setdefault(v, v) if isinstance(v, str) else v for v in values)
                cases[key] = Record(columns, values)
        return cases

    def open_cases(self, subjects: Iterable[tuple[str, int]], now: str) -> None:
        """Open a case, in the given order, for every (subject_kind, subject_id) without one.
        Every flagged subject (`Store.flagged_subjects()`) is opened in SQL, in its order."""
        if isinstance(subjects, FlaggedSubjects):
            subjects.open_cases(now)  # one INSERT … SELECT per kind, only where none is open
            return
        with self.db.atomic():
            for kind, run in itertools.groupby(subjects, key=operator.itemgetter(0)):
                ids = json.dumps([subject_id for _, subject_id in run])
                self.db.execute(OPEN_SOME, {"kind": kind, "ids": ids, "now": now})

    def case_list_values(
        self, states: Iterable[str], low: tuple | None = None, high: tuple | None = None
    ) -> Iterator[tuple]:
        """`grayhound review list`'s rows of the cases in `states`, riskiest first (then by
        case id), one at a time, their values in `CASE_KEYS` order: the subject's verdict,
        risk, brand, flags (a tuple), title or name, seller, price and URL as its flagged
        finding gives them (None once it is no longer flagged). `low` and `high`: only the
        rows from the order key (risk, case id) `low` (included) to `high` (excluded), as
        `case_list_keys` gives them; None, an open end."""
        params = {"states": json.dumps(list(states))}
        within = ""
        if low is not None:
            within += CASE_LIST_FROM
            params |= {"low_risk": low[0], "low_id": low[1]}
        if high is not None:
            within += CASE_LIST_UPTO
            params |= {"high_risk": high[0], "high_id": high[1]}
        sql = CASE_LIST_WITHIN.replace("{within}", within) if within else CASE_LIST
        cursor = self.db.execute(sql, params)
        flag_sets: dict[str, tuple] = {}  # a flags JSON text -> its items: few distinct ones
        for values in cursor:
            yield _listed(values, flag_sets)

    def case_list_keys(self, states: Iterable[str], case_ids: Iterable[int]) -> list[tuple]:
        """The order keys (risk, case id) `case_list_values` sorts by, of those of `case_ids` whose
        case is in `states`, riskiest first."""
        params = {"states": json.dumps(list(states)), "ids": json.dumps(list(case_ids))}
        keys = self.db.execute(CASE_LIST_KEYS, params).fetchall()
        return sorted(keys, key=lambda key: (-key[0], key[1]))

    def case_id_span(self) -> tuple[int, int] | None:
        """The first and last case ids (None without a case)."""
        sql = "SELECT (SELECT MIN(id) FROM cases), (SELECT MAX(id) FROM cases)"
        first, last = self.db.execute(sql).fetchone()
        return None if first is None else (first, last)

    def get_case(self, case_id: int) -> dict | None:
        rows = list(self.db["cases"].rows_where("id = ?", [case_id]))
        return rows[0] if rows else None

    def cases(self, state: str | None = None, kind: str | None = None) -> list[dict]:
        """The cases (in `state`, of subjects of `kind` when given), by id."""
        wheres, params = [], []
        for column, value in (("state", state), ("subject_kind", kind)):
            if value is not None:
                wheres.append(f"{column} = ?")
                params.append(value)
        return list(
            self.db["cases"].rows_where(" AND ".join(wheres) or None, params, order_by="id")
        )

    def seller_flagged_listings(self, seller_id: int) -> list[Record]:
        """One seller's flagged listing rows with their `case_id` and `case_state` (None
        without a case), by case id."""
        return list(shared_rows(self.db.execute(SELLER_FLAGGED_LISTINGS, [seller_id])))

    def set_case_state(
        self, case_id: int, state: str, *, by: str, note: str, evidence: dict, at: str
    ) -> dict:
        """Change a case's state and append the decision to the review log; return the entry."""
        case = self.get_case(case_id)
        entry = {
            "case_id": case_id,
            "at": at,
            "by": by,
            "previous_state": case["state"] if case else None,
            "state": state,
            "note": note,
            "evidence": json.dumps(evidence, sort_keys=True, default=str),
            "evidence_fingerprint": evidence_fingerprint(evidence),
        }
        with self.db.atomic():
            self.db["cases"].update(case_id, {"state": state, "updated_at": at})
            entry["id"] = self.db["review_log"].insert(entry).last_pk
        return entry

    def review_log(self, case_id: int | None = None) -> list[dict]:
        where, params = (None, []) if case_id is None else ("case_id = ?", [case_id])
        rows = self.db["review_log"].rows_where(where, params, order_by="id")
        return [{**row, "evidence": json.loads(row["evidence"] or "{}")} for row in rows]

    def last_decision(self, case_id: int) -> dict | None:
        log = self.review_log(case_id)
        return log[-1] if log else None

    def last_decisions(
        self, state: str, sellers: Iterable[int] | None = None
    ) -> list[tuple[dict, dict]]:
        """(case, its latest log entry) for every case in `state` that has a log, by case id;
        with `sellers`, only the cases of these sellers' listings (read by seller)."""
        if sellers is None:
            source, params = "cases c", {"state": state}
        else:
            source = """json_each(:sellers) w
                CROSS JOIN listings l ON l.seller_id = w.value
                CROSS JOIN cases c ON c.subject_kind = 'listing' AND c.subject_id = l.id"""
            params = {"state": state, "sellers": json.dumps(sorted(set(sellers)))}
        sql = f"""
            SELECT c.id AS c_id, c.subject_kind AS c_subject_kind, c.subject_id AS c_subject_id,
                   c.state AS c_state, c.opened_at AS c_opened_at, c.updated_at AS c_updated_at,
                   r.*
            FROM {source}
            JOIN review_log r
              ON r.id = (SELECT MAX(g.id) FROM review_log g WHERE g.case_id = c.id)
            WHERE c.state = :state
            ORDER BY c.id
        """
        out = []
        for row in self.db.query(sql, params):
            case = {key[2:]: row.pop(key) for key in list(row) if key.startswith("c_")}
            out.append((case, {**row, "evidence": json.loads(row["evidence"] or "{}")}))
        return out


def _listed(values: tuple, flag_sets: dict[str, tuple]) -> tuple:
    """A `CASE_LIST` row (by position, in its column order) as `review list` shows it: its
    values in `CASE_KEYS` order, the flags a tuple (shared by the rows with the same)."""
    (case_id, state, kind, subject_id, updated_at, finding_id, verdict, score, brand, flags,
     subject, title, price, currency, canonical_url, listing_seller, seller_name,
     profile_url) = values  # fmt: skip
    if finding_id is None:  # no longer flagged
        return (case_id, state, kind, subject_id, verdict, score, brand, (),
                subject, None, None, None, None, updated_at)  # fmt: skip
    text = flags or "[]"
    items = flag_sets.get(text)
    if items is None:
        if len(flag_sets) >= 4096:
            flag_sets.clear()
        items = flag_sets[text] = tuple(json.loads(text))
    if kind == "listing":
        return (case_id, state, kind, subject_id, verdict, score, brand, items,
                title or listing_seller or subject, listing_seller, price, currency,
                canonical_url, updated_at)  # fmt: skip
    return (case_id, state, kind, subject_id, verdict, score, brand, items,
            seller_name or subject, seller_name, None, None, profile_url, updated_at)  # fmt: skip
