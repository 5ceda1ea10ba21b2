"""prices.html's chart (`reports/pricing/svgchart.py`): what the matplotlib chart showed — a line
per seller with its prices, date and price axes, a legend, the MSRP and landed-cost lines — as
well-formed SVG, any span of crawl runs, page text escaped, without importing matplotlib."""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from reports.pricing.competitors import PricePoint
from reports.pricing.history import summarize
from reports.pricing.svgchart import price_chart_svg

SVG = "{http://www.w3.org/2000/svg}"
START = datetime(2026, 12, 3, 4, 28, 11, tzinfo=UTC)


def model(msrp=999.0, landed=576.0):
    return SimpleNamespace(model="Xiaomi 14", msrp_converted=msrp, landed_converted=landed)


def history(span: timedelta, sellers=("Shop A", "Shop B"), runs=3):
    """(run, time, seller, source, listing, point, current) points: each seller once a run."""
    points = []
    for run in range(runs):
        at = (START + span * run / max(runs - 1, 1)).isoformat().replace("+00:00", "Z")
        for n, seller in enumerate(sellers):
            price = 500.0 + 10 * n - run
            points.append((run + 1, at, seller, "shop", n, PricePoint(price, "USD", price), True))
    return summarize(points)


def texts(svg: str) -> list[str]:
    return [element.text or "" for element in ET.fromstring(svg).iter(f"{SVG}text")]


@pytest.mark.parametrize(
    "span",
    [timedelta(0), timedelta(seconds=40), timedelta(minutes=20), timedelta(hours=4, minutes=9),
     timedelta(hours=40), timedelta(days=45), timedelta(days=700)],
    ids=["one-run", "40s", "20min", "4h09", "40h", "45d", "700d"],
)  # fmt: skip
def test_the_chart_has_date_and_price_axes_for_any_span(span):
    svg = price_chart_svg(model(), "USD", history(span, runs=1 if not span else 3))
    shown = texts(svg)
    tree = ET.fromstring(svg)
    dates = [t.text for t in tree.iter(f"{SVG}text") if t.get("y") == str(12 + 270 + 17)]
    assert 2 <= len(dates) <= 8, dates
    assert any(re.fullmatch(r"20\d\d-\d\d-\d\d", text) for text in shown)  # a date, once at least
    assert "$500.00" in shown or "$480.00" in shown or "$490.00" in shown  # round prices
    assert "cheapest price per seller, USD" in shown


def test_the_chart_draws_each_seller_its_prices_a_legend_and_the_reference_lines():
    svg = price_chart_svg(model(), "USD", history(timedelta(days=2)))
    tree = ET.fromstring(svg)
    lines = [g for g in tree.iter(f"{SVG}g") if g.get("class") == "seller"]
    assert len(lines) == 2
    for line in lines:
        assert line.find(f"{SVG}path").get("d").count("V") == 2  # three runs, two steps
        assert len(line.findall(f"{SVG}circle")) == 3
    hover = [c.find(f"{SVG}title").text for c in lines[0].findall(f"{SVG}circle")]
    assert hover[0] == "Shop A (shop): $500.00 on 2026-12-03 04:28"
    shown = texts(svg)
    assert "Shop A (shop)" in shown and "Shop B (shop)" in shown
    assert "MSRP $999.00" in shown and "your landed cost $576.00" in shown
    without = price_chart_svg(model(None, None), "USD", history(timedelta(days=2)))
    assert "MSRP" not in without and "landed" not in without


def test_a_hostile_seller_name_is_text_in_the_chart():
    name = '<script>alert(1)</script> & "Co" \x1b[31m'
    svg = price_chart_svg(model(), "USD", history(timedelta(hours=3), sellers=(name,)))
    assert "<script>" not in svg and "\x1b" not in svg
    assert '&lt;script&gt;alert(1)&lt;/script&gt; &amp; "Co"' in svg.replace("&#34;", '"')
    assert "<script>alert(1)</script>" in "".join(texts(svg))  # the name, read back as text


def test_times_stored_without_an_offset_are_drawn_too():
    points = [
        (
            run,
            f"2026-12-0{run}T04:28:11",
            "Shop A",
            "shop",
            1,
            PricePoint(500.0, "USD", 500.0),
            True,
        )
        for run in (1, 2, 3)
    ]
    svg = price_chart_svg(model(), "USD", summarize(points))
    assert "2026-12-02" in texts(svg)


def test_a_history_mixing_times_with_and_without_an_offset_is_drawn_as_utc():
    # an imported or hand-made store: one run's time written without its Z
    at = ("2026-12-01T04:00:00", "2026-12-02T04:00:00Z", "2026-12-03T04:00:00+00:00")
    points = [
        (run, when, "Shop A", "shop", 1, PricePoint(500.0 + run, "USD", 500.0 + run), True)
        for run, when in enumerate(at, 1)
    ]
    svg = price_chart_svg(model(), "USD", summarize(points))
    assert "2026-12-02" in texts(svg)
    assert len(ET.fromstring(svg).findall(f".//{SVG}circle")) == 3 + 1  # three runs, the legend


def test_prices_too_close_together_for_a_step_still_give_a_chart():
    points = [
        (run, f"2026-12-0{run}T04:00:00Z", "Shop A", "shop", 1, PricePoint(p, "USD", p), True)
        for run, p in ((1, 1e-323), (2, 2e-323))
    ]
    svg = price_chart_svg(model(msrp=None, landed=None), "USD", summarize(points))
    assert svg is not None and "nan" not in svg.casefold()
    assert len(ET.fromstring(svg).findall(f".//{SVG}circle")) == 2 + 1  # two runs, the legend


def test_a_price_that_is_not_a_number_is_left_out_and_none_gives_no_chart():
    nan = float("nan")
    points = [
        (1, "2026-12-03T04:28:11Z", "Shop A", "shop", 1, PricePoint(nan, "USD", nan), True),
        (2, "2026-12-04T04:28:11Z", "Shop A", "shop", 1, PricePoint(510.0, "USD", 510.0), True),
    ]
    svg = price_chart_svg(model(), "USD", summarize(points))
    assert "nan" not in svg.casefold() and len(ET.fromstring(svg).findall(f".//{SVG}circle")) == 2
    assert price_chart_svg(model(), "USD", summarize(points[:1])) is None


def test_the_same_data_gives_the_same_bytes_and_matplotlib_is_not_imported():
    assert price_chart_svg(model(), "USD", history(timedelta(hours=5))) == price_chart_svg(
        model(), "USD", history(timedelta(hours=5))
    )
    code = (
        "import sys; from reports.pricing import render, svgchart;"
        "print('matplotlib' in sys.modules)"
    )
    imported = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert imported.stdout.strip() == "False", imported.stderr
