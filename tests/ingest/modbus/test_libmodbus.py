"""The collector against a Modbus server on libmodbus, not on pymodbus: every data type and
word order, and a device that refuses some addresses."""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ingest.modbus.decode import decode_registers
from ingest.status_codes import BAD_CONFIGURATION_ERROR, BAD_DECODING_ERROR, GOOD
from sitefile.load import parse_config
from tests.ingest.harness import wait_for
from tests.ingest.modbus.harness import Collected
from tests.ingest.modbus.libmodbus import Layout, LibmodbusServer, text_words, words

TYPES = {
    "int16": -1234,
    "uint16": 54321,
    "int32": -123456789,
    "uint32": 3_000_000_000,
    "int64": -(2**40) - 7,
    "float32": 3.14159,
    "float64": 2.718281828459045,
}
ORDERS = ("ABCD", "CDAB", "BADC", "DCBA")
SIZE = {"int16": 1, "uint16": 1, "int32": 2, "uint32": 2, "int64": 4, "float32": 2, "float64": 4}


def site(port: int, tags: list[str], **device: object) -> str:
    extra = "".join(f", {k}: {v}" for k, v in device.items())
    return (
        "site: {code: lm, name: libmodbus}\nmodbus:\n  devices:\n"
        f"    - {{name: plc, host: 127.0.0.1, port: {port}, unit_id: 1, timeout_s: 0.5,"
        f" poll_interval_s: 0.1{extra}}}\n"
        "tags:\n" + "".join(f"  - {t}\n" for t in tags)
    )


def tag(name: str, kind: str, address: int, type_: str = "uint16", **more: object) -> str:
    extra = "".join(f", {k}: {v}" for k, v in more.items())
    return (
        f"{{name: {name}, modbus: {{device: plc, register: {kind}, address: {address},"
        f" type: {type_}{extra}}}}}"
    )


@pytest.fixture
async def started(tmp_path: Path) -> AsyncIterator[tuple[LibmodbusServer, Layout]]:
    layout = Layout()
    server = LibmodbusServer(layout, tmp_path)
    yield server, layout
    await server.stop()


async def test_every_type_order_and_register_kind_is_read_exactly(
    started: tuple[LibmodbusServer, Layout],
) -> None:
    server, layout = started
    tags: list[str] = []
    expected: dict[str, float | None] = {}
    address = 0
    for kind in ("holding", "input"):
        for type_, value in TYPES.items():
            for order in ORDERS:
                name = f"{kind}.{type_}.{order}"
                layout.put(kind, address, words(value, type_, order))
                tags.append(tag(name, kind, address, type_, word_order=order))
                # float32 holds 3.14159 as the nearest float32, which is what is stored.
                expected[name] = float(decode_registers(words(value, type_), type_))
                address += SIZE[type_]
        address += 20  # a gap wider than gap_fill: the kinds' runs are separate requests
    # Scale and offset: raw -250 * 0.1 + 40 = 15.
    layout.put("input", 300, words(-250, "int16"))
    tags.append(tag("scaled", "input", 300, "int16", scale=0.1, offset=40))
    expected["scaled"] = 15.0
    # NaN (and infinity) are not numbers: stored without a value, BadDecodingError.
    layout.put("holding", 400, words(math.nan, "float32", "CDAB"))
    layout.put("holding", 402, words(math.inf, "float64", "DCBA"))
    tags.append(tag("nan32", "holding", 400, "float32", word_order="CDAB"))
    tags.append(tag("inf64", "holding", 402, "float64", word_order="DCBA"))
    expected["nan32"] = expected["inf64"] = None
    # A string is read and decoded, not stored: readings hold numbers.
    layout.put("holding", 410, text_words("PUMP-01", 4))
    tags.append(tag("label", "holding", 410, "string", length=4))
    # Bits: coils and discrete inputs, and a bool in a register (non-zero is true).
    layout.put("coil", 0, [1, 0, 0, 1]).put("discrete", 7, [1, 0])
    layout.put("holding", 420, [0x0100])
    tags += [
        tag("coil0", "coil", 0, "bool"),
        tag("coil1", "coil", 1, "bool"),
        tag("coil3", "coil", 3, "bool"),
        tag("di7", "discrete", 7, "bool"),
        tag("di8", "discrete", 8, "bool"),
        tag("hbool", "holding", 420, "bool"),
    ]
    expected.update(coil0=1.0, coil1=0.0, coil3=1.0, di7=1.0, di8=0.0, hbool=1.0)
    port = await server.start()
    c = Collected(parse_config(site(port, tags)))
    async with c.running():
        await wait_for(lambda: set(c.latest()) == set(expected))
    assert c.latest() == expected
    assert expected["holding.float32.ABCD"] == pytest.approx(3.14159, rel=1e-7)
    for name, value in expected.items():
        statuses = {r[3] for r in c.of(name)}
        assert statuses == ({BAD_DECODING_ERROR} if value is None else {GOOD}), name
    assert c.of("label") == []
    assert c.pollers[0].health.exception_answers == 0


