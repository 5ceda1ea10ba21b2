"""The kept book's decision made on another CPU while its fill writes (issue 19, round 9).

A fill (`digestbook.StoredBook`) makes the queued subjects' rows again aside, then Python
decides the cases SQL could not (reading them, `evidence_of`, `compare`, the evidence's JSON:
~2.5 s CPU of 131,000 cases on a heavy day at a million listings), then sets the moved rows in
the book. The decision needs only what the store held when the fill took its write lock, so a
forked worker reads those cases itself, from its own read-only connection (the same snapshot:
no other connection can commit while the fill holds the lock, and the fill's own writes are
not committed), and decides them while the fill's connection makes the rows again, deletes
the rows no longer shown and claims the queue. The worker writes one line per decided case;
the fill sets them in its rows made again, as it set its own decision."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterator
from typing import IO

from grayhound.store.digestcases import FROM, LISTING_FIELDS, SELLER_FIELDS, read_only_uri
from grayhound.store.digests import FLAGGED

# the columns `digestbook.UNDECIDED` reads of a row made again, in its order, per kind: here
# from the store itself (`_insert`'s own expressions for the group, the evidence last shown
# and whether to record)
SUBJECT = {
    "listing": "l.title, l.price, l.currency",
    "seller": "NULL AS title, NULL AS price, NULL AS currency",
}


def _moved(fields: dict[str, str]) -> str:
    """`_insert`'s comparison of a case's evidence and finding with what was last shown."""
    return " OR ".join(
        [f"ds.{name} IS NOT {sql}" for name, sql in fields.items()]
        + ["ds.finding_id IS NOT f.id", "ds.fingerprint IS NOT f.fingerprint"]
    )


def undecided_sql(kind: str, marks: str) -> str:
    """The cases of the subjects of `kind` queued up to `:upto` that a fill would leave to
    Python (`todo = 1`: never shown, or moved since), with what `UNDECIDED` reads of them."""
    fields = LISTING_FIELDS if kind == "listing" else SELLER_FIELDS
    moved = _moved(fields)
    source = (
        FROM[kind]
        .format(st="main", flagged=FLAGGED, states=marks)
        .replace("FROM main.findings f", "FROM digest_pending p CROSS JOIN main.findings f")
        .replace(
            "WHERE f.subject_kind",
            "WHERE p.seq <= :upto AND p.subject_kind = f.subject_kind"
            " AND p.subject_id = f.subject_id AND f.subject_kind",
        )
    )
    # in this order, the queue first: left to itself SQLite may read every case of the kind
    # (the fill's own statement reads its small temporary table of the queued subjects)
    source = re.sub(r"(?<!LEFT )JOIN main\.", "CROSS JOIN main.", source)
    return f"""SELECT CASE WHEN ds.case_id IS NOT NULL AND ({moved}) THEN ds.evidence END
               AS shown, (ds.case_id IS NULL OR {moved}) AS dirty, c.id AS case_id,
               CASE WHEN ds.case_id IS NULL THEN 0 WHEN {moved} THEN NULL ELSE 2 END AS grp,
               f.subject_kind, f.verdict, f.flags, {SUBJECT[kind]},
               {fields["seller_name"]} AS seller_name, {fields["seller_domain"]} AS seller_domain
        {source} AND (ds.case_id IS NULL OR {moved})"""


def decide_queued(
    path: str,
    upto: int,
    states: tuple[str, ...],
    decide: Callable[[Iterator[tuple]], Iterator[tuple]],
    rows: Callable[..., Iterator[dict]],
    out: IO[str],
) -> None:
    """In a worker (or, on one CPU, this process): decide the queued cases a fill leaves to
    Python, read from the store at `path` through a read-only connection of its own, and
    write one line per case into `out` (`read_decided` reads them back). `rows` is the book's
    `rows` (dicts, flags decoded)."""
    params = {"upto": upto, **{f"s{i}": s for i, s in enumerate(states)}}
    marks = ", ".join(f":s{i}" for i in range(len(states)))
    conn = sqlite3.connect(read_only_uri(path), uri=True)
    try:
        for kind in ("listing", "seller"):
            cursor = conn.execute(undecided_sql(kind, marks), params)
            undecided = ((row, row.pop("shown"), row.pop("dirty")) for row in rows(cursor))
            out.writelines(_line(*decided) for decided in decide(undecided))
    finally:
        conn.close()


def _line(case_id: int, group: int, changes: str | None, evidence: str | None) -> str:
    # JSON text never holds a raw tab or line break (json escapes every control character)
    return f"{case_id}\t{group}\t{changes or ''}\t{evidence or ''}\n"


def read_decided(lines: IO[str]) -> Iterator[tuple]:
    """(case id, group, changes JSON or None, evidence JSON or None) of each line written by
    `decide_queued`, as `decide` yielded them."""
    for line in lines:
        case_id, group, changes, evidence = line.rstrip("\n").split("\t")
        yield int(case_id), int(group), changes or None, evidence or None
