"""The digest's JSON items and CSV rows rendered by SQLite (issue 19, round 5) are the bytes
the Python rendering of each item makes, on hostile text: quotes, line breaks, NUL, tabs, the
unit separator, formulas, right-to-left overrides, emoji, full-width signs."""

from __future__ import annotations

import io
import re
import sqlite3
from json.encoder import encode_basestring

import pytest

from grayhound.pipeline import produce_digest
from reports.currency import format_money
from reports.digest import lines
from reports.digest.build import GROUPS, _ratio, price_sentence, price_text, ratio_of
from reports.digest.jsontext import encoded
from reports.digest.render import CSV_FIELDS, render
from reports.tabular import write_csv
from tests.reports.digest.test_streamed import in_memory

HOSTILE = (
    'Xiaomi "14" Pro, 256GB', "line\nbreak", "carriage\rreturn", "tab\tinside", "nul\x00inside",
    "unit\x1fseparator", '=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "\tleading tab",
    "＝full-width", "a;=cmd", "a,-3", "a|+b", "ü ñ 日本 😀", "\u202eright-to-left",
    "zero\u200bwidth", "\x1b[2Jescape", "\x7fdelete", "it's", "back\\slash", "1,234", '"',
    "\\u0000 literal", "\u2028line separator", "trailing newline\n",
)  # fmt: skip
PRICES = ("449.00", None, "1299.99", "0", "0.10", "12345678.90", "-5.00", "3.333")
CURRENCIES = ("USD", "EUR", None, "CHF", "JPY")


def hostile_day(world, hours: float, shift: int = 0) -> None:
    """Listings and sellers named in hostile text, with every kind of price and judgement."""
    texts = HOSTILE + HOSTILE[: 5 * shift]  # a later day: new listings too
    run = world.run(hours, {"bazaar": world.figures(len(texts))})
    findings = []
    for number, text in enumerate(texts, start=1):
        seller = HOSTILE[(number + shift) % len(HOSTILE)] or "seller"
        listing = world.listing(
            run,
            hours,
            number,
            title=f"{text} {shift}" if number % 4 == 0 else text,
            price=PRICES[(number + shift) % len(PRICES)],
            currency=CURRENCIES[number % len(CURRENCIES)],
            seller=f"{seller} {number % 5}",
            domain=f"{text}.example" if number % 3 == 0 else None,
        )
        verdict, flags = [
            ("impersonation", ["impersonation", "price_low"]),
            ("suspicious", ["suspicious_name", "price_high"]),
            ("clean", ["unauthorized_seller"]),
            ("unauthorized", []),
        ][number % 4]
        findings.append(
            world.finding(
                listing,
                verdict,
                [0.5, 0.123456789, 0.99999, 1.0, 0.1 + 0.2, 0.0][number % 6],
                flags,
                reasons=[text, f"reason {number}: {text!r}", "=1+1"],
                model=text if number % 2 else None,
                msrp=[999.0, None, 0.1 + 0.2, 1e-7][number % 4],
                price_ratio=[None, 0.44999, 1 / 3][number % 3],
                msrp_currency=CURRENCIES[(number + 1) % len(CURRENCIES)],
                brand=text if number % 5 == 0 else "xiaomi",
            )
        )
    world.judge(run, hours + 0.5, *findings)
    sellers = world.store.db.execute("SELECT id FROM sellers ORDER BY id LIMIT 6").fetchall()
    for (seller_id,), text in zip(sellers, HOSTILE, strict=False):
        finding = world.finding(seller_id, "suspicious", 0.8, ["suspicious_name"], reasons=[text])
        world.judge(run, hours + 0.5, {**finding, "subject_kind": "seller"})
    capture = {
        "record_id": f"<urn:uuid:{shift}>",
        "url": f"http://127.0.0.1:8301/item/1.html?{HOSTILE[shift]}",
        "warc_file": f"{HOSTILE[shift + 6]}.warc.gz",
        "offset": 120 + shift,
        "length": 900,
        "payload_sha256": "ab" * 32,
        "fetched_at": world.stamp(hours + 0.1),
    }
    world.store.record_capture(run, capture)
    world.store.link_capture(capture["record_id"], "listing", 1)


