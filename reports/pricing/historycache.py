"""The CSV price history of past crawl runs kept rendered between reports (issue 19).

Most of a CSV price report is its history: a record per observation of every listing the
report keeps, crawl run after crawl run. Rendered afresh, it costs what the whole history
holds, and it grows with every crawl. But a crawl run's part of a model's history (a
*segment*: its records, one after the other, in the report's order) is made from few
things, and once the run is over they rarely change. So each segment is kept in a file,
under the key (SHA-256) of everything its bytes are made from:

- the code that renders it (the source text of the modules listed in `_CODE`);
- the report's currency, the rates it converts with, the condition, the model's brand and
  name and the model names its listings are stored under;
- the crawl run: its id and status, and the ids of its first and last observation
  (observations are only ever added, never changed);
- the model's kept listings (those the report keeps, gone ones too) first observed in that
  run or an earlier one, each with what its records read besides its observations: its
  source, its seller id, its own and its seller row's name and domain. A listing re-judged,
  its seller renamed, a listing gone from the model change the key of every segment since
  the listing's first run; a listing first seen later leaves them alone.

A report then renders only the segments whose key it has not met: on a day's crawl, the new
run's. A run still running is never kept. The files' names are the key, the records and the
bytes (`<key>.<records>.<bytes>.csv`): a file of another size (a write cut short) is not
used. A file is written beside its final name and renamed when complete; any error writing
the cache leaves the report as it is (the cache is given up for the rest of it, and said
once). Files unused for `KEEP_DAYS` days are removed after a report."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import sys
import time
from dataclasses import dataclass, field
from functools import cache
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from typing import IO

from reports.parallel import copy_into
from reports.pricing import render

FORMAT = "csv"
KEEP_DAYS = 7
_NAME = re.compile(r"([0-9a-f]{64})\.([0-9]+)\.([0-9]+)\.csv").fullmatch
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
def code_digest() -> bytes:
    root = Path(__file__).resolve().parents[2]
    digest = hashlib.sha256()
    for name in _CODE:
        digest.update(name.encode() + b"\0" + (root / name).read_bytes() + b"\0")
    return digest.digest()


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
    _index: dict[str, tuple[Path, int, int]] | None = None  # key → (path, records, bytes)
    _spans: dict[int, tuple] = field(default_factory=dict)  # run → its span (RUN_SPAN_SQL)

    @classmethod
    def of_job(cls, job) -> HistoryCache | None:
        """The cache of a report (`reports.pricing.parts.PriceJob`); None without one."""
        if job.cache_dir is None:
            return None
        rates = dict(job.config.pricing.rates)
        return cls(Path(job.cache_dir) / "prices", job.currency, rates, job.condition, job.runs)

    def write_csv_history(self, currency: str, model, history, stream: IO[str], cell) -> int:
        """`render.write_csv_history` of a model's history (a `PriceHistoryRows`, maybe of some
        crawl runs only): the segments of past runs copied from the cache where their key is
        there, the rest rendered (and kept). The same bytes, the same count of records."""
        source = history.source
        after, upto = history.runs or (None, None)
        wanted = [
            run["id"]
            for run in self.runs
            if run.get("status") != "running"
            and type(run["id"]) is int
            and (after is None or run["id"] > after)
            and (upto is None or run["id"] <= upto)
        ]
        table = source.price_kept_table(history.names, history.condition, history.newest)
        try:
            keys = self._keys(source, table, model, history.names, sorted(wanted))
            hits = self._hits(keys)
            try:
                return self._write(
                    source, table, model, history, keys, hits, currency, stream, cell
                )
            finally:
                for handle, _, _ in hits.values():
                    handle.close()
        finally:
            source.drop_price_kept_table(table)

    def _write(self, source, table, model, history, keys, hits, currency, stream, cell) -> int:
        """The history's runs in order: a stretch of runs without a segment in the cache read
        and rendered in one statement (each kept run's records kept as they pass), then the
        next segment found copied."""
        after, upto = history.runs or (None, None)
        count = 0
        start = after
        for run in sorted(hits):
            count += self._render(
                source, table, model, history, (start, run - 1), keys, currency, stream, cell
            )
            handle, records, size = hits[run]
            copy_into(stream, handle, size)
            count += records
            start = run
        return count + self._render(
            source, table, model, history, (start, upto), keys, currency, stream, cell
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
        rows = source.model_price_history_of(table, runs)
        memo = render.csv_history_memo()
        for run, group in groupby(rows, key=itemgetter(0)):
            key = missing.pop(run, None)
            keeper = self._keeper(key) if key is not None else None
            into = stream if keeper is None else keeper.tee(stream)
            records = render.write_csv_history_rows(
                currency, model, group, history.prices, into, cell, memo
            )
            count += records
            if keeper is not None:
                self._keep(keeper, records)
        for key in missing.values():  # a run without records for this model: kept empty
            keeper = self._keeper(key)
            if keeper is not None:
                self._keep(keeper, 0)
        return count

    # -- keys -----------------------------------------------------------------------------
    def _keys(self, source, table, model, names, runs: list[int]) -> dict[int, str]:
        """The key of each of `runs`' segments of the model (see the module's docstring)."""
        if not runs:
            return {}
        base = hashlib.sha256(code_digest())
        base.update(
            repr(
                (
                    FORMAT,
                    self.currency,
                    sorted(self.rates.items()),
                    self.condition,
                    model.brand,
                    model.model,
                    list(names),
                )
            ).encode()
        )
        digests = {}  # run → the digest of the kept listings first seen in it or before
        listings = hashlib.sha256()
        pending = iter(runs)
        run = next(pending, None)
        for first, rows in groupby(source.price_kept_rows(table), key=itemgetter(0)):
            while run is not None and (first is None or run < first):
                digests[run] = listings.digest()
                run = next(pending, None)
            listings.update(repr(list(rows)).encode())
        while run is not None:
            digests[run] = listings.digest()
            run = next(pending, None)
        keys = {}
        for run in runs:
            key = base.copy()
            key.update(repr(self._span(source, run)).encode() + b"\0" + digests[run])
            keys[run] = key.hexdigest()
        return keys

    def _span(self, source, run: int) -> tuple:
        span = self._spans.get(run)
        if span is None:
            status = next((r.get("status") for r in self.runs if r["id"] == run), None)
            span = self._spans[run] = (run, status, *source.price_run_span(run))
        return span

    # -- files ----------------------------------------------------------------------------
    def _hits(self, keys: dict[int, str]) -> dict[int, tuple[IO[bytes], int, int]]:
        """The segments of `keys` found, each open (a file of another size is not used)."""
        index = self._found()
        hits = {}
        for run, key in keys.items():
            found = index.get(key)
            if found is None:
                continue
            path, records, size = found
            try:
                handle = open(path, "rb")  # noqa: SIM115 - closed by the caller
            except OSError:
                continue
            if os.fstat(handle.fileno()).st_size != size:
                handle.close()
                continue
            with contextlib.suppress(OSError):
                os.utime(path)  # used: kept another KEEP_DAYS days
            hits[run] = (handle, records, size)
        return hits

    def _found(self) -> dict[str, tuple[Path, int, int]]:
        if self._index is None:
            self._index = {}
            with contextlib.suppress(OSError):
                for entry in os.scandir(self.directory):
                    match = _NAME(entry.name)
                    if match:
                        key, records, size = match.groups()
                        self._index[key] = (Path(entry.path), int(records), int(size))
        return self._index

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

    def _keep(self, keeper: _Keeper, records: int) -> None:
        if keeper.failed:
            return
        try:
            keeper.text.flush()
            size = keeper.handle.tell()
            keeper.text.close()
            final = self.directory / f"{keeper.key}.{records}.{size}.csv"
            os.replace(keeper.handle.name, final)
            self._found()[keeper.key] = (final, records, size)
        except OSError as exc:
            keeper.give_up()
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
        """Remove the segments unused for `days` days, and files left half-written a day ago."""
        now = time.time()
        with contextlib.suppress(OSError):
            for entry in os.scandir(self.directory):
                with contextlib.suppress(OSError):
                    age = now - entry.stat().st_mtime
                    if (_NAME(entry.name) and age > days * 86_400) or (
                        entry.name.startswith(_TEMPORARY) and age > 86_400
                    ):
                        os.unlink(entry.path)


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
