"""`grayhound prices --format table`: the competitor pricing report in the terminal (rich).

Every cell built from crawled text is a `rich.text.Text` of `terminal_text`: a seller called
"[bold]x" stays literal instead of being read as console markup, and one whose name carries
escape sequences (clear screen, window title, hyperlink) prints them as nothing."""

from __future__ import annotations

import dataclasses
from typing import IO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from grayhound.text import terminal_text
from reports.currency import format_money, format_signed, format_with_conversion
from reports.pricing.build import ModelPricing, PriceReport

TOP_COMPETITORS = 5  # per model in the terminal; CSV, JSON and HTML list every seller
FILE_WIDTH = 160  # columns when writing to a pipe or file


def print_table(report: PriceReport, stream: IO[str]) -> None:
    """Fits a terminal's width; a pipe or file gets WIDE columns rather than 80."""
    print_shown(report, shown_models(report.models), stream)


def shown_models(models) -> list[tuple[ModelPricing, int]]:
    """What the table shows of each model: its figures and cheapest sellers, with how many
    sellers it has (the overview comes first, so every model is kept until it is printed)."""
    return [
        (
            dataclasses.replace(m, competitors=m.competitors[:TOP_COMPETITORS], history=()),
            len(m.competitors),
        )
        for m in models
    ]


def print_shown(
    report: PriceReport, shown: list[tuple[ModelPricing, int]], stream: IO[str]
) -> None:
    """The table of `shown_models`, under the report's title line."""
    width = None if stream.isatty() else FILE_WIDTH
    console = Console(file=stream, width=width, highlight=False, soft_wrap=False)
    condition = report.condition + (" (and unstated)" if report.condition == "new" else "")
    console.print(
        Text(
            f"Competitor pricing in {report.currency} · condition {condition} · "
            f"data as of {(report.data_as_of or '—')[:10]}"
        )
    )
    console.print(_overview(report, [model for model, _ in shown]))
    for model, count in shown:
        if model.competitors:
            console.print(_competitors(model, count, report.currency))


def _overview(report: PriceReport, models: list[ModelPricing]) -> Table:
    table = Table(title="Per model", title_justify="left")
    for name in ("Model", "Sellers", "Listings", "Lowest", "Median", "Highest", "vs MSRP"):
        table.add_column(name, justify="left" if name == "Model" else "right")
    table.add_column("Below your cost", justify="right")
    money = report.currency
    for model in models:
        not_converted = model.unknown_currency + model.no_rate
        table.add_row(
            Text(terminal_text(model.model)),
            str(model.sellers),
            f"{model.listings}" + (f" ({not_converted} not converted)" if not_converted else ""),
            *(
                format_money(point.converted, money) if point else "—"
                for point in (model.price_min, model.price_median, model.price_max)
            ),
            _pct(model.median_position),
            str(model.below_landed) if model.landed_cost else "—",
            style=None if model.listings else "dim",
        )
    return table


def _competitors(model: ModelPricing, count: int, currency: str) -> Table:
    shown = model.competitors[:TOP_COMPETITORS]
    more = count - len(shown)
    title = f"{model.model}: cheapest sellers" + (
        f" ({more} more in --format html)" if more else ""
    )
    table = Table(title=Text(terminal_text(title)), title_justify="left")
    table.add_column("Seller / listing", overflow="fold", ratio=1)
    for name in ("Price", "vs MSRP", "vs your cost", "Margin if matched"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("At price since", no_wrap=True)
    table.add_column("Below cost since", no_wrap=True)
    for rival in shown:
        price = rival.price
        seller = Text(terminal_text(f"{rival.seller} ({rival.source})"))
        seller.append("\n" + terminal_text(rival.url), style="dim")
        table.add_row(
            seller,
            format_with_conversion(price.amount, price.currency, price.converted, currency),
            _pct(rival.msrp_position) + (f" ({rival.msrp_variant})" if rival.msrp_variant else ""),
            format_signed(rival.landed_gap, rival.landed_currency),
            _pct(rival.margin),
            rival.price_since[:10],
            (rival.below_landed_since or "—")[:10],
            style="red" if rival.below_landed else None,
        )
    return table


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:+.1f} %".replace("-", "−")
