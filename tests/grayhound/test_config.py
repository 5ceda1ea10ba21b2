"""The config contract: the example loads; every mistake is one line naming key and line, exit 2."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from grayhound.cli import main
from grayhound.config import load_config
from grayhound.errors import ConfigError

BAD_CONFIGS = [
    # (description, edit to the example text, words the one-line message must contain)
    (
        "unknown top-level key",
        lambda t: t + "\n[storagee]\ndatabase = 'x.db'\n",
        ["storagee", "unknown key"],
    ),
    (
        "unknown key in a source",
        lambda t: t.replace('kind = "marketplace"', 'kind = "marketplace"\nspeed = 3'),
        ["sources[0].speed", "unknown key"],
    ),
    (
        "wrong kind value",
        lambda t: t.replace('kind = "marketplace"', 'kind = "bazaar"'),
        ["sources[0].kind", "marketplace, storefront, shopify"],
    ),
    (
        "wrong type for a ratio",
        lambda t: t.replace("low_ratio = 0.6", 'low_ratio = "low"'),
        ["pricing.low_ratio", "expected a number"],
    ),
    (
        "msrp currency not ISO",
        lambda t: t.replace("msrp = { USD = 999.0, EUR = 1099.0 }", "msrp = { dollars = 999.0 }"),
        ["catalog[0].msrp.dollars", "ISO 4217"],
    ),
    (
        "catalog brand unknown",
        lambda t: t.replace(
            'brand = "xiaomi"\nmodel = "Xiaomi 14 Pro"', 'brand = "xiaomy"\nmodel = "Xiaomi 14 Pro"'
        ),
        ["catalog[0].brand", "unknown brand 'xiaomy'"],
    ),
    (
        "variant_msrp keyed by something that is no storage size",
        lambda t: t.replace(
            "msrp = { USD = 999.0, EUR = 1099.0 }",
            'msrp = { USD = 999.0 }\nvariant_msrp = { "big" = { USD = 1199.0 } }',
        ),
        ["catalog[0].variant_msrp.big", "storage size"],
    ),
    (
        "variant_msrp currency not ISO",
        lambda t: t.replace(
            "msrp = { USD = 999.0, EUR = 1099.0 }",
            'msrp = { USD = 999.0 }\nvariant_msrp = { "512GB" = { dollars = 1199.0 } }',
        ),
        ["catalog[0].variant_msrp.512GB.dollars", "ISO 4217"],
    ),
    ("TOML syntax error", lambda t: t.replace("[pricing]", "[pricing"), ["invalid TOML", "line"]),
    (
        "cron with four fields",
        lambda t: t.replace('cron = "0 6 * * *"', 'cron = "0 6 * *"'),
        ["schedule.cron", "5 crontab fields"],
    ),
    (
        "cron hour out of range",
        lambda t: t.replace('cron = "0 6 * * *"', 'cron = "0 25 * * *"'),
        ["schedule.cron", "not a valid crontab '0 25 * * *'"],
    ),
    (
        "start URL not http",
        lambda t: t.replace(
            'start_urls = ["http://127.0.0.1:8301/', 'start_urls = ["ftp://127.0.0.1:8301/'
        ),
        ["sources[0].start_urls[0]", "not an http(s) URL"],
    ),
]


def test_example_config_loads(example_config):
    assert set(example_config.brands) == {"xiaomi", "samsung", "apple"}
    assert len(example_config.catalog) >= 10
    assert {s.kind for s in example_config.sources} == {"marketplace", "shopify", "storefront"}
    # paths are relative to the config file
    assert example_config.storage.database.parent == example_config.path.parent


def test_landed_cost_components_add_up(example_config):
    xiaomi_14 = next(m for m in example_config.catalog if m.model == "Xiaomi 14")
    # 520 + 12 + 520 × 5 % + 3 + 25
    assert xiaomi_14.landed_cost["USD"].total == pytest.approx(586.0)


@pytest.mark.parametrize("description,edit,words", BAD_CONFIGS, ids=[c[0] for c in BAD_CONFIGS])
def test_bad_config_is_one_line_exit_2(tmp_path, capsys, description, edit, words):
    text = (Path(__file__).resolve().parents[2] / "grayhound" / "example.toml").read_text()
    edited = edit(text)
    assert edited != text, f"the edit for {description!r} did not apply"
    path = tmp_path / "grayhound.toml"
    path.write_text(edited)
    code = main(["--config", str(path), "export", "listings"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1, err
    assert str(path) in err
    for word in words:
        assert word in err


def test_error_names_the_line(tmp_path):
    text = (Path(__file__).resolve().parents[2] / "grayhound" / "example.toml").read_text()
    edited = text.replace('kind = "shopify"', 'kind = "shopfy"')
    path = tmp_path / "grayhound.toml"
    path.write_text(edited)
    line = next(i for i, row in enumerate(edited.splitlines(), 1) if 'kind = "shopfy"' in row)
    with pytest.raises(Exception) as caught:
        load_config(path)
    assert f"grayhound.toml:{line}: sources[1].kind" in str(caught.value)


def test_missing_config_file(tmp_path, capsys):
    code = main(["--config", str(tmp_path / "nope.toml"), "crawl"])
    err = capsys.readouterr().err
    assert code == 2
    assert "nope.toml: config file not found" in err


def test_init_writes_a_config_that_loads(tmp_path, capsys):
    assert main(["init", str(tmp_path / "watch")]) == 0
    config = load_config(tmp_path / "watch" / "grayhound.toml")
    assert config.sources
    # a second init refuses to overwrite
    assert main(["init", str(tmp_path / "watch")]) == 2
    assert "already exists" in capsys.readouterr().err


def test_variant_msrp_is_read_per_storage_in_one_form(tmp_path):
    text = (Path(__file__).resolve().parents[2] / "grayhound" / "example.toml").read_text()
    text = text.replace(
        "msrp = { USD = 999.0, EUR = 1099.0 }",
        'msrp = { USD = 999.0, EUR = 1099.0 }\nvariant_msrp = { "512 gb" = { USD = 1099.0 }, '
        '"1024GB" = { USD = 1199.0, EUR = 1299.0 } }',
        1,
    )
    path = tmp_path / "grayhound.toml"
    path.write_text(text)
    model = load_config(path).catalog[0]
    assert model.variant_msrp == {"512GB": {"USD": 1099.0}, "1TB": {"USD": 1199.0, "EUR": 1299.0}}


def test_a_strong_term_that_is_an_everyday_word_warns_and_still_loads(
    tmp_path, capsys, monkeypatch
):
    text = (Path(__file__).resolve().parents[2] / "grayhound" / "example.toml").read_text()
    edited = text.replace('terms = ["samsung"]', 'terms = ["samsung", "galaxy"]').replace(
        'weak_terms = ["galaxy"]', "weak_terms = []"
    )
    assert edited != text
    path = tmp_path / "grayhound.toml"
    path.write_text(edited)
    config = load_config(path)  # a warning, not an error
    line = next(i for i, row in enumerate(edited.splitlines(), 1) if '"galaxy"]' in row)
    (warning,) = [w for w in config.warnings if "'galaxy'" in w]
    assert warning.startswith(f"{path}:{line}: brands.samsung.terms: 'galaxy'")
    assert "everyday word" in warning and "weak_terms" in warning and "galaxies" in warning
    assert not any("'samsung'" in w for w in config.warnings)  # a brand name is not a word
    monkeypatch.setattr("sys.stdin", io.StringIO("galaxy.com\n"))
    code = main(["--config", str(path), "score", "--kind", "domain"])
    assert code == 0
    out = capsys.readouterr()
    assert "warning:" in out.err and '"verdict": "impersonation"' in out.out  # strong, as asked


def test_keep_strong_silences_the_everyday_word_warning_and_must_name_a_term(tmp_path):
    text = (Path(__file__).resolve().parents[2] / "grayhound" / "example.toml").read_text()
    path = tmp_path / "grayhound.toml"
    path.write_text(text)
    assert load_config(path).warnings == ()  # the shipped example keeps apple and poco on purpose
    path.write_text(text.replace('keep_strong = ["apple"]', "keep_strong = []"))
    assert any("'apple'" in w and "keep_strong" in w for w in load_config(path).warnings)
    path.write_text(text.replace('keep_strong = ["apple"]', 'keep_strong = ["pear"]'))
    with pytest.raises(ConfigError, match=r"brands\.apple\.keep_strong: 'pear' is not one"):
        load_config(path)
