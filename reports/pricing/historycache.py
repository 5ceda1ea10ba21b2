"""The CSV and JSON price history of past crawl runs kept rendered between reports (issue 19).

Most of a CSV or JSON price report is its history: a record (a point) per observation of every
listing the report keeps, crawl run after crawl run. Rendered afresh, it costs what the whole
history holds, and that grows with every crawl. But a crawl run's part of a model's history (a
*segment*: its records, one after the other, in the report's order) is made from few things,
and once the run is over most of them no longer change. A day's crawl adds a run; the
listings it brings are first seen in it; the listings that go (judgements retired) take their
records out of every run.

So each model keeps, in the cache directory:

- a *snapshot* of its kept listings (`<model key>.base`): each listing's id, its first crawl
  run and a digest of what its records read besides its observations (its source, its
  seller, the listing's and the seller record's name and domain), and (JSON) the listings
  whose points say `"is_current": true`; the snapshot's *generation* is a digest of all of it;
- each past run's segment (`<segment key>.csv` or `.json`, its records' listings and sizes
  in bytes beside it in `<segment key>.idx`), the key naming the model, the run (its id,
  status, first and last observation: observations are only ever added) and the generation
  it was made for. A JSON segment's points each begin with their ", " (the first one of a
  history is written without it).

The model key is a digest of the rendering code (the source of the modules in `_CODE`), the
report's format, currency, rates and condition, and the model's brand, name and stored names.

A report compares the model's kept listings now with its snapshot. A segment of run r is
used if no listing first seen in run r or before came or changed since; the records of the
listings gone are cut out of it as it is copied, and (JSON) the points of a listing that
became current or stopped being current are written with their new flag. The segments are
then stored for the new generation (renamed where nothing was cut or changed, rewritten where
something was), the runs that could not be used are rendered and stored, and the snapshot
is replaced. A segment file is used only with its index and only at the size its index gives
(a point to patch only where it begins as written); files are written beside their names and
renamed when whole; any error writing the cache leaves the report as it is (the cache is given
up for the rest of it, and said once). Files unused for `KEEP_DAYS` days are removed after a
report."""

from __future__ import annotations

import contextlib
import hashlib
import io
import marshal
import os
import re
import sys
import time
from array import array
from dataclasses import dataclass, field
from functools import cache
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from typing import IO, NamedTuple

from reports.parallel import copy_into
from reports.pricing import render
from reports.pricing.build import PriceHistoryRows

KEEP_DAYS = 7
_NAME = re.compile(r"([0-9a-f]{64})\.(csv|json|idx|base)").fullmatch
_TEMPORARY = ".part-"
# Whatever a segment's bytes are made from in code: a change to any of these is a new key.
_CODE = (
    "reports/pricing/historycache.py",
    "reports/pricing/render.py",
    "reports/pricing/build.py",
    "reports/pricing/competitors.py",
    "reports/currency.py",
    "reports/tabular.py",
    "grayhound/store/pricing.py",
)


@cache
def code_digest() -> bytes | None:
    """The digest of the rendering code's source (None where it cannot be read: no cache)."""
    root = Path(__file__).resolve().parents[2]
    digest = hashlib.sha256()
    try:
        for name in _CODE:
            digest.update(name.encode() + b"\0" + (root / name).read_bytes() + b"\0")
    except OSError:
        return None
    return digest.digest()


@dataclass
class _Snapshot:
    """A model's kept listings: id → (first run, digest of what its records read besides its
    observations and its flag: the rest of its row of `Store.price_kept_rows`); `current`:
    the listings whose points say current (JSON; CSV records do not say it: empty)."""

    generation: str
    listings: dict[int, tuple[int, bytes]]
    current: set[int]


class _Patch(NamedTuple):
    """A record of a segment written anew: at `first`, `size` bytes, its beginning `old`
    written `new` (a JSON point with its new flag)."""

    first: int
    size: int
    old: bytes
    new: bytes

    def record(self, handle: IO[bytes]) -> bytes:
        handle.seek(self.first)
        return self.new + handle.read(self.size)[len(self.old) :]


