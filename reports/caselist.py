"""`grayhound review list --format json`: the listed cases as `json.dumps(rows, indent=2,
ensure_ascii=False)` writes them, made terminal-safe, written a row at a time; a long list in
parts of its risk order on every CPU (`reports.parallel`), the same bytes as one process.

A part is the cases between two order keys (risk, case id) of a sample of the listed cases,
read by its own statement; every part holds its first key, so none is empty and only the
first part's first row opens the list."""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterable, Iterator
from typing import IO

from grayhound.text import terminal_json
from reports.parallel import begun, worker_count, write_parts

_ENCODE = json.JSONEncoder(ensure_ascii=False).encode  # one encoder for every value
_STRING = json.encoder.encode_basestring  # its string encoder (C), called directly
_ROWS: dict[tuple, str] = {}  # a row's keys -> its text with a %s for each value
_LISTS: dict[tuple, str] = {}  # a list of strings -> its JSON text inside a row
CHUNK = 1 << 16  # characters of text escaped and written at a time
PARALLEL_MIN_CASES = 100_000  # listed cases (estimated) below which one process writes them
SAMPLE = 4096  # case ids looked up to find where to cut the list


def write_case_json(
    store, states: Iterable[str], stream: IO[str], brand: str | None, flag: str | None
) -> int:
    """The cases in `states` (with `brand`, carrying `flag`) as `review list` lists them, as
    JSON into `stream`; returns how many. A long unfiltered list is cut into parts written by
    forked workers, each reading the snapshot this process reads."""
    states = list(states)
    workers = worker_count() if not brand and not flag else 1
    if workers == 1:  # one statement: its own snapshot, no writer kept waiting
        listed = _write_rows(store.case_list(states), brand, flag, 0, stream)
    else:
        with store.shared_snapshot() as snapshot:  # every part reads the store as it is now
            cuts = _cuts(store, states, workers) if snapshot.shared else []
            bounds = list(zip([None, *cuts], [*cuts, None], strict=True))
            write = functools.partial(_write_part, store, states, brand, flag, os.getpid())
            parts = list(enumerate(bounds))
            listed = sum(write_parts(stream, parts, write, started=snapshot.release))
    stream.write("\n]\n" if listed else "[]\n")
    return listed


def _cuts(store, states: list[str], parts: int) -> list[tuple]:
    """The order keys where parts 2.. of the list begin: quantiles of the keys of a sample of
    case ids spread over all of them; none when the list is estimated short."""
    span = store.case_id_span()
    if span is None:
        return []
    step = max(1, (span[1] - span[0] + 1) // SAMPLE)
    keys = store.case_list_keys(states, range(span[0], span[1] + 1, step))
    if len(keys) * step < PARALLEL_MIN_CASES or len(keys) < parts:
        return []
    # never the first sampled key: every part, the first included, holds a row
    return [keys[len(keys) * i // parts] for i in range(1, parts)]


def _write_part(
    store, states, brand, flag, parent: int, part: tuple[int, tuple], stream: IO[str]
) -> int:
    """One part of the list; in a forked worker (not the `parent` process) read through a
    connection of its own, the parent's left alone."""
    index, (low, high) = part
    if os.getpid() == parent:
        return _write_rows(store.case_list(states, low, high), brand, flag, index, stream)
    from grayhound.store import open_reader

    with open_reader(store.path) as own:
        begun()  # its snapshot is the parent's: the parent lets writers go on
        return _write_rows(own.case_list(states, low, high), brand, flag, index, stream)


def _write_rows(rows: Iterator[dict], brand, flag, index: int, stream: IO[str]) -> int:
    """The rows (those with `brand`, carrying `flag`) as JSON items, the first part's first
    opening the list; escaped and written a chunk at a time."""
    pending: list[str] = []
    held = written = 0
    for row in rows:
        if brand and row["brand"] != brand:
            continue
        if flag and flag not in row["flags"]:
            continue
        text = ("[\n" if written == 0 and index == 0 else ",\n") + json_row(row)
        written += 1
        pending.append(text)
        held += len(text)
        if held >= CHUNK:
            stream.write(terminal_safe("".join(pending)))
            pending, held = [], 0
    stream.write(terminal_safe("".join(pending)))
    return written


def terminal_safe(chunk: str) -> str:
    """`terminal_json`: ASCII text (known in constant time) holds nothing it escapes but DEL."""
    if chunk.isascii() and "\x7f" not in chunk:
        return chunk
    return terminal_json(chunk)


def json_row(row: dict) -> str:
    """One row as `json.dumps(rows, indent=2, ensure_ascii=False)` writes it inside the list:
    each value by its C encoder (`_json_value`) into the text of the row's keys, made once
    per set of keys; each list of flags written once."""
    template = _ROWS.get(keys := tuple(row))
    if template is None:
        fields = ",\n".join(f"    {_ENCODE(key).replace('%', '%%')}: %s" for key in keys)
        template = _ROWS[keys] = "  {\n" + fields + "\n  }"
    return template % tuple(
        [
            _STRING(v)
            if (kind := v.__class__) is str
            else "null"
            if v is None
            else _json_list(v)
            if kind is list
            else _json_value(v)
            for v in row.values()
        ]
    )


def _json_value(value) -> str:
    """`json.dumps(value, ensure_ascii=False)` of a scalar, without the encoder's per-call
    set-up for the common types (a string, a whole number, a finite float, None)."""
    kind = value.__class__
    if kind is str:
        return _STRING(value)
    if value is None:
        return "null"
    if kind is int:
        return int.__repr__(value)
    if kind is float and value - value == 0:  # finite: json writes repr()
        return float.__repr__(value)
    return _ENCODE(value)


def _json_list(value: list) -> str:
    """A list inside a row, as the indenting encoder writes it; the few distinct lists of
    strings (flag sets) are written once."""
    if not value:
        return "[]"
    key = tuple(value)
    text = _LISTS.get(key) if all(item.__class__ is str for item in value) else None
    if text is None:
        items = ",\n".join(f"      {_json_value(item)}" for item in value)
        text = f"[\n{items}\n    ]"
        if all(item.__class__ is str for item in value):
            if len(_LISTS) >= 4096:
                _LISTS.clear()
            _LISTS[key] = text
    return text
