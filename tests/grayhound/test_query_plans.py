"""Every query the daily commands run at scale uses an index (issue 19): the commands run on a
small store built as `benchmarks.store_scale` builds a large one (SQLite plans from the schema,
not the data: no ANALYZE is run), every statement they execute is recorded, and `EXPLAIN QUERY
PLAN` of each may not read a big table from end to end — except the few listed below, each
with the reason it reads every row, so a new one (or one fixed) is noticed."""

from __future__ import annotations

import re
import sqlite3

import pytest

from benchmarks import store_scale
from grayhound.cli import main
from grayhound.store import digestaside, digestbook, digestcases, digestlines, pricing

# Tables that grow with listings, observations, cases or digests. (Detection's work queues are
# not among them: a detection reads each from its head, a chunk at a time, or, for the judge
# pass's staged sales, whole at the pass's end, and empties it.)
BIG = (
    "listings", "observations", "findings", "captures", "capture_links", "cases",
    "case_events", "digest_items", "listing_state", "seller_aliases", "text_grams",
    "seller_signals", "seller_texts", "listing_sales", "digest_book", "title_words",
    "listing_peers",
)  # fmt: skip
# (command, the statement's start) -> why it reads every row of a big table.
KNOWN = {
    ("export", "SELECT * FROM seller_aliases ORDER BY id"): (
        "export sellers writes every seller with its aliases"
    ),
    ("detect", "WITH specific AS"): (
        "near-identical descriptions: every seller's shingles grouped, only when a seller's"
        " sample of descriptions changed or a seller came or went"
    ),
    ("detect", "SELECT kind, value, seller_id, shown FROM seller_signals"): (
        "NOT FIXED: shared contacts and ids are grouped over every seller's signals each time"
        " networks must be found again (a covering-index scan)"
    ),
    ("prices", "SELECT o.observed_at FROM observations o INDEXED BY"): (
        "the report's data-as-of: observations newest first through their time index, up to"
        " the first of a judged listing (LIMIT 1), normally the first one read"
    ),
    ("digest", "SELECT * FROM seller_aliases ORDER BY id"): (
        "NOT FIXED: the digest reads every seller's aliases"
    ),
}
COMMANDS = (
    ("detect",),
    ("digest", "--format", "html", "--out", "{out}/d.html"),
    ("digest", "--format", "csv", "--no-record", "--out", "{out}/d.csv"),
    ("digest", "--format", "json", "--no-record", "--out", "{out}/d.json"),
    ("digest", "--since", "3d", "--format", "csv", "--no-record", "--out", "{out}/d3.csv"),
    ("digest", "--since", "3d", "--format", "md", "--no-record", "--out", "{out}/d.md"),
    ("prices", "--out", "{out}/p.txt"),
    ("prices", "--format", "json", "--no-cache", "--out", "{out}/p.json"),  # the history whole
    ("prices", "--format", "json", "--out", "{out}/p.json"),  # through the cache: kept listings
    ("prices", "--format", "html", "--out", "{out}/p.html"),  # the history grouped by SQLite
    ("export", "listings", "--format", "csv", "--out", "{out}/l.csv"),
    ("export", "sellers", "--out", "{out}/s.jsonl"),
    ("catalog", "check", "--format", "json", "--out", "{out}/c.json"),
    ("evidence", "export", "--listing", "1", "--out", "{out}/l.zip", "--force"),
    ("evidence", "export", "--seller", "1", "--out", "{out}/s.zip", "--force"),
    ("review", "list", "--format", "json"),
)
WRITES = re.compile(
    r"(?is)^\s*(select|insert|update|delete|with|replace|create temp table \w+ as)\b"
)


