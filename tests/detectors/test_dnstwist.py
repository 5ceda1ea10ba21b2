"""dnstwist's own permutations (generated offline from its Fuzzer, never resolved) of brands of
four letters or more: at least 90 % caught for every fuzzer, permutations that are themselves
ordinary words set aside (benchmarks/dnstwist_recall.py prints the figures and lists them)."""

from collections import Counter
from pathlib import Path

import pytest

from detectors import BrandBook, score_input
from detectors.words import common_word
from grayhound.config import load_config

dnstwist = pytest.importorskip("dnstwist")
OPEN_WORLD = Path(__file__).resolve().parents[2] / "fixtures" / "detectors" / "open_world"
BRANDS = ("lego", "nike", "apple", "xiaomi", "samsung", "huawei")


@pytest.fixture(scope="module")
def world() -> BrandBook:
    return BrandBook.from_config(load_config(OPEN_WORLD / "brands.toml"))


def _permutations():
    for brand in BRANDS:
        fuzzer = dnstwist.Fuzzer(f"{brand}.com")
        fuzzer.generate()
        for p in fuzzer.domains:
            if p["fuzzer"] == "*original":
                continue
            label = p["domain"].rsplit(".", 1)[0]
            if p["fuzzer"] != "subdomain" and label.isascii() and common_word(label):
                continue  # 'nice.com', 'bike.com': real words, not near misses
            yield p["fuzzer"], p["domain"]


def test_every_fuzzer_is_caught_nine_times_in_ten(world):
    caught, total = Counter(), Counter()
    for fuzzer, domain in _permutations():
        total[fuzzer] += 1
        caught[fuzzer] += score_input(domain, "domain", world).verdict != "clean"
    recall = {fuzzer: caught[fuzzer] / total[fuzzer] for fuzzer in total}
    assert {"homoglyph", "omission", "bitsquatting", "subdomain"} <= set(recall)
    assert all(r >= 0.90 for r in recall.values()), recall
