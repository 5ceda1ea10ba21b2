"""The layout stays true: every import between grayhound's rooms points the way ARCHITECTURE.md
says, and no two rooms import each other, directly or through others.

A room is a capability folder (`crawler/pages/`, `reports/digest/`, `grayhound/store/`…) or,
for the loose modules of a folder (`grayhound/cli.py`, `crawler/runner.py`), the module itself
in the spine and the folder's own modules elsewhere. The rules are read from the table below,
which is the one ARCHITECTURE.md describes in words: change both together."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("grayhound", "crawler", "detectors", "reports")

# The spine's leaves and base: everything may import them.
LEAVES = {"grayhound", "grayhound.models", "grayhound.errors", "grayhound.text"}
BASE = LEAVES | {
    "grayhound.config",
    "grayhound.store",
    "grayhound.triage",
    "grayhound.lock",
    "grayhound.workers",
}

# room -> the rooms it may import (besides itself). "*" means any room.
ALLOWED: dict[str, set[str] | str] = {
    "grayhound": set(),
    "grayhound.errors": set(),
    "grayhound.models": set(),
    "grayhound.text": set(),
    "grayhound.config": {"grayhound.errors"},
    "grayhound.store": LEAVES,
    "grayhound.triage": LEAVES | {"grayhound.store"},
    "grayhound.lock": LEAVES | {"grayhound.store"},
    "grayhound.workers": {"grayhound.errors"},  # forked workers: the detection's, the reports'
    # orchestration: the CLI, the commands, the daily run, the schedule, the demo
    "grayhound.cli": "*",
    "grayhound.__main__": "*",
    "grayhound.commands": "*",
    "grayhound.demo": "*",
    "grayhound.detection": "*",
    "grayhound.pipeline": "*",
    "grayhound.schedule": "*",
    # the crawler: never scores, never reports
    "crawler.pages": {"grayhound.models"},
    "crawler.spiders": BASE | {"crawler.pages"},
    "crawler.capture": BASE,
    "crawler": BASE | {"crawler.pages", "crawler.spiders", "crawler.capture"},
    "crawler.cluster": BASE | {"crawler", "crawler.pages", "crawler.spiders", "crawler.capture"},
    # the detectors: pure, no store
    "detectors": {"grayhound.config", "grayhound.models", "grayhound.errors"},
    # reports: never fetch, never score; the folders stand side by side
    "reports": BASE,
    "reports.digest": BASE | {"reports"},
    "reports.evidence": BASE | {"reports", "crawler.capture"},
    "reports.pricing": BASE | {"reports"},
    "reports.serve": BASE | {"reports", "reports.digest", "reports.evidence", "reports.pricing"},
}

# Third-party packages a room must never import.
FORBIDDEN = {
    "detectors": {"scrapy", "twisted", "sqlite_utils", "sqlite3"},
    "crawler.pages": {"scrapy", "twisted", "sqlite_utils", "sqlite3"},
    "reports": {"scrapy", "twisted"},
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            found[module_name(path)] = path
    return found


MODULES = modules()
ROOMS = sorted((room for room in ALLOWED if room in MODULES), key=len, reverse=True)


def room_of(module: str) -> str:
    """The longest room that holds the module (a spine module is its own room)."""
    for room in ROOMS:
        if module == room or module.startswith(room + "."):
            return room
    raise AssertionError(f"{module} is in no room: add its folder to ALLOWED in {__file__}")


def imports_of(path: Path) -> set[str]:
    """Absolute module names imported anywhere in the file (lazy imports included)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            # `from grayhound.store import timestamps` names a module too
            names.update(
                f"{node.module}.{alias.name}"
                for alias in node.names
                if f"{node.module}.{alias.name}" in MODULES
            )
    return names


def room_edges() -> dict[tuple[str, str], list[str]]:
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for module, path in MODULES.items():
        here = room_of(module)
        for name in imports_of(path):
            if name.split(".")[0] not in PACKAGES or name not in MODULES:
                continue
            there = room_of(name)
            if there != here:
                edges[here, there].append(f"{module} imports {name}")
    return edges


EDGES = room_edges()


@pytest.mark.parametrize("room", sorted(ALLOWED))
def test_a_room_imports_only_what_it_may(room):
    allowed = ALLOWED[room]
    if allowed == "*":
        return
    wrong = [why for (here, there), whys in EDGES.items() if here == room for why in whys]
    wrong = [why for why in wrong if room_of(why.split(" imports ")[1]) not in allowed]
    assert not wrong, f"{room} may import only {sorted(allowed)}: " + "; ".join(sorted(wrong))


@pytest.mark.parametrize("room", sorted(FORBIDDEN))
def test_a_room_keeps_out_of_what_is_not_its_job(room):
    wrong = []
    for module, path in MODULES.items():
        if room_of(module) != room:
            continue
        for name in imports_of(path):
            if name.split(".")[0] in FORBIDDEN[room]:
                wrong.append(f"{module} imports {name}")
    assert not wrong, "; ".join(sorted(wrong))


def test_no_two_rooms_import_each_other_even_through_others():
    graph: dict[str, set[str]] = defaultdict(set)
    for here, there in EDGES:
        graph[here].add(there)
    cycles = [component for component in strongly_connected(graph) if len(component) > 1]
    assert not cycles, "rooms that import each other: " + "; ".join(
        " ↔ ".join(sorted(c)) for c in cycles
    )


def test_every_capability_folder_says_what_it_owns_and_may_import():
    for module, path in MODULES.items():
        if path.name != "__init__.py":
            continue
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        assert len(doc.split()) >= 20, f"{path}: the docstring should say what the folder owns"
        if module not in ("grayhound", "grayhound.config"):
            assert "import" in doc.lower(), f"{path}: say what this folder may import"


def strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iterative enough for a few dozen rooms."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            components.append(component)

    for node in list(graph):
        if node not in index:
            visit(node)
    return components
