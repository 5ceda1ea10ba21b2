"""A large group of the digest's JSON items or CSV rows written in parts on several cores
(issue 19, round 7): the group cut into ranges of its risk order (`digestlines.risk_spans`),
each rendered by `lines` through a store connection of its own, the parts' text joined in
order by `reports.parallel.write_parts`: the same bytes as one process writes."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from typing import IO

from grayhound.store import digestlines
from grayhound.store.digestlines import WHOLE, Span
from reports.digest import lines
from reports.parallel import begun, worker_count, write_parts

# a group smaller than this is written by one process: below it the fork, a worker's
# connections and the copy of its file cost about what the second core saves (~0.1 s)
PARALLEL_MIN_ROWS = 20_000


def write_json(group_book, stream: IO[str], pad: str) -> None:
    """Write a spooled group's items as `lines.json_items` gives them."""
    _write(group_book, stream, partial(_json_part, pad=pad))


def write_csv(group_book, stream: IO[str], python_row: Callable) -> int:
    """Write a spooled group's rows as `lines.write_csv_rows` does; return how many."""
    return sum(_write(group_book, stream, partial(_csv_part, python_row=python_row)))


def _write(group_book, stream: IO[str], write_part: Callable) -> list:
    """`write_part(book, group, span, index, stream)` for each part of the group: in parts
    on several cores when the group is large and the store still the book's snapshot, else
    the whole group by this process."""
    book, group, length, pinned = group_book
    workers = worker_count()
    if pinned is None or workers < 2 or length < PARALLEL_MIN_ROWS:
        return [write_part(book, group, WHOLE, 0, stream)]
    if not pinned.hold():  # the store moved on: only this process reads its snapshot
        return [write_part(book, group, WHOLE, 0, stream)]
    try:  # nothing commits until every worker has begun to read
        spans = digestlines.risk_spans(book, group, length, workers)
        parent = os.getpid()

        def write(part: tuple[int, Span], into: IO[str]):
            index, span = part
            if os.getpid() == parent:
                return write_part(book, group, span, index, into)
            own = digestlines.part_book(pinned.path, pinned.functions)
            begun()
            return write_part(own, group, span, index, into)

        return write_parts(stream, list(enumerate(spans)), write, started=pinned.release)
    finally:
        pinned.release()


def _json_part(book, group: int, span: Span, index: int, stream: IO[str], *, pad: str) -> int:
    for piece in lines.json_items(book, group, pad, span, first=index == 0):
        stream.write(piece)
    return 0


def _csv_part(book, group: int, span: Span, index: int, stream: IO[str], *, python_row) -> int:
    return lines.write_csv_rows(book, group, stream, partial(python_row, book), span)
