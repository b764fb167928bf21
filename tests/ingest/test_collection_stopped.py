"""A real ``clearwell ingest`` reading the simulator, killed with SIGKILL: the floor's tiles
bring the "data collection stopped" alarm within a minute, and it clears once a new
ingest process reports again."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from simulators.address_map import DEFAULT_MAP
from tests.support.api import Api
from tests.support.pg_cluster import free_port

pytestmark = pytest.mark.slow

# An alarm of the floor's alarm bar: whether it is cleared, and its words.
ALARM = re.compile(
    r'<div class="alarm alarm-alarm( alarm-cleared)?" data-event-id="\d+">\s*'
    r'<span class="alarm-sev">ALARM</span>\s*'
    r'<span class="alarm-msg">(Data collection stopped:[^<]*)<'
)


@contextmanager
def running(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "clearwell.cli", *args], env=env, stdout=out, stderr=out
        )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


async def until(what: str, check: Callable[[], Awaitable[bool]], timeout: float) -> float:
    """Seconds until ``check`` says yes."""
    start = time.monotonic()
    while not await check():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"{what}: not within {timeout:.0f} s")
        await asyncio.sleep(1.0)
    return time.monotonic() - start


async def test_a_killed_collector_raises_the_alarm_on_the_floor_and_a_new_one_clears_it(
    api: Api, tmp_path: Path
) -> None:
    modbus, opcua = free_port(), free_port()
    site = tmp_path / "site.yaml"
    site.write_text(
        DEFAULT_MAP.read_text()
        .replace("port: 5020", f"port: {modbus}")
        .replace("opc.tcp://127.0.0.1:4840/", f"opc.tcp://127.0.0.1:{opcua}/")
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLEARWELL_")}
    env.update(
        CLEARWELL_DATABASE_URL=api.db_url,
        CLEARWELL_DATA_DIR=str(tmp_path / "data"),
        CLEARWELL_LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    log = tmp_path / "processes.log"
    simulate = ["simulate", "--modbus-port", str(modbus), "--opcua-port", str(opcua)]
    ingest = ["ingest", "--config", str(site)]

    async def alarms() -> list[tuple[bool, str]]:
        r = await api.get("operator", "/floor/demo-wwtp/tiles")
        assert r.status_code == 200, r.text
        return [(bool(m.group(1)), m.group(2)) for m in ALARM.finditer(r.text)]

    async def beating() -> bool:
        r = await api.get("admin", "/api/ingest/status", site="demo-wwtp")
        sites = r.json()["sites"]
        if not sites or sites[0]["writer"] is None or sites[0]["writer"]["state"] != "up":
            return False
        devices = sites[0]["devices"]
        return len(devices) == 4 and all(d["state"] == "up" for d in devices)

    async def listens() -> bool:
        return listening(modbus) and listening(opcua)

    with running(simulate, env, log):
        await until("the simulator listens", listens, 60)
        with running(ingest, env, log) as first:
            await until("the collectors report", beating, 90)
            assert await alarms() == []
            first.kill()  # SIGKILL: nothing is written on the way out
            first.wait()
            killed = time.monotonic()

            async def raised() -> bool:
                return len(await alarms()) == 4

            await until("the alarm", raised, 75)
            took = time.monotonic() - killed
            assert took < 60, log.read_text()
            print(f"alarm on the floor {took:.0f} s after the collector was killed")
        shown = await alarms()
        assert all(not cleared for cleared, _ in shown)
        words = sorted(text.rsplit(" since ", 1)[0] for _, text in shown)
        assert words == [
            "Data collection stopped: Modbus device plc-disinfection",
            "Data collection stopped: Modbus device plc-liftstation",
            "Data collection stopped: Modbus device plc-process",
            "Data collection stopped: OPC UA server scada",
        ]
        assert all(re.search(r" since \d\d:\d\d$", text) for _, text in shown)
        with running(ingest, env, log):

            async def cleared() -> bool:
                found = await alarms()
                return len(found) == 4 and all(c for c, _ in found)

            took = await until("the alarm clears", cleared, 60)
            print(f"cleared {took:.0f} s after a collector started again")
