"""The floor terminal's page with a year of data: server time per request, p50 and p95.

Builds a demo-sized plant in a scratch database (on the server ``CLEARWELL_DATABASE_URL``
names, else a throwaway local cluster): 41 tags in 6 process areas with a year of
readings every 60 s (21.5 million rows) and their per-minute rollups for the year, a year
of 8-hour shifts (3 a day, closed, with crew and a handoff note each), 30 entries a
shift, 10 alarms a day (a few never acknowledged), and an open shift now. Then, through
the app in process (ASGI, its own pool, logged in as an operator), in the same run:

* ``GET /floor/bench``: the whole page (shift, crew, handoff, alarms, 40 tiles with
  sparklines, forms' last values), and its three refreshed parts;
* baselines: ``GET /healthz`` (the app's own floor) and ``GET /api/readings/latest``
  (the latest reading of each tag, which the tiles also read).

Requests alternate between the measured routes, so load from elsewhere hits all alike.

    .venv/bin/python -m bench floor [--days N] [--repeat R] [--keep]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
from argon2 import PasswordHasher

from bench.scratch import scratch_database
from clearwell.app import create_app
from clearwell.migrate import migrate
from clearwell.settings import load_settings
from logbook import audit
from logbook.auth import secrets
from logbook.people import create_person

# A run small enough to check the bench end to end in seconds (tests/bench/test_smoke.py);
# its figures mean nothing.
SMOKE_ARGS = ("--days", "1", "--repeat", "2")

SITE = "bench"
AREAS = {
    "influent": ["flow", "ph", "temperature", "level", "tss", "total"],
    "aeration": ["do1", "do2", "do3", "airflow", "mlss", "blower1", "blower2", "pressure"],
    "clarifier": ["sludge_blanket", "ras_flow", "was_flow", "torque", "level"],
    "disinfection": ["cl2_dose", "cl2_residual", "contact_time", "ct", "uv_intensity"],
    "effluent": ["flow", "ph", "turbidity", "tss", "temperature", "do", "total"],
    "liftstation": ["wetwell", "pump1_run", "pump2_run", "pump1_amps", "pump2_amps",
                    "discharge", "runtime", "starts", "alarm", "power"],
}  # fmt: skip
PASSWORD = "bench-password-1"


def load(url: str, days: int) -> dict[str, Any]:
    """The plant and its year; returns counts and load times."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    start = now - timedelta(days=days)
    timings: dict[str, Any] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        migrate(conn)
        row = conn.execute(
            "INSERT INTO sites (code, name, timezone) VALUES (%s, 'Bench WWTP',"
            " 'America/Denver') RETURNING id",
            (SITE,),
        ).fetchone()
        assert row
        site = row[0]
        names = [f"{a}.{t}" for a, tags in AREAS.items() for t in tags]
        tag_ids = [
            conn.execute(
                "INSERT INTO tags (site_id, name, unit, source_protocol, limit_hi)"
                " VALUES (%s, %s, 'u', 'modbus', 9.5) RETURNING id",
                (site, name),
            ).fetchone()[0]  # type: ignore[index]
            for name in names
        ]
        t0 = time.perf_counter()
        # One tag at a time keeps each INSERT's sort small; values wander around 5.
        for tag in tag_ids:
            conn.execute(
                """INSERT INTO readings (time, tag_id, value, status)
                   SELECT t, %s, 5 + 3 * sin(extract(epoch FROM t) / 5000.0 + %s), 0
                   FROM generate_series(%s::timestamptz, %s, interval '60 s') t""",
                (tag, tag, start, now),
            )
            conn.execute(
                """INSERT INTO readings_1m (tag_id, bucket, n_good, n_bad, sum, min, max,
                       first, last, first_time, last_time, last_status)
                   SELECT %s, t, 1, 0, v, v, v, v, v, t, t, 0 FROM (
                       SELECT t, 5 + 3 * sin(extract(epoch FROM t) / 5000.0 + %s) AS v
                       FROM generate_series(%s::timestamptz, %s, interval '60 s') t) s""",
                (tag, tag, start, now),
            )
        timings["readings"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        logbook_year(conn, url, site, start, now)
        timings["logbook"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        conn.execute("VACUUM ANALYZE")
        timings["vacuum"] = time.perf_counter() - t0
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM readings), (SELECT count(*) FROM readings_1m),"
            " (SELECT count(*) FROM shifts), (SELECT count(*) FROM entries),"
            " (SELECT count(*) FROM events)"
        ).fetchone()
    assert counts
    return {"counts": counts, "timings": timings, "tags": len(tag_ids)}