@dataclass
class _Plan:
    """How a segment gives the records of now: its byte ranges (first, end) and its records
    written anew (`_Patch`), in order; and the new segment's index."""

    pieces: list
    ids: array
    sizes: array
    changed: bool  # False: the segment as it is


@dataclass
class _Segment:
    handle: IO[bytes]
    ids: array  # each record's listing, in order
    sizes: array  # each record's size in bytes
    key: str


@dataclass
class HistoryCache:
    """The segments of one report (its format, currency, rates and condition) in
    `directory`; `runs` the store's crawl runs as the report read them (`Store.runs`)."""

    directory: Path
    currency: str
    rates: dict
    condition: str
    runs: list[dict]
    format: str = "csv"  # or "json"
    broken: bool = False  # a write failed: nothing more is written for this report
    _spans: dict[int, tuple] = field(default_factory=dict)  # run → its span (RUN_SPAN_SQL)

    @classmethod
    def of_job(cls, job, fmt: str = "csv") -> HistoryCache | None:
        """The cache of a report (`reports.pricing.parts.PriceJob`) in `fmt` (csv, json);
        None without one."""
        if job.cache_dir is None or code_digest() is None or fmt not in ("csv", "json"):
            return None
        rates = dict(job.config.pricing.rates)
        directory = Path(job.cache_dir) / "prices"
        return cls(directory, job.currency, rates, job.condition, job.runs, fmt)

    def write_csv_history(self, currency: str, model, history, stream: IO[str], cell) -> int:
        """`render.write_csv_history` of a model's history (a `PriceHistoryRows`, maybe of some
        crawl runs only): the segments of past runs the cache can give copied, the rest
        rendered, and the cache brought up to date. The same bytes, the same records."""
        if not _cached(history) or self.format != "csv":
            return render.write_csv_history(currency, model, history, stream, cell)
        memo = render.csv_history_memo()

        def draw(rows, into, marks) -> int:
            return render.write_csv_history_rows(
                currency, model, rows, history.prices, into, cell, memo, marks
            )

        return self._write_history(model, history, _Out(stream, 0), draw)

    def write_json_history(self, model, history, stream: IO[str]) -> int:
        """`render.write_history_json` of a model's history, as `write_csv_history` does."""
        if not _cached(history) or self.format != "json":
            return render.write_history_json(history, stream)
        memo: dict = {}

        def draw(rows, into, marks) -> int:
            return render.write_json_history_rows(rows, history.prices, into, memo, marks)

        return self._write_history(model, history, _Out(stream, len(_SEPARATOR)), draw)

    def _write_history(self, model, history, out: _Out, draw) -> int:
        """`draw(rows, stream, marks)` renders rows as `render.write_csv_history_rows` does."""
        source = history.source
        wanted = self._cacheable(*(history.runs or (None, None)))
        if history.kept is not None:  # copied for the model's figures (`model_pricings`)
            return self._write(source, history.kept, model, history, wanted, out, draw)
        table = source.price_kept_table(history.names, history.condition, history.newest)
        try:
            return self._write(source, table, model, history, wanted, out, draw)
        finally:
            source.drop_price_kept_table(table)

    def _write(self, source, table, model, history, wanted, out: _Out, draw) -> int:
        """`wanted`: the runs of the history whose segments are kept (`_cacheable`)."""
        model_key = self._model_key(model, history.names)
        now = _snapshot(source.price_kept_rows(table), self.format == "json")
        before = self._load_snapshot(model_key)
        usable, gone, flipped = _usable(before, now, wanted)
        found = {
            run: segment
            for run in usable
            if (segment := self._open(self._segment_key(model_key, source, run, before)))
        }
        try:
            plans = {
                run: plan
                for run, segment in found.items()
                if (plan := self._plan(segment, run, gone, flipped, now.current)) is not None
            }
            keys = {run: self._segment_key(model_key, source, run, now) for run in wanted}
            count = self._copy_and_render(source, table, history, keys, found, plans, out, draw)
        finally:
            for segment in found.values():
                segment.handle.close()
        # saved by the piece that begins the history only (a model cut before its newest run,
        # `reports.pricing.parts`): the newest run's piece begins the next process's part, so
        # it reads the snapshot long before the first piece ends this one's. Had it saved the
        # new snapshot, the first piece could read that and look for its segments under the
        # new names, not written yet, and render its runs again.
        first = history.runs is None or history.runs[0] is None
        if first and (before is None or before.generation != now.generation):
            self._save_snapshot(model_key, now)
        return count

    def _copy_and_render(self, source, table, history, keys, found, plans, out, draw) -> int:
        """The history's runs in order: a stretch of runs without a usable segment read and
        rendered in one statement (each kept run's records kept under its key in `keys` as
        they pass), then the next segment copied as its plan says (and kept under its key)."""
        after, upto = history.runs or (None, None)
        count, start = 0, after
        for run in sorted(plans):
            count += self._render(source, table, (start, run - 1), keys, out, draw)
            count += self._copy(found[run], plans[run], out, keys[run])
            start = run
        return count + self._render(source, table, (start, upto), keys, out, draw)

    def has_snapshot(self, model, names) -> bool:
        """Whether a report kept the history of `model` (its stored `names`) before: then
        most of it is copied (`reports.pricing.parts.history_plan` weighs it so)."""
        return (self.directory / f"{self._model_key(model, names)}.base").is_file()

    def _cacheable(self, after, upto) -> list[int]:
        """The crawl runs after `after` and up to `upto` (None: no bound) whose segments are
        kept, in order: every run but those still running."""
        return sorted(
            run["id"]
            for run in self.runs
            if run.get("status") != "running"
            and type(run["id"]) is int
            and (after is None or run["id"] > after)
            and (upto is None or run["id"] <= upto)
        )

    def _render(self, source, table, runs, keys, out: _Out, draw) -> int:
        after, upto = runs
        if after is not None and upto is not None and upto <= after:
            return 0
        missing = {
            run: key
            for run, key in keys.items()
            if (after is None or run > after) and (upto is None or run <= upto)
        }
        count = 0
        for run, group in groupby(source.model_price_history_of(table, runs), key=itemgetter(0)):
            key = missing.pop(run, None)
            keeper = self._keeper(key) if key is not None else None
            into, marks = (out, None) if keeper is None else (keeper.tee(out), [])
            try:
                records = draw(group, into, marks)
            except BaseException:
                if keeper is not None:  # the report failed: no half-written file left
                    keeper.give_up()
                raise
            count += records
            if keeper is not None:
                ids = array("q", [listing for listing, _ in marks])
                self._keep(keeper, ids, array("q", [size for _, size in marks]))
        for key in missing.values():  # a run without records for this model: kept empty
            keeper = self._keeper(key)
            if keeper is not None:
                self._keep(keeper, array("q"), array("q"))
        return count

    def _plan(self, segment: _Segment, run: int, gone: set, flipped: set, current: set):
        """How `segment` (of crawl run `run`) gives the records of now (`_Plan`): the records of
        the listings `gone` cut, those of the listings `flipped` written with their flag now
        (in `current` or not); None where a record to change is not a point of that run."""
        ids, sizes = segment.ids, segment.sizes
        present = gone.union(flipped).intersection(ids) if gone or flipped else ()
        if not present:
            return _Plan([(0, sum(sizes))] if sizes else [], ids, sizes, False)
        changed = [at for at, listing in enumerate(ids) if listing in present]
        head = f'{_SEPARATOR}{{"crawl_run_id": {run}, "is_current": '.encode()
        pieces: list = []
        kept_ids, kept_sizes = array("q"), array("q")
        start, done = 0, 0  # done: the records summed into `start`
        for at in changed:
            first = start + sum(sizes[done:at])
            if first > start:
                pieces.append((start, first))
            kept_ids.extend(ids[done:at])  # slices, copied in C
            kept_sizes.extend(sizes[done:at])
            start, done = first + sizes[at], at + 1
            listing = ids[at]
            if listing in gone:
                continue
            old, new = (b"false", b"true") if listing in current else (b"true", b"false")
            segment.handle.seek(first)
            if segment.handle.read(len(head) + len(old)) != head + old:
                return None
            pieces.append(_Patch(first, sizes[at], head + old, head + new))
            kept_ids.append(listing)
            kept_sizes.append(sizes[at] - len(old) + len(new))
        end = start + sum(sizes[done:])
        if end > start:
            pieces.append((start, end))
        kept_ids.extend(ids[done:])
        kept_sizes.extend(sizes[done:])
        return _Plan(pieces, kept_ids, kept_sizes, True)

    def _copy(self, segment: _Segment, plan: _Plan, out: _Out, key: str) -> int:
        """A segment's records into `out` as `plan` gives them; the segment kept under `key`
        (for the snapshot now): renamed where nothing changed, else rewritten."""
        _write_pieces(segment.handle, plan.pieces, out)
        if not plan.changed:
            self._rename(segment, key)
        else:
            self._rewrite(segment, plan, key)
        return len(plan.ids)

    # -- keys -----------------------------------------------------------------------------
    def _model_key(self, model, names) -> str:
        key = hashlib.sha256(code_digest())
        key.update(
            repr(
                (self.format, self.currency, sorted(self.rates.items()), self.condition,
                 model.brand, model.model, list(names))
            ).encode()
        )  # fmt: skip
        return key.hexdigest()

    def _segment_key(self, model_key: str, source, run: int, snapshot) -> str:
        span = self._spans.get(run)
        if span is None:
            status = next((r.get("status") for r in self.runs if r["id"] == run), None)
            span = self._spans[run] = (run, status, *source.price_run_span(run))
        generation = None if snapshot is None else snapshot.generation
        return hashlib.sha256(repr((model_key, span, generation)).encode()).hexdigest()

    # -- files ----------------------------------------------------------------------------
    def _load_snapshot(self, model_key: str) -> _Snapshot | None:
        path = self.directory / f"{model_key}.base"
        try:
            generation, ids, firsts, digests, current = marshal.loads(path.read_bytes())
            ids, firsts = array("q", ids), array("q", firsts)
            if not len(ids) == len(firsts) == len(digests) // 16:
                return None
            parts = (digests[at : at + 16] for at in range(0, len(digests), 16))
            entries = zip(firsts, parts, strict=True)
            listings = dict(zip(ids, entries, strict=True))
            snapshot = _Snapshot(generation, listings, set(array("q", current)))
        except (OSError, ValueError, TypeError, EOFError):
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # used: kept another KEEP_DAYS days
        return snapshot

    def _save_snapshot(self, model_key: str, snapshot: _Snapshot) -> None:
        ids = array("q", snapshot.listings)
        firsts = array("q", (first for first, _ in snapshot.listings.values()))
        digests = b"".join(digest for _, digest in snapshot.listings.values())
        current = array("q", snapshot.current).tobytes()
        data = marshal.dumps(
            (snapshot.generation, ids.tobytes(), firsts.tobytes(), digests, current), 4
        )
        self._write_file(f"{model_key}.base", data)

    def _open(self, key: str) -> _Segment | None:
        """The segment of `key` if its index and its file are there and agree."""
        try:
            ids, sizes = marshal.loads((self.directory / f"{key}.idx").read_bytes())
            ids, sizes = array("q", ids), array("q", sizes)
        except (OSError, ValueError, TypeError, EOFError):
            return None
        size = sum(sizes)
        if len(ids) != len(sizes):
            return None
        try:
            handle = open(self.directory / f"{key}.{self.format}", "rb")  # noqa: SIM115 - closed by caller
        except OSError:
            return None
        if os.fstat(handle.fileno()).st_size != size:
            handle.close()
            return None
        return _Segment(handle, ids, sizes, key)

    def _rename(self, segment: _Segment, key: str) -> None:
        """The segment (unchanged) kept under `key`: its files renamed (the index last)."""
        if self.broken:
            return
        try:
            for suffix in (f".{self.format}", ".idx"):
                old, new = (self.directory / f"{name}{suffix}" for name in (segment.key, key))
                if old != new:
                    os.replace(old, new)
                os.utime(new)  # used: kept another KEEP_DAYS days
        except OSError as exc:
            self._give_up(exc)

    def _rewrite(self, segment: _Segment, plan: _Plan, key: str) -> None:
        """The segment as `plan` gives it kept under `key`."""
        keeper = self._keeper(key)
        if keeper is None:
            return
        try:
            _write_pieces(segment.handle, plan.pieces, _Out(keeper.text, 0))
        except OSError as exc:
            keeper.give_up()
            self._give_up(exc)
            return
        self._keep(keeper, plan.ids, plan.sizes)
        if not keeper.failed and not self.broken and segment.key != key:
            for suffix in (".idx", f".{self.format}"):  # the old generation's: of no more use
                with contextlib.suppress(OSError):
                    (self.directory / f"{segment.key}{suffix}").unlink()

    def _keeper(self, key: str) -> _Keeper | None:
        if self.broken:
            return None
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            handle = open(  # noqa: SIM115 - closed by `_keep` or `_Keeper.give_up`
                self.directory / f"{_TEMPORARY}{key}.{os.getpid()}", "wb"
            )
        except OSError as exc:
            self._give_up(exc)
            return None
        return _Keeper(self, key, handle)

    def _keep(self, keeper: _Keeper, ids: array, sizes: array) -> None:
        if keeper.failed:
            return
        try:
            keeper.text.flush()
            size = keeper.handle.tell()
            keeper.text.close()
            if size != sum(sizes):  # the records' sizes are not the file's: not kept
                keeper.give_up()
                return
            os.replace(keeper.handle.name, self.directory / f"{keeper.key}.{self.format}")
            self._write_file(f"{keeper.key}.idx", marshal.dumps((ids.tobytes(), sizes.tobytes())))
        except OSError as exc:
            keeper.give_up()
            self._give_up(exc)

    def _write_file(self, name: str, data: bytes) -> None:
        if self.broken:
            return
        partial = self.directory / f"{_TEMPORARY}{name}.{os.getpid()}"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            partial.write_bytes(data)
            os.replace(partial, self.directory / name)
        except OSError as exc:
            with contextlib.suppress(OSError):
                partial.unlink()
            self._give_up(exc)

    def _give_up(self, error: OSError) -> None:
        if not self.broken:
            self.broken = True
            print(
                f"grayhound: the price history cache in {self.directory} could not be written"
                f" ({error.strerror or error}); the report is whole, rendered without it",
                file=sys.stderr,
            )

    def prune(self, days: float = KEEP_DAYS) -> None:
        """Remove the files unused for `days` days, and files left half-written a day ago."""
        now = time.time()
        with contextlib.suppress(OSError):
            for entry in os.scandir(self.directory):
                with contextlib.suppress(OSError):
                    age = now - entry.stat().st_mtime
                    if (_NAME(entry.name) and age > days * 86_400) or (
                        entry.name.startswith(_TEMPORARY) and age > 86_400
                    ):
                        os.unlink(entry.path)


