"""`grayhound prices`: competitor pricing per catalog model, for distributors."""

from __future__ import annotations

import click

from grayhound.commands import config_option, current_config, force_option, open_output
from grayhound.commands.outputs import check_output

FORMATS = ("table", "csv", "json", "html")
# What every earlier pricing report carries, whatever its format.
PRICES_MARKS = (
    b"<title>Competitor pricing",
    b"Competitor pricing in ",
    b'"data_as_of": ',
    b"record,brand,model,report_currency,",
)


@click.command()
@click.option("--model", default=None, help="Only this catalog model (name or alias).")
@click.option("--brand", default=None, help="Only this brand id.")
@click.option("--currency", default="USD", show_default=True, help="Report currency (ISO 4217).")
@click.option(
    "--condition",
    type=click.Choice(["new", "used", "refurbished", "any"]),
    default="new",
    show_default=True,
    help="Which listings count; 'new' includes listings that state no condition.",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("--out", default=None, help="Output file (default stdout; '-' for stdout).")
@click.option(
    "--no-cache",
    is_flag=True,
    help="CSV and JSON: render the whole history, neither reading nor writing the past crawl"
    " runs kept in [storage].cache_dir.",
)
@force_option
@config_option
def prices(
    model: str | None,
    brand: str | None,
    currency: str,
    condition: str,
    fmt: str,
    out: str | None,
    no_cache: bool,
    force: bool,
) -> None:
    """Competitor pricing per catalog model: sellers, listings, lowest / median / highest price,
    position against MSRP, the margin you would make matching each competitor (with a
    landed_cost in the catalog), who is below your landed cost and since when, and the price
    history across crawl runs (a chart per model in --format html). In CSV and JSON, the
    history of past crawl runs is kept rendered in [storage].cache_dir (default `cache` beside
    the config) and rendered again only when what it is made from changes.

    Example: grayhound prices --model "Xiaomi 14 Pro" --format html --out prices.html"""
    from grayhound.pipeline import fewer_collections
    from grayhound.store import open_store
    from reports.pricing.build import select_models
    from reports.pricing.parts import price_job, write_prices

    to_stdout = out in (None, "-")
    config = current_config()
    target = {"config": config, "marks": PRICES_MARKS, "force": force}
    if not to_stdout:
        check_output(out, **target)  # before the report is built
    currency = _currency(currency, config.pricing.rates)
    models = select_models(config.catalog, model, brand)
    with open_store(config.storage.database, create=False) as store:
        # the terminal table shows no history; each model is built as it is written, the
        # models in parts on every CPU of a large store (reports/pricing/parts.py); the
        # garbage collector kept from walking the rows again and again (`fewer_collections`:
        # ~5 % of the CPU time of a CSV report at 1,000,000 listings)
        job = price_job(store, config, currency, condition, fmt != "table", not no_cache)
        with open_output(out, terminal_safe=fmt != "table", **target) as stream:
            with fewer_collections():
                write_prices(store, job, models, fmt, stream)
    if not to_stdout:
        click.echo(f"wrote competitor pricing for {len(models)} models to {out}", err=True)


def _currency(code: str, rates: dict[str, float]) -> str:
    from grayhound.errors import UsageError

    code = code.upper()
    if code != "USD" and code not in rates:
        known = ", ".join(["USD", *sorted(rates)])
        raise UsageError(f"--currency: no rate for {code} in [pricing].rates (known: {known})")
    return code


COMMANDS = [prices]
