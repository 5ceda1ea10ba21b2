"""The triggers on `findings` (serve's change log, the digest's book queue, the sellers' flag
counts) cannot abort the write that fires them. Under SQLite's default conflict policy a trigger
statement that may abort (a plain INSERT into a table with a NOT NULL column, any SQL function
call, as a function may fail) makes each execution of the statement that fires it keep a
statement journal: a copy of every page it and its triggers write, made before writing it, so
that statement alone can be undone. Detection closes a replaced finding with one such statement
per finding (issue 19, round 8: 5,000 closes at 100k, 54 → 37 ms of CPU without the journal)."""

from __future__ import annotations

import re

from grayhound.store import open_store

# Calls SQLite compiles inline or as a table-valued function (json_each), which cannot abort,
# and the aggregates (only in the flag counts' insert trigger: a new finding's insert keeps a
# statement journal for its foreign key on `crawl_runs` anyway).
CANNOT_ABORT = {"json_each", "coalesce", "ifnull", "sum", "min", "max", "count"}


def _triggers_on_findings(tmp_path) -> dict[str, str]:
    with open_store(tmp_path / "grayhound.db") as store:
        return dict(
            store.db.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
                " AND tbl_name = 'findings'"
            ).fetchall()
        )


def test_no_trigger_on_findings_can_abort_the_write_that_fires_it(tmp_path):
    triggers = _triggers_on_findings(tmp_path)
    assert triggers
    for name, sql in triggers.items():
        body = sql[sql.upper().index(" BEGIN ") :]
        calls = {call.lower() for call in re.findall(r"\b(\w+)\(", body)}
        assert calls <= CANNOT_ABORT, (name, calls - CANNOT_ABORT)
        for insert in re.split(r";\s*", body):
            if "INSERT" not in insert.upper():
                continue
            upsert = "ON CONFLICT DO UPDATE" in " ".join(insert.upper().split())
            assert "INSERT OR FAIL INTO" in insert.upper() or upsert, (name, insert)