def _snapshot(rows, flags: bool) -> _Snapshot:
    """The snapshot of a model's kept listings from `Store.price_kept_rows` (by first run and
    id): each one's first run and a digest of its row but its flag (16 bytes: a model's
    snapshot is a few MiB, not its listings' names), and (`flags`: JSON) the listings whose
    points say current; the generation a digest of them all."""
    listings: dict[int, tuple[int, bytes]] = {}
    current: set[int] = set()
    generation = hashlib.sha256()
    blake2b, dumps = hashlib.blake2b, marshal.dumps
    for row in rows:
        digest = blake2b(dumps(row[2:-1], 4), digest_size=16).digest()
        listings[row[1]] = (row[0], digest)
        flag = flags and bool(row[-1])
        if flag:
            current.add(row[1])
        generation.update(dumps((row[0], row[1], flag), 4) + digest)
    return _Snapshot(generation.hexdigest(), listings, current)


def _usable(before: _Snapshot | None, now: _Snapshot, wanted: list[int]) -> tuple[list, set, set]:
    """The runs of `wanted` whose segment for `before` can give `now`'s (no listing first
    seen in it or before came or changed), the listings gone since `before`, and the
    listings kept whose flag changed."""
    if before is None:
        return [], set(), set()
    known = before.listings
    moved = [entry[0] for listing, entry in now.listings.items() if known.get(listing) != entry]
    limit = min(moved, default=None)
    usable = [run for run in wanted if limit is None or run < limit]
    flipped = (before.current ^ now.current).intersection(known, now.listings)
    return usable, known.keys() - now.listings.keys(), flipped


