"""Values printed after a label: "Sold by X" in one text, "Seller | X" in two sibling cells
(<dt>/<dd>, a label <div> and its value <div>), and "In stock. Dispatched from and sold by X."
after another sentence of the same paragraph."""

from __future__ import annotations

import re
from dataclasses import dataclass

import lxml.html

from crawler.pages._condition_data import CONDITION_LABEL
from crawler.pages._seller_data import (
    SELLER_CELL_LABEL,
    SELLER_LABEL_PLACE,
    SELLER_LABEL_STRONG,
    SELLER_LABEL_WEAK,
    USER_TEXT_TOKENS,
)
from crawler.pages.anchors import Layout
from crawler.pages.document import SKIP_TAGS, clean_text, hint_tokens, is_hidden, visible_text

MAX_NAME = 80
# An own text longer than this is a paragraph, not a label.
MAX_LABEL_TEXT = 120
# How many enclosing elements are read for the value ('<p>Sold by <a>X</a></p>').
CLIMB = 4
# A value cell whose first line has more words than this is prose, not a name.
MAX_CELL_WORDS = 8
# How far up a label is looked for inside a review or an answer.
MAX_USER_TEXT_DEPTH = 12
# Elements that start a new line: a value cell's first line ends at the first of them
# ('<dd><span>Shop</span><div>98 % positive</div></dd>').
LINE_TAGS = frozenset(
    {"div", "p", "br", "ul", "ol", "li", "table", "tr", "dl", "dt", "dd", "section", "article"}
    | {"h1", "h2", "h3", "h4", "h5", "h6", "header", "footer"}
)
_NAME_END = re.compile(
    r"\s+(?:and|und|et|y|e)\s+(?:fulfilled|shipped|versand|expédié|enviado)|\(|\||·|•|\s[-–]\s|"
    r"\d+(?:[.,]\d+)?\s*%|\s{2,}|\.\s|\.$|,\s|\bpositive\b|\bfeedback\b",
    re.I,
)
# Where a label may start inside a text: after a sentence or clause, or after "and".
_CLAUSE_START = r"(?:^|[.!?;:|·•,]\s+|\s(?:and|&|und|et|y|e)\s+)"


@dataclass(frozen=True)
class Label:
    """One kind of label. `pattern` finds the label and captures what follows as 'value';
    `cell` (a full match of a lone label cell) lets the next sibling cell hold the value;
    `inside` means the label may follow another sentence, so the pattern is searched, its
    value must not start in lower case ("sold by a friend"), and reviews do not count."""

    pattern: re.Pattern
    cell: re.Pattern | None = None
    inside: bool = False


def _cell(words: str) -> re.Pattern:
    return re.compile(rf"\W*(?:{words})\s*:?\s*", re.I)


SELLER_STRONG = Label(
    re.compile(rf"^\W*(?:{SELLER_LABEL_STRONG})\s*:?\s*(?P<value>.*)$", re.I | re.S),
    cell=_cell(SELLER_LABEL_STRONG),
)
SELLER_WEAK = Label(
    re.compile(
        rf"^\W*(?:{SELLER_LABEL_WEAK}|{SELLER_LABEL_PLACE})\s*(?::|$)\s*(?P<value>.*)$", re.I | re.S
    ),
    cell=_cell(SELLER_CELL_LABEL),
)
SELLER_INSIDE = Label(
    re.compile(rf"{_CLAUSE_START}(?:{SELLER_LABEL_STRONG})\s*:?\s*(?P<value>.*)$", re.I | re.S),
    inside=True,
)
# Strongest first: a label at the start of a text beats one after another sentence.
SELLER_LABELS = (SELLER_STRONG, SELLER_WEAK, SELLER_INSIDE)
CONDITION = Label(
    re.compile(rf"^\W*(?:{CONDITION_LABEL})\s*(?::|$)\s*(?P<value>.*)$", re.I | re.S),
    cell=_cell(CONDITION_LABEL),
)


def labelled_value(layout: Layout, label: Label) -> tuple[str | None, lxml.html.HtmlElement | None]:
    """The first value the label introduces outside blocked blocks, and the element holding
    it (for the seller's profile link); (None, None) when there is none."""
    for element, chunks in layout.own_texts():
        for chunk in chunks:
            if len(chunk) > MAX_LABEL_TEXT or not _find(label, chunk):
                continue
            if layout.in_blocked(element) or (label.inside and _in_user_text(element)):
                break
            value, node = _value_around(element, label)
            if value:
                return value, node
    return None, None


