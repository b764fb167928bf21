"""Logbook API: entry writes under 20 concurrent clients, and a month's listing.

(a) baseline: ``GET /healthz`` round trips from the same 20 clients (one pooled
    database query each), and the write layer's bare single-row insert into
    ``entries`` (``logbook.write.entries.insert_entry``: no checks, reactions or
    audit) with its commit, from one psycopg connection: what the machine gives
    before any logbook logic.
(b) writes: 20 clients, each logged in as its own operator with its own open
    shift, each posting entries back to back (a mix of kinds, each with an
    Idempotency-Key) for ``--per-client`` entries. Every write authenticates the
    session, validates the kind, checks the shift is open, inserts, appends to the
    hash-chained audit log (serialised) and answers with the stored record.
    Reports entries per second and p50/p99 latency per request.
(c) listing: a month of entries for one facility (``--month`` entries, ~5 %
    amended) listed in one ``GET /api/entries?site=…&from=…&to=…`` with amendments
    folded in; p50 and max over ``--repeat`` runs, beside the raw SQL of the same
    rows.

A real uvicorn (``clearwell serve``) on a free loopback port, in its own process.
Runs against a scratch database created on the server of ``CLEARWELL_DATABASE_URL``
(its role needs CREATEDB; dropped afterwards), or a throwaway local cluster.

    .venv/bin/python -m bench logbook [--clients 20] [--per-client 100] [--month 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
from argon2 import PasswordHasher

from bench.scratch import scratch_database
from clearwell.migrate import migrate
from compliance.demo import seed_async as seed_compliance_demo
from logbook import audit
from logbook.auth import secrets
from logbook.people import create_person
from logbook.write import amendments, entries, shifts
from tests.support.pg_cluster import free_port

# A run small enough to check the bench end to end in seconds (tests/bench/test_smoke.py);
# its figures mean nothing.
SMOKE_ARGS = (
    "--clients", "2", "--per-client", "5", "--month", "50", "--repeat", "1", "--pool", "2",
)  # fmt: skip

PASSWORD = "bench-password-1"


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used (Linux /proc), load-independent unlike latency."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def server(url: str, pool_max: int) -> Iterator[tuple[str, int]]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLEARWELL_")}
    env.update(
        CLEARWELL_DATABASE_URL=url,
        CLEARWELL_LOG_LEVEL="WARNING",
        CLEARWELL_DB_POOL_MAX=str(pool_max),
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "clearwell.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("the server did not come up")
            time.sleep(0.1)
        yield base, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def prepare(url: str, clients: int) -> None:
    # Cheap hashes for the bench people: logins are not what is measured here.
    secrets.HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    # The demo site with its compliance profile (UT, class II), so every entry write's
    # staffing stamp really computes, as at a plant that uses compliance.
    await seed_compliance_demo(url)
    today = datetime.now(UTC).date()
    async with await psycopg.AsyncConnection.connect(url) as conn, conn.transaction():
        cur = await conn.execute("SELECT array_agg(id) FROM sites")
        sites = (await cur.fetchone() or [None])[0] or []
        for i in range(clients):
            person = await create_person(
                conn,
                audit.SYSTEM,
                f"bench-op-{i:02d}",
                f"Bench Operator {i}",
                "operator",
                PASSWORD,
                None,
                sites,
            )
            await conn.execute(
                "INSERT INTO operator_certificates (person_id, state, category, grade, number,"
                " kind, issued, expires) VALUES (%s, 'UT', 'treatment', %s, %s, 'full', %s, %s)",
                (
                    person,
                    "II" if i % 2 else "III",
                    f"BENCH-{i:02d}",
                    today - timedelta(days=400),
                    today + timedelta(days=700),
                ),
            )
        await audit.append(conn, audit.SYSTEM, "bench.certificates")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


ENTRY_MIX: list[tuple[str, dict[str, Any]]] = [
    ("reading", {"instrument": "influent flow", "value": 2.31, "unit": "MGD"}),
    (
        "chemical_addition",
        {"chemical": "NaOCl", "amount": 4.5, "unit": "gal", "feed_point": "contact basin"},
    ),
    (
        "process_adjustment",
        {"what": "blower 2 DO setpoint", "from_value": "2.0", "to_value": "1.8", "unit": "mg/L"},
    ),
    ("observation", {"text": "light foam on basin 2"}),
    ("note", {"text": "called the lab about the BOD bottles"}),
]


async def login(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    r = await client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['token']}"}


async def pace(start: float, n: int, interval: float) -> None:
    """Waits for the n-th send time of a client sending every ``interval`` s (0: no wait)."""
    if interval:
        delay = start + n * interval - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)


async def healthz_round(
    base: str, clients: int, per_client: int, interval: float = 0.0
) -> list[float]:
    latencies: list[float] = []
    async with httpx.AsyncClient(base_url=base, limits=httpx.Limits(max_connections=clients)) as c:

        async def one(i: int) -> None:
            start = time.perf_counter() + interval * i / clients
            for n in range(per_client):
                await pace(start, n, interval)
                t = time.perf_counter()
                r = await c.get("/healthz")
                latencies.append(time.perf_counter() - t)
                assert r.status_code == 200

        await asyncio.gather(*(one(i) for i in range(clients)))
    return latencies


async def write_round(
    base: str, clients: int, per_client: int, interval: float = 0.0, tag: str = ""
) -> tuple[list[float], float]:
    latencies: list[float] = []
    async with httpx.AsyncClient(
        base_url=base, limits=httpx.Limits(max_connections=clients), timeout=30
    ) as c:
        sessions = []
        for i in range(clients):
            headers = await login(c, f"bench-op-{i:02d}")
            me = (await c.get("/api/auth/me", headers=headers)).json()
            r = await c.post(
                "/api/shifts",
                json={
                    "site": "demo-wwtp",
                    "label": f"bench {i}",
                    "crew": [{"person_id": me["id"], "shift_role": "operator"}],
                },
                headers=headers,
            )
            r.raise_for_status()
            sessions.append((headers, r.json()["id"]))

        async def one(i: int) -> None:
            headers, shift_id = sessions[i]
            # Clients start spread over one interval, as terminals would.
            start = time.perf_counter() + interval * i / clients
            for n in range(per_client):
                await pace(start, n, interval)
                kind, data = ENTRY_MIX[n % len(ENTRY_MIX)]
                body = {"shift_id": shift_id, "kind": kind, "data": data}
                h = {**headers, "Idempotency-Key": f"{tag}c{i}-{n}"}
                t = time.perf_counter()
                r = await c.post("/api/entries", json=body, headers=h)
                latencies.append(time.perf_counter() - t)
                assert r.status_code == 201, r.text

        start = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(clients)))
        elapsed = time.perf_counter() - start
    return latencies, elapsed


async def raw_inserts(url: str, n: int) -> list[float]:
    """The write layer's bare entry insert (no checks, reactions or audit) and its commit."""
    out = []
    async with await psycopg.AsyncConnection.connect(url) as conn:
        cur = await conn.execute(
            "SELECT (SELECT id FROM sites WHERE code = 'demo-wwtp'),"
            " (SELECT id FROM people WHERE username = 'operator')"
        )
        site, person = await cur.fetchone()  # type: ignore[misc]
        shift = await shifts.insert_shift(conn, site, "", datetime.now(UTC), person)
        await conn.commit()
        for _ in range(n):
            t = time.perf_counter()
            at = datetime.now(UTC)
            await entries.insert_entry(
                conn, site, shift.id, "note", {"text": "raw"}, at, at, person
            )
            await conn.commit()
            out.append(time.perf_counter() - t)
    return out