@pytest.fixture(scope="module")
def statements(tmp_path_factory):
    """{(command, statement)} of every statement the commands ran on a store a day old."""
    directory = tmp_path_factory.mktemp("plans")
    built = store_scale.build(directory, 3000)
    config = str(built["config"])
    assert main(["--config", config, "detect"]) == 0
    for _ in range(2):  # the first digest, then the case book the store keeps (made whole)
        assert main(["--config", config, "digest", "--out", str(directory / "d0.json")]) == 0
    store_scale.crawl_day(directory)
    seen: list[str] = []
    real = sqlite3.connect

    def connect(*args, **kwargs):
        conn = real(*args, **kwargs)
        conn.set_trace_callback(seen.append)
        return conn

    ran = set()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sqlite3, "connect", connect)
        for command in COMMANDS:
            seen.clear()
            args = [a.format(out=directory) for a in command]
            assert main(["--config", config, *args]) in (0, 1), command
            ran |= {(command[0], " ".join(sql.split())) for sql in seen if WRITES.match(sql)}
    return directory / "grayhound.db", ran


def _full_scans(conn: sqlite3.Connection, sql: str) -> list[str]:
    try:
        plan = conn.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall()
    except sqlite3.OperationalError as error:
        # a statement on a temporary table of the command's own, or on the digest's spool (a
        # private scratch database beside the store), cannot be planned here
        assert re.search(r"no such table: (temp\.|_|spool\b)", str(error)), (sql, error)
        return []
    found = []
    for *_, detail in plan:
        # "SCAN t USING COVERING INDEX i" still reads every row of t, through its index
        match = re.match(r"SCAN (\w+)(?: AS \w+)?(.*)", detail)
        if match and "USING INTEGER PRIMARY KEY" not in match.group(2):
            found.append(match.group(1))
    return found


def _table_of(sql: str, alias: str) -> str:
    """The table a plan's alias stands for in the statement (the name itself if none)."""
    match = re.search(rf"\b(\w+)\s+(?:AS\s+)?{re.escape(alias)}\b(?!\.)", sql, re.IGNORECASE)
    keywords = ("FROM", "JOIN", "UPDATE", "INTO")  # `UPDATE t SET`: t's own name, no alias
    return match.group(1) if match and match.group(1).upper() not in keywords else alias


def test_the_commands_read_no_big_table_from_end_to_end(statements):
    database, ran = statements
    conn = sqlite3.connect(database)
    # the digest's case book: its own tables beside the store, attached as `st`
    conn.execute("ATTACH DATABASE ? AS st", [str(database)])
    conn.execute(digestcases.CASES.replace("CREATE TABLE", "CREATE TEMP TABLE"))
    conn.execute("CREATE TEMP TABLE decided (case_id INTEGER PRIMARY KEY, grp, changes, evidence)")
    conn.execute(digestbook.STALE)  # the kept book's fill: the subjects it makes again
    conn.execute(digestbook.DECIDED)
    conn.execute(digestbook.FRESH)  # and its rows made again, set in the book where they moved
    conn.execute(digestbook.RECORDED)  # the record's cases, set still open in the book
    for latest in sorted(
        {name for _, sql in ran for name in re.findall(r"temp\.(price_latest_\d+)", sql)}
    ):
        conn.execute(pricing.LATEST_TAIL_TABLE_SQL.format(latest=latest))  # prices' copies
    assert any("temp.price_latest_" in sql for _, sql in ran)  # the one pass was planned
    conn.create_function("digest_round", 1, lambda value: round(value, 4))
    conn.create_function("grayhound_currency_layer", 1, lambda sources: None)
    unexpected, known_seen = [], set()
    for command, sql in sorted(ran):
        scanned = {_table_of(sql, alias) for alias in _full_scans(conn, sql)}
        big = sorted(scanned & set(BIG))
        if not big:
            continue
        known = [key for key in KNOWN if key[0] == command and sql.startswith(key[1])]
        if known:
            known_seen.update(known)
            continue
        unexpected.append(f"{command}: SCAN {', '.join(big)}: {sql[:200]}")
    assert not unexpected, "\n".join(unexpected)
    # a listed scan that no longer happens is taken off the list
    assert known_seen == set(KNOWN), set(KNOWN) - known_seen


