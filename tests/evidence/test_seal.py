"""Signatures, the custody chain and --expect: the forgeries of issue 16 are each caught by a
signed or timestamped bundle and named in one line; an unsigned bundle says what it cannot
prove."""

from __future__ import annotations

import json
import os
import stat

import pytest

from grayhound.cli import main
from reports.evidence.bundle import Sealing, export_bundle
from reports.evidence.seal import generate_keypair, load_signing_key, signer_info
from reports.evidence.sealcheck import Trust
from reports.evidence.verify import verify_bundle

EVENT = {"exported_at": "2025-06-01T12:00:00.000Z", "host": "lawfirm-pc", "user": "custodian"}


def export(store, config, tmp_path, sealing=None, name="bundle.zip", subject_id=1):
    return export_bundle(
        store, config, "listing", subject_id, tmp_path / name, event=EVENT, sealing=sealing
    )


def one_line(problems: list[str], *needles: str) -> str:
    """The one problem line that names all of `needles`."""
    found = [p for p in problems if all(n in p for n in needles)]
    assert found, problems
    assert "\n" not in found[0]
    return found[0]


def test_keygen_writes_a_private_key_0600_and_a_public_key_and_never_overwrites(tmp_path, capsys):
    out = tmp_path / "keys" / "grayhound"
    out.parent.mkdir()
    assert main(["evidence", "keygen", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert b"PRIVATE KEY" in out.read_bytes()
    public = out.with_name("grayhound.pub")
    assert b"PUBLIC KEY" in public.read_bytes() and b"PRIVATE" not in public.read_bytes()
    fingerprint = signer_info(load_signing_key(out).public_key()).fingerprint
    assert fingerprint in printed
    before = out.read_bytes()
    assert main(["evidence", "keygen", "--out", str(out)]) == 2  # a usage error, one line
    err = capsys.readouterr().err
    assert "already exists" in err and "--force" in err and err.count("\n") == 1
    assert out.read_bytes() == before
    other = tmp_path / "keys" / "other"
    other.with_name("other.pub").write_text("mine")  # a lone public key is still never replaced
    assert main(["evidence", "keygen", "--out", str(other)]) == 2
    assert not other.exists()


def test_keygen_force_replaces_the_pair_and_keeps_the_old_one_aside(tmp_path, capsys):
    out = tmp_path / "grayhound"
    assert main(["evidence", "keygen", "--out", str(out)]) == 0
    old_private, old_public = out.read_bytes(), out.with_name("grayhound.pub").read_bytes()
    assert main(["evidence", "keygen", "--out", str(out), "--force"]) == 0
    assert "kept the old" in capsys.readouterr().out
    assert out.read_bytes() != old_private and stat.S_IMODE(os.stat(out).st_mode) == 0o600
    kept = {p.name.split(".replaced-")[0]: p.read_bytes() for p in tmp_path.glob("*.replaced-*")}
    assert kept == {"grayhound": old_private, "grayhound.pub": old_public}


def test_a_signed_bundle_is_self_asserted_without_a_trusted_key(
    two_runs, store, config, tmp_path, signing_key
):
    key, public = signing_key
    result = export(store, config, tmp_path, Sealing(signing_key=key))
    manifest = json.loads(bundle_manifest(result.path))
    fingerprint = signer_info(key.public_key()).fingerprint
    assert manifest["seal"]["signature"]["fingerprint"] == fingerprint == result.signed_by
    plain = verify_bundle(result.path)
    assert plain.ok, plain.problems
    assert any("self-asserted" in n and fingerprint in n for n in plain.notes)
    trusted = verify_bundle(result.path, Trust(fingerprint=fingerprint))
    assert trusted.ok and any("by the key you gave" in n for n in trusted.notes)


def test_verify_with_another_key_exits_1_naming_both_keys(
    two_runs, store, config, tmp_path, signing_key, capsys
):
    key, public = signing_key
    path = export(store, config, tmp_path, Sealing(signing_key=key)).path
    assert main(["evidence", "verify", "--key", str(public), str(path)]) == 0
    _, stranger_pub, stranger = generate_keypair(tmp_path / "stranger")
    assert main(["evidence", "verify", "--key", str(stranger_pub), str(path)]) == 1
    out = capsys.readouterr().out
    assert "not by the key you trust" in out and stranger in out
    assert main(["evidence", "verify", "--fingerprint", stranger.upper(), str(path)]) == 1
    assert main(["evidence", "verify", "--fingerprint", "abc", str(path)]) == 2


def test_unsigned_bundle_fails_when_a_key_is_required(two_runs, store, config, tmp_path):
    path = export(store, config, tmp_path).path
    plain = verify_bundle(path)
    assert plain.ok and any(n.startswith("signature: none") for n in plain.notes)
    result = verify_bundle(path, Trust(fingerprint="ab" * 32))
    one_line(result.problems, "not signed")


def test_the_consistent_forgery_passes_unsigned_but_is_caught_when_signed(
    two_runs, store, config, tmp_path, signing_key, attacker
):
    """Issue 16: price changed in the WARC, every digest and the manifest recomputed, the
    custody log rewritten with another user."""
    unsigned = export(store, config, tmp_path, name="unsigned.zip").path
    attacker(unsigned).change_price(b"499.00", b"  1.00").rewrite_custody("mallory").seal()
    forged = verify_bundle(unsigned)
    assert forged.ok, forged.problems  # what a digest alone cannot catch: the reason for seals
    assert b"$  1.00<" in warc_payloads(bundle_files(unsigned)["evidence.warc.gz"])
    assert any(n.startswith("signature: none") for n in forged.notes)

    key, _ = signing_key
    signed = export(store, config, tmp_path, Sealing(signing_key=key), name="signed.zip").path
    attacker(signed).change_price(b"499.00", b"  1.00").rewrite_custody("mallory").seal()
    result = verify_bundle(signed)
    assert not result.ok
    one_line(result.problems, "seal/signature.json", "changed after signing")


def test_resigning_with_the_forgers_own_key_is_caught_by_the_trusted_key(
    two_runs, store, config, tmp_path, signing_key, attacker
):
    key, _ = signing_key
    fingerprint = signer_info(key.public_key()).fingerprint
    path = export(store, config, tmp_path, Sealing(signing_key=key)).path
    mallory = load_signing_key(generate_keypair(tmp_path / "mallory")[0])
    attacker(path).change_price(b"499.00", b"  1.00").resign(mallory).seal()
    assert verify_bundle(path).ok  # self-consistent, and says whose key: self-asserted
    result = verify_bundle(path, Trust(fingerprint=fingerprint))
    one_line(result.problems, "not by the key you trust", fingerprint)


def test_a_forged_custody_line_is_named(two_runs, store, config, tmp_path, signing_key, attacker):
    key, _ = signing_key
    path = export(store, config, tmp_path, Sealing(signing_key=key)).path
    attacker(path).rewrite_custody("mallory", line=2, rechain=False).seal()
    problems = verify_bundle(path).problems
    one_line(problems, "custody.log: line 3 does not follow line 2")
    assert len([p for p in problems if "custody" in p]) == 1
    # rechained and re-listed: the chain agrees with itself, the signature does not
    path = export(store, config, tmp_path, Sealing(signing_key=key), name="b.zip").path
    attacker(path).rewrite_custody("mallory", line=2).seal()
    one_line(verify_bundle(path).problems, "seal/signature.json", "changed after signing")


def test_a_custody_line_removed_breaks_the_head(two_runs, store, config, tmp_path):
    path = export(store, config, tmp_path).path
    files = bundle_files(path)
    lines = files["custody.log"].decode().splitlines()
    rewrite_entry(path, "custody.log", ("\n".join(lines[:-1]) + "\n").encode())
    one_line(verify_bundle(path).problems, "custody.log", "not the one manifest.json records")


def test_a_warc_swapped_in_from_another_bundle_is_named(
    crawl, listing_page, store, config, tmp_path, signing_key, attacker
):
    crawl([listing_page("/item/1.html", "Xiaomi 14", "499.00")])
    crawl([listing_page("/item/2.html", "Redmi 13", "99.00")])
    key, _ = signing_key
    first = export(store, config, tmp_path, Sealing(signing_key=key), "a.zip", 1).path
    second = export(store, config, tmp_path, Sealing(signing_key=key), "b.zip", 2).path
    swapped = bundle_files(second)["evidence.warc.gz"]
    forger = attacker(first)
    forger.files["evidence.warc.gz"] = swapped
    forger.seal()  # the file list agrees with the new WARC; the captures do not
    problems = verify_bundle(first).problems
    one_line(problems, "evidence.warc.gz", "does not match its record")
    one_line(problems, "seal/signature.json", "changed after signing")


def test_expect_checks_the_digest_recorded_at_export(two_runs, store, config, tmp_path, capsys):
    result = export(store, config, tmp_path)
    path = str(result.path)
    assert main(["evidence", "verify", "--expect", result.manifest_sha256, path]) == 0
    other = "0" * 64
    assert main(["evidence", "verify", "--expect", other, path]) == 1
    assert f"not the {other} recorded at export" in capsys.readouterr().out


def test_removing_the_signature_of_a_signed_bundle_is_named(
    two_runs, store, config, tmp_path, signing_key
):
    key, _ = signing_key
    path = export(store, config, tmp_path, Sealing(signing_key=key)).path
    files = bundle_files(path)
    del files["seal/signature.json"]
    write_files(path, files)
    one_line(verify_bundle(path).problems, "seal/signature.json: missing")


def test_a_bad_signing_key_is_one_line(two_runs, config, tmp_path, capsys):
    bad = tmp_path / "not-a-key"
    bad.write_text("hello")
    config_path = tmp_path / "sealed.toml"
    config_path.write_text(config.path.read_text() + f'\n[evidence]\nsigning_key = "{bad}"\n')
    args = ["--config", str(config_path), "evidence", "export", "--listing", "1"]
    assert main([*args, "--out", str(tmp_path / "x.zip"), "--no-images"]) == 1
    err = capsys.readouterr().err
    assert "not-a-key: not an unencrypted PEM private key" in err and "Traceback" not in err


# -- helpers ---------------------------------------------------------------------------------
def bundle_files(path):
    import zipfile

    with zipfile.ZipFile(path) as archive:
        return {n: archive.read(n) for n in archive.namelist()}


def warc_payloads(warc: bytes) -> bytes:
    import io

    from warcio.archiveiterator import ArchiveIterator

    return b"".join(r.content_stream().read() for r in ArchiveIterator(io.BytesIO(warc)))


def bundle_manifest(path) -> bytes:
    return bundle_files(path)["manifest.json"]


def write_files(path, files):
    import zipfile

    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)


def rewrite_entry(path, name, data):
    files = bundle_files(path)
    files[name] = data
    write_files(path, files)


@pytest.fixture(autouse=True)
def _no_browser(monkeypatch):
    """These tests are about seals: no page images (see test_images.py)."""
    monkeypatch.setenv("GRAYHOUND_CHROMIUM", "/nonexistent/chromium")
