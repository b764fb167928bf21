"""The chief operator's page for a month of a busy facility: ``GET /chief`` (coverage for the
month as day rows, findings, expiries, countersignatures waiting, amendments) against the
baseline of the coverage report alone for the same month, ``GET /api/compliance/coverage``,
interleaved in the same run. The data is ``bench_compliance_db``'s year (three shifts a day,
30 operators, 100,000 entries) written as logbook rows; the month is 2025-06.

    .venv/bin/python -m bench chief [--entries N] [--repeat R]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

import httpx
import psycopg
from argon2 import PasswordHasher

from bench.bench_compliance import make_scenario
from bench.bench_compliance_db import PASSWORD, SITE, ms, populate
from bench.scratch import scratch_database
from clearwell.app import create_app
from clearwell.migrate import migrate
from clearwell.settings import load_settings
from logbook import audit
from logbook.auth import secrets
from logbook.people import create_person

# A run small enough to check the bench end to end in seconds (tests/bench/test_smoke.py);
# its figures mean nothing.
SMOKE_ARGS = ("--entries", "2000", "--repeat", "1")

MONTH = "2025-06"
# June 2025 in Denver (MDT): local midnight June 1 to local midnight July 1.
START, END = "2025-06-01T00:00:00-06:00", "2025-07-01T00:00:00-06:00"


async def measure(url: str, repeat: int) -> dict[str, list[float]]:
    secrets.HASHER = PasswordHasher()
    async with await psycopg.AsyncConnection.connect(url) as conn, conn.transaction():
        cur = await conn.execute("SELECT array_agg(id) FROM sites")
        sites = (await cur.fetchone() or [None])[0] or []
        await create_person(
            conn,
            audit.SYSTEM,
            "bench-chief",
            "Bench Chief",
            "chief_operator",
            PASSWORD,
            None,
            sites,
        )
    app = create_app(load_settings(database_url=url))
    app.state.rollup_refresh_interval_s = None
    out: dict[str, list[float]] = {"page": [], "coverage": []}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            r = await client.post(
                "/api/auth/login", json={"username": "bench-chief", "password": PASSWORD}
            )
            r.raise_for_status()
            headers = {"Authorization": f"Bearer {r.json()['token']}"}
            calls: list[tuple[str, str, dict[str, Any]]] = [
                ("page", "/chief", {"facility": SITE, "month": MONTH}),
                ("coverage", "/api/compliance/coverage", {"facility": SITE, "start": START,
                                                          "end": END}),
            ]  # fmt: skip
            for _name, path, params in calls:  # warm-up
                (await client.get(path, params=params, headers=headers)).raise_for_status()
            for _ in range(repeat):
                for name, path, params in calls:
                    t0 = time.perf_counter()
                    r = await client.get(path, params=params, headers=headers)
                    out[name].append(time.perf_counter() - t0)
                    r.raise_for_status()
            page = r.text if name == "page" else (await client.get(
                "/chief", params=calls[0][2], headers=headers)).text  # fmt: skip
            out["rows"] = [float(page.count('class="cov-row'))]
            out["kb"] = [len(page.encode()) / 1024]
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench chief")
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    data = make_scenario(args.entries)
    with scratch_database() as (url, where):
        print(f"database: {where}")
        with psycopg.connect(url, autocommit=True) as conn:
            migrate(conn)
        t0 = time.perf_counter()
        populate(url, data)
        print(
            f"populated a year, {len(data['entries'])} entries, in {time.perf_counter() - t0:.1f} s"
        )
        r = asyncio.run(measure(url, args.repeat))
    page, cov = statistics.median(r["page"]), statistics.median(r["coverage"])
    print(f"GET /chief?month={MONTH}:            {ms(r['page'])}  ({r['rows'][0]:.0f} day rows,"
          f" {r['kb'][0]:.0f} KB)")  # fmt: skip
    print(f"baseline GET /api/compliance/coverage: {ms(r['coverage'])}")
    print(f"ratio page / coverage report: {page / cov:.2f}")
    return 0
