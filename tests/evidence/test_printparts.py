"""A long evidence summary is printed in parts (the browser's memory grows with the document it
prints: a 6,162-row price timeline took 1.3 GiB in Chromium's renderer): every row in exactly
one part, in order; each part a whole document that repeats the head, the elements its rows
sit in and its table's header row; nothing cut outside a table."""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser

import pytest

from reports.evidence.printparts import cut, join_pdfs

HEAD = '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<style>td { color: #222 }</style>\n</head>\n'


def page(rows: int, *, before: str = "<h1>Summary</h1><p>Who &amp; what</p>") -> str:
    body = [
        f'<body class="s">\n{before}\n<section><h2>What: the listings and their prices</h2>\n<table>'
    ]
    body.append("<tr><th>Observed</th><th>Title</th></tr>")
    for number in range(rows):  # a stranger's title: markup in it arrives escaped
        body.append(
            f"<tr><td>{number}</td><td>&lt;tr&gt;&lt;td&gt;x{number}&lt;/table&gt;</td></tr>"
        )
    body.append("</table></section>\n<h2>Digests</h2><p>after the table</p>\n</body>\n</html>\n")
    return HEAD + "\n".join(body)


class _Balanced(HTMLParser):
    """Every element opened in a part is closed in it, in order."""

    VOID = {"meta", "br", "img", "link"}

    def __init__(self):
        super().__init__()
        self.stack: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, (self.stack, tag)
        self.stack.pop()


def _rows(part: str) -> list[str]:
    return re.findall(r"<tr><td>(\d+)</td>", part)


@pytest.mark.parametrize(
    ("rows", "most", "parts"),
    [(10, 800, 1), (800, 800, 1), (801, 800, 2), (2000, 500, 4), (2001, 500, 5)],
)
def test_every_row_is_in_exactly_one_part_in_order(rows, most, parts):
    html = page(rows)
    cuts = cut(html, most)
    assert len(cuts) == parts
    assert [n for part in cuts for n in _rows(part)] == [str(n) for n in range(rows)]
    assert all(len(_rows(part)) <= most for part in cuts)
    if parts == 1:
        assert cuts == [html]  # a short page is printed as it is


def test_each_part_is_a_whole_document_with_the_tables_header():
    cuts = cut(page(1200), 500)
    for index, part in enumerate(cuts):
        checked = _Balanced()
        checked.feed(part)
        checked.close()
        assert checked.stack == []
        assert part.startswith(HEAD + '<body class="s">')  # the head and styles in every part
        assert "<tr><th>Observed</th><th>Title</th></tr>" in part
        assert ("<h1>Summary</h1>" in part) is (index == 0)
        assert ("after the table" in part) is (index == len(cuts) - 1)
        # the hostile title stays text: no cut inside it, no element it names
        assert "&lt;tr&gt;&lt;td&gt;x" in part


def grouped_page(sizes: list[int]) -> str:
    """A listing table: each listing's first row, then its later prices marked to be kept
    with it (as the summary marks them)."""
    body = ["<body>\n<h2>What: the listings and their prices</h2>\n<table>"]
    body.append("<tr><th>Listing</th><th>Price</th></tr>")
    for listing, size in enumerate(sizes):
        for n in range(size):
            mark = ' class="keep-with-previous"' if n else ""
            url = f"<br>https://shop.example/{listing}" if n == 0 else ""
            body.append(f"<tr{mark}><td>#{listing}{url}</td><td>{listing}.{n}</td></tr>")
    body.append("</table>\n</body>\n</html>\n")
    return HEAD + "\n".join(body)


def _cells(part: str) -> list[str]:
    return re.findall(r"<td>(\d+\.\d+)</td></tr>", part)


@pytest.mark.parametrize("seed", range(5))
def test_a_part_starts_at_a_listings_first_row_with_its_url(seed):
    """A listing's later prices are printed in the part of its first row (which names its
    URL) unless the listing alone is longer than a part: no part begins with a row that
    does not say which listing it is, when it can be helped."""
    import random

    chance = random.Random(seed)
    most = 20
    sizes = [chance.choice([1, 1, 1, 2, 3, 7, 19, 20]) for _ in range(60)]
    html = grouped_page(sizes)
    parts = cut(html, most)
    assert len(parts) > 2
    expected = [f"{listing}.{n}" for listing, size in enumerate(sizes) for n in range(size)]
    assert [cell for part in parts for cell in _cells(part)] == expected
    for part in parts:
        rows = _cells(part)
        assert 0 < len(rows) <= most
        assert rows[0].endswith(".0")  # the listing's first row, with its URL
        assert "<tr><th>Listing</th><th>Price</th></tr>" in part
        checked = _Balanced()
        checked.feed(part)
        checked.close()
        assert checked.stack == []


def test_a_listing_longer_than_a_part_is_cut_inside_it():
    parts = cut(grouped_page([3, 25, 2]), 10)
    rows = [_cells(part) for part in parts]
    # the long listing starts a part, is cut where it must be, and the next listing follows
    assert [len(r) for r in rows] == [3, 10, 10, 7]
    assert [cell for part in rows for cell in part] == (
        [f"0.{n}" for n in range(3)] + [f"1.{n}" for n in range(25)] + ["2.0", "2.1"]
    )


def test_a_page_without_a_long_table_is_not_cut():
    html = HEAD + "<body>" + "<p>line</p>" * 5000 + "</body></html>"
    assert cut(html, 100) == [html]


def test_pdfs_are_joined_in_order():
    pypdf = pytest.importorskip("pypdf")

    def one_page(width: int) -> bytes:
        writer = pypdf.PdfWriter()
        writer.add_blank_page(width=width, height=100)
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()

    joined = pypdf.PdfReader(io.BytesIO(join_pdfs([one_page(100), one_page(200), one_page(300)])))
    assert [int(p.mediabox.width) for p in joined.pages] == [100, 200, 300]
