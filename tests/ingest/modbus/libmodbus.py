"""A Modbus TCP server on libmodbus (tests/tools/modbus-server), run as its own process.

Its registers are written from Python with :mod:`struct` alone, so the values the
collector reads are checked against an encoding that is neither pymodbus's nor
the simulator's.
"""

from __future__ import annotations

import asyncio
import os
import signal
import struct
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SOURCE = ROOT / "tests" / "tools" / "modbus-server" / "server.c"
BUILD = ROOT / "tests" / "tools" / "modbus-server" / "build.sh"
BINARY = ROOT / "build" / "test-tools" / "modbus-server"
SETUP_HINT = "run scripts/setup-test-tools.sh (make test does): it installs libmodbus-dev"

_FORMATS = {
    "int16": "h",
    "uint16": "H",
    "int32": "i",
    "uint32": "I",
    "int64": "q",
    "float32": "f",
    "float64": "d",
}


def words(value: float | int, type_: str, order: str = "ABCD") -> list[int]:
    """The registers of a value as a device with that word order holds them.

    The value's big-endian bytes A B C D … are sent as they are (ABCD), with the
    16-bit words in reverse order (CDAB), with the two bytes of each word swapped
    (BADC), or both (DCBA).
    """
    data = struct.pack(">" + _FORMATS[type_], value)
    pairs = [data[i : i + 2] for i in range(0, len(data), 2)]
    if order in ("CDAB", "DCBA"):
        pairs.reverse()
    if order in ("BADC", "DCBA"):
        pairs = [p[::-1] for p in pairs]
    return [int.from_bytes(p, "big") for p in pairs]


def text_words(text: str, length: int) -> list[int]:
    """An ASCII string in ``length`` registers, two characters each, NUL-padded."""
    data = text.encode("ascii").ljust(2 * length, b"\0")
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, 2 * length, 2)]


@dataclass
class Layout:
    """What the server holds: values by address, refused addresses, counters, a delay."""

    values: dict[str, dict[int, int]] = field(default_factory=dict)
    bad: list[tuple[str, int, int]] = field(default_factory=list)
    counters: list[tuple[str, int]] = field(default_factory=list)
    delay_ms: int = 0
    # Print each read as it arrives (LibmodbusServer.next_read): the test must read them.
    trace: bool = False

    def put(self, kind: str, address: int, values: list[int]) -> Layout:
        area = self.values.setdefault(kind, {})
        for i, v in enumerate(values):
            area[address + i] = int(v)
        return self

    def refuse(self, kind: str, first: int, last: int | None = None) -> Layout:
        """Reads touching these addresses are answered with exception 2."""
        self.bad.append((kind, first, first if last is None else last))
        return self

    def count(self, kind: str, address: int) -> Layout:
        """The register counts the reads that cover it."""
        self.counters.append((kind, address))
        return self

    def text(self) -> str:
        lines = [f"delay_ms {self.delay_ms}", f"trace {int(self.trace)}"]
        for kind, area in self.values.items():
            lines += [f"{kind} {a} {v}" for a, v in sorted(area.items())]
        lines += [f"bad {k} {f} {last}" for k, f, last in self.bad]
        lines += [f"counter {k} {a}" for k, a in self.counters]
        return "\n".join(lines) + "\n"


def server_binary() -> Path:
    """The server, built from its source when missing or older than it."""
    if not BINARY.exists() or BINARY.stat().st_mtime < SOURCE.stat().st_mtime:
        result = subprocess.run([str(BUILD), str(BINARY)], capture_output=True, text=True)
        if result.returncode != 0:
            pytest.fail(f"cannot build the libmodbus test server ({SETUP_HINT}):\n{result.stderr}")
    return BINARY


class LibmodbusServer:
    def __init__(self, layout: Layout, directory: Path) -> None:
        self.layout = layout
        self.path = directory / "modbus-layout.txt"
        self.port = 0
        self._proc: asyncio.subprocess.Process | None = None

    async def start(self) -> int:
        """Start (again, on the same port if it had one); returns the port."""
        self.path.write_text(self.layout.text())
        proc = await asyncio.create_subprocess_exec(
            str(server_binary()),
            str(self.port),
            str(self.path),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 10)
        if not line.startswith(b"listening "):
            _, err = await proc.communicate()
            raise RuntimeError(f"modbus-server did not start: {line!r} {err!r}")
        self.port = int(line.split()[1])
        self._proc = proc
        return self.port

    async def next_read(self) -> tuple[str, int, int]:
        """The next read the server receives (with ``trace``): kind, address, count."""
        assert self._proc is not None and self._proc.stdout is not None
        line = await asyncio.wait_for(self._proc.stdout.readline(), 10)
        _, kind, address, count = line.split()
        return kind.decode(), int(address), int(count)

    async def reload(self) -> None:
        """Serve ``layout`` as it is now (values, refused addresses)."""
        assert self._proc is not None
        self.path.write_text(self.layout.text())
        self._proc.send_signal(signal.SIGHUP)
        await asyncio.sleep(0.1)

    async def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.returncode is None:
            proc.kill()
            await proc.wait()

    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid


def cli_env(database_url: str, data_dir: Path) -> dict[str, str]:
    """The environment of a ``clearwell`` process the tests start."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLEARWELL_")}
    env.update(
        CLEARWELL_DATABASE_URL=database_url,
        CLEARWELL_DATA_DIR=str(data_dir),
        PYTHONPATH=str(ROOT),
    )
    return env
