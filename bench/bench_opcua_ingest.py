"""OPC UA ingest: N monitored items sampled every second, server change to stored row.

A dedicated asyncua server (its own process, so its work is not counted against
the collector) serves N Double variables and writes all of them every second:
every item changes every second. By default (``--server cheap``) each value is
stamped with the moment it is written, asyncua's deep copy of every written value
per monitored item is skipped (the values are fresh and never changed after), and
the server publishes between slices of 500 writes, as a threaded server would;
``--server stock`` is asyncua as it comes with one timestamp per round, where a
round of 5,000 writes takes the server most of a second, so its last values leave
long after their source time. The server reports every round (how long its writes
took, how late it started); the bench prints them per run.

Two runs against it, each over ``--seconds`` after a warm-up:

* baseline: an asyncua client alone (``Client.create_subscription`` with a
  handler, the library's usual way) counting the notifications it receives and
  their latency from source timestamp to arrival;
* the ingest service (OPC UA collector, writer, scratch database): notifications
  stored per second, rows lost (values of the server rounds inside the window
  that are not in ``readings``; a value tells its round), and latency from source
  timestamp to the batch's insert, taken in the writer's transaction by an
  after-insert hook (its commit follows at once in the same thread), split into
  source to the collector's publish callback and that callback to the insert.

    .venv/bin/python -m bench opcua_ingest [--items 5000] [--seconds 30] [--server stock]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import psycopg

from tests.support.pg_cluster import free_port

# A run small enough to check the bench end to end in seconds (tests/bench/test_smoke.py);
# its figures mean nothing.
SMOKE_ARGS = ("--items", "50", "--seconds", "2", "--warmup", "2")

SERVE = """
import asyncio, sys, time
from datetime import UTC, datetime, timedelta
from asyncua import Server, ua
from asyncua.server.monitored_item_service import MonitoredItemValues
n, port, cheap = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "cheap"
# Let the server's publishing run between slices of a round, as a threaded server's would.
YIELD_EVERY = 500 if cheap else n
if cheap:
    # asyncua deep-copies every written DataValue once per monitored item (three quarters
    # of a round's time); the values written here are fresh and never changed afterwards.
    def keep(self, value):
        self.old_dvalue, self.current_dvalue = self.current_dvalue, value
    MonitoredItemValues.set_current_datavalue = keep
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
            lag = loop.time() - next_due
            t0, started = time.perf_counter(), time.time()
            now = datetime.now(UTC)
            for i, node in enumerate(ids):
                if cheap:
                    now = datetime.now(UTC)  # each value's own time, as a device's
                dv = ua.DataValue(ua.Variant(float(k * 10 + i % 7), ua.VariantType.Double),
                                  SourceTimestamp=now, ServerTimestamp=now)
                await server.write_attribute_value(node, dv)
                if i % YIELD_EVERY == YIELD_EVERY - 1:
                    await asyncio.sleep(0)
            print(f"round {k} {started:.4f} {time.perf_counter() - t0:.4f} {lag:.4f}", flush=True)
            next_due += 1.0
            await asyncio.sleep(max(0.0, next_due - loop.time()))
asyncio.run(main())
"""


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


class Rounds:
    """The server's write rounds as it reports them: (round, start epoch, write s, late s)."""

    def __init__(self, stdout: IO[str]) -> None:
        self.rounds: list[tuple[int, float, float, float]] = []
        self._thread = threading.Thread(target=self._read, args=(stdout,), daemon=True)
        self._thread.start()

    def _read(self, stdout: IO[str]) -> None:
        for line in stdout:
            parts = line.split()
            if len(parts) == 5 and parts[0] == "round":
                k, start, took, late = parts[1:]
                self.rounds.append((int(k), float(start), float(took), float(late)))

    def between(self, t0: float, t1: float) -> list[tuple[int, float, float, float]]:
        return [r for r in list(self.rounds) if t0 <= r[1] < t1]

    def summary(self, t0: float, t1: float) -> dict[str, float]:
        rs = self.between(t0, t1)
        took = [r[2] for r in rs]
        return {
            "rounds": float(len(rs)),
            "write_p50": pct(took, 0.5),
            "write_max": max(took, default=float("nan")),
            "late_max": max((r[3] for r in rs), default=float("nan")),
        }


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


