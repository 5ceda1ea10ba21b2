"""Inputs per second for `score_input` on generated domains and names, one core.

100,000 of each, unique, about a third brand-bearing (typos, combos, leetspeak, lookalikes,
hyphenation, subdomains) and the rest benign (random words, shops, innocent substrings). Every
cache (tldextract, term readings, segmentations) is cleared before each run so no input is
answered from an earlier one. Like `timeit`, the best of --repeat runs is reported (other
processes on a shared machine only ever slow a run down); the median is printed beside it.

    python -m benchmarks.detector_throughput [--count N] [--profile]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from detectors import BrandBook, score_input  # noqa: E402
from detectors.book import split_host  # noqa: E402
from grayhound.config import load_config  # noqa: E402

GOAL = 20_000
SEED = 20240601
WORDS = (
    "phone mobile tech gadget city river blue green star north best cheap online store shop "
    "deals market home garden pine apple miami mining admin galaxy zoo cloud book travel pizza "
    "smart fix repair world hub zone pro max daily news review fan club lab data media"
).split()
BRANDS = ("xiaomi", "redmi", "poco", "samsung", "apple", "iphone", "icloud", "mi", "galaxy")
KEYWORDS = ("store", "shop", "official", "support", "deals", "outlet", "global", "uk", "login")
TLDS = ("com", "net", "org", "shop", "store", "xyz", "de", "co.uk", "online", "io")
LEET = str.maketrans({"o": "0", "i": "1", "a": "4", "e": "3", "s": "5"})
LOOKALIKE = str.maketrans({"a": "а", "o": "о", "i": "і", "e": "е"})


def _typo(rng: random.Random, term: str) -> str:
    i = rng.randrange(len(term))
    match rng.randrange(4):
        case 0:
            return term[:i] + term[i + 1 :]
        case 1:
            return term[:i] + term[i] + term[i:]
        case 2:
            return term[:i] + rng.choice("abcdefghijklmnopqrstuvwxyz") + term[i + 1 :]
        case _:
            return term[:i] + term[i + 1 : i + 2] + term[i : i + 1] + term[i + 2 :]


def _malicious_label(rng: random.Random) -> str:
    term = rng.choice(BRANDS)
    match rng.randrange(6):
        case 0:
            return _typo(rng, term)
        case 1:
            return f"{term}-{rng.choice(KEYWORDS)}"
        case 2:
            return term.translate(LEET) + rng.choice(KEYWORDS)
        case 3:
            return term.translate(LOOKALIKE)
        case 4:
            return f"{term[:2]}-{term[2:]}-{rng.choice(KEYWORDS)}"
        case _:
            return f"{term}.com.{rng.choice(WORDS)}-{rng.choice(KEYWORDS)}"


def generate(count: int, kind: str) -> list[str]:
    rng = random.Random(f"{SEED}-{kind}")
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < count:
        if rng.random() < 0.35:
            label = _malicious_label(rng)
        else:
            label = "-".join(rng.sample(WORDS, rng.randint(1, 3)))
        label += str(rng.randrange(1000)) if rng.random() < 0.5 else ""
        if kind == "domain":
            text = f"{label.replace(' ', '-')}.{rng.choice(TLDS)}"
        else:
            text = " ".join(p.capitalize() for p in label.replace("-", " ").split())
        if text not in seen:
            seen.add(text)
            out.append(text)
    return out


def measure(inputs: list[str], kind: str, book: BrandBook) -> float:
    split_host.cache_clear()
    book.terms.segment.cache_clear()
    book.terms.find.cache_clear()
    start = time.perf_counter()
    for text in inputs:
        score_input(text, kind, book)
    return len(inputs) / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per kind; best is reported")
    parser.add_argument("--profile", action="store_true", help="cProfile the domain run")
    args = parser.parse_args(argv)
    book = BrandBook.from_config(load_config(ROOT / "grayhound" / "example.toml"))
    domains, names = generate(args.count, "domain"), generate(args.count, "name")
    score_input("warm-up.example", "auto", book)  # load the confusables table once
    if args.profile:
        import cProfile
        import pstats

        cProfile.runctx("measure(domains, 'domain', book)", globals(), locals(), "/tmp/gh.prof")
        pstats.Stats("/tmp/gh.prof").sort_stats("cumulative").print_stats(25)
    runs = {
        "domains": [measure(domains, "domain", book) for _ in range(args.repeat)],
        "names": [measure(names, "name", book) for _ in range(args.repeat)],
    }
    rates = {kind: max(rates) for kind, rates in runs.items()}
    for kind, rate in rates.items():
        middle = median(runs[kind])
        print(
            f"{kind:8} {rate:,.0f} inputs/s best of {args.repeat} (median {middle:,.0f}; "
            f"{args.count:,} unique inputs, one core)"
        )
    ok = all(rate >= GOAL for rate in rates.values())
    print(f"goal {GOAL:,}/s: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
