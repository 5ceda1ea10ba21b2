"""Signatures on evidence bundles: Ed25519 key pairs, signing a manifest digest, checking it.

What is signed is one line of text naming the manifest's SHA-256
(`grayhound evidence manifest sha256:<hex>`), so a signature can never be replayed as a
signature over anything else. The bundle carries the public key and its fingerprint (the
SHA-256 of the raw 32-byte key): the signature then proves the bundle is unchanged since the
holder of that key signed it. Who holds the key is a fact outside the bundle: a signature checked
only against the key the bundle itself carries is self-asserted."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from grayhound.errors import GrayhoundError, UsageError

ALGORITHM = "Ed25519"
STATEMENT = "grayhound evidence manifest sha256:{digest}"
FINGERPRINT_RE = re.compile(r"^[0-9a-f]{64}$")
MAX_KEY_FILE = 64 * 1024  # a PEM key is a few hundred bytes


@dataclass(frozen=True)
class SignerInfo:
    """The public half that goes into the manifest."""

    public_key: str  # base64 of the raw 32-byte key
    fingerprint: str  # SHA-256 hex of the raw key

    def as_dict(self) -> dict:
        return {
            "algorithm": ALGORITHM,
            "public_key": self.public_key,
            "fingerprint": self.fingerprint,
        }


def generate_keypair(out: Path, *, force: bool = False, stamp: str = "") -> tuple[Path, Path, str]:
    """Write KEYFILE (PKCS#8 PEM, mode 0600) and KEYFILE.pub.

    An existing KEYFILE or KEYFILE.pub is a usage error naming it, unless `force`: then it is
    renamed to `<name>.replaced-<stamp>` (never deleted: bundles signed with the old key still
    verify against it) before the new pair is written."""
    out = Path(out)
    public_path = out.with_name(out.name + ".pub")
    existing = [path for path in (out, public_path) if path.exists() or path.is_symlink()]
    if existing and not force:
        raise UsageError(
            f"--out {out}: {existing[0]} already exists; refusing to overwrite a key "
            "(give --force to replace the pair; the old files are kept as *.replaced-<time>)"
        )
    for path in existing:
        aside = path.with_name(f"{path.name}.replaced-{stamp}")
        if aside.exists() or aside.is_symlink():
            raise GrayhoundError(f"{aside}: already exists; not moving {path} onto it")
        try:
            path.rename(aside)
        except OSError as exc:
            raise GrayhoundError(f"{path}: cannot move aside: {exc.strerror}") from None
    try:
        out.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise GrayhoundError(f"{out.parent}: cannot create folder: {exc.strerror}") from None
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _write_new(out, private_pem, 0o600)
    _write_new(public_path, public_pem, 0o644)
    return out, public_path, signer_info(key.public_key()).fingerprint


def _write_new(path: Path, data: bytes, mode: int) -> None:
    try:
        fd = os.open(
            path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), mode
        )
    except FileExistsError:
        raise GrayhoundError(f"{path}: already exists; refusing to overwrite a key") from None
    except OSError as exc:
        raise GrayhoundError(f"{path}: cannot write key: {exc.strerror}") from None
    with os.fdopen(fd, "wb") as stream:
        stream.write(data)
    os.chmod(path, mode)  # the umask may have narrowed it; a private key must be exactly 0600


def load_signing_key(path: Path) -> Ed25519PrivateKey:
    data = _read_key_file(path)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise GrayhoundError(f"{path}: not an unencrypted PEM private key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise GrayhoundError(f"{path}: not an Ed25519 key (make one with `evidence keygen`)")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    data = _read_key_file(path)
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise GrayhoundError(f"{path}: not a PEM public key ({exc})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise GrayhoundError(f"{path}: not an Ed25519 public key")
    return key


def _read_key_file(path: Path) -> bytes:
    try:
        with open(path, "rb") as stream:
            return stream.read(MAX_KEY_FILE)
    except OSError as exc:
        raise GrayhoundError(f"{path}: cannot read key: {exc.strerror}") from None


def signer_info(public_key: Ed25519PublicKey) -> SignerInfo:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return SignerInfo(base64.b64encode(raw).decode(), hashlib.sha256(raw).hexdigest())


def normalise_fingerprint(text: str, option: str = "--fingerprint") -> str:
    """'AB:CD…', 'sha256:abcd…' or 'abcd…' → 64 lowercase hex digits, or a UsageError."""
    cleaned = re.sub(r"[\s:]", "", text.lower().removeprefix("sha256:"))
    if not FINGERPRINT_RE.match(cleaned):
        raise UsageError(f"{option}: expected 64 hex digits (a SHA-256), got {text[:80]!r}")
    return cleaned


def sign_digest(key: Ed25519PrivateKey, manifest_sha256: str) -> dict:
    """The signature record stored beside the manifest (seal/signature.json)."""
    statement = STATEMENT.format(digest=manifest_sha256)
    signature = key.sign(statement.encode())
    return {
        **signer_info(key.public_key()).as_dict(),
        "signed": statement,
        "signature": base64.b64encode(signature).decode(),
    }


def check_signature(record, manifest_sha256: str, declared: dict | None) -> tuple[str | None, str]:
    """(problem or None, fingerprint): does `record` sign this manifest digest with the key the
    manifest declares?"""
    if not isinstance(record, dict):
        return "not a signature record", ""
    fingerprint = str(record.get("fingerprint", ""))
    try:
        raw = base64.b64decode(str(record.get("public_key", "")), validate=True)
        public_key = Ed25519PublicKey.from_public_bytes(raw)
        signature = base64.b64decode(str(record.get("signature", "")), validate=True)
    except (ValueError, binascii.Error):
        return "the public key or signature is not valid base64 Ed25519", fingerprint
    if hashlib.sha256(raw).hexdigest() != fingerprint:
        return "the fingerprint does not belong to the public key beside it", fingerprint
    if declared and declared.get("fingerprint") != fingerprint:
        return "signed by another key than the one manifest.json names", fingerprint
    statement = STATEMENT.format(digest=manifest_sha256)
    if record.get("signed") != statement:
        return "the signature is for another manifest (changed after signing)", fingerprint
    try:
        public_key.verify(signature, statement.encode())
    except InvalidSignature:
        return "the signature does not match manifest.json (changed after signing)", fingerprint
    return None, fingerprint
