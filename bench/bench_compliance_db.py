"""Compliance coverage report from live data: a year of three shifts a day, 30 operators,
100,000 entries in the database (the year of ``bench_compliance``, written as logbook rows).

Times, separately: loading the facility's facts (database -> ``compliance.model``, split into
query time and object building), the engine, the report's JSON, and the whole
``GET /api/compliance/coverage`` through the app (in-process ASGI, logged in). Baselines in
the same run: the raw entries query alone (fetch only, no objects) and the engine on the same
year loaded from JSON. Also the staffing stamp one entry write would add (``stamp_entries``
for one entry, the logbook's hook).

Runs against a scratch database on the server of ``CLEARWELL_DATABASE_URL`` (CREATEDB) or a
throwaway local cluster.

    .venv/bin/python -m bench compliance_db [--entries N] [--repeat R]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from bisect import bisect_right
from datetime import UTC, datetime
from typing import Any

import httpx
import psycopg
from argon2 import PasswordHasher

from bench.bench_compliance import make_scenario
from bench.scratch import scratch_database
from clearwell.app import create_app
from clearwell.migrate import migrate
from clearwell.settings import load_settings
from compliance.adapter import ENTRIES_SQL, load, resolve_site
from compliance.engine import check
from compliance.model import Scenario
from compliance.scenario import load_scenario
from compliance.stamping import stamp_entries
from logbook import audit
from logbook.auth import secrets
from logbook.people import create_person
from logbook.write import crew, shifts

# A run small enough to check the bench end to end in seconds (tests/bench/test_smoke.py);
# its figures mean nothing.
SMOKE_ARGS = ("--entries", "2000", "--repeat", "1")

PASSWORD = "bench-password-1"
SITE = "bench-wrf"


async def write_shifts(
    url: str, site_id: int, scenario: list[dict[str, Any]], people: dict[str, int], opener: int
) -> tuple[list[int], list[datetime]]:
    """The scenario's shifts, closed, with their crews' stints on site, as the logbook's rows
    alone (the write layer's inserts, no audit); their ids and opening times."""
    shift_ids: list[int] = []
    starts: list[datetime] = []
    async with await psycopg.AsyncConnection.connect(url) as conn:
        for sh in scenario:
            start = datetime.fromisoformat(sh["start"])
            end = datetime.fromisoformat(sh["end"])
            made = await shifts.insert_shift(conn, site_id, sh["id"], start, opener)
            await shifts.insert_closure(conn, made.id, end, opener)
            shift_ids.append(made.id)
            starts.append(start)
            for m in sh["crew"]:
                for a, b in m.get("on_site") or [[sh["start"], sh["end"]]]:
                    stint = await crew.insert_crew(
                        conn,
                        made.id,
                        people[m["operator"]],
                        m["role"],
                        datetime.fromisoformat(a),
                        opener,
                    )
                    left = datetime.fromisoformat(b)
                    if left < end:
                        await crew.insert_departure(conn, stint.id, left, opener)
        await conn.commit()
    return shift_ids, starts


def populate(url: str, data: dict[str, Any]) -> dict[str, Any]:
    """Writes the scenario as logbook and compliance rows; returns the period."""
    with psycopg.connect(url) as conn:
        site_id = conn.execute(
            "INSERT INTO sites (code, name, timezone, state, category)"
            " VALUES (%s, 'Bench WRF', 'America/Denver', 'UT', 'treatment') RETURNING id",
            (SITE,),
        ).fetchone()[0]  # type: ignore[index]
        people: dict[str, int] = {}
        for op in data["operators"]:
            pid = conn.execute(
                "INSERT INTO people (username, full_name) VALUES (%s, %s) RETURNING id",
                (op["id"], op["name"]),
            ).fetchone()[0]  # type: ignore[index]
            people[op["id"]] = pid
            for c in op["certificates"]:
                conn.execute(
                    "INSERT INTO operator_certificates (person_id, state, category, grade, kind,"
                    " issued, expires) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                    (
                        pid,
                        c["state"],
                        c["category"],
                        c["grade"],
                        c["kind"],
                        c["issued"],
                        c["expires"],
                    ),
                )
        # Their assessed levels at the site, as the scenario has them (the engine's year
        # from JSON judges the same), assessed by the first of the DRC pool.
        for op in data["operators"]:
            for a in op.get("levels", ()):
                assessor = people["op02" if op["id"] == "op01" else "op01"]
                conn.execute(
                    "INSERT INTO competency_assessments (site_id, person_id, level, assessed_on,"
                    " assessor_id) VALUES (%s, %s, %s, %s, %s)",
                    (site_id, people[op["id"]], a["level"], a["assessed_on"], assessor),
                )
        conn.execute(
            "INSERT INTO facility_profiles (site_id, effective_from, rules, category,"
            " facility_class) VALUES (%s, '2020-01-01', 'UT', 'treatment', 'III')",
            (site_id,),
        )
        opener = people["op01"]
        conn.commit()
        shift_ids, starts = asyncio.run(write_shifts(url, site_id, data["shifts"], people, opener))
        trainees = {m["operator"] for sh in data["shifts"] for m in sh["crew"]}
        trainees = {o for o in trainees if o >= "op26"}
        with conn.cursor() as cur:
            with cur.copy(
                "COPY entries (site_id, shift_id, kind, data, operational, occurred_at,"
                " recorded_by, by_trainee) FROM STDIN"
            ) as copy:
                for e in data["entries"]:
                    t = datetime.fromisoformat(e["time"])
                    sid = shift_ids[bisect_right(starts, t) - 1]
                    kind = "maintenance" if e["operational"] else "note"
                    body = {"text": "bench"} if kind == "note" else {"equipment": "pump 1"}
                    copy.write_row(
                        (
                            site_id,
                            sid,
                            kind,
                            json.dumps(body),
                            e["operational"],
                            t,
                            people[e["author"]],
                            e["author"] in trainees,
                        )
                    )
            ids = [r[0] for r in cur.execute("SELECT id FROM entries ORDER BY id").fetchall()]
            with cur.copy(
                "COPY entry_countersignatures (entry_id, person_id, content_sha256) FROM STDIN"
            ) as copy:
                for entry_id, e in zip(ids, data["entries"], strict=True):
                    if e.get("countersigned_by"):
                        copy.write_row((entry_id, people[e["countersigned_by"]], "0" * 64))
        conn.execute("ANALYZE")
    return {
        "start": datetime.fromisoformat(data["period"]["start"]).astimezone(UTC),
        "end": datetime.fromisoformat(data["period"]["end"]).astimezone(UTC),
        "last_entry": ids[-1],
    }


