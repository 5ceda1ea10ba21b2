"""A long page of grayhound's own (an evidence summary with thousands of price points) printed
in parts: the browser lays out and paints every page of a document it prints at once, so its
memory grows with the document (a seller's 6,162-row price timeline, when each observation was
a row: 1.3 GiB in Chromium's renderer; ten times that seller would not print at all). The page
is cut between table rows into documents of at most `MAX_ROWS` rows each; each part repeats
what a reader needs to read its rows (the page's head and styles, the elements the rows sit in,
the table's header row) and starts on a new sheet; the parts' PDFs are joined in order (pypdf).
A row marked `keep-with-previous` (a listing's later price, below the row with its URL) stays
in the part of the row before it: a part starts at the first row of the group instead, unless
that group alone is longer than a part.

Only grayhound's own generated pages are cut (well-formed, every element closed): a captured
page is printed as it is."""

from __future__ import annotations

import io
from html.parser import HTMLParser

# Chromium's renderer printing N rows: 500 281 MiB, 1,000 341, 2,000 459 (~220 + 0.12 a row);
# each part costs a page and a print (~0.3 s): a 100k store's largest seller (2,878 rows)
# prints whole, the 1M one's (6,593) in three parts
MAX_ROWS = 3000

KEEP = "keep-with-previous"  # a row's class: never the first row of a part if it can be helped
VOID = frozenset(
    "area base br col embed hr img input link meta param source track wbr".split()
)  # fmt: skip


def cut(html: str, max_rows: int | None = None) -> list[str]:
    """`html` as documents of at most `max_rows` table rows each (one document when it holds
    no more): every part is the page's text from one cut to the next, wrapped in the head
    and in the elements open at its cuts, its table's header row first."""
    most = MAX_ROWS if max_rows is None else max_rows
    if html.count("<tr") <= most:  # at most that many rows (a cell's text has `&lt;tr`)
        return [html]
    cuts = _Cuts(html, most)
    if not cuts.points:
        return [html]
    parts, start, opened = [], 0, ""
    for offset, stack, header in [*cuts.points, (len(html), [], "")]:
        text = html[start:offset]
        if start:  # a part after the first: the head, then what was open at its cut
            text = cuts.head + opened + text
        closing = "".join(f"</{tag}>" for tag, _ in reversed(stack))
        if offset < len(html):
            text += closing + "</body></html>"
        parts.append(text)
        start = offset
        opened = "".join(start_tag for _, start_tag in stack) + header
    return parts


def join_pdfs(pdfs: list[bytes]) -> bytes:
    """The PDFs one after the other, as one."""
    if len(pdfs) == 1:
        return pdfs[0]
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for pdf in pdfs:
        writer.append(PdfReader(io.BytesIO(pdf)))
    joined = io.BytesIO()
    writer.write(joined)
    return joined.getvalue()


class _Cuts(HTMLParser):
    """Where to cut a page: before every `max_rows`-th table row since the last cut, with the
    elements open there (inside `<body>`) and the header row of the table being cut."""

    def __init__(self, html: str, max_rows: int):
        super().__init__(convert_charrefs=False)
        self.html, self.max_rows = html, max_rows
        self.lines = [0]
        for line in html.splitlines(keepends=True):
            self.lines.append(self.lines[-1] + len(line))
        self.head = ""  # the text up to and with `<body ...>`
        self.stack: list[tuple[str, str]] = []  # (tag, start tag text) inside body
        self.headers: list[str] = []  # per open table: its header row's text ("" if none)
        self.in_body, self.rows, self.row_start = False, 0, None
        # the latest row that starts a group in this part: (offset, stack, header, rows before)
        self.group: tuple[int, list[tuple[str, str]], str, int] | None = None
        self.points: list[tuple[int, list[tuple[str, str]], str]] = []
        self.feed(html)
        self.close()

    def _offset(self) -> int:
        line, column = self.getpos()
        return self.lines[line - 1] + column

    def handle_starttag(self, tag: str, attrs) -> None:
        offset = self._offset()
        text = self.get_starttag_text() or f"<{tag}>"
        if tag == "body":
            self.in_body, self.head = True, self.html[: offset + len(text)]
            return
        if not self.in_body or tag in VOID:
            return
        if tag == "tr":
            keep = KEEP in (dict(attrs).get("class") or "").split()
            if self.rows >= self.max_rows and self.headers:
                self._cut_before(offset, keep)
            if self.headers and not keep:  # a group of rows starts here
                self.group = (offset, list(self.stack), self.headers[-1], self.rows)
            self.rows += 1
            self.row_start = offset
        if tag == "table":
            self.headers.append("")
        self.stack.append((tag, text))

    def _cut_before(self, offset: int, keep: bool) -> None:
        """Cut before the row at `offset`, or, when it continues a group (`keep`), before the
        group's first row if that row is not the first of its part."""
        group = self.group
        if keep and group is not None and group[3] > 0:
            self.points.append(group[:3])
            self.rows -= group[3]  # the group's rows so far open the next part
        else:
            self.points.append((offset, list(self.stack), self.headers[-1]))
            self.rows = 0
        self.group = None

    def handle_startendtag(self, tag: str, attrs) -> None:
        pass  # `<br/>`: nothing opened

    def handle_endtag(self, tag: str) -> None:
        if not self.in_body or tag in VOID:
            return
        if tag == "body":
            self.in_body = False
            return
        while self.stack:  # an element left open inside this one closes with it
            closed, _ = self.stack.pop()
            if closed == tag:
                break
        if tag == "tr" and self.row_start is not None and self.headers:
            row = self.html[self.row_start : self._offset() + len("</tr>")]
            if not self.headers[-1] and "<th" in row and "<td" not in row:
                self.headers[-1] = row  # the table's first row of headers, repeated in parts
                self.rows -= 1  # a header row does not count towards a part
            self.row_start = None
        if tag == "table" and self.headers:
            self.headers.pop()
