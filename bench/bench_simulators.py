"""How fast the simulator answers: Modbus reads of 125 registers and OPC UA reads of 100 nodes.

So that collector benchmarks can tell whether the simulator or the collector is
the limit. The server runs in its own process (one core), the load generator in
this one (the other core), for ``--seconds`` after a one-second warm-up:

* Modbus: ``--connections`` TCP connections, each sending "read 125 holding
  registers" (function 3) back to back, round-robin over the devices, from a
  minimal raw-socket client (pre-built frames, responses checked for length and
  function code) so the client costs little. Server: the synthetic plant of
  10 devices x 200 tags (issue 4's load, every value changing each second) at
  real time. Baseline in the same run: pymodbus' own server (SimDevice blocks,
  fixed values) answering the same requests.
* OPC UA: ``--sessions`` asyncua client sessions, each sending Read requests of
  100 Value attributes back to back, over the synthetic plant of 10 x 500 tags
  (5,000 variables changing every second, issue 5's load; ``--opcua-tags`` per
  device). Baseline: a bare asyncua server with as many fixed Double variables.

Each server's idle CPU is measured over ``--idle`` seconds before its load.

    .venv/bin/python -m bench simulators [--seconds 10] [--connections 4] [--sessions 4]
        [--opcua-tags 500] [--idle 3]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

# A run small enough to check the bench end to end in seconds (tests/bench/test_smoke.py);
# its figures mean nothing.
SMOKE_ARGS = (
    "--seconds", "1", "--connections", "1", "--sessions", "1", "--opcua-tags", "20",
    "--idle", "0.5",
)  # fmt: skip

SIM_MODBUS = """
import asyncio, sys
from simulators.runtime import PlantSimulator
from simulators.synthetic import synthetic_plant
port = int(sys.argv[1])
plant_map, model = synthetic_plant(10, 200, modbus_port=port)
async def main():
    sim = PlantSimulator(plant_map=plant_map, model=model, modbus_port=port, opcua=False)
    await sim.run_forever()
asyncio.run(main())
"""

BASE_MODBUS = """
import asyncio, sys
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice
port = int(sys.argv[1])
sims = []
for unit in range(1, 11):
    hr = [SimData(0, values=[(i * 37) % 65536 for i in range(400)], datatype=DataType.REGISTERS)]
    bits = [SimData(0, values=[False] * 16, datatype=DataType.BITS)]
    ir = [SimData(0, values=[0], datatype=DataType.REGISTERS)]
    sims.append(SimDevice(unit, simdata=(bits, bits, hr, ir)))
async def main():
    server = ModbusTcpServer(sims, address=("127.0.0.1", port))
    await server.serve_forever()
asyncio.run(main())
"""

SIM_OPCUA = """
import asyncio, sys
from collections.abc import Callable
from pathlib import Path
from simulators.runtime import PlantSimulator
from simulators.synthetic import synthetic_plant
port, tags, data = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
plant_map, model = synthetic_plant(10, tags, opcua_port=port)
async def main():
    sim = PlantSimulator(plant_map=plant_map, model=model, modbus=False, opcua_port=port,
                         data_dir=data)
    await sim.run_forever()
asyncio.run(main())
"""

BASE_OPCUA = """
import asyncio, sys
from asyncua import Server, ua
port, tags = int(sys.argv[1]), int(sys.argv[2])
async def main():
    server = Server()
    await server.init()
    server.set_endpoint(f"opc.tcp://127.0.0.1:{port}/clearwell/")
    server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
    idx = await server.register_namespace("urn:clearwell:simulator:plant")
    folder = await server.nodes.objects.add_folder(idx, "Baseline")
    for d in range(1, 11):
        for i in range(tags):
            await folder.add_variable(ua.NodeId(f"Synthetic.D{d:02d}.T{i:04d}", idx),
                                      f"T{d}_{i}", float(i))
    async with server:
        await asyncio.Event().wait()
asyncio.run(main())
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    script: str, *args: str, ready_port: int, timeout: float = 120.0
) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", ready_port)) == 0:
                time.sleep(1.0)  # let it settle (OPC UA keeps building nodes briefly)
                return proc
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        time.sleep(0.2)
    proc.kill()
    raise TimeoutError("server did not listen")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(
    proc: subprocess.Popen[bytes], load: Callable[[], float], idle_s: float
) -> dict[str, float]:
    """Rate under load, and CPU (% of one core) of server and load generator."""
    idle_from = cpu_seconds(proc.pid)
    time.sleep(idle_s)
    idle = (cpu_seconds(proc.pid) - idle_from) / idle_s
    server_from, client_from, wall_from = (
        cpu_seconds(proc.pid),
        time.process_time(),
        time.monotonic(),
    )
    rate = load()
    wall = time.monotonic() - wall_from
    return {
        "rate": rate,
        "server_idle_cpu": 100 * idle,
        "server_cpu": 100 * (cpu_seconds(proc.pid) - server_from) / wall,
        "client_cpu": 100 * (time.process_time() - client_from) / wall,
    }


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


