"""Seller identity on the blind marketplace fixture (fixtures/sites/blind-market/, written
without reading grayhound's code): serve its three crawls on loopback, crawl and detect after
each, export sellers and listings, and score them against its ground_truth.json.

    python -m benchmarks.blind_market [--keep DIR] [--no-score]

Scores: sellers found vs real, wrong merges (one grayhound seller holding listings of two real
sellers), wrong splits (one real seller spread over several grayhound sellers), seller verdict
accuracy, networks found."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
FIXTURE = ROOT / "fixtures" / "sites" / "blind-market"
CRAWLS = 3


def write_config(directory: Path, port: int) -> Path:
    """example.toml with its sources replaced by the fixture's own `[[sources]]` block."""
    example = (ROOT / "grayhound" / "example.toml").read_text()
    head = example.split("[[sources]]", 1)[0]
    tail = example.split("[crawl]", 1)[1]
    sources = (FIXTURE / "sources.toml").read_text().replace("PORT", str(port))
    path = directory / "grayhound.toml"
    path.write_text(head + sources + "\n[crawl]" + tail)
    return path


def grayhound(config: Path, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "grayhound", "--config", str(config), *args],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    if result.returncode not in (0, 1):
        raise RuntimeError(f"grayhound {' '.join(args)} failed: {result.stderr[-2000:]}")
    return result.stdout


def run(directory: Path) -> dict:
    """Three crawls (each followed by detect); the exports after the last one, and the seller
    ids after each crawl (by profile URL) to check they are stable."""
    from grayhound.demo.sites import serve_sites
    from grayhound.demo.static import static_router

    outputs: dict = {"ids_by_crawl": []}
    with serve_sites(sites={"agora": static_router(FIXTURE)}) as served:
        port = int(served.urls["agora"].rsplit(":", 1)[1])
        config = write_config(directory, port)
        for crawl in range(CRAWLS):
            served.price_set = crawl
            grayhound(config, "crawl")
            grayhound(config, "detect")
            sellers = _jsonl(grayhound(config, "export", "sellers"))
            outputs["ids_by_crawl"].append(
                {url: s["id"] for s in sellers for url in s["profile_urls"]}
            )
        outputs["sellers"] = sellers
        outputs["listings"] = _jsonl(grayhound(config, "export", "listings"))
        outputs["port"] = port
    return outputs


def _jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="work in this directory and keep it")
    parser.add_argument("--no-score", action="store_true", help="only crawl and export")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="grayhound-blind-") as scratch:
        directory = args.keep or Path(scratch)
        directory.mkdir(parents=True, exist_ok=True)
        outputs = run(directory)
        (directory / "outputs.json").write_text(json.dumps(outputs, indent=1))
        if not args.no_score:
            from benchmarks.blind_score import score, summary

            print(summary(score(outputs, json.loads((FIXTURE / "ground_truth.json").read_text()))))
        else:
            print(f"wrote {directory / 'outputs.json'}: {len(outputs['sellers'])} sellers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
