"""`grayhound catalog check` as data: for each title, the model it matched and why; the titles
that matched nothing, grouped by the tokens they share most (so a missing catalog model shows
as one group, 'phone 3 a' × 12); and the catalog models no title matched."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from detectors.book import BrandBook
from detectors.catalog import read_title
from detectors.titles import parse_title

# Examples shown per group of unmatched titles.
GROUP_EXAMPLES = 3
# Longest run of tokens a group is named by ('phone 3 a').
GROUP_SPAN = 3


@dataclass(frozen=True)
class TitleCheck:
    title: str
    model: str | None
    reason: str
    kind: str
    attributes: dict[str, str]
    id: str | None = None

    def to_dict(self) -> dict:
        out = {"title": self.title, "model": self.model, "reason": self.reason, "kind": self.kind}
        out["attributes"] = dict(self.attributes)
        return {"id": self.id, **out} if self.id is not None else out


@dataclass(frozen=True)
class UnmatchedGroup:
    tokens: str
    count: int
    examples: tuple[str, ...]

    def to_dict(self) -> dict:
        return {"tokens": self.tokens, "count": self.count, "examples": list(self.examples)}


@dataclass(frozen=True)
class CatalogCheck:
    titles: tuple[TitleCheck, ...]
    unmatched: tuple[UnmatchedGroup, ...]
    never_matched: tuple[str, ...]
    counts: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "counts": dict(self.counts),
            "titles": [t.to_dict() for t in self.titles],
            "unmatched_groups": [g.to_dict() for g in self.unmatched],
            "never_matched": list(self.never_matched),
        }


def check_titles(
    titles: Iterable[tuple[str | None, str, str | None]], book: BrandBook
) -> CatalogCheck:
    """`titles`: (listing id or None, title, listing brand or None)."""
    checked = []
    for listing_id, title, brand in titles:
        reading = read_title(book.catalog, title, brand=book.brand_id(brand))
        model = reading.model.model if reading.model else None
        checked.append(
            TitleCheck(
                title, model, reading.model_reason, reading.kind, reading.attributes, listing_id
            )
        )
    matched = {t.model for t in checked if t.model}
    never = tuple(m.model for m in book.config.catalog if m.model not in matched)
    unmatched = [t.title for t in checked if t.model is None and t.kind == "device"]
    counts = {
        "titles": len(checked),
        "matched": sum(1 for t in checked if t.model),
        "unmatched_devices": len(unmatched),
        "unmatched_other": sum(1 for t in checked if t.model is None and t.kind != "device"),
        "catalog_models": len(book.config.catalog),
        "never_matched": len(never),
    }
    return CatalogCheck(tuple(checked), group_unmatched(unmatched, book), never, counts)


def group_unmatched(titles: list[str], book: BrandBook) -> tuple[UnmatchedGroup, ...]:
    """Each title goes to the run of up to three adjacent tokens, holding a number where it can,
    that the most unmatched titles share; groups largest first."""
    runs = [_runs(title, book) for title in titles]
    shared = Counter(run for title_runs in runs for run in set(title_runs))
    groups: dict[str, list[str]] = {}
    for title, title_runs in zip(titles, runs, strict=True):
        if not title_runs:
            groups.setdefault("(no model words)", []).append(title)
            continue
        best = max(title_runs, key=lambda r: (_has_number(r), shared[r], len(r.split())))
        groups.setdefault(best, []).append(title)
    ordered = sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))
    return tuple(
        UnmatchedGroup(key, len(members), tuple(members[:GROUP_EXAMPLES]))
        for key, members in ordered
    )


def _runs(title: str, book: BrandBook) -> list[str]:
    words = [t.text for t in parse_title(title, book.catalog.compounds).tokens]
    words = [w for w in words if w.isdigit() or (w.isascii() and w.isalpha())]
    out = []
    for size in range(1, GROUP_SPAN + 1):
        for start in range(len(words) - size + 1):
            run = words[start : start + size]
            if size == 1 and not run[0].isdigit() and len(run[0]) < 3:
                continue
            out.append(" ".join(run))
    return out


def _has_number(run: str) -> bool:
    return any(ch.isdigit() for ch in run)
