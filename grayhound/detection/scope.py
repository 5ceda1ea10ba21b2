"""What a detection must judge again beyond the queued changes: the config sections the
detectors read (brands, catalog, authorized, pricing) and the detectors' own code, each
fingerprinted; a section that changed since the last detection re-judges what it affects, and
the detection says so."""

from __future__ import annotations

import hashlib
import importlib.util
import json
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path

from grayhound.config import Config

# What each fingerprinted part of the judgement makes detection do again when it changes:
# "titles": every title read again (model, kind of goods, condition); "listings": every
# listing judged again (price checks, peers, flags); "sellers": every seller's identity
# judged again, its network signals recomputed (the allowlist decides what ties nobody).
AFFECTS = {
    "brands": ("titles", "listings", "sellers"),
    "catalog": ("titles", "listings", "sellers"),  # model words are brand signals too
    "authorized": ("listings", "sellers"),
    "pricing": ("listings",),
    "detectors": ("titles", "listings", "sellers"),
}
DOING = {
    "titles": "every title read again",
    "listings": "every listing judged again",
    "sellers": "every seller judged again",
}
SECTIONS = ("brands", "catalog", "authorized", "pricing")
# Libraries whose data the detectors read: another version may judge differently.
LIBRARIES = ("wordfreq", "tldextract", "rapidfuzz", "idna", "confusable-homoglyphs")
# Modules outside detectors/ and detection/ whose code decides a judgement: the flags and the
# finding's shape, the SQL that sums a seller's sales for its verdict, the finding fingerprint
# that says "changed", and the default vocabularies the config fills in.
JUDGING_MODULES = ("models.py", "store/detectstate.py", "store/findings.py", "config/vocabulary.py")


@dataclass(frozen=True)
class Scope:
    full: bool  # --full, or no detection has run on this store yet
    changed: tuple[str, ...]  # the parts that changed since the last detection
    redo: frozenset[str]  # what is done again for every subject (see DOING)
    marks: dict[str, str]  # the fingerprints to remember once the detection is done
    first: bool = False

    def said(self) -> list[str]:
        """One sentence per reason to judge more than the changes, for the command's output."""
        if self.first:
            return ["first detection on this store: judging everything"]
        if self.full:
            return ["--full: judging everything"]
        out = []
        for part in self.changed:
            what = "the detectors changed (grayhound upgraded)" if part == "detectors" else (
                f"config [{part}] changed since the last detection"
            )  # fmt: skip
            out.append(f"{what}: {', '.join(DOING[d] for d in AFFECTS[part])}")
        return out

    def key(self, *parts: str) -> str:
        """The fingerprints these parts were judged with, as one string (part of the keys
        that let detection reuse what it kept)."""
        return "|".join(self.marks[f"fingerprint:{part}"] for part in parts)


def plan(config: Config, previous: dict[str, str], full: bool) -> Scope:
    marks = {f"fingerprint:{part}": value for part, value in fingerprints(config).items()}
    first = not any(name.startswith("fingerprint:") for name in previous)
    changed = tuple(
        part for part in (*SECTIONS, "detectors") if previous.get(f"fingerprint:{part}") != marks[
            f"fingerprint:{part}"]
    )  # fmt: skip
    if full or first:
        return Scope(True, changed, frozenset(DOING), marks, first=first and not full)
    redo = frozenset(d for part in changed for d in AFFECTS[part])
    return Scope(False, changed, redo, marks)


def fingerprints(config: Config) -> dict[str, str]:
    """A short hash of each config section the detectors read, and of the detectors."""
    sections = {
        "brands": {brand_id: asdict(brand) for brand_id, brand in config.brands.items()},
        "catalog": [asdict(model) for model in config.catalog],
        "authorized": [asdict(entry) for entry in config.authorized],
        "pricing": asdict(config.pricing),
    }
    out = {
        name: _hash(json.dumps(value, sort_keys=True, default=str))
        for name, value in sections.items()
    }
    out["detectors"] = detectors_fingerprint()
    return out


def detectors_fingerprint() -> str:
    """The detectors' and the detection's source code, and the versions of the libraries
    whose data they read: a new grayhound judges everything again."""
    # found, not imported: a detection with nothing to judge loads no detector
    detectors = Path(importlib.util.find_spec("detectors").origin).parent
    digest = hashlib.sha256()
    spine = Path(__file__).parent.parent
    paths = [
        *sorted(detectors.glob("*.py")),
        *sorted(Path(__file__).parent.glob("*.py")),
        *(spine / name for name in JUDGING_MODULES),
    ]
    for path in paths:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    for library in LIBRARIES:
        try:
            digest.update(f"{library}={metadata.version(library)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{library}=none".encode())
    return digest.hexdigest()[:16]


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]
