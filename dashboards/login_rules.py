"""Where a person goes after logging in: pure rules, no I/O."""

from __future__ import annotations

from urllib.parse import urlsplit

# The page each role starts on when the login did not come from another page.
LANDING: dict[str, str] = {
    "operator": "/floor",
    "trainee": "/floor",
    "admin": "/floor",
    "chief_operator": "/chief",
    "regulator": "/regulator",
}
FALLBACK = "/trends"


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None (no open redirect to elsewhere).

    A path starts with one ``/``; ``//host`` and ``/\\host`` are other sites to a browser,
    and a scheme or host is never accepted. The login page itself is not a target.
    """
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    if any(c in target for c in "\\\r\n\t") or any(ord(c) < 32 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    if parts.path in ("/login", "/landing"):
        return None
    return target


def landing_for(role: str, target: str | None = None) -> str:
    """The page to open after login: the page the person came from, else their role's."""
    return safe_next(target) or LANDING.get(role, FALLBACK)
