"""What the web app believes of a request, and what it adds to every answer.

- **Proxies**: ``X-Forwarded-For``, ``-Proto`` and ``-Host`` are believed only from the
  addresses ``CLEARWELL_TRUSTED_PROXIES`` names (uvicorn's own handling is off:
  ``clearwell.cli``), so a client cannot forge the address the audit records and the
  login limits count, nor pass as HTTPS.
- **Writes from other sites**: a POST, PUT, PATCH or DELETE whose ``Origin`` (or, without
  one, ``Sec-Fetch-Site``) says it comes from another site is refused (403) before any
  route sees it; a client that sends neither (a script, not a browser) is not a page
  another site controls. With the SameSite=Strict session cookie, this is the CSRF check
  for the JSON API as for the login.
- **Pages**: every HTML answer carries a Content-Security-Policy that runs scripts from
  this site only (``/static``: no inline script or handler), no framing
  (``frame-ancestors 'none'`` and ``X-Frame-Options: DENY``), and every answer ``nosniff``
  and a same-origin referrer.
- **Cookies**: :func:`cookie_secure` says whether to mark a cookie ``Secure``
  (``CLEARWELL_COOKIE_SECURE``: ``auto`` when the request came over HTTPS).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clearwell.jsontext import dumps

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# FastAPI's own documentation pages load Swagger UI and ReDoc from a CDN with inline
# scripts: they are not framed either, but keep their own scripts.
DOC_PATHS = ("/docs", "/redoc")
# Inline styles are allowed: the pages position bars with style attributes computed on
# the server (the coverage timeline), and a style runs no script; what is typed is
# escaped in every page all the same.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline';"
    " img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none';"
    " base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
ALWAYS = ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin"))
FRAMING = ((b"x-frame-options", b"DENY"),)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _trusted(peer: str | None, proxies: Sequence[Network]) -> bool:
    if not peer or not proxies:
        return False
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    return any(address in net for net in proxies)


def forwarded_client(
    peer: str | None, forwarded_for: str | None, proxies: Sequence[Network]
) -> str:
    """The client's address: the peer's, unless the peer is a trusted proxy; then the
    nearest address in ``X-Forwarded-For`` that is not itself a trusted proxy."""
    if not _trusted(peer, proxies) or not forwarded_for:
        return peer or "unknown"
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, proxies):
            return hop
    return hops[0] if hops else peer or "unknown"


def _proxies(request: Request) -> Sequence[Network]:
    settings = getattr(request.app.state, "settings", None)
    return tuple(getattr(settings, "trusted_proxies", ()))


def _peer(request: Request) -> str | None:
    return request.client.host if request.client else None


def client_address(request: Request) -> str:
    """The address the audit records and the login limits count."""
    return forwarded_client(
        _peer(request), request.headers.get("x-forwarded-for"), _proxies(request)
    )


def _forwarded(headers: Any, name: str, peer: str | None, proxies: Sequence[Network]) -> str:
    if not _trusted(peer, proxies):
        return ""
    return str(headers.get(name, "")).split(",")[0].strip().lower()


def request_scheme(request: Request) -> str:
    """``https`` or ``http``, as the client spoke to us (a trusted proxy may say)."""
    told = _forwarded(request.headers, "x-forwarded-proto", _peer(request), _proxies(request))
    return told if told in ("http", "https") else request.url.scheme


def cookie_secure(request: Request) -> bool:
    """Whether a cookie set in answer to ``request`` is marked Secure."""
    setting = getattr(request.app.state.settings, "cookie_secure", "auto")
    if setting == "auto":
        return request_scheme(request) == "https"
    return setting == "true"


def same_origin(origin: str, scheme: str, host: str) -> bool:
    """Whether an ``Origin`` header names this site (``scheme://host[:port]``)."""
    parts = urlsplit(origin.strip())
    return (
        bool(parts.scheme and parts.netloc)
        and parts.scheme.lower() == scheme.lower()
        and parts.netloc.lower() == host.lower()
        and not parts.path.strip("/")
    )


def cross_site_write(
    method: str, origin: str | None, fetch_site: str | None, scheme: str, host: str
) -> str | None:
    """Why a request is a write from another site, or None."""
    if method.upper() not in UNSAFE_METHODS:
        return None
    if origin is not None:
        if origin.strip() == "null" or not same_origin(origin, scheme, host):
            return f"a write from another site (Origin {origin.strip()[:100]}) is refused"
        return None
    if fetch_site is not None and fetch_site.lower() not in ("same-origin", "none"):
        return f"a write from another site (Sec-Fetch-Site {fetch_site[:40]}) is refused"
    return None


class HttpGuard:
    """The ASGI middleware that refuses writes from other sites and adds the headers."""

    def __init__(self, app: ASGIApp, proxies: Sequence[Network] = ()) -> None:
        self.app = app
        self.proxies = tuple(proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        peer = scope["client"][0] if scope.get("client") else None
        scheme = _forwarded(headers, "x-forwarded-proto", peer, self.proxies) or scope["scheme"]
        host = _forwarded(headers, "x-forwarded-host", peer, self.proxies) or headers.get(
            "host", ""
        )
        why = cross_site_write(
            scope["method"], headers.get("origin"), headers.get("sec-fetch-site"), scheme, host
        )
        if why is not None:
            await _refuse(send, why)
            return
        path = scope.get("path", "")
        docs = path.startswith(DOC_PATHS)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = list(ALWAYS)
                kind = dict(message.get("headers", [])).get(b"content-type", b"")
                if kind.startswith(b"text/html"):
                    extra += FRAMING
                    if docs:
                        extra.append((b"content-security-policy", b"frame-ancestors 'none'"))
                    else:
                        extra.append((b"content-security-policy", CSP.encode()))
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        if scheme != scope["scheme"] and scheme in ("http", "https"):
            # Behind a trusted TLS proxy the app builds its own URLs (redirects) with the
            # scheme the browser used; uvicorn's proxy headers are off (clearwell.cli).
            scope = dict(scope, scheme=scheme)
        await self.app(scope, receive, send_with_headers)


async def _refuse(send: Send, why: str) -> None:
    body = dumps({"detail": why}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *ALWAYS,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
