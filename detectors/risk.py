"""Combining evidence into a score and a verdict, the same way for names, domains, sellers and
listings. Each piece of evidence is a Signal: a weight in [0, 1], the verdict it can support on
its own, the sentence an analyst checks, and the flag it raises.

Scores combine as a noisy-OR (independent evidence adds up, never past 1), then sit inside the
band of the strongest verdict the evidence supports: several suspicious hints make a high
'suspicious', never an 'impersonation' no single piece of evidence claims."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from grayhound.models import Finding

# A score at or above this is an impersonation verdict; impersonation evidence lifts it here.
IMPERSONATION_AT = 0.7
# A score at or above this (and below IMPERSONATION_AT) is suspicious.
SUSPICIOUS_AT = 0.4
# Top of each lower band, so a verdict and its score never disagree.
_BAND_TOP = {
    "clean": SUSPICIOUS_AT - 0.01,
    "suspicious": IMPERSONATION_AT - 0.01,
    "impersonation": 1.0,
}
_BAND_FLOOR = {"clean": 0.0, "suspicious": SUSPICIOUS_AT, "impersonation": IMPERSONATION_AT}
_RANK = {"clean": 0, "suspicious": 1, "impersonation": 2}


class Signal(NamedTuple):
    weight: float
    verdict: str  # the strongest verdict this evidence supports alone
    reason: str
    brand: str | None = None
    flag: str | None = None


def noisy_or(weights: Iterable[float]) -> float:
    remaining = 1.0
    for weight in weights:
        remaining *= 1.0 - min(max(weight, 0.0), 1.0)
    return 1.0 - remaining


def strongest_verdict(signals: Iterable[Signal]) -> str:
    return max((s.verdict for s in signals), key=_RANK.__getitem__, default="clean")


def score_of(signals: list[Signal]) -> tuple[float, str]:
    """(score, verdict): noisy-OR of the weights, held inside the strongest verdict's band."""
    verdict = strongest_verdict(signals)
    return _banded(noisy_or(s.weight for s in signals), verdict), verdict


def _banded(score: float, verdict: str) -> float:
    return round(min(max(score, _BAND_FLOOR[verdict]), _BAND_TOP[verdict]), 4)


def finding(
    kind: str,
    subject: str,
    signals: list[Signal],
    *,
    brand: str | None = None,
    clean_reason: str | None = None,
    extra_flags: Iterable[str] = (),
) -> Finding:
    """A Finding whose reasons are the signals' sentences, strongest first.

    Every flagged input passes here, so it takes one pass over the signals, not one per field."""
    if not signals:
        reasons = (clean_reason,) if clean_reason else ()
        return Finding(kind, subject, brand, 0.0, "clean", reasons, tuple(extra_flags))
    ordered = sorted(signals, key=_strongest_first) if len(signals) > 1 else signals
    verdict = ordered[0].verdict  # strongest first, so this is the strongest verdict
    sentences: dict[str, None] = {}  # a dict keeps the first of repeated sentences, in order
    flags: dict[str, None] = {}
    for signal in ordered:
        if brand is None and signal.brand and signal.verdict != "clean":
            brand = signal.brand
        if signal.reason:
            sentences[signal.reason] = None
        if signal.flag:
            flags[signal.flag] = None
    flags.update(dict.fromkeys(extra_flags))
    reasons = tuple(sentences) or ((clean_reason,) if clean_reason else ())
    score = _banded(noisy_or([signal.weight for signal in ordered]), verdict)
    return Finding(kind, subject, brand, score, verdict, reasons, tuple(flags))


def _strongest_first(signal: Signal) -> tuple[int, float]:
    return -_RANK[signal.verdict], -signal.weight


def verdict_rank(verdict: str) -> int:
    return _RANK.get(verdict, 0)
