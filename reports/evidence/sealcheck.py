"""Verify's checks of a bundle's seal: the signature over the manifest digest (against a key
the reader trusts, or self-asserted), the RFC 3161 timestamp over the same digest, and the
digest the reader recorded at export (`--expect`). Each finding is one problem or one note in
plain words."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from reports.evidence import untrusted
from reports.evidence.layout import SIGNATURE, TIMESTAMP
from reports.evidence.seal import check_signature
from reports.evidence.timestamp import check_token
from reports.evidence.untrusted import Refused

MAX_SEAL_BYTES = 1024 * 1024
MAX_CA_PEM = 256 * 1024


@dataclass(frozen=True)
class Trust:
    """What the reader brings to verify: nothing, a key, a fingerprint, a digest, a TSA CA."""

    fingerprint: str | None = None  # of a key the reader trusts (from --key or --fingerprint)
    expect: str | None = None  # the manifest SHA-256 recorded at export
    tsa_ca: bytes | None = None  # PEM of the TSA CA the reader trusts


def check_seal(archive, manifest: dict, entries: dict, trust: Trust, result) -> None:
    seal = manifest.get("seal") or {}
    digest = result.manifest_sha256
    if trust.expect and digest != trust.expect:
        result.problems.append(
            f"manifest.json: SHA-256 {digest} is not the {trust.expect} recorded at export"
        )
    _signature(archive, seal.get("signature"), entries, trust, digest, result)
    _timestamp(archive, seal.get("timestamp"), entries, trust, digest, result)


def _signature(archive, declared, entries, trust: Trust, digest: str, result) -> None:
    if SIGNATURE not in entries:
        if declared:
            result.problems.append(f"{SIGNATURE}: missing (manifest.json says it is signed)")
        elif trust.fingerprint:
            result.problems.append("manifest.json: not signed, so not by the key you gave")
        else:
            result.notes.append(
                "signature: none. Anyone able to rewrite the files could rewrite manifest.json"
                " to match; configure [evidence] signing_key"
            )
        return
    record = _read_json(archive, entries[SIGNATURE], result)
    if record is None:
        return
    problem, fingerprint = check_signature(
        record, digest, declared if isinstance(declared, dict) else None
    )
    if problem is None and not declared:
        problem = "manifest.json does not name the signing key (the seal was stripped?)"
    if problem:
        result.problems.append(f"{SIGNATURE}: {problem}")
        return
    if trust.fingerprint and fingerprint != trust.fingerprint:
        result.problems.append(
            f"{SIGNATURE}: signed by key {fingerprint}, not by the key you trust"
            f" ({trust.fingerprint})"
        )
    elif trust.fingerprint:
        result.notes.append(f"signature: valid, by the key you gave (fingerprint {fingerprint})")
    else:
        result.notes.append(
            f"signature: valid but self-asserted: made by key {fingerprint}, which the bundle"
            " itself carries; check it is yours with --key KEY.pub or --fingerprint"
        )


def _timestamp(archive, declared, entries, trust: Trust, digest: str, result) -> None:
    if TIMESTAMP not in entries:
        if declared:
            result.problems.append(f"{TIMESTAMP}: missing (manifest.json says it is timestamped)")
        else:
            result.notes.append(
                "timestamp: none. Nothing outside this machine says when the bundle existed;"
                " configure [evidence] tsa_url"
            )
        return
    reply = _read(archive, entries[TIMESTAMP], result)
    if reply is None:
        return
    bundle_ca = None
    if isinstance(declared, dict) and isinstance(declared.get("ca_pem"), str):
        bundle_ca = declared["ca_pem"].encode()[:MAX_CA_PEM]
    problem, stamp = check_token(reply, digest, trusted_ca=trust.tsa_ca, bundle_ca=bundle_ca)
    if problem is None and not declared:
        problem = "manifest.json does not name the timestamp authority (the seal was stripped?)"
    if problem:
        result.problems.append(f"{TIMESTAMP}: {problem}")
        return
    how = {
        "trusted": "its signature checks against the TSA CA you gave",
        "bundle": "its signature checks against the TSA CA the bundle carries (self-asserted:"
        " give --tsa-ca to use one you trust)",
        "none": "its signature was NOT checked: no TSA CA certificate (give --tsa-ca)",
    }[stamp.checked_against]
    result.notes.append(
        f"timestamp: manifest.json existed at {stamp.time} according to {stamp.tsa}"
        f" (RFC 3161, serial {stamp.serial}); {how}"
    )


def _read(archive, entry, result) -> bytes | None:
    try:
        return untrusted.read_whole(archive, entry.info, MAX_SEAL_BYTES)
    except (Refused, OSError, zlib.error, EOFError, ValueError) as exc:
        result.problems.append(f"{entry.info.filename}: changed ({exc})")
        return None


def _read_json(archive, entry, result):
    data = _read(archive, entry, result)
    if data is None:
        return None
    try:
        return untrusted.load_json(data)
    except Refused as exc:
        result.problems.append(f"{entry.info.filename}: changed ({exc})")
        return None