async def modbus_load(port: int, connections: int, seconds: float) -> float:
    """Requests answered per second (125 holding registers each)."""
    stop_at = 0.0
    counts = [0] * connections

    async def worker(n: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        tid = 0
        try:
            while time.monotonic() < stop_at:
                tid = (tid + 1) & 0xFFFF
                unit = 1 + (tid + n) % 10
                writer.write(struct.pack(">HHHBBHH", tid, 0, 6, unit, 3, 0, 125))
                head = await reader.readexactly(9)
                _, _, length, _, fc, count = struct.unpack(">HHHBBB", head)
                if fc != 3 or count != 250:
                    raise RuntimeError(f"unexpected answer fc={fc} count={count}")
                await reader.readexactly(length - 3)
                if time.monotonic() > warm_until:
                    counts[n] += 1
        finally:
            writer.close()

    warm_until = time.monotonic() + 1.0
    stop_at = warm_until + seconds
    await asyncio.gather(*(worker(n) for n in range(connections)))
    return sum(counts) / seconds


async def opcua_load(port: int, tags: int, sessions: int, seconds: float) -> float:
    """Read requests answered per second (up to 100 Value attributes each)."""
    from asyncua import Client, ua

    counts = [0] * sessions
    warm_until = time.monotonic() + 3.0
    stop_at = warm_until + seconds

    async def worker(n: int) -> None:
        client = Client(f"opc.tcp://127.0.0.1:{port}/clearwell/", timeout=30)
        async with client:
            # Blocks of 100 consecutive variables of one device, the devices in turn.
            blocks = [
                [
                    client.get_node(
                        ua.NodeId(ua.String(f"Synthetic.D{d:02d}.T{i:04d}"), ua.Int16(2))
                    )
                    for i in range(first, min(tags, first + 100))
                ]
                for first in range(0, tags, 100)
                for d in range(1, 11)
            ]
            i = n
            while time.monotonic() < stop_at:
                block = blocks[i % len(blocks)]
                values = await client.read_values(block)
                if len(values) != len(block):
                    raise RuntimeError("short read")
                i += 1
                if time.monotonic() > warm_until:
                    counts[n] += 1

    await asyncio.gather(*(worker(n) for n in range(sessions)))
    return sum(counts) / seconds


def usage(m: dict[str, float]) -> str:
    return (
        f"CPU % of a core: server {m['server_cpu']:.0f} under load, "
        f"{m['server_idle_cpu']:.0f} idle; load generator {m['client_cpu']:.0f}"
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench simulators")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--sessions", type=int, default=4)
    parser.add_argument("--opcua-tags", type=int, default=500, help="OPC UA tags per device")
    parser.add_argument("--idle", type=float, default=3.0, help="seconds of idle CPU measured")
    args = parser.parse_args(argv)
    variables = 10 * args.opcua_tags
    logging.getLogger("asyncua").setLevel(logging.ERROR)
    results: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, script in (
            ("Modbus, simulator (10 x 200 tags, live)", SIM_MODBUS),
            ("Modbus, baseline pymodbus SimDevice server", BASE_MODBUS),
        ):
            port = free_port()
            proc = start_server(script, str(port), ready_port=port)

            def modbus(port: int = port) -> float:
                return asyncio.run(modbus_load(port, args.connections, args.seconds))

            try:
                m = measure(proc, modbus, args.idle)
            finally:
                stop_server(proc)
            results.append((label, m["rate"]))
            print(
                f"{label}: {m['rate']:,.0f} requests/s (125 registers each); " + usage(m),
                flush=True,
            )
        opcua_servers: list[tuple[str, str, tuple[str, ...]]] = [
            (f"OPC UA, simulator ({variables:,} variables, live)", SIM_OPCUA, (str(Path(tmp)),)),
            ("OPC UA, baseline bare asyncua server", BASE_OPCUA, ()),
        ]
        for label, script, extra in opcua_servers:
            port = free_port()
            proc = start_server(script, str(port), str(args.opcua_tags), *extra, ready_port=port)

            def opcua(port: int = port) -> float:
                return asyncio.run(opcua_load(port, args.opcua_tags, args.sessions, args.seconds))

            try:
                m = measure(proc, opcua, args.idle)
            finally:
                stop_server(proc)
            results.append((label, m["rate"]))
            each = min(100, args.opcua_tags)
            print(f"{label}: {m['rate']:,.0f} reads/s ({each} nodes each); " + usage(m), flush=True)
    (m_sim, m_base), (o_sim, o_base) = (
        (results[0][1], results[1][1]),
        (results[2][1], results[3][1]),
    )
    print(f"Modbus simulator/baseline: {m_sim / m_base:.2f}")
    print(f"OPC UA simulator/baseline: {o_sim / o_base:.2f}")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"cores {os.cpu_count()}, load average at the end {load} (other work shares the cores)")
    return 0
