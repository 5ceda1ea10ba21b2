"""`grayhound serve` on the command line: password hashes, the [serve] section's checks, one-line
errors before Datasette starts, and the demo pointing at it."""

from __future__ import annotations

import io
import socket
import zipfile
from pathlib import Path

import pytest

from grayhound.cli import main
from reports.serve.auth import hash_password, verify_password

EXAMPLE = Path(__file__).resolve().parents[2] / "grayhound" / "example.toml"
GOOD_HASH = hash_password("s3cret", iterations=1000)


def test_hash_password_prints_a_hash_the_config_accepts(tmp_path, capsys, monkeypatch):
    from grayhound.config import load_config

    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret pass\n"))
    assert main(["serve", "--hash-password"]) == 0
    printed = capsys.readouterr().out.strip()
    assert printed.startswith("pbkdf2_sha256$600000$")
    assert verify_password("s3cret pass", printed)
    assert not verify_password("s3cret pas", printed)
    path = tmp_path / "grayhound.toml"
    path.write_text(EXAMPLE.read_text() + f'\n[serve.users]\nanalyst = "{printed}"\n')
    assert load_config(path).serve.users == {"analyst": printed}


def test_verify_password_refuses_malformed_hashes():
    for bad in ("", "plain", "md5$1$salt$x", "pbkdf2_sha256$x$salt$y", None):
        assert not verify_password("anything", bad)


ANONYMOUS = 'anonymous = "none"'


@pytest.mark.parametrize(
    "line,new,words",
    [
        (ANONYMOUS, 'anonymous = "everyone"', ["serve.anonymous", "none, read"]),
        ("port = 8088", "port = 70000", ["serve.port", "65535"]),
        (ANONYMOUS, 'users = { analyst = "hunter2" }', ["serve.users.analyst", "--hash-password"]),
        (ANONYMOUS, 'users = { "bad name" = "' + GOOD_HASH + '" }', ["serve.users.bad name"]),
        (ANONYMOUS, 'users = ["analyst"]', ["serve.users", "expected a table"]),
        (ANONYMOUS, 'admins = ["x"]', ["serve.admins", "unknown key"]),
    ],
)
def test_a_bad_serve_section_is_one_line_naming_the_key(tmp_path, capsys, line, new, words):
    path = tmp_path / "grayhound.toml"
    path.write_text(EXAMPLE.read_text().replace(line, new))
    assert main(["--config", str(path), "serve"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(path) in err
    for word in words:
        assert word in err


def test_serve_says_in_one_line_when_it_cannot_start(tmp_path, capsys, served_store):
    config_path, _ = served_store
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["--config", str(config_path), "serve", "--port", str(port)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"127.0.0.1:{port}: cannot listen" in err
    empty = tmp_path / "grayhound.toml"
    empty.write_text(EXAMPLE.read_text())
    assert main(["--config", str(empty), "serve"]) == 1
    assert "database not found" in capsys.readouterr().err


def test_the_demo_ends_with_the_serve_command(tmp_path, capsys, monkeypatch):
    calls = []
    monkeypatch.setattr("grayhound.demo.run.run_demo", lambda config, echo: calls.append(config))
    assert main(["demo", "--dir", str(tmp_path / "demo")]) == 0
    out = capsys.readouterr().out
    assert calls, "the demo ran"
    config = tmp_path / "demo" / "grayhound.toml"
    assert f"grayhound serve --config {config}" in out


def test_serve_seals_exports_as_the_evidence_section_says(
    tmp_path, served_store, monkeypatch, capsys
):
    """[evidence] signing_key reaches the bundles exported from the browser; a key that cannot
    be read stops the server before it starts, in one line."""
    import reports.serve.app
    from reports.evidence.seal import generate_keypair
    from reports.evidence.verify import verify_bundle
    from tests.serve.conftest import Client

    config_path, config = served_store
    private, _, fingerprint = generate_keypair(tmp_path / "keys" / "grayhound")
    storage = config_path.read_text().replace('"grayhound.db"', f'"{config.storage.database}"')
    storage = storage.replace('"evidence"', f'"{config.storage.evidence_dir}"')
    sealed = tmp_path / "grayhound.toml"
    sealed.write_text(f'[evidence]\nsigning_key = "{private}"\n\n{storage}')
    built, build = [], reports.serve.app.build_datasette
    monkeypatch.setattr(reports.serve.app, "build_datasette", lambda *a, **k: built.append(
        build(*a, **k)) or built[-1])  # fmt: skip
    monkeypatch.setattr("uvicorn.run", lambda app, **kwargs: None)  # started, not served
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    assert main(["--config", str(sealed), "serve", "--port", port]) == 0
    client = Client(built[0])
    try:
        client.sign_in()
        token = client.csrftoken("/-/grayhound/listing/1")
        response = client.post(
            "/-/grayhound/export", {"kind": "listing", "subject_id": "1", "csrftoken": token}
        )
        bundle = tmp_path / "bundle.zip"
        bundle.write_bytes(client.get(response.headers["location"]).content)
    finally:
        client.close()
    result = verify_bundle(bundle)
    assert result.ok, result.problems
    assert "seal/signature.json" in zipfile.ZipFile(bundle).namelist()
    assert any(fingerprint in note for note in result.notes), result.notes
    capsys.readouterr()
    sealed.write_text(sealed.read_text().replace(str(private), str(tmp_path / "no-such-key")))
    assert main(["--config", str(sealed), "serve", "--port", port]) != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no-such-key" in err