def test_the_digest_renders_json_and_csv_in_risk_order_by_the_books_index(statements):
    """JSON and CSV read the kept book group by group through its risk index, each case's
    finding, listing, seller and newest capture by key: no sort, no scan (issue 19, round 5); what
    they read of a book row is in that index, so no row is looked up in the book (round 6)."""
    database, ran = statements
    conn = sqlite3.connect(database)
    rendering = {  # per statement (JSON items, CSV rows), one of the groups it read
        "json" if '"brand": ' in sql else "csv": sql
        for command, sql in ran
        if command == "digest" and "risk_sev" in sql and "digest_book" in sql
    }
    assert len(rendering) == 2, list(rendering)
    for sql in rendering.values():
        plan = conn.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall()
        assert plan[0][3].startswith("SEARCH dc USING COVERING INDEX digest_book_risk (grp=?)"), (
            plan
        )
        assert not [row for row in plan if row[3].startswith("SCAN")], plan
        assert not [row for row in plan if row[1] == 0 and "TEMP B-TREE" in row[3]], plan
        # a listing's newest capture: one search of its links by moment, none sorted (round 49:
        # every capture a listing ever had was read and sorted, one more each daily crawl)
        assert [row for row in plan if "capture_links_newest" in row[3]], plan
        assert not [row for row in plan if "TEMP B-TREE" in row[3]], plan


def test_a_listings_price_history_is_read_from_the_history_index_alone(statements):
    """The price report's history (JSON, CSV, the HTML page's groups) reads each listing's
    observations side by side in `idx_observations_history`, never a row of the observations
    table: one of those a crawl run apart per observation was most of the history's time
    (issue 19, round 23)."""
    database, ran = statements
    conn = sqlite3.connect(database)
    conn.create_function("grayhound_currency_layer", 1, lambda sources: None)
    for _, sql in ran:  # the kept listings the history through the cache reads (made here)
        if re.match(r"(?i)create temp table price_kept_\w+ as", sql):
            conn.execute(sql)
    reads = {
        (command, sql)
        for command, sql in ran
        if command == "prices"
        and re.search(r"\bobservations o\b", sql)
        and "observations o INDEXED BY" not in sql  # the data-as-of walk: its time index
    }
    history = [sql for _, sql in reads if "ORDER BY o.crawl_run_id, seller, o.listing_id" in sql]
    groups = [sql for _, sql in reads if "AS time_form" in sql]
    cheapest = [sql for _, sql in reads if "json_each" in sql]
    latest = [sql for sql in cheapest if "MAX(m.crawl_run_id)" in sql]
    # JSON's history, HTML's groups, the cheapest listings' trails and latest observations
    assert history and groups and latest and len(cheapest) > len(latest), reads
    assert [sql for sql in history if "FROM temp.price_kept_" in sql], history  # the cache's
    for _, sql in reads:
        plan = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}")]
        of_o = [step for step in plan if re.match(r"(SEARCH|SCAN) o\b", step)]
        assert of_o, (sql[:300], plan)
        assert all("COVERING INDEX idx_observations_history" in step for step in of_o), (
            sql[:300],
            plan,
        )


def test_a_piece_of_a_models_history_is_a_range_of_the_history_index(statements):
    """The history of some crawl runs only (a piece of a CSV or JSON price report written on
    several CPUs; a small store writes none) reads each kept listing's observations of those
    runs as one range of `idx_observations_history`, never the observations table."""
    database, _ = statements
    conn = sqlite3.connect(database)
    kept = pricing.KEPT_LISTINGS_SQL.format(current="?", names="?", condition=pricing.CONDITION_SQL)
    sql = pricing.MODEL_HISTORY_RUNS_SQL.format(kept=kept)
    plan = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", [9, "x", "new"] * 2)]
    of_o = [step for step in plan if re.match(r"(SEARCH|SCAN) o\b", step)]
    assert of_o == [
        "SEARCH o USING COVERING INDEX idx_observations_history"
        " (listing_id=? AND crawl_run_id>? AND crawl_run_id<?)"
    ], plan


