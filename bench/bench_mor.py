"""The monthly operating report for 200 tags of 1 s data (target: under 10 s).

A month of 1 s data for 200 tags is 518 million readings, too many to load here; the
report reads hourly rollups, so ``readings_1h`` is filled directly for the 200 tags
(November 2025, America/Denver, with its 25-hour day) and the report path is measured:
``dashboards.exports.service.build_files`` for the MOR (PDF and CSV) and the DMR:
rollup freshness check, load, pandas compute, rendering. Baselines in the same run:

* the same report for ONE tag made straight from 1 s raw readings (2.6 million rows,
  hourly aggregates by ``time_bucket`` over ``readings``), extrapolated to 200 tags;
* the rollup refresh of raw 1 s readings, per tag-day (what keeping the rollups fresh
  costs, paid as data arrives rather than when a report is made).

``--raw-step`` spaces the raw tag's readings further apart (a quick check of the bench;
the figures then no longer stand for 1 s data).

A scratch database on the server ``CLEARWELL_DATABASE_URL`` names, else a throwaway local
cluster (``bench/scratch.py``).

    .venv/bin/python -m bench mor [--tags N] [--repeat R] [--raw-step S] [--keep]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import psycopg

from bench.scratch import scratch_database
from clearwell.db import connection
from clearwell.migrate import migrate
from dashboards.exports import service
from dashboards.exports.mor import HOURLY_COLUMNS, compute
from dashboards.exports.permit import Permit
from dashboards.exports.plant_day import month_bounds
from dashboards.trends.rollups import mark_range, refresh_all

# A run small enough to check the bench end to end in seconds (tests/bench/test_smoke.py);
# its figures mean nothing.
SMOKE_ARGS = ("--tags", "55", "--repeat", "1", "--raw-step", "60")

TZ = ZoneInfo("America/Denver")
YEAR, MONTH = 2025, 11
TOTALIZERS = 50  # of the tags; the rest are averaged signals


def site_file(tags: int) -> str:
    report = "\n".join(
        f"    - {{name: Tag {i}, tag: t{i:03d}, daily: {'total' if i < TOTALIZERS else 'avg'},"
        f" unit: u, monthly: [{'total' if i < TOTALIZERS else 'avg, max, min'}]}}"
        for i in range(tags)
    )
    return f"""\
site: {{code: bench, name: Bench WWTP, timezone: America/Denver}}
permit:
  number: UT0000001
  parameters:
    - {{name: Flow, code: "50050", location: "1", tag: t000, daily: total,
       statistical_base: MO TOTAL, unit: m3}}
    - {{name: Signal, code: "00400", location: "1", tag: t{TOTALIZERS:03d}, daily: avg,
       statistical_base: MO AVG, unit: u}}
  report:
{report}
"""


def prepare(url: str, tags: int, raw_step: int) -> tuple[float, float, int]:
    with connection(url, autocommit=True) as conn:
        migrate(conn)
    lo, hi = month_bounds(YEAR, MONTH, TZ)
    lo -= timedelta(days=1)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO sites (code, name, timezone) VALUES ('bench', 'Bench WWTP', %s)",
            (str(TZ),),
        )
        conn.execute(
            "INSERT INTO tags (site_id, name, unit, source_protocol)"
            " SELECT 1, 't' || lpad(i::text, 3, '0'), 'u', 'modbus'"
            " FROM generate_series(0, %s) AS i",
            (tags,),  # one more than the report's: the raw baseline's tag
        )
        person = conn.execute(
            "INSERT INTO people (username, full_name) VALUES ('chief', 'Bench Chief') RETURNING id"
        ).fetchone()
        assert person
        conn.execute(
            "INSERT INTO person_roles (person_id, role) VALUES (%s, 'chief_operator')", (person[0],)
        )
        t0 = time.perf_counter()
        # Hourly rollups as 1 s data gives them: 3,600 good samples an hour.
        conn.execute(
            """INSERT INTO readings_1h (tag_id, bucket, n_good, n_bad, sum, min, max, first, last,
                                        first_time, last_time, last_status)
               SELECT t.id, b, 3600, 0, 3600 * v, v - 1, v + 1, v, v + 0.5,
                      b, b + interval '3599 seconds', 0
               FROM tags t CROSS JOIN generate_series(%(lo)s, %(hi)s - interval '1 hour',
                                                      interval '1 hour') AS b
               CROSS JOIN LATERAL (SELECT CASE WHEN t.id <= %(tot)s
                   THEN extract(epoch FROM b - %(lo)s) / 3600 * 400
                   ELSE 5 + sin(extract(epoch FROM b) / 86400 * 6.28) + t.id / 100.0 END AS v) x
               WHERE t.id <= %(tags)s""",
            {"lo": lo, "hi": hi, "tot": TOTALIZERS, "tags": tags},
        )
        fill_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        raw_tag = tags + 1
        raw = conn.execute(
            """INSERT INTO readings (time, tag_id, value, status)
               SELECT t, %(tag)s, 5 + sin(extract(epoch FROM t) / 86400 * 6.28), 0
               FROM generate_series(%(lo)s, %(hi)s - interval '1 second',
                                    %(step)s * interval '1 second') t""",
            {"tag": raw_tag, "lo": lo, "hi": hi, "step": raw_step},
        )
        conn.execute("VACUUM ANALYZE readings")
        conn.execute("ANALYZE readings_1h")
        raw_s = time.perf_counter() - t0
    return fill_s, raw_s, raw.rowcount


async def time_report(url: str, permit: Permit, repeat: int) -> tuple[list[float], int]:
    samples = []
    size = 0
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        site = await service.load.site(conn, "bench")
        who = await service.exporter(conn, "chief")
        for _ in range(repeat):
            t0 = time.perf_counter()
            files = await service.build_files(
                conn, site, permit, YEAR, MONTH, service.REPORT_KINDS, who, datetime.now(UTC)
            )
            samples.append(time.perf_counter() - t0)
            size = sum(len(b) for b in files.values())
    return samples, size


def time_raw_baseline(url: str, permit: Permit, tag: str, repeat: int) -> list[float]:
    """One tag's report with its hourly values aggregated from raw 1 s readings."""
    one = Permit.model_validate(
        {
            "number": permit.number,
            "parameters": [p.model_dump() for p in permit.parameters[1:2]],
            "report": [{"name": "Raw", "tag": tag, "daily": "avg", "unit": "u"}],
        }
    )
    lo, hi = month_bounds(YEAR, MONTH, TZ)
    samples = []
    with psycopg.connect(url) as conn:
        for _ in range(repeat):
            t0 = time.perf_counter()
            rows = conn.execute(
                "SELECT t.name, time_bucket('1 hour', r.time), count(*), sum(r.value),"
                " min(r.value), max(r.value), last(r.value, r.time)"
                " FROM readings r JOIN tags t ON t.id = r.tag_id"
                " WHERE t.name = %s AND r.time >= %s AND r.time < %s GROUP BY 1, 2",
                (tag, lo - timedelta(days=1), hi),
            ).fetchall()
            hourly = pd.DataFrame(rows, columns=list(HOURLY_COLUMNS))
            hourly["bucket"] = pd.to_datetime(hourly["bucket"], utc=True)
            days, monthly = compute(
                columns=one.mor_columns(),
                hourly=hourly,
                lab=pd.DataFrame(columns=["analyte", "sampled_at", "value", "qualifier",
                                          "detection_limit"]),
                year=YEAR, month=MONTH, tz=TZ, rule=one.below_detection, in_charge={},
            )  # fmt: skip
            assert days and monthly
            samples.append(time.perf_counter() - t0)
    return samples


