"""The central primary lost during ingest and logbook writes, on loopback.

A pg_auto_failover cluster (``scripts/failover-cluster.sh``: a monitor and two
PostgreSQL 15 nodes with TimescaleDB, synchronous replication) holds the centre's
database. Two plants' collectors read their own simulator (``simulators/``, the demo
plant over Modbus TCP) and write through the connection string that names both nodes
with ``target_session_attrs=read-write``; the web app (uvicorn in this process) takes
an operator's notes through the API, each sent as the floor's outbox sends it (an
``Idempotency-Key``, sent again after a 5xx, a timeout or a refused connection, in
order), while a reader asks for the shift's entries. After ``--before`` seconds the
primary's keeper and Postgres are killed (SIGKILL); the run goes on ``--after`` seconds
past the standby's promotion.

Measured: seconds without a primary (kill to the first read-write connection), readings
taken by the collectors against those stored (lost, duplicated, and the replayed rows
the database already had), notes sent, refused (tries that failed) and lost or doubled,
and how long after the kill the page answered again.

    .venv/bin/python -m bench failover [--before 8] [--after 8] [--nodes 2]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

from ingest.readings import Row
from ingest.service import IngestService, spool_path
from ingest.spool import Spool
from ingest.writer import Writer
from simulators.address_map import DEFAULT_MAP
from simulators.runtime import PlantSimulator
from sitefile.load import load_config
from sitefile.models import ModbusSection, SiteConfig
from tests.support.api import Api, seed_people
from tests.support.failover import FailoverCluster
from tests.support.serve import serve_in_process

SMOKE_ARGS = ("--before", "5", "--after", "5")

PLANTS = ("plant-a", "plant-b")
# The floor's outbox: a new note this often, and a refused one tried again after this.
NOTE_EVERY_S, RETRY_S, HTTP_TIMEOUT_S = 0.25, 0.5, 5.0


@dataclass
class Plant:
    code: str
    writer: Writer
    taken: list[Row] = field(default_factory=list)
    stored: list[tuple[Any, ...]] = field(default_factory=list)

    @property
    def lost(self) -> int:
        return len(set(self.taken) - set(self.stored))

    @property
    def duplicated(self) -> int:
        return len(self.stored) - len(set(self.stored))


@dataclass
class Outbox:
    """Notes sent as the floor's outbox sends them: in order, each with its key, a note
    refused with a 5xx, a timeout or no answer kept at the head and tried again."""

    api: Api
    shift_id: int
    pending: list[tuple[str, str]] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)
    refused: int = 0
    made: int = 0

    def add(self) -> None:
        self.made += 1
        self.pending.append((str(uuid.uuid4()), f"failover note {self.made}"))

    async def flush(self) -> None:
        while self.pending:
            key, text = self.pending[0]
            try:
                r = await self.api.post(
                    "operator",
                    "/api/entries",
                    {"shift_id": self.shift_id, "kind": "note", "data": {"text": text}},
                    headers={"Idempotency-Key": key},
                )
            except httpx.TransportError:
                self.refused += 1
                return
            if r.status_code >= 500 or r.status_code in (408, 429):
                self.refused += 1
                return
            assert r.status_code in (200, 201), r.text
            self.sent.append(text)
            self.pending.pop(0)


@dataclass
class Figures:
    no_primary_s: float
    pages_back_s: float
    page_failures: int
    plants: list[Plant]
    outbox: Outbox
    notes_stored: list[str]
    old_primary: int
    new_primary: int

    @property
    def notes_lost(self) -> int:
        return len(set(self.outbox.sent) - set(self.notes_stored))

    @property
    def notes_doubled(self) -> int:
        return len(self.notes_stored) - len(set(self.notes_stored))


def plant_config(code: str, modbus_port: int) -> SiteConfig:
    """The demo plant's map as a collector's site file, on the simulator's port."""
    config = load_config(DEFAULT_MAP)
    devices = [
        d.model_copy(update={"port": modbus_port, "poll_interval_s": 0.5, "timeout_s": 0.5})
        for d in config.modbus.devices
    ]
    ingest = config.ingest.model_copy(update={"flush_interval_s": 0.2, "health_interval_s": 1})
    return config.model_copy(
        update={
            "site": config.site.model_copy(update={"code": code, "name": code}),
            "modbus": ModbusSection(devices=devices),
            "opcua": config.opcua.model_copy(update={"servers": []}),
            "tags": [t for t in config.tags if t.source == "modbus"],
            "ingest": ingest,
        }
    )


def recording_writer(url: str, data_dir: Path, config: SiteConfig) -> Plant:
    """A plant's writer that also keeps every row its collectors gave it."""
    code = config.site.code
    writer = Writer(url, Spool(spool_path(data_dir, code), 10**9), config.ingest, site_code=code)
    plant = Plant(code, writer)
    submit = writer.submit

    def record(rows: Sequence[Row]) -> None:
        plant.taken.extend(rows)
        submit(rows)

    writer.submit = record  # type: ignore[method-assign]
    return plant


def replayed(plant: Plant) -> bool:
    return plant.writer.stats.state == "up" and not plant.writer.spool.rows