async def populate_month(url: str, count: int, amended_share: float) -> tuple[datetime, datetime]:
    """A month of shifts (3 a day) and entries for a second facility, written as rows
    alone (no staffing stamps), named to the audit chain by one audit row per 100 rows
    (so that the month verifies, as the API's writes would)."""
    rng = random.Random(7)
    start = datetime(2026, 6, 1, 6, tzinfo=UTC)
    end = start + timedelta(days=30)
    async with await psycopg.AsyncConnection.connect(url) as conn:
        cur = await conn.execute(
            "INSERT INTO sites (code, name, timezone, state, category)"
            " VALUES ('month-plant', 'Month Plant', 'America/Denver', 'UT', 'treatment')"
            " RETURNING id"
        )
        site = (await cur.fetchone())[0]  # type: ignore[index]
        cur = await conn.execute("SELECT id FROM people WHERE username LIKE 'bench%'")
        people = [r[0] for r in await cur.fetchall()]
        # The bench people who list the month belong to its facility.
        await conn.execute(
            "INSERT INTO site_memberships (person_id, site_id, member)"
            " SELECT unnest(%s::int[]), %s, true",
            (people, site),
        )
        shift_ids = []
        for s in range(90):
            opened = start + timedelta(hours=8 * s)
            made = await shifts.insert_shift(conn, site, "", opened, people[s % len(people)])
            shift_ids.append(made.id)
        await audit.append(conn, audit.SYSTEM, "bench.month", "site", site, site)
        ids = []
        for n in range(count):
            if n and n % 100 == 0:
                await audit.append(conn, audit.SYSTEM, "bench.month", "site", site, site)
            at = start + timedelta(seconds=n * (30 * 86400 / count))
            s = min(int((at - start).total_seconds() // (8 * 3600)), 89)
            kind, data = ENTRY_MIX[n % len(ENTRY_MIX)]
            made = await entries.insert_entry(
                conn,
                site,
                shift_ids[s],
                kind,
                data,
                at,
                at + timedelta(minutes=3),
                people[s % len(people)],
            )
            ids.append(made.id)
        for entry_id in rng.sample(ids, int(len(ids) * amended_share)):
            await amendments.insert_amendment(
                conn,
                "entry",
                entry_id,
                {"data": {"text": "fixed"}},
                "bench correction",
                people[0],
                after_signing=False,
            )
        await audit.append(conn, audit.SYSTEM, "bench.month", "site", site, site)
        await conn.commit()
        await conn.execute("ANALYZE")
    return start, end


async def list_month(
    base: str, start: datetime, end: datetime, repeat: int
) -> tuple[list[float], int, int]:
    async with httpx.AsyncClient(base_url=base, timeout=60) as c:
        headers = await login(c, "bench-op-00")
        params = {
            "site": "month-plant",
            "from": start.isoformat(),
            "to": end.isoformat(),
            "limit": "10000",
        }
        times, count, size = [], 0, 0
        for _ in range(repeat + 1):
            t = time.perf_counter()
            r = await c.get("/api/entries", params=params, headers=headers)
            times.append(time.perf_counter() - t)
            r.raise_for_status()
            count, size = len(r.json()["items"]), len(r.content)
        return times[1:], count, size  # the first run warms caches


def raw_month_query(url: str, start: datetime, end: datetime, repeat: int) -> list[float]:
    out = []
    with psycopg.connect(url) as conn:
        for _ in range(repeat):
            t = time.perf_counter()
            rows = conn.execute(
                "SELECT e.* FROM entries e JOIN sites s ON s.id = e.site_id"
                " WHERE s.code = 'month-plant' AND e.occurred_at >= %s AND e.occurred_at < %s"
                " ORDER BY e.occurred_at, e.id",
                (start, end),
            ).fetchall()
            conn.execute(
                "SELECT * FROM amendments WHERE target = 'entry' AND target_id = ANY(%s)",
                ([r[0] for r in rows],),
            ).fetchall()
            out.append(time.perf_counter() - t)
    return out


def ms(x: float) -> str:
    return f"{x * 1000:.1f} ms"


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench logbook")
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--per-client", type=int, default=100)
    ap.add_argument("--month", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--pool", type=int, default=20, help="server's CLEARWELL_DB_POOL_MAX")
    ap.add_argument(
        "--rate", type=float, default=80, help="entries/s all clients offer in the paced round"
    )
    args = ap.parse_args(argv)
    with scratch_database("logbook") as (url, where):
        print(f"database: {where}")
        with psycopg.connect(url, autocommit=True) as conn:
            migrate(conn)
        asyncio.run(prepare(url, args.clients))
        with server(url, args.pool) as (base, pid):
            print(f"server: clearwell serve on {base} (pool max {args.pool})")
            raw = asyncio.run(raw_inserts(url, 500))
            print(
                f"baseline raw INSERT+commit x{len(raw)} (1 connection):"
                f" p50 {ms(percentile(raw, 0.5))}, p99 {ms(percentile(raw, 0.99))}"
            )
            interval = args.clients / args.rate
            for label, gap in (("saturated", 0.0), (f"paced {args.rate:g}/s", interval)):
                cpu = cpu_seconds(pid)
                hz = asyncio.run(healthz_round(base, args.clients, args.per_client, gap))
                hz_cpu = (cpu_seconds(pid) - cpu) / len(hz)
                print(
                    f"[{label}] baseline /healthz x{len(hz)} at {args.clients} clients:"
                    f" p50 {ms(percentile(hz, 0.5))}, p99 {ms(percentile(hz, 0.99))},"
                    f" server CPU {ms(hz_cpu)}/request"
                )
                cpu = cpu_seconds(pid)
                lat, elapsed = asyncio.run(
                    write_round(base, args.clients, args.per_client, gap, label[:3])
                )
                wr_cpu = (cpu_seconds(pid) - cpu) / len(lat)
                print(
                    f"[{label}] entry writes x{len(lat)} at {args.clients} clients:"
                    f" {len(lat) / elapsed:.0f}/s, p50 {ms(percentile(lat, 0.5))},"
                    f" p99 {ms(percentile(lat, 0.99))}, max {ms(max(lat))},"
                    f" server CPU {ms(wr_cpu)}/request (incl. {args.clients} logins and shifts);"
                    f" load average {os.getloadavg()[0]:.1f}"
                )
            start, end = asyncio.run(populate_month(url, args.month, 0.05))
            times, count, size = asyncio.run(list_month(base, start, end, args.repeat))
            raw_q = raw_month_query(url, start, end, args.repeat)
            print(
                f"month listing: {count} entries ({size / 1e6:.1f} MB JSON) x{len(times)}:"
                f" p50 {ms(statistics.median(times))}, max {ms(max(times))};"
                f" raw SQL of the same rows p50 {ms(statistics.median(raw_q))}"
            )
        with psycopg.connect(url) as conn:
            t = time.perf_counter()
            result = audit.verify(conn)
            verify_s = time.perf_counter() - t
            stamped, written = conn.execute(
                "SELECT count(st.entry_id), count(*) FROM entries e"
                " LEFT JOIN entry_staffing st ON st.entry_id = e.id"
                " JOIN people p ON p.id = e.recorded_by WHERE p.username LIKE 'bench-op-%'"
                " AND e.client_key IS NOT NULL"
            ).fetchone()  # type: ignore[misc]
        print(f"staffing stamps: {stamped} of the {written} entries written through the API")
        print(f"audit chain after the run: {result.rows} rows, broken: {result.broken}")
        assert result.records is not None
        print(
            f"verify (chain and every record row): {verify_s:.2f} s for {result.rows} audit"
            f" rows and {sum(result.records.counts.values())} record rows,"
            f" {len(result.records.findings)} findings"
        )
    return 0
