"""Modbus collector load: N devices x M tags polled every second from the synthetic simulator.

The simulator (``simulators.synthetic.synthetic_plant``: every tag changes every
second, no deadbands, so every poll of every tag is a reading to store) runs in
its own process, so that only the collector's work is counted here. Measured in
this process, over ``--seconds`` after a warm-up:

* poll-cycle time per device (all of a device's requests, decoding, report by
  exception and limit checks), p50 and p99 over every cycle of every device;
* CPU time of this process (all threads) per wall second, as % of one core.

Two runs: the pollers alone feeding a counting sink (the baseline: what
collecting costs), then the whole ingest service writing into a scratch
database (``CLEARWELL_DATABASE_URL``'s server, or a throwaway cluster), which
adds tag sync, the writer's COPY and the health table.

With ``--bad-addresses`` the server (pymodbus's, fixed values) does not have the
registers of one tag in each device, the middle one, and answers its reads with
exception 2, as a PLC does for an address it lacks. The baseline is the pollers
alone against the same server with every address; then the pollers alone and the
whole service against the one with the holes. What is compared is the rate of the
good tags' readings, which must not change: the refused tags are found in the
first poll and read around from then on.

    .venv/bin/python -m bench ingest_collector [--devices 10] [--tags 200] [--seconds 30]
        [--bad-addresses]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ingest.modbus.plan import plan_device
from ingest.modbus.poller import ModbusPoller
from ingest.readings import Row
from ingest.service import IngestService, cancel_and_wait
from ingest.tagstate import TagState
from sitefile.load import parse_config
from sitefile.models import SiteConfig

# A run small enough to check the bench end to end in seconds (tests/bench/test_smoke.py);
# its figures mean nothing.
SMOKE_ARGS = ("--devices", "2", "--tags", "20", "--seconds", "2", "--warmup", "1")

SERVE = """
import asyncio, sys
from simulators.runtime import PlantSimulator
from simulators.synthetic import synthetic_plant
devices, tags, port = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
plant_map, model = synthetic_plant(devices, tags, modbus_port=port)
async def main():
    sim = PlantSimulator(plant_map=plant_map, model=model, modbus_port=port, opcua=False)
    await sim.run_forever()
asyncio.run(main())
"""


# pymodbus's own server holding the synthetic map's registers, values fixed: what the
# collector costs without a simulator recomputing 20,000 values a second beside it.
SERVE_STATIC = """
import asyncio, sys
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice
from simulators.synthetic import synthetic_plant
devices, tags, port = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
# device:address:count, the holding registers the server does not have (--bad-addresses).
holes = {d: (int(a), int(n)) for d, a, n in (arg.split(":") for arg in sys.argv[4:])}
plant_map, _ = synthetic_plant(devices, tags, modbus_port=port)
size = {}
for t in plant_map.tags:
    m = t.modbus
    size[m.device] = max(size.get(m.device, 0), m.address + m.count)
sims = []
for d in plant_map.devices:
    words = [(i * 37) % 65536 for i in range(size[d.name])]
    hr = [SimData(0, values=words, datatype=DataType.REGISTERS)]
    if d.name in holes:
        a, n = holes[d.name]
        hr = [SimData(0, values=words[:a], datatype=DataType.REGISTERS),
              SimData(a + n, values=words[a + n:], datatype=DataType.REGISTERS)]
    bits = [SimData(0, values=[False] * 16, datatype=DataType.BITS)]
    ir = [SimData(0, values=[0], datatype=DataType.REGISTERS)]
    sims.append(SimDevice(d.unit_id, simdata=(bits, bits, hr, ir)))
async def main():
    server = ModbusTcpServer(sims, address=("127.0.0.1", port))
    await server.serve_forever()
asyncio.run(main())
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"simulator not listening on {port}")


def site_config(devices: int, tags: int, port: int) -> SiteConfig:
    from simulators.synthetic import dump_map, synthetic_plant

    plant_map, _ = synthetic_plant(devices, tags, modbus_port=port)
    return parse_config(dump_map(plant_map), "<synthetic>")


