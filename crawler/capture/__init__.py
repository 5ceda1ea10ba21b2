"""Capture: every response the crawler receives, preserved as WARC evidence (ISO 28500) and indexed
in the store.

Owns: writing and reading WARC files (`warc`) and the downloader middleware that captures each
exchange as received (`middleware`). May import: the spine's leaves and store. `reports.evidence`
reads WARC records through `warc`. Importing `middleware` installs Twisted's reactor, so this
`__init__` imports nothing."""
