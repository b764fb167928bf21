"""The storage budget: disk per stored reading and per plant-year, raw and rollups.

A plant of ``--tags`` tags (2,000 by default) is simulated for ``--minutes``:

* analog values with process noise (flows, levels, DO, pressure: a slow swing
  plus gaussian noise of 0.05-0.3 % of range), polled every second;
* slowly changing values (temperatures, tank levels), polled every 5 s;
* totalizers (volumes, counted up by their flow), polled every 10 s, with the
  deadband the site file gives them (1 unit);
* on/off states (pumps, valves, blowers), polled every second, changing every
  few minutes to hours.

Each poll goes through :class:`ingest.tagstate.TagState` as a collector's does, twice:

(a) before: the landed schema and today's defaults (every poll stored unless the
    tag has a deadband of its own), written by binary COPY in the writer's batches
    into ``readings_baseline``, a hypertable made here as migrations 0003-0004 and
    the covering index made ``readings``;
(b) after: the current schema and defaults (``IngestOptions``), through the real
    :class:`ingest.writer.Writer` (with its rollup marks) into ``readings``; the
    rollups are then refreshed.

Sizes are PostgreSQL's, summed over each hypertable's chunks: heap (main fork),
indexes and TOAST; free-space and visibility maps are left out. A plant-year is
the simulated period's stored rows scaled to 365.25 days; rollups the same.

    .venv/bin/python -m bench storage [--tags 2000] [--minutes 60]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import random
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from bench.bench_ingest_writer import raw_copy
from bench.scratch import scratch_database
from clearwell.migrate import migrate
from dashboards.trends.rollups import refresh_all
from ingest.readings import Row
from ingest.spool import Spool
from ingest.tagstate import TagState
from ingest.writer import Writer
from sitefile.models import IngestOptions, Tag

SMOKE_ARGS = ("--tags", "40", "--minutes", "3")

T0 = datetime(2026, 3, 2, tzinfo=UTC)
YEAR_S = 365.25 * 86400
BATCH_ROWS = 50_000

BASELINE_DDL = (
    """CREATE TABLE readings_baseline (
        time timestamptz NOT NULL, tag_id integer NOT NULL, value double precision,
        status integer NOT NULL DEFAULT 0, server_time timestamptz)""",
    "SELECT create_hypertable('readings_baseline', by_range('time', INTERVAL '1 day'),"
    " create_default_indexes => false)",
    "CREATE UNIQUE INDEX readings_baseline_tag_time_covering"
    " ON readings_baseline (tag_id, time DESC) INCLUDE (value, status)",
)


@dataclass
class Simulated:
    """One tag of the plant: its site-file entry, how often it is polled, its signal."""

    tag: Tag
    kind: str
    every_s: int
    signal: Callable[[int], float]


def _modbus_tag(i: int, kind: str, **extra: Any) -> Tag:
    register = "coil" if kind == "state" else "holding"
    typ = "bool" if kind == "state" else "float32"
    return Tag.model_validate(
        {
            "name": f"{kind}.{i:05d}",
            "source": "modbus",
            "modbus": {"device": "plc", "register": register, "address": i % 60000, "type": typ},
            **extra,
        }
    )


class Analog:
    """A slow swing of a tenth of the range plus noise."""

    def __init__(self, g: random.Random, span: float) -> None:
        self.g, self.base, self.swing = g, span * 0.5, span * 0.1
        self.noise = span * g.uniform(0.0005, 0.003)
        self.period, self.phase = g.uniform(1800, 14400), g.uniform(0, 2 * math.pi)

    def __call__(self, s: int) -> float:
        wave = math.sin(2 * math.pi * s / self.period + self.phase)
        return self.base + self.swing * wave + self.g.gauss(0, self.noise)


class Slow:
    """A temperature drifting by up to half a degree an hour, with a little noise."""

    def __init__(self, g: random.Random) -> None:
        self.g, self.start, self.drift = g, g.uniform(5, 30), g.uniform(-0.5, 0.5) / 3600

    def __call__(self, s: int) -> float:
        return self.start + self.drift * s + self.g.gauss(0, 0.01)


class Totalizer:
    """A volume counted up by its flow, in tenths."""

    def __init__(self, g: random.Random) -> None:
        self.rate = g.uniform(0.01, 0.5)

    def __call__(self, s: int) -> float:
        return math.floor(self.rate * s * 10) / 10


class OnOff:
    """A pump or valve changing state every few minutes to hours."""

    def __init__(self, g: random.Random) -> None:
        self.g, self.mean_s = g, g.choice((300.0, 1800.0, 7200.0))
        self.on = float(g.random() < 0.5)

    def __call__(self, s: int) -> float:
        if self.g.random() < 1 / self.mean_s:
            self.on = 1.0 - self.on
        return self.on


def plant(tags: int, seed: int = 20) -> list[Simulated]:
    """The plant's tags: 45 % analog, 20 % slow, 10 % totalizers, 25 % on/off."""
    rnd = random.Random(seed)
    out: list[Simulated] = []
    for i in range(tags):
        r = (i % 20) * 5
        g = random.Random(rnd.random())
        if r < 45:
            span = g.choice((10.0, 100.0, 2000.0))
            tag = _modbus_tag(i, "analog", eng_range=[0, span])
            out.append(Simulated(tag, "analog", 1, Analog(g, span)))
        elif r < 65:
            out.append(Simulated(_modbus_tag(i, "slow", eng_range=[0, 40]), "slow", 5, Slow(g)))
        elif r < 75:
            tag = _modbus_tag(i, "total", deadband=1.0)
            out.append(Simulated(tag, "total", 10, Totalizer(g)))
        else:
            out.append(Simulated(_modbus_tag(i, "state"), "state", 1, OnOff(g)))
    return out


