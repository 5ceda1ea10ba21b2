"""A source's scope: the hosts (and ports) it may fetch from, and the refusal of anything outside;
the links it follows (`follow`/`deny` regexes, run in a linear-time engine); the hosts stopped
for the rest of a run (a server asking to be left alone longer than `max_retry_after`).

"example.com" allows example.com and its subdomains on the scheme's default port;
"127.0.0.1:8301" allows exactly that host and port."""

from __future__ import annotations

from urllib.parse import urlsplit

import re2
from scrapy.exceptions import IgnoreRequest

DEFAULT_PORTS = {"http": 80, "https": 443}


class OutsideAllowedHosts(IgnoreRequest):
    """The request would leave the source's allowed_hosts."""


def host_allowed(url: str, allowed_hosts: tuple[str, ...]) -> bool:
    """True when url's host (and port, if the allowed entry names one) is allowed.

    "example.com" allows example.com and its subdomains on the scheme's default port;
    "127.0.0.1:8301" allows exactly that host and port."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    try:
        port = parts.port or DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return False
    for entry in allowed_hosts:
        allowed_host, _, allowed_port = entry.rpartition(":") if ":" in entry else (entry, "", "")
        if allowed_port and not allowed_port.isdigit():
            allowed_host, allowed_port = entry, ""
        if allowed_port:
            if host == allowed_host and port == int(allowed_port):
                return True
        elif port == DEFAULT_PORTS.get(parts.scheme) and (
            host == allowed_host or host.endswith("." + allowed_host)
        ):
            return True
    return False


class LinkPatterns:
    """A source's `follow` and `deny` URL regexes, run by RE2: linear time in the URL whatever
    the pattern, so a user's `(a+)+$` against a long link cannot hang the crawl (Python's
    backtracking engine would need ~2^n steps, in C, deaf to SIGTERM). The config check
    compiles them with RE2 too, so a pattern RE2 cannot run (backreferences, lookaround) is
    refused there, naming the key."""

    def __init__(self, follow: tuple[str, ...] = (), deny: tuple[str, ...] = ()):
        options = re2.Options()
        options.log_errors = False  # the config check has reported any problem already
        self.follow = [re2.compile(pattern, options) for pattern in follow]
        self.deny = [re2.compile(pattern, options) for pattern in deny]

    def allows(self, url: str) -> bool:
        if self.follow and not any(pattern.search(url) for pattern in self.follow):
            return False
        return not any(pattern.search(url) for pattern in self.deny)


class HostStopped(IgnoreRequest):
    """The request's host asked to be left alone longer than the crawl may wait: no request
    goes to it for the rest of the run."""

    def __init__(self, reason: str, status: int | None = None):
        super().__init__(reason)
        self.status = status
