"""Searching the log: ``GET /api/entries?site=…&q=…`` over a year of a plant's entries
(100,000, ~5 % amended), against two baselines measured in the same run: the unfiltered
listing's first page (``GET /api/entries?site=…``, the same endpoint, the same page size)
and the search a database without the 0212 indexes would do, an ILIKE scan of the entries'
and amendments' JSON text (raw SQL, fetch only).

Queries: a rare phrase ("scum baffle", ~0.5 % of entries), a common word ("pump", ~20 %),
a word only amendments' reasons hold ("transcribing"), and a word with another filter
(kind). Each is the first page of 100 in time order, through the app in process (httpx's
ASGI transport: routing, session check, query, JSON), median and max of ``--repeat``.

    .venv/bin/python -m bench search [--entries 100000] [--repeat 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
from argon2 import PasswordHasher
from psycopg import sql

from bench.scratch import scratch_database
from clearwell.app import create_app
from clearwell.migrate import migrate
from clearwell.settings import load_settings
from logbook import audit
from logbook.auth import secrets
from logbook.memberships import set_member
from logbook.people import create_person
from logbook.search import search_clause

# A run small enough to check the bench end to end in seconds (tests/bench/test_smoke.py);
# its figures mean nothing.
SMOKE_ARGS = ("--entries", "2000", "--repeat", "2")

SITE = "bench-wrf"
PASSWORD = "bench-password-1"
TARGET_MS = 100.0

EQUIPMENT = ("RAS pump 2", "WAS pump 1", "blower 3", "clarifier 1", "grit chamber",
             "bar screen", "UV bank B", "digester mixer", "belt press",
             "influent pump 4")  # fmt: skip
OBSERVATIONS = ("foam on aeration basin", "DO low in basin 2", "sludge blanket rising",
                "odour at headworks", "effluent clear", "rags on bar screen",
                "pin floc in clarifier", "filamentous bulking suspected")  # fmt: skip
REASONS = ("misread the gauge", "wrong basin named", "time was off by an hour",
           "decimal slipped when transcribing")  # fmt: skip


def entry_data(rng: random.Random, n: int) -> tuple[str, dict[str, Any], bool]:
    """A plausible entry: (kind, data, operational); 1 in 200 mentions the scum baffle."""
    if n % 200 == 7:
        return "cleaning", {"what": "clarifier 2 scum baffle", "method": "hosed"}, True
    pick = rng.random()
    if pick < 0.2:
        eq = rng.choice(EQUIPMENT)
        return "maintenance", {"equipment": eq, "work": "preventive",
                               "description": f"greased and checked {eq}"}, True  # fmt: skip
    if pick < 0.45:
        return "observation", {"text": rng.choice(OBSERVATIONS), "location": "basin 2"}, False
    if pick < 0.7:
        return "reading", {"instrument": "effluent pH", "value": 7.1, "unit": "pH"}, False
    if pick < 0.85:
        return "chemical_addition", {"chemical": "NaOCl", "amount": 12.5, "unit": "gal",
                                     "feed_point": "CCT"}, True  # fmt: skip
    return "note", {"text": f"{rng.choice(EQUIPMENT)} running, {rng.choice(OBSERVATIONS)}"}, False


def populate(url: str, count: int) -> int:
    """A year of three shifts a day and ``count`` entries spread over it; every twentieth
    entry amended. Returns the site's id."""
    rng = random.Random(18)
    start = datetime(2025, 1, 1, 7, tzinfo=UTC)
    with psycopg.connect(url) as conn:
        (site,) = conn.execute(
            "INSERT INTO sites (code, name, timezone, state, category) VALUES"
            " (%s, 'Bench WRF', 'America/Denver', 'UT', 'treatment') RETURNING id",
            (SITE,),
        ).fetchone()  # type: ignore[misc]
        people = [
            conn.execute(
                "INSERT INTO people (username, full_name) VALUES (%s, %s) RETURNING id",
                (f"op{i:02d}", f"Operator {i:02d}"),
            ).fetchone()[0]  # type: ignore[index]
            for i in range(12)
        ]
        shifts = [
            conn.execute(
                "INSERT INTO shifts (site_id, label, opened_at, opened_by) VALUES"
                " (%s, %s, %s, %s) RETURNING id",
                (
                    site,
                    ("day", "swing", "night")[i % 3],
                    start + timedelta(hours=8 * i),
                    people[i % 12],
                ),  # fmt: skip
            ).fetchone()[0]  # type: ignore[index]
            for i in range(365 * 3)
        ]
        step = timedelta(days=365) / count
        with conn.cursor() as cur:
            with cur.copy(
                "COPY entries (site_id, shift_id, kind, data, operational, occurred_at,"
                " recorded_by) FROM STDIN"
            ) as copy:
                for n in range(count):
                    at = start + step * n
                    kind, data, operational = entry_data(rng, n)
                    shift = shifts[min(int((at - start) / timedelta(hours=8)), len(shifts) - 1)]
                    copy.write_row(
                        (site, shift, kind, json.dumps(data), operational, at, rng.choice(people))
                    )
            ids = [r[0] for r in cur.execute("SELECT id, data FROM entries ORDER BY id")]
            with cur.copy(
                "COPY amendments (target, target_id, changes, reason, amended_by, amended_at,"
                " after_signing) FROM STDIN"
            ) as copy:
                for i, eid in enumerate(ids[::20]):
                    copy.write_row(
                        (
                            "entry",
                            eid,
                            json.dumps({"occurred_at": start.isoformat()}),
                            REASONS[i % len(REASONS)],
                            people[0],
                            start,
                            False,
                        )  # fmt: skip
                    )
        conn.commit()
        # As autovacuum would have by then: the planner's statistics of a year's table.
        conn.execute("ANALYZE entries")
        conn.execute("ANALYZE amendments")
        conn.commit()
    return int(site)


