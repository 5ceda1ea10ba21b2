"""The digest's JSON items or CSV rows written in parts on several cores (issue 19, rounds 7
and 9): every group's cases, in the output's order, cut into one range per process at risk
keys (`digestlines.risk_key_at`), each range rendered by `lines` through a store connection of
its own, the parts' text joined in order by `reports.parallel.write_parts`: the same bytes as
one process writes.

The digest forks once for all its groups (round 9): a part may end in one group and go on in
the next, with the text between the groups (JSON's `],\\n "new": [`) where it falls, so the
processes share every group's work, the small groups' too, in one fork and one copy."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from typing import IO, NamedTuple

from grayhound.store import digestlines
from grayhound.store.digestlines import WHOLE, Span
from reports.digest import lines
from reports.parallel import begun, utf8_buffer, worker_count, write_parts

# cases (of all groups) below which one process writes them: below it the fork, a worker's
# connections and the copy of its file cost about what the second core saves (~0.1 s)
PARALLEL_MIN_ROWS = 20_000
# this process's part against a worker's, in cases: the first holds the riskiest and the
# changed cases, ~10 % dearer a case than the still-open ones after them (measured at 1M)
FIRST_PART_WEIGHT = 0.9


class Cases(NamedTuple):
    """A step of a part: the cases of `group` in `span`; `first` when they are the group's
    first (a JSON range after them starts with the items' separator)."""

    group: int
    span: Span = WHOLE
    first: bool = True


Step = str | Cases  # text written as it is, or cases rendered by `lines`


def write_json(book, pinned, steps: list[Step], lengths: dict, stream: IO[str], pad: str) -> None:
    """Write `steps`, each group's items at indentation `pad` as `lines.json_items` gives
    them; `lengths` is the number of cases of each group."""
    _write(book, pinned, steps, lengths, stream, partial(_json_part, pad=pad))


def write_csv(
    book, pinned, steps: list[Step], lengths: dict, stream: IO[str], python_row: Callable
) -> int:
    """Write `steps`, each group's rows as `lines.write_csv_rows` does; return how many."""
    return sum(
        _write(book, pinned, steps, lengths, stream, partial(_csv_part, python_row=python_row))
    )


def _write(book, pinned, steps: list[Step], lengths: dict, stream: IO[str], write_part) -> list:
    """`write_part(book, steps, stream)` for each part of `steps`: in parts on several cores
    when there are enough cases and the store is still the book's snapshot (`pinned`), else
    every step by this process."""
    workers, total = worker_count(), sum(lengths.values())
    if pinned is None or workers < 2 or total < PARALLEL_MIN_ROWS or not pinned.hold():
        return [write_part(book, steps, stream)]  # a store moved on: only this process reads
    try:  # nothing commits until every worker has begun to read
        chunks = cut(book, steps, lengths, cut_points(total, workers))
        parent = os.getpid()

        def write(part: list[Step], into: IO[str]):
            if os.getpid() == parent:
                return write_part(book, part, into)
            own = digestlines.part_book(pinned.path, pinned.functions)
            begun()
            return write_part(own, part, into)

        return write_parts(stream, chunks, write, started=pinned.release)
    finally:
        pinned.release()


def cut_points(total: int, parts: int) -> list[int]:
    """Where `parts` parts of `total` cases end (but the last): the first
    `FIRST_PART_WEIGHT` of a share, the others equal."""
    shares = [FIRST_PART_WEIGHT] + [1.0] * (parts - 1)
    points, done = [], 0.0
    for share in shares[:-1]:
        done += share
        points.append(round(total * done / sum(shares)))
    return sorted({point for point in points if 0 < point < total})


def cut(book, steps: list[Step], lengths: dict, points: list[int]) -> list[list[Step]]:
    """`steps` cut into parts before the cases at each of `points` (counted over every group's
    cases in the steps' order): a group's cases cut at the risk key of the case there."""
    parts: list[list[Step]] = [[]]
    points = sorted(set(points), reverse=True)
    at = 0
    for step in steps:
        if isinstance(step, str):
            parts[-1].append(step)
            continue
        start, at = at, at + lengths[step.group]
        lower, first = step.span[0], step.first
        while points and points[-1] < at:
            point = points.pop()
            if point > start:
                key = digestlines.risk_key_at(book, step.group, point - start)
                if key is None:  # fewer cases than counted: no cut there
                    continue
                parts[-1].append(Cases(step.group, (lower, key), first))
                lower, first = key, False
            if parts[-1]:
                parts.append([])
        parts[-1].append(Cases(step.group, (lower, step.span[1]), first))
    return [part for part in parts if part]


def _json_part(book, steps: list[Step], stream: IO[str], *, pad: str) -> int:
    """Write `steps` into `stream`: the items' UTF-8 bytes straight into its file where it
    takes them (`utf8_buffer`), else their text."""
    raw = utf8_buffer(stream)
    put = raw.write if raw is not None else lambda data: stream.write(data.decode())
    for step in steps:
        if isinstance(step, str):
            put(step.encode())
            continue
        for piece in lines.json_item_bytes(book, step.group, pad, step.span, first=step.first):
            put(piece)
    return 0


def _csv_part(book, steps: list[Step], stream: IO[str], *, python_row) -> int:
    written = 0
    for step in steps:
        if isinstance(step, str):
            stream.write(step)
            continue
        row = partial(python_row, book)
        written += lines.write_csv_rows(book, step.group, stream, row, step.span)
    return written
