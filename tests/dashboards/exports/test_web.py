"""Downloads at /exports/{site}/{month}/{kind} and the exports page, through the app."""

from __future__ import annotations

import csv
import io

import httpx
import psycopg
import pytest

from clearwell.app import create_app
from clearwell.settings import load_settings
from clearwell.signing_key import trusted_keys
from dashboards.exports import bundle
from logbook.demo import DEMO_USERS
from tests.dashboards.exports import month as m

PASSWORDS = {u[0]: u[3] for u in DEMO_USERS}
DMR = f"/exports/{m.SITE}/{m.MONTH}/dmr.csv"


@pytest.fixture
async def client(data):
    url, data_dir, _ = data
    app = create_app(load_settings(database_url=url, data_dir=data_dir))
    app.state.rollup_refresh_interval_s = None
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            yield c


async def login(client: httpx.AsyncClient, username: str) -> None:
    r = await client.post(
        "/api/auth/login", json={"username": username, "password": PASSWORDS[username]}
    )
    assert r.status_code == 200, r.text


def audit_rows(url: str, action: str) -> list[tuple[str, dict]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT actor, detail FROM audit_log WHERE action = %s ORDER BY seq", (action,)
        ).fetchall()
    return [(r[0], r[1]) for r in rows]


async def test_the_regulator_downloads_the_dmr_and_it_is_audited(client, data):
    url, _, _ = data
    before = len(audit_rows(url, "export.web"))
    await login(client, "regulator")
    r = await client.get(DMR)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    name = f"{m.SITE}-dmr-{m.MONTH}.csv"
    assert r.headers["content-disposition"] == f'attachment; filename="{name}"'
    table = list(csv.DictReader(io.StringIO(r.text)))
    tss = next(t for t in table if t["statistical_base"] == "30DA AVG")
    assert float(tss["value"]) == pytest.approx(m.TSS_MONTHLY_AVG)
    rows = audit_rows(url, "export.web")
    assert len(rows) == before + 1
    actor, detail = rows[-1]
    assert actor == "regulator"
    assert detail["kinds"] == ["dmr.csv"] and name in detail["files"]


async def test_a_bundle_downloaded_by_the_chief_verifies(client, data):
    _, data_dir, _ = data
    await login(client, "chief")
    r = await client.get(f"/exports/{m.SITE}/{m.MONTH}/bundle.zip")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    # Against the site key the web app signed with, as a regulator who registered it.
    result = bundle.verify(r.content, [k for _, k in trusted_keys(data_dir)])
    assert result.ok, result.problems
    assert len(result.checked) == 6
    assert result.manifest["exported_by"] == "chief (Casey Chief (demo))"


async def test_an_operators_download_is_refused_and_audited(client, data):
    url, _, _ = data
    before = len(audit_rows(url, "forbidden"))
    await login(client, "operator")
    r = await client.get(DMR)
    assert r.status_code == 403
    refused = audit_rows(url, "forbidden")
    assert len(refused) == before + 1 and refused[-1][0] == "operator"
    assert refused[-1][1]["path"] == DMR
    assert (await client.get("/exports")).status_code == 403


async def test_without_a_session_the_browser_goes_to_the_login_page(client):
    r = await client.get(DMR)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login?next=")


async def test_bad_kinds_months_and_sites_are_named(client):
    await login(client, "regulator")
    r = await client.get(f"/exports/{m.SITE}/{m.MONTH}/mor.docx")
    assert r.status_code == 404 and "mor.docx" in r.json()["detail"]
    r = await client.get(f"/exports/{m.SITE}/2025-13/mor.csv")
    assert r.status_code == 422 and "2025-13" in r.json()["detail"]
    r = await client.get(f"/exports/nowhere/{m.MONTH}/mor.csv")
    assert r.status_code == 404 and "nowhere" in r.json()["detail"]


async def test_the_exports_page_offers_every_download(client):
    await login(client, "regulator")
    r = await client.get("/exports", params={"site": m.SITE, "month": m.MONTH})
    assert r.status_code == 200
    for kind in ("mor.pdf", "mor.csv", "dmr.csv", "logbook.csv", "lab.csv", "logbook.json"):
        assert f'href="/exports/{m.SITE}/{m.MONTH}/{kind}"' in r.text
    assert 'value="2025-11"' in r.text and "Clearwell Demo WWTP" in r.text
