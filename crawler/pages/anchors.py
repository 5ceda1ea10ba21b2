"""Landmarks of a product page's visible layout: the product title (h1), the buy button, and
the blocks that hold other products or site chrome (recommendations, carousels, nav, footer).
The visible-text heuristics measure everything against these."""

from __future__ import annotations

from dataclasses import dataclass, field

import lxml.html

from crawler.pages._data import (
    BLOCK_HEADINGS,
    BLOCK_TAGS,
    BLOCK_TOKENS,
    BUY_BUTTON,
    LAYOUT_TOKENS,
)
from crawler.pages.document import (
    SKIP_TAGS,
    Page,
    clean_text,
    hint_tokens,
    is_hidden,
    own_chunks,
    visible_text,
)
from crawler.pages.titles import element_named_by_title

TITLE_TOKENS = frozenset(
    {"producttitle", "productname", "title", "name", "itemtitle", "mainheading"}
)
BUY_TOKENS = frozenset({"addtocart", "addtobag", "addtobasket", "buynow", "buybutton", "atc"})
# A second buy button belongs to the product when it is at most this many tree steps further
# from the title than the nearest one.
MAX_SECOND_BUTTON_GAP = 2
# Walk at most this many elements: pages beyond it are not product pages anyone reads whole.
MAX_ELEMENTS = 60_000


@dataclass
class Layout:
    """The page's landmarks and the elements every visible heuristic walks."""

    elements: list[lxml.html.HtmlElement] = field(default_factory=list)
    title: lxml.html.HtmlElement | None = None
    buy_buttons: list[lxml.html.HtmlElement] = field(default_factory=list)
    blocked: set[lxml.html.HtmlElement] = field(default_factory=set)
    own_buttons: int = 2  # how many of the first buy buttons are the product's own
    _texts: list | None = field(default=None, repr=False)
    # Results other modules derive from the layout once per page ("candidates").
    memo: dict = field(default_factory=dict, repr=False)

    def own_texts(self) -> list[tuple[lxml.html.HtmlElement, list[str]]]:
        """(element, own text pieces) for every element with text of its own, links and
        select options left out; computed once, since the label searches all walk it."""
        if self._texts is None:
            self._texts = [
                (element, chunks)
                for element in self.elements
                if element.tag not in ("a", "option") and (chunks := own_chunks(element))
            ]
        return self._texts

    @property
    def anchors(self) -> list[lxml.html.HtmlElement]:
        return ([self.title] if self.title is not None else []) + self.buy_buttons[
            : self.own_buttons
        ]

    def order_buttons_by_title(self) -> None:
        """The buy buttons nearest the title first; a second one counts as the product's (a
        "buy now" beside "add to cart") only when it is about as near as the first, not one
        of the accessory tiles' buttons further down."""
        if self.title is None or len(self.buy_buttons) < 2:
            return
        self.buy_buttons = sorted(self.buy_buttons, key=lambda b: tree_distance(b, self.title))
        first, second = (tree_distance(b, self.title) for b in self.buy_buttons[:2])
        if second > first + MAX_SECOND_BUTTON_GAP:
            self.own_buttons = 1

    def in_blocked(self, element: lxml.html.HtmlElement) -> bool:
        return any(a in self.blocked for a in element.iterancestors()) or element in self.blocked

    def distance(self, element: lxml.html.HtmlElement) -> int | None:
        """Fewest tree steps from `element` to the title or a buy button."""
        distances = [tree_distance(element, anchor) for anchor in self.anchors]
        return min(distances) if distances else None


