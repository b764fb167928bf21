"""Where a person goes after logging in, and how the login page asks: pure rules, no I/O."""

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


def landing_for(role: str, target: str | None = None, method: str = "password") -> str:
    """The page to open after login: the page the person came from, else their role's; a
    PIN session, opened on a floor terminal, stays on the floor whatever the role."""
    if method == "pin":
        return safe_next(target) or "/floor"
    return safe_next(target) or LANDING.get(role, FALLBACK)


def floor_site_of(target: str | None) -> str | None:
    """The site code of a floor terminal page (``/floor/CODE…``)."""
    if target and target.startswith("/floor/"):
        return target[len("/floor/") :].split("/")[0].split("?")[0] or None
    return None


def pin_choice(
    target: str | None, terminal_site: str | None, pin_sites: list[str]
) -> tuple[bool, str | None]:
    """(PIN first?, the site to preselect) for the login page. A floor terminal logs in
    with a PIN where its site allows it: the page asked for is a floor page, or this
    browser was last a floor terminal (its ``terminal_site``). The site preselected is
    the one the page names, else the terminal's, else the only one allowing PINs."""
    if not pin_sites:
        return False, None
    named = floor_site_of(target)
    floor = (target or "").split("?")[0] in ("/floor", "/floor/") or named is not None
    for candidate in (named, terminal_site, pin_sites[0] if len(pin_sites) == 1 else None):
        if candidate in pin_sites:
            return floor or candidate == terminal_site, candidate
    return floor, None
