"""Recall on dnstwist's own permutations, per fuzzer, and the false-positive rate on real,
unrelated domains.

Permutations come from the `dnstwist` package's `Fuzzer`, offline: its `domains` list only, never
its JSON/CSV/CLI output, which resolve names over DNS. IDN permutations arrive as `xn--` punycode,
as a browser would send them. Brands are the open-world ones (fixtures/detectors/open_world/
brands.toml) whose name has four letters or more, each on `<brand>.com`. A permutation counts as
caught when its verdict is not `clean`. Two figures per fuzzer:
- `all`: every permutation dnstwist makes;
- `near-miss`: without the permutations that are themselves common words or names (the same
  word-frequency test the detectors use, detectors/words.py) — `bike.com`, `nice.com` and
  `like.com` are dnstwist's permutations of nike.com, and flagging them is the noise the false
  positive side measures. They are listed, so a reader can check the call.
The false-positive side scores every row of fixtures/detectors/real_unrelated_domains.csv.

    python -m benchmarks.dnstwist_recall [--misses] [--brand nike]
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from detectors import BrandBook, score_input  # noqa: E402
from grayhound.config import load_config  # noqa: E402

OPEN_WORLD = ROOT / "fixtures" / "detectors" / "open_world"
REAL_DOMAINS = ROOT / "fixtures" / "detectors" / "real_unrelated_domains.csv"
BRANDS = ("lego", "nike", "apple", "xiaomi", "samsung", "huawei")
RECALL_GOAL = 0.90
FP_GOAL = 0.02


def permutations(brand: str) -> list[tuple[str, str]]:
    """(fuzzer, domain) for every permutation dnstwist makes of `<brand>.com`."""
    import dnstwist

    fuzzer = dnstwist.Fuzzer(f"{brand}.com")
    fuzzer.generate()
    return sorted((p["fuzzer"], p["domain"]) for p in fuzzer.domains if p["fuzzer"] != "*original")


def real_domains() -> list[dict]:
    with open(REAL_DOMAINS, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(line for line in handle if not line.startswith("#")))


def is_common_word_domain(domain: str) -> bool:
    try:
        from detectors.words import common_word
    except ImportError:  # before detectors/words.py existed: nothing is set aside
        return False
    label = domain.split(".")[0]
    return label.isascii() and common_word(label)


def recall(book: BrandBook, brands: tuple[str, ...], show_misses: bool) -> dict[str, dict]:
    tally: dict[str, dict] = defaultdict(lambda: {"all": [0, 0], "near": [0, 0], "words": []})
    for brand in brands:
        for fuzzer, domain in permutations(brand):
            found = score_input(domain, "domain", book)
            if found.verdict == "clean" and book.allowlist.domain_owners(domain):
                continue  # another brand's own domain: clean is right
            caught = found.verdict != "clean"
            row = tally[fuzzer]
            row["all"][0] += caught
            row["all"][1] += 1
            if fuzzer != "subdomain" and is_common_word_domain(domain):
                row["words"].append(f"{domain}{'' if caught else ' (clean)'}")
            else:
                row["near"][0] += caught
                row["near"][1] += 1
                if show_misses and not caught:
                    print(f"  miss {fuzzer}: {domain}: {found.reasons[:1]}")
    return dict(sorted(tally.items()))


def false_positives(book: BrandBook) -> tuple[int, list[str]]:
    rows = real_domains()
    flagged = []
    for row in rows:
        found = score_input(row["domain"], "domain", book)
        if found.verdict != "clean":
            flagged.append(f"{row['domain']} ({found.verdict}: {found.reasons[0]})")
    return len(rows), flagged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="print every missed permutation")
    parser.add_argument("--brand", action="append", help="only these brands (repeatable)")
    args = parser.parse_args(argv)
    book = BrandBook.from_config(load_config(OPEN_WORLD / "brands.toml"))
    brands = tuple(args.brand or BRANDS)
    tally = recall(book, brands, args.misses)
    ok = True
    print(f"dnstwist permutations of {', '.join(f'{b}.com' for b in brands)}")
    for fuzzer, row in tally.items():
        caught_all, total_all = row["all"]
        caught, total = row["near"]
        near = caught / total if total else 1.0
        ok &= near >= RECALL_GOAL
        words = f"; common words set aside: {', '.join(row['words'])}" if row["words"] else ""
        print(
            f"  {fuzzer:14} near-miss recall {near:.3f} ({caught}/{total})  "
            f"all {caught_all / total_all:.3f} ({caught_all}/{total_all}){words}"
        )
    total, flagged = false_positives(book)
    rate = len(flagged) / total
    ok &= rate <= FP_GOAL
    print(f"real unrelated domains: {len(flagged)}/{total} flagged, FP rate {rate:.3f}")
    for line in flagged:
        print(f"  FP {line}")
    print(
        f"goal recall >= {RECALL_GOAL:.2f} per fuzzer, FP <= {FP_GOAL:.2f}: "
        f"{'met' if ok else 'NOT met'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
