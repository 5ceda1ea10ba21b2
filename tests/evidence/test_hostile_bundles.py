"""Issue 15, items 3 and 4: `evidence verify` on bundles made to hurt it. Every one gets a
FAILED verdict naming the problem in one line (never a traceback), and the big ones are read
with bounded memory: verify runs in a child process whose address space is capped."""

from __future__ import annotations

import hashlib
import json
import resource
import subprocess
import sys
import zipfile
import zlib

import pytest

from crawler.capture.warc import warc_digest
from grayhound.cli import main
from reports.evidence.bundle import export_bundle, manifest_bytes, sha256_hex

EVENT = {"exported_at": "2025-06-01T12:00:00.000Z", "host": "lawfirm-pc", "user": "custodian"}
MEMORY_CAP = 600 * 1024**2  # verify itself peaks near 210 MB of address space
GIB = 1024**3


@pytest.fixture
def bundle(two_runs, store, config, tmp_path):
    return export_bundle(store, config, "listing", 1, tmp_path / "b.zip", event=EVENT).path


def files_of(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {n: archive.read(n) for n in archive.namelist()}


def relist(path, files: dict[str, bytes], manifest: dict | None = None, extra_infos=()) -> None:
    """Write `files` back with a manifest that lists them all (a consistent edit)."""
    manifest = manifest or json.loads(files["manifest.json"])
    manifest["files"] = [
        {"path": n, "sha256": sha256_hex(d), "size": len(d)}
        for n, d in sorted(files.items())
        if n != "manifest.json"
    ] + [{"path": i.filename, "sha256": "0" * 64, "size": 0} for i, _ in extra_infos]
    files["manifest.json"] = manifest_bytes(manifest)
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        for info, data in extra_infos:
            archive.writestr(info, data)


def verify_cli(path, capsys) -> tuple[int, str]:
    code = main(["evidence", "verify", str(path)])
    captured = capsys.readouterr()
    output = captured.out + captured.err
    assert "Traceback" not in output
    return code, output


def verify_capped(path) -> subprocess.CompletedProcess:
    """`evidence verify` in a child process that cannot grow past MEMORY_CAP."""

    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))

    script = "import sys; from grayhound.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", script, "evidence", "verify", str(path)],
        preexec_fn=cap,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


