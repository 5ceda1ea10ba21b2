"""The CSV price history of past crawl runs kept rendered between reports (issue 19).

Most of a CSV price report is its history: a record per observation of every listing the
report keeps, crawl run after crawl run. Rendered afresh, it costs what the whole history
holds, and that grows with every crawl. But a crawl run's part of a model's history (a
*segment*: its records, one after the other, in the report's order) is made from few things,
and once the run is over most of them no longer change. A day's crawl adds a run; the
listings it brings are first seen in it; the listings that go (judgements retired) take their
records out of every run.

So each model keeps, in the cache directory:

- a *snapshot* of its kept listings (`<model key>.base`): each listing's id, its first crawl
  run and a digest of what its records read besides its observations (its source, its
  seller, the listing's and the seller record's name and domain); the snapshot's
  *generation* is a digest of all of it;
- each past run's segment (`<segment key>.csv`, its records' listings and sizes in bytes
  beside it in `<segment key>.idx`), the key naming the model, the run (its id, status, first and last
  observation: observations are only ever added) and the generation it was made for.

The model key is a digest of the rendering code (the source of the modules in `_CODE`), the
report's currency, rates and condition, and the model's brand, name and stored names.

A report compares the model's kept listings now with its snapshot. A segment of run r is
used if no listing first seen in run r or before came or changed since; the records of the
listings gone are cut out of it as it is copied. The segments are then stored for the new
generation (renamed where nothing was cut, rewritten where something was), the runs that
could not be used are rendered and stored, and the snapshot is replaced. A segment file is
used only with its index and only at the size its index gives; files are written beside their
names and renamed when whole; any error writing the cache leaves the report as it is (the cache
is given up for the rest of it, and said once). Files unused for `KEEP_DAYS` days are removed
after a report."""

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
from typing import IO

from reports.parallel import copy_into
from reports.pricing import render
from reports.pricing.build import PriceHistoryRows

