"""The collector against pymodbus's own server: every type and order, link loss and return."""

from __future__ import annotations

import asyncio
import logging
import struct

import pytest

from ingest.status_codes import BAD_COMMUNICATION_ERROR, GOOD
from simulators.registers import encode
from sitefile.load import parse_config
from tests.ingest.harness import wait_for
from tests.ingest.modbus.harness import Collected
from tests.ingest.modbus.layout import LayoutServer

VALUES = {
    "int16": -1234,
    "uint16": 54321,
    "int32": -123456789,
    "uint32": 3_000_000_000,
    "int64": -(2**40) - 7,
    "float32": 1.5,
    "float64": -1234.0625,
}
ORDERS = ("ABCD", "CDAB", "BADC", "DCBA")


def every_type_layout() -> tuple[str, dict[str, list], dict[str, float]]:
    """Tags of every type and order laid out on unit 1, and their expected values."""
    holding: list[int] = []
    lines, expected = [], {}
    for type_, value in VALUES.items():
        for order in ORDERS:
            name = f"h.{type_}.{order}"
            lines.append(
                f"  - {{name: {name}, modbus: {{device: plc, register: holding,"
                f" address: {len(holding)}, type: {type_}, word_order: {order}}}}}"
            )
            holding += encode(value, type_, order)
            expected[name] = float(value)
    # Scale and offset on an input register: raw 250 * 0.1 - 5 = 20.
    lines.append(
        "  - {name: i.scaled, modbus: {device: plc, register: input, address: 3,"
        " type: int16, scale: 0.1, offset: -5}}"
    )
    expected["i.scaled"] = 20.0
    # Hand-packed float32 in CDAB, independent of any encoder: 3.25 is 40 50 00 00.
    lines.append(
        "  - {name: i.cdab, modbus: {device: plc, register: input, address: 0,"
        " type: float32, word_order: CDAB}}"
    )
    expected["i.cdab"] = 3.25
    lines.append("  - {name: c.on, modbus: {device: plc, register: coil, address: 0, type: bool}}")
    lines.append("  - {name: c.off, modbus: {device: plc, register: coil, address: 9, type: bool}}")
    lines.append(
        "  - {name: d.on, modbus: {device: plc, register: discrete, address: 17, type: bool}}"
    )
    lines.append(
        "  - {name: h.bool, modbus: {device: plc, register: holding, address: 200, type: bool}}"
    )
    expected.update({"c.on": 1.0, "c.off": 0.0, "d.on": 1.0, "h.bool": 1.0})
    holding += [0] * (200 - len(holding)) + [7]
    words = struct.unpack(">2H", struct.pack(">f", 3.25))
    layout = {
        "holding": holding,
        "input": [words[1], words[0], 0, 250],
        "coil": [True] + [False] * 9,
        "discrete": [False] * 17 + [True],
    }
    return "\n".join(lines) + "\n", layout, expected


def site(port: int, tags: str, **device: object) -> str:
    extra = "".join(f", {k}: {v}" for k, v in device.items())
    return (
        "site: {code: t, name: T}\nmodbus:\n  devices:\n"
        f"    - {{name: plc, host: 127.0.0.1, port: {port}, unit_id: 1,"
        f" timeout_s: 0.5, poll_interval_s: 0.1{extra}}}\n"
        "tags:\n" + tags
    )


async def test_every_type_and_word_order_read_from_pymodbus_server() -> None:
    tags, layout, expected = every_type_layout()
    server = LayoutServer({1: layout})
    port = await server.start()
    try:
        # gap_fill 0 and small requests: the layout is read in several requests (64 holding
        # registers in 4, the bool at 200 alone, input 0-1 and 3, coils 0 and 9, a discrete).
        c = Collected(parse_config(site(port, tags, gap_fill=0, max_registers_per_request=20)))
        assert len(c.pollers[0]._work) == 10
        async with c.running():
            await wait_for(lambda: set(c.latest()) == set(expected))
        assert c.latest() == expected
        assert all(status == GOOD for _, _, _, status, _ in c.rows)
    finally:
        await server.stop()


async def test_value_changes_are_read_with_fresh_timestamps() -> None:
    server = LayoutServer({1: {"holding": encode(1.0, "float32", "ABCD")}})
    port = await server.start()
    tag = "  - {name: x, modbus: {device: plc, register: holding, address: 0, type: float32}}\n"
    try:
        c = Collected(parse_config(site(port, tag)))
        async with c.running():
            await wait_for(lambda: len(c.rows) >= 2)
            await server.set(1, "holding", 0, encode(2.5, "float32", "ABCD"))
            await wait_for(lambda: c.rows[-1][2] == 2.5)
        times = [r[0] for r in c.rows]
        assert times == sorted(times) and len(set(times)) == len(times)
        gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)]
        assert min(gaps) >= 0.05  # one reading per poll, not bunched
    finally:
        await server.stop()


