"""Triage: decisions move cases in and out of the digest; evidence that moves reopens them."""

from __future__ import annotations

import json

import pytest

from grayhound.cli import main
from grayhound.pipeline import produce_digest
from grayhound.triage import set_state


def seen(world, hours: float, price: str, seller: str = "XiaomiWorld") -> int:
    """One crawl that sees listing 1 at `price`, judged price_low."""
    run = world.run(hours, {"bazaar": world.figures(10)})
    listing_id = world.listing(run, hours, 1, title="Xiaomi 14 Pro", price=price, seller=seller)
    world.judge(run, hours + 0.6, world.finding(listing_id, "suspicious", 0.7, ["price_low"]))
    return listing_id


def case_ids(digest) -> list[int]:
    return [item["case_id"] for item in digest.all_items()]


def test_dismissed_case_leaves_until_its_price_moves(world, example_config):
    seen(world, 0, "449.00")
    (case,) = case_ids(produce_digest(world.store, example_config, world.at(1)))
    set_state(world.store, str(case), "dismissed", "authorized distributor", "ana", "t")

    seen(world, 24, "447.00")  # -0.4 %: within reopen_price_change (5 %)
    assert case_ids(produce_digest(world.store, example_config, world.at(25))) == []

    seen(world, 48, "399.00")  # -11 %
    digest = produce_digest(world.store, example_config, world.at(49))
    assert case_ids(digest) == [case]
    assert digest.items["changed"][0]["state"] == "open"
    entry = world.store.review_log(case)[-1]
    assert (entry["by"], entry["previous_state"], entry["state"]) == (
        "grayhound",
        "dismissed",
        "open",
    )
    assert "price 449.00 → 399.00" in entry["note"]


def test_dismissed_case_returns_under_a_new_seller_name(world, example_config):
    seen(world, 0, "449.00")
    (case,) = case_ids(produce_digest(world.store, example_config, world.at(1)))
    set_state(world.store, case, "dismissed", "checked", "ana", "t")
    seen(world, 24, "449.00", seller="Xiaomi Official Outlet")
    assert case_ids(produce_digest(world.store, example_config, world.at(25))) == [case]


@pytest.mark.parametrize("state", ["confirmed", "takedown-requested"])
def test_decided_case_stays_until_resolved(world, example_config, state):
    seen(world, 0, "449.00")
    (case,) = case_ids(produce_digest(world.store, example_config, world.at(1)))
    set_state(world.store, case, state, "counterfeit, reported", "ana", "t")
    digest = produce_digest(world.store, example_config, world.at(25))
    assert [(i["case_id"], i["state"]) for i in digest.all_items()] == [(case, state)]

    set_state(world.store, case, "resolved", "listing removed", "ana", "t2")
    seen(world, 48, "399.00")  # even moved evidence does not bring a resolved case back
    assert case_ids(produce_digest(world.store, example_config, world.at(49))) == []
    states = [(e["previous_state"], e["state"]) for e in world.store.review_log(case)]
    assert states == [("open", state), (state, "resolved")]


@pytest.fixture
def cli_store(config_world):
    """The example config's own database with one flagged listing (case 1)."""
    seen(config_world, 0, "449.00")
    return config_world.store


def test_review_commands(cli_store, example_config_path, capsys, monkeypatch):
    monkeypatch.setenv("USER", "ana")
    config = ["--config", str(example_config_path)]
    assert main([*config, "review", "list", "--format", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["case_id"], row["state"], row["flags"]) == (1, "open", ["price_low"])

    assert main([*config, "review", "set", "#1", "confirmed", "--note", "fake box"]) == 0
    assert "case #1: open → confirmed (by ana" in capsys.readouterr().out
    assert main([*config, "review", "list", "--state", "dismissed"]) == 0
    assert capsys.readouterr().out.strip() == "no cases"
    assert main([*config, "review", "list", "--flag", "price_low"]) == 0
    assert "#1" in capsys.readouterr().out
    entry = cli_store.review_log(1)[-1]
    assert (entry["by"], entry["note"], entry["evidence"]["price"]) == ("ana", "fake box", "449.00")


@pytest.mark.parametrize(
    "args, message",
    [(["99", "confirmed"], "no case '99'"), (["1", "closed"], "unknown state 'closed'")],
)
def test_review_set_rejects_unknown_case_or_state(
    cli_store, example_config_path, capsys, args, message
):
    code = main(["--config", str(example_config_path), "review", "set", *args, "--note", "x"])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1
