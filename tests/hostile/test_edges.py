"""Config values and command-line arguments that used to crash later (a ZeroDivisionError in
detect, invalid JSON in the digest, a traceback in the schedule, a forged request header): each
is refused at once with one line naming the key or the argument, exit 2 (1 for I/O)."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grayhound.cli import main
from grayhound.models import Listing
from grayhound.store import open_store

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = (ROOT / "grayhound" / "example.toml").read_text()

# (line of the example config, what it becomes, the key the error must name)
BAD_VALUES = [
    ("msrp = { USD = 999.0", "msrp = { USD = 0", "catalog[0].msrp.USD"),
    ("msrp = { USD = 999.0", "msrp = { USD = inf", "catalog[0].msrp.USD"),
    ("msrp = { USD = 999.0", "msrp = { USD = nan", "catalog[0].msrp.USD"),
    ("high_ratio = 1.4", "high_ratio = inf", "pricing.high_ratio"),
    ("download_timeout = 20", "download_timeout = nan", "crawl.download_timeout"),
    ("download_timeout = 20", "download_timeout = 0", "crawl.download_timeout"),
    (
        "max_download_size = 10485760",
        "max_download_size = 9223372036854775000",
        "crawl.max_download_size",
    ),
    ("concurrency = 8", "concurrency = 99999999999", "crawl.concurrency"),
    ("retries = 2", "retries = 4294967296", "crawl.retries"),
    (
        "obey_robots = true",
        'obey_robots = true\nuser_agent = "grayhound\\r\\nX-Injected: 1"',
        "crawl.user_agent",
    ),
    ('cron = "0 6 * * *"', 'cron = "99 99 * * *"', "schedule.cron"),
    ('cron = "0 6 * * *"', 'cron = "0 6 31 2 mon-xyz"', "schedule.cron"),
    ('allowed_hosts = ["127.0.0.1:8301"]', 'allowed_hosts = ["."]', "sources[0].allowed_hosts[0]"),
    (
        'allowed_hosts = ["127.0.0.1:8301"]',
        'allowed_hosts = ["127.0.0.1:99999"]',
        "sources[0].allowed_hosts[0]",
    ),
    (
        'allowed_hosts = ["127.0.0.1:8301"]',
        'allowed_hosts = ["a..b"]',
        "sources[0].allowed_hosts[0]",
    ),
    ('formats = ["html", "md", "json"]', "formats = []", "digest.formats"),
    (  # a backreference needs backtracking: RE2 (linear time) refuses it, naming the key
        'allowed_hosts = ["127.0.0.1:8301"]',
        'allowed_hosts = ["127.0.0.1:8301"]\nfollow = ["/item/(a)\\\\1"]',
        "sources[0].follow[0]",
    ),
]


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


@pytest.mark.parametrize(("old", "new", "key"), BAD_VALUES, ids=[row[1] for row in BAD_VALUES])
def test_a_bad_value_is_refused_naming_its_key(tmp_path, old, new, key):
    assert old in EXAMPLE
    config = tmp_path / "grayhound.toml"
    config.write_text(EXAMPLE.replace(old, new, 1))
    code, _, err = run("--config", str(config), "digest", "--no-record")
    assert code == 2
    assert key in one_line(err)


@pytest.fixture(scope="module")
def store_config(tmp_path_factory) -> Path:
    """A config without sources and a store with one listing: ids 1 exist, others do not."""
    directory = tmp_path_factory.mktemp("edges")
    text = EXAMPLE[: EXAMPLE.index("[[sources]]")] + EXAMPLE[EXAMPLE.index("[crawl]") :]
    config = directory / "grayhound.toml"
    config.write_text(text)
    with open_store(directory / "grayhound.db") as store:
        run_id = store.start_run(["none"], "2026-11-20T06:00:00.000Z")
        url = "http://127.0.0.1:8301/item/1.html"
        listing = Listing(url=url, canonical_url=url, is_product=True, title="Xiaomi 14 Pro")
        store.record_listing(run_id, "none", listing, None, "2026-11-20T06:00:00.000Z")
    return config


NUMBERS = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(
        ["0", "-1", "1", "9" * 19, "9" * 5000, "nan", "inf", "1e999", "0x10", "１２", "²", "٣", ""]
    ),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    number=NUMBERS,
    shape=st.sampled_from(
        [
            ("evidence", "export", "--listing", "{n}", "--out", "{out}/b.zip", "--force"),
            ("evidence", "export", "--seller", "{n}", "--out", "{out}/b.zip", "--force"),
            ("evidence", "export", "--case", "{n}", "--out", "{out}/b.zip", "--force"),
            ("review", "set", "{n}", "dismissed", "--note", "checked"),
            ("digest", "--since", "{n}d", "--no-record", "--out", "{out}/d.md"),
            ("digest", "--since", "{n}m", "--no-record", "--out", "{out}/d.md"),
            ("crawl", "--workers", "{n}"),
        ]
    ),
)
def test_numeric_arguments_never_crash(store_config, tmp_path, number, shape):
    args = [part.format(n=number, out=tmp_path) for part in shape]
    code, _, err = run("--config", str(store_config), *args)
    assert code in (0, 1, 2), (args, code, err)
    if code:
        assert one_line(err)


@pytest.mark.parametrize(
    ("args", "argument"),
    [
        (("evidence", "export", "--listing", "99999999999999999999999"), "--listing"),
        (("evidence", "export", "--case", "-5"), "--case"),
        (("review", "set", "99999999999999999999999", "dismissed", "--note", "x"), "case id"),
        (("review", "set", "²", "dismissed", "--note", "x"), "case id"),
        (("digest", "--since", "99999999999d", "--no-record"), "--since"),
        (("digest", "--since", "0001-01-01T00:00+14:00", "--no-record"), "--since"),
    ],
)
def test_an_impossible_number_names_its_argument(store_config, tmp_path, args, argument):
    out = ("--out", str(tmp_path / "x.zip")) if args[0] == "evidence" else ()
    code, _, err = run("--config", str(store_config), *args, *out)
    assert code == 2
    assert argument in one_line(err)


def test_out_a_directory_is_a_usage_error(store_config, tmp_path):
    code, _, err = run(
        "--config", str(store_config), "digest", "--no-record", "--out", str(tmp_path)
    )
    assert code == 2
    assert "--out" in one_line(err) and "directory" in err


def test_out_a_full_device_is_an_io_error(store_config):
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    for args in (
        ("digest", "--no-record", "--format", "html"),
        ("export", "listings"),
        ("evidence", "export", "--listing", "1"),
    ):
        code, _, err = run("--config", str(store_config), *args, "--out", "/dev/full")
        assert code == 1, (args, err)
        assert "--out /dev/full" in one_line(err) and "No space left" in err
