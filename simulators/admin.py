"""A small HTTP/JSON admin endpoint for a running simulator (stdlib asyncio, loopback use).

    GET    /faults                      {"faults": ["stall:plc-process=3", …]}
    POST   /faults   {"fault": SPEC}    put a fault in force (or run drop:/restart:)
    DELETE /faults[?kind=K&target=T]    clear faults (all without a query)
    GET    /tags                        every tag: value, status, source time
    GET    /tags/NAME                   one tag
    GET    /status                      ports, plant time, speed, connections

Errors answer 4xx with {"error": "…"}.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from clearwell.errors import ClearwellError

if TYPE_CHECKING:
    from simulators.runtime import PlantSimulator

log = logging.getLogger("clearwell.simulators.admin")

MAX_BODY = 64 * 1024
_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Payload Too Large",
}


class _HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


async def start_admin(sim: PlantSimulator, host: str, port: int) -> asyncio.Server:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            status, body = await _serve_one(sim, reader)
        except _HttpError as exc:
            status, body = exc.status, {"error": str(exc)}
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()
            return
        data = json.dumps(body, default=str).encode()
        head = (
            f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n"
        )
        try:
            writer.write(head.encode() + data)
            await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    try:
        return await asyncio.start_server(handle, host, port)
    except OSError as exc:
        raise ClearwellError(f"admin: cannot listen on {host}:{port}: {exc.strerror}") from None


async def _serve_one(sim: PlantSimulator, reader: asyncio.StreamReader) -> tuple[int, Any]:
    request_line = (await reader.readline()).decode("latin-1").strip()
    parts = request_line.split()
    if len(parts) != 3:
        raise _HttpError(400, "malformed request line")
    method, target, _ = parts
    length = 0
    while True:
        line = (await reader.readline()).decode("latin-1").strip()
        if not line:
            break
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            try:
                length = int(value.strip())
            except ValueError:
                raise _HttpError(400, "bad Content-Length") from None
    if length > MAX_BODY:
        raise _HttpError(413, "body too large")
    raw = await reader.readexactly(length) if length else b""
    url = urlsplit(target)
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    return await route(sim, method, unquote(url.path), query, raw)


async def route(
    sim: PlantSimulator, method: str, path: str, query: dict[str, str], raw: bytes
) -> tuple[int, Any]:
    if path == "/faults":
        if method == "GET":
            return 200, {"faults": sim.faults.describe()}
        if method == "POST":
            spec = _json(raw).get("fault")
            if not isinstance(spec, str):
                raise _HttpError(400, 'expected {"fault": "kind:target[=value]"}')
            try:
                fault = sim.faults.add(spec)
            except ClearwellError as exc:
                raise _HttpError(400, str(exc)) from None
            await sim.sync()
            return 200, {"applied": str(fault), "faults": sim.faults.describe()}
        if method == "DELETE":
            gone = sim.faults.clear(query.get("kind"), query.get("target"))
            await sim.sync()
            return 200, {"cleared": [str(f) for f in gone], "faults": sim.faults.describe()}
        raise _HttpError(405, f"{method} not allowed on /faults")
    if method != "GET":
        raise _HttpError(405, f"{method} not allowed on {path}")
    if path == "/tags":
        return 200, {name: _tag(pub) for name, pub in sim.snapshot().items()}
    if path.startswith("/tags/"):
        name = path.removeprefix("/tags/")
        snapshot = sim.snapshot()
        if name not in snapshot:
            raise _HttpError(404, f"no tag named {name!r}")
        return 200, _tag(snapshot[name])
    if path == "/status":
        return 200, {
            "plant_time": sim.time.isoformat(),
            "speed": sim.speed,
            "modbus_port": sim.modbus_port,
            "opcua_endpoint": sim.opcua_endpoint,
            "modbus_connections": sim.modbus_connections,
            "faults": sim.faults.describe(),
        }
    raise _HttpError(404, f"no such resource {path}")


def _json(raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw or b"{}")
    except json.JSONDecodeError as exc:
        raise _HttpError(400, f"body is not JSON: {exc.msg}") from None
    if not isinstance(data, dict):
        raise _HttpError(400, "body must be a JSON object")
    return data


def _tag(pub: Any) -> dict[str, Any]:
    return {"value": pub.value, "status": pub.status, "source_time": pub.source_time.isoformat()}
