"""The machine a benchmark ran on, printed above its figures."""

from __future__ import annotations

import os
import platform
import resource
from pathlib import Path


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {model}, Python {platform.python_version()}"


def compile_packages() -> None:
    """Write the bytecode of grayhound's own packages, as an install leaves it (pip compiles
    what it installs; `pip install -e` leaves that to the first import). Where
    PYTHONDONTWRITEBYTECODE is set (this machine and its CI) nothing writes it, and every command
    timed would compile the modules it imports again first (0.04–0.13 s a command on a quiet
    box: `detect` with nothing changed at 100,000 listings 0.84 against 0.72 s), a cost no
    user of an installed grayhound pays."""
    import compileall
    import tomllib

    root = Path(__file__).resolve().parent.parent
    project = tomllib.loads((root / "pyproject.toml").read_text())
    for pattern in project["tool"]["setuptools"]["packages"]["find"]["include"]:
        compileall.compile_dir(root / pattern.rstrip("*"), quiet=1)  # "grayhound*": grayhound


def own_peak_kib(child_maxrss_kib: int) -> int:
    """A waited-for child's `ru_maxrss` where it is its own peak, else 0 (unknown). Linux
    carries a parent's high-water mark through fork and exec: `/bin/true` run from a process
    that once held 200 MiB reports 200 MiB. Read after the wait, this process's own peak
    (which never falls) is at least what the child inherited."""
    inherited = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return child_maxrss_kib if child_maxrss_kib > inherited else 0
