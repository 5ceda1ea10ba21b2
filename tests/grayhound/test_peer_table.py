"""Each listing's price ratio and peer signal kept apart from its state, by peer group
(migration 0022, issue 19 round 27): a moved price rewrites its narrow peer row alone, and a
store from before keeps every ratio and signal it had, so that the next detection finds what a
full one does."""

from __future__ import annotations

import sqlite3
from contextlib import closing

from grayhound.store import open_store
from tests.grayhound.test_incremental import oracle
from tests.grayhound.test_incremental_work import judged, make_outlier  # noqa: F401 (a fixture)

STEP = "0022_issue19_peer_table"


def _peers(database) -> list[tuple]:
    with closing(sqlite3.connect(database)) as conn:
        return conn.execute("SELECT * FROM listing_peers ORDER BY 1, 2").fetchall()


def _current(database) -> dict:
    with closing(sqlite3.connect(database)) as conn:
        return {
            (kind, subject_id): fingerprint
            for kind, subject_id, fingerprint in conn.execute(
                "SELECT subject_kind, subject_id, fingerprint FROM findings WHERE is_current = 1"
            )
        }


def _as_before(database) -> None:
    """The store as the release before migration 0022 left it: the ratio and signal in
    `listing_state`, with their two indexes."""
    with closing(sqlite3.connect(database)) as conn, conn:
        conn.executescript(
            """
            ALTER TABLE listing_state ADD COLUMN peer_ratio REAL;
            ALTER TABLE listing_state ADD COLUMN peer_signal TEXT;
            UPDATE listing_state SET
                peer_ratio = (SELECT p.peer_ratio FROM listing_peers p
                              WHERE p.peer_group = listing_state.peer_group
                                AND p.listing_id = listing_state.listing_id),
                peer_signal = (SELECT p.peer_signal FROM listing_peers p
                               WHERE p.peer_group = listing_state.peer_group
                                 AND p.listing_id = listing_state.listing_id);
            CREATE INDEX listing_state_peers ON listing_state (peer_group, listing_id, peer_ratio)
                WHERE peer_group IS NOT NULL;
            CREATE INDEX listing_state_outliers ON listing_state (peer_group, listing_id)
                WHERE peer_signal IS NOT NULL;
            DROP TABLE listing_peers;
            """
        )
        conn.execute("DELETE FROM _migrations WHERE name = ?", [STEP])


def test_a_moved_price_rewrites_its_peer_row_and_not_the_listing_state(judged):  # noqa: F811
    from grayhound.detection import detect_findings

    market, config = judged
    database = config.storage.database
    before = {(group, listing_id): ratio for group, listing_id, ratio, _ in _peers(database)}
    moved = next(n for n, item in market.listings.items() if item["condition"] == "new")
    market.listings[moved]["price"] = round(market.listings[moved]["price"] * 0.9, 2)
    with open_store(database) as store:
        market.crawl(store, "2030-01-02T00:00:00.000Z")
        store.db.executescript(  # every write of a listing's state, kept
            """
            CREATE TABLE state_writes (listing_id INTEGER);
            CREATE TRIGGER state_updated AFTER UPDATE ON listing_state
            BEGIN INSERT INTO state_writes VALUES (new.listing_id); END;
            CREATE TRIGGER state_inserted AFTER INSERT ON listing_state
            BEGIN INSERT INTO state_writes VALUES (new.listing_id); END;
            """
        )
    detect_findings(config)
    after = {(group, listing_id): ratio for group, listing_id, ratio, _ in _peers(database)}
    with closing(sqlite3.connect(database)) as conn:
        writes = conn.execute("SELECT listing_id FROM state_writes").fetchall()
        (listing_id,) = conn.execute(
            "SELECT id FROM listings WHERE url LIKE ?", [f"%/{moved}"]
        ).fetchone()
    assert writes == []
    assert after.keys() == before.keys()
    changed = {key for key in after if after[key] != before[key]}
    assert [key[1] for key in changed] == [listing_id]
    (key,) = changed
    assert abs(after[key] / before[key] - 0.9) < 0.01


