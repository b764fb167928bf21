"""A day-long spool from one plant replayed into the centre's database.

A plant cut from the centre for ``--hours`` spools every reading its collectors take
(``--tags`` tags at 1 s, one spooled batch per second, as the writer spools a flush);
when the link is back its writer replays the spool oldest first, ``batch_rows`` at a
time, each batch deleted once committed, while the plant's live readings queue behind.
Measured: the spool's size and the time to fill it, then the replay: rows/s, how long
the day takes, and how much faster than the plant produces it (the catch-up ratio: a
ratio of 10 replays a day's outage in 2.4 h while the plant goes on). The baseline is a
plain binary COPY of one hour of the same rows, in the same database.

Runs against a scratch database on ``CLEARWELL_DATABASE_URL``'s server, or a throwaway
local cluster (fsync off) when that is not set.

    .venv/bin/python -m bench edge_replay [--tags 100] [--hours 24]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from bench.scratch import scratch_database
from clearwell.migrate import migrate
from ingest.readings import COPY_TYPES, Row
from ingest.spool import Spool
from ingest.writer import Writer
from sitefile.models import IngestOptions

SMOKE_ARGS = ("--tags", "20", "--hours", "0.05")

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def second(s: int, tags: int) -> list[Row]:
    at = T0 + timedelta(seconds=s)
    return [(at, tag, 50.0 + ((s * 7 + tag) % 100) * 0.25, 0, None) for tag in range(1, tags + 1)]


def fill(spool: Spool, tags: int, seconds: int) -> float:
    started = time.perf_counter()
    for s in range(seconds):
        spool.append(second(s, tags))
    return time.perf_counter() - started


async def replay(url: str, spool: Spool) -> tuple[float, Writer]:
    writer = Writer(url, spool, IngestOptions(), site_code="bench")
    started = time.perf_counter()
    while spool.rows:
        await writer.flush()
        if writer.stats.state != "up":
            raise RuntimeError(f"the database refused the replay: {writer.stats.last_error}")
    took = time.perf_counter() - started
    await writer.close()
    return took, writer


def copy_baseline(url: str, tags: int, seconds: int) -> float:
    """An hour (or less) of the same rows at a later time, by plain binary COPY."""
    rows = [r for s in range(seconds) for r in second(s + 10**7, tags)]
    with psycopg.connect(url) as conn:
        started = time.perf_counter()
        with conn.cursor() as cur:
            with cur.copy(
                "COPY readings (time, tag_id, value, status, server_time) FROM STDIN"
                " (FORMAT BINARY)"
            ) as copy:
                copy.set_types(COPY_TYPES)
                for row in rows:
                    copy.write_row(row)
        conn.commit()
        return len(rows) / (time.perf_counter() - started)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench edge_replay")
    parser.add_argument("--tags", type=int, default=100, help="tags read every second")
    parser.add_argument("--hours", type=float, default=24.0, help="length of the outage")
    args = parser.parse_args(argv)
    seconds = int(args.hours * 3600)
    rows = seconds * args.tags
    with scratch_database("edge") as (url, where), tempfile.TemporaryDirectory() as tmp:
        with psycopg.connect(url, autocommit=True) as conn:
            migrate(conn)
        spool = Spool(Path(tmp) / "spool.sqlite", 10**11)
        filled = fill(spool, args.tags, seconds)
        size = spool.bytes
        took, writer = asyncio.run(replay(url, spool))
        baseline = copy_baseline(url, args.tags, min(seconds, 3600))
        with psycopg.connect(url) as conn:
            row = conn.execute(
                "SELECT count(*) FROM readings WHERE time < %s", (T0 + timedelta(days=30),)
            ).fetchone()
        stored = row[0] if row else 0
    rate = rows / took
    print(f"database     {where}")
    print(
        f"spool        {rows:,} rows ({args.tags} tags x {seconds:,} s), {size / 1e6:,.1f} MB,"
        f" filled in {filled:.1f} s ({rows / filled:,.0f} rows/s)"
    )
    print(
        f"replay       {rate:,.0f} rows/s: the outage replayed in {took:,.1f} s"
        f" ({took / 60:,.1f} min); stored {stored:,}, duplicates {writer.stats.rows_duplicate}"
    )
    print(
        f"catch-up     {rate / args.tags:,.0f}x the plant's rate ({args.tags} rows/s):"
        f" a day's outage replayed in {86400 * args.tags / rate / 60:,.1f} min"
    )
    print(
        f"baseline     plain binary COPY of {min(seconds, 3600) * args.tags:,} rows:"
        f" {baseline:,.0f} rows/s; replay {rate / baseline:.0%} of it"
    )
    return 0 if stored == rows else 1