def test_serve_takes_in_changes_and_a_seller_decision_reads_by_index(statements):
    """`grayhound serve`'s queue kept across runs: the cases of the subjects logged since
    (`queue.CHANGED_CASES`, `queuelog.CHANGED_FLAGGED`) are read from the change log, by id;
    a decision about a seller reads that seller's flagged listings (`SELLER_FLAGGED_LISTINGS`)
    by seller; none walks a big table."""
    from grayhound.store.digests import FLAGGED, FLAGGED_ORDER
    from grayhound.store.queue import CHANGED_CASES, SELLER_OF_LISTINGS, TABLE
    from grayhound.store.queuelog import CHANGED_FLAGGED
    from grayhound.store.reviews import SELLER_FLAGGED_LISTINGS

    database, _ = statements
    conn = sqlite3.connect(database)
    conn.execute("ATTACH DATABASE ? AS store", [str(database)])
    conn.execute(TABLE.replace("CREATE TABLE IF NOT EXISTS", "CREATE TEMP TABLE"))
    flagged = [
        CHANGED_FLAGGED.format(flagged=FLAGGED, subjects=subjects, order=FLAGGED_ORDER)
        for subjects in ("listings", "sellers")
    ]
    named = {"after": 0, "upto": 0, "seller_listings": "", "kind": "listing"}
    for sql, params in [
        (CHANGED_CASES, named),
        (SELLER_OF_LISTINGS, named),
        (SELLER_FLAGGED_LISTINGS, [1]),
        *((sql, named) for sql in flagged),
    ]:
        plan = conn.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
        scans = [re.match(r"SCAN (\S+)", row[-1]) for row in plan]
        scanned = {_table_of(sql, m.group(1).split(".")[-1]) for m in scans if m}
        assert not scanned & set(BIG), (scanned, sql)
        # nor through an index prefix every flagged row or case shares
        loose = [row[-1] for row in plan if re.search(r"\((subject_kind|is_current)=\?\)", row[-1])]
        assert not loose, (loose, sql)


def test_serve_gives_a_rejudged_sellers_verdict_to_its_listings_rows_by_the_seller_index(
    statements, tmp_path
):
    """A day re-judges every seller: its listings' queue rows take its verdict and network
    over (`queue.SELLER_OF_LISTINGS`) with each seller's verdict read once and its rows found
    by the seller index, which holds what is compared; not every listing row of the queue
    visited with its seller's verdict read again for each."""
    from grayhound.store.queue import SELLER_OF_LISTINGS, open_queue

    database, _ = statements
    conn = open_queue(str(tmp_path / "queue.db"), str(database))
    plan = [row[-1] for row in conn.execute(f"EXPLAIN QUERY PLAN {SELLER_OF_LISTINGS}",
                                             {"after": 0, "upto": 0})]  # fmt: skip
    queue = [detail for detail in plan if re.match(r"(SEARCH|SCAN) queue_cases\b", detail)]
    assert queue == ["SEARCH queue_cases USING COVERING INDEX queue_seller (seller_id=?)"], plan


def test_the_digest_opens_cases_from_its_queue_not_over_every_flagged_finding(statements):
    """A daily digest (and `review list`) opens cases for the subjects queued since the last
    digest (`digest_pending`), each read by its index; before, it looked for flagged subjects
    without a case through every current finding (730,000 at 1M, every day)."""
    database, ran = statements
    conn = sqlite3.connect(database)
    opening = [
        (command, sql)
        for command, sql in ran
        if command in ("digest", "review") and sql.startswith("INSERT OR IGNORE INTO cases")
    ]
    assert {command for command, _ in opening} == {"digest", "review"}
    for command, sql in opening:
        plan = [row[-1] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}")]
        assert not any("is_current_verdict" in step for step in plan), (command, plan)
        assert any("digest_pending" in step for step in plan), (command, plan)


