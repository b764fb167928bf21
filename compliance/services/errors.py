"""What the services refuse, each meaning one answer at the API (422, 404, 409)."""

from __future__ import annotations

from collections.abc import Sequence

from clearwell.errors import ClearwellError


class Refused(ClearwellError):
    """The input is wrong: ``field`` names what is at fault (a path, for nested input)."""

    def __init__(self, field: str | Sequence[str], problem: str) -> None:
        super().__init__(problem)
        self.field = field
        self.problem = problem


class NotFound(ClearwellError):
    """The record acted on does not exist."""

    def __init__(self, what: str, ident: object) -> None:
        super().__init__(f"{what} {ident} not found")
        self.what = what
        self.ident = ident


class AlreadyRetracted(ClearwellError):
    """The record was retracted before: a retraction is made once."""
