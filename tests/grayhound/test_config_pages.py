"""`kind = "pages"` sources: start_urls_file (lines or a CSV `url` column, relative to the
config), allowed_hosts defaulting to the listed URLs' hosts, `render`; every mistake one line
naming the file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from grayhound.config import load_config
from grayhound.errors import ConfigError

BASE = """
[storage]
database = "g.db"

[brands.xiaomi]
name = "Xiaomi"
terms = ["xiaomi"]

[[sources]]
name = "competitors"
kind = "pages"
{source}
"""


def _config(tmp_path: Path, source: str, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    path = tmp_path / "grayhound.toml"
    path.write_text(BASE.format(source=source), encoding="utf-8")
    return path


def test_url_file_one_url_a_line_relative_to_the_config(tmp_path: Path) -> None:
    urls = "# competitors\nhttps://shop-a.example/p/1\n\nhttps://www.shop-b.example:8443/x?id=2\n"
    path = _config(tmp_path, 'start_urls_file = "lists/urls.txt"', {"lists/urls.txt": urls})
    source = load_config(path).sources[0]
    assert source.kind == "pages" and source.render is False
    assert source.start_urls == (
        "https://shop-a.example/p/1",
        "https://www.shop-b.example:8443/x?id=2",
    )
    assert source.allowed_hosts == ("shop-a.example", "www.shop-b.example:8443")
    assert source.start_urls_file == tmp_path / "lists" / "urls.txt"


def test_url_file_as_csv_with_a_url_column_and_inline_urls_merged(tmp_path: Path) -> None:
    csv_text = 'sku;url;note\nA1;https://shop-a.example/p/1;"cheap; watch"\nB2;https://shop-c.example/p/9;\n'
    source_lines = (
        'start_urls = ["https://shop-a.example/p/1"]\nstart_urls_file = "urls.csv"\nrender = true'
    )
    path = _config(tmp_path, source_lines, {"urls.csv": csv_text})
    source = load_config(path).sources[0]
    assert source.start_urls == ("https://shop-a.example/p/1", "https://shop-c.example/p/9")
    assert source.render is True


def test_thousands_of_urls(tmp_path: Path) -> None:
    urls = "".join(f"https://shop{n % 40}.example/p/{n}\n" for n in range(5000))
    path = _config(tmp_path, 'start_urls_file = "urls.txt"', {"urls.txt": urls})
    source = load_config(path).sources[0]
    assert len(source.start_urls) == 5000 and len(source.allowed_hosts) == 40


@pytest.mark.parametrize(
    ("source", "files", "words"),
    [
        ('start_urls_file = "nope.txt"', {}, ["nope.txt", "file not found", "start_urls_file"]),
        (
            'start_urls_file = "u.txt"',
            {"u.txt": "https://a.example/1\nftp://b.example/2\n"},
            ["u.txt:2", "not an http(s) URL"],
        ),
        (
            'start_urls_file = "u.csv"',
            {"u.csv": "sku,link\n1,https://a.example/1\n"},
            ["u.csv:1", "no `url` column"],
        ),
        ('start_urls_file = "u.txt"', {"u.txt": "# only a comment\n"}, ["u.txt", "lists no URL"]),
        (
            'start_urls_file = "u.txt"\nrender = "yes"',
            {"u.txt": "https://a.example/1\n"},
            ["sources[0].render", "true or false"],
        ),
        ("", {}, ["sources[0].start_urls", "required (or start_urls_file)"]),
    ],
)
def test_mistakes_name_the_file_and_line(
    tmp_path: Path, source: str, files: dict, words: list
) -> None:
    path = _config(tmp_path, source, files)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert "\n" not in message
    for word in words:
        assert word in message, message
