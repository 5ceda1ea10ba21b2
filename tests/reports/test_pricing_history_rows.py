"""A model's price history written from the store's rows (`write_csv_history`,
`_history_json`) is what the plain rules write for each point: the CSV record `csv.writer`
makes of its `csv_cell`s, the JSON `json.dumps` makes of the point. Whatever the times are: a
real crawl gives each observation a time of its own (the shortcuts for one time a run must
not be all they handle), in the store's form or another, hostile ones included."""

from __future__ import annotations

import csv
import io
import json
import random
from decimal import Decimal, InvalidOperation

import pytest

from reports.currency import Converter
from reports.pricing.build import HistoryPoint, PriceHistoryRows, PricePoints, plain
from reports.pricing.competitors import _amount, parse_amount, point_of
from reports.pricing.render import CSV_FIELDS, _history_json, write_csv_history
from reports.tabular import cell_writer, csv_cell

TIMES = (
    "2026-02-01T10:00:00.000Z",  # the store's form (`utc_now`)
    "2026-02-01T10:00:00Z",  # seconds only
    "2026-02-01T10:00:00.123456Z",  # microseconds
    "2026-02-01T10:00:00+00:00",  # another ISO form
    "2026-02-01T10:00:00,5Z",  # a decimal comma: a quoted cell
    '2026-02-01T10:00:00"Z',  # a quote
    "2026-02-01T10:00:00.000Z\n",  # a line break after the store's form
    '=HYPERLINK("http://evil.example")',  # a formula
    "-2026-02-01",  # a formula trigger that is not a number
    "2026-02-01;=cmd",  # a trigger after a separator
    "２０２６-02-01T10:00:00.000Z",  # other digits than ASCII
    "",
    None,
    1767261600,  # a number
)
# times that are equal but written apart, one after the other (the store gives text only; a
# history of points may hold anything)
EQUAL_APART = (1, 1.0, True, 0, False, 0.0, -0.0, "1", "1", 1)


class _Store:
    """What `PriceHistoryRows.raw` reads: the rows as the store gives them."""

    def __init__(self, rows):
        self.rows = rows

    def model_price_history(self, names, condition, newest):
        return iter(self.rows)


class _Model:
    brand, model = "xiaomi", "Xiaomi 14 Pro"


def _rows(rng: random.Random) -> list[tuple]:
    """(run, observed_at, seller, source, listing_id, price, currency, is_current) in the
    history's order; per run, either one time for every row or a time of its own for each."""
    rows = []
    for run in range(1, 4):
        shared = rng.random() < 0.5
        run_time = rng.choice(TIMES)
        for listing_id in range(1, 40):
            at = run_time if shared else rng.choice(TIMES)
            if not shared and rng.random() < 0.5:  # each its own, in the store's form
                at = f"2026-02-0{run}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00.{rng.randint(0, 999):03d}Z"
            price = rng.choice(["699.00", "1e3", " 12.5 ", "abc", None, f"{rng.randint(1, 999)}.{rng.randint(0, 99):02d}"])  # fmt: skip
            seller = rng.choice(["Shop", "a,b", "=cmd", ""])
            rows.append((run, at, seller, "bazaar", listing_id, price, rng.choice(["USD", "EUR", None]), rng.random() < 0.7))  # fmt: skip
    for listing_id, at in enumerate(EQUAL_APART, start=40):
        rows.append((4, at, "Shop", "bazaar", listing_id, "10.00", "USD", True))
    return rows


@pytest.mark.parametrize("seed", range(6))
def test_the_history_from_rows_is_each_point_written_plainly(seed):
    converter = Converter("USD", {"EUR": 1.08})
    rows = _rows(random.Random(seed))
    history = PriceHistoryRows(_Store(rows), [], "new", {}, converter, PricePoints(converter))

    out = io.StringIO()
    count = write_csv_history("USD", _Model(), history, out, cell_writer())
    expected, points = io.StringIO(), []
    writer = csv.writer(expected, lineterminator="\n")
    for run, at, seller, source, listing_id, price, currency, is_current in rows:
        row = {"price": price, "currency": currency}
        if price is None or _amount(str(price)) is None:
            continue  # no amount: not in the history
        point = point_of(row, converter)
        points.append(HistoryPoint(run, at, seller, source, listing_id, point, is_current))
        record = {
            "record": "history", "brand": "xiaomi", "model": "Xiaomi 14 Pro",
            "report_currency": "USD", "seller": seller, "source": source,
            "listing_id": listing_id, "crawl_run_id": run, "observed_at": at,
            "price": f"{point.amount:.2f}", "currency": point.currency,
            "price_converted": point.converted,
        }  # fmt: skip
        writer.writerow([csv_cell(record.get(name)) for name in CSV_FIELDS])
    assert count == len(points) > 0
    assert out.getvalue() == expected.getvalue()
    from_points = io.StringIO()  # a history of points, not of the store's rows
    assert write_csv_history("USD", _Model(), tuple(points), from_points, cell_writer()) == count
    assert from_points.getvalue() == expected.getvalue()

    written = [json.loads(text) for text in _history_json(history)]
    assert written == [plain(point) for point in points]
    plainly = [json.dumps(plain(p), sort_keys=True, ensure_ascii=False) for p in points]
    assert list(_history_json(history)) == plainly


@pytest.mark.parametrize(
    "text",
    ["699.00", "699", "699.", ".5", "007.50", "1e3", " 12.5 ", "1_000", "-5", "+5", "NaN",
     "inf", "", ".", "1.2.3", "abc", "１２.５", "٣", "²", "12.345678901234567890"],
)  # fmt: skip
def test_an_amount_is_parsed_as_decimal_reads_it(text):
    """The quick reading of plain digits gives the double `float(Decimal(text))` gives."""
    try:
        expected = float(Decimal(text))
    except (InvalidOperation, ValueError):
        expected = None
    assert repr(parse_amount(text)) == repr(expected) == repr(_amount(text))