@pytest.mark.parametrize("kind", ["listing", "seller"])
def test_the_worker_deciding_a_fill_reads_the_queued_subjects_by_index(statements, kind):
    """A fill's decision made in a forked worker (issue 19, round 9; its statements are run
    in the worker, not traced above) reads the queue up to the fill's mark by its key and
    each queued subject's finding, case, record, listing and seller by index."""
    database, _ = statements
    conn = sqlite3.connect(database)
    sql = digestaside.undecided_sql(kind, "'open', 'confirmed'").replace(":upto", "1000")
    assert not {_table_of(sql, alias) for alias in _full_scans(conn, sql)} & set(BIG), sql
    plan = [row[-1] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}")]
    # the queue first (not every case of the kind), then each subject's rows by key
    assert plan[0].startswith("SEARCH p USING "), plan
    assert all(step.startswith("SEARCH ") for step in plan), plan


def test_serve_writes_the_rows_it_derived_again_by_case_id(statements, tmp_path):
    """The rows of a day's cases derived again are written where they moved (issue 19, round
    6): the rows no longer derived, each group of columns set where it moved, the new rows —
    each statement walks the derived rows only and reaches the queue's row by its case id,
    never the queue from end to end."""
    from grayhound.store.queue import (
        DERIVED_TABLE,
        GONE,
        MOVED_TABLE,
        NEW,
        NOTE_MOVED,
        WRITE_GROUPS,
        open_queue,
        set_moved,
    )

    database, _ = statements
    conn = open_queue(str(tmp_path / "queue.db"), str(database))
    conn.execute(DERIVED_TABLE)
    conn.execute(MOVED_TABLE)
    every = (1 << len(WRITE_GROUPS)) - 1
    params = {"cases": "[1]", "bits": 1}
    for sql in [*GONE, NEW[0], NOTE_MOVED, set_moved(1), set_moved(2), set_moved(every)]:
        plan = [row[-1] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params)]
        queue = [step for step in plan if re.match(r"(SEARCH|SCAN) (queue_\w+|q)\b", step)]
        assert queue and all("INTEGER PRIMARY KEY" in step for step in queue), (plan, sql)
    # the derived rows' moments, written whole: the derived rows read, nothing of the queue
    plan = [row[-1] for row in conn.execute(f"EXPLAIN QUERY PLAN {NEW[1]}")]
    assert plan == ["SCAN temp.queue_derived"], plan


def _index_columns(conn: sqlite3.Connection, index: str) -> tuple[str, ...]:
    return tuple(row[2] for row in conn.execute(f"PRAGMA index_info({index})"))


def _partial(sql: str | None) -> str:
    """An index's WHERE (empty for a whole-table index)."""
    found = re.search(r"(?is)\bWHERE\b(.*)", sql or "")
    return " ".join(found.group(1).split()) if found else ""


# (table, index, the wider index it begins) -> why it is kept
PREFIX_KNOWN = {
    ("listings", "idx_listings_source", "idx_listings_source_canonical_url_offer_key"): (
        "a listing's source never changes: its entry is written once, when the listing is new"
    ),
    ("observations", "idx_observations_listing_id_crawl_run_id", "idx_observations_history"): (
        "UNIQUE: one observation a listing and crawl run (the crawl's INSERT OR IGNORE); an"
        " observation is never changed, so each index is written once per observation"
    ),
}


