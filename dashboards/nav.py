"""The top bar's links: the pages a person may open, by role, in one order. Pure, no I/O.

The table itself is made where the pages are assembled (``dashboards.web``), from the
roles each page's route admits, so that a link is shown exactly when its page opens.
On a page about one site (a trend, the chief's month, the records) the links lead to the
same site's pages, so that the floor, its trends and its chief's page link to each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote


@dataclass(frozen=True, slots=True)
class Page:
    """A page of the top bar: ``roles`` None is anyone logged in; ``also`` are other paths
    that belong to it (an entry's page is part of the records); ``at_site`` the page of one
    site, ``{site}`` standing for its code."""

    label: str
    path: str
    roles: tuple[str, ...] | None = None
    also: tuple[str, ...] = ()
    at_site: str | None = None


@dataclass(frozen=True, slots=True)
class Link:
    label: str
    path: str
    current: bool


def _under(here: str, path: str) -> bool:
    return here == path or here.startswith(path.rstrip("/") + "/")


def _href(page: Page, site: str | None) -> str:
    if site and page.at_site:
        return page.at_site.replace("{site}", quote(site, safe=""))
    return page.path


def links_for(pages: Sequence[Page], role: str, here: str, site: str | None = None) -> list[Link]:
    """The links ``role`` may follow, the one ``here`` (a request's path) belongs to marked;
    to ``site``'s own pages when the page shown is about one."""
    return [
        Link(p.label, _href(p, site), any(_under(here, x) for x in (p.path, *p.also)))
        for p in pages
        if p.roles is None or role in p.roles
    ]
