"""What the web app believes of a request and adds to its answers (issue 17, item 9):
forwarded headers only from trusted proxies, writes from other sites refused, pages with
a Content-Security-Policy and no framing, cookies Secure over HTTPS."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import psycopg
import pytest

from clearwell.app import create_app
from clearwell.http_guard import cross_site_write, forwarded_client, same_origin
from clearwell.settings import load_settings
from tests.support.api import PASSWORDS, Api

PROXY = "10.0.0.1"
NETS = (ipaddress.ip_network("10.0.0.0/30"),)


def test_forwarded_for_is_believed_only_from_a_trusted_proxy() -> None:
    assert forwarded_client("203.0.113.9", "198.51.100.7", NETS) == "203.0.113.9"
    assert forwarded_client("203.0.113.9", "198.51.100.7", ()) == "203.0.113.9"
    assert forwarded_client(PROXY, "198.51.100.7", NETS) == "198.51.100.7"
    # The nearest hop not itself a proxy: a client cannot prepend an address it forges.
    assert forwarded_client(PROXY, "1.2.3.4, 198.51.100.7, 10.0.0.2", NETS) == "198.51.100.7"
    assert forwarded_client(PROXY, None, NETS) == PROXY
    assert forwarded_client(None, "1.2.3.4", NETS) == "unknown"


@pytest.mark.parametrize(
    ("method", "origin", "fetch_site", "refused"),
    [
        ("POST", "https://evil.example", None, True),
        ("POST", "null", None, True),
        ("DELETE", "http://plant.local:8000", None, True),  # another port, another origin
        ("POST", None, "cross-site", True),
        ("POST", None, "same-site", True),
        ("POST", "https://plant.local:8000", None, False),
        ("POST", None, "same-origin", False),
        ("POST", None, None, False),  # a script, not a browser page another site runs
        ("GET", "https://evil.example", "cross-site", False),
    ],
)
def test_writes_from_other_sites(
    method: str, origin: str | None, fetch_site: str | None, refused: bool
) -> None:
    why = cross_site_write(method, origin, fetch_site, "https", "plant.local:8000")
    assert (why is not None) == refused


def test_same_origin_is_scheme_host_and_port() -> None:
    assert same_origin("https://plant.local:8000", "https", "plant.local:8000")
    assert not same_origin("http://plant.local:8000", "https", "plant.local:8000")
    assert not same_origin("https://plant.local:8000/x", "https", "plant.local:8000")
    assert not same_origin("https://plant.local", "https", "plant.local:8000")


@asynccontextmanager
async def client(api: Api, peer: str, **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app (on the ``api`` fixture's database) arriving from ``peer``."""
    app = create_app(load_settings(database_url=api.db_url, data_dir=api.data_dir, **settings))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=(peer, 4321))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            yield c


LOGIN = {"username": "operator", "password": PASSWORDS["operator"]}


async def test_a_json_write_from_another_site_is_refused(api: Api) -> None:
    """``Origin`` was not checked on JSON writes."""
    headers = await api.headers("operator")
    r = await api.client.post(
        "/api/entries", json={}, headers={**headers, "Origin": "https://evil.example"}
    )
    assert r.status_code == 403 and "another site" in r.json()["detail"]
    r = await api.client.post(
        "/api/auth/login", json=LOGIN, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert r.status_code == 403
    r = await api.client.post("/api/auth/login", json=LOGIN, headers={"Origin": "http://test"})
    assert r.status_code == 200


async def test_pages_carry_a_content_security_policy_and_refuse_framing(api: Api) -> None:
    """Pages sent no CSP or frame options."""
    r = await api.client.get("/login")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    policy = r.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-eval" not in policy
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    # No page runs an inline handler the policy would block.
    assert " onchange=" not in r.text and " onclick=" not in r.text
    r = await api.client.get("/healthz")
    assert "content-security-policy" not in r.headers
    assert r.headers["x-content-type-options"] == "nosniff"


async def test_the_cookie_is_secure_over_https(api: Api) -> None:
    """Cookies had no Secure option: ``auto`` marks them when the request came over HTTPS
    (as a trusted proxy says), ``true`` always."""
    https = {"X-Forwarded-Proto": "https"}

    def secure(r: httpx.Response) -> bool:
        assert r.status_code == 200, r.text
        return "secure" in r.headers["set-cookie"].lower().split("; ")

    async with client(api, "203.0.113.9") as c:
        assert not secure(await c.post("/api/auth/login", json=LOGIN))
        assert not secure(await c.post("/api/auth/login", json=LOGIN, headers=https))
    async with client(api, PROXY, trusted_proxies=f"{PROXY}/32") as c:
        assert secure(await c.post("/api/auth/login", json=LOGIN, headers=https))
    async with client(api, "203.0.113.9", cookie_secure="true") as c:
        assert secure(await c.post("/api/auth/login", json=LOGIN))


async def test_forwarded_for_from_a_client_forges_no_address(api: Api) -> None:
    """``X-Forwarded-For`` from any client was believed: it forged the audit's client
    address and dodged the per-address limit."""
    forged = {"X-Forwarded-For": "198.51.100.7"}
    async with client(api, "203.0.113.9") as c:
        assert (await c.post("/api/auth/login", json=LOGIN, headers=forged)).status_code == 200
    async with client(api, PROXY, trusted_proxies=f"{PROXY}/32") as c:
        assert (await c.post("/api/auth/login", json=LOGIN, headers=forged)).status_code == 200
    with psycopg.connect(api.db_url) as conn:
        clients = conn.execute("SELECT client FROM login_attempts ORDER BY id").fetchall()
        audited = conn.execute(
            "SELECT detail->>'client' FROM audit_log WHERE action = 'auth.login' ORDER BY seq"
        ).fetchall()
    assert clients == audited == [("203.0.113.9",), ("198.51.100.7",)]
