"""Triage: the states a case moves through, who moved it and on what evidence, and when a
dismissed case comes back by itself because its evidence changed.

A case is one judged subject (a listing or a seller); its id is what the digest and
`grayhound review list` show and what `grayhound review set` takes."""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from grayhound.errors import UsageError
from grayhound.store import Store

STATES = ("open", "confirmed", "dismissed", "takedown-requested", "resolved")
SHOWN_STATES = ("open", "confirmed", "takedown-requested")  # in the digest until decided
MAX_ID = 2**63 - 1  # SQLite's largest integer: a case id beyond it cannot exist
AUTOMATIC_REVIEWER = "grayhound"  # the name on the log entries grayhound writes itself

LISTING_EVIDENCE = ("price", "currency", "title", "seller_name", "seller_domain")
SELLER_EVIDENCE = ("seller_name", "seller_domain")
# Listing flags that only inform (a genuine product resold without authorization): a seller's
# dismissal covers its listings that carry nothing else.
INFORMATIONAL = frozenset({"unauthorized_seller"})
HELD_NOTE = "dismissed with its seller"  # how grayhound's cascaded dismissals begin
_SELLER_RANK = {"clean": 0, "authorized": 1, "unauthorized": 2, "suspicious": 3}
_SELLER_RANK["impersonation"] = 4


def evidence_of(row: dict) -> dict:
    """The facts a decision rests on: what must change for a dismissed case to return, and
    what the digest compares to say "changed"."""
    fields = LISTING_EVIDENCE if row["subject_kind"] == "listing" else SELLER_EVIDENCE
    snapshot = {name: row.get(name) for name in fields}
    snapshot["verdict"] = row.get("verdict")
    snapshot["flags"] = sorted(row.get("flags") or ())
    return snapshot


def evidence_changes(old: dict, new: dict, price_threshold: float = 0.0) -> list[str]:
    """Sentences naming what differs between two snapshots; empty when nothing that matters
    moved. A price counts as moved when it changed by more than `price_threshold` (a ratio)."""
    changes = []
    moved = price_change(old.get("price"), new.get("price"))
    if moved is not None and abs(moved) > price_threshold:
        changes.append(
            f"price {old['price']} → {new['price']} {new.get('currency') or ''}".rstrip()
            + f" ({moved:+.0%})"
        )
    for key, label in (("title", "title"), ("seller_name", "seller name")):
        if _text(old.get(key)) != _text(new.get(key)) and new.get(key):
            changes.append(f"{label} {old.get(key) or '(none)'!r} → {new[key]!r}")
    if _text(old.get("seller_domain")) != _text(new.get("seller_domain")) and new.get(
        "seller_domain"
    ):
        changes.append(f"domain {old.get('seller_domain') or '(none)'} → {new['seller_domain']}")
    return changes


def judgement_changes(old: dict, new: dict) -> list[str]:
    changes = []
    if old.get("verdict") != new.get("verdict"):
        changes.append(f"verdict {old.get('verdict')} → {new.get('verdict')}")
    added = sorted(set(new.get("flags") or ()) - set(old.get("flags") or ()))
    removed = sorted(set(old.get("flags") or ()) - set(new.get("flags") or ()))
    if added:
        changes.append("new flags: " + ", ".join(added))
    if removed:
        changes.append("flags cleared: " + ", ".join(removed))
    return changes


def price_change(old: str | None, new: str | None) -> float | None:
    """Relative change from old to new price, or None when either is missing."""
    try:
        before, after = Decimal(str(old)), Decimal(str(new))
    except (InvalidOperation, TypeError):
        return None
    if before <= 0:
        return None
    return float((after - before) / before)


def reopen_changed(
    store: Store,
    subjects: Mapping[tuple, Mapping],
    threshold: float,
    now: str,
    changed: list[tuple] | None = None,
) -> list:
    """Reopen every dismissed case whose evidence moved since it was dismissed; then let the
    listings of dismissed sellers follow them (`follow_sellers`).

    `subjects` maps (subject_kind, subject_id) to the flagged row with its current state; each
    gets a case if it has none. `changed`: the only flagged subjects whose evidence may have
    moved (the others were seen as they are), in the order their cases are to be opened.
    Returns the log entries written (by "grayhound")."""
    store.open_cases(subjects if changed is None else changed, now)
    wanted = None if changed is None else set(changed)
    entries = []
    for case, decision in store.last_decisions("dismissed"):
        key = (case["subject_kind"], case["subject_id"])
        if wanted is not None and key not in wanted:
            continue
        row = subjects.get(key)
        if row is None or _held(decision):
            continue  # a listing held by its seller's dismissal follows the seller
        current = evidence_of(row)
        changes = evidence_changes(decision["evidence"], current, threshold)
        if case["subject_kind"] == "seller":
            changes += seller_escalation(decision["evidence"], current)
        if not changes:
            continue
        note = "evidence changed since dismissal: " + "; ".join(changes)
        entries.append(
            store.set_case_state(
                case["id"], "open", by=AUTOMATIC_REVIEWER, note=note, evidence=current, at=now
            )
        )
    return entries + follow_sellers(store, subjects, now)