class Meter:
    def __init__(self, refused: frozenset[int] = frozenset()) -> None:
        self.rows = 0
        # Readings of the tags at refused addresses (--bad-addresses) are not counted.
        self.refused = refused

    def rows_in(self, rows: list[Row]) -> None:
        self.rows += len(rows)
        if self.refused:
            self.rows -= sum(1 for r in rows if r[1] in self.refused)

    def events_in(self, events: list[Any]) -> None:
        pass


async def loop_lag(out: list[float]) -> None:
    """How late a 10 ms sleep wakes: what blocks the event loop, and for how long."""
    while True:
        t = time.perf_counter()
        await asyncio.sleep(0.01)
        out.append((time.perf_counter() - t - 0.01) * 1000)


async def measure(pollers: list[ModbusPoller], warmup: float, seconds: float) -> dict[str, float]:
    await asyncio.sleep(warmup)
    for p in pollers:
        p.health.cycle_ms.clear()
    lags: list[float] = []
    lag_task = asyncio.create_task(loop_lag(lags))
    cpu0, wall0 = time.process_time(), time.perf_counter()
    await asyncio.sleep(seconds)
    cpu = time.process_time() - cpu0
    wall = time.perf_counter() - wall0
    lag_task.cancel()
    lags.sort()
    cycles = sorted(ms for p in pollers for ms in p.health.cycle_ms)
    return {
        "lag_p99": lags[int(0.99 * len(lags))],
        "lag_max": lags[-1],
        "cycles": len(cycles),
        "p50": statistics.median(cycles),
        "p99": cycles[min(len(cycles) - 1, int(0.99 * len(cycles)))],
        "max": cycles[-1],
        "cpu": 100 * cpu / wall,
        "overruns": sum(p.health.overruns for p in pollers),
    }


async def pollers_alone(
    config: SiteConfig, warmup: float, seconds: float, refused: frozenset[str] = frozenset()
) -> dict[str, float]:
    ids = {t.name: i + 1 for i, t in enumerate(config.tags)}
    meter = Meter(frozenset(ids[n] for n in refused))
    pollers = []
    tag_id = 0
    n = len(config.modbus.devices)
    for k, d in enumerate(config.modbus.devices):
        tags = config.modbus_tags(d.name)
        states = {}
        for t in tags:
            tag_id += 1
            states[t.name] = TagState.of(t, tag_id, 1, 60.0, 60.0)
        pollers.append(
            ModbusPoller(
                d,
                plan_device(d, tags),
                states,
                1,
                meter.rows_in,
                meter.events_in,
                phase_s=d.poll_interval_s * k / n,  # as the service spreads them
            )
        )
    gc.collect()
    gc.freeze()  # as IngestService.start does
    tasks = [asyncio.create_task(p.run()) for p in pollers]
    try:
        result = await measure(pollers, warmup, seconds)
    finally:
        await cancel_and_wait(tasks)
        gc.unfreeze()
    result["rows_per_s"] = meter.rows / (warmup + seconds)
    result["refused"] = sum(len(r.tags) for p in pollers for r in p.health.refusals.values())
    return result


