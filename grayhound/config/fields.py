"""The primitive checks of grayhound.toml validation: each value checked against its type and
range, every problem a ConfigError naming the file, the line and the key path."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from grayhound.config.records import CURRENCY_RE
from grayhound.errors import ConfigError

# Integers are stored in SQLite (signed 64-bit) and handed to Scrapy and Twisted: beyond this
# a value is a typo or an attack. Numbers beyond MAX_NUMBER lose all sense in a price or ratio.
MAX_INTEGER = 2**31 - 1
MAX_NUMBER = 1e15


class FieldChecker:
    """Checks single values of the parsed TOML, naming key paths and lines in every error."""

    def __init__(self, text: str, path: Path):
        self.lines = text.splitlines()
        self.path = path
        self.base = path.parent

    # -- errors -------------------------------------------------------------------------
    def fail(self, keypath: tuple, message: str):
        line = self._line_of(keypath)
        where = f"{self.path}:{line}" if line else str(self.path)
        raise ConfigError(f"{where}: {_dotted(keypath)}: {message}")

    def _line_of(self, keypath: tuple) -> int | None:
        """Best-effort line of a key: find its table header, then the key after it."""
        names = [k for k in keypath if isinstance(k, str)]
        if not names:
            return None
        table, occurrence = names[0], 0
        for k in keypath[1:2]:
            if isinstance(k, int):
                occurrence = k
        start = 0
        header = re.compile(rf"^\s*\[\[?\s*{re.escape(table)}(\s*\]|\.)")
        seen = -1
        for number, line in enumerate(self.lines):
            if header.match(line):
                seen += 1
                if seen == occurrence:
                    start = number
                    break
        else:
            start = 0
        key = names[-1]
        key_re = re.compile(rf"^\s*(\[\[?\s*)?[\"']?{re.escape(key)}[\"']?\s*(=|\]|\.)")
        for number in range(start, len(self.lines)):
            if key_re.match(self.lines[number]):
                return number + 1
        return start + 1 if seen >= 0 else None

    # -- primitive checks ---------------------------------------------------------------
    def table(self, value: Any, keypath: tuple, allowed: tuple[str, ...]) -> dict:
        if not isinstance(value, dict):
            self.fail(keypath, f"expected a table, got {type_name(value)}")
        for key in value:
            if key not in allowed:
                self.fail(
                    (*keypath, key),
                    f"unknown key (allowed here: {', '.join(allowed)})",
                )
        return value

    def string(self, value: Any, keypath: tuple, *, nonempty: bool = True) -> str:
        if not isinstance(value, str):
            self.fail(keypath, f"expected a string, got {type_name(value)}")
        if nonempty and not value.strip():
            self.fail(keypath, "must not be empty")
        return value

    def strings(self, value: Any, keypath: tuple) -> tuple[str, ...]:
        if not isinstance(value, list):
            self.fail(keypath, f"expected a list of strings, got {type_name(value)}")
        return tuple(self.string(v, (*keypath, i)) for i, v in enumerate(value))

    def number(
        self,
        value: Any,
        keypath: tuple,
        *,
        minimum: float | None = 0.0,
        positive: bool = False,
        maximum: float | None = None,
    ) -> float:
        """A finite number (TOML's nan and inf are refused everywhere) in range."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(keypath, f"expected a number, got {type_name(value)}")
        if not math.isfinite(value) or abs(value) > MAX_NUMBER:
            self.fail(keypath, f"expected a finite number, got {value!r}")
        if minimum is not None and value < minimum:
            self.fail(keypath, f"must be >= {minimum:g}, got {value:g}")
        if positive and value <= 0:
            self.fail(keypath, f"must be > 0, got {value:g}")
        if maximum is not None and value > maximum:
            self.fail(keypath, f"must be <= {maximum:g}, got {value:g}")
        return float(value)

    def integer(
        self, value: Any, keypath: tuple, *, minimum: int = 0, maximum: int = MAX_INTEGER
    ) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(keypath, f"expected an integer, got {type_name(value)}")
        if value < minimum:
            self.fail(keypath, f"must be >= {minimum}, got {value}")
        if value > maximum:
            self.fail(keypath, f"must be <= {maximum}, got {value}")
        return value

    def boolean(self, value: Any, keypath: tuple) -> bool:
        if not isinstance(value, bool):
            self.fail(keypath, f"expected true or false, got {type_name(value)}")
        return value

    def currency(self, value: Any, keypath: tuple) -> str:
        code = self.string(value, keypath)
        if not CURRENCY_RE.match(code):
            self.fail(keypath, f"expected an ISO 4217 code such as USD, got {code!r}")
        return code

    def money_table(self, value: Any, keypath: tuple) -> dict[str, float]:
        """currency = amount; amounts (an MSRP, an exchange rate) are divided by: above 0."""
        if not isinstance(value, dict):
            self.fail(keypath, f"expected a table of currency = amount, got {type_name(value)}")
        out = {}
        for code, amount in value.items():
            self.currency(code, (*keypath, code))
            out[code] = self.number(amount, (*keypath, code), positive=True)
        return out

    def choice(self, value: Any, keypath: tuple, choices: tuple[str, ...]) -> str:
        text = self.string(value, keypath)
        if text not in choices:
            self.fail(keypath, f"expected one of {', '.join(choices)}, got {text!r}")
        return text

    def path_of(self, value: Any, keypath: tuple) -> Path:
        text = self.string(value, keypath)
        if "\x00" in text:  # no file system accepts it; open() would raise far from here
            self.fail(keypath, "a path cannot contain a NUL character")
        target = Path(text)
        return target if target.is_absolute() else self.base / target

    def array(self, raw: dict, name: str) -> list:
        value = raw.get(name, [])
        if not isinstance(value, list):
            self.fail((name,), f"expected an array of tables [[{name}]], got {type_name(value)}")
        return value

    def regexes(self, value: Any, kp: tuple) -> tuple[str, ...]:
        """URL patterns, checked with RE2, the linear-time engine the crawl runs them in:
        backreferences and lookaround, which need backtracking, are refused here."""
        import re2

        options = re2.Options()
        options.log_errors = False  # the error is ours to report, on one line
        patterns = self.strings(value, kp)
        for i, pattern in enumerate(patterns):
            try:
                re2.compile(pattern, options)
            except re2.error as exc:
                reason = exc.args[0].decode("utf-8", "replace") if exc.args else str(exc)
                self.fail(
                    (*kp, i),
                    f"not a regular expression the linear-time engine (RE2) can run: {reason}",
                )
        return patterns


def netloc(url: str) -> str:
    return re.sub(r"^https?://", "", url).split("/", 1)[0].lower()


def _dotted(keypath: tuple) -> str:
    out = ""
    for key in keypath:
        if isinstance(key, int):
            out += f"[{key}]"
        else:
            out += ("." if out else "") + str(key)
    return out or "(top level)"


def type_name(value: Any) -> str:
    return {
        str: "a string",
        int: "an integer",
        float: "a number",
        bool: "a boolean",
        list: "an array",
        dict: "a table",
    }.get(type(value), type(value).__name__)