async def time_refresh_tag_day(url: str, tag_id: int) -> float:
    lo = month_bounds(YEAR, MONTH, TZ)[0] + timedelta(days=10)
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await mark_range(conn, lo, lo + timedelta(days=1), [tag_id])
        t0 = time.perf_counter()
        await refresh_all(conn, wait_for_lock=True)
        return time.perf_counter() - t0


def _fmt(samples: list[float]) -> str:
    return f"{statistics.median(samples):.2f} s (min {min(samples):.2f}, max {max(samples):.2f})"


def run(url: str, tags: int, repeat: int, raw_step: int) -> list[tuple[str, Any]]:
    print(f"filling readings_1h for {tags} tags and {raw_step} s readings for 1 tag …", flush=True)
    fill_s, raw_s, raw_rows = prepare(url, tags, raw_step)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.yaml"
        path.write_text(site_file(tags))
        permit = service.permit_for("bench", Path(tmp), path)
    results: list[tuple[str, Any]] = [
        (f"fill readings_1h ({tags} tags x 744 h, SQL)", f"{fill_s:.1f} s"),
        (
            f"insert {raw_step} s readings of one tag for the month ({raw_rows:,} rows)",
            f"{raw_s:.1f} s",
        ),
    ]
    samples, size = asyncio.run(time_report(url, permit, repeat))
    results.append(
        (f"MOR (PDF + CSV) + DMR, {tags} tags from rollups ({size:,} bytes)", _fmt(samples))
    )
    raw = time_raw_baseline(url, permit, f"t{tags:03d}", repeat)
    results.append((f"baseline: one tag's report from raw {raw_step} s readings", _fmt(raw)))
    results.append(
        (
            f"baseline extrapolated to {tags} tags",
            f"{statistics.median(raw) * tags:.0f} s"
            f" ({statistics.median(raw) * tags / statistics.median(samples):.0f}x the report)",
        )
    )
    per_day = asyncio.run(time_refresh_tag_day(url, tags + 1))
    results.append(
        (
            f"rollup refresh, one tag-day of {raw_step} s readings ({86_400 // raw_step:,} rows)",
            f"{per_day:.2f} s",
        )
    )
    results.append(
        (
            f"rollup refresh extrapolated to {tags} tags x 30 days",
            f"{per_day * tags * 30 / 60:.0f} min (spread over the month as data arrives)",
        )
    )
    return results


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench mor")
    parser.add_argument("--tags", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--raw-step", type=int, default=1, help="seconds between the raw baseline tag's readings"
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args(argv)
    with scratch_database("mor", keep=args.keep) as (url, where):
        print(f"database: {where}", flush=True)
        results = run(url, args.tags, args.repeat, args.raw_step)
    width = max(len(k) for k, _ in results)
    for k, v in results:
        print(f"{k:<{width}}  {v}")
    return 0
