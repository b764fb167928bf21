"""Log entries on a trend's time axis: the shaping (pure) and the endpoint (real database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from dashboards.trends.view import marks
from tests.dashboards.helpers import make_site, make_tag
from tests.dashboards.scenario import SITE, ago, api_caller, make_gap
from tests.support.api import Api

T0 = datetime(2026, 3, 3, 12, tzinfo=UTC)


def entry(ident: int, minutes: float, kind: str = "note", **over: Any) -> dict[str, Any]:
    base = {
        "id": ident,
        "occurred_at": T0 + timedelta(minutes=minutes),
        "kind": kind,
        "data": {"text": f"entry {ident}"},
        "recorded_by": 1,
        "operational": False,
        "amended": False,
    }
    return base | over


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        pytest.param(
            [entry(2, 30), entry(1, 30), entry(3, -1), entry(4, 60)],
            [(1, False), (2, False)],
            id="in the window only (end excluded), ordered by time then id",
        ),
        pytest.param(
            [
                entry(5, 10, "reading", data={"tag_id": 7, "value": 2.0, "unit": "mg/L"}),
                entry(6, 20, "reading", data={"tag_id": 8, "value": 2.0, "unit": "mg/L"}),
            ],
            [(5, True), (6, False)],
            id="a reading of this tag is related; another tag's is not",
        ),
    ],
)
def test_marks_in_the_window(entries, expected):
    got = marks(entries, {7}, {1: "Ana"}, T0, T0 + timedelta(hours=1))
    assert [(m["id"], m["related"]) for m in got] == expected
    for m in got:
        assert m["by"] == "Ana"
        assert m["t"] == next(e for e in entries if e["id"] == m["id"])["occurred_at"].timestamp()


def test_mark_text():
    data = {"chemical": "NaOCl", "amount": 15, "unit": "gal", "feed_point": "CCT"}
    e = entry(9, 5, "chemical_addition", operational=True, amended=True, recorded_by=4, data=data)
    (m,) = marks([e], {7}, {}, T0, T0 + timedelta(hours=1))
    assert m["label"] == "Chemical addition"
    assert m["summary"] == "Chemical: NaOCl; Amount: 15 gal; Feed point: CCT"
    assert m["by"] == "person 4"
    assert m["operational"] and m["amended"]


async def test_the_endpoint_gives_the_tag_sites_entries(api: Api) -> None:
    ids = {u: await api.id(u) for u in ("chief", "operator", "trainee", "admin")}
    s = await make_gap(api_caller(api), ids)
    with psycopg.connect(api.db_url, autocommit=True) as conn:
        site_id = conn.execute("SELECT id FROM sites WHERE code = %s", (SITE,)).fetchone()
        assert site_id
        tag = make_tag(conn, site_id[0], "Cl2.Residual")
        other = make_tag(conn, make_site(conn, "elsewhere"), "Level")
    # From the shift's opening: near local midnight the scenario backdates it by hours.
    start, end = s.opened, ago(seconds=-60)
    r = await api.get(
        "operator", "/api/trends/entries", tag=tag, start=start.isoformat(), end=end.isoformat()
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["tag"] == {"id": tag, "name": "Cl2.Residual", "site": SITE}
    got = {m["id"]: m for m in body["entries"]}
    assert set(got) == {s.trainee_entry, s.amended_entry}
    # The amendment is applied: the marker shows the corrected amount.
    assert "Amount: 15 gal" in got[s.amended_entry]["summary"]
    assert got[s.amended_entry]["amended"] and got[s.amended_entry]["by"] == "Oli Operator (demo)"
    assert body["truncated"] is False

    # Another site's tag has none of them (the admin asks: the operator belongs to the demo
    # site only, issue 17); a window before the entries has none either.
    r = await api.get("admin", "/api/trends/entries", tag=other, start=start.isoformat())
    assert r.status_code == 200 and r.json()["entries"] == []
    r = await api.get(
        "operator",
        "/api/trends/entries",
        tag=tag,
        start=ago(hours=30).isoformat(),
        end=ago(hours=20).isoformat(),
    )
    assert r.json()["entries"] == []


async def test_the_endpoint_names_bad_input(api: Api) -> None:
    await api.login("operator")
    r = await api.get("operator", "/api/trends/entries", tag=999999)
    assert r.status_code == 404 and "no tag 999999" in r.json()["detail"]
    r = await api.get(
        "operator",
        "/api/trends/entries",
        tag=1,
        start="2026-03-01T00:00:00",
        end="2026-03-02T00:00:00Z",
    )
    assert r.status_code == 422
    # FastAPI's shape, as every 422 of the API: where, then what.
    assert [(d["loc"], d["type"]) for d in r.json()["detail"]] == [
        (["query", "start"], "value_error")
    ]
    assert "has no time zone" in r.json()["detail"][0]["msg"]
    r = await api.get(
        "operator",
        "/api/trends/entries",
        tag=1,
        start="2026-01-01T00:00:00Z",
        end="2026-06-01T00:00:00Z",
    )
    assert r.status_code == 422
    ((problem,),) = [r.json()["detail"]]
    assert problem["loc"] == ["query", "end"] and "at most 62 days" in problem["msg"]
    api.client.cookies.clear()
    r = await api.client.get("/api/trends/entries?tag=1")
    assert r.status_code == 401
