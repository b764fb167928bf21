import httpx
import pytest

from clearwell.app import create_app
from clearwell.settings import load_settings
from tests.support.pg_cluster import free_port


async def _get(url: str, path: str) -> httpx.Response:
    app = create_app(load_settings(database_url=url))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get(path)


async def test_healthz_reports_timescaledb_version_and_license(db_url):
    response = await _get(db_url, "/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok"
    assert body["timescaledb"].startswith("2.")
    assert body["license"] in {"apache", "timescale"}


async def test_healthz_is_503_when_the_database_is_down():
    response = await _get(f"postgresql://u:p@127.0.0.1:{free_port()}/x", "/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


@pytest.mark.parametrize("path", ["/openapi.json"])
async def test_openapi_document_is_served(db_url, path):
    response = await _get(db_url, path)
    assert response.status_code == 200
    assert "/healthz" in response.json()["paths"]