def _state(t: Simulated, tag_id: int, o: IngestOptions) -> TagState:
    return TagState.of(
        t.tag,
        tag_id,
        1,
        o.default_max_interval_s,
        o.event_hold_s,
        default_deadband_percent=o.default_deadband_percent,
    )


def simulate(
    tags: list[Simulated], seconds: int, before: IngestOptions, after: IngestOptions
) -> tuple[list[list[Row]], list[list[Row]], int]:
    """Every poll of the period through two TagStates per tag; the rows each stores,
    one list per second, and the number of polls."""
    pairs = [(t, _state(t, k + 1, before), _state(t, k + 1, after)) for k, t in enumerate(tags)]
    rows_before: list[list[Row]] = []
    rows_after: list[list[Row]] = []
    polls = 0
    for s in range(seconds):
        when = T0 + timedelta(seconds=s)
        epoch = when.timestamp()
        cb: list[Row] = []
        ca: list[Row] = []
        for t, sb, sa in pairs:
            if s % t.every_s:
                continue
            polls += 1
            value = t.signal(s)
            sb.observe(value, 0, epoch, when, cb, [])
            sa.observe(value, 0, epoch, when, ca, [])
        rows_before.append(cb)
        rows_after.append(ca)
    return rows_before, rows_after, polls


async def through_writer(url: str, cycles: list[list[Row]], spool_dir: Path) -> None:
    total = sum(len(c) for c in cycles)
    options = IngestOptions(batch_rows=BATCH_ROWS, flush_interval_s=0.05)
    writer = Writer(url, Spool(spool_dir / "storage.sqlite", 10**10), options)
    task = asyncio.create_task(writer.run())
    for cycle in cycles:
        while writer.queue_rows > 2 * BATCH_ROWS:
            await asyncio.sleep(0.001)
        writer.submit(cycle)
        await asyncio.sleep(0)
    while writer.stats.rows_committed < total:
        await asyncio.sleep(0.01)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await refresh_all(conn, wait_for_lock=True)


