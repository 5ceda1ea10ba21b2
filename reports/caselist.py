"""`grayhound review list`: the listed cases, a row at a time; a long list in parts of its
risk order on every CPU (`reports.parallel`), the same bytes as one process.

- `--format json`: as `json.dumps(rows, indent=2, ensure_ascii=False)` writes them, made
  terminal-safe.
- the table (the default): aligned columns of terminal-safe cells. Its rows' cells are
  spooled to a temporary file as they are read (one read of the store, parts on every CPU),
  then each column's width is known and the spooled lines are written padded to it: a long
  list's in byte ranges of whole lines of the spool, on every CPU.

A part of the read is the cases between two order keys (risk, case id) of a sample of the
listed cases, read by its own statement; every part holds its first key, so none is empty and
only the first part's first row opens the list. A range of the spool may be empty."""

from __future__ import annotations

import functools
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from grayhound.store.reviews import CASE_KEYS
from grayhound.text import terminal_json, terminal_text
from reports.parallel import part_store, worker_count, write_parts

_ENCODE = json.JSONEncoder(ensure_ascii=False).encode  # one encoder for every value
_STRING = json.encoder.encode_basestring  # its string encoder (C), called directly
# characters of text escaped and written at a time; bytes of the table's spool searched for a
# line's end at a time (read and padded: four times as many)
CHUNK = 1 << 16
# listed cases (estimated) below which one process reads and writes them: at 75,000 cases two
# parts took the table 3.3 → 2.3 s and the JSON 2.6 → 1.8 s (round 28; it was 100,000); and
# listed cases (counted) below which one process pads the table's spool
PARALLEL_MIN_CASES = 30_000
SAMPLE = 4096  # case ids looked up to find where to cut the list
BRAND, FLAGS = CASE_KEYS.index("brand"), CASE_KEYS.index("flags")


def write_case_json(
    store, states: Iterable[str], stream: IO[str], brand: str | None, flag: str | None
) -> int:
    """The cases in `states` (with `brand`, carrying `flag`) as `review list` lists them, as
    JSON into `stream`; returns how many. A long unfiltered list is cut into parts written by
    forked workers, each reading the snapshot this process reads."""
    listed = sum(_write_listed(store, list(states), stream, brand, flag, _write_rows))
    stream.write("\n]\n" if listed else "[]\n")
    return listed


# The table's columns: a case's `CASE_KEYS` value each (the case's id for "case"), its header
# the name in capitals, and the widest cell of a column its width. Three are cut to a width.
TABLE_COLUMNS = ("case", "state", "verdict", "risk", "kind", "brand", "flags", "subject", "seller")
CUT_TO = {"subject": 44, "seller": 22, "flags": 34}
_CELL = "\x1f"  # between the spooled cells of a row: a control character, never in a cell
_CASE_ID = CASE_KEYS.index("case_id")


def write_case_table(
    store, states: Iterable[str], stream: IO[str], brand: str | None, flag: str | None
) -> int:
    """The cases in `states` (with `brand`, carrying `flag`) as `review list` prints them by
    default, aligned columns into `stream`; returns how many ("no cases" when none). The rows
    are read once (in parts, as the JSON list), their cells spooled with each column's widest,
    then written padded to it (a long list's, narrowed or not, by ranges of the spool on every
    CPU)."""
    workers = worker_count()  # a bad GRAYHOUND_WORKERS said before a line is written
    with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as spool:
        parts = _write_listed(store, list(states), spool, brand, flag, _spool_cells)
        listed = sum(count for count, _ in parts)
        if not listed:
            stream.write("no cases\n")
            return 0
        header = [column.upper() for column in TABLE_COLUMNS]
        sizes = [len(text) for text in header]
        for _, widest in parts:
            sizes = [max(size, part) for size, part in zip(sizes, widest, strict=True)]
        line = "  ".join(f"{{:<{size}}}" for size in sizes)  # each cell padded to its column
        stream.write(line.format(*header).rstrip() + "\n")
        spool.flush()
        ranges = workers if listed >= PARALLEL_MIN_CASES else 1
        bounds = _line_bounds(spool.fileno(), ranges)
        write_parts(stream, bounds, functools.partial(_pad_lines, spool.fileno(), line))
    return listed


