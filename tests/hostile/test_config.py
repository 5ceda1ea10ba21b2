"""The config loader on hostile input: any text becomes a Config or a ConfigError with a
one-line message, and the CLI turns that into exit 2 and one line on stderr, no traceback."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from grayhound.cli import main
from grayhound.config import Config, parse_config
from grayhound.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = (ROOT / "grayhound" / "example.toml").read_text()
EXAMPLE_LINES = EXAMPLE.splitlines()
ASSIGNMENT = re.compile(r"^(\s*[A-Za-z_\"'.]+\s*=\s*)(.*)$")
TOML_VALUES = st.sampled_from(
    [
        '""',
        '"\\u0000"',
        '"../../etc/passwd"',
        '"<script>alert(1)</script>"',
        "-1",
        "0",
        "1e400",
        "nan",
        "-inf",
        "99999999999999999999",
        "true",
        "[]",
        '[1, "a"]',
        "{}",
        "{ USD = -5 }",
        "{ XXX = 1.0 }",
        "1979-05-27T07:32:00Z",
        '"ftp://x"',
        '"h" ',
        "[[]]",
        '"' + "a" * 5000 + '"',
        '"0 0 31 2 *"',
        '"Mars/Olympus"',
        '"\u202eevil"',
    ]
)


def _outcome(text: str) -> Config | None:
    try:
        return parse_config(text, Path("/tmp/hostile/grayhound.toml"))
    except ConfigError as exc:
        message = str(exc)
        assert message and "\n" not in message, message
        assert message.startswith("/tmp/hostile/grayhound.toml"), message
        return None


@st.composite
def mutated_example(draw) -> str:
    """The example config with a few lines replaced, deleted, duplicated or given odd values."""
    lines = list(EXAMPLE_LINES)
    for _ in range(draw(st.integers(1, 4))):
        index = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["value", "delete", "duplicate", "garbage"]))
        match = ASSIGNMENT.match(lines[index])
        if action == "value" and match:
            lines[index] = match.group(1) + draw(TOML_VALUES)
        elif action == "delete":
            del lines[index]
        elif action == "duplicate":
            lines.insert(index, lines[index])
        else:
            lines[index] = draw(st.text(max_size=40))
    return "\n".join(lines)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=400))
def test_arbitrary_text_is_a_config_or_a_config_error(text):
    _outcome(text)


@settings(max_examples=200, deadline=None)
@given(text=mutated_example())
def test_mutated_example_is_a_config_or_a_config_error(text):
    config = _outcome(text)
    if config is not None:
        assert all(c >= 0 for m in config.catalog for c in m.msrp.values())
        assert config.crawl.concurrency >= 1


def test_the_example_itself_loads():
    assert isinstance(_outcome(EXAMPLE), Config)


@settings(max_examples=25, deadline=None)
@given(text=mutated_example())
def test_cli_exits_2_with_one_line_on_a_bad_config(tmp_path_factory, text):
    directory = tmp_path_factory.mktemp("cli")
    path = directory / "grayhound.toml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        parse_config(text, path)
    except ConfigError:
        pass
    else:
        return  # a valid mutation: nothing to refuse
    _assert_refused(path)


def _assert_refused(path: Path) -> None:
    import contextlib
    import io

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["--config", str(path), "export", "listings"])
    assert code == 2
    lines = err.getvalue().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("grayhound: "), err.getvalue()
    assert "Traceback" not in err.getvalue()


def test_a_nul_in_a_path_is_a_config_error(tmp_path):
    path = tmp_path / "grayhound.toml"
    path.write_text(EXAMPLE.replace('database = "grayhound.db"', 'database = "a\\u0000b.db"'))
    _assert_refused(path)
