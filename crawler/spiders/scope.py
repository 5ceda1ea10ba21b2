"""A source's scope: the hosts (and ports) it may fetch from, and the refusal of anything outside.

"example.com" allows example.com and its subdomains on the scheme's default port;
"127.0.0.1:8301" allows exactly that host and port."""

from __future__ import annotations

from urllib.parse import urlsplit

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
