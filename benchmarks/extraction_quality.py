"""Per-field precision, recall and F1 of `extract_listing` against the hand-written
expected.json of every saved page in fixtures/pages (HTML pages only).

    .venv/bin/python benchmarks/extraction_quality.py [--set blind4]… [--verbose]

For a field, a page counts when its expected.json states that field. A true positive is an
extracted value equal to the expected one; a value where none was expected, or a wrong value,
is a false positive; a missing or wrong value where one was expected is a false negative.
A page the extractor judges not a product yields no fields (the crawl stores nothing from it).
Prices compare as decimals ("49500" equals "49500.00"); a condition of "unknown" is none.

`is_product` is scored as a yes/no decision (a product page is the positive class). `offers`
is scored per offer on the pages whose expected.json lists several: an offer is found when an
extracted one has the same seller, price and currency (and condition, when stated); on every
other page an offer beyond the first is a false positive."""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crawler.pages import extract_listing  # noqa: E402

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "pages"
FIELDS = ("price", "currency", "title", "seller", "condition")
SCORES = (*FIELDS, "is_product", "offers")


def html_cases(sets: list[str] | None = None) -> list[Path]:
    return sorted(
        p
        for p in PAGES.glob("*/*")
        if (p / "page.html").exists()
        and (p / "expected.json").exists()
        and p.parent.name != "seller"
        and (not sets or p.parent.name in sets)
    )


def same(field: str, got: object, want: object) -> bool:
    if field == "price" and got is not None and want is not None:
        try:
            return Decimal(str(got)) == Decimal(str(want))
        except InvalidOperation:
            return False
    return got == want


def read_case(folder: Path):
    def optional(name: str):
        path = folder / name
        return json.loads(path.read_text()) if path.exists() else None

    url = (folder / "url.txt").read_text().strip()
    listing = extract_listing(
        url,
        (folder / "page.html").read_bytes(),
        optional("headers.json"),
        **(optional("options.json") or {}),
    )
    return json.loads((folder / "expected.json").read_text()), listing


def page_offers(listing) -> list:
    """Every offer the extractor reads on the page (the page's own listing when it reads one)."""
    offers = list(getattr(listing, "offers", ()) or ())
    return offers or ([listing] if listing.is_product else [])


def offer_matches(got, want: dict) -> bool:
    return (
        got.seller == want.get("seller")
        and same("price", got.price, want.get("price"))
        and got.currency == want.get("currency")
        and ("condition" not in want or got.condition == want["condition"])
    )


def score_offers(tally: dict, offers: list, expected: dict, name: str, verbose: bool) -> None:
    wanted = expected.get("offers")
    if wanted is None:
        tally["fp"] += max(len(offers) - 1, 0)
        if verbose and len(offers) > 1:
            print(f"  {name} offers: {len(offers)} read on a single-offer page")
        return
    left = list(offers)
    for want in wanted:
        match = next((o for o in left if offer_matches(o, want)), None)
        if match is None:
            tally["fn"] += 1
            if verbose:
                print(f"  {name} offers: missed {want}")
        else:
            tally["tp"] += 1
            left.remove(match)
    tally["fp"] += len(left)
    if verbose:
        for got in left:
            print(
                f"  {name} offers: extra {got.seller!r} {got.price} {got.currency} {got.condition}"
            )


def score(cases: list[Path], verbose: bool) -> dict[str, dict[str, int]]:
    counts = {f: {"tp": 0, "fp": 0, "fn": 0} for f in SCORES}
    for folder in cases:
        expected, listing = read_case(folder)
        name = f"{folder.parent.name}/{folder.name}"
        for field in FIELDS:
            if field not in expected:
                continue
            got = getattr(listing, field) if listing.is_product else None
            got = None if got == "unknown" else got  # condition: "unknown" states nothing
            want = expected[field]
            tally = counts[field]
            if got is not None and same(field, got, want):
                tally["tp"] += 1
            else:
                tally["fp"] += got is not None
                tally["fn"] += want is not None
                if verbose and not same(field, got, want):
                    print(f"  {name} {field}: got {got!r}, want {want!r}")
        if "is_product" in expected:
            tally, got, want = counts["is_product"], listing.is_product, expected["is_product"]
            tally["tp"] += got and want
            tally["fp"] += got and not want
            tally["fn"] += want and not got
            if verbose and got != want:
                print(f"  {name} is_product: got {got!r}, want {want!r}")
        score_offers(counts["offers"], page_offers(listing), expected, name, verbose)
    return counts


def table(counts: dict[str, dict[str, int]]) -> list[str]:
    lines = [f"{'field':<11}{'precision':>10}{'recall':>10}{'F1':>8}{'tp':>5}{'fp':>5}{'fn':>5}"]
    for field, c in counts.items():
        precision = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 1.0
        recall = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        lines.append(
            f"{field:<11}{precision:>10.3f}{recall:>10.3f}{f1:>8.3f}{c['tp']:>5}{c['fp']:>5}{c['fn']:>5}"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="list every mismatch")
    parser.add_argument(
        "--set",
        dest="sets",
        action="append",
        help="only this folder of fixtures/pages (repeatable)",
    )
    args = parser.parse_args(argv)
    cases = html_cases(args.sets)
    counts = score(cases, args.verbose)
    print(f"{len(cases)} saved pages" + (f" ({', '.join(args.sets)})" if args.sets else ""))
    print("\n".join(table(counts)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
