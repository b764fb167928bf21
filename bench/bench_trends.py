"""Trends of a month of 1 s data: hourly bucketing straight from readings vs the trend API,
and a chart of eight pens beside the chart of one.

Loads 30 days of one 1 s tag (2,592,000 readings, with a 20 min hole and a
5 min link loss) into a scratch database (on the server ``CLEARWELL_DATABASE_URL``
names, whose role must be allowed to create databases, else a throwaway local
cluster: ``bench/scratch.py``), builds the rollups, then times in the same run:

* baseline: ``time_bucket('1 hour')`` averages of the 30 days straight from
  ``readings`` (what the issue measured at about 440 ms);
* ``GET /api/trends`` for the same 30 days through the app (in process, over
  ASGI, with its pool, logged in as an operator), at 1,000 points (from
  ``readings_1h``) and at 1,920 points (a 1920 px screen: 30 min buckets from
  ``readings_1m``): time and bytes;
* the trend page in Debian's Chromium (1920x1080, against ``clearwell serve``, the
  session cookie from the login API): the page's own measure of its request (with
  JSON parsing) and of uPlot's drawing;
* the rollup work: building a month from scratch, recomputing one whole dirty
  hour, and one round of the background job for 300 tags whose last 5 s are new;
* then seven more tags in six units, read every minute for the same days and rolled up
  (a chart's rollup rows are the same for any sampling rate), and the eight tags as one
  chart: ``GET /api/trends`` with eight ``tag`` and the trend page with eight pens, beside
  the page with one pen in the same browser (the same-run baseline).

    .venv/bin/python -m bench trends [--days N] [--repeat R] [--keep] [--no-browser]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import os
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
from argon2 import PasswordHasher

from bench.scratch import scratch_database
from clearwell.app import create_app
from clearwell.db import connection
from clearwell.migrate import migrate
from clearwell.settings import load_settings
from dashboards.trends.rollups import mark_range, refresh_all, refresh_once
from logbook import audit
from logbook.auth import secrets
from logbook.people import create_person

# A run small enough to check the bench end to end in seconds (tests/bench/test_smoke.py);
# its figures mean nothing.
SMOKE_ARGS = ("--days", "1", "--repeat", "1")

# The data ends at the current hour, so the trend page's "last 30 days" shows it.
END = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
BAD_COMM = -2147155968
# Every trend endpoint and page needs a session: the benchmark's reader logs in.
USER, PASSWORD = "bench-reader", "bench-reader-password"
# The seven other pens of the eight-pen chart: name, unit (six units with DO.Basin1's).
PENS = (
    ("DO.Basin2", "mg/L"),
    ("Flow.Influent", "MGD"),
    ("pH.Effluent", "pH"),
    ("Turb.Effluent", "NTU"),
    ("Cl2.Residual", "mg/L"),
    ("Level.Wetwell", "ft"),
    ("Temp.Influent", "°C"),
)
# What a 1920 px page asks for: about one point per 1.5 pixel columns of its chart.
PAGE_POINTS = 1280


def _fmt_ms(samples: list[float]) -> str:
    return (
        f"{statistics.median(samples) * 1000:.1f} ms"
        f" (min {min(samples) * 1000:.1f}, max {max(samples) * 1000:.1f})"
    )


async def add_reader(url: str) -> None:
    """The operator the requests log in as (cheap hashing: logging in is not measured)."""
    saved, secrets.HASHER = (
        secrets.HASHER,
        PasswordHasher(time_cost=1, memory_cost=8, parallelism=1),
    )
    try:
        async with await psycopg.AsyncConnection.connect(url) as conn, conn.transaction():
            cur = await conn.execute("SELECT array_agg(id) FROM sites")
            sites = (await cur.fetchone() or [None])[0] or []
            await create_person(
                conn, audit.SYSTEM, USER, "Bench Reader", "operator", PASSWORD, None, sites
            )
    finally:
        secrets.HASHER = saved


def prepare(url: str, days: int) -> tuple[int, float, float]:
    """The readings and rollups in a fresh database; returns tag id and load/rollup seconds."""
    with connection(url, autocommit=True) as conn:
        migrate(conn)
    start = END - timedelta(days=days)
    with psycopg.connect(url, autocommit=True) as conn:
        site = conn.execute(
            "INSERT INTO sites (code, name, timezone) VALUES ('bench', 'Bench', 'UTC') RETURNING id"
        ).fetchone()
        assert site
        tag_row = conn.execute(
            "INSERT INTO tags (site_id, name, unit, source_protocol)"
            " VALUES (%s, 'DO.Basin1', 'mg/L', 'modbus') RETURNING id",
            (site[0],),
        ).fetchone()
        assert tag_row
        tag = int(tag_row[0])
        conn.execute("INSERT INTO tag_sampling VALUES (%s, 1)", (tag,))
        t0 = time.perf_counter()
        conn.execute(
            """INSERT INTO readings (time, tag_id, value, status)
               SELECT t, %(tag)s,
                      6 + 1.5 * sin(extract(epoch FROM t) / 86400 * 2 * pi())
                        + 0.2 * sin(extract(epoch FROM t) / 97), 0
               FROM generate_series(%(start)s, %(end)s - interval '1 second',
                                    interval '1 second') AS t
               WHERE NOT (t >= %(hole)s AND t < %(hole)s + interval '20 minutes')
                 AND NOT (t > %(lost)s AND t < %(lost)s + interval '5 minutes')""",
            {"tag": tag, "start": start, "end": END, "hole": END - timedelta(days=12),
             "lost": END - timedelta(days=5)},
        )  # fmt: skip
        conn.execute(
            "UPDATE readings SET value = NULL, status = %s WHERE tag_id = %s AND time = %s",
            (BAD_COMM, tag, END - timedelta(days=5)),
        )
        # The visibility map lets the baseline use index-only scans, as in steady state.
        conn.execute("VACUUM ANALYZE readings")
        load_s = time.perf_counter() - t0
    asyncio.run(add_reader(url))  # who belongs to the bench site, once it is there

    async def rollup() -> float:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as aconn:
            t1 = time.perf_counter()
            await mark_range(aconn, start, END)
            await refresh_all(aconn)
            return time.perf_counter() - t1

    rollup_s = asyncio.run(rollup())
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE readings_1m")
        conn.execute("VACUUM ANALYZE readings_1h")
    return tag, load_s, rollup_s


def time_baseline(url: str, tag: int, days: int, repeat: int) -> tuple[list[float], int]:
    query = """SELECT time_bucket('1 hour', time) AS bucket, avg(value)
               FROM readings WHERE tag_id = %s AND time >= %s AND time < %s
               GROUP BY 1 ORDER BY 1"""
    samples = []
    n = 0
    with psycopg.connect(url) as conn:
        for i in range(repeat + 1):
            t0 = time.perf_counter()
            n = len(conn.execute(query, (tag, END - timedelta(days=days), END)).fetchall())
            if i:  # the first run warms the cache
                samples.append(time.perf_counter() - t0)
    return samples, n


async def _timed(fn: Callable[[], Awaitable[Any]], repeat: int) -> tuple[list[float], Any]:
    result = await fn()  # warm-up
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = await fn()
        samples.append(time.perf_counter() - t0)
    return samples, result


@asynccontextmanager
async def _reader(url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The app in process (ASGI, with its pool, no rollup job) and a client logged in to it."""
    app = create_app(load_settings(database_url=url))
    app.state.rollup_refresh_interval_s = None
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            r = await client.post("/api/auth/login", json={"username": USER, "password": PASSWORD})
            r.raise_for_status()
            client.headers["Authorization"] = f"Bearer {r.json()['token']}"
            yield client