async def baseline(
    n: int, port: int, warmup: float, seconds: float, rounds: Rounds
) -> dict[str, float]:
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
        t0, w0 = time.monotonic(), time.time()
        await asyncio.sleep(seconds)
        counter.measuring = False
        elapsed, w1 = time.monotonic() - t0, time.time()
    finally:
        await client.disconnect()
    return {
        "per_s": counter.n / elapsed,
        "p50": pct(counter.latency, 0.5),
        "p99": pct(counter.latency, 0.99),
        "expected_per_s": float(n),
        **rounds.summary(w0, w1),
    }


async def collector(
    n: int,
    port: int,
    warmup: float,
    seconds: float,
    url: str,
    data_dir: Path,
    rounds: Rounds,
) -> dict[str, float]:
    from ingest.opcua.collector import OpcuaCollector
    from ingest.service import IngestService, spool_path
    from ingest.spool import Spool
    from ingest.writer import Writer
    from sitefile.load import parse_config

    config = parse_config(site_yaml(n, port))
    latency: list[float] = []
    received: list[float] = []  # source -> the collector's publish callback
    waited: list[float] = []  # that callback -> insert
    arrived: dict[tuple[int, float], float] = {}
    state = {"measuring": False, "rows": 0}

    # Arrival times, for the latency split: the collector's callback, timed from outside.
    on_publish = OpcuaCollector._on_publish

    def timed(self: OpcuaCollector, result: Any) -> None:
        if state["measuring"]:
            now = time.time()
            for notif in result.NotificationMessage.NotificationData or ():
                for item in getattr(notif, "MonitoredItems", ()):
                    src = item.Value.SourceTimestamp.timestamp()
                    received.append(now - src)
                    arrived[(self.states[item.ClientHandle].tag_id, src)] = now
        on_publish(self, result)

    class Timed:
        """A readings reaction timing its batch's rows at insert (the commit follows)."""

        def __init__(self) -> None:
            self.rows: list[Sequence[Any]] = []

        def add(self, rows: Sequence[Sequence[Any]]) -> None:
            self.rows.extend(rows)

        def write(self, conn: Any) -> None:
            if not state["measuring"]:
                return
            now = time.time()
            state["rows"] = int(state["rows"]) + len(self.rows)
            for r in self.rows:
                src = r[0].timestamp()
                latency.append(now - src)
                if (at := arrived.pop((r[1], src), None)) is not None:
                    waited.append(now - at)

    spool = Spool(spool_path(data_dir, config.site.code), 1 << 30, "drop_oldest")
    writer = Writer(url, spool, config.ingest, site_code=config.site.code, reactions=[Timed])
    OpcuaCollector._on_publish = timed  # type: ignore[method-assign]
    try:
        async with IngestService(config, url, data_dir, writer=writer) as service:
            await asyncio.sleep(warmup)
            state["measuring"] = True
            t0, w0 = time.monotonic(), time.time()
            await asyncio.sleep(seconds)
            state["measuring"] = False
            elapsed, w1 = time.monotonic() - t0, time.time()
            (c,) = service.collectors
            lost_sessions = c.health.sessions_lost
            # Let the last measured round arrive; the service flushes on stop.
            await asyncio.sleep(3)
    finally:
        OpcuaCollector._on_publish = on_publish  # type: ignore[method-assign]
    # Loss: every round the server wrote inside the window must be stored whole. A value
    # tells its round (k * 10 + i % 7).
    window = rounds.between(w0, w1 - 1)
    with psycopg.connect(url) as conn:
        got: dict[int, int] = dict(
            conn.execute(
                "SELECT floor(value / 10)::int, count(*) FROM readings"
                " WHERE status = 0 AND value IS NOT NULL GROUP BY 1"
            ).fetchall()
        )
    stored = sum(min(n, got.get(k, 0)) for k, *_ in window)
    return {
        "per_s": int(state["rows"]) / elapsed,
        "p50": pct(latency, 0.5),
        "p99": pct(latency, 0.99),
        "recv_p50": pct(received, 0.5),
        "recv_p99": pct(received, 0.99),
        "wait_p50": pct(waited, 0.5),
        "wait_p99": pct(waited, 0.99),
        "stored_in_window": float(stored),
        "rounds_in_window": float(len(window)),
        "expected_in_window": float(len(window) * n),
        "sessions_lost": float(lost_sessions),
        **rounds.summary(w0, w1),
    }


