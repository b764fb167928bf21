"""The trend, tag and latest-reading endpoints, and the pages, against a real database."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx
import psycopg
import pytest

from dashboards.trends import routes
from dashboards.trends.rollups import refresh_all
from tests.dashboards.helpers import (
    BAD_COMM,
    T0,
    app_client,
    copy_rows,
    make_site,
    make_tag,
    wave,
    write_batch,
)
from tests.dashboards.people import add_person, log_in
from tests.support.database import owner_of


@asynccontextmanager
async def client(
    db_url: str, refresh_s: float | None = None, login: bool = True
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app on ``db_url``, logged in as an operator unless ``login`` is False."""
    async with app_client(db_url, refresh_s) as c:
        if login:
            await add_person(db_url, "reader")
            await log_in(c, "reader")
        yield c


async def refresh(db_url: str) -> None:
    async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as conn:
        await refresh_all(conn)


SAMPLING = "INSERT INTO tag_sampling (tag_id, expected_interval_s) VALUES (%s, %s)"


def sampling(db_url: str, tag: int, interval_s: float) -> None:
    """A tag's expected interval: configuration the app only reads, set by the owner."""
    with psycopg.connect(owner_of(db_url)) as conn:
        conn.execute(SAMPLING, (tag, interval_s))


GAP_FROM = T0 + timedelta(hours=30)
GAP_TO = T0 + timedelta(hours=30, minutes=30)
BAD_AT = T0 + timedelta(hours=40)
BACK_AT = T0 + timedelta(hours=40, minutes=10)


@pytest.fixture
def plant(db_url):
    """Three days of a 10 s tag with a 30 min hole and a 10 min link loss, rolled up."""
    with psycopg.connect(db_url) as conn:
        site = make_site(conn, "plant1")
        tag = make_tag(conn, site, "DO.Basin1", description="Dissolved oxygen, basin 1")
        make_tag(conn, site, "Flow.Influent", unit="MGD")
        conn.commit()
        sampling(db_url, tag, 10)
        rows = [
            r
            for r in wave(tag, T0, 3 * 86400, step_s=10)
            if not (GAP_FROM <= r[0] < GAP_TO) and not (BAD_AT <= r[0] < BACK_AT)
        ]
        rows.append((BAD_AT, tag, None, BAD_COMM))
        for i in range(0, len(rows), 5000):
            write_batch(conn, sorted(rows, key=lambda r: r[0])[i : i + 5000])
    asyncio.run(refresh(db_url))
    return {"url": db_url, "tag": tag, "rows": rows}


def iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


async def get_trend(db_url, **params):
    async with client(db_url) as c:
        return await c.get("/api/trends", params=params)


def direct_avgs(db_url: str, tag: int, width: str, start: datetime, end: datetime) -> dict:
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            """SELECT extract(epoch FROM time_bucket(%s::interval, time))::bigint, avg(value),
                      min(value), max(value)
               FROM readings WHERE tag_id = %s AND time >= %s AND time < %s AND status = 0
                 AND value IS NOT NULL
               GROUP BY 1 ORDER BY 1""",
            (width, tag, start, end),
        ).fetchall()
    return {r[0]: r[1:] for r in rows}


@pytest.mark.parametrize(
    ("period", "points", "source", "bucket_s", "width"),
    [
        (timedelta(days=3), 60, "1h", 7200, "2 hours"),
        (timedelta(hours=6), 100, "1m", 300, "5 minutes"),
        (timedelta(minutes=10), 600, "raw", 1, "1 second"),
    ],
)
async def test_trend_from_the_coarsest_table_matches_the_readings(
    plant, period, points, source, bucket_s, width
):
    start = T0 + timedelta(hours=12)
    end = start + period
    response = await get_trend(
        plant["url"], tag=str(plant["tag"]), start=iso(start), end=iso(end), points=points
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["source"], body["bucket_s"]) == (source, bucket_s)
    assert body["tag"]["name"] == "DO.Basin1" and body["tag"]["unit"] == "mg/L"
    assert len(body["t"]) == len(body["min"]) == len(body["max"]) == len(body["avg"]) <= points
    assert body["t"][0] == start.timestamp() and body["t"][-1] == end.timestamp() - bucket_s
    direct = direct_avgs(plant["url"], plant["tag"], width, start, end)
    assert direct and set(direct) <= set(body["t"]), "every bucket with readings is compared"
    for t, lo, hi, avg in zip(body["t"], body["min"], body["max"], body["avg"], strict=True):
        if t in direct:
            assert avg == pytest.approx(direct[t][0], rel=1e-12)
            assert (lo, hi) == (direct[t][1], direct[t][2])
        elif source == "raw":
            # 1 s buckets of a 10 s tag: empty ones hold the last value (stored by exception).
            assert avg is not None
        else:
            assert avg is None


