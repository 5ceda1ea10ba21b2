"""Serve a static fixture site written as files per crawl: `crawl-1/` is the full tree,
`crawl-2/`, `crawl-3/`… hold only what differs from crawl-1, and `<path>.gone` there means
the path answers 404 in that crawl. Query strings are ignored and `/` is `/index.html`.

The crawl served is the `SiteServers.price_set` (0 → crawl-1, 1 → crawl-2, …), so one server
serves every crawl:

    with serve_sites(sites={"agora": static_router(root)}) as served:
        served.price_set = 1     # now crawl-2
"""

from __future__ import annotations

import mimetypes
import re
from pathlib import Path

from grayhound.demo.render import NOT_FOUND, Request, Response
from grayhound.demo.sites import Router

TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
         ".txt": "text/plain; charset=utf-8", ".xml": "application/xml",
         ".json": "application/json"}  # fmt: skip


def static_router(root: Path) -> Router:
    """A router answering every path from the overlay tree under `root`."""
    root = Path(root).resolve()

    def handler(req: Request, match: re.Match) -> Response:
        found = static_file(root, req.path, req.price_set + 1)
        if found is None:
            return NOT_FOUND
        kind = TYPES.get(found.suffix) or mimetypes.guess_type(found.name)[0] or "text/plain"
        return Response(200, found.read_bytes(), kind)

    return Router.from_table([(r"/.*", handler)])


def static_file(root: Path, path: str, crawl: int) -> Path | None:
    """The file that answers `path` in crawl number `crawl` (1-based), or None for 404."""
    relative = (path.split("?")[0] or "/").lstrip("/") or "index.html"
    if relative.endswith("/"):
        relative += "index.html"
    if any(part in ("..", "") for part in relative.split("/")):
        return None
    overlay = root / f"crawl-{crawl}"
    if crawl > 1 and (overlay / (relative + ".gone")).is_file():
        return None
    for folder in (overlay, root / "crawl-1"):
        candidate = (folder / relative).resolve()
        if root in candidate.parents and candidate.is_file():
            return candidate
    return None