@dataclass(frozen=True)
class Size:
    rows: int
    heap: int
    index: int
    toast: int

    @property
    def total(self) -> int:
        return self.heap + self.index + self.toast

    def per_row(self) -> float:
        return self.total / self.rows if self.rows else float("nan")


def measure(conn: psycopg.Connection[Any], table: str) -> Size:
    row = conn.execute(
        """SELECT coalesce(sum(pg_relation_size(c, 'main')), 0),
                  coalesce(sum(pg_indexes_size(c)), 0),
                  coalesce(sum(CASE WHEN k.reltoastrelid <> 0
                                    THEN pg_total_relation_size(k.reltoastrelid) ELSE 0 END), 0)
           FROM show_chunks(%s::regclass) AS c JOIN pg_class k ON k.oid = c""",
        (table,),
    ).fetchone()
    count = conn.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608
    assert row is not None and count is not None
    return Size(int(count[0]), int(row[0]), int(row[1]), int(row[2]))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench storage")
    parser.add_argument("--tags", type=int, default=2000)
    parser.add_argument("--minutes", type=int, default=60)
    args = parser.parse_args(argv)
    seconds = args.minutes * 60

    # Today's defaults: a tag's own deadband only. After: the shipped defaults.
    before = IngestOptions(default_deadband_percent=None)
    after = IngestOptions()
    tags = plant(args.tags)
    started = time.perf_counter()
    cycles_before, cycles_after, polls = simulate(tags, seconds, before, after)
    simulated = time.perf_counter() - started

    with scratch_database("storage") as (url, where), tempfile.TemporaryDirectory() as tmp:
        with psycopg.connect(url, autocommit=True) as conn:
            migrate(conn)
            for ddl in BASELINE_DDL:
                conn.execute(ddl)
        raw_copy(url, [r for c in cycles_before for r in c], BATCH_ROWS, "readings_baseline")
        asyncio.run(through_writer(url, cycles_after, Path(tmp)))
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("ANALYZE")
            tables = ("readings_baseline", "readings", "readings_1m", "readings_1h")
            sizes = {t: measure(conn, t) for t in tables}

    kinds = sorted({t.kind for t in tags})
    mix = ", ".join(f"{sum(t.kind == k for t in tags)} {k}" for k in kinds)
    print(f"date      {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"database  {where}")
    print(f"plant     {args.tags} tags ({mix}), {args.minutes} min simulated in {simulated:.0f} s")
    print(f"polls     {polls:,} ({polls / seconds:,.0f}/s)")

    def gb_year(size: Size, rows_per_s: float) -> float:
        return size.per_row() * rows_per_s * YEAR_S / 1e9

    base, raw = sizes["readings_baseline"], sizes["readings"]
    for label, size in (("(a) before, raw", base), ("(b) after, raw", raw)):
        rate = size.rows / seconds
        print(
            f"{label:<16} {size.rows:>11,} rows ({size.rows / polls:6.1%} of polls):"
            f" heap {size.heap / size.rows:5.1f} + index {size.index / size.rows:5.1f}"
            f" + toast {size.toast / size.rows:4.1f} = {size.per_row():6.1f} B/stored reading,"
            f" {size.total / polls:6.1f} B/poll, {gb_year(size, rate):8,.1f} GB/plant-year"
        )
    for table in ("readings_1m", "readings_1h"):
        size = sizes[table]
        # Rows a year: one per tag per bucket it has samples in, as in the period.
        rate = size.rows / seconds
        print(
            f"(b) {table:<12} {size.rows:>11,} rows: {size.per_row():6.1f} B/row,"
            f" {gb_year(size, rate):8,.1f} GB/plant-year"
        )
    ratio = (raw.total / polls) / (base.total / polls)
    print(f"raw after / before: {ratio:.2f} of the bytes for the same polls")
    print(f"target raw after <= 1/3 of before: {'met' if ratio <= 1 / 3 else 'NOT met'}")
    return 0
