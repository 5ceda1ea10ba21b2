"""Distributed crawling (`[cluster]`): one crawl run shared by many workers through Redis, and
one store writer.

Owns: the shared state in Redis (`state`: keys, the published run, liveness), the loss-free
frontier (`frontier`), the coordinator (`coordinator`), the worker (`worker`) and what it sends
(`outbox`), and the one store writer (`ingest`). May import: the rest of `crawler`, the spine's
leaves, config and store. Nothing outside `crawler` imports it but the CLI commands."""