def read_layout(page: Page) -> Layout:
    layout = Layout(elements=_visible_elements(page.root))
    layout.buy_buttons = [e for e in layout.elements if _is_buy_button(e)][:20]
    layout.title = _title_element(layout.elements)
    if layout.title is None:
        layout.title = element_named_by_title(page, layout.own_texts(), layout.elements)
    layout.order_buttons_by_title()
    anchors = layout.anchors
    box = _product_box(layout)
    for element in layout.elements:
        if _is_block(element, box) and not _holds_any(element, anchors):
            layout.blocked.add(element)
    for heading in (e for e in layout.elements if e.tag in ("h2", "h3", "h4", "h5")):
        if BLOCK_HEADINGS.search(visible_text(heading, 200)):
            block = heading.getparent()
            if block is not None and block.getparent() is not None:
                block = block.getparent() if len(visible_text(block, 400)) < 200 else block
            if block is not None and not _holds_any(block, anchors):
                layout.blocked.add(block)
            else:  # the heading shares its parent with the product: block its own section
                # (whose cards may have buy buttons: only the title and the first one count)
                mains = anchors[:2]
                layout.blocked.update(s for s in _section(heading) if not _holds_any(s, mains))
    return layout


def _section(heading: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement]:
    """The elements after a heading, up to the next heading among its siblings."""
    found = []
    for sibling in heading.itersiblings():
        if sibling.tag in ("h1", "h2", "h3", "h4", "h5"):
            break
        found.append(sibling)
    return found


def tree_distance(a: lxml.html.HtmlElement, b: lxml.html.HtmlElement) -> int:
    path_a = [a, *a.iterancestors()]
    depth_of = {id(node): depth for depth, node in enumerate(path_a)}
    for steps_b, node in enumerate([b, *b.iterancestors()]):
        if id(node) in depth_of:
            return depth_of[id(node)] + steps_b
    return len(path_a) + 50


def _visible_elements(root: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement]:
    body = root.find("body")
    start = body if body is not None else root
    found: list[lxml.html.HtmlElement] = []
    stack = [start]
    while stack and len(found) < MAX_ELEMENTS:
        element = stack.pop()
        if not isinstance(element.tag, str) or element.tag in SKIP_TAGS or is_hidden(element):
            continue
        found.append(element)
        stack.extend(reversed(element))
    return found


def _title_element(elements: list) -> lxml.html.HtmlElement | None:
    headings = [e for e in elements if e.tag == "h1" and visible_text(e, 300)]
    for heading in headings:
        if not any(a.tag in BLOCK_TAGS for a in heading.iterancestors()):
            return heading
    for element in elements:
        if hint_tokens(element) & TITLE_TOKENS and element.get("itemprop") == "name":
            return element
    return headings[0] if headings else None


def _is_buy_button(element: lxml.html.HtmlElement) -> bool:
    if element.tag not in ("button", "input", "a"):
        return False
    if element.tag == "input" and element.get("type", "").lower() not in ("submit", "button"):
        return False
    if hint_tokens(element) & BUY_TOKENS:
        return True
    label = element.get("value") or element.get("aria-label") or visible_text(element, 80)
    return bool(BUY_BUTTON.search(clean_text(label)[:60]))


def _is_block(element: lxml.html.HtmlElement, box: lxml.html.HtmlElement | None) -> bool:
    if element.tag in BLOCK_TAGS:
        return True
    if element.tag in ("body", "html", "main"):
        return False
    words = hint_tokens(element) & BLOCK_TOKENS
    if words and words <= LAYOUT_TOKENS and box is not None:
        return not any(a is box for a in element.iterancestors())
    return bool(words)


def _product_box(layout: Layout) -> lxml.html.HtmlElement | None:
    """The smallest block holding the title and the buy button(s), unless it is the page
    itself (it holds the site's navigation or footer) or there is no buy button."""
    if layout.title is None or not layout.buy_buttons:
        return None
    around_title = {id(a) for a in layout.title.iterancestors()}
    box = None
    for button in layout.buy_buttons[: layout.own_buttons]:
        common = next((a for a in button.iterancestors() if id(a) in around_title), None)
        if common is None:
            return None
        if box is None or any(a is box for a in common.iterancestors()):
            box = common  # the higher of the two common ancestors holds all three
    if box.tag in ("body", "html") or next(box.iter("nav", "footer"), None) is not None:
        return None
    return box


def _holds_any(block: lxml.html.HtmlElement, anchors: list) -> bool:
    return any(block is a or block in set(a.iterancestors()) for a in anchors)
