"""Per-field precision, recall and F1 of `extract_listing` against the hand-written
expected.json of every saved page in fixtures/pages (HTML pages only).

    .venv/bin/python benchmarks/extraction_quality.py [--verbose]

For a field, a page counts when its expected.json states that field. A true positive is an
extracted value equal to the expected one; a value where none was expected, or a wrong value,
is a false positive; a missing or wrong value where one was expected is a false negative."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crawler.pages import extract_listing  # noqa: E402

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "pages"
FIELDS = ("price", "currency", "title", "seller")


def html_cases() -> list[Path]:
    return sorted(
        p
        for p in PAGES.glob("*/*")
        if (p / "page.html").exists()
        and (p / "expected.json").exists()
        and p.parent.name != "seller"
    )


def score(cases: list[Path], verbose: bool) -> dict[str, dict[str, int]]:
    counts = {f: {"tp": 0, "fp": 0, "fn": 0} for f in FIELDS}
    for folder in cases:
        expected = json.loads((folder / "expected.json").read_text())
        options = (
            json.loads((folder / "options.json").read_text())
            if (folder / "options.json").exists()
            else {}
        )
        headers = (
            json.loads((folder / "headers.json").read_text())
            if (folder / "headers.json").exists()
            else None
        )
        url = (folder / "url.txt").read_text().strip()
        listing = extract_listing(url, (folder / "page.html").read_bytes(), headers, **options)
        for field in FIELDS:
            if field not in expected:
                continue
            got, want = getattr(listing, field), expected[field]
            tally = counts[field]
            if got == want and got is not None:
                tally["tp"] += 1
            else:
                tally["fp"] += got is not None
                tally["fn"] += want is not None
                if verbose and got != want:
                    print(
                        f"  {folder.parent.name}/{folder.name} {field}: got {got!r}, want {want!r}"
                    )
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="list every mismatch")
    args = parser.parse_args(argv)
    cases = html_cases()
    counts = score(cases, args.verbose)
    print(f"{len(cases)} saved pages")
    print(f"{'field':<10}{'precision':>10}{'recall':>10}{'F1':>8}{'tp':>5}{'fp':>5}{'fn':>5}")
    for field, c in counts.items():
        precision = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 1.0
        recall = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        print(
            f"{field:<10}{precision:>10.3f}{recall:>10.3f}{f1:>8.3f}{c['tp']:>5}{c['fp']:>5}{c['fn']:>5}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