def test_no_index_of_a_big_table_is_a_prefix_of_another_with_the_same_rows(statements):
    """Every index entry is written again on each change of its row (a changed finding: its
    insert and its close): an index whose columns begin another's, over the same rows (the
    same partial WHERE), answers nothing the wider one does not (issue 19, round 7: the
    findings' model index, a prefix of the price index, cost an entry per changed finding)."""
    database, _ = statements
    conn = sqlite3.connect(database)
    found = {}
    for table in BIG:
        sql = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?"
        indexes = [(name, _index_columns(conn, name), _partial(text))
                   for name, text in conn.execute(sql, [table])]  # fmt: skip
        for name, columns, where in indexes:
            for other, wider, other_where in indexes:
                longer = len(wider) > len(columns) and wider[: len(columns)] == columns
                if longer and where == other_where:
                    found[table, name, other] = PREFIX_KNOWN.get((table, name, other))
    assert found == {key: why for key, why in found.items() if why}


def test_serves_change_stamps_read_no_finding_but_by_index(statements):
    """Every request to one of serve's derived tables (its first queue page too) first reads
    what they were derived from (`CHANGE_STAMPS`): a few index ends, whatever the number of
    findings. The newest end of a finding read every finding (the partial index of ended ones
    is usable only where the query says `ended_at IS NOT NULL`): ~0.6 s of CPU at 1M listings,
    twice per start; the plan's "SEARCH findings" did not show it, so SQLite's steps are
    counted, against a store with one more ended finding for each one it holds."""
    from grayhound.store.subjects import CHANGE_STAMPS

    database, _ = statements
    conn = sqlite3.connect(database)
    conn.execute("BEGIN")  # rolled back: the module's store stays as the commands left it

    def steps() -> int:
        counted = [0]

        def count() -> int:
            counted[0] += 1
            return 0

        conn.set_progress_handler(count, 1)
        try:
            for sql in CHANGE_STAMPS.values():
                conn.execute(sql).fetchall()
        finally:
            conn.set_progress_handler(None, 1)
        return counted[0]

    before = steps()
    columns = [row[1] for row in conn.execute("PRAGMA table_info(findings)") if row[1] != "id"]
    names = ", ".join(columns)
    chosen = ", ".join("'2000-01-01T00:00:00Z'" if c == "ended_at" else c for c in columns)
    conn.execute(f"INSERT INTO findings ({names}) SELECT {chosen} FROM findings")
    assert conn.execute("SELECT COUNT(ended_at) FROM findings").fetchone()[0] > 3000
    assert steps() < before + 50
    conn.execute("ROLLBACK")


@pytest.mark.parametrize("span", [(None, (0,)), ((0,), (0,)), ((0,), None)])
def test_a_part_of_a_digest_group_is_a_range_of_the_books_risk_index(statements, span):
    """A large group of the JSON or CSV digest is written in parts (issue 19, round 7), each
    a range of the risk order: SQLite seeks its first case in the covering risk index and
    reads on to its last (row values), no scan, no sort, no book row looked up (each bound's
    ties in all but the case id are read and filtered: at most a few cases)."""

    database, _ = statements
    conn = sqlite3.connect(database)
    bounded = tuple(end is not None for end in span)
    for sql in (digestlines._json_sql("    ", bounded), digestlines._csv_sql(bounded)):
        sql = sql.replace("{st}.", "").replace("cases_now", "digest_book")
        names = [f"{end}_{key}" for end in ("lo", "hi") for key in digestlines.KEY_COLUMNS]
        params = {"grp": 2, "group_name": "still_open", **dict.fromkeys(names, 0)}
        plan = conn.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
        first = plan[0][3]
        assert first.startswith("SEARCH dc USING COVERING INDEX digest_book_risk (grp=? AND"), plan
        # SQLite seeks by the key's first columns (the case id, the rowid, then filters)
        for end, operator in zip(span, (">", "<"), strict=True):
            assert (f"(sev,nscore,rkey){operator}(?,?,?)" in first) == (end is not None), first
        assert not [row for row in plan if row[3].startswith("SCAN")], plan
        assert not [row for row in plan if row[1] == 0 and "TEMP B-TREE" in row[3]], plan
