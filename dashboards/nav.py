"""The top bar's links: the pages a person may open, by role, in one order. Pure, no I/O.

The table itself is made where the pages are assembled (``dashboards.web``), from the
roles each page's route admits, so that a link is shown exactly when its page opens.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Page:
    """A page of the top bar: ``roles`` None is anyone logged in; ``also`` are other paths
    that belong to it (an entry's page is part of the records)."""

    label: str
    path: str
    roles: tuple[str, ...] | None = None
    also: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Link:
    label: str
    path: str
    current: bool


def _under(here: str, path: str) -> bool:
    return here == path or here.startswith(path.rstrip("/") + "/")


def links_for(pages: Sequence[Page], role: str, here: str) -> list[Link]:
    """The links ``role`` may follow, the one ``here`` (a request's path) belongs to marked."""
    return [
        Link(p.label, p.path, any(_under(here, x) for x in (p.path, *p.also)))
        for p in pages
        if p.roles is None or role in p.roles
    ]
