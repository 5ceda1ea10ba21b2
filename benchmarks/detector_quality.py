"""Precision and recall of the detectors on the labelled tables in fixtures/detectors/.

Domains and names: impersonation and suspicious count as positive; exact-verdict accuracy and
brand accuracy (on positives) are reported too. Titles: model, accessory and condition accuracy.
Blind: blind.csv and blind2.csv (domains and names, a `kind` column), each labelled before its
author read the detectors: the nearest thing here to unseen inputs, reported but not part of the goal.
Open world: fixtures/detectors/open_world/ (names.csv, domains.csv, judged against its own
brands.toml: local names in other scripts, six brands), reported per file and per `shape`; its
goal is precision >= 0.97 and recall >= 0.95 for names and for domains.

    python -m benchmarks.detector_quality [--misses] [--shapes]
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from detectors import BrandBook, score_input  # noqa: E402
from detectors.catalog import read_title  # noqa: E402
from grayhound.config import load_config  # noqa: E402

FIXTURES = ROOT / "fixtures" / "detectors"
OPEN_WORLD = FIXTURES / "open_world"
GOAL = 0.95
OPEN_WORLD_PRECISION = 0.97
OPEN_WORLD_RECALL = 0.95


def rows(name: str, folder: Path = FIXTURES) -> list[dict]:
    with open(folder / name, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def open_world_book() -> BrandBook:
    return BrandBook.from_config(load_config(OPEN_WORLD / "brands.toml"))


def by_shape(table: list[dict], kind: str, book: BrandBook) -> dict[str, dict]:
    """verdict_quality for each `shape` of an open-world table."""
    shapes: dict[str, list[dict]] = {}
    for row in table:
        shapes.setdefault(row["shape"], []).append(row)
    return {
        shape: verdict_quality(part, kind, book, False) for shape, part in sorted(shapes.items())
    }


def shown(figures: dict) -> str:
    return "  ".join(
        f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items()
    )


def verdict_quality(table: list[dict], kind: str, book: BrandBook, show_misses: bool) -> dict:
    """Scores every row as `kind`, or as the row's own `kind` column when kind is None."""
    tp = fp = fn = tn = exact = brand_ok = positives = 0
    for row in table:
        row_kind = kind or row["kind"]
        found = score_input(row["input"], row_kind, book)
        expected, got = row["expected_verdict"], found.verdict
        want_pos, got_pos = expected != "clean", got != "clean"
        tp += want_pos and got_pos
        fp += got_pos and not want_pos
        fn += want_pos and not got_pos
        tn += not want_pos and not got_pos
        exact += expected == got
        if want_pos:
            positives += 1
            brand_ok += (found.brand or "") == row["brand"]
        if show_misses and expected != got:
            print(
                f"  miss {row_kind}: {row['input']!r} expected {expected}, got {got}: {found.reasons[:1]}"
            )
    total = tp + fp + fn + tn
    return {
        "rows": total,
        "precision": tp / (tp + fp) if tp + fp else 1.0,
        "recall": tp / (tp + fn) if tp + fn else 1.0,
        "exact_verdict_accuracy": exact / total,
        "brand_accuracy": brand_ok / positives if positives else 1.0,
    }


def title_quality(book: BrandBook, show_misses: bool) -> dict:
    table = rows("titles.csv")
    model_ok = accessory_ok = condition_ok = 0
    for row in table:
        reading = read_title(book.catalog, row["title"])
        model = reading.model.model if reading.model else ""
        model_ok += model == row["model"]
        accessory_ok += reading.is_accessory == (row["is_accessory"] == "true")
        condition_ok += reading.condition == row["condition"]
        if show_misses and (
            model != row["model"]
            or reading.is_accessory != (row["is_accessory"] == "true")
            or reading.condition != row["condition"]
        ):
            print(
                f"  miss title: {row['title']!r}: model {model!r}/{row['model']!r}, "
                f"accessory {reading.is_accessory}/{row['is_accessory']}, "
                f"condition {reading.condition}/{row['condition']}"
            )
    n = len(table)
    return {
        "rows": n,
        "model_accuracy": model_ok / n,
        "accessory_accuracy": accessory_ok / n,
        "condition_accuracy": condition_ok / n,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="print every misjudged row")
    parser.add_argument("--shapes", action="store_true", help="open world: figures per shape")
    args = parser.parse_args(argv)
    book = BrandBook.from_config(load_config(ROOT / "grayhound" / "example.toml"))
    results = {
        "domains": verdict_quality(rows("domains.csv"), "domain", book, args.misses),
        "names": verdict_quality(rows("names.csv"), "name", book, args.misses),
        "titles": title_quality(book, args.misses),
        "blind": verdict_quality(rows("blind.csv"), None, book, args.misses),
        "blind2": verdict_quality(rows("blind2.csv"), None, book, args.misses),
    }
    world = open_world_book()
    world_tables = {
        "ow_names": (rows("names.csv", OPEN_WORLD), "name"),
        "ow_domains": (rows("domains.csv", OPEN_WORLD), "domain"),
    }
    for key, (table, kind) in world_tables.items():
        results[key] = verdict_quality(table, kind, world, args.misses)
    for kind, figures in results.items():
        print(f"{kind:10} {shown(figures)}")
    if args.shapes:
        for key, (table, kind) in world_tables.items():
            for shape, figures in by_shape(table, kind, world).items():
                print(f"  {key:10} {shape:22} {shown(figures)}")
    world_ok = all(
        results[k]["precision"] >= OPEN_WORLD_PRECISION
        and results[k]["recall"] >= OPEN_WORLD_RECALL
        for k in world_tables
    )
    print(
        f"open world goal precision {OPEN_WORLD_PRECISION:.2f} recall {OPEN_WORLD_RECALL:.2f}: "
        f"{'met' if world_ok else 'NOT met'}"
    )
    ok = world_ok and (
        all(
            results[k]["precision"] >= GOAL and results[k]["recall"] >= GOAL
            for k in ("domains", "names")
        )
        and results["titles"]["model_accuracy"] >= GOAL
    )
    print(f"goal {GOAL:.2f}: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
