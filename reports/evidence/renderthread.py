"""The page renderer of an evidence export started before it is needed (issue 19, round 3).

Starting Playwright's driver and Chromium takes ~2.5 s, about as long as the rest of a bundle
(loading the config, reading the subject and its captures). `started_page_renderer()` starts
the very same `PageRenderer` in a thread of its own at once, so that the two overlap; every
call to it then runs in that thread (Playwright's sync API belongs to the thread that started
it), one at a time, exactly as it would run in the caller's. The pictures, the browser, its
flags and what it refuses are unchanged: only when it starts."""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator
from concurrent.futures import Future

from reports.evidence.images import PageRenderer, Unavailable


class _RendererThread:
    """A `PageRenderer` owned by one thread: `capture` and `document` are sent to it."""

    def __init__(self, executable: str | None = None):
        self._calls: queue.SimpleQueue = queue.SimpleQueue()
        self._started: Future = Future()
        self._thread = threading.Thread(
            target=self._run, args=(executable,), name="page-renderer", daemon=True
        )
        self._thread.start()

    def _run(self, executable: str | None) -> None:
        try:
            renderer = PageRenderer(executable).__enter__()
        except BaseException as exc:  # Unavailable, or anything else: told to the caller
            self._started.set_exception(exc)
            return
        self._started.set_result(renderer)
        try:
            while (call := self._calls.get()) is not None:
                done, name, args = call
                try:
                    done.set_result(getattr(renderer, name)(*args))
                except BaseException as exc:  # the caller decides (a page that fails to load)
                    done.set_exception(exc)
        finally:
            renderer.__exit__(None, None, None)

    def renderer(self) -> _Proxy:
        """The started renderer (waits for its start); raises Unavailable as PageRenderer."""
        return _Proxy(self, self._started.result())

    def call(self, name: str, *args):
        done: Future = Future()
        self._calls.put((done, name, args))
        return done.result()

    def stop(self) -> None:
        self._calls.put(None)
        self._thread.join()


class _Proxy:
    """What the bundle sees of the renderer: its version, `capture` and `document`."""

    def __init__(self, owner: _RendererThread, renderer: PageRenderer):
        self._owner = owner
        self.version = renderer.version

    def capture(self, body: bytes, content_type: str, banner: list[tuple[str, str]]):
        return self._owner.call("capture", body, content_type, banner)

    def document(self, html: bytes, resources: dict[str, tuple[bytes, str]]) -> bytes:
        return self._owner.call("document", html, resources)


class PendingRenderer:
    """A renderer being started: `ready()` gives (renderer or None, why none) as
    `images.page_renderer` does."""

    def __init__(self, wanted: bool):
        self._thread = _RendererThread() if wanted else None

    def ready(self):
        if self._thread is None:
            return None, "page images skipped (--no-images)"
        try:
            return self._thread.renderer(), None
        except Unavailable as exc:
            return None, f"no page images: {exc}"

    def close(self) -> None:
        if self._thread is not None:
            self._thread.stop()


@contextlib.contextmanager
def started_page_renderer(wanted: bool = True) -> Iterator[PendingRenderer]:
    """Start the page renderer now (no browser with `wanted` False); it stops, and its browser
    closes, when the block ends, whatever happened in it."""
    pending = PendingRenderer(wanted)
    try:
        yield pending
    finally:
        pending.close()
