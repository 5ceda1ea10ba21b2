"""The quick CSV cell writer of large exports neutralises exactly what `csv_cell` does."""

from __future__ import annotations

from reports.tabular import cell_writer, csv_cell

VALUES = [
    None, True, False, 0, -3, 12, 1.5, -2.25, 1e-05, -1e-05, float("inf"), float("nan"),
    "", "plain", "-12.5", "12", "=cmd()", "+1", "-x", "@SUM(A1)", "\tx", "\rx", "\nx",
    "＝1+1", "＋x", "－x", "＠x", "a;=b", "a,+b", "a|-b", "a\t@b", "a\n=b", "1;-2", "1;-2x",
    "https://shop.example/p?id=3&x=-1", "2026-12-03T11:20:09Z", "Poco F6 128GB — titanium",
    ["a", "=b"], ("x", "y"), ["1", "-2"],
]  # fmt: skip


def test_the_quick_cell_writer_writes_what_csv_cell_writes():
    cell = cell_writer()
    for value in VALUES:
        assert cell(value) == csv_cell(value), value


def test_formula_risk_sees_every_cell_csv_cell_would_change():
    """`formula_risk` lets a batch of CSV lines be written as it is only when no cell of it
    needs neutralising: a cell `csv_cell` would change, quoted or not, first, in the middle
    or last on its line, is always seen."""
    from reports.tabular import csv_quoted, formula_risk

    texts = [v for v in VALUES if isinstance(v, str)] + ["\nx", "\n=x", 'q"\n', "a\n\nb"]
    for value in texts:
        cell = csv_quoted(value)
        for line in (
            f"{cell}\x1fb\n",
            f"a\x1f{cell}\x1fb\n",
            f"a\x1f{cell}\n",
            f"a\nb\x1f{cell}\n",
        ):
            if csv_cell(value) != value:
                assert formula_risk(line), (value, line)
    assert not formula_risk('1\x1f"plain, quoted"\x1f2026-12-03T11:20:09Z\x1fhttps://x/p?id=3\n')