def refused_tags(config: SiteConfig) -> dict[str, tuple[str, int, int]]:
    """For --bad-addresses: each device's middle tag by address, which the server will
    not have: device -> (tag, address, registers)."""
    out = {}
    for d in config.modbus.devices:
        tags = sorted(
            (t.modbus.address, t.modbus.count, t.name)
            for t in config.modbus_tags(d.name)
            if t.modbus is not None and t.modbus.kind == "holding"
        )
        address, count, name = tags[len(tags) // 2]
        out[d.name] = (name, address, count)
    return out


def serve(server: str, devices: int, tags: int, port: int, *holes: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            SERVE if server == "simulator" else SERVE_STATIC,
            str(devices),
            str(tags),
            str(port),
            *holes,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def whole_service(
    config: SiteConfig, url: str, data_dir: Path, warmup: float, seconds: float
) -> dict[str, float]:
    async with IngestService(config, url, data_dir) as service:
        writer = service.writer
        assert writer is not None
        committed0 = writer.stats.rows_committed
        t0 = time.perf_counter()
        result = await measure(service.pollers, warmup, seconds)
        result["rows_per_s"] = (writer.stats.rows_committed - committed0) / (
            time.perf_counter() - t0
        )
        result["spool_rows"] = writer.spool.rows
        result["refused"] = sum(
            len(r.tags) for p in service.pollers for r in p.health.refusals.values()
        )
    return result


def line(label: str, r: dict[str, float]) -> str:
    return (
        f"{label:<30} cycle p50 {r['p50']:6.1f} ms  p99 {r['p99']:6.1f} ms"
        f" (max {r['max']:.0f}, {int(r['cycles'])} cycles, {int(r['overruns'])} overruns)"
        f"  CPU {r['cpu']:5.1f} % of a core  {r['rows_per_s']:,.0f} rows/s"
        f"  loop lag p99 {r['lag_p99']:.0f} ms max {r['lag_max']:.0f} ms"
    )


def main(argv: list[str]) -> int:
    from bench.scratch import scratch_database
    from clearwell.migrate import migrate

    parser = argparse.ArgumentParser(prog="python -m bench ingest_collector")
    parser.add_argument("--devices", type=int, default=10)
    parser.add_argument("--tags", type=int, default=200, help="tags per device")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--no-db", action="store_true", help="skip the whole-service run")
    parser.add_argument(
        "--server",
        choices=("simulator", "pymodbus"),
        default="simulator",
        help="the bundled simulator, or pymodbus's own server with fixed values",
    )
    parser.add_argument(
        "--bad-addresses",
        action="store_true",
        help="one tag of each device at an address the server refuses (pymodbus's server)",
    )
    args = parser.parse_args(argv)
    if args.bad_addresses:
        args.server = "pymodbus"

    port = free_port()
    sim = serve(args.server, args.devices, args.tags, port)
    try:
        wait_for_port(port)
        config = site_config(args.devices, args.tags, port)
        requests = sum(
            len(plan_device(d, config.modbus_tags(d.name))) for d in config.modbus.devices
        )
        print(f"date      {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
        print(
            f"load      {args.devices} devices x {args.tags} tags = {len(config.tags):,} tags"
            f" at 1 s polls, {requests} requests per second; {args.seconds:.0f} s measured"
        )
        print(f"server    {args.server} (separate process); load average {os.getloadavg()}")
        refused = refused_tags(config) if args.bad_addresses else {}
        names = frozenset(name for name, _, _ in refused.values())
        alone = asyncio.run(pollers_alone(config, args.warmup, args.seconds, names))
        print(line("pollers alone (baseline)", alone))
        if refused:
            # The same server, without the registers of each device's middle tag.
            sim.terminate()
            sim.wait(10)
            holes = [f"{d}:{address}:{count}" for d, (_, address, count) in refused.items()]
            sim = serve(args.server, args.devices, args.tags, port, *holes)
            wait_for_port(port)
            bad = asyncio.run(pollers_alone(config, args.warmup, args.seconds, names))
            print(line("pollers alone, bad addresses", bad))
            print(
                f"refused   {int(bad['refused'])} of {len(names)} bad tags found; good tags"
                f" {bad['rows_per_s']:,.0f} readings/s against {alone['rows_per_s']:,.0f} in"
                f" the baseline ({100 * bad['rows_per_s'] / alone['rows_per_s']:.1f} %)"
            )
        if not args.no_db:
            import psycopg

            with scratch_database() as (url, where), tempfile.TemporaryDirectory() as tmp:
                with psycopg.connect(url, autocommit=True) as conn:
                    migrate(conn)
                whole = asyncio.run(
                    whole_service(config, url, Path(tmp), args.warmup, args.seconds)
                )
            print(line("whole service into the database", whole))
            print(f"database  {where}; spool at the end: {int(whole['spool_rows'])} rows")
            if refused:
                print(f"refused   {int(whole['refused'])} bad tags found by the service")
            judged = whole
        else:
            judged = alone
        ok = judged["p99"] < 200 and judged["cpu"] < 25
        print(f"target p99 < 200 ms and CPU < 25 % of a core: {'met' if ok else 'NOT met'}")
    finally:
        sim.terminate()
        sim.wait(10)
    return 0
