"""The inert snapshot against known mutation-XSS and URL tricks (issue 15, item 7), judged by a
real browser: each payload's snapshot is loaded in Chromium with scripts ON and the snapshot's
CSP taken out, so only the sanitiser stands between the payload and the page. Nothing may run
(no dialog), and the DOM Chromium builds may hold no handler, script, frame, plugin, base, meta
refresh, SVG animation, srcdoc or live URL other than data:image and '#'. With the CSP left in,
the snapshot makes no request at all. The same checks on the raw payloads find plenty: the
checks can fail."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reports.evidence.images import Unavailable, find_chromium
from reports.evidence.snapshot import CSP, render_snapshot

PAYLOADS = json.loads(
    (Path(__file__).parents[2] / "fixtures" / "evidence" / "snapshot_payloads.json").read_text()
)
ORIGIN = "http://snapshot.test"
PAGE = "<!DOCTYPE html><html><head><title>t</title></head><body><p>before</p>{}<p>after</p></body></html>"
# Everything in the DOM that would run, embed, navigate or fetch (the banner and our head aside).
DOM_SCAN = """() => {
  const found = [];
  const urlAttributes = ['href', 'src', 'srcset', 'action', 'formaction', 'poster', 'background',
    'data', 'codebase', 'dynsrc', 'lowsrc', 'ping', 'xlink:href', 'icon', 'manifest'];
  const walk = (root) => {
    for (const el of root.querySelectorAll('*')) {
      const tag = el.localName;
      if (['script', 'iframe', 'frame', 'frameset', 'object', 'embed', 'applet', 'base',
           'portal', 'link', 'animate', 'set', 'animatetransform', 'animatemotion'].includes(tag))
        found.push(tag);
      if (tag === 'meta' && /refresh/i.test(el.getAttribute('http-equiv') || '')) found.push('refresh');
      if (tag === 'template' && el.getAttribute('shadowrootmode')) found.push('shadow template');
      for (const a of el.attributes) {
        const name = a.name.toLowerCase();
        if (name.startsWith('on')) found.push(tag + ' ' + name);
        if (name === 'srcdoc') found.push('srcdoc');
        if (urlAttributes.includes(name) || name.endsWith(':href')) {
          const v = a.value.replace(/[\\u0000-\\u0020]/g, '').toLowerCase();
          if (!(v.startsWith('data:image/') || v.startsWith('#'))) found.push(tag + ' ' + name);
        }
      }
      if (el.shadowRoot) walk(el.shadowRoot);
    }
  };
  walk(document);
  return found;
}"""


class Viewer:
    """One Chromium page with scripts on, reused for every load (a new context costs ~0.6 s)."""

    def __init__(self, browser):
        self.context = browser.new_context(java_script_enabled=True)
        self.document, self.dialogs, self.requests = b"", [], []
        self.reset()

    def reset(self) -> None:
        """A fresh page (after a raw payload left the last one navigating)."""
        self.page = self.context.new_page()
        self.page.on("dialog", self._dialog)
        self.page.route("**/*", self._route)

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _route(self, route) -> None:
        if route.request.url == ORIGIN + "/" and route.request.is_navigation_request():
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=self.document)
        else:
            self.requests.append(route.request.url)
            route.abort()

    def load(self, document: bytes) -> tuple[list[str], list[str], list[str]]:
        """(dialogs, DOM findings, requests other than the document) for one page."""
        self.document, self.dialogs, self.requests = document, [], []
        self.page.goto("about:blank")
        self.page.goto(ORIGIN + "/", wait_until="load", timeout=15_000)
        self.page.wait_for_timeout(50)  # animations and handlers get their first tick
        try:
            found = self.page.evaluate(DOM_SCAN) if self.page.url == ORIGIN + "/" else ["left"]
        except Exception as exc:  # the page navigated while we looked: that is a finding too
            found = [f"navigated ({type(exc).__name__})"]
        return self.dialogs, found, self.requests


@pytest.fixture(scope="module")
def viewer():
    try:
        executable = find_chromium()
    except Unavailable as exc:
        pytest.skip(str(exc))
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield Viewer(browser)
        browser.close()


def snapshot(payload: str, *, csp: bool = True) -> bytes:
    html = render_snapshot(PAGE.format(payload).encode(), "text/html", {"URL": "u"})
    return html if csp else html.replace(CSP.encode(), b"default-src *")


@pytest.mark.parametrize("case", PAYLOADS, ids=[p["id"] for p in PAYLOADS])
def test_nothing_in_a_snapshot_runs_embeds_or_navigates(viewer, case):
    dialogs, found, _ = viewer.load(snapshot(case["html"], csp=False))
    assert dialogs == [] and found == [], f"{case['why']}: {dialogs} {found}"


@pytest.mark.parametrize("case", PAYLOADS, ids=[p["id"] for p in PAYLOADS])
def test_a_snapshot_as_written_fetches_nothing(viewer, case):
    _, _, requests = viewer.load(snapshot(case["html"]))
    assert requests == [], case["why"]


def test_the_checks_find_the_raw_payloads(viewer):
    caught = set()
    for case in PAYLOADS:
        try:
            dialogs, found, requests = viewer.load(PAGE.format(case["html"]).encode())
        except Exception:  # the raw page navigated away under us: it acted
            caught.add(case["id"])
            viewer.reset()
            continue
        if dialogs or found or requests:
            caught.add(case["id"])
    live = {p["id"] for p in PAYLOADS if p["id"].startswith(("ev-", "sc-", "em-", "url-"))}
    live |= {"mx-svg-style", "mx-noscript-title", "mx-xmp", "svg-animate-href", "svg-set-href"}
    assert live <= caught, sorted(live - caught)
    assert len(caught) >= 50, len(caught)  # of 75; escaped text and data:image are harmless


def test_the_page_keeps_its_look_text_and_inline_images():
    page = (
        '<html lang="fr" class="shop"><head><style>.price{color:#c00}</style></head>'
        '<body class="product"><h1 class="title">Caf\xe9 Redmi</h1>'
        '<p class="price">129,90 \u20ac</p><img src="data:image/png;base64,iVBORw0KGgo=" alt="p">'
        '<svg><use href="#icon"></use></svg><a href="https://shop.example/p">live link</a>'
        "</body></html>"
    ).encode("cp1252", "replace")
    html = render_snapshot(page, "text/html; charset=windows-1252", {"URL": "u"}).decode()
    assert '<html lang="fr" class="shop">' in html and '<body class="product">' in html
    assert "<style>.price{color:#c00}</style>" in html and "129,90 \u20ac" in html
    assert 'src="data:image/png;base64,iVBORw0KGgo="' in html and 'href="#icon"' in html
    assert 'data-original-href="https://shop.example/p"' in html and ' href="https' not in html


@pytest.mark.parametrize(
    "body",
    [b"\x00\x01\x02\xff\xfe binary", b'<a href="\x01java\x03script:alert(1)">x</a>', b""],
)
def test_binary_and_control_characters_never_stop_the_snapshot(body):
    html = render_snapshot(body, "text/html", {"URL": "u"})
    assert html.startswith(b"<!DOCTYPE html>") and b"grayhound-banner" in html
