"""OPC UA ingest: N monitored items sampled every second, server change to stored row.

A dedicated asyncua server (its own process, so that only the collector's work is
counted here) serves N Double variables and writes all of them every second,
each with that moment as its source timestamp: every item changes every second.
Two runs against it, each over ``--seconds`` after a warm-up:

* baseline: an asyncua client alone (``Client.create_subscription`` with a
  handler, the library's usual way) counting the notifications it receives and
  their latency from source timestamp to arrival;
* the ingest service (OPC UA collector, writer, scratch database): notifications
  stored per second, rows lost (notifications the server sent that are not in
  ``readings``), and latency from source timestamp to the batch's insert, taken
  in the writer's transaction by an after-insert hook (its commit follows at
  once in the same thread).

    .venv/bin/python -m bench opcua_ingest [--items 5000] [--seconds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

SERVE = """
import asyncio, sys
from datetime import UTC, datetime, timedelta
from asyncua import Server, ua
n, port = int(sys.argv[1]), int(sys.argv[2])
async def main():
    server = Server()
    await server.init()
    server.set_endpoint(f"opc.tcp://127.0.0.1:{port}/bench/")
    idx = await server.register_namespace("urn:clearwell:bench")
    items = []
    for i in range(n):
        item = ua.AddNodesItem()
        item.RequestedNewNodeId = ua.NodeId(f"v{i}", idx)
        item.BrowseName = ua.QualifiedName(f"v{i}", idx)
        item.NodeClass = ua.NodeClass.Variable
        item.ParentNodeId = ua.NodeId(ua.ObjectIds.ObjectsFolder)
        item.ReferenceTypeId = ua.NodeId(ua.ObjectIds.Organizes)
        item.TypeDefinition = ua.NodeId(ua.ObjectIds.BaseDataVariableType)
        attrs = ua.VariableAttributes()
        attrs.DisplayName = ua.LocalizedText(f"v{i}")
        attrs.DataType = ua.NodeId(ua.ObjectIds.Double)
        attrs.Value = ua.Variant(0.0, ua.VariantType.Double)
        attrs.AccessLevel = attrs.UserAccessLevel = ua.AccessLevel.CurrentRead.mask
        attrs.MinimumSamplingInterval = 100.0
        item.NodeAttributes = attrs
        items.append(item)
    await server.iserver.isession.add_nodes(items)
    ids = [it.RequestedNewNodeId for it in items]
    async with server:
        print("ready", flush=True)
        k = 0
        loop = asyncio.get_running_loop()
        next_due = loop.time()
        while True:
            k += 1
            now = datetime.now(UTC)
            for i, node in enumerate(ids):
                dv = ua.DataValue(ua.Variant(float(k * 10 + i % 7), ua.VariantType.Double),
                                  SourceTimestamp=now, ServerTimestamp=now)
                await server.write_attribute_value(node, dv)
            print(k, flush=True)
            next_due += 1.0
            await asyncio.sleep(max(0.0, next_due - loop.time()))
asyncio.run(main())
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(values: Sequence[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(p * len(s)))] if s else float("nan")


def site_yaml(n: int, port: int) -> str:
    lines = [
        "site: {code: bench-opcua, name: Bench OPC UA}",
        "opcua:",
        "  servers:",
        f'    - {{name: bench, endpoint: "opc.tcp://127.0.0.1:{port}/bench/",'
        " publishing_interval_s: 0.5, max_items_per_subscription: 2000}",
        "ingest: {flush_interval_s: 0.2}",
        "tags:",
    ]
    lines += [
        f"  - {{name: v{i}, source: opcua, opcua: {{server: bench, node_id: 'ns=2;s=v{i}'}}}}"
        for i in range(n)
    ]
    return "\n".join(lines) + "\n"


class _Counter:
    def __init__(self) -> None:
        self.n = 0
        self.latency: list[float] = []
        self.measuring = False

    def datachange_notification(self, node: Any, val: Any, data: Any) -> None:
        if not self.measuring:
            return
        self.n += 1
        src = data.monitored_item.Value.SourceTimestamp
        self.latency.append(time.time() - src.timestamp())


async def baseline(n: int, port: int, warmup: float, seconds: float) -> dict[str, float]:
    from asyncua import Client, ua

    # The same keep-alive patience as the collector's (its server's timeout_s).
    client = Client(f"opc.tcp://127.0.0.1:{port}/bench/", timeout=30, watchdog_intervall=5.0)
    await client.connect()
    try:
        counter = _Counter()
        nodes = [client.get_node(ua.NodeId(f"v{i}", 2)) for i in range(n)]  # type: ignore[arg-type]
        subs = []
        for start in range(0, n, 2000):
            sub = await client.create_subscription(500, counter)
            for b in range(start, min(n, start + 2000), 1000):
                batch: list[Any] = nodes[b : min(n, start + 2000, b + 1000)]
                await sub.subscribe_data_change(
                    batch, sampling_interval=ua.Double(1000), queuesize=2
                )
            subs.append(sub)
        await asyncio.sleep(warmup)
        counter.measuring = True
        t0 = time.monotonic()
        await asyncio.sleep(seconds)
        counter.measuring = False
        elapsed = time.monotonic() - t0
    finally:
        await client.disconnect()
    return {
        "per_s": counter.n / elapsed,
        "p50": pct(counter.latency, 0.5),
        "p99": pct(counter.latency, 0.99),
        "expected_per_s": float(n),
    }


