"""Third-party clients driven from the tests: Debian's mbpoll and node-opcua."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import struct
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
NODE_CLIENT = ROOT / "tests" / "tools" / "opcua-client" / "client.js"
SETUP_HINT = "run scripts/setup-test-tools.sh (make test does) to install it"


def need_mbpoll() -> str:
    path = shutil.which("mbpoll")
    if path is None:
        pytest.fail(f"mbpoll is not installed: {SETUP_HINT}")
    return path


def need_node_opcua() -> None:
    if not (NODE_CLIENT.parent / "node_modules" / "node-opcua").is_dir() or not shutil.which(
        "node"
    ):
        pytest.fail(f"node-opcua is not installed: {SETUP_HINT}")


_VALUE_LINE = re.compile(r"^\[(\d+)\]:\s+(\S+)", re.MULTILINE)


async def mbpoll(
    port: int, unit: int, kind: str, start: int, count: int, *extra: str
) -> tuple[int, dict[int, str], str]:
    """Run ``mbpoll`` once; returns (exit code, {address: printed value}, stderr).

    ``kind`` is mbpoll's -t argument: 0 coils, 1 discrete inputs, 3 input, 4 holding,
    with :float / :int for 32-bit values.
    """
    proc = await asyncio.create_subprocess_exec(
        need_mbpoll(),
        "-m",
        "tcp",
        "-p",
        str(port),
        "-a",
        str(unit),
        "-t",
        kind,
        "-0",
        "-r",
        str(start),
        "-c",
        str(count),
        "-1",
        "-o",
        "1",
        *extra,
        "127.0.0.1",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 20)
    values = {int(a): v for a, v in _VALUE_LINE.findall(out.decode())}
    assert proc.returncode is not None
    return proc.returncode, values, err.decode() + out.decode()


async def node_opcua(**args: Any) -> dict[str, Any]:
    """Run the node-opcua client with ``args``; its JSON answer (``error`` on failure)."""
    need_node_opcua()
    proc = await asyncio.create_subprocess_exec(
        "node",
        str(NODE_CLIENT),
        json.dumps(args),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    lines = [line for line in out.decode().splitlines() if line.startswith("{")]
    assert lines, f"node-opcua client printed no JSON; stderr: {err.decode()[-2000:]}"
    doc: dict[str, Any] = json.loads(lines[-1])
    doc["exit_code"] = proc.returncode
    return doc


def reference_decode(words: list[int], type_: str, order: str, scale: float, offset: float) -> Any:
    """An independent reading of the word-order conventions, straight from their definition."""
    if order in ("CDAB", "DCBA"):
        words = list(reversed(words))
    data = b"".join(struct.pack(">H", w) for w in words)
    if order in ("BADC", "DCBA"):
        data = b"".join(data[i + 1 : i + 2] + data[i : i + 1] for i in range(0, len(data), 2))
    fmt = {
        "int16": ">h",
        "uint16": ">H",
        "int32": ">i",
        "uint32": ">I",
        "int64": ">q",
        "float32": ">f",
        "float64": ">d",
        "bool": ">H",
    }[type_]
    (raw,) = struct.unpack(fmt, data)
    if type_ == "bool":
        return bool(raw)
    return raw * scale + offset