@pytest.fixture
def hostile_digests(world, example_config):
    """Digests of the hostile world a day later (prices, titles and sellers moved): against
    the last digest (the store's book) and against another point (a private book)."""
    hostile_day(world, 0)
    produce_digest(world.store, example_config, world.at(1))
    hostile_day(world, 24, shift=1)
    digests = [
        produce_digest(world.store, example_config, world.at(25), record=False),
        produce_digest(world.store, example_config, world.at(25), since="30h", record=False),
    ]
    yield digests
    for digest in digests:
        digest.close()


def test_sqlite_renders_every_code_point_as_json_does():
    text = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000)
    quoted = sqlite3.connect(":memory:").execute("SELECT json_quote(?)", [text]).fetchone()[0]
    assert quoted == encode_basestring(text)


def test_each_json_item_is_the_python_items_text(hostile_digests):
    assert all(hostile_digests[0].counts["groups"].values()), hostile_digests[0].counts
    for digest in hostile_digests:
        for group in GROUPS:
            for pad in ("", "      "):
                python = (",\n" + pad).join(encoded(item, pad) for item in digest.items[group])
                assert "".join(digest.items[group].json_texts(pad)) == python, (group, pad)


def test_each_csv_row_is_the_python_row(hostile_digests):
    for digest in hostile_digests:
        for group in GROUPS:
            stream = io.StringIO()
            digest.items[group].write_csv(stream)
            assert stream.getvalue() == _python_csv(digest.items[group]), group
            assert stream.getvalue().count("'=") >= bool(digest.items[group])  # neutralised


def test_sqlites_cells_are_python_csvs_without_the_formula_fallback(hostile_digests, monkeypatch):
    """Every cell of SQLite's pieces is quoted as the csv module quotes it: with neutralising
    off in both, no line is written from the Python item for a formula (only for a unit
    separator in the data)."""
    monkeypatch.setattr("reports.tabular.FORMULA_PREFIXES", ())
    monkeypatch.setattr("reports.tabular._AFTER_SEPARATOR", re.compile(r"(?!)"))
    monkeypatch.setattr(lines, "formula_risk", lambda text: False)
    for digest in hostile_digests:
        for group in GROUPS:
            stream = io.StringIO()
            digest.items[group].write_csv(stream)
            assert stream.getvalue() == _python_csv(digest.items[group]), group


def _one_cell_world(world, field: str, text: str) -> None:
    """30 plain listings judged; listing 7's `field` (or its capture's WARC file) is `text`."""
    run = world.run(0, {"bazaar": world.figures(30)})

    def value(name: str, plain: str, number: int) -> str:
        return text if number == 7 and name == field else plain

    findings = []
    for number in range(1, 31):
        listing = world.listing(
            run, 0, number, title=value("title", f"plain {number}", number),
            seller=value("seller", "seller", number), domain=value("domain", "d.example", number),
            currency=value("currency", "USD", number), price="449.00",
        )  # fmt: skip
        findings.append(
            world.finding(
                listing,
                "suspicious",
                0.9 - number / 100,
                ["price_low"],
                msrp=999.0,
                brand=value("brand", "xiaomi", number),
                model=value("model", "m", number),
                msrp_currency=value("msrp_currency", "USD", number),
                reasons=["r"],
            )  # fmt: skip
        )
    world.judge(run, 0.5, *findings)
    capture = {
        "record_id": "<urn:uuid:7>", "url": "http://127.0.0.1:8301/item/7.html",
        "warc_file": value("warc_file", "crawl", 7) + ".warc.gz", "offset": 120, "length": 900,
        "payload_sha256": "ab" * 32, "fetched_at": world.stamp(0.1),
    }  # fmt: skip
    world.store.record_capture(run, capture)
    world.store.link_capture(capture["record_id"], "listing", 7)