async def test_a_refused_address_leaves_its_neighbours_read_and_is_retried_alone(
    started: tuple[LibmodbusServer, Layout], caplog: pytest.LogCaptureFixture
) -> None:
    server, layout = started
    # a, b and c follow each other, d and e are 5 apart: with gap_fill 10 the planner
    # reads all five in one request, holding 96-115. The device refuses b's address,
    # and 112, between d and e, where no tag is.
    layout.put("holding", 96, words(12.5, "float32") + [98] + words(7.25, "float32"))
    layout.put("holding", 110, [11]).put("holding", 115, [15])
    layout.refuse("holding", 98).refuse("holding", 112)
    port = await server.start()
    names = ["a", "b", "c", "d", "e"]
    config = parse_config(
        site(
            port,
            [
                tag("a", "holding", 96, "float32"),
                tag("b", "holding", 98),
                tag("c", "holding", 99, "float32"),
                tag("d", "holding", 110),
                tag("e", "holding", 115),
            ],
            bad_address_retry_s=0.5,
        )
    )
    c = Collected(config)
    poller = c.pollers[0]
    assert [(r.address, r.count) for r, _ in poller._work] == [(96, 20)]
    good = ["a", "c", "d", "e"]
    with caplog.at_level(logging.INFO, logger="ingest.modbus.poller"):
        async with c.running():
            await wait_for(lambda: all(len(c.of(n)) >= 5 for n in good))
            # The poll that found the refusals read the neighbours already: nothing lost.
            assert [(r.address, r.count) for r, _ in poller._work] == [(96, 2), (99, 12), (115, 1)]
            for n in good:
                assert {r[3] for r in c.of(n)} == {GOOD}, n
            assert c.of("a")[0][0] <= c.of("b")[0][0]
            assert c.latest() == {"a": 12.5, "b": None, "c": 7.25, "d": 11.0, "e": 15.0}
            bad = c.of("b")
            assert len(bad) == 1 and bad[0][2:4] == (None, BAD_CONFIGURATION_ERROR)
            snapshot = poller.health.snapshot()
            assert snapshot["state"] == "degraded" and snapshot["connected"]
            refused_b = "tag 'b' (holding 98): illegal data address (exception 2)"
            assert snapshot["last_error"] == refused_b
            assert snapshot["failing_tags"] == [refused_b]
            assert snapshot["errors"]["refused_tags"] == 1
            assert [(r["tags"], r["address"], r["count"]) for r in snapshot["refused"]] == [
                (["b"], 98, 1),
                ([], 111, 4),
            ]
            # The device answers for b again: it is merged with its neighbours again.
            layout.bad.remove(("holding", 98, 98))
            await server.reload()
            await wait_for(lambda: c.latest()["b"] == 98.0, 5)
            assert [(r.address, r.count) for r, _ in poller._work] == [(96, 15), (115, 1)]
            n_before = {n: len(c.of(n)) for n in names}
            await wait_for(lambda: all(len(c.of(n)) >= n_before[n] + 3 for n in names))
    for n in good:
        assert {r[3] for r in c.of(n)} == {GOOD}, n
    assert poller.health.snapshot()["state"] == "up"
    assert poller.health.snapshot()["failing_tags"] == []
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == [
        "Modbus device plc refuses tag 'b' (holding 98): illegal data address (exception 2);"
        " reading over holding 111-114 (no tag there): illegal data address (exception 2):"
        " the other tags are read without them; the refused ones are stored as"
        " BadConfigurationError and tried alone every 0.5 s",
        "Modbus device plc answers again for tag 'b' (holding 98): read with the other tags again",
    ]
    assert not any(r.exc_info for r in caplog.records)


async def test_gap_fill_0_reads_only_tags_that_follow_each_other(
    started: tuple[LibmodbusServer, Layout],
) -> None:
    server, layout = started
    # 0 and 1 follow each other: one request. 3 is one address further, past the
    # refused 2: a request of its own, so the device never refuses anything.
    layout.put("input", 0, [10, 11, 0, 13]).refuse("input", 2)
    port = await server.start()
    config = parse_config(
        site(port, [tag(n, "input", a) for n, a in (("x", 0), ("y", 1), ("z", 3))], gap_fill=0)
    )
    c = Collected(config)
    assert [(r.address, r.count) for r, _ in c.pollers[0]._work] == [(0, 2), (3, 1)]
    async with c.running():
        await wait_for(lambda: all(len(c.of(n)) >= 3 for n in ("x", "y", "z")))
    assert c.latest() == {"x": 10.0, "y": 11.0, "z": 13.0}
    assert c.pollers[0].health.exception_answers == 0


async def test_a_device_restart_is_one_line_each_way_without_pymodbus_noise(
    started: tuple[LibmodbusServer, Layout], caplog: pytest.LogCaptureFixture
) -> None:
    server, layout = started
    layout.put("holding", 0, [5])
    port = await server.start()
    c = Collected(parse_config(site(port, [tag("a", "holding", 0)], retries=1)))
    poller = c.pollers[0]
    with caplog.at_level(logging.INFO):
        async with c.running():
            await wait_for(lambda: len(c.of("a")) >= 2)
            await server.stop()
            await wait_for(lambda: poller.health.state == "down", 5)
            await wait_for(lambda: poller.health.connect_failures >= 2, 10)
            await server.start()
            await wait_for(lambda: poller.health.state == "up" and c.of("a")[-1][3] == GOOD, 10)
    said = [
        (r.name, r.levelno, r.getMessage()) for r in caplog.records if r.levelno >= logging.INFO
    ]
    # pymodbus's "Failed to connect", "Repeating....", frame dumps: DEBUG only.
    assert [r for r in said if not r[0].startswith("ingest.")] == []
    warnings = [m for _, level, m in said if level >= logging.WARNING]
    assert len(warnings) == 2, warnings
    assert warnings[0] == (
        "Modbus device plc down: the device closed the connection"
        " (tags marked BadCommunicationError)"
    )
    assert warnings[1].startswith("Modbus device plc answering again after")
    assert not any(r.exc_info for r in caplog.records if r.levelno > logging.DEBUG)