async def time_api(url: str, tag: int, days: int, repeat: int) -> list[tuple[str, Any]]:
    params = {
        "tag": str(tag),
        "start": (END - timedelta(days=days)).isoformat(),
        "end": END.isoformat(),
    }
    rows: list[tuple[str, Any]] = []
    async with _reader(url) as client:
        for points in (1000, 1920):

            async def get(points: int = points) -> httpx.Response:
                r = await client.get("/api/trends", params={**params, "points": points})
                r.raise_for_status()
                return r

            samples, response = await _timed(get, repeat)
            body = response.json()
            rows.append(
                (
                    f"GET /api/trends points={points}",
                    f"{_fmt_ms(samples)}; {len(response.content):,} B"
                    f" ({len(gzip.compress(response.content)):,} B gzipped);"
                    f" {len(body['t'])} buckets of {body['bucket_s']} s from {body['source']};"
                    f" gaps {len(body['gaps'])}, bad spans {len(body['bad'])}",
                )
            )
    return rows


def add_pens(url: str, days: int) -> tuple[list[int], float, tuple[int, int, int]]:
    """The seven other tags, read every minute for the days, and their rollups; their ids,
    the seconds loading and rolling them up took, and their row counts."""
    start = END - timedelta(days=days)
    t0 = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        ids = []
        for i, (name, unit) in enumerate(PENS):
            row = conn.execute(
                "INSERT INTO tags (site_id, name, unit, source_protocol)"
                " SELECT id, %s, %s, 'modbus' FROM sites WHERE code = 'bench' RETURNING id",
                (name, unit),
            ).fetchone()
            assert row
            ids.append(int(row[0]))
            conn.execute("INSERT INTO tag_sampling VALUES (%s, 60)", (row[0],))
            conn.execute(
                """INSERT INTO readings (time, tag_id, value, status)
                   SELECT t, %(tag)s,
                          %(i)s + 1 + sin(extract(epoch FROM t) / 86400 * 2 * pi() + %(i)s), 0
                   FROM generate_series(%(start)s, %(end)s - interval '1 minute',
                                        interval '1 minute') AS t""",
                {"tag": row[0], "i": i, "start": start, "end": END},
            )
        conn.execute("VACUUM ANALYZE readings")

    async def rollup() -> None:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as aconn:
            await mark_range(aconn, start, END, ids)
            await refresh_all(aconn)

    asyncio.run(rollup())
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE readings_1m")
        conn.execute("VACUUM ANALYZE readings_1h")
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM readings WHERE tag_id = ANY(%(t)s)),"
            " (SELECT count(*) FROM readings_1m WHERE tag_id = ANY(%(t)s)),"
            " (SELECT count(*) FROM readings_1h WHERE tag_id = ANY(%(t)s))",
            {"t": ids},
        ).fetchone()
    assert counts
    return ids, time.perf_counter() - t0, (counts[0], counts[1], counts[2])