async def wait_until(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not within {timeout} s")
        await asyncio.sleep(0.05)


async def run(
    cluster: FailoverCluster, url: str, work: Path, before: float, after: float
) -> Figures:
    await seed_people(url)
    pages: list[tuple[float, float, bool]] = []  # (asked, answered, ok)
    stopping = asyncio.Event()
    async with contextlib.AsyncExitStack() as stack:
        sims = [
            await stack.enter_async_context(
                PlantSimulator(
                    seed=i + 1, modbus_port=0, opcua=False, data_dir=work / f"sim-{i}", tick_s=0.5
                )
            )
            for i in range(len(PLANTS))
        ]
        configs = [
            plant_config(code, sim.modbus_port or 0) for code, sim in zip(PLANTS, sims, strict=True)
        ]
        plants = [
            recording_writer(url, work / code, c) for code, c in zip(PLANTS, configs, strict=True)
        ]
        services = [
            IngestService(c, url, work / p.code, writer=p.writer)
            for c, p in zip(configs, plants, strict=True)
        ]
        # In this process (uvicorn in a thread): a subprocess's imports alone take most of
        # serve()'s 30 s on a machine as loaded as the shared one gets.
        base = stack.enter_context(serve_in_process(url, data_dir=work / "app"))
        client = await stack.enter_async_context(
            httpx.AsyncClient(base_url=base, timeout=HTTP_TIMEOUT_S)
        )
        api = Api(client, url, work / "app")
        shift = await api.open_shift()
        outbox = Outbox(api, shift["id"])

        async def write_notes() -> None:
            while not stopping.is_set():
                outbox.add()
                await outbox.flush()
                await asyncio.sleep(NOTE_EVERY_S if not outbox.pending else RETRY_S)

        async def read_pages() -> None:
            while not stopping.is_set():
                asked = time.monotonic()
                try:
                    r = await api.get("chief", "/api/entries", shift_id=shift["id"])
                    ok = r.status_code == 200
                except httpx.TransportError:
                    ok = False
                pages.append((asked, time.monotonic(), ok))
                await asyncio.sleep(0.2)

        for service in services:
            await stack.enter_async_context(service)
        await api.login("chief")
        tasks = [asyncio.create_task(write_notes()), asyncio.create_task(read_pages())]
        try:
            await wait_until(
                lambda: all(p.writer.stats.rows_committed > 0 for p in plants), 30, "first rows"
            )
            await asyncio.sleep(before)
            old = await asyncio.to_thread(cluster.primary)
            assert old is not None
            killed = time.monotonic()
            await asyncio.to_thread(cluster.kill, old)
            new, writable = await asyncio.to_thread(cluster.wait_writable, 90.0)
            await asyncio.sleep(after)
            await wait_until(
                lambda: all(
                    p.writer.stats.state == "up" and not p.writer.spool.rows for p in plants
                ),
                60,
                "the spools replayed",
            )
            stopping.set()
            await asyncio.gather(*tasks)
            await wait_until(lambda: not outbox.pending, 30, "the outbox emptied")
            await outbox.flush()
        finally:
            stopping.set()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    # The services stopped: their last readings are written.
    with psycopg.connect(url) as conn:
        for plant in plants:
            plant.stored = [
                tuple(r)
                for r in conn.execute(
                    "SELECT r.time, r.tag_id, r.value, r.status, r.server_time"
                    " FROM readings r JOIN tags t ON t.id = r.tag_id"
                    " JOIN sites s ON s.id = t.site_id"
                    " WHERE s.code = %s ORDER BY r.time, r.tag_id",
                    (plant.code,),
                ).fetchall()
            ]
        notes = [
            r[0]
            for r in conn.execute(
                "SELECT data->>'text' FROM entries WHERE shift_id = %s AND kind = 'note'",
                (shift["id"],),
            ).fetchall()
        ]
    failed_after = [answered for asked, answered, ok in pages if asked >= killed and not ok]
    back = max(failed_after) - killed if failed_after else 0.0
    return Figures(
        no_primary_s=writable - killed,
        pages_back_s=back,
        page_failures=len(failed_after),
        plants=plants,
        outbox=outbox,
        notes_stored=notes,
        old_primary=old,
        new_primary=new,
    )


def report(f: Figures) -> list[str]:
    lines = [
        f"primary killed: node on port {f.old_primary}; promoted: node on port {f.new_primary}",
        f"seconds without a primary: {f.no_primary_s:.1f} s",
        f"pages answering again: {f.pages_back_s:.1f} s after the kill"
        f" ({f.page_failures} page requests failed)",
    ]
    for p in f.plants:
        lines.append(
            f"{p.code}: readings taken {len(p.taken):,}, stored {len(p.stored):,},"
            f" lost {p.lost}, duplicated {p.duplicated};"
            f" replayed rows the database had {p.writer.stats.rows_duplicate}"
        )
    lines.append(
        f"logbook notes: sent {len(f.outbox.sent)}, tries refused {f.outbox.refused},"
        f" stored {len(f.notes_stored)}, lost {f.notes_lost}, doubled {f.notes_doubled}"
    )
    return lines


async def measure(before: float, after: float, nodes: int) -> Figures:
    with tempfile.TemporaryDirectory(prefix="clearwell-bench-failover-") as tmp:
        cluster = FailoverCluster(nodes)
        await asyncio.to_thread(cluster.__enter__)
        try:
            url = await asyncio.to_thread(cluster.create_database, "clearwell")
            return await run(cluster, url, Path(tmp), before, after)
        finally:
            await asyncio.to_thread(cluster.__exit__, None, None, None)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench failover")
    parser.add_argument(
        "--before", type=float, default=8.0, help="seconds of ingest before the kill"
    )
    parser.add_argument("--after", type=float, default=8.0, help="seconds after the promotion")
    parser.add_argument("--nodes", type=int, default=2, choices=(2, 3))
    args = parser.parse_args(argv)
    started = time.monotonic()
    figures = asyncio.run(measure(args.before, args.after, args.nodes))
    for line in report(figures):
        print(line)
    print(f"whole run (cluster set-up included): {time.monotonic() - started:.0f} s")
    return 0
