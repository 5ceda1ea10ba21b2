"""Trusted timestamps (RFC 3161) over a manifest digest, read and checked with rfc3161-client.

A time-stamping authority (TSA) signs "this SHA-256 existed at time T". The bundle keeps the
TSA's whole reply (`seal/timestamp.tsr`, DER, as received, readable by `openssl ts -reply -in`);
verify checks that it covers the manifest's digest and that its signature chains to a CA
certificate: the one given to verify (trusted), else the one the bundle carries (self-asserted),
else none (the signature is then not checked, and verify says so).

The request goes out over HTTP(S) to the configured URL only; the export calls `request_token`
and passes its reply in, so nothing here reaches the network by itself."""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

from cryptography import x509
from rfc3161_client import (
    HashAlgorithm,
    TimestampRequestBuilder,
    VerificationError,
    VerifierBuilder,
    decode_timestamp_response,
)
from rfc3161_client.tsp import PKIStatus

from grayhound.errors import GrayhoundError

MAX_REPLY_BYTES = 1024 * 1024  # a reply is a few kB; more is not a timestamp
MAX_CA_BYTES = 256 * 1024
REQUEST_TYPE = "application/timestamp-query"


@dataclass(frozen=True)
class Stamp:
    """What a checked token says."""

    time: str  # UTC ISO 8601, as the TSA signed it
    tsa: str  # the TSA certificate's subject
    serial: int
    checked_against: str  # "trusted" | "bundle" | "none"


def request_token(url: str, manifest: bytes, *, ca_pem: bytes | None, timeout: float) -> bytes:
    """POST a timestamp request for SHA-256(manifest) to `url`; return the checked reply."""
    request = (  # SHA-256 so the token names the manifest's own digest (the default is SHA-512)
        TimestampRequestBuilder()
        .data(manifest)
        .hash_algorithm(HashAlgorithm.SHA256)
        .nonce(nonce=True)
        .cert_request(cert_request=True)
        .build()
    )
    post = urllib.request.Request(
        url, data=request.as_bytes(), headers={"Content-Type": REQUEST_TYPE}, method="POST"
    )
    try:
        with urllib.request.urlopen(post, timeout=timeout) as answer:  # http(s): config checks
            reply = answer.read(MAX_REPLY_BYTES + 1)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise GrayhoundError(f"{url}: timestamp authority did not answer: {reason}") from None
    if len(reply) > MAX_REPLY_BYTES:
        raise GrayhoundError(f"{url}: timestamp reply larger than {MAX_REPLY_BYTES} bytes")
    try:
        response = decode_timestamp_response(reply)
    except ValueError as exc:
        raise GrayhoundError(f"{url}: not an RFC 3161 timestamp reply ({exc})") from None
    if response.status not in (PKIStatus.GRANTED, PKIStatus.GRANTED_WITH_MODS):
        raise GrayhoundError(f"{url}: timestamp refused (status {response.status})")
    if response.tst_info.nonce != request.nonce:
        raise GrayhoundError(f"{url}: the timestamp reply answers another request (nonce)")
    builder = VerifierBuilder.from_request(request)
    problem = _verify(response, hashlib.sha256(manifest).digest(), ca_pem, builder)
    if problem:
        raise GrayhoundError(f"{url}: the timestamp reply does not check: {problem}")
    return reply


def check_token(
    reply: bytes, manifest_sha256: str, *, trusted_ca: bytes | None, bundle_ca: bytes | None
) -> tuple[str | None, Stamp | None]:
    """(problem or None, what the token says) for a stored reply and the manifest's digest."""
    try:
        response = decode_timestamp_response(reply)
        info = response.tst_info
        imprint = info.message_imprint.message
    except ValueError as exc:
        return f"not an RFC 3161 timestamp reply ({exc})", None
    if imprint != bytes.fromhex(manifest_sha256):
        return f"the timestamp covers another digest ({imprint.hex()}), not manifest.json", None
    ca_pem, checked = (
        (trusted_ca, "trusted") if trusted_ca else (bundle_ca, "bundle" if bundle_ca else "none")
    )
    if ca_pem is not None:
        problem = _verify(response, imprint, ca_pem, VerifierBuilder())
        if problem:
            return (
                f"the timestamp's signature does not check against the {checked} CA: {problem}",
                None,
            )
    stamp = Stamp(
        time=info.gen_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        tsa=_signer_subject(response),
        serial=info.serial_number,
        checked_against=checked,
    )
    return None, stamp


def _verify(response, digest: bytes, ca_pem: bytes | None, builder) -> str | None:
    try:
        if ca_pem is None:
            if response.tst_info.message_imprint.message != digest:
                return "it covers another digest"
            return None
        for certificate in x509.load_pem_x509_certificates(ca_pem):
            builder = builder.add_root_certificate(certificate)
        builder.build().verify(response, digest)
    except (VerificationError, ValueError) as exc:
        return str(exc)
    return None


def _signer_subject(response) -> str:
    try:
        for der in response.signed_data.certificates:
            return x509.load_der_x509_certificate(der).subject.rfc4514_string()
    except ValueError:
        pass
    return "(the reply names no certificate)"


def read_ca(path: Path) -> bytes:
    """A PEM file of CA certificates, checked to parse; GrayhoundError naming the file."""
    try:
        with open(path, "rb") as stream:
            data = stream.read(MAX_CA_BYTES)
        x509.load_pem_x509_certificates(data)
    except OSError as exc:
        raise GrayhoundError(f"{path}: cannot read CA certificate: {exc.strerror}") from None
    except ValueError:
        raise GrayhoundError(f"{path}: not a PEM certificate") from None
    return data
