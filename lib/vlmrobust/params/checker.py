"""The error every bad params value raises, and the small type/range checks that raise it.

Why a hand-written schema rather than pydantic: the schema is small, the error message
format ("file: key 'a.b' = value: problem") is the contract, and nothing else in the
project needs pydantic.
"""

from __future__ import annotations

import difflib
import re
from typing import Any


class ParamsError(ValueError):
    """A params file is invalid. The message names file, key and value."""

    def __init__(self, source: str, key: str, value: Any, problem: str):
        self.source, self.key, self.value, self.problem = source, key, value, problem
        super().__init__(f"{source}: key '{key}' = {value!r}: {problem}")


def closest(word: str, options) -> str | None:
    m = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return m[0] if m else None


class Checker:
    """Carries the source name so that every error names the file."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, key: str, value: Any, problem: str):
        raise ParamsError(self.source, key, value, problem)

    def mapping(self, key: str, value: Any, allowed, required=()):
        if not isinstance(value, dict):
            self.fail(key, value, "must be a mapping")
        for k in value:
            if k not in allowed:
                close = closest(str(k), allowed)
                hint = f" (did you mean '{close}'?)" if close else ""
                self.fail(f"{key}.{k}" if key else k, value[k],
                          f"unknown key{hint}; allowed: {', '.join(allowed)}")
        for k in required:
            if k not in value:
                self.fail(f"{key}.{k}" if key else k, None, "required key is missing")

    def integer(self, key: str, value: Any, lo: int | None = None, hi: int | None = None):
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(key, value, "must be an integer")
        self._range(key, value, lo, hi)

    def number(self, key: str, value: Any, lo: float | None = None, hi: float | None = None,
               positive: bool = False):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(key, value, "must be a number")
        if positive and not value > 0:
            self.fail(key, value, "must be > 0")
        self._range(key, value, lo, hi)

    def _range(self, key, value, lo, hi):
        if lo is not None and value < lo:
            self.fail(key, value, f"must be >= {lo}")
        if hi is not None and value > hi:
            self.fail(key, value, f"must be <= {hi}")

    def string(self, key: str, value: Any, pattern: str | None = None):
        if not isinstance(value, str) or not value:
            self.fail(key, value, "must be a non-empty string")
        if pattern and not re.fullmatch(pattern, value):
            self.fail(key, value, f"must match {pattern}")

    def choice(self, key: str, value: Any, choices):
        if value not in choices:
            close = closest(str(value), tuple(choices))
            hint = f" (did you mean '{close}'?)" if close else ""
            self.fail(key, value, f"unknown value{hint}; choose from: {', '.join(map(str, choices))}")

    def boolean(self, key: str, value: Any):
        if not isinstance(value, bool):
            self.fail(key, value, "must be true or false")

    def str_list(self, key: str, value: Any, choices=None, nonempty: bool = True):
        if not isinstance(value, list) or (nonempty and not value):
            self.fail(key, value, "must be a non-empty list" if nonempty else "must be a list")
        for i, v in enumerate(value):
            if choices is not None:
                self.choice(f"{key}[{i}]", v, choices)
            else:
                self.string(f"{key}[{i}]", v)
        if len(set(value)) != len(value):
            self.fail(key, value, "contains duplicates")