# -- item 4: a removed WARC, hostile manifests, hostile entry names --------------------------
def test_a_bundle_whose_warc_was_removed_fails(bundle, capsys):
    files = files_of(bundle)
    del files["evidence.warc.gz"]
    relist(bundle, files)  # the manifest no longer lists it: only the captures still point at it
    code, output = verify_cli(bundle, capsys)
    assert code == 1
    assert "evidence.warc.gz: missing (capture 1 points at a WARC file" in output


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (lambda m: m.update(captures={"not": "a list"}), "'captures' is not a list"),
        (lambda m: m.update(files="everything"), "'files' is not a list"),
        (lambda m: m["captures"][0].update(warc_offset=1e30), "number out of range"),
        (lambda m: m["captures"][0].update(warc_offset=-5), "number out of range"),
        (lambda m: m["captures"][0].update(warc_offset="0"), "expected a whole number"),
        (lambda m: m["captures"][0].update(warc_offset=True), "expected a whole number"),
        (lambda m: m["captures"].append(7), "a capture is not an object"),
        (lambda m: m["files"][0].update(path="../x"), "no safe path"),
        (lambda m: m["files"][0].update(path="/etc/passwd"), "no safe path"),
        (lambda m: m["files"][0].update(size=10**40), "number out of range"),
        (lambda m: m["files"][0].update(sha256=["x"]), "sha256 is not 64 hex digits"),
        (lambda m: m.update(seal=[1, 2]), "'seal' is not an object"),
    ],
)
def test_hostile_manifest_fields_fail_naming_the_problem(bundle, capsys, edit, named):
    files = files_of(bundle)
    manifest = json.loads(files["manifest.json"])
    edit(manifest)
    files["manifest.json"] = manifest_bytes(manifest)
    with zipfile.ZipFile(bundle, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    code, output = verify_cli(bundle, capsys)
    assert code == 1 and "manifest.json: changed" in output and named in output


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        (b'{"files": [], "captures": [{"warc_offset": Infinity}]}', "Infinity is not a number"),
        (b'{"files": [], "captures": [{"warc_offset": NaN}]}', "NaN is not a number"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"files": [' * 50_000, "nested too deeply"),
        (b"\xff\xfe not json", "not valid JSON"),
    ],
)
def test_unparseable_manifests_fail_naming_the_problem(bundle, capsys, raw, named):
    files = files_of(bundle)
    files["manifest.json"] = raw
    with zipfile.ZipFile(bundle, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    code, output = verify_cli(bundle, capsys)
    assert code == 1 and "manifest.json: changed" in output and named in output


def _symlink(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (0o120777) << 16  # S_IFLNK
    return info


@pytest.mark.parametrize(
    ("info", "named"),
    [
        (zipfile.ZipInfo("../x"), "'../x': refused (unsafe entry name"),
        (zipfile.ZipInfo("snapshots/../../x"), "'snapshots/../../x': refused (unsafe"),
        (zipfile.ZipInfo("/abs"), "'/abs': refused (unsafe entry name"),
        (zipfile.ZipInfo("C:/evil"), "'C:/evil': refused (unsafe entry name"),
        (zipfile.ZipInfo("a\\b"), "refused (unsafe entry name (absolute, backslash"),
        (_symlink("snapshots/link.html"), "'snapshots/link.html': refused (a symbolic link"),
    ],
)
def test_hostile_entry_names_fail_even_when_listed(bundle, capsys, info, named):
    relist(bundle, files_of(bundle), extra_infos=[(info, b"/etc/passwd")])
    code, output = verify_cli(bundle, capsys)
    assert code == 1 and named in output


# -- item 3: bounded memory, declared sizes beyond sane limits -------------------------------
@pytest.mark.slow
def test_a_zip_bomb_is_refused_under_a_memory_cap(bundle):
    files = files_of(bundle)
    relist(bundle, files)
    with zipfile.ZipFile(bundle, "a", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("snapshots/bomb.html", "w", force_zip64=True) as entry:
            chunk = b"\0" * (1024 * 1024)
            for _ in range(256):  # 256 MiB of zeros: about 256 kB stored
                entry.write(chunk)
    assert bundle.stat().st_size < 2 * 1024**2
    result = verify_capped(bundle)
    assert result.returncode == 1, result.stderr[-2000:]
    assert "'snapshots/bomb.html': refused (inflates" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def _gzip_member(parts, total: int) -> bytes:
    """gzip one WARC record whose body is `total` zero bytes after `parts`."""
    compressor = zlib.compressobj(1, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    out = [compressor.compress(b"".join(parts))]
    chunk, left = b"\0" * (4 * 1024 * 1024), total
    while left:
        out.append(compressor.compress(chunk[: min(left, len(chunk))]))
        left -= min(left, len(chunk))
    out.append(compressor.compress(b"\r\n\r\n"))
    out.append(compressor.flush())
    return b"".join(out)


def _giant_record(body_size: int, declared: int | None = None):
    http = b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n"
    payload = hashlib.sha256()
    chunk, left = b"\0" * (4 * 1024 * 1024), body_size
    while left:
        payload.update(chunk[: min(left, len(chunk))])
        left -= min(left, len(chunk))
    block = hashlib.sha256(http)
    block_digest = None
    if declared is None:  # a true record: its block digest over headers and body
        left = body_size
        while left:
            block.update(chunk[: min(left, len(chunk))])
            left -= min(left, len(chunk))
        block_digest = warc_digest(block.hexdigest())
    headers = [
        b"WARC/1.1",
        b"WARC-Type: response",
        b"WARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-000000000001>",
        b"WARC-Date: 2025-06-01T12:00:00Z",
        b"WARC-Target-URI: http://127.0.0.1:8301/item/1.html",
        b"WARC-Payload-Digest: " + warc_digest(payload.hexdigest()).encode(),
    ]
    if block_digest:
        headers.append(b"WARC-Block-Digest: " + block_digest.encode())
    headers.append(b"Content-Length: %d" % (declared or len(http) + body_size))
    return _gzip_member([b"\r\n".join(headers) + b"\r\n\r\n", http], body_size), payload


def _with_warc(bundle, warc: bytes, payload_sha256: str) -> None:
    files = files_of(bundle)
    files["evidence.warc.gz"] = warc
    manifest = json.loads(files["manifest.json"])
    manifest["captures"] = [
        {**manifest["captures"][0], "warc_offset": 0, "payload_sha256": payload_sha256}
    ]
    relist(bundle, files, manifest)


@pytest.mark.slow
def test_a_1_gib_warc_record_is_streamed_under_a_memory_cap(bundle):
    warc, payload = _giant_record(GIB)
    _with_warc(bundle, warc, payload.hexdigest())
    assert bundle.stat().st_size < 8 * 1024**2
    result = verify_capped(bundle)
    output = result.stdout + result.stderr
    assert "Traceback" not in output and "MemoryError" not in output
    # every byte was read and both digests checked: the record is whole and the capture fits
    assert result.returncode == 0, output[-3000:]
    assert "intact" in result.stdout and "1 WARC records" in result.stdout


def test_a_record_declaring_a_petabyte_is_refused(bundle, capsys):
    warc, payload = _giant_record(1024, declared=10**15)
    _with_warc(bundle, warc, payload.hexdigest())
    code, output = verify_cli(bundle, capsys)
    assert code == 1
    assert "evidence.warc.gz: refused (record after offset 0: a record declares" in output


def test_a_header_line_without_end_is_refused(bundle, capsys):
    record = [
        b"WARC/1.1\r\nWARC-Type: response\r\nWARC-Target-URI: http://127.0.0.1/x\r\n",
        b"Content-Length: %d\r\n\r\nHTTP/1.1 200 OK\r\nX-Long: " % (40 * 1024**2),
    ]
    _with_warc(bundle, _gzip_member(record, 40 * 1024**2 - 30), "0" * 64)
    code, output = verify_cli(bundle, capsys)
    assert code == 1 and "a header line longer than" in output
