"""``clearwell simulate`` as a person runs it: where it listens, Ctrl-C, and its errors."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.simulators.clients import mbpoll

pytestmark = pytest.mark.slow


def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "CLEARWELL_DATA_DIR": str(tmp_path), "PYTHONUNBUFFERED": "1"}


async def run(tmp_path: Path, *args: str, timeout: float = 60) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "clearwell.cli",
        "simulate",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=env(tmp_path),
    )
    out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode is not None
    return proc.returncode, out.decode()


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


async def test_modbus_port_in_use_is_one_line_and_exit_1(tmp_path: Path, busy_port: int):
    rc, out = await run(tmp_path, "--modbus-port", str(busy_port), "--no-opcua")
    assert rc == 1
    where = f"127.0.0.1:{busy_port}: port {busy_port} is in use"
    assert f"clearwell: error: Modbus: cannot listen on {where}" in out
    assert "Traceback" not in out


async def test_opcua_port_in_use_is_one_line_and_exit_1(tmp_path: Path, busy_port: int):
    rc, out = await run(tmp_path, "--opcua-port", str(busy_port), "--no-modbus")
    assert rc == 1
    where = f"127.0.0.1:{busy_port}: port {busy_port} is in use"
    assert f"clearwell: error: OPC UA: cannot listen on {where}" in out


async def test_bad_map_names_file_and_line(tmp_path: Path):
    bad = tmp_path / "plant.yaml"
    bad.write_text(
        "site: {code: x, name: X}\ntags:\n  - {name: what.is.this, unit: m, source: opcua}\n"
    )
    rc, out = await run(tmp_path, "--map", str(bad))
    assert rc == 1
    assert f"clearwell: error: {bad}:3: tags[0]: source is opcua but the tag has no opcua:" in out


async def test_bad_fault_is_refused_before_anything_listens(tmp_path: Path):
    rc, out = await run(tmp_path, "--faults", "stall:plc-nowhere=2", "--no-opcua")
    assert rc == 1
    assert (
        "clearwell: error: fault 'stall:plc-nowhere=2': no Modbus device named 'plc-nowhere'" in out
    )
    assert "listening" not in out


async def test_runs_logs_where_it_listens_and_stops_cleanly_on_ctrl_c(tmp_path: Path):
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "clearwell.cli",
        "simulate",
        "--modbus-port",
        "0",
        "--opcua-port",
        "0",
        "--speed",
        "60",
        "--faults",
        "exception:plc-disinfection=busy",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=env(tmp_path),
    )
    assert proc.stdout is not None
    seen: list[str] = []
    try:
        async with asyncio.timeout(60):
            while not any("running at 60x" in line for line in seen):
                line = (await proc.stdout.readline()).decode()
                assert line, "".join(seen)
                seen.append(line)
        log = "".join(seen)
        modbus = re.search(r"Modbus TCP listening on 127\.0\.0\.1:(\d+) \(unit ids 1, 2, 3\)", log)
        opcua = re.search(r"OPC UA listening on opc\.tcp://127\.0\.0\.1:(\d+)/clearwell/", log)
        assert modbus and opcua, log
        assert "users: operator" in log
        rc, values, out = await mbpoll(int(modbus.group(1)), 1, "4:float", 0, 1, "-B")
        assert rc == 0 and 0 < float(values[0]) < 2500, out
        rc, _, out = await mbpoll(int(modbus.group(1)), 3, "4", 0, 1)
        assert rc != 0 and "busy" in out.lower()
        assert (tmp_path / "simulator" / "server_cert.der").is_file()
        proc.send_signal(signal.SIGINT)
        rest, _ = await asyncio.wait_for(proc.communicate(), 30)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, rest.decode()
    assert "simulator stopped" in rest.decode()
    assert "Traceback" not in rest.decode()