def _line_bounds(fd: int, parts: int) -> list[tuple[int, int]]:
    """The file `fd` (lines ending in "\n") cut into `parts` byte ranges (start, end) of whole
    lines, about as long as each other; a range may be empty."""
    size = os.fstat(fd).st_size
    starts = [0]
    for part in range(1, parts):
        at = max(starts[-1], size * part // parts)
        while at < size:  # the range begins after the line the cut falls in
            data = os.pread(fd, CHUNK, at)
            if not data:
                raise OSError(f"the table's spool ended at byte {at} of {size}")
            found = data.find(b"\n")
            if found >= 0:
                at += found + 1
                break
            at += len(data)
        starts.append(at)
    return list(zip(starts, [*starts[1:], size], strict=True))


def _pad_lines(fd: int, line: str, bounds: tuple[int, int], stream: IO[str]) -> None:
    """The spooled lines of the file `fd` between the byte offsets `bounds`, their cells
    padded by the format string `line`, written into `stream` a chunk at a time. Read with
    `os.pread` (no file position shared with another process)."""
    at, end = bounds
    rest = b""
    while at < end:
        data = os.pread(fd, min(4 * CHUNK, end - at), at)
        if not data:
            raise OSError(f"the table's spool ended at byte {at} of {end}")
        at += len(data)
        data = rest + data
        whole = data.rfind(b"\n") + 1  # a "\n" byte is never inside a UTF-8 character
        rest = data[whole:]
        rows = data[:whole].decode("utf-8").split("\n")
        rows.pop()  # after the last "\n"
        stream.write("".join([line.format(*row.split(_CELL)).rstrip() + "\n" for row in rows]))
    if rest:
        raise OSError(f"the table's spool has a line without its end at byte {end}")


def _spool_cells(
    rows: Iterator[tuple], brand, flag, index: int, stream: IO[str]
) -> tuple[int, list[int]]:
    """The rows (values in `CASE_KEYS` order; those with `brand`, carrying `flag`) as lines of
    their table cells, each made terminal-safe (no control character: `_CELL` and line breaks
    cannot be in one) and cut to its column's width; returns how many rows, and the length of
    each column's longest cell (0 without a row)."""
    at = [_CASE_ID if column == "case" else CASE_KEYS.index(column) for column in TABLE_COLUMNS]
    cut = [CUT_TO.get(column) for column in TABLE_COLUMNS]
    risk = TABLE_COLUMNS.index("risk")
    # the cells of the columns with few distinct values (state, verdict, kind, brand, flags),
    # each made once
    shown: dict = {}
    few = {TABLE_COLUMNS.index(c) for c in ("state", "verdict", "kind", "brand", "flags")}
    sizes = [0] * len(TABLE_COLUMNS)
    pending: list[str] = []
    held = written = 0
    for values in _matching(rows, brand, flag):
        cells = []
        for position, (value, width) in enumerate(zip([values[i] for i in at], cut, strict=True)):
            if position == 0:
                cell = f"#{value}"
            elif position == risk:
                cell = "—" if value is None else f"{value:.2f}"
            elif position in few:
                key = (position, value.__class__, value)  # 1 and 1.0 are equal keys
                cell = shown.get(key)
                if cell is None:
                    if len(shown) >= 4096:
                        shown.clear()
                    cell = shown[key] = _cell(value, width)
            else:
                cell = _cell(value, width)
            if len(cell) > sizes[position]:
                sizes[position] = len(cell)
            cells.append(cell)
        text = _CELL.join(cells) + "\n"
        pending.append(text)
        held += len(text)
        written += 1
        if held >= CHUNK:
            stream.write("".join(pending))
            pending, held = [], 0
    stream.write("".join(pending))
    return written, sizes


def _matching(rows: Iterator[tuple], brand: str | None, flag: str | None) -> Iterator[tuple]:
    """The rows (values in `CASE_KEYS` order) about `brand` that carry `flag` (None: any)."""
    if not brand and not flag:
        return rows
    return (
        values
        for values in rows
        if (not brand or values[BRAND] == brand) and (not flag or flag in values[FLAGS])
    )


def _cell(value, width: int | None) -> str:
    """A value as its table cell: "—" for none, a tuple's items joined by commas."""
    if value is None:
        return "—"
    return terminal_text(",".join(value) if value.__class__ is tuple else value, width)


Rows = Callable[[Iterator[tuple], str | None, str | None, int, IO[str]], Any]


def _write_listed(
    store, states: list[str], stream: IO[str], brand: str | None, flag: str | None, rows: Rows
) -> list:
    """The listed cases' rows written into `stream` by `rows` (`_write_rows` or
    `_spool_cells`), in parts on every CPU when the list is long and not narrowed; what
    `rows` returned for each part."""
    workers = worker_count() if not brand and not flag else 1
    if workers == 1:  # one statement: its own snapshot, no writer kept waiting
        return [rows(store.case_list_values(states), brand, flag, 0, stream)]
    with store.shared_snapshot() as snapshot:  # every part reads the store as it is now
        cuts = _cuts(store, states, workers) if snapshot.shared else []
        bounds = list(zip([None, *cuts], [*cuts, None], strict=True))
        write = functools.partial(_write_part, store, states, brand, flag, os.getpid(), rows)
        parts = list(enumerate(bounds))
        return write_parts(stream, parts, write, started=snapshot.release)


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
    store, states, brand, flag, parent: int, rows: Rows, part: tuple[int, tuple], stream: IO[str]
) -> int:
    """One part of the list, written by `rows`; in a forked worker (not the `parent` process)
    read through a connection of its own, the parent's left alone."""
    index, (low, high) = part
    with part_store(store, parent) as reader:
        return rows(reader.case_list_values(states, low, high), brand, flag, index, stream)


