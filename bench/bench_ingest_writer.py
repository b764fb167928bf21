"""Ingest writer throughput against the ceiling of a raw binary COPY, in one run.

(a) raw: psycopg binary COPY of the rows straight into the ``readings``
    hypertable, one COPY and commit per ``--batch`` rows: the ceiling.
(b) writer: the same rows through :class:`ingest.writer.Writer` as collectors
    feed it (``submit`` of one poll cycle of all tags at a time), its run loop
    batching, COPYing and committing, until every row is committed. The
    producer holds back while more than two batches are queued, which is what
    the sustained rate means: the writer, not the producer, sets the pace.
(c) writer, staging path: the same, every batch through the temporary table
    and ``INSERT … ON CONFLICT DO NOTHING`` (what replays and retried batches take).
(d) spool replay: the rows spooled on disk while the database is "away", then
    drained into the database when it returns.

Runs against a scratch database created on the server of ``CLEARWELL_DATABASE_URL``
(its role needs CREATEDB; the scratch database is dropped afterwards), or a
throwaway local cluster when that is not set (no fsync there: faster, same ratios).

    .venv/bin/python -m bench ingest_writer [--tags 1000] [--seconds 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
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

# A run small enough to check the bench end to end in seconds (tests/bench/test_smoke.py);
# its figures mean nothing.
SMOKE_ARGS = ("--tags", "50", "--seconds", "100", "--batch", "1000", "--repeat", "1")

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def make_cycles(tags: int, seconds: int) -> list[list[Row]]:
    """One list per poll cycle: every tag at the same second, values varying."""
    return [
        [
            (T0 + timedelta(seconds=s), tag, 50.0 + ((s * 7 + tag) % 100) * 0.25, 0, None)
            for tag in range(1, tags + 1)
        ]
        for s in range(seconds)
    ]


def truncate(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE readings")
        conn.execute("CHECKPOINT") if conn.info.parameter_status("is_superuser") == "on" else None


def count(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM readings").fetchone()
    assert row is not None
    return int(row[0])


def raw_copy(url: str, rows: list[Row], batch: int, table: str = "readings") -> float:
    """Binary COPY of the rows into ``table``, a transaction per ``batch``; seconds taken."""
    with psycopg.connect(url) as conn:
        started = time.perf_counter()
        for i in range(0, len(rows), batch):
            with conn.transaction(), conn.cursor() as cur:
                with cur.copy(
                    f"COPY {table} (time, tag_id, value, status, server_time)"
                    " FROM STDIN (FORMAT BINARY)"
                ) as copy:
                    copy.set_types(COPY_TYPES)
                    for row in rows[i : i + batch]:
                        copy.write_row(row)
        return time.perf_counter() - started


async def through_writer(
    url: str,
    cycles: list[list[Row]],
    options: IngestOptions,
    spool_dir: Path,
    stage: bool,
    hooks: bool = True,
) -> float:
    total = sum(len(c) for c in cycles)
    writer = Writer(
        url,
        Spool(spool_dir / f"w{time.monotonic_ns()}.sqlite", 10**10),
        options,
        always_stage=stage,
        # Without: what the rollups' dirty marks (clearwell.hooks) cost the writer.
        reactions=None if hooks else [],
    )
    task = asyncio.create_task(writer.run())
    started = time.perf_counter()
    for cycle in cycles:
        while writer.queue_rows > 2 * options.batch_rows:
            await asyncio.sleep(0.001)
        writer.submit(cycle)
        await asyncio.sleep(0)
    while writer.stats.rows_committed < total:
        await asyncio.sleep(0.005)
    elapsed = time.perf_counter() - started
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return elapsed


async def replay(
    url: str, cycles: list[list[Row]], options: IngestOptions, spool_dir: Path
) -> tuple[float, float]:
    total = sum(len(c) for c in cycles)
    spool = Spool(spool_dir / f"r{time.monotonic_ns()}.sqlite", 10**10)
    started = time.perf_counter()
    step = max(1, options.batch_rows // len(cycles[0]))
    for i in range(0, len(cycles), step):
        spool.append([r for c in cycles[i : i + step] for r in c])
    spooled = time.perf_counter() - started
    writer = Writer(url, spool, options)
    started = time.perf_counter()
    while writer.stats.rows_committed < total:
        await writer.flush()
    elapsed = time.perf_counter() - started
    await writer.close()
    return spooled, elapsed


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench ingest_writer")
    parser.add_argument("--tags", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    cycles = make_cycles(args.tags, args.seconds)
    rows = [r for c in cycles for r in c]
    n = len(rows)
    options = IngestOptions(
        batch_rows=args.batch, flush_interval_s=0.05, max_queue_rows=10 * args.batch
    )
    results: dict[str, list[float]] = {
        "a": [],
        "b": [],
        "b_bare": [],
        "c": [],
        "d": [],
        "d_spool": [],
    }
    with scratch_database("ingest") as (url, where), tempfile.TemporaryDirectory() as tmp:
        with psycopg.connect(url, autocommit=True) as conn:
            migrate(conn)
        for i in range(args.repeat):
            # (a) and (b) take turns going first, so that neither always meets the
            # database just after a TRUNCATE or just after the other's writes.
            order = ("a", "b") if i % 2 == 0 else ("b", "a")
            for key in order:
                truncate(url)
                if key == "a":
                    results["a"].append(n / raw_copy(url, rows, args.batch))
                else:
                    elapsed = asyncio.run(through_writer(url, cycles, options, Path(tmp), False))
                    results["b"].append(n / elapsed)
                assert count(url) == n
            truncate(url)
            results["b_bare"].append(
                n / asyncio.run(through_writer(url, cycles, options, Path(tmp), False, False))
            )
            assert count(url) == n
            truncate(url)
            results["c"].append(
                n / asyncio.run(through_writer(url, cycles, options, Path(tmp), True))
            )
            assert count(url) == n
            truncate(url)
            spooled, drained = asyncio.run(replay(url, cycles, options, Path(tmp)))
            results["d_spool"].append(n / spooled)
            results["d"].append(n / drained)
            assert count(url) == n

    def med(key: str) -> float:
        return statistics.median(results[key])

    def spread(key: str) -> str:
        return f"{min(results[key]):,.0f}-{max(results[key]):,.0f}"

    a = med("a")
    print(f"date      {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"database  {where}")
    print(
        f"data      {n:,} rows ({args.tags} tags x {args.seconds} s),"
        f" batches of {args.batch:,}; median of {args.repeat}"
    )
    print(f"(a) raw binary COPY          {a:>11,.0f} rows/s  ({spread('a')})")
    for key, label in (
        ("b", "(b) writer, whole path"),
        ("b_bare", "    (b) without rollup marks"),
        ("c", "(c) writer, staging path"),
        ("d", "(d) spool replay"),
    ):
        print(f"{label:<28} {med(key):>11,.0f} rows/s  ({spread(key)})  {med(key) / a:6.1%} of (a)")
    print(f"    spooling (append to disk) {med('d_spool'):>10,.0f} rows/s")
    target = med("b") >= 0.7 * a and med("b") >= 150_000
    print(f"target (b) >= 70 % of (a) and >= 150,000 rows/s: {'met' if target else 'NOT met'}")
    return 0
