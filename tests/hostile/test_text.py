"""Text that attacks the reader: escape sequences never reach a terminal, bidi overrides and
invisible characters are shown and isolated in the digest, stored text is cut to sane lengths,
and CSV cells cannot start a formula after a separator either."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
from datetime import UTC, datetime

import pytest

from grayhound.cli import main
from grayhound.demo.hostile import ESCAPES, ITEMS, LONG_TITLE_CHARS
from grayhound.models import Listing, Seller
from grayhound.store import open_store
from grayhound.text import terminal_text
from reports.tabular import csv_cell

# Anything a terminal acts on: C0 controls (ESC, BEL, CR...), DEL, C1 controls (8-bit CSI).
TERMINAL_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
RLO = "\u202e"
SEEN = "2026-11-20T06:00:00.000Z"


TERMINAL_CASES = [  # (raw, as printed)
    ("a\x1b[2J\x1b[Hb", "ab"),
    ("x\x1b]0;pwned\x07y", "xy"),
    ("x\x1b]0;pwned\x1b\\y", "xy"),
    ("\x1b]8;;http://evil.test/\x1b\\Official\x1b]8;;\x1b\\ Shop", "Official Shop"),
    ("\x9b2JBlack", "Black"),
    ("\x9d0;title\x9cok", "ok"),
    ("ok\x1bPdevice control\x1b\\", "ok"),
    ("unterminated \x1b]0;title", "unterminated"),
    ("bell\x07 back\x08space del\x7f", "bell backspace del"),
    ("line\nbreak\r\nand\ttab", "line break and tab"),
    ("Xiaomi \u202eerots", "Xiaomi ⟨U+202E⟩erots"),
    ("Xiao\u200bmi", "Xiao⟨U+200B⟩mi"),
]


def test_terminal_text_removes_every_sequence_and_a_cut_leaves_none_open():
    assert [terminal_text(raw) for raw, _ in TERMINAL_CASES] == [
        shown for _, shown in TERMINAL_CASES
    ]
    for width in range(1, 60):
        text = terminal_text(ITEMS[-1][0], width)
        assert not TERMINAL_CONTROL.search(text) and len(text) <= width


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def hostile_store(example_config, example_config_path):
    """The hostile site's listings and sellers, judged: what `review list`, `prices` and the
    digest show."""
    with open_store(example_config.storage.database) as store:
        run_id = store.start_run(["hostile"], SEEN)
        findings = []
        for number, (title, seller_name) in enumerate(ITEMS):
            key = f"http://127.0.0.1:8399/seller/{number}.html"
            seller = Seller(name=seller_name, url=key)
            seller_id = store.record_seller(run_id, "hostile", key, seller, SEEN)
            url = f"http://127.0.0.1:8399/item/{number}.html"
            listing = Listing(
                url=url,
                canonical_url=url,
                is_product=True,
                title=title,
                price="499.00",
                currency="USD",
                condition="new",
                seller=seller_name,
            )
            listing_id, _ = store.record_listing(run_id, "hostile", listing, key, SEEN)
            reason = f"seller name {seller_name!r} claims to be official"
            common = {"brand": "xiaomi", "score": 0.9, "verdict": "impersonation"}
            findings += [
                {
                    "subject_kind": "listing",
                    "subject_id": listing_id,
                    "flags": ["impersonation"],
                    "reasons": [reason],
                    "model": "Xiaomi 14 Pro",
                    "is_accessory": 0,
                    "condition": "new",
                    **common,
                },
                {"subject_kind": "seller", "subject_id": seller_id, "reasons": [reason], **common},
            ]
        store.finish_run(run_id, SEEN, "finished", {"sources": {}})
        store.record_findings(findings, run_id, SEEN)
    return example_config_path


def test_review_list_and_prices_print_no_escape_sequence(hostile_store):
    config = ("--config", str(hostile_store))
    for args in (
        ("review", "list"),
        ("review", "list", "--format", "json"),
        ("prices", "--format", "table"),
    ):
        code, out, err = run(*config, *args)
        assert code == 0, err
        assert not TERMINAL_CONTROL.search(out + err), (args, TERMINAL_CONTROL.findall(out))
        assert RLO not in out, args
    code, out, _ = run(*config, "review", "list", "--format", "json")
    names = {row["seller"] for row in json.loads(out)}
    assert {seller for _, seller in ITEMS} <= names  # the data is intact, only escaped


def test_data_written_to_a_terminal_is_made_inert(hostile_store, monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    for args in (("export", "listings", "--format", "csv"), ("digest", "--no-record")):
        screen = Terminal()
        monkeypatch.setattr("sys.stdout", screen)
        assert main(["--config", str(hostile_store), *args]) == 0
        assert not TERMINAL_CONTROL.search(screen.getvalue()), args


def test_an_error_message_quoting_hostile_text_is_one_inert_line(tmp_path):
    hostile = f"{ESCAPES['title']}{ESCAPES['csi8']}{ESCAPES['link']}"
    code, _, err = run("--config", str(tmp_path / f"{hostile}.toml"), "digest")
    assert code == 2
    assert err.count("\n") == 1 and not TERMINAL_CONTROL.search(err) and "not found" in err


def test_the_digest_isolates_and_shows_bidi_and_invisible_characters(hostile_store):
    from grayhound.config import load_config
    from grayhound.pipeline import produce_digest
    from reports.digest.render import render_html, render_markdown

    config = load_config(hostile_store)
    with open_store(config.storage.database) as store:
        digest = produce_digest(store, config, datetime(2026, 11, 21, tzinfo=UTC), record=False)
    html, markdown = render_html(digest), render_markdown(digest)
    for text in (html, markdown):
        assert RLO not in text and "\u200b" not in text
        assert "Xiaomi ⟨U+202E⟩erots laiciffo" in text and "Xiao⟨U+200B⟩mi" in text
    assert "<bdi>Xiaomi ⟨U+202E⟩erots laiciffo</bdi>" in html
    assert "\u2068Xiaomi ⟨U+202E⟩erots laiciffo\u2069" in markdown


def test_stored_text_is_cut_to_length_and_says_so(hostile_store):
    from grayhound.config import load_config
    from grayhound.pipeline import produce_digest
    from reports.digest.render import render_html

    config = load_config(hostile_store)
    with open_store(config.storage.database) as store:
        long_one = next(store.listings("title LIKE ?", ["%Ultra Ultra%"]))
        assert len(long_one["title"]) <= 500 and long_one["title"].endswith("…")
        assert (
            f"title cut from {len('Xiaomi 14 Pro ') + LONG_TITLE_CHARS // 6 * 6}"
            in (long_one["problems"])
        )
        digest = produce_digest(store, config, datetime(2026, 11, 21, tzinfo=UTC), record=False)
    assert len(render_html(digest).encode()) < 200_000  # was 6 MB with one 1 MB title


CSV_CELLS = [  # (value, as written): a trigger after a separator, full-width forms, controls
    ("Deals;=1+1", "Deals;'=1+1"),
    ("Deals,+cmd|' /C calc'!A0", "Deals,'+cmd|' /C calc'!A0"),
    ("Deals|@SUM(1)", "Deals|'@SUM(1)"),
    ("Deals\t-2+3", "Deals\t'-2+3"),
    ("＝1+1", "'＝1+1"),
    ("Deals;＝1+1", "Deals;'＝1+1"),
    ("＋1", "'＋1"),
    ("－1", "'－1"),
    ("＠SUM(1)", "'＠SUM(1)"),
    ("\tXiaomi", "'\tXiaomi"),
    ("\rXiaomi", "'\rXiaomi"),
    (["impersonation", "=cmd"], "impersonation;'=cmd"),
    ("-12.50", "-12.50"),  # numbers stay numbers
    ("1;-2", "1;-2"),
]


def test_csv_neutralises_formulas_after_a_separator_and_in_full_width():
    assert [csv_cell(value) for value, _ in CSV_CELLS] == [neutral for _, neutral in CSV_CELLS]


def test_csv_export_of_the_hostile_listings(hostile_store):
    code, out, _ = run("--config", str(hostile_store), "export", "listings", "--format", "csv")
    assert code == 0
    for row in csv.reader(io.StringIO(out)):
        for cell in row:
            for part in re.split(r"[,;\t|]", cell):
                assert not part.startswith(("=", "+", "@", "＝", "＋", "－", "＠")), cell


def _hostile_digest(config_path):
    from grayhound.config import load_config
    from grayhound.pipeline import produce_digest

    config = load_config(config_path)
    with open_store(config.storage.database) as store:
        return produce_digest(store, config, datetime(2026, 11, 21, tzinfo=UTC), record=False)


def test_digest_files_and_the_email_text_carry_no_escape_sequence(hostile_store):
    """Markdown (the email's text part) and HTML written to files: the sequences are gone
    whole (not only their ESC), and no C0/C1 control is left as junk."""
    from reports.digest.render import render_html, render_markdown

    digest = _hostile_digest(hostile_store)
    for text in (render_markdown(digest), render_html(digest)):
        assert not TERMINAL_CONTROL.search(text), TERMINAL_CONTROL.findall(text)[:5]
        assert "pwned" not in text and "[2J" not in text
        assert "MiOfficial Shop" in text  # the hyperlink's sequences gone, its text kept


def test_the_prices_page_isolates_seller_names(hostile_store, recwarn):
    """A seller named with a right-to-left override cannot reverse "… sells at $499.00: $77.00
    below your landed cost" on the prices page; its sequences are gone too."""
    from grayhound.config import load_config
    from reports.pricing.build import price_report
    from reports.pricing.render import render_html

    config = load_config(hostile_store)
    with open_store(config.storage.database) as store:
        report = price_report(list(store.price_observations()), store.runs(), config)
    html = render_html(report)
    assert RLO not in html and "\u200b" not in html
    assert "<strong><bdi>Xiaomi ⟨U+202E⟩erots laiciffo</bdi></strong> (hostile) sells at" in html
    assert html.count("<bdi>Xiao⟨U+200B⟩mi Official Store</bdi>") >= 2  # table and history
    assert not TERMINAL_CONTROL.search(html), TERMINAL_CONTROL.findall(html)[:5]
    # the chart's legend: matplotlib warns "Glyph 27 (^[) missing" for each raw control
    glyphs = [int(n) for w in recwarn for n in re.findall(r"Glyph (\d+) ", str(w.message))]
    assert not [code for code in glyphs if code < 32 or 127 <= code < 160], glyphs


def test_chart_legends_are_given_no_control_character(recwarn):
    """matplotlib prints 'Glyph 27 (^[) missing' for raw controls in a legend label."""
    from reports.pricing.series import series_label as _label

    label = _label(f"Mi{ESCAPES['link']} Shop{ESCAPES['csi8']} \u202eevil", "hostile", True)
    assert label == "MiOfficial Shop ⟨U+202E⟩evil (hostile)"
    assert not TERMINAL_CONTROL.search(_label("x" * 80 + ESCAPES["title"], "s", False))


def test_plain_ascii_text_is_passed_through_as_the_full_cleaning_would_leave_it(monkeypatch):
    """`plain_text` returns printable ASCII with single inner spaces as it is, without its
    regular expressions: the same text as the full cleaning gives, for any text (random ones
    built from the characters each step acts on, each compared with the cleaning forced)."""
    import random

    from grayhound import text as module

    assert module._plain_ascii("Xiaomi 14 Ultra (512GB) - Mi Store #1")
    for odd in (" a", "a ", "a  b", "a\tb", "a\x7fb", "a\x1b[2Jb", "ünï", "a\u200bb", "a\xa0b"):
        assert not module._plain_ascii(odd), odd
    alphabet = [
        *"ab Z9-#.,[];:'\"\\/%()", "  ", "\t", "\n", "\r\n", "\x0b", "\x0c", "\x1c", "\x1e",
        "\x1b", "\x1b[", "\x1b]0;",
        "\x07", "\x9b", "\x9d", "\x85", "\x7f", "\x00", "\x1f", "\u200b", "\u202e", "\u3164",
        "\xa0", "\u2028", "é", "📱", "\U000e0041",
    ]  # fmt: skip
    rng = random.Random(19)
    texts = ["", " ", "plain", "two  spaces"] + [
        "".join(rng.choices(alphabet, k=rng.randint(0, 12))) for _ in range(20_000)
    ]
    passed = sum(map(module._plain_ascii, texts))
    assert 1000 < passed < len(texts) - 1000  # both ways are taken, often
    fast = [module.plain_text(text) for text in texts]
    monkeypatch.setattr(module, "_plain_ascii", lambda text: False)
    assert fast == [module.plain_text(text) for text in texts]
