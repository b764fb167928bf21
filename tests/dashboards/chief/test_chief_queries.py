"""The chief page's review queries on a real database: trainee entries awaiting a
countersignature, with their shift and whether the viewer may countersign."""

from __future__ import annotations

import psycopg

from dashboards.chief.queries import awaiting_countersignature
from tests.dashboards.helpers import make_site
from tests.dashboards.scenario import SITE, api_caller, make_gap
from tests.support.api import Api


async def test_awaiting_countersignature_knows_who_is_on_duty(api: Api) -> None:
    ids = {u: await api.id(u) for u in ("chief", "operator", "trainee", "admin")}
    s = await make_gap(api_caller(api), ids)
    async with await psycopg.AsyncConnection.connect(api.db_url) as conn:
        cur = await conn.execute("SELECT id FROM sites WHERE code = %s", (SITE,))
        row = await cur.fetchone()
        assert row
        site_id = row[0]
        on_duty = {}
        for who in ("chief", "operator", "trainee", "admin"):
            got = await awaiting_countersignature(conn, site_id, ids[who])
            assert [e["id"] for e in got] == [s.trainee_entry]
            assert got[0]["shift_id"] == s.shift_id
            assert got[0]["shift"] == {"label": "day", "signed": False}
            on_duty[who] = got[0]["viewer_on_duty"]
        # Crew of the shift, not as trainee: the chief (DRC) and the operator.
        assert on_duty == {"chief": True, "operator": True, "trainee": False, "admin": False}
    with psycopg.connect(api.db_url, autocommit=True) as sync:
        elsewhere = make_site(sync, "elsewhere")
    async with await psycopg.AsyncConnection.connect(api.db_url) as conn:
        assert await awaiting_countersignature(conn, elsewhere, ids["chief"]) == []
