"""The login page and the landing redirect, through the app on a real database, at the
floor's plant (a site that allows PINs, a person of every role)."""

from __future__ import annotations

import pytest

from tests.dashboards.floor.plant import SITE, Plant, make_plant
from tests.dashboards.helpers import app_client
from tests.dashboards.people import log_in


@pytest.fixture
async def plant(db_url: str) -> Plant:
    return await make_plant(db_url)


async def test_login_page_offers_pin_at_a_site_that_allows_it(plant):
    async with app_client(plant.db_url) as c:
        page = await c.get("/login", params={"next": "/floor/plant1"})
        evil = await c.get("/login", params={"next": "//evil.example/"})
        locked = await c.get("/login", params={"locked": "1"})
    assert page.status_code == 200
    assert 'id="pin-form"' in page.text and f'<option value="{SITE}" selected>' in page.text
    assert 'data-next="/floor/plant1"' in page.text
    assert 'data-next=""' in evil.text
    assert "Locked after inactivity" in locked.text
    assert page.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("who", "next_", "where"),
    [
        ("oli", None, "/floor"),
        ("tess", None, "/floor"),
        ("ada", None, "/floor"),
        ("casey", None, "/chief"),
        ("reggie", None, "/regulator"),
        ("oli", "/trends?site=plant1", "/trends?site=plant1"),
        ("oli", "https://evil.example/", "/floor"),
    ],
)
async def test_landing_after_login_by_role(plant, who, next_, where):
    async with app_client(plant.db_url) as c:
        await log_in(c, who)
        r = await c.get("/landing", params={"next": next_} if next_ else {})
    assert (r.status_code, r.headers["location"]) == (303, where)