async def collector(
    n: int, port: int, warmup: float, seconds: float, url: str, data_dir: Path
) -> dict[str, float]:
    from ingest.config import parse_config
    from ingest.service import IngestService, spool_path
    from ingest.spool import Spool
    from ingest.writer import Writer

    config = parse_config(site_yaml(n, port))
    latency: list[float] = []
    state = {"measuring": False, "rows": 0, "first": None, "last": None}

    def hook(conn: Any, rows: Sequence[Sequence[Any]]) -> None:
        if not state["measuring"]:
            return
        now = time.time()
        state["rows"] = int(state["rows"] or 0) + len(rows)
        for r in rows:
            latency.append(now - r[0].timestamp())

    spool = Spool(spool_path(data_dir, config.site.code), 1 << 30, "drop_oldest")
    writer = Writer(url, spool, config.ingest, site_code=config.site.code, after_insert=[hook])
    async with IngestService(config, url, data_dir, writer=writer) as service:
        await asyncio.sleep(warmup)
        start = datetime.now(UTC)
        state["measuring"] = True
        t0 = time.monotonic()
        await asyncio.sleep(seconds)
        state["measuring"] = False
        elapsed = time.monotonic() - t0
        end = datetime.now(UTC)
        (c,) = service.collectors
        lost_sessions = c.health.sessions_lost
    # Loss: each server write round gives all items one source time; every round inside
    # the window (the service ran on past it and flushed on stop) must be stored whole.
    with psycopg.connect(url) as conn:
        (stored, seconds_seen) = conn.execute(
            "SELECT count(*), count(DISTINCT time) FROM readings"
            " WHERE time >= %s AND time < %s AND status = 0",
            (start, end - timedelta(seconds=1)),
        ).fetchone() or (0, 0)
    return {
        "per_s": int(state["rows"] or 0) / elapsed,
        "p50": pct(latency, 0.5),
        "p99": pct(latency, 0.99),
        "stored_in_window": float(stored),
        "seconds_in_window": float(seconds_seen),
        "expected_in_window": float(seconds_seen * n),
        "sessions_lost": float(lost_sessions),
    }


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench opcua_ingest")
    ap.add_argument("--items", type=int, default=5000)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--warmup", type=float, default=10)
    args = ap.parse_args(argv)
    from bench.bench_ingest_writer import scratch_database
    from clearwell.migrate import migrate

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", SERVE, str(args.items), str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        t0 = time.monotonic()
        while server.stdout.readline().strip() != "ready":
            if server.poll() is not None or time.monotonic() - t0 > 120:
                raise SystemExit("the bench server did not start")
        print(
            f"server: {args.items} Double variables, all written every 1 s (asyncua, own process)"
        )
        base = asyncio.run(baseline(args.items, port, args.warmup, args.seconds))
        print(
            f"(a) asyncua client alone: {base['per_s']:.0f} notifications/s"
            f" (server sends {base['expected_per_s']:.0f}/s); source->arrival"
            f" p50 {base['p50'] * 1000:.0f} ms p99 {base['p99'] * 1000:.0f} ms"
        )
        with scratch_database() as (url, where), tempfile.TemporaryDirectory() as tmp:
            with psycopg.connect(url) as conn:
                migrate(conn)
            res = asyncio.run(
                collector(args.items, port, args.warmup, args.seconds, url, Path(tmp))
            )
        print(
            f"(b) collector + writer ({where}): {res['per_s']:.0f} rows/s stored;"
            f" source->insert p50 {res['p50'] * 1000:.0f} ms p99 {res['p99'] * 1000:.0f} ms;"
            f" ratio to (a) {res['per_s'] / max(base['per_s'], 1e-9):.2f}"
        )
        missing = res["expected_in_window"] - res["stored_in_window"]
        print(
            f"    stored {res['stored_in_window']:.0f} of {res['expected_in_window']:.0f} values"
            f" in {res['seconds_in_window']:.0f} server seconds (missing {missing:.0f});"
            f" sessions lost {res['sessions_lost']:.0f}"
        )
        print(f"    machine: {os.cpu_count()} cores, {sys.version.split()[0]}")
    finally:
        server.terminate()
        server.wait(10)
    return 0