async def time_api_pens(url: str, tags: list[int], days: int, repeat: int) -> tuple[str, str]:
    """``GET /api/trends`` of the eight tags at once, as the page asks for them."""
    params: dict[str, Any] = {
        "tag": [str(t) for t in tags],
        "start": (END - timedelta(days=days)).isoformat(),
        "end": END.isoformat(),
        "points": PAGE_POINTS,
    }
    async with _reader(url) as client:

        async def get() -> httpx.Response:
            r = await client.get("/api/trends", params=params)
            r.raise_for_status()
            return r

        samples, response = await _timed(get, repeat)
    body = response.json()
    return (
        f"GET /api/trends {len(tags)} tags points={PAGE_POINTS}",
        f"{_fmt_ms(samples)}; {len(response.content):,} B"
        f" ({len(gzip.compress(response.content)):,} B gzipped);"
        f" {len(body['series'])} series of {len(body['t'])} buckets of {body['bucket_s']} s"
        f" from {body['source']}",
    )


async def time_dirty_hour(url: str, tag: int, repeat: int) -> list[float]:
    hour = END - timedelta(hours=1)
    samples = []
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        for _ in range(repeat):
            await conn.execute("SELECT clearwell_mark_dirty(%s::int4[], %s::timestamptz[])",
                               ([tag], [hour]))  # fmt: skip
            t0 = time.perf_counter()
            result = await refresh_once(conn)
            samples.append(time.perf_counter() - t0)
            assert result.marks == 1 and result.minutes == 60
    return samples


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def time_browser(url: str, repeat: int, pens: list[str]) -> list[tuple[str, Any]]:
    """The trend page's request and drawing times, as the page itself measures them: with
    one pen, then with ``pens`` (tag names) in the same browser."""
    from playwright.sync_api import sync_playwright

    from tests.support.pg_cluster import free_port

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLEARWELL_")}
    env.update(CLEARWELL_DATABASE_URL=url, CLEARWELL_LOG_LEVEL="WARNING")
    cmd = [
        sys.executable,
        "-m",
        "clearwell.cli",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    rows: list[tuple[str, Any]] = []
    try:
        for _ in range(150):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 1920, "height": 1080})
            login = context.request.post(
                f"{base}/api/auth/login", data={"username": USER, "password": PASSWORD}
            )
            assert login.ok, login.text()
            page = context.new_page()
            for label, names in (("", ["DO.Basin1"]), (f"{len(pens)} pens, ", pens)):
                tags = "&".join(f"tag={n}" for n in names)
                fetch: list[float] = []
                draw: list[float] = []
                loaded: list[float] = []
                for i in range(repeat + 1):
                    page.goto(f"{base}/trends?site=bench&{tags}&period=30d")
                    page.wait_for_selector('#trend[data-state="drawn"]', timeout=30_000)
                    if i:  # the first load warms caches
                        get = page.get_attribute
                        fetch.append(float(get("#trend", "data-fetch-ms") or 0) / 1000)
                        draw.append(float(get("#trend", "data-draw-ms") or 0) / 1000)
                        loaded.append(float(get("#trend", "data-drawn-at-ms") or 0) / 1000)
                source = page.get_attribute("#trend", "data-source")
                points = page.get_attribute("#trend", "data-points")
                total = [f + d for f, d in zip(fetch, draw, strict=True)]
                what = f"trend page 30d, {label}1920x1080"
                rows += [
                    (f"{what}: request + JSON ({points} points from {source})", _fmt_ms(fetch)),
                    (f"{what}: uPlot drawing", _fmt_ms(draw)),
                    (f"{what}: request to drawn", _fmt_ms(total)),
                    (f"{what}: page opened to drawn", _fmt_ms(loaded)),
                ]
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return rows