async def test_trend_marks_the_gap_and_the_bad_spell_and_does_not_fill_them(plant):
    start, end = T0, T0 + timedelta(days=3)
    response = await get_trend(
        plant["url"], tag="DO.Basin1", site="plant1", start=iso(start), end=iso(end), points=1000
    )
    body = response.json()
    assert (body["source"], body["bucket_s"]) == ("1m", 300)
    gap_from, gap_to = GAP_FROM.timestamp(), GAP_TO.timestamp()
    # The gap runs from the last sample before the hole to the first after it.
    assert body["gaps"] == [[gap_from - 10, gap_to]]
    # The bad spell: the bucket of the bad sample, then the silence until the link is back.
    assert body["bad"] == [[BAD_AT.timestamp(), BACK_AT.timestamp()]]
    by_t = dict(zip(body["t"], body["avg"], strict=True))
    for t in range(int(gap_from), int(gap_to), 300):
        assert by_t[t] is None
    for t in range(int(BAD_AT.timestamp()), int(BACK_AT.timestamp()), 300):
        assert by_t[t] is None
    assert by_t[int(gap_to)] is not None


async def test_trend_before_any_data_is_one_gap(plant):
    start = T0 - timedelta(hours=2)
    response = await get_trend(
        plant["url"], tag=str(plant["tag"]), start=iso(start), end=iso(T0 + timedelta(hours=1))
    )
    body = response.json()
    assert body["gaps"] == [[start.timestamp(), T0.timestamp()]]
    assert all(v is None for t, v in zip(body["t"], body["avg"], strict=True) if t < T0.timestamp())


async def test_a_30_day_trend_stays_small(plant):
    end = T0 + timedelta(days=3)
    response = await get_trend(
        plant["url"], tag=str(plant["tag"]), start=iso(end - timedelta(days=30)), end=iso(end),
        points=1920,
    )  # fmt: skip
    assert response.status_code == 200
    assert response.json()["source"] == "1m"
    assert len(response.content) < 500_000


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"tag": "999"}, 404, "no tag '999'"),
        ({"tag": "Nope", "site": "plant1"}, 404, "no tag 'Nope' at site 'plant1'"),
        ({"tag": "DO.Basin1"}, 422, "give a tag id, or a tag name with site="),
        ({"tag": "1", "start": "2026-03-01T00:00:00"}, 422, "has no time zone"),
        ({"tag": "1", "start": "yesterday"}, 422, "not an ISO 8601 time"),
        ({"tag": "1", "start": "2026-03-02T00:00Z", "end": "2026-03-01T00:00Z"}, 422,
         "must be after"),
        ({"tag": "1", "points": "5"}, 422, "points: Input should be greater than or equal to 60"),
        ({"tag": ["1"] * 9}, 422, "tag: at most 8 tags at once, got 9"),
        ({"tag": ["1", "X1"], "site": "plant1"}, 404, "no tag '1' at site 'plant1'"),
        ({"tag": ["1", "01"]}, 422, "tag: tag '01' is asked for twice"),
        ({"tag": "³"}, 422, "tag: tag '³': give a tag id, or a tag name with site="),
        ({"tag": "99999999999"}, 422, "give a tag id"),
        ({"tag": "-5"}, 422, "give a tag id"),
        ({"tag": "1", "resolution": "raw"}, 422, "resolution: raw readings come as CSV only"),
        ({"tag": "1", "format": "xml"}, 422, "format: Input should be 'json' or 'csv'"),
        ({"tag": "1", "start": "0001-01-01T00:00+14:00"}, 422, "start: "),
        ({"tag": "1", "start": "2020-01-01T00:00Z", "end": "2026-01-01T00:00Z"}, 422,
         "end: the period is longer than 400 days"),
    ],
)  # fmt: skip
async def test_trend_refuses_bad_requests_with_a_reason(db_url, params, status, message):
    with psycopg.connect(db_url) as conn:
        make_tag(conn, make_site(conn, "plant1"), "X1")
    response = await get_trend(db_url, **params)
    assert response.status_code == status
    detail = response.json()["detail"]
    if status == 422:  # FastAPI's own shape, whoever refuses: where, then what
        assert isinstance(detail, list) and all(d["loc"][0] == "query" for d in detail)
        detail = "; ".join(f"{d['loc'][-1]}: {d['msg']}" for d in detail)
    assert message in detail


