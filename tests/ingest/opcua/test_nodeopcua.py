"""The OPC UA collector against a node-opcua server, not asyncua's: browsing by namespace
URI, values and statuses, a server restart (with a new namespace table) told in one line
each way, and a client certificate the server does not trust."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from asyncua import ua

from ingest.cli import _browse
from ingest.opcua.collector import OpcuaCollector
from ingest.opcua.security import credentials
from ingest.opcua.status import stored
from ingest.readings import Row
from ingest.service import cancel_and_wait
from ingest.status_codes import BAD_COMMUNICATION_ERROR
from ingest.tagstate import TagState
from sitefile.load import parse_config
from sitefile.models import SiteConfig
from tests.ingest.harness import wait_for
from tests.ingest.opcua.nodeopcua import PLANT_URI, NodeOpcuaServer

PLANT = f"nsu={PLANT_URI};s=Plant"
TAGS = {
    "do": f"{PLANT}.Aeration.DO",
    "air": f"{PLANT}.Aeration.AirFlow",
    "blowers": f"{PLANT}.Aeration.BlowersRunning",
    "fault": f"{PLANT}.Aeration.BlowerFault",
    "probe2": f"{PLANT}.Aeration.Probe2",
    "probe3": f"{PLANT}.Aeration.Probe3",
    "flow": f"{PLANT}.Influent.Flow",
    "counter": f"{PLANT}.Counter",
}


def site(endpoint: str, tags: dict[str, str], server: str = "", polled: str = "") -> SiteConfig:
    lines = "".join(
        f"  - {{name: {name}, source: opcua, opcua: {{server: plant, node_id: '{node}'"
        + (", mode: poll, sampling_interval_s: 0.2" if name == polled else "")
        + "}}\n"
        for name, node in tags.items()
    )
    return parse_config(
        "site: {code: nodeopcua, name: node-opcua}\nopcua:\n  servers:\n"
        f"    - {{name: plant, endpoint: '{endpoint}', publishing_interval_s: 0.2,"
        f" reconnect_max_s: 1{server}}}\n"
        "tags:\n" + lines
    )


@pytest.fixture(autouse=True)
def asyncua_at_warning() -> Iterator[None]:
    """asyncua's INFO lines are off, as ``clearwell ingest`` sets them (clearwell.cli)."""
    logger = logging.getLogger("asyncua")
    level = logger.level
    logger.setLevel(logging.WARNING)
    yield
    logger.setLevel(level)


class Running:
    """An OPC UA collector of a configuration, its rows and events in lists."""

    def __init__(self, config: SiteConfig, data_dir: Path) -> None:
        self.rows: list[Row] = []
        self.ids = {t.name: i + 1 for i, t in enumerate(config.tags)}
        server = config.opcua.servers[0]
        states = [TagState.of(t, self.ids[t.name], 1, 60.0, 0.0) for t in config.tags]
        creds = credentials(server, data_dir, {"PLANT_PASSWORD": "s3cret"})
        self.collector = OpcuaCollector(server, states, creds, 1, self.rows.extend, lambda _: None)

    def of(self, name: str) -> list[Row]:
        return [r for r in self.rows if r[1] == self.ids[name]]

    def latest(self, name: str) -> tuple[float | None, int] | None:
        rows = self.of(name)
        return (rows[-1][2], rows[-1][3]) if rows else None