def _write_pieces(handle: IO[bytes], pieces: list, out: _Out) -> None:
    """A segment's `pieces` (`_Plan.pieces`, read from `handle`) into `out`: its byte ranges
    copied (`copy_into`: inside the kernel into a file), its patched records written."""
    for piece in pieces:
        if type(piece) is _Patch:
            out.write(piece.record(handle).decode("utf-8"))
            continue
        first, end = piece
        first += out.take()
        handle.seek(first)
        copy_into(out.stream, handle, end - first)


def _cached(history) -> bool:
    """Whether the cache can write this history: the store's rows of a model, read from a
    store that can copy its kept listings (`Store.price_kept_table`)."""
    source = getattr(history, "source", None)
    return isinstance(history, PriceHistoryRows) and hasattr(source, "price_kept_table")


_SEPARATOR = ", "  # before each JSON point in a segment


class _Out:
    """The report's stream; `skip`: the characters left out of what comes first (a JSON
    history's first point is written without its ", ")."""

    def __init__(self, stream: IO[str], skip: int) -> None:
        self.stream, self.skip = stream, skip

    def write(self, text: str) -> int:
        if text:
            if self.skip:
                text, self.skip = text[self.skip :], 0
            self.stream.write(text)
        return len(text)

    def take(self) -> int:
        """The characters (one byte each) to leave out of bytes copied next."""
        skip, self.skip = self.skip, 0
        return skip


class _Keeper:
    """A segment being written: the report's text goes to its stream and to the file; a
    failure to write the file only gives the cache up."""

    def __init__(self, cache: HistoryCache, key: str, handle: IO[bytes]) -> None:
        self.cache, self.key, self.handle = cache, key, handle
        self.text = io.TextIOWrapper(handle, encoding="utf-8", newline="")
        self.failed = False

    def tee(self, stream: IO[str]) -> _Tee:
        return _Tee(stream, self)

    def write(self, text: str) -> None:
        if self.failed:
            return
        try:
            self.text.write(text)
        except OSError as exc:
            self.give_up()
            self.cache._give_up(exc)

    def give_up(self) -> None:
        self.failed = True
        with contextlib.suppress(OSError, ValueError):
            self.text.close()
        with contextlib.suppress(OSError):
            os.unlink(self.handle.name)


class _Tee:
    def __init__(self, stream: IO[str], keeper: _Keeper) -> None:
        self.stream, self.keeper = stream, keeper

    def write(self, text: str) -> int:
        self.stream.write(text)
        self.keeper.write(text)
        return len(text)