async def test_link_loss_marks_tags_bad_once_and_recovers(caplog: pytest.LogCaptureFixture) -> None:
    server = LayoutServer({1: {"holding": [10, 20]}})
    port = await server.start()
    tags = (
        "  - {name: a, modbus: {device: plc, register: holding, address: 0}}\n"
        "  - {name: b, modbus: {device: plc, register: holding, address: 1}}\n"
    )
    c = Collected(parse_config(site(port, tags)))
    try:
        with caplog.at_level(logging.WARNING, logger="ingest.modbus.poller"):
            async with c.running():
                await wait_for(lambda: len(c.of("a")) >= 3)
                await server.stop()
                await wait_for(lambda: c.pollers[0].health.state == "down")
                # Several reconnection attempts fail while it is down (backoff 0.5 s, 1 s).
                await asyncio.sleep(1.8)
                down_rows = [r for r in c.rows if r[3] != GOOD]
                assert c.pollers[0].health.connect_failures >= 2
                await server.start(port)
                await wait_for(lambda: c.of("a")[-1][3] == GOOD and len(c.events) >= 2, 15)
        for name in ("a", "b"):
            rows = c.of(name)
            bad = [r for r in rows if r[3] != GOOD]
            # Exactly one bad reading per tag: no value, BadCommunicationError, after the
            # last good reading and before the first good one after it.
            assert len(bad) == 1
            assert bad[0][2] is None and bad[0][3] == BAD_COMMUNICATION_ERROR
            i = rows.index(bad[0])
            assert rows[i - 1][0] < bad[0][0] < rows[i + 1][0]
            assert rows[i + 1][3] == GOOD and rows[i + 1][2] is not None
        assert len(down_rows) == 2
        assert [e.action for e in c.events] == ["raise", "clear"]
        assert c.events[0].kind == "device" and c.events[0].tag_id is None
        name = c.pollers[0].device.name
        assert c.events[0].source == f"modbus:{name}" == c.events[1].source
        assert c.events[0].message.startswith(f"Modbus device {name} not answering: ")
        downs = [r for r in caplog.records if "down" in r.getMessage()]
        assert len(downs) == 1, [r.getMessage() for r in caplog.records]
        assert c.pollers[0].health.links_lost == 1
    finally:
        await server.stop()


async def test_dropped_connection_is_noticed_and_reconnected() -> None:
    server = LayoutServer({1: {"holding": [10]}})
    port = await server.start()
    tags = "  - {name: a, modbus: {device: plc, register: holding, address: 0}}\n"
    c = Collected(parse_config(site(port, tags)))
    try:
        async with c.running():
            await wait_for(lambda: len(c.of("a")) >= 2)
            assert server.drop_connections() == 1
            await wait_for(lambda: c.pollers[0].health.connects >= 2, 10)
            await wait_for(lambda: c.of("a")[-1][3] == GOOD and c.of("a")[-1][2] == 10.0)
        statuses = [r[3] for r in c.of("a")]
        assert statuses.count(BAD_COMMUNICATION_ERROR) == 1
    finally:
        await server.stop()


async def test_a_dead_device_does_not_delay_the_others() -> None:
    server = LayoutServer({1: {"holding": [10]}})
    port = await server.start()

    # A device that accepts the connection and never answers.
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.read()
        finally:
            writer.close()

    black_hole = await asyncio.start_server(silent, "127.0.0.1", 0)
    hole_port = black_hole.sockets[0].getsockname()[1]
    text = (
        "site: {code: t, name: T}\nmodbus:\n  devices:\n"
        f"    - {{name: good, host: 127.0.0.1, port: {port}, poll_interval_s: 0.1}}\n"
        f"    - {{name: dead, host: 127.0.0.1, port: {hole_port}, timeout_s: 2,"
        " poll_interval_s: 0.1, retries: 2}\n"
        "tags:\n"
        "  - {name: a, modbus: {device: good, register: holding, address: 0}}\n"
        "  - {name: z, modbus: {device: dead, register: holding, address: 0}}\n"
    )
    c = Collected(parse_config(text))
    try:
        async with c.running():
            await asyncio.sleep(2.0)
        good = [r for r in c.of("a") if r[3] == GOOD]
        assert len(good) >= 15  # about 20 polls in 2 s, while the other waits 6 s for answers
        assert c.of("z") == []  # nothing stored for the silent one yet: no answer, no verdict
    finally:
        black_hole.close()
        await black_hole.wait_closed()
        await server.stop()


async def test_stopping_survives_a_swallowed_cancellation() -> None:
    from ingest.service import cancel_and_wait

    async def stubborn() -> None:
        # As Python 3.11's wait_for can do when the answer and the cancel cross.
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            pass
        await asyncio.sleep(10)

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    await asyncio.wait_for(cancel_and_wait([task]), 5)
    assert task.cancelled()


async def test_an_unexpected_error_is_logged_and_collection_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = LayoutServer({1: {"holding": [10]}})
    port = await server.start()
    tags = "  - {name: a, modbus: {device: plc, register: holding, address: 0}}\n"
    c = Collected(parse_config(site(port, tags)))
    poller = c.pollers[0]
    real_read = poller._read
    calls = {"n": 0}

    async def flaky(client, req):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("boom")
        return await real_read(client, req)

    poller._read = flaky  # type: ignore[method-assign]
    try:
        with caplog.at_level(logging.WARNING, logger="ingest.modbus.poller"):
            async with c.running():
                await wait_for(lambda: calls["n"] >= 6 and c.of("a")[-1][3] == GOOD, 10)
        assert "unexpected error" in caplog.text and "boom" in caplog.text
        assert [r[3] for r in c.of("a")].count(BAD_COMMUNICATION_ERROR) == 1
    finally:
        await server.stop()