async def time_steady_round(url: str, tag: int, tags: int, repeat: int) -> list[float]:
    """One refresh round as the web app runs it with ``tags`` tags being written: each
    tag's current hour marked with its last 5 s new. Stood in for by as many hours
    of the one tag, each marked 5 s before its end."""
    samples = []
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        for _ in range(repeat):
            await conn.execute(
                """INSERT INTO rollup_dirty (tag_id, bucket_hour, from_time)
                   SELECT %(tag)s, h, h + interval '59 minutes 55 seconds'
                   FROM generate_series(%(end)s - %(n)s * interval '1 hour',
                                        %(end)s - interval '1 hour', interval '1 hour') AS h""",
                {"tag": tag, "end": END, "n": tags},
            )
            t0 = time.perf_counter()
            done = await refresh_all(conn, batch=tags)
            samples.append(time.perf_counter() - t0)
            assert done == tags
    return samples


def run(url: str, days: int, repeat: int, browser: bool) -> list[tuple[str, Any]]:
    tag, load_s, rollup_s = prepare(url, days)
    with psycopg.connect(url) as conn:
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM readings), (SELECT count(*) FROM readings_1m),"
            " (SELECT count(*) FROM readings_1h)"
        ).fetchone()
    assert counts
    results: list[tuple[str, Any]] = [
        ("rows: readings / readings_1m / readings_1h", " / ".join(f"{c:,}" for c in counts)),
        ("load (generate_series INSERT + VACUUM ANALYZE)", f"{load_s:.1f} s"),
        ("rollups built from scratch (mark_range + refresh_all)", f"{rollup_s:.1f} s"),
    ]
    samples, n = time_baseline(url, tag, days, repeat)
    results.append((f"baseline: time_bucket 1 h from readings ({n} rows out)", _fmt_ms(samples)))
    results += asyncio.run(time_api(url, tag, days, repeat))
    dirty = asyncio.run(time_dirty_hour(url, tag, repeat))
    results.append(("refresh of one whole dirty tag-hour (3,600 readings)", _fmt_ms(dirty)))
    steady = asyncio.run(time_steady_round(url, tag, 300, repeat))
    results.append(("refresh round, 300 tags with their last 5 s new", _fmt_ms(steady)))
    pens, pens_s, pen_rows = add_pens(url, days)
    results.append(
        (
            f"{len(pens)} more tags (60 s): readings / readings_1m / readings_1h",
            " / ".join(f"{c:,}" for c in pen_rows) + f"; loaded and rolled up in {pens_s:.1f} s",
        )
    )
    results.append(asyncio.run(time_api_pens(url, [tag, *pens], days, repeat)))
    if browser:
        results += time_browser(url, repeat, ["DO.Basin1", *(name for name, _ in PENS)])
    return results


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench trends")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=11)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium timing")
    args = parser.parse_args(argv)

    with scratch_database("trends", keep=args.keep) as (url, where):
        print(f"database: {where}; loading {args.days} days of one 1 s tag …", flush=True)
        results = run(url, args.days, args.repeat, browser=not args.no_browser)
    print()
    print("| measure | result |")
    print("|---|---|")
    for name, value in results:
        print(f"| {name} | {value} |")
    return 0
