"""What every process model offers the protocol faces."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

Value = float | bool | str

Kind = Literal["analog", "counter", "bool", "text"]


@dataclass(frozen=True)
class Variable:
    """One quantity the model computes, with the physical range it stays in."""

    name: str
    kind: Kind
    unit: str
    lo: float
    hi: float
    description: str


class ProcessModel(Protocol):
    """State advanced only by :meth:`step`; the same seed and steps give the same values."""

    @property
    def variables(self) -> Mapping[str, Variable]: ...

    @property
    def time(self) -> datetime:
        """The plant clock: the start time plus every ``dt`` stepped so far (UTC)."""
        ...

    def step(self, dt: float) -> None:
        """Advance the plant by ``dt`` seconds of plant time."""
        ...

    def values(self) -> dict[str, Value]:
        """The current value of every variable, keyed by name."""
        ...