def logbook_year(
    conn: psycopg.Connection[Any], url: str, site: int, start: datetime, now: datetime
) -> None:
    """People, then shifts, crews, entries and alarms for the period, set-based."""
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    saved, secrets.HASHER = secrets.HASHER, cheap
    try:

        async def people() -> None:
            async with await psycopg.AsyncConnection.connect(url) as a, a.transaction():
                for i in range(8):
                    role = "chief_operator" if i == 0 else "operator"
                    name = f"Operator {i}"
                    await create_person(
                        a, audit.SYSTEM, f"op{i}", name, role, PASSWORD, None, [site]
                    )

        asyncio.run(people())
    finally:
        secrets.HASHER = saved
    conn.execute(
        """INSERT INTO shifts (site_id, label, opened_at, opened_by)
           SELECT %s, 'Shift', t, 1 + (n %% 8)
           FROM generate_series(%s::timestamptz, %s, interval '8 hours') WITH ORDINALITY g(t, n)""",
        (site, start, now - timedelta(hours=1)),
    )
    conn.execute(
        """INSERT INTO shift_crew (shift_id, person_id, shift_role, arrived_at, added_by)
           SELECT s.id, p.person_id, p.role, s.opened_at, s.opened_by
           FROM shifts s CROSS JOIN LATERAL (VALUES (1 + (s.id % 8)::int, 'drc'),
               (1 + ((s.id + 3) % 8)::int, 'operator')) p(person_id, role)"""
    )
    last = conn.execute("SELECT max(id) FROM shifts").fetchone()[0]  # type: ignore[index]
    conn.execute(
        """INSERT INTO shift_closures (shift_id, closed_at, closed_by)
           SELECT id, opened_at + interval '8 hours', opened_by FROM shifts WHERE id <> %s""",
        (last,),
    )
    conn.execute(
        """INSERT INTO handoff_notes (from_shift_id, body, written_by, written_at)
           SELECT id, 'All normal, blower 2 noisy', opened_by, opened_at + interval '7 hours'
           FROM shifts WHERE id <> %s""",
        (last,),
    )
    conn.execute(
        """INSERT INTO entries (site_id, shift_id, kind, data, operational, occurred_at,
                                recorded_by)
           SELECT %s, s.id, k.kind, k.data, k.op, s.opened_at + (n * interval '15 minutes'),
                  s.opened_by
           FROM shifts s CROSS JOIN generate_series(1, 30) n
           CROSS JOIN LATERAL (SELECT * FROM (VALUES
               ('reading', '{"instrument": "pH meter", "value": 7.1, "unit": "pH"}'::jsonb, false),
               ('chemical_addition', '{"chemical": "NaOCl", "amount": 10, "unit": "gal",
                 "feed_point": "contact tank"}'::jsonb, true),
               ('observation', '{"text": "normal"}'::jsonb, false)) v(kind, data, op)
               OFFSET (n %% 3) LIMIT 1) k
           WHERE s.opened_at + (n * interval '15 minutes') < now()""",
        (site,),
    )
    conn.execute(
        """INSERT INTO events (site_id, tag_id, kind, code, severity, message, started_at,
                               last_seen_at, ended_at)
           SELECT %s, t.id, 'limit', 'hi' || n, 'alarm', t.name || ' high', g, g,
                  CASE WHEN g < now() - interval '1 hour' THEN g + interval '5 minutes' END
           FROM generate_series(%s::timestamptz, %s, interval '144 minutes') WITH ORDINALITY
                e(g, n)
           JOIN tags t ON t.id = 1 + (n %% 41)::int""",
        (site, start, now),
    )
    # Every alarm but the last 20 acknowledged by an entry on its shift.
    conn.execute(
        """INSERT INTO entries (site_id, shift_id, kind, data, operational, occurred_at,
                                recorded_by, event_id)
           SELECT %s, s.id, 'alarm_ack', jsonb_build_object('event_id', e.id,
                  'response', 'checked'), false, e.started_at + interval '1 minute',
                  s.opened_by, e.id
           FROM events e JOIN LATERAL (SELECT id, opened_by FROM shifts
                WHERE opened_at <= e.started_at ORDER BY opened_at DESC LIMIT 1) s ON true
           WHERE e.id < (SELECT max(id) - 20 FROM events)""",
        (site,),
    )


async def measure(url: str, repeat: int, tags: int) -> dict[str, list[float]]:
    app = create_app(load_settings(database_url=url))
    app.state.rollup_refresh_interval_s = None
    routes = {
        "healthz": "/healthz",
        "latest": f"/api/readings/latest?site={SITE}",
        "floor": f"/floor/{SITE}",
        "tiles": f"/floor/{SITE}/tiles",
        "alarms": f"/floor/{SITE}/alarms",
        "shift": f"/floor/{SITE}/shift",
    }
    out: dict[str, list[float]] = {name: [] for name in routes}
    server: list[float] = []
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as c:
            r = await c.post("/api/auth/login", json={"username": "op1", "password": PASSWORD})
            assert r.status_code == 200, r.text
            c.headers["Authorization"] = f"Bearer {r.json()['token']}"
            for i in range(repeat + 5):
                for name, path in routes.items():
                    t0 = time.perf_counter()
                    response = await c.get(path)
                    spent = time.perf_counter() - t0
                    assert response.status_code == 200, (path, response.status_code)
                    if i >= 5:  # the first rounds warm the pool and the caches
                        out[name].append(spent)
                        if name == "floor":
                            timing = response.headers["server-timing"]
                            server.append(float(timing.split("dur=")[1]) / 1000)
            page = (await c.get(routes["floor"])).text
            assert page.count('class="tile ') == tags, "every tag has a tile"
    out["floor (handler, Server-Timing)"] = server
    return out


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench floor")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args(argv)
    with scratch_database("floor") as (url, where):
        print(f"database: {where}; loading {args.days} days …", flush=True)
        loaded = load(url, args.days)
        results = asyncio.run(measure(url, args.repeat, loaded["tags"]))
    readings, minutes, shifts, entries, events = loaded["counts"]
    print(f"rows: readings {readings:,}, readings_1m {minutes:,}, shifts {shifts:,},"
          f" entries {entries:,}, events {events:,}")  # fmt: skip
    t = loaded["timings"]
    print(f"load: readings+rollups {t['readings']:.0f} s, logbook {t['logbook']:.0f} s,"
          f" vacuum {t['vacuum']:.0f} s")  # fmt: skip
    base = statistics.median(results["healthz"])
    print()
    print(f"| request ({args.repeat} each, interleaved) | p50 | p95 | max | p50 / healthz |")
    print("|---|---|---|---|---|")
    for name, samples in results.items():
        print(
            f"| {name} | {statistics.median(samples) * 1000:.1f} ms | {p95(samples) * 1000:.1f} ms"
            f" | {max(samples) * 1000:.1f} ms | {statistics.median(samples) / base:.1f}x |"
        )
    return 0