async def test_several_tags_answer_a_series_each_on_one_grid(plant):
    start, end = T0 + timedelta(hours=20), T0 + timedelta(hours=50)
    common = {"site": "plant1", "start": iso(start), "end": iso(end), "points": 200}
    async with client(plant["url"]) as c:
        both = (
            await c.get("/api/trends", params={**common, "tag": ["DO.Basin1", "Flow.Influent"]})
        ).json()
        one = (await c.get("/api/trends", params={**common, "tag": "DO.Basin1"})).json()
        by_id = await c.get(
            "/api/trends",
            params={**{k: v for k, v in common.items() if k != "site"}, "tag": [str(plant["tag"])]},
        )
    assert by_id.json() == one
    # One tag: the answer as it always was, and its series too.
    assert set(one) == {"tag", "start", "end", "source", "bucket_s", "t", "min", "max", "avg",
                        "gaps", "bad", "series"}  # fmt: skip
    (single,) = one["series"]
    assert single["tag"] == one["tag"]
    assert {k: single[k] for k in ("min", "max", "avg", "gaps", "bad")} == {
        k: one[k] for k in ("min", "max", "avg", "gaps", "bad")
    }
    # Several: a series each, in the order asked, on the one grid.
    assert set(both) == {"start", "end", "source", "bucket_s", "t", "series"}
    assert (both["t"], both["bucket_s"], both["source"]) == (one["t"], 600, "1m")
    do, flow = both["series"]
    assert do == single
    assert flow["tag"]["name"] == "Flow.Influent" and flow["tag"]["unit"] == "MGD"
    assert set(flow["avg"]) == {None} and flow["gaps"] == [[start.timestamp(), end.timestamp()]]
    assert flow["summary"] == {"min": None, "max": None, "avg": None, "n_good": 0, "n_bad": 0}
    # The summary is the tag over the buckets, from the readings themselves.
    good = [v for t, _, v, st in plant["rows"] if start <= t < end and st == 0 and v is not None]
    bad = [t for t, _, v, st in plant["rows"] if start <= t < end and st != 0]
    assert do["summary"]["n_good"] == len(good) and do["summary"]["n_bad"] == len(bad) == 1
    assert (do["summary"]["min"], do["summary"]["max"]) == (min(good), max(good))
    assert do["summary"]["avg"] == pytest.approx(sum(good) / len(good), rel=1e-12)


def parse_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