def _write_rows(rows: Iterator[tuple], brand, flag, index: int, stream: IO[str]) -> int:
    """The rows (values in `CASE_KEYS` order; those with `brand`, carrying `flag`) as JSON
    items, the first part's first opening the list; escaped and written a chunk at a time."""
    template = _template(CASE_KEYS)
    flag_texts: dict[tuple, str] = {}  # a row's flags -> their JSON text: few distinct ones
    pending: list[str] = []
    held = written = 0
    for values in _matching(rows, brand, flag):
        text = ("[\n" if written == 0 and index == 0 else ",\n") + template % tuple(
            [
                _STRING(v)
                if (kind := v.__class__) is str
                else "null"
                if v is None
                else _flags_text(v, flag_texts)
                if kind is tuple
                else _json_value(v)
                for v in values
            ]
        )
        written += 1
        pending.append(text)
        held += len(text)
        if held >= CHUNK:
            stream.write(terminal_safe("".join(pending)))
            pending, held = [], 0
    stream.write(terminal_safe("".join(pending)))
    return written


def _flags_text(flags: tuple, texts: dict[tuple, str]) -> str:
    """A row's flags as the indenting encoder writes the list; a list of strings written
    once."""
    text = texts.get(flags)
    if text is None:
        text = _json_list(list(flags))
        if all(item.__class__ is str for item in flags):  # 1, 1.0 and True are equal keys
            if len(texts) >= 4096:
                texts.clear()
            texts[flags] = text
    return text


def terminal_safe(chunk: str) -> str:
    """`terminal_json`: ASCII text (known in constant time) holds nothing it escapes but DEL."""
    if chunk.isascii() and "\x7f" not in chunk:
        return chunk
    return terminal_json(chunk)


def _template(keys: tuple) -> str:
    """The text `json.dumps(rows, indent=2, ensure_ascii=False)` writes of a row with these
    keys inside the list, a %s for each value's JSON text."""
    fields = ",\n".join(f"    {_ENCODE(key).replace('%', '%%')}: %s" for key in keys)
    return "  {\n" + fields + "\n  }"


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
    """A list inside a row, as the indenting encoder writes it."""
    if not value:
        return "[]"
    items = ",\n".join(f"      {_json_value(item)}" for item in value)
    return f"[\n{items}\n    ]"
