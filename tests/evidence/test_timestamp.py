"""RFC 3161 timestamps against a real TSA on loopback (`openssl ts -reply` with a CA made for
the test): a token over the manifest digest verifies, a token for another digest or from a TSA
outside the trusted CA fails, a forged bundle keeps a token that no longer fits."""

from __future__ import annotations

import json
import zipfile

import pytest

from grayhound.cli import main
from grayhound.errors import GrayhoundError
from reports.evidence.bundle import Sealing, export_bundle
from reports.evidence.sealcheck import Trust
from reports.evidence.timestamp import check_token, request_token
from reports.evidence.verify import verify_bundle

EVENT = {"exported_at": "2025-06-01T12:00:00.000Z", "host": "lawfirm-pc", "user": "custodian"}


def export(store, config, tmp_path, sealing, name="bundle.zip"):
    return export_bundle(store, config, "listing", 1, tmp_path / name, event=EVENT, sealing=sealing)


def test_a_loopback_token_over_the_manifest_digest_verifies(tsa, tmp_path):
    manifest = b'{"a manifest": true}\n'
    import hashlib

    digest = hashlib.sha256(manifest).hexdigest()
    reply = request_token(tsa.url, manifest, ca_pem=tsa.ca_pem, timeout=10)
    assert tsa.queries[-1] == "application/timestamp-query"
    problem, stamp = check_token(reply, digest, trusted_ca=tsa.ca_pem, bundle_ca=None)
    assert problem is None and stamp.checked_against == "trusted"
    assert "Loopback Test TSA" in stamp.tsa and stamp.time.endswith("Z")
    other = hashlib.sha256(b"another manifest").hexdigest()
    problem, _ = check_token(reply, other, trusted_ca=tsa.ca_pem, bundle_ca=None)
    assert problem.startswith("the timestamp covers another digest")


def test_export_stores_a_token_and_verify_reports_the_certified_time(
    two_runs, store, config, tmp_path, sealing, tsa, capsys
):
    result = export(store, config, tmp_path, sealing)
    assert result.stamp is not None and "Loopback Test TSA" in result.stamp.tsa
    with zipfile.ZipFile(result.path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        token = archive.read("seal/timestamp.tsr")
    assert manifest["seal"]["timestamp"]["tsa_url"] == tsa.url
    assert manifest["seal"]["timestamp"]["ca_pem"].startswith("-----BEGIN CERTIFICATE")
    assert token[:1] == b"\x30"  # the DER reply as the TSA sent it
    args = ["evidence", "verify", "--tsa-ca", str(tsa.ca_path), str(result.path)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert f"existed at {result.stamp.time}" in out and "the TSA CA you gave" in out
    assert main(["evidence", "verify", str(result.path)]) == 0
    assert "the TSA CA the bundle carries (self-asserted" in capsys.readouterr().out


def test_the_consistent_forgery_is_caught_by_the_timestamp_alone(
    two_runs, store, config, tmp_path, tsa, attacker
):
    sealing = Sealing(
        timestamper=lambda m: request_token(tsa.url, m, ca_pem=tsa.ca_pem, timeout=10),
        tsa_url=tsa.url,
        tsa_ca_pem=tsa.ca_pem,
    )
    path = export(store, config, tmp_path, sealing).path
    attacker(path).change_price(b"499.00", b"  1.00").rewrite_custody("mallory").seal()
    problems = verify_bundle(path, Trust(tsa_ca=tsa.ca_pem)).problems
    (line,) = [p for p in problems if p.startswith("seal/timestamp.tsr")]
    assert "covers another digest" in line


def test_a_token_for_another_digest_in_the_bundle_fails(
    two_runs, store, config, tmp_path, sealing, tsa
):
    path = export(store, config, tmp_path, sealing).path
    foreign = request_token(tsa.url, b"some other manifest", ca_pem=tsa.ca_pem, timeout=10)
    replace_entry(path, "seal/timestamp.tsr", foreign)
    problems = verify_bundle(path, Trust(tsa_ca=tsa.ca_pem)).problems
    assert any("seal/timestamp.tsr: the timestamp covers another digest" in p for p in problems)


def test_a_token_from_another_tsa_fails_against_the_trusted_ca(
    two_runs, store, config, tmp_path, tsa, rogue_tsa
):
    """A forger re-stamps the forged manifest at a TSA of their own making: the token covers
    the right digest, but does not chain to the CA the reader trusts."""
    rogue = Sealing(timestamper=rogue_tsa.stamp, tsa_url="http://rogue.example/tsr")
    path = export(store, config, tmp_path, rogue).path
    assert verify_bundle(path).ok  # no CA anywhere: the signature is not checked, and it says so
    assert any("NOT checked" in n for n in verify_bundle(path).notes)
    problems = verify_bundle(path, Trust(tsa_ca=tsa.ca_pem)).problems
    (line,) = [p for p in problems if p.startswith("seal/timestamp.tsr")]
    assert "does not check against the trusted CA" in line


def test_a_tsa_that_does_not_answer_stops_the_export_in_one_line(
    two_runs, config, tmp_path, capsys
):
    config_path = tmp_path / "stamped.toml"
    config_path.write_text(
        config.path.read_text()
        + '\n[evidence]\ntsa_url = "http://127.0.0.1:9/tsr"\ntsa_timeout = 2\n'
    )
    out = tmp_path / "x.zip"
    args = ["--config", str(config_path), "evidence", "export", "--listing", "1"]
    assert main([*args, "--out", str(out), "--no-images"]) == 1
    err = capsys.readouterr().err
    assert "http://127.0.0.1:9/tsr: timestamp authority did not answer" in err
    assert "Traceback" not in err and not out.exists()


def test_request_token_refuses_a_reply_that_is_not_a_timestamp(tmp_path):
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Junk(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"<html>not a timestamp</html>")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Junk)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        with pytest.raises(GrayhoundError, match="not an RFC 3161 timestamp reply"):
            request_token(url, b"manifest", ca_pem=None, timeout=5)
    finally:
        server.shutdown()
        server.server_close()


def replace_entry(path, name, data):
    with zipfile.ZipFile(path) as archive:
        files = {n: archive.read(n) for n in archive.namelist()}
    files[name] = data
    with zipfile.ZipFile(path, "w") as archive:
        for entry, content in files.items():
            archive.writestr(entry, content)