def test_a_store_from_before_keeps_its_ratios_and_signals_and_judges_as_a_full_run(
    judged,  # noqa: F811
    monkeypatch,
    capsys,
):
    from grayhound.detection import detect_findings
    from grayhound.store import detectstate

    market, config = judged
    database = config.storage.database
    make_outlier(market, config, "2030-01-02T00:00:00.000Z")
    peers = _peers(database)
    assert any(signal is not None for *_, signal in peers)  # the outlier's
    _as_before(database)
    with closing(sqlite3.connect(database)) as conn:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(listing_state)")}
    assert {"peer_ratio", "peer_signal"} <= columns

    monkeypatch.setattr(detectstate, "PEERS_NOTICE_AT", 100)  # a large store says so first
    capsys.readouterr()
    with open_store(database):
        pass
    assert "upgrading the store (once): the peer prices of up to" in capsys.readouterr().err
    assert _peers(database) == peers
    with closing(sqlite3.connect(database)) as conn:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(listing_state)")}
        names = {name for (name,) in conn.execute("SELECT name FROM sqlite_master")}
    assert not {"peer_ratio", "peer_signal"} & columns
    assert not {"listing_state_peers", "listing_state_outliers"} & names

    # the outlier's peers move: the next detection reads the carried ratios and signals
    outlier, group = next((i, g) for g, i, _, signal in peers if signal is not None)
    with closing(sqlite3.connect(database)) as conn:
        urls = conn.execute(
            "SELECT l.url FROM listing_peers p JOIN listings l ON l.id = p.listing_id"
            " WHERE p.peer_group = ? AND p.listing_id != ? ORDER BY l.id LIMIT 20",
            [group, outlier],
        ).fetchall()
    for (url,) in urls:
        number = int(url.rsplit("/", 1)[1])
        market.listings[number]["price"] = round(market.listings[number]["price"] * 1.05, 2)
    with open_store(database) as store:
        market.crawl(store, "2030-01-03T00:00:00.000Z")
    work = detect_findings(config)["work"]
    assert work["listings_read"] == 20
    expected, _ = oracle(database, config)
    assert _current(database) == expected


def test_listings_that_change_group_or_go_leave_one_peer_row_each_where_their_state_says(
    judged,  # noqa: F811
    monkeypatch,
):
    """Retitled, re-conditioned and gone listings, read ahead by a worker in small chunks: each
    listing's peer row is in the group its state names (none left in a group it left), and the
    findings are a full run's."""
    import grayhound.detection.listings
    from grayhound.detection import detect_findings
    from tests.grayhound.test_incremental import MODELS

    monkeypatch.setattr(grayhound.detection.listings, "CHUNK", 50)
    monkeypatch.setenv("GRAYHOUND_WORKERS", "2")
    market, config = judged
    database = config.storage.database
    numbers = sorted(market.listings)
    for number in numbers[:40]:  # another condition: another group of the same model
        item = market.listings[number]
        item["condition"] = "used" if item["condition"] == "new" else "new"
    for number, (model, _) in zip(numbers[40:80], MODELS * 40, strict=False):
        item = market.listings[number]  # another model (its group too, if it had one)
        item["title"] = f"{model} 256GB {item['title'].split('GB ', 1)[-1]}"
    for number in numbers[80:100]:
        market.listings[number]["gone"] = True
    with open_store(database) as store:
        market.crawl(store, "2030-01-02T00:00:00.000Z")
    work = detect_findings(config)["work"]
    assert work["listings_read"] > 90  # a few retitled to the title they had

    with closing(sqlite3.connect(database)) as conn:
        states = set(
            conn.execute(
                "SELECT peer_group, listing_id FROM listing_state WHERE peer_group IS NOT NULL"
            )
        )
        peers = conn.execute("SELECT peer_group, listing_id FROM listing_peers").fetchall()
        (gone,) = conn.execute("SELECT COUNT(*) FROM listing_state WHERE gone = 1").fetchone()
    assert len(peers) == len(set(peers)) and set(peers) == states
    assert gone == 20 and len(states) > 300
    expected, _ = oracle(database, config)
    assert _current(database) == expected
