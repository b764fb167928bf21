"""Reading untrusted JSON with errors that name the JSON path of the problem.

``Node(value, "$").key("shifts").item(3).key("crew")...`` walks a parsed document; every
accessor raises ``ScenarioError("$.shifts[3].crew[0].role: must be one of ...")``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from typing import Any

from clearwell.errors import ClearwellError
from compliance.grades import Grade, GradeError, parse_grade
from compliance.timeutil import parse_instant

_MISSING = object()


class ScenarioError(ClearwellError):
    """A malformed scenario or facility file; the message starts with the JSON path."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


class Node:
    __slots__ = ("path", "value")

    def __init__(self, value: Any, path: str = "$") -> None:
        self.value = value
        self.path = path

    def fail(self, problem: str) -> ScenarioError:
        return ScenarioError(self.path, problem)

    # --- structure ----------------------------------------------------------------------

    def obj(self, allowed: Sequence[str] | None = None) -> Node:
        if not isinstance(self.value, dict):
            raise self.fail(f"must be an object, not {_kind(self.value)}")
        if allowed is not None:
            for k in self.value:
                if k not in allowed:
                    raise Node(None, f"{self.path}.{k}").fail(
                        f"unknown field (expected one of: {', '.join(allowed)})"
                    )
        return self

    def has(self, key: str) -> bool:
        return isinstance(self.value, dict) and self.value.get(key) is not None

    def key(self, key: str) -> Node:
        self.obj()
        if key not in self.value or self.value[key] is None:
            raise Node(None, f"{self.path}.{key}").fail("is required")
        return Node(self.value[key], f"{self.path}.{key}")

    def opt(self, key: str) -> Node | None:
        self.obj()
        if self.value.get(key) is None:
            return None
        return Node(self.value[key], f"{self.path}.{key}")

    def items(self) -> Iterator[Node]:
        if not isinstance(self.value, list):
            raise self.fail(f"must be a list, not {_kind(self.value)}")
        for i, v in enumerate(self.value):
            yield Node(v, f"{self.path}[{i}]")

    # --- scalars ------------------------------------------------------------------------

    def text(self) -> str:
        if not isinstance(self.value, str):
            raise self.fail(f"must be a string, not {_kind(self.value)}")
        if not self.value.strip():
            raise self.fail("must not be empty")
        return self.value

    def ident(self) -> str:
        """An id: a non-empty string, or an integer (ids are strings inside)."""
        if isinstance(self.value, int) and not isinstance(self.value, bool):
            return str(self.value)
        return self.text()

    def flag(self) -> bool:
        if not isinstance(self.value, bool):
            raise self.fail(f"must be true or false, not {_kind(self.value)}")
        return self.value

    def number(self, minimum: float | None = None) -> float:
        v = self.value
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise self.fail(f"must be a number, not {_kind(v)}")
        if minimum is not None and v < minimum:
            raise self.fail(f"must be at least {minimum:g}, not {v:g}")
        return float(v)

    def integer(self, minimum: int | None = None) -> int:
        v = self.value
        if isinstance(v, bool) or not isinstance(v, int):
            raise self.fail(f"must be a whole number, not {_kind(v)}")
        if minimum is not None and v < minimum:
            raise self.fail(f"must be at least {minimum}, not {v}")
        return v

    def choice(self, choices: Sequence[str]) -> str:
        if not isinstance(self.value, str) or self.value not in choices:
            shown = repr(self.value) if isinstance(self.value, str) else _kind(self.value)
            raise self.fail(f"must be one of {', '.join(choices)} (got {shown})")
        return self.value

    def day(self) -> date:
        text = self.text()
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise self.fail(f"{text!r} is not a date (write YYYY-MM-DD)") from None

    def instant(self) -> datetime:
        text = self.text()
        try:
            return parse_instant(text)
        except ValueError as exc:
            msg = str(exc)
            if "offset" not in msg:
                msg = f"{text!r} is not an ISO 8601 timestamp (e.g. 2025-03-09T06:00:00-07:00)"
            raise self.fail(msg) from None

    def grade(self) -> Grade:
        try:
            return parse_grade(self.value)
        except GradeError as exc:
            raise self.fail(str(exc)) from None