async def measure_load(
    url: str, period: dict[str, Any], repeat: int, from_json: Scenario
) -> dict[str, Any]:
    now = datetime.now(UTC)
    loads, queries, builds, engines, jsons, raws = [], [], [], [], [], []
    json_engines: list[float] = []
    stamps: list[float] = []
    async with await psycopg.AsyncConnection.connect(url) as conn:
        site = await resolve_site(conn, SITE)
        n_entries = 0
        for _ in range(repeat):
            t0 = time.perf_counter()
            loaded = await load(conn, site, period["start"], period["end"], now)
            t1 = time.perf_counter()
            report = check(loaded.scenario)
            t2 = time.perf_counter()
            body = report.to_dict(entries=False)
            json.dumps(body)
            t3 = time.perf_counter()
            loads.append(t1 - t0)
            queries.append(loaded.timings["query"])
            builds.append(loaded.timings["build"])
            engines.append(t2 - t1)
            jsons.append(t3 - t2)
            n_entries = len(loaded.scenario.entries)
            await conn.rollback()
            # Baseline: the entries query alone, rows fetched, nothing built.
            t4 = time.perf_counter()
            cur = conn.cursor(binary=True)
            await cur.execute(
                ENTRIES_SQL, {"site": site.id, "start": period["start"], "end": period["end"]}
            )
            await cur.fetchall()
            raws.append(time.perf_counter() - t4)
            await conn.rollback()
            # Baseline, interleaved so both see the same machine: the engine on the year
            # read from JSON.
            t6 = time.perf_counter()
            check(from_json)
            json_engines.append(time.perf_counter() - t6)
        # The hook's cost per entry write: one entry, inside a transaction rolled back.
        for i in range(max(20, repeat)):
            entry_id = period["last_entry"] - i * 997
            async with conn.transaction():
                t5 = time.perf_counter()
                await stamp_entries(conn, [entry_id], now=now)
                stamps.append(time.perf_counter() - t5)
                raise psycopg.Rollback()
    return {
        "entries": n_entries,
        "load": loads,
        "query": queries,
        "build": builds,
        "engine": engines,
        "json": jsons,
        "raw_entries_query": raws,
        "json_engine": json_engines,
        "stamp_one_entry": stamps,
        "findings": len(report.findings),
        "coverage_intervals": len(report.coverage),
    }


async def measure_http(url: str, period: dict[str, Any], repeat: int) -> list[float]:
    secrets.HASHER = PasswordHasher()  # real parameters: logging in once is not timed
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
    times = []
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            r = await client.post(
                "/api/auth/login", json={"username": "bench-chief", "password": PASSWORD}
            )
            r.raise_for_status()
            headers = {"Authorization": f"Bearer {r.json()['token']}"}
            params = {
                "facility": SITE,
                "start": period["start"].isoformat(),
                "end": period["end"].isoformat(),
            }
            for _ in range(repeat):
                t0 = time.perf_counter()
                r = await client.get("/api/compliance/coverage", params=params, headers=headers)
                times.append(time.perf_counter() - t0)
                r.raise_for_status()
    return times


def ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.0f} ms (min {min(values) * 1000:.0f})"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench compliance_db")
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    data = make_scenario(args.entries)
    with scratch_database() as (url, where):
        print(f"database: {where}")
        with psycopg.connect(url, autocommit=True) as conn:
            migrate(conn)
        t0 = time.perf_counter()
        period = populate(url, data)
        print(
            f"populated {len(data['shifts'])} shifts, {len(data['operators'])} operators, "
            f"{len(data['entries'])} entries in {time.perf_counter() - t0:.1f} s"
        )
        scenario = load_scenario(json.loads(json.dumps(data)))
        r = asyncio.run(measure_load(url, period, args.repeat, scenario))
        http = asyncio.run(measure_http(url, period, args.repeat))
    print(
        f"entries judged: {r['entries']}, findings {r['findings']}, "
        f"coverage intervals {r['coverage_intervals']}"
    )
    print(f"load DB -> model:       {ms(r['load'])}")
    print(f"  of which queries:     {ms(r['query'])}")
    print(f"  of which building:    {ms(r['build'])}")
    print(f"engine:                 {ms(r['engine'])}")
    print(f"report JSON:            {ms(r['json'])}")
    total = [a + b + c for a, b, c in zip(r["load"], r["engine"], r["json"], strict=True)]
    print(f"load + engine + JSON:   {ms(total)}")
    print(f"GET /coverage (ASGI):   {ms(http)}")
    print(f"baseline: raw entries query, fetch only: {ms(r['raw_entries_query'])}")
    print(f"baseline: engine on the scenario from JSON: {ms(r['json_engine'])}")
    print(f"stamp_entries, one entry (hook cost per write): {ms(r['stamp_one_entry'])}")
    return 0
