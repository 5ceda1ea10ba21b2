"""A source's URL list file (`start_urls_file`): one URL a line, or a CSV with a `url` column
(a spreadsheet export of competitor product pages). Blank lines and lines starting with "#"
are skipped; repeated URLs are read once. Every bad line is a ConfigError naming file and line."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from grayhound.errors import ConfigError

URL_RE = re.compile(r"^https?://[^/\s]+\S*$")
# A file beyond this is not a list of pages someone watches; it is a mistake (a database dump).
MAX_URL_FILE_BYTES = 50_000_000


def read_url_file(path: Path, where: str) -> tuple[str, ...]:
    """The URLs listed in `path`; `where` names the config key for errors about the file."""
    try:
        if path.stat().st_size > MAX_URL_FILE_BYTES:
            raise ConfigError(f"{path}: larger than {MAX_URL_FILE_BYTES} bytes ({where})")
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found ({where})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read ({where}): {exc}") from None
    rows = _csv_urls(text, path) if _is_csv(text) else _line_urls(text)
    urls = []
    for line, url in rows:
        if not URL_RE.match(url):
            raise ConfigError(f"{path}:{line}: not an http(s) URL: {url[:200]!r}")
        urls.append(url)
    if not urls:
        raise ConfigError(f"{path}: lists no URL ({where})")
    return tuple(dict.fromkeys(urls))


def _is_csv(text: str) -> bool:
    """A header row: a `url` column, or several columns and no URL in the first line."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    cells = [cell.strip().strip('"').lower() for cell in re.split(r"[,;\t]", first)]
    return "url" in cells or (len(cells) > 1 and "://" not in first)


def _line_urls(text: str) -> list[tuple[int, str]]:
    return [
        (number, line.strip())
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]


def _csv_urls(text: str, path: Path) -> list[tuple[int, str]]:
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    header = [cell.strip().lower() for cell in next(reader, [])]
    if "url" not in header:
        raise ConfigError(f"{path}:1: no `url` column in the header ({', '.join(header)})")
    column = header.index("url")
    found = []
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        line = reader.line_num
        if len(row) <= column:
            raise ConfigError(f"{path}:{line}: row has no `url` column")
        found.append((line, row[column].strip()))
    return found