async def test_the_buckets_as_csv_match_the_readings(plant):
    start, end = T0 + timedelta(hours=29), T0 + timedelta(hours=32)
    params = {"site": "plant1", "tag": ["DO.Basin1", "Flow.Influent"], "start": iso(start),
              "end": iso(end), "points": 60, "format": "csv"}  # fmt: skip
    async with client(plant["url"]) as c:
        r = await c.get("/api/trends", params=params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.headers["content-disposition"] == (
        'attachment; filename="trend-plant1-20260302T0500-20260302T0800.csv"'
    )
    head, *rows = parse_csv(r.text)
    assert head == ["time (UTC)", "time (UTC)",
                    "DO.Basin1 min (mg/L)", "DO.Basin1 avg (mg/L)", "DO.Basin1 max (mg/L)",
                    "Flow.Influent min (MGD)", "Flow.Influent avg (MGD)",
                    "Flow.Influent max (MGD)"]  # fmt: skip
    # Three hours in 5 min buckets (the round step at least 3 h / 60 wide), the hole among them.
    direct = direct_avgs(plant["url"], plant["tag"], "5 minutes", start, end)
    assert len(rows) == 36
    for row in rows:
        t = int(datetime.fromisoformat(row[0]).timestamp())
        assert row[1] == row[0].replace("Z", "+00:00")
        if t in direct:
            avg, lo, hi = direct[t]
            assert float(row[3]) == pytest.approx(avg, rel=1e-12)
            assert (float(row[2]), float(row[4])) == (lo, hi)
        else:
            assert GAP_FROM.timestamp() <= t < GAP_TO.timestamp() and row[2:5] == ["", "", ""]
        assert row[5:] == ["", "", ""]  # no readings of the flow at all
    assert sum(1 for row in rows if row[3] == "") == 6  # the hole's 30 minutes


async def test_the_raw_readings_of_the_range_as_csv(plant):
    start, end = BAD_AT - timedelta(minutes=2), BACK_AT + timedelta(minutes=1)
    params = {"tag": [str(plant["tag"])], "start": iso(start), "end": iso(end), "format": "csv",
              "resolution": "raw"}  # fmt: skip
    async with client(plant["url"]) as c:
        r = await c.get("/api/trends", params=params)
    assert r.status_code == 200, r.text
    assert r.headers["content-disposition"].startswith('attachment; filename="readings-plant1-')
    head, *rows = parse_csv(r.text)
    assert head == ["time (UTC)", "time (UTC)", "tag", "value", "unit", "quality", "status"]
    expected = sorted((t, v, st) for t, _, v, st in plant["rows"] if start <= t < end)
    assert [(datetime.fromisoformat(row[0]), float(row[3]) if row[3] else None, int(row[6]))
            for row in rows] == expected  # fmt: skip
    assert {row[2] for row in rows} == {"DO.Basin1"} and {row[4] for row in rows} == {"mg/L"}
    assert [row[5] for row in rows].count("bad") == 1


async def test_a_raw_export_too_large_is_refused_saying_how_to_narrow_it(plant, monkeypatch):
    monkeypatch.setattr(routes, "MAX_RAW_READINGS", 1000)
    start = T0 + timedelta(hours=1)
    params = {"tag": str(plant["tag"]), "start": iso(start), "format": "csv", "resolution": "raw"}
    async with client(plant["url"]) as c:
        big = await c.get("/api/trends", params={**params, "end": iso(start + timedelta(days=1))})
        fits = await c.get("/api/trends", params={**params, "end": iso(start + timedelta(hours=2))})
    assert big.status_code == 422
    ((problem,),) = [big.json()["detail"]]
    assert problem["loc"] == ["query", "resolution"]
    # A day of a 10 s tag: 8,640 readings, 1,000 of which are 2 h 46 min (whole hours said).
    assert problem["msg"] == (
        "a raw export holds at most 1,000 readings and this range has about 8,640 readings"
        " of 1 tag: ask for a range of at most 2 hours of these tags, fewer tags, or the"
        " buckets (leave out resolution=raw)"
    )
    assert fits.status_code == 200 and len(parse_csv(fits.text)) == 1 + 720


async def test_tags_of_a_site(db_url):
    with psycopg.connect(db_url) as conn:
        site = make_site(conn, "plant1")
        make_tag(conn, site, "Zeta", unit="ft", limit_hi=5.0)
        make_tag(conn, site, "Alpha")
        old = make_tag(conn, site, "Old")
        conn.execute("UPDATE tags SET retired_at = now() WHERE id = %s", (old,))
        make_tag(conn, make_site(conn, "other"), "Elsewhere")
    async with client(db_url) as c:
        current = (await c.get("/api/tags", params={"site": "plant1"})).json()
        every = (await c.get("/api/tags", params={"site": "plant1", "include_retired": 1})).json()
        missing = await c.get("/api/tags", params={"site": "nowhere"})
    assert [t["name"] for t in current["tags"]] == ["Alpha", "Zeta"]
    assert current["tags"][1]["limits"]["hi"] == 5.0 and current["tags"][1]["unit"] == "ft"
    assert [t["name"] for t in every["tags"]] == ["Alpha", "Old", "Zeta"]
    assert missing.status_code == 404 and missing.json()["detail"] == "no site 'nowhere'"


async def test_latest_readings_with_quality_and_staleness(db_url):
    with psycopg.connect(db_url) as conn:
        site = make_site(conn, "plant1")
        fresh = make_tag(conn, site, "A.fresh")
        old = make_tag(conn, site, "B.old")
        bad = make_tag(conn, site, "C.bad")
        make_tag(conn, site, "D.never")
        fast = make_tag(conn, site, "E.fast")
        conn.commit()
        sampling(db_url, fast, 1)
        now = datetime.now(UTC)
        copy_rows(conn, [
            (now - timedelta(minutes=20), fresh, 1.0, 0),
            (now - timedelta(seconds=5), fresh, 2.5, 0),
            (now - timedelta(minutes=10), old, 7.0, 0),
            (now - timedelta(seconds=2), bad, None, BAD_COMM),
            (now - timedelta(seconds=10), fast, 3.0, 0),
        ])  # fmt: skip
    async with client(db_url) as c:
        body = (await c.get("/api/readings/latest", params={"site": "plant1"})).json()
        by_name = {t["name"]: t for t in body["tags"]}
        assert by_name["A.fresh"]["value"] == 2.5
        assert (by_name["A.fresh"]["quality"], by_name["A.fresh"]["stale"]) == ("good", False)
        assert 4 < by_name["A.fresh"]["age_s"] < 60
        # Default expected interval 60 s: ten minutes old is stale.
        assert (by_name["B.old"]["quality"], by_name["B.old"]["stale"]) == ("good", True)
        assert (by_name["C.bad"]["quality"], by_name["C.bad"]["value"]) == ("bad", None)
        assert by_name["C.bad"]["status"] == BAD_COMM
        assert (by_name["D.never"]["quality"], by_name["D.never"]["stale"]) == ("none", True)
        assert by_name["D.never"]["time"] is None
        # A 1 s tag ten seconds silent is stale.
        assert (by_name["E.fast"]["stale"], by_name["E.fast"]["expected_interval_s"]) == (True, 1)
        with psycopg.connect(owner_of(db_url)) as conn:
            conn.execute(
                "INSERT INTO site_sampling (site_id, expected_interval_s) VALUES (%s, 600)", (site,)
            )
        body = (await c.get("/api/readings/latest", params={"site": "plant1"})).json()
        by_name = {t["name"]: t for t in body["tags"]}
        assert by_name["B.old"]["stale"] is False  # the site's default now: 3 x 10 min
        assert by_name["E.fast"]["stale"] is True  # the tag's own interval wins
        assert (await c.get("/api/readings/latest", params={"site": "x"})).status_code == 404


async def test_the_app_refreshes_rollups_in_the_background(db_url):
    with psycopg.connect(db_url) as conn:
        tag = make_tag(conn, make_site(conn), "T1")
        conn.commit()
        async with client(db_url, refresh_s=0.1):
            write_batch(conn, wave(tag, T0, 120))
            for _ in range(100):
                row = conn.execute("SELECT n_good FROM readings_1h").fetchone()
                conn.commit()
                if row:
                    break
                await asyncio.sleep(0.05)
        assert row == (120,)
        assert conn.execute("SELECT count(*) FROM readings_1m").fetchone() == (2,)


async def test_trend_page_renders_the_tag_and_loads_the_chart_scripts(plant):
    async with client(plant["url"]) as c:
        page = await c.get("/trends", params={"site": "plant1", "tag": "DO.Basin1", "period": "7d"})
        css = await c.get("/static/css/clearwell.css")
        js = await c.get("/static/js/trend.js")
        unknown = await c.get("/trends", params={"site": "plant1", "tag": "Nope"})
        flow = await c.get("/trends", params={"site": "plant1", "tag": "Flow.Influent"})
    assert page.status_code == 200
    html = page.text
    assert f'data-tag-id="{plant["tag"]}"' in html
    assert 'data-period-s="604800"' in html
    assert "/static/vendor/uPlot.iife.min.js" in html and "/static/js/trend.js" in html
    assert 'data-api="http://test/api/trends"' in html  # url_for: the API's absolute URL
    # The tags that may be added, by description where there is one, else by name; not
    # those on the chart already.
    assert '<option value="Flow.Influent">Flow.Influent (MGD)</option>' in html
    assert '<option value="DO.Basin1">Dissolved oxygen, basin 1 (mg/L)</option>' in flow.text
    assert '<option value="DO.Basin1">' not in html
    assert '<option value="Flow.Influent">' not in flow.text
    assert css.status_code == 200 and js.status_code == 200
    assert "No tag named “Nope” at this site" in unknown.text


async def test_without_a_session_the_api_answers_401_and_a_page_redirects_to_login(db_url):
    with psycopg.connect(db_url) as conn:
        make_tag(conn, make_site(conn, "plant1"), "X1")
    async with client(db_url, login=False) as c:
        api = await c.get("/api/tags", params={"site": "plant1"})
        latest = await c.get("/api/readings/latest", params={"site": "plant1"})
        page = await c.get("/trends", params={"site": "plant1", "period": "7d"})
        forged = await c.get("/api/tags", params={"site": "plant1"},
                             headers={"Authorization": "Bearer not-a-session"})  # fmt: skip
    assert (api.status_code, latest.status_code, forged.status_code) == (401, 401, 401)
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=%2Ftrends%3Fsite%3Dplant1%26period%3D7d"
