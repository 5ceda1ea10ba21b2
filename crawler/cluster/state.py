"""The cluster's shared state in Redis: key names, the published crawl run, worker liveness and
each source's frontier (queue, duplicate filter, in-flight requests).

Everything a run owns lives under `grayhound:<run>:...`, so runs never bleed into each other:

    grayhound:current_run                   the run workers should join (an id)
    grayhound:run:<run>                     hash: status, sources, config hash, worker timeout
    grayhound:<run>:<source>:requests       sorted set: the queue (score = -priority, then FIFO)
    grayhound:<run>:<source>:dupefilter     set: fingerprints of every request ever queued
    grayhound:<run>:<source>:inflight       hash: "<worker>|<n>|<score>" -> request being worked on
    grayhound:<run>:<source>:figures        hash: pages, listings, failures... summed over workers
    grayhound:<run>:items                   list: JSON items for the one store writer
    grayhound:<run>:alive:<worker>          expires unless the worker keeps beating

A popped request is moved atomically into the in-flight hash and leaves it only when its
children are queued and its items pushed (an ack), so a worker killed mid-page loses nothing:
its entries go back to the queue once its `alive` key expires. The frontier is drained when
the queue and every in-flight hash are empty, read in one atomic step. No Scrapy here: the
coordinator, the ingest loop and the crawler's scheduler all share this module."""

from __future__ import annotations

import os
import re
import socket
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

from grayhound.errors import GrayhoundError

CURRENT_RUN = "grayhound:current_run"
PRIORITY_STEP = 1e9  # queue score = -priority * step + sequence: priority first, then FIFO
RUN_KEY_TTL = 7 * 24 * 3600  # a finished run's summary hash lingers a week for `worker` logs

# KEYS: dupefilter, queue, inflight, seq. ARGV: fingerprint ("" = unfiltered), priority,
# request, token of the request this one replaces ("" = none). Queue first, ack second.
ENQUEUE = """
local added = 1
if ARGV[1] ~= '' then added = redis.call('SADD', KEYS[1], ARGV[1]) end
if added == 1 then
  local seq = redis.call('INCR', KEYS[4])
  redis.call('ZADD', KEYS[2], -tonumber(ARGV[2]) * tonumber(ARGV[5]) + seq, ARGV[3])
end
if ARGV[4] ~= '' then redis.call('HDEL', KEYS[3], ARGV[4]) end
return added
"""
# KEYS: queue, inflight, seq. ARGV: worker. Returns {token, request} or nil.
POP = """
local got = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #got == 0 then return false end
redis.call('ZREM', KEYS[1], got[1])
local token = ARGV[1] .. '|' .. redis.call('INCR', KEYS[3]) .. '|' .. got[2]
redis.call('HSET', KEYS[2], token, got[1])
return {token, got[1]}
"""
# KEYS: inflight, queue. ARGV: alive-key prefix, worker to requeue ("" = every dead worker).
REQUEUE = """
local fields = redis.call('HGETALL', KEYS[1])
local moved = 0
for i = 1, #fields, 2 do
  local token = fields[i]
  local worker, score = string.match(token, '^(.*)|[^|]*|([^|]*)$')
  if worker == ARGV[2] or (ARGV[2] == '' and redis.call('EXISTS', ARGV[1] .. worker) == 0) then
    redis.call('ZADD', KEYS[2], tonumber(score), fields[i + 1])
    redis.call('HDEL', KEYS[1], token)
    moved = moved + 1
  end
end
return moved
"""
# KEYS: queue, inflight. Queued plus in flight, read atomically.
PENDING = "return redis.call('ZCARD', KEYS[1]) + redis.call('HLEN', KEYS[2])"


def redis_errors() -> tuple[type[Exception], ...]:
    """The errors that mean Redis went away (as opposed to a bug of ours)."""
    from redis.exceptions import ConnectionError, TimeoutError

    return (ConnectionError, TimeoutError)