def clean_name(raw: str) -> str | None:
    """A name without what pages print after it: ratings, "and fulfilled by", punctuation."""
    name = _NAME_END.split(clean_text(raw), maxsplit=1)[0].strip(" .,:;-–|")
    if not name or len(name) > MAX_NAME or not re.search(r"\w", name):
        return None
    return name


def _find(label: Label, text: str) -> re.Match | None:
    return label.pattern.search(text) if label.inside else label.pattern.match(text)


def _value_around(element: lxml.html.HtmlElement, label: Label):
    """The label's value in the smallest enclosing text that has one, or in the cell beside
    the label when the label stands alone in its cell."""
    node = element
    for _ in range(CLIMB):
        text = visible_text(node, 400)
        match = _find(label, text)
        value = clean_name(match.group("value")) if match else None
        if value and label.inside and value[:1].islower():
            value = None
        if value:
            return value, node
        if match and label.cell is not None and label.cell.fullmatch(text):
            value, cell = _next_cell(node)
            if value:
                return value, cell
        if node is element and (value := _child_value(element, label)):
            return value, element
        if node.getparent() is None or len(text) > 300:
            break
        node = node.getparent()
    return None, None


def _next_cell(label_cell: lxml.html.HtmlElement):
    """The name in the visible cell right after a lone label cell, if that cell is a value
    cell of the label's row and its first line is short enough to be a name."""
    cell = label_cell.getnext()
    while cell is not None and (
        not isinstance(cell.tag, str) or cell.tag in SKIP_TAGS or is_hidden(cell)
    ):
        cell = cell.getnext()
    if cell is None or not _pairs(label_cell, cell):
        return None, None
    value = clean_name(first_line(cell))
    if value is None or len(value.split()) > MAX_CELL_WORDS:
        return None, None
    return value, cell


def _child_value(element: lxml.html.HtmlElement, label: Label) -> str | None:
    """'<li>Zustand<span>Gut</span></li>': the label is the element's own leading text and the
    value the rest of its first line, printed by the children after it, with no colon."""
    if (
        label.cell is None
        or len(element) == 0
        or not label.cell.fullmatch(clean_text(element.text))
    ):
        return None
    line = first_line(element)
    match = label.cell.match(line)
    value = clean_name(line[match.end() :]) if match else None
    return value if value and len(value.split()) <= MAX_CELL_WORDS else None


def _pairs(label_cell: lxml.html.HtmlElement, cell: lxml.html.HtmlElement) -> bool:
    """A label cell and a value cell, not two cells of one header row ('Seller | Condition')."""
    if label_cell.tag in ("th", "dt"):
        return cell.tag in ("td", "dd")
    if cell.tag in ("th", "dt"):
        return False
    if label_cell.tag == "td" == cell.tag:
        row = label_cell.getparent()
        return row is not None and sum(1 for c in row if c.tag in ("td", "th")) == 2
    return (label_cell.tag, label_cell.get("class")) != (cell.tag, cell.get("class"))


def first_line(element: lxml.html.HtmlElement) -> str:
    """The element's visible text up to its first line break ('<p>Name</p><div>★ 132</div>')."""
    parts: list[str] = []
    _collect_line(element, parts, top=True)
    return clean_text("".join(parts))[:200]


def _collect_line(node, parts: list[str], top: bool = False) -> bool:
    """Append the node's visible text until a line-starting element follows some text;
    True once the line has ended."""
    if not isinstance(node.tag, str) or node.tag in SKIP_TAGS or is_hidden(node):
        return False
    if not top and node.tag in LINE_TAGS and "".join(parts).strip():
        return True
    parts.append(node.text or "")
    for child in node:
        if _collect_line(child, parts):
            return True
        if child.tag in LINE_TAGS and "".join(parts).strip():
            return True
        parts.append(child.tail or "")
    return False


def _in_user_text(element: lxml.html.HtmlElement) -> bool:
    chain = [element, *list(element.iterancestors())[:MAX_USER_TEXT_DEPTH]]
    return any(hint_tokens(node) & USER_TEXT_TOKENS for node in chain)