ILIKE_SCAN = """
SELECT e.id FROM entries e
WHERE e.site_id = %(site)s AND (e.data::text ILIKE %(like)s OR EXISTS (
    SELECT 1 FROM amendments a WHERE a.target = 'entry' AND a.target_id = e.id
    AND (a.changes::text || ' ' || a.reason) ILIKE %(like)s))
ORDER BY e.occurred_at, e.id LIMIT 100
"""


# The search's own part: the page's ids, without the listing's JSON of each entry.
PAGE_IDS = "SELECT e.id FROM entries e WHERE {} ORDER BY e.occurred_at, e.id LIMIT 101"
FILTER = sql.SQL("e.site_id = %s")
SQL_QUERIES = ("scum baffle", "pump", "transcribing")


async def measure(url: str, site_id: int, repeat: int) -> dict[str, list[float]]:
    secrets.HASHER = PasswordHasher()
    async with await psycopg.AsyncConnection.connect(url) as conn, conn.transaction():
        person = await create_person(
            conn, audit.SYSTEM, "bench-op", "Bench Operator", "operator", PASSWORD
        )
        # An operator reads the log of the sites they belong to (clearwell.access).
        await set_member(conn, audit.SYSTEM, int(person), site_id, True)
    app = create_app(load_settings(database_url=url))
    app.state.rollup_refresh_interval_s = None
    calls: list[tuple[str, dict[str, Any]]] = [
        ("listing (baseline)", {"site": SITE}),
        ("q=scum baffle", {"site": SITE, "q": "scum baffle"}),
        ("q=pump", {"site": SITE, "q": "pump"}),
        ("q=transcribing", {"site": SITE, "q": "transcribing"}),
        ("q=pump&kind=maintenance", {"site": SITE, "q": "pump", "kind": "maintenance"}),
    ]
    out: dict[str, list[float]] = {name: [] for name, _ in calls}
    out["ILIKE scan (baseline, SQL)"] = []
    out["items"] = []
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            r = await client.post(
                "/api/auth/login", json={"username": "bench-op", "password": PASSWORD}
            )
            r.raise_for_status()
            headers = {"Authorization": f"Bearer {r.json()['token']}"}
            async with await psycopg.AsyncConnection.connect(url) as raw:
                for i in range(repeat + 1):  # the first round warms caches; not counted
                    for name, params in calls:
                        t0 = time.perf_counter()
                        r = await client.get("/api/entries", params=params, headers=headers)
                        took = time.perf_counter() - t0
                        r.raise_for_status()
                        if i:
                            out[name].append(took)
                        if i == 1:
                            out["items"].append(len(r.json()["items"]))
                    t0 = time.perf_counter()
                    cur = await raw.execute(ILIKE_SCAN, {"site": site_id, "like": "%scum baffle%"})
                    await cur.fetchall()
                    if i:
                        out["ILIKE scan (baseline, SQL)"].append(time.perf_counter() - t0)
                    for q in SQL_QUERIES:
                        where, args = search_clause(q, FILTER, [site_id], 101)
                        t0 = time.perf_counter()
                        cur = await raw.execute(sql.SQL(PAGE_IDS).format(where), args)
                        await cur.fetchall()
                        if i:
                            out.setdefault(f"search SQL q={q}", []).append(time.perf_counter() - t0)
    return out


def ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.1f} ms (max {max(values) * 1000:.1f})"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench search")
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args(argv)
    with scratch_database("search") as (url, where):
        with psycopg.connect(url, autocommit=True) as conn:
            migrate(conn)
        t0 = time.perf_counter()
        site_id = populate(url, args.entries)
        print(f"database: {where}")
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"load average at the start (1, 5, 15 min): {load} on {os.cpu_count()} CPUs")
        print(
            f"populated {args.entries:,} entries, {args.entries // 20 + 1:,} amendments"
            f" in {time.perf_counter() - t0:.1f} s; machine {platform.node()}"
            f" ({platform.machine()}), {datetime.now(UTC):%Y-%m-%d}"
        )
        found = asyncio.run(measure(url, site_id, args.repeat))
    items = found.pop("items")
    names = [n for n in found if n.startswith(("listing", "q="))]
    for name, n in zip(names, items, strict=True):
        print(f"GET /api/entries {name}: {ms(found[name])}  ({n} items)")
    print(f"ILIKE scan (baseline, SQL) 'scum baffle': {ms(found['ILIKE scan (baseline, SQL)'])}")
    for q in SQL_QUERIES:
        print(f"search SQL alone, page of ids, q={q}: {ms(found[f'search SQL q={q}'])}")
    print(
        "load average at the end (1, 5, 15 min): " + ", ".join(f"{x:.1f}" for x in os.getloadavg())
    )
    worst = max(statistics.median(found[n]) for n in names if n.startswith("q="))
    verdict = "met" if worst * 1000 < TARGET_MS else "NOT met"
    print(f"target every text query's median < {TARGET_MS:.0f} ms: {verdict}")
    return 0