FORMAT = "csv"
KEEP_DAYS = 7
_NAME = re.compile(r"([0-9a-f]{64})\.(csv|idx|base)").fullmatch
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
    observations: the rest of its row of `Store.price_kept_rows`)."""

    generation: str
    listings: dict[int, tuple[int, bytes]]


@dataclass
class _Segment:
    handle: IO[bytes]
    ids: array  # each record's listing, in order
    sizes: array  # each record's size in bytes
    key: str


@dataclass
class HistoryCache:
    """The segments of one report (its currency, rates and condition) in `directory`; `runs`
    the store's crawl runs as the report read them (`Store.runs`)."""

    directory: Path
    currency: str
    rates: dict
    condition: str
    runs: list[dict]
    broken: bool = False  # a write failed: nothing more is written for this report
    _spans: dict[int, tuple] = field(default_factory=dict)  # run → its span (RUN_SPAN_SQL)

    @classmethod
    def of_job(cls, job) -> HistoryCache | None:
        """The cache of a report (`reports.pricing.parts.PriceJob`); None without one."""
        if job.cache_dir is None or code_digest() is None:
            return None
        rates = dict(job.config.pricing.rates)
        return cls(Path(job.cache_dir) / "prices", job.currency, rates, job.condition, job.runs)

    def write_csv_history(self, currency: str, model, history, stream: IO[str], cell) -> int:
        """`render.write_csv_history` of a model's history (a `PriceHistoryRows`, maybe of some
        crawl runs only): the segments of past runs the cache can give copied, the rest
        rendered, and the cache brought up to date. The same bytes, the same records."""
        source = getattr(history, "source", None)
        if not isinstance(history, PriceHistoryRows) or not hasattr(source, "price_kept_table"):
            return render.write_csv_history(currency, model, history, stream, cell)
        wanted = self._cacheable(*(history.runs or (None, None)))
        table = source.price_kept_table(history.names, history.condition, history.newest)
        try:
            return self._write(source, table, model, history, wanted, currency, stream, cell)
        finally:
            source.drop_price_kept_table(table)

    def _write(self, source, table, model, history, wanted, currency, stream, cell) -> int:
        """`wanted`: the runs of the history whose segments are kept (`_cacheable`)."""
        model_key = self._model_key(model, history.names)
        now = _snapshot(source.price_kept_rows(table))
        before = self._load_snapshot(model_key)
        usable, gone = _usable(before, now, wanted)
        found = {
            run: segment
            for run in usable
            if (segment := self._open(self._segment_key(model_key, source, run, before)))
        }
        try:
            keys = {run: self._segment_key(model_key, source, run, now) for run in wanted}
            count = self._copy_and_render(
                source, table, model, history, keys, found, gone, currency, stream, cell
            )
        finally:
            for segment in found.values():
                segment.handle.close()
        if before is None or before.generation != now.generation:
            self._save_snapshot(model_key, now)
        return count

    def _copy_and_render(
        self, source, table, model, history, keys, found, gone, currency, stream, cell
    ) -> int:
        """The history's runs in order: a stretch of runs without a usable segment read and
        rendered in one statement (each kept run's records kept under its key in `keys` as
        they pass), then the next segment copied without the records of the listings gone
        (and kept under its key)."""
        after, upto = history.runs or (None, None)
        count, start = 0, after
        for run in sorted(found):
            count += self._render(source, table, model, history, (start, run - 1), keys,
                                  currency, stream, cell)  # fmt: skip
            count += self._copy(found[run], gone, stream, keys[run])
            start = run
        return count + self._render(
            source, table, model, history, (start, upto), keys, currency, stream, cell
        )

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

    def _render(self, source, table, model, history, runs, keys, currency, stream, cell) -> int:
        after, upto = runs
        if after is not None and upto is not None and upto <= after:
            return 0
        missing = {
            run: key
            for run, key in keys.items()
            if (after is None or run > after) and (upto is None or run <= upto)
        }
        count = 0
        memo = render.csv_history_memo()
        for run, group in groupby(source.model_price_history_of(table, runs), key=itemgetter(0)):
            key = missing.pop(run, None)
            keeper = self._keeper(key) if key is not None else None
            into, marks = (stream, None) if keeper is None else (keeper.tee(stream), [])
            try:
                records = render.write_csv_history_rows(
                    currency, model, group, history.prices, into, cell, memo, marks
                )
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

    def _copy(self, segment: _Segment, gone: set, stream, key: str) -> int:
        """A segment's records into `stream` without those of the listings `gone`; the
        segment kept under `key` (for `now`): renamed where nothing was cut, else rewritten."""
        present = gone.intersection(segment.ids)
        cut = (
            [at for at, listing in enumerate(segment.ids) if listing in present] if present else []
        )
        sizes = segment.sizes
        ranges, start, done = [], 0, 0  # done: the records summed into `start`
        for at in cut:
            first = start + sum(sizes[done:at])
            if first > start:
                ranges.append((start, first))
            start, done = first + sizes[at], at + 1
        end = start + sum(sizes[done:])
        if end > start:
            ranges.append((start, end))
        for first, last in ranges:
            segment.handle.seek(first)
            copy_into(stream, segment.handle, last - first)
        if not cut:
            self._rename(segment, key)
        else:
            self._rewrite(segment, cut, ranges, key)
        return len(segment.ids) - len(cut)

    # -- keys -----------------------------------------------------------------------------
    def _model_key(self, model, names) -> str:
        key = hashlib.sha256(code_digest())
        key.update(
            repr(
                (FORMAT, self.currency, sorted(self.rates.items()), self.condition,
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
            generation, ids, firsts, digests = marshal.loads(path.read_bytes())
            ids, firsts = array("q", ids), array("q", firsts)
            if not len(ids) == len(firsts) == len(digests) // 16:
                return None
            parts = (digests[at : at + 16] for at in range(0, len(digests), 16))
            entries = zip(firsts, parts, strict=True)
            snapshot = _Snapshot(generation, dict(zip(ids, entries, strict=True)))
        except (OSError, ValueError, TypeError, EOFError):
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # used: kept another KEEP_DAYS days
        return snapshot

    def _save_snapshot(self, model_key: str, snapshot: _Snapshot) -> None:
        ids = array("q", snapshot.listings)
        firsts = array("q", (first for first, _ in snapshot.listings.values()))
        digests = b"".join(digest for _, digest in snapshot.listings.values())
        data = marshal.dumps((snapshot.generation, ids.tobytes(), firsts.tobytes(), digests), 4)
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
            handle = open(self.directory / f"{key}.csv", "rb")  # noqa: SIM115 - closed by caller
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
            for suffix in (".csv", ".idx"):
                old, new = (self.directory / f"{name}{suffix}" for name in (segment.key, key))
                if old != new:
                    os.replace(old, new)
                os.utime(new)  # used: kept another KEEP_DAYS days
        except OSError as exc:
            self._give_up(exc)

    def _rewrite(self, segment: _Segment, cut: list[int], ranges, key: str) -> None:
        """The segment without its `cut` records kept under `key`."""
        keeper = self._keeper(key)
        if keeper is None:
            return
        try:
            for first, last in ranges:
                segment.handle.seek(first)
                keeper.handle.write(segment.handle.read(last - first))
        except OSError as exc:
            keeper.give_up()
            self._give_up(exc)
            return
        ids, sizes, done = array("q"), array("q"), 0
        for at in cut:  # the arrays without the records cut: slices, copied in C
            ids.extend(segment.ids[done:at])
            sizes.extend(segment.sizes[done:at])
            done = at + 1
        ids.extend(segment.ids[done:])
        sizes.extend(segment.sizes[done:])
        self._keep(keeper, ids, sizes)
        if not keeper.failed and not self.broken and segment.key != key:
            for suffix in (".idx", ".csv"):  # the old generation's: no longer of use
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
            os.replace(keeper.handle.name, self.directory / f"{keeper.key}.csv")
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


def _snapshot(rows) -> _Snapshot:
    """The snapshot of a model's kept listings from `Store.price_kept_rows` (by first run and
    id): each one's first run and a digest of the rest of its row (16 bytes: a model's
    snapshot is a few MiB, not its listings' names); the generation a digest of them all."""
    listings: dict[int, tuple[int, bytes]] = {}
    generation = hashlib.sha256()
    blake2b, dumps = hashlib.blake2b, marshal.dumps
    for row in rows:
        digest = blake2b(dumps(row[2:], 4), digest_size=16).digest()
        listings[row[1]] = (row[0], digest)
        generation.update(dumps((row[0], row[1]), 4) + digest)
    return _Snapshot(generation.hexdigest(), listings)


def _usable(before: _Snapshot | None, now: _Snapshot, wanted: list[int]) -> tuple[list, set]:
    """The runs of `wanted` whose segment for `before` can give `now`'s (no listing first
    seen in it or before came or changed), and the listings gone since `before`."""
    if before is None:
        return [], set()
    known = before.listings
    moved = [entry[0] for listing, entry in now.listings.items() if known.get(listing) != entry]
    limit = min(moved, default=None)
    usable = [run for run in wanted if limit is None or run < limit]
    return usable, known.keys() - now.listings.keys()


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