def display_url(url: str) -> str:
    """The Redis URL without its password, fit for messages."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return f"{parts.scheme}://{netloc}{parts.path}"


def connect(url: str):
    """A client for the [cluster] Redis, or a one-line GrayhoundError."""
    try:
        import redis
    except ImportError:
        raise GrayhoundError(
            "[cluster] needs the optional packages: pip install 'grayhound[cluster]'"
        ) from None
    client = redis.Redis.from_url(url, socket_timeout=30, socket_connect_timeout=10)
    try:
        client.ping()
    except (*redis_errors(), OSError) as exc:
        raise GrayhoundError(f"{display_url(url)}: cannot reach Redis: {exc}") from None
    return client


def new_worker_id() -> str:
    """host-pid-random: unique across machines and restarts, safe in keys and file names."""
    host = re.sub(r"[^A-Za-z0-9]+", "-", socket.gethostname().split(".")[0])[:20] or "host"
    return f"{host}-{os.getpid()}-{uuid.uuid4().hex[:4]}"


@dataclass(frozen=True)
class RunKeys:
    """The Redis key names of one crawl run."""

    run_id: int

    @property
    def base(self) -> str:
        return f"grayhound:{self.run_id}"

    @property
    def run(self) -> str:
        return f"grayhound:run:{self.run_id}"

    @property
    def items(self) -> str:
        return f"{self.base}:items"

    @property
    def seq(self) -> str:
        return f"{self.base}:seq"

    @property
    def alive_prefix(self) -> str:
        return f"{self.base}:alive:"

    def alive(self, worker: str) -> str:
        return self.alive_prefix + worker

    def source(self, source: str, part: str) -> str:
        """requests | dupefilter | inflight | figures of one source."""
        return f"{self.base}:{source}:{part}"


class Frontier:
    """One source's shared queue, duplicate filter and in-flight requests in one run."""

    def __init__(self, client, keys: RunKeys, source: str):
        self.client = client
        self.keys = keys
        self.queue = keys.source(source, "requests")
        self.dupefilter = keys.source(source, "dupefilter")
        self.inflight = keys.source(source, "inflight")
        self._enqueue = client.register_script(ENQUEUE)
        self._pop = client.register_script(POP)
        self._requeue = client.register_script(REQUEUE)
        self._pending = client.register_script(PENDING)

    def push(self, data: bytes, priority: int = 0, fingerprint: str = "", replaces="") -> bool:
        """Queue a request unless its fingerprint was seen; ack `replaces` in the same step."""
        keys = [self.dupefilter, self.queue, self.inflight, self.keys.seq]
        args = [fingerprint, priority, data, replaces, PRIORITY_STEP]
        return bool(self._enqueue(keys=keys, args=args))

    def pop(self, worker: str) -> tuple[str, bytes] | None:
        """The next request, now in flight for `worker`: (token, request) or None."""
        got = self._pop(keys=[self.queue, self.inflight, self.keys.seq], args=[worker])
        return (got[0].decode(), got[1]) if got else None

    def ack(self, token: str) -> None:
        self.client.hdel(self.inflight, token)

    def requeue_dead(self) -> int:
        """Put the in-flight requests of workers whose heartbeat expired back in the queue."""
        return self._requeue(keys=[self.inflight, self.queue], args=[self.keys.alive_prefix, ""])

    def requeue_worker(self, worker: str) -> int:
        return self._requeue(keys=[self.inflight, self.queue], args=["", worker])

    def queued(self) -> int:
        return self.client.zcard(self.queue)

    def pending(self) -> int:
        """Requests queued or in flight; 0 means this source's crawl is complete."""
        return int(self._pending(keys=[self.queue, self.inflight]))


# -- the published run ----------------------------------------------------------------------
def publish_run(client, run_id: int, sources: list[str], config_hash: str, timeout: float):
    keys = RunKeys(run_id)
    fields = {
        "status": "crawling",
        "sources": ",".join(sources),
        "config_hash": config_hash,
        "worker_timeout": timeout,
    }
    client.hset(keys.run, mapping=fields)
    client.set(CURRENT_RUN, run_id)


def current_run(client) -> int | None:
    value = client.get(CURRENT_RUN)
    return int(value) if value else None


def read_run(client, run_id: int) -> dict | None:
    raw = client.hgetall(RunKeys(run_id).run)
    if not raw:
        return None
    run = {k.decode(): v.decode() for k, v in raw.items()}
    run["sources"] = [s for s in run.get("sources", "").split(",") if s]
    run["worker_timeout"] = float(run.get("worker_timeout") or 30)
    run["id"] = run_id
    return run


def set_run_status(client, run_id: int, status: str) -> None:
    client.hset(RunKeys(run_id).run, "status", status)


def run_pending(client, run_id: int, sources: list[str]) -> int:
    """Requests still queued or in flight over all sources, after requeueing dead workers'."""
    total = 0
    for source in sources:
        frontier = Frontier(client, RunKeys(run_id), source)
        frontier.requeue_dead()
        total += frontier.pending()
    return total


def live_workers(client, run_id: int) -> list[str]:
    prefix = RunKeys(run_id).alive_prefix
    return sorted(k.decode()[len(prefix) :] for k in client.scan_iter(match=prefix + "*"))


def source_figures(client, run_id: int, sources: list[str]) -> dict[str, dict[str, int]]:
    keys = RunKeys(run_id)
    return {
        source: {
            k.decode(): int(v) for k, v in client.hgetall(keys.source(source, "figures")).items()
        }
        for source in sources
    }


def retire_run(client, run_id: int) -> None:
    """A finished, fully stored run: drop its frontier, keep a week-long summary hash."""
    keys = RunKeys(run_id)
    doomed = [k for k in client.scan_iter(match=keys.base + ":*")]
    if doomed:
        client.delete(*doomed)
    client.hset(keys.run, "status", "done")
    client.expire(keys.run, RUN_KEY_TTL)
    if current_run(client) == run_id:
        client.delete(CURRENT_RUN)