@pytest.mark.parametrize(
    "field", ["title", "seller", "domain", "currency", "brand", "model", "msrp_currency",
              "warc_file"],
)  # fmt: skip
@pytest.mark.parametrize("text", ["comma, inside", 'a "quote"', "line\nbreak", '",'])
def test_a_cell_to_quote_is_quoted_from_sqlites_pieces(
    world, example_config, monkeypatch, field, text
):
    """SQLite joins the cells unquoted: one cell to quote, in any piece, among plain rows is
    quoted as the csv module quotes it, and its line is not written from the Python item."""
    _one_cell_world(world, field, text)
    from_python = []
    real = lines.write_csv
    monkeypatch.setattr(
        lines, "write_csv", lambda rows, *a, **k: from_python.append(rows) or real(rows, *a, **k)
    )
    digest = produce_digest(world.store, example_config, world.at(1), record=False)
    try:
        written = ""
        for group in GROUPS:
            stream = io.StringIO()
            digest.items[group].write_csv(stream)
            assert stream.getvalue() == _python_csv(digest.items[group]), group
            written += stream.getvalue()
    finally:
        digest.close()
    assert from_python == []
    assert written.count("\n") == 30 + text.count("\n")
    assert '"' in written


def test_the_whole_digest_is_the_in_memory_one(world, example_config, hostile_digests):
    built = in_memory(world.store, example_config, world.at(25))
    for fmt in ("json", "csv"):
        assert render(hostile_digests[0], fmt) == render(built, fmt), fmt


@pytest.mark.parametrize("price", [None, "449.00", "0", "1299.99", "-5.00", "1e3", "0.005"])
@pytest.mark.parametrize("msrp", [None, 0.0, 999.0, 0.1 + 0.2])
@pytest.mark.parametrize("price_ratio", [None, 0.44999, 1 / 3])
@pytest.mark.parametrize(
    "currencies", [("USD", "USD"), ("EUR", "USD"), (None, None), ("CHF", None)]
)
def test_the_price_ratio_and_sentence_are_builds(price, msrp, price_ratio, currencies):
    currency, msrp_currency = currencies
    row = {"price": price, "msrp": msrp, "price_ratio": price_ratio}
    row.update(currency=currency, msrp_currency=msrp_currency)
    ratio = ratio_of(price_ratio, msrp, price, currency, msrp_currency)
    assert ratio == _ratio(row)
    sentence = price_sentence(price, currency, msrp, msrp_currency, ratio, lines._money)
    assert sentence == price_text(row)
    assert format_money(1234.5, "USD") == "$1,234.50"


def _python_csv(items) -> str:
    buffer = io.StringIO()
    rows = ({**item, "capture": lines.capture_ref(item)} for item in items)
    write_csv(rows, CSV_FIELDS, buffer, header=False)
    return buffer.getvalue()


def test_a_price_ratio_of_minus_zero_is_written_as_python_writes_it(world, example_config):
    """A ratio made from the price (no stored ratio) is -0.0 for a price of "-0.00": Python's
    JSON and CSV write "-0.0", and a cached "0.0" of another listing must not stand in for it
    (0.0 and -0.0 are one key of a dict)."""
    run = world.run(0, {"bazaar": world.figures(3)})
    findings = []
    for number, price in enumerate(("0.00", "-0.00", "0.00"), start=1):
        listing = world.listing(run, 0, number, title=f"Redmi {number}", price=price)
        findings.append(
            world.finding(listing, "suspicious", 0.9 - number / 100, ["price_low"], msrp=5.0)
        )
    world.judge(run, 0.5, *findings)
    produce_digest(world.store, example_config, world.at(1))
    digest = produce_digest(world.store, example_config, world.at(2), record=False)
    built = in_memory(world.store, example_config, world.at(2))
    for fmt in ("json", "csv"):
        assert render(digest, fmt) == render(built, fmt), fmt
    assert '"price_ratio": -0.0' in render(digest, "json")
    digest.close()
