"""The page renderer of an evidence export started before it is needed (issue 19, round 3).

Starting Playwright's driver and Chromium takes ~2.5 s, about as long as the rest of a bundle
(loading the config, reading the subject and its captures). `started_page_renderer()` starts
the very same `PageRenderer` in a thread of its own at once, so that the two overlap; every
call to it then runs in that thread (Playwright's sync API belongs to the thread that started
it), one at a time, exactly as it would run in the caller's. The pictures, the browser, its
flags and what it refuses are unchanged: only when it starts.

A bundle of many pages (a seller's every listing, each crawl's page) is pictured by more than
one such browser (issue 19, round 50): as many as the command may use cores, each started once
its share of the pages pays for its start, each taking the next page as it is free."""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import Future

from reports.evidence.images import PageRenderer, Unavailable

# distinct pages a browser pictures before another one is started beside it (each takes
# ~2.5 s to start, ~0.2 s a page on this machine: a second browser pays for itself past ~25)
PAGES_A_BROWSER = 24
# pages asked of the browsers ahead of the one the caller waits for: enough to keep every
# browser busy, few enough that the payloads and pictures waiting stay small
AHEAD_A_BROWSER = 4


class _RendererThread:
    """A `PageRenderer` owned by one thread: `capture` and `document` are sent to it. Several
    may share one queue of calls (`calls`): each call goes to the first that is free."""

    def __init__(self, executable: str | None = None, calls: queue.SimpleQueue | None = None):
        self._calls: queue.SimpleQueue = queue.SimpleQueue() if calls is None else calls
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
                if not done.set_running_or_notify_cancel():
                    continue  # its caller stopped waiting (`capture_all` left early)
                try:
                    done.set_result(getattr(renderer, name)(*args))
                except BaseException as exc:  # the caller decides (a page that fails to load)
                    done.set_exception(exc)
        finally:
            renderer.__exit__(None, None, None)

    def renderer(self) -> PageRenderer:
        """The started renderer (waits for its start); raises Unavailable as PageRenderer."""
        return self._started.result()

    def submit(self, name: str, *args) -> Future:
        done: Future = Future()
        self._calls.put((done, name, args))
        return done

    def call(self, name: str, *args):
        return self.submit(name, *args).result()

    def stop(self) -> None:
        self._calls.put(None)

    def join(self) -> None:
        self._thread.join()


class _Proxy:
    """What the bundle sees of the renderer: its version, `capture`, `capture_all` and
    `document`."""

    def __init__(self, pool: PendingRenderer, renderer: PageRenderer):
        self._pool, self._owner = pool, pool._thread
        self.version = renderer.version

    def capture(self, body: bytes, content_type: str, banner: list[tuple[str, str]]):
        return self._owner.call("capture", body, content_type, banner)

    def capture_all(self, jobs: Iterable[tuple], count: int = 0) -> Iterator[tuple]:
        """`PageRenderer.capture_all`, with one browser more for every `PAGES_A_BROWSER` of
        the `count` pages (as many browsers as the command may use cores, `worker_count`),
        each taking the next page as it is free (issue 19, round 50): the pictures in
        order, a few asked ahead of the one given."""
        browsers = self._pool.grow(count)
        waiting: list[tuple] = []
        try:
            for tag, args in jobs:
                future = None if args is None else self._owner.submit("capture", *args)
                waiting.append((tag, future))
                while len(waiting) > AHEAD_A_BROWSER * browsers:
                    yield _outcome(*waiting.pop(0))
            while waiting:
                yield _outcome(*waiting.pop(0))
        finally:  # left early (an error reading the next payload): nothing more is rendered
            for _, future in waiting:
                if future is not None:
                    future.cancel()

    def document(self, html: bytes, resources: dict[str, tuple[bytes, str]]) -> bytes:
        return self._owner.call("document", html, resources)


def _outcome(tag, future: Future | None) -> tuple:
    if future is None:
        return tag, None
    try:
        return tag, future.result()
    except Exception as exc:  # the caller decides (a page that fails to load)
        return tag, exc


class PendingRenderer:
    """A renderer being started: `ready()` gives (renderer or None, why none) as
    `images.page_renderer` does. Browsers started later to picture many pages (`grow`) read
    the same calls."""

    def __init__(self, wanted: bool):
        self._thread = _RendererThread() if wanted else None
        self._more: list[_RendererThread] = []

    def ready(self):
        if self._thread is None:
            return None, "page images skipped (--no-images)"
        try:
            return _Proxy(self, self._thread.renderer()), None
        except Unavailable as exc:
            return None, f"no page images: {exc}"

    def grow(self, pages: int) -> int:
        """Start the browsers `pages` pages are worth beside the first (none if it could not
        start); return how many there are now."""
        from grayhound.workers import worker_count

        wanted = min(worker_count(), 1 + pages // PAGES_A_BROWSER)
        while 1 + len(self._more) < wanted:
            self._more.append(_RendererThread(calls=self._thread._calls))
        return 1 + len(self._more)

    def close(self) -> None:
        threads = [t for t in (self._thread, *self._more) if t is not None]
        for thread in threads:  # one end for each, whichever takes it
            thread.stop()
        for thread in threads:
            thread.join()


@contextlib.contextmanager
def started_page_renderer(wanted: bool = True) -> Iterator[PendingRenderer]:
    """Start the page renderer now (no browser with `wanted` False); it stops, and its browser
    closes, when the block ends, whatever happened in it."""
    pending = PendingRenderer(wanted)
    try:
        yield pending
    finally:
        pending.close()