async def test_browsed_values_statuses_and_a_restart_with_a_new_namespace_table(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server = NodeOpcuaServer(tmp_path)
    endpoint = await server.start()
    task = None
    try:
        # Browsed, the plant's node ids name their namespace by URI (or by index, asked).
        args = [endpoint, "plant", "browsed", "Browsed", "None"] + [None] * 8
        text, count = await _browse(*args, 5.0, tmp_path)  # type: ignore[arg-type]
        by_index, _ = await _browse(*args, 5.0, tmp_path, by_uri=False)  # type: ignore[arg-type]
        browsed = parse_config(text)
        nodes = {t.name: t.opcua.node_id for t in browsed.tags if t.opcua}
        assert count == len(nodes) == 8 and set(nodes.values()) == set(TAGS.values())
        assert "ns=2;s=Plant.Aeration.DO" in by_index
        flow = next(t for t in browsed.tags if t.name == "Influent.Flow")
        assert (flow.unit, flow.eng_range) == ("m³/h", (0.0, 2000.0))
        # Collected: the browsed tags, AirFlow polled, and DO once more by its index.
        tags = {**TAGS, "do_by_index": "ns=2;s=Plant.Aeration.DO"}
        running = Running(site(endpoint, tags, polled="air"), tmp_path)
        collector = running.collector
        with caplog.at_level(logging.INFO):
            task = asyncio.create_task(collector.run())
            await wait_for(lambda: all(running.of(n) for n in tags), 15)
            # The whole status code kept; a Bad value without its number, an Uncertain
            # one with it; every number exactly (AirFlow is a Float, polled).
            assert {n: running.latest(n) for n in tags if n != "counter"} == {
                "do": (2.125, 0),
                "do_by_index": (2.125, 0),
                "air": (812.5, 0),
                "blowers": (3.0, 0),
                "fault": (1.0, 0),
                "probe2": (None, stored(ua.StatusCodes.BadSensorFailure)),
                "probe3": (4.5, stored(ua.StatusCodes.UncertainLastUsableValue)),
                "flow": (1234.5, 0),
            }
            # node-opcua sends no server timestamp with these: none stored (not 1601).
            assert {r[4] for r in running.rows} == {None}
            await server.set("ns=2;s=Plant.Aeration.DO", 3.5, "Good")
            await wait_for(lambda: running.latest("do") == (3.5, 0), 5)
            # The server is killed and comes back as its next version, which registers
            # a namespace before the plant's: index 2 is now another namespace.
            await server.stop()
            await wait_for(lambda: collector.health.state == "down", 10)
            server.extra_namespaces = ("urn:vendor:extras",)
            await server.start()
            await wait_for(lambda: collector.health.state == "up", 60)
            counted = len(running.of("counter"))
            await wait_for(lambda: len(running.of("counter")) > counted + 3, 10)
    finally:
        if task is not None:
            collector.stop()
            await cancel_and_wait([task])
        await server.stop()
    for name in TAGS:
        statuses = [r[3] for r in running.of(name)]
        assert statuses.count(BAD_COMMUNICATION_ERROR) == 1, name
    # The value set before the restart is lost with the process; the URI still names
    # the plant, the index no node.
    assert running.latest("do") == (2.125, 0)
    assert running.latest("do_by_index") == (None, stored(ua.StatusCodes.BadNodeIdUnknown))
    # One line each way from the collector, at WARNING (and the tag the restarted server
    # will not monitor); nothing from asyncua above DEBUG, no traceback anywhere.
    said = [
        (r.name, r.levelno, r.getMessage()) for r in caplog.records if r.levelno >= logging.INFO
    ]
    assert [r for r in said if not r[0].startswith("ingest.")] == []
    assert not any(r.exc_info for r in caplog.records if r.levelno > logging.DEBUG)
    warnings = [m for _, level, m in said if level >= logging.WARNING]
    assert len(warnings) == 3, warnings
    assert warnings[0].startswith("OPC UA server plant down: ")
    assert warnings[1] == (
        "OPC UA server plant refused 1 tags: tag 'do_by_index' (ns=2;s=Plant.Aeration.DO):"
        " BadNodeIdUnknown"
    )
    assert warnings[2].startswith("OPC UA server plant answering again after")
    assert collector.health.snapshot()["state"] == "degraded"


async def test_a_client_certificate_the_server_does_not_trust_is_said_once_with_what_to_do(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Basic256Sha256 SignAndEncrypt with a user; the server keeps the certificates of
    # clients it does not know in its rejected folder, as most do.
    server = NodeOpcuaServer(tmp_path, secure=True, trust_clients=False, users={"hist": "s3cret"})
    endpoint = await server.start()
    extra = (
        f", security_policy: Basic256Sha256, server_certificate: '{server.certificate}',"
        " username: hist, password_env: PLANT_PASSWORD"
    )
    running = Running(site(endpoint, {"do": TAGS["do"]}, server=extra), tmp_path / "var")
    collector = running.collector
    client_cert = tmp_path / "var" / "ingest" / "opcua" / "client_cert.der"
    with caplog.at_level(logging.INFO):
        task = asyncio.create_task(collector.run())
        try:
            await wait_for(lambda: collector.health.connect_failures >= 3, 30)
            said = [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
            (line,) = said
            message = line.getMessage()
            assert message.startswith(
                f"OPC UA server plant down: OPC UA server plant ({endpoint}) does not trust"
                f" this client's certificate (it closed the secure channel as it opened):"
                f" trust {client_cert} (thumbprint "
            ), message
            assert "AssertionError" not in caplog.text and "Traceback" not in caplog.text
            snapshot = collector.health.snapshot()
            assert snapshot["state"] == "down" and str(client_cert) in snapshot["last_error"]
            # Its administrator trusts it (node-opcua: from rejected to trusted).
            (rejected,) = server.rejected()
            server.trust(rejected)
            rejected.unlink()
            await wait_for(lambda: running.latest("do") == (2.125, 0), 30)
        finally:
            collector.stop()
            await cancel_and_wait([task])
            await server.stop()