def seller_escalation(old: dict, new: dict) -> list[str]:
    """A seller's judgement got worse: a worse verdict, or a flag it did not carry."""
    changes = []
    if _SELLER_RANK.get(new.get("verdict"), 0) > _SELLER_RANK.get(old.get("verdict"), 0):
        changes.append(f"verdict {old.get('verdict')} → {new.get('verdict')}")
    added = sorted(set(new.get("flags") or ()) - set(old.get("flags") or ()))
    if added:
        changes.append("new flags: " + ", ".join(added))
    return changes


def follow_sellers(
    store: Store, subjects: Mapping[tuple, Mapping], now: str, sellers: list[int] | None = None
) -> list:
    """Dismissing a seller dismisses its informational listing cases (those whose only flag is
    `unauthorized_seller`) until the seller's evidence changes: open ones are dismissed, and
    held ones reopen once the seller's case reopens or the listing carries more.

    What is read is proportional to the dismissed sellers' listings and the dismissed cases,
    never to every flagged row: each dismissed seller's flagged listings are read by seller
    (`subjects` is asked only for the held cases' rows). `sellers`: only these sellers (a
    decision about one seller)."""
    dismissed = {
        c["subject_id"]: c
        for c in store.cases("dismissed", kind="seller")
        if sellers is None or c["subject_id"] in sellers
    }
    decisions = store.last_decisions("dismissed", sellers=sellers)
    held = [case for case, decision in decisions if _held(decision)]
    if not dismissed and not held:
        return []
    entries = []
    for case in held:
        row = subjects.get((case["subject_kind"], case["subject_id"]))
        if row is not None and row.get("seller_id") in dismissed and _informational(row):
            continue
        why = "its seller's case is open again" if row is not None else "no longer flagged"
        if row is not None and row.get("seller_id") in dismissed:
            why = "it now carries " + ", ".join(sorted(set(row["flags"]) - INFORMATIONAL))
        entries.append(
            store.set_case_state(
                case["id"],
                "open",
                by=AUTOMATIC_REVIEWER,
                note=f"reopened: {why}",
                evidence=evidence_of(row) if row is not None else {},
                at=now,
            )  # fmt: skip
        )
    wanted = [
        row
        for seller_id in dismissed
        for row in store.seller_flagged_listings(seller_id)
        if row["case_state"] == "open" and _informational(row)
    ]
    for row in sorted(wanted, key=lambda row: row["case_id"]):
        seller_case = dismissed[row["seller_id"]]
        note = f"{HELD_NOTE} (seller #{row['seller_id']}, case #{seller_case['id']}): informational"
        entries.append(
            store.set_case_state(
                row["case_id"],
                "dismissed",
                by=AUTOMATIC_REVIEWER,
                note=note,
                evidence=evidence_of(row),
                at=now,
            )  # fmt: skip
        )
    return entries


def _held(decision: dict) -> bool:
    return decision["by"] == AUTOMATIC_REVIEWER and (decision["note"] or "").startswith(HELD_NOTE)


def _informational(row: Mapping) -> bool:
    flags = set(row.get("flags") or ())
    return bool(flags) and flags <= INFORMATIONAL and row.get("verdict") == "clean"


def set_state(store: Store, case_ref: str, state: str, note: str, by: str | None, now: str):
    """`grayhound review set`: validate, snapshot the evidence, log the decision."""
    if state not in STATES:
        raise UsageError(f"unknown state {state!r} (expected one of {', '.join(STATES)})")
    case = store.get_case(parse_case_id(case_ref))
    if case is None:
        raise UsageError(f"no case {case_ref!r} (see `grayhound review list`)")
    evidence = subject_evidence(store, case)
    entry = store.set_case_state(
        case["id"], state, by=by or reviewer(), note=note, evidence=evidence, at=now
    )
    if case["subject_kind"] == "seller":  # its informational listings follow at once
        follow_sellers(store, store.flagged_subjects(), now, sellers=[case["subject_id"]])
    return entry


def subject_evidence(store: Store, case: dict) -> dict:
    if case["subject_kind"] == "listing":
        rows = store.flagged_listing_findings(case["subject_id"])
    else:
        rows = store.flagged_seller_findings(case["subject_id"])
    return evidence_of(rows[0]) if rows else {}  # no longer flagged: nothing to compare against


def flagged_rows(store: Store) -> list[Mapping]:
    return store.flagged_listing_findings() + store.flagged_seller_findings()


def parse_case_id(text: str) -> int:
    digits = str(text).strip().lstrip("#")
    plain = digits.isascii() and digits.isdigit() and len(digits) <= len(str(MAX_ID))
    if not plain or not 0 < int(digits) <= MAX_ID:
        raise UsageError(f"not a case id: {text!r} (a number such as 12, as the digest shows)")
    return int(digits)


def reviewer() -> str:
    try:
        return os.environ.get("USER") or getpass.getuser()
    except (OSError, KeyError):  # no user database entry (some containers)
        return "unknown"


def _text(value) -> str:
    return " ".join(str(value or "").split()).casefold()
