"""Error types the CLI turns into one-line messages and exit codes."""


class GrayhoundError(Exception):
    """A failure the user can act on; the message is one line naming what is at fault."""

    exit_code = 1


class ConfigError(GrayhoundError):
    """The configuration file is missing, unreadable or invalid (exit 2)."""

    exit_code = 2


class UsageError(GrayhoundError):
    """A command was called wrongly (exit 2)."""

    exit_code = 2


class LockedError(GrayhoundError):
    """Another run holds the lock (exit 1)."""

    exit_code = 1


class DamagedStoreError(GrayhoundError):
    """The database fails SQLite's integrity check (exit 1): no command reads or writes it."""

    exit_code = 1


class Terminated(BaseException):  # noqa: N818 - a signal, as KeyboardInterrupt is
    """SIGTERM, raised where `workers.sigterm_raises` lets it (a report's workers writing its
    parts), or once the crawl of `grayhound run` it was passed on to has stopped
    (`crawler.runner.crawl_in_subprocess`): not an Exception, so that no handler of errors
    takes it for one. `cli.main` says it and exits 143."""