def _ms(x: float) -> str:
    return f"{x * 1000:.0f} ms"


def _server(r: dict[str, float]) -> str:
    return (
        f"    server, {r['rounds']:.0f} rounds: a round's writes take p50 {_ms(r['write_p50'])},"
        f" max {_ms(r['write_max'])}; a round starts late by up to {_ms(r['late_max'])}"
    )


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench opcua_ingest")
    ap.add_argument("--items", type=int, default=5000)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--warmup", type=float, default=10)
    ap.add_argument(
        "--server",
        choices=("cheap", "stock"),
        default="cheap",
        help="cheap: each value stamped as written, no per-item deep copy, publishing between"
        " slices of a round; stock: asyncua as it comes, one timestamp per round",
    )
    args = ap.parse_args(argv)
    from bench.scratch import scratch_database
    from clearwell.migrate import migrate

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", SERVE, str(args.items), str(port), args.server],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        t0 = time.monotonic()
        while server.stdout.readline().strip() != "ready":
            if server.poll() is not None or time.monotonic() - t0 > 120:
                raise SystemExit("the bench server did not start")
        rounds = Rounds(server.stdout)
        print(
            f"server: {args.items} Double variables, all written every 1 s"
            f" (asyncua, own process, {args.server}); load average"
            f" {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
        )
        base = asyncio.run(baseline(args.items, port, args.warmup, args.seconds, rounds))
        print(
            f"(a) asyncua client alone: {base['per_s']:.0f} notifications/s"
            f" (server sends {base['expected_per_s']:.0f}/s); source->arrival"
            f" p50 {_ms(base['p50'])} p99 {_ms(base['p99'])}"
        )
        print(_server(base))
        with scratch_database() as (url, where), tempfile.TemporaryDirectory() as tmp:
            with psycopg.connect(url) as conn:
                migrate(conn)
            res = asyncio.run(
                collector(args.items, port, args.warmup, args.seconds, url, Path(tmp), rounds)
            )
        print(
            f"(b) collector + writer ({where}): {res['per_s']:.0f} rows/s stored;"
            f" source->insert p50 {_ms(res['p50'])} p99 {_ms(res['p99'])};"
            f" ratio to (a) {res['per_s'] / max(base['per_s'], 1e-9):.2f}"
        )
        print(
            f"    split: source->collector callback p50 {_ms(res['recv_p50'])}"
            f" p99 {_ms(res['recv_p99'])}; callback->insert p50 {_ms(res['wait_p50'])}"
            f" p99 {_ms(res['wait_p99'])}"
        )
        print(_server(res))
        missing = res["expected_in_window"] - res["stored_in_window"]
        print(
            f"    stored {res['stored_in_window']:.0f} of {res['expected_in_window']:.0f} values"
            f" of {res['rounds_in_window']:.0f} server rounds (missing {missing:.0f});"
            f" sessions lost {res['sessions_lost']:.0f}"
        )
        print(
            f"    machine: {os.cpu_count()} cores, {sys.version.split()[0]}; load average"
            f" {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
        )
    finally:
        server.terminate()
        server.wait(10)
    return 0
