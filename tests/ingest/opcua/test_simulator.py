"""The OPC UA collector against the bundled simulator: real sockets, a real database."""

from __future__ import annotations

import asyncio
import math
import os
import stat
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from asyncua import ua

from clearwell.errors import ConfigError
from ingest.events import EventChange
from ingest.opcua.browse import server_certificate_of
from ingest.opcua.collector import OpcuaCollector
from ingest.opcua.security import OpcuaTrustError, credentials
from ingest.opcua.session import OpcuaConnectError, open_session
from ingest.opcua.status import stored
from ingest.readings import Row
from ingest.service import IngestService, cancel_and_wait
from ingest.status_codes import BAD_COMMUNICATION_ERROR
from ingest.tagstate import TagState
from simulators.address_map import DEFAULT_MAP
from simulators.opcua_face import NAMESPACE_URI
from simulators.runtime import PlantSimulator
from sitefile.load import load_config
from sitefile.models import Limits, OpcuaSection, OpcuaServer, SiteConfig
from tests.ingest.harness import stored_rows, wait_for

USERS = {"operator": "s3cret"}


def opcua_site(endpoint: str, **server: object) -> SiteConfig:
    """The simulator's map with every tag read over OPC UA, from the server the test started."""
    config = load_config(DEFAULT_MAP)
    base = config.opcua.servers[0].model_dump()
    merged = {**base, "endpoint": endpoint, "publishing_interval_s": 0.1, **server}
    tags = [t.model_copy(update={"source": "opcua", "deadband": None}) for t in config.tags]
    return config.model_copy(
        update={
            "opcua": OpcuaSection(servers=[OpcuaServer(**merged)]),
            "modbus": config.modbus.model_copy(update={"devices": []}),
            "tags": tags,
            "ingest": config.ingest.model_copy(
                update={"flush_interval_s": 0.1, "health_interval_s": 0.2}
            ),
        }
    )


@pytest.fixture
async def sim(tmp_path: Path) -> AsyncIterator[PlantSimulator]:
    # The plant clock stopped (speed 0) and an hour ahead of the wall clock, so values
    # change only when the test advances it and every source time is after a loss.
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    async with PlantSimulator(
        seed=5,
        speed=0,
        start=start,
        modbus=False,
        opcua_port=0,
        data_dir=tmp_path / "sim",
        users=USERS,
    ) as s:
        yield s


def published(sim: PlantSimulator, names: list[str]) -> set[tuple[str, datetime, float]]:
    out = set()
    for n in names:
        p = sim.published(n)
        out.add((n, p.source_time, float(p.value)))
    return out


def present(db_url: str, expected: set[tuple[str, datetime, float]]) -> set[tuple[str, datetime]]:
    """The (tag, source time) pairs of ``expected`` stored with that value and Good."""
    rows = stored_rows(db_url)
    found = set()
    for name, when, value in expected:
        for t, v, status in rows.get(name, []):
            if t == when and status == 0 and v == pytest.approx(value, rel=1e-9, abs=1e-9):
                found.add((name, when))
    return found


async def test_none_security_stores_what_the_server_publishes_with_status(
    sim: PlantSimulator, db_url: str, tmp_path: Path
) -> None:
    config = opcua_site(sim.opcua_endpoint or "")
    names = [t.name for t in config.tags]
    async with IngestService(config, db_url, tmp_path) as service:
        expected = published(sim, names)
        await wait_for(lambda: len(present(db_url, expected)) == len(names), 15)
        sim.faults.status("aeration.do", "bad")
        sim.faults.status("influent.ph", "uncertain")
        sim.faults.status("effluent.turbidity", "BadSensorFailure")
        sim.advance(1)
        await sim.sync()
        ph = sim.published("influent.ph")
        bad = {"aeration.do", "effluent.turbidity"}

        def arrived() -> bool:
            rows = stored_rows(db_url)
            return all(r[-1][2] != 0 for n in (*bad, "influent.ph") if (r := rows.get(n)))

        await wait_for(arrived, 10)
        (collector,) = service.collectors
        snapshot = collector.health.snapshot()
    rows = stored_rows(db_url)
    # The source timestamp is the reading's time; the whole status code is kept.
    # (The simulator keeps the value's source time when only its status changes: the change
    # is then stored at the server's timestamp, not lost on the one reading per time.)
    when, value, status = rows["influent.ph"][-1]
    assert (value, status) == (pytest.approx(float(ph.value)), 0x40000000)
    assert when >= ph.source_time and rows["influent.ph"][0][2] == 0
    assert rows["aeration.do"][-1][1:] == (None, stored(0x80000000))
    assert rows["effluent.turbidity"][-1][1:] == (None, stored(ua.StatusCodes.BadSensorFailure))
    assert snapshot["state"] == "up" and snapshot["monitored_items"] == len(names)
    with psycopg.connect(db_url) as conn:
        # The server's timestamp is kept beside the source timestamp of every value.
        (without_server_time,) = conn.execute(
            "SELECT count(*) FILTER (WHERE server_time IS NULL) FROM readings"
        ).fetchone() or (None,)
    assert without_server_time == 0
    assert snapshot["protocol"] == "opcua" and snapshot["notifications"] >= len(names)
    with psycopg.connect(db_url) as conn:
        (health,) = conn.execute(
            "SELECT state, detail->>'endpoint' FROM ingest_health WHERE kind = 'opcua_server'"
        ).fetchall()
    assert health == ("up", sim.opcua_endpoint)


async def test_refused_items_are_counted_over_every_subscription(
    sim: PlantSimulator, db_url: str, tmp_path: Path
) -> None:
    config = opcua_site(sim.opcua_endpoint or "", max_items_per_subscription=2)
    tags = list(config.tags)
    # The first and the last tag name nodes the server does not have: they fall in
    # different subscriptions.
    for i in (0, len(tags) - 1):
        assert tags[i].opcua is not None
        opcua = tags[i].opcua.model_copy(update={"node_id": f"ns=2;s=no.such.node.{i}"})
        tags[i] = tags[i].model_copy(update={"opcua": opcua})
    config = config.model_copy(update={"tags": tags})
    async with IngestService(config, db_url, tmp_path) as service:
        (collector,) = service.collectors
        await wait_for(lambda: collector.health.state == "up", 15)
        health = collector.health
        assert len(health.subscription_ids) == math.ceil(len(tags) / 2)
        assert health.bad_items == 2 and health.monitored_items == len(tags) - 2

        def refused_stored() -> bool:
            rows = stored_rows(db_url)
            return all(
                rows.get(tags[i].name, [(None, 0.0, 0)])[-1][1:]
                == (None, stored(ua.StatusCodes.BadNodeIdUnknown))
                for i in (0, len(tags) - 1)
            )

        await wait_for(refused_stored, 10)


async def test_subscribed_values_are_checked_against_the_tags_limits(
    sim: PlantSimulator, db_url: str, tmp_path: Path
) -> None:
    config = opcua_site(sim.opcua_endpoint or "")
    # A hi limit every value of influent.ph is above.
    tags = [
        t.model_copy(update={"limits": Limits(hi=-1000.0)}) if t.name == "influent.ph" else t
        for t in config.tags
    ]
    config = config.model_copy(update={"tags": tags})

    def limit_events() -> list[tuple[str, str]]:
        with psycopg.connect(db_url) as conn:
            return conn.execute(
                "SELECT t.name, e.code FROM events e JOIN tags t ON t.id = e.tag_id"
                " WHERE e.kind = 'limit' AND e.ended_at IS NULL"
            ).fetchall()

    async with IngestService(config, db_url, tmp_path):
        await wait_for(lambda: bool(limit_events()), 15)
    assert limit_events() == [("influent.ph", "hi")]
    # The next run finds the event open and resumes it: with the limit lifted, it ends.
    lifted = [
        t.model_copy(update={"limits": Limits(hi=1e9)}) if t.name == "influent.ph" else t
        for t in config.tags
    ]
    ingest = config.ingest.model_copy(update={"event_hold_s": 0.0})
    config = config.model_copy(update={"tags": lifted, "ingest": ingest})
    async with IngestService(config, db_url, tmp_path):
        sim.advance(1)
        await sim.sync()
        await wait_for(lambda: not limit_events(), 15)


async def test_basic256sha256_sign_and_encrypt_with_a_password(
    sim: PlantSimulator, db_url: str, tmp_path: Path
) -> None:
    data_dir = tmp_path / "ingest-data"
    config = opcua_site(
        sim.opcua_endpoint or "",
        security_policy="Basic256Sha256",
        security_mode="SignAndEncrypt",
        server_certificate=str(tmp_path / "sim" / "server_cert.der"),
        username="operator",
        password_env="TEST_OPCUA_PASSWORD",
    )
    names = [t.name for t in config.tags]
    environ = {"TEST_OPCUA_PASSWORD": USERS["operator"]}
    async with IngestService(config, db_url, data_dir, environ=environ):
        expected = published(sim, names)
        await wait_for(lambda: len(present(db_url, expected)) == len(names), 15)
    # The client certificate was made on first use, where the docs say, its key private.
    key = data_dir / "ingest" / "opcua" / "client_key.pem"
    assert (data_dir / "ingest" / "opcua" / "client_cert.der").is_file()
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600


async def test_the_server_certificate_is_fetched_for_trust_on_first_use(
    sim: PlantSimulator, tmp_path: Path
) -> None:
    # What `clearwell ingest browse --save-server-certificate` saves and then pins.
    endpoint = sim.opcua_endpoint or ""
    der = await server_certificate_of(endpoint, 5.0, "Basic256Sha256", "SignAndEncrypt")
    assert der == (tmp_path / "sim" / "server_cert.der").read_bytes()
    with pytest.raises(ConfigError, match="security mode 'Nonsense': a server certificate needs"):
        await server_certificate_of(endpoint, 5.0, "Basic256Sha256", "Nonsense")


async def test_wrong_password_and_untrusted_certificate_are_clear_errors(
    sim: PlantSimulator, tmp_path: Path
) -> None:
    server = OpcuaServer(
        name="scada",
        endpoint=sim.opcua_endpoint or "",
        security_policy="Basic256Sha256",
        server_certificate=str(tmp_path / "sim" / "server_cert.der"),
        username="operator",
        password_env="PW",
    )
    with pytest.raises(OpcuaConnectError) as wrong:
        await open_session(server, credentials(server, tmp_path, {"PW": "guess"}))
    assert wrong.value.login
    assert f"OPC UA server scada ({sim.opcua_endpoint}) refused user 'operator'" in str(wrong.value)
    assert "BadUserAccessDenied" in str(wrong.value)

    # Trusting another certificate (here: this client's own) than the one the server has.
    creds = credentials(server, tmp_path, {"PW": USERS["operator"]})
    assert creds.certificate is not None
    other = server.model_copy(update={"server_certificate": str(creds.certificate)})
    with pytest.raises(
        OpcuaTrustError,
        match=r"certificate not trusted: it presents .*"
        r"CN=Clearwell plant simulator thumbprint [0-9A-F:]{59}, but server_certificate",
    ):
        await open_session(other, credentials(other, tmp_path, {"PW": USERS["operator"]}))

    # The collector reports the refusal once, as its state, and keeps trying.
    config = opcua_site(sim.opcua_endpoint or "")
    rows: list[Row] = []
    events: list[EventChange] = []
    states = [TagState.of(t, i + 1, 1, 60.0, 0.0) for i, t in enumerate(config.tags)]
    collector = OpcuaCollector(
        server,
        states,
        credentials(server, tmp_path, {"PW": "guess"}),
        1,
        rows.extend,
        events.extend,
    )
    task = asyncio.create_task(collector.run())
    try:
        await wait_for(lambda: collector.health.connect_failures >= 2, 10)
    finally:
        await cancel_and_wait([task])
    assert collector.health.state == "down"
    assert "refused user 'operator'" in (collector.health.last_error or "")
    assert [r[3] for r in rows] == [BAD_COMMUNICATION_ERROR] * len(states)  # once, not per try


async def test_server_restart_resumes_with_nothing_missing(
    sim: PlantSimulator, db_url: str, tmp_path: Path
) -> None:
    config = opcua_site(sim.opcua_endpoint or "")
    names = [t.name for t in config.tags]
    async with IngestService(config, db_url, tmp_path) as service:
        (collector,) = service.collectors
        expected = published(sim, names)
        await wait_for(lambda: len(present(db_url, expected)) == len(names), 15)
        first_subscriptions = list(collector.health.subscription_ids)
        await sim.restart_opcua()
        after: set[tuple[str, datetime, float]] = set()
        # A change while the collector is still away: the new subscription's first
        # notification brings it.
        sim.advance(1)
        await sim.sync()
        after |= published(sim, names)
        await wait_for(
            lambda: collector.health.connects >= 2 and collector.health.state == "up", 15
        )
        for _ in range(3):
            sim.advance(1)
            await sim.sync()
            after |= published(sim, names)
            await asyncio.sleep(0.3)
        await wait_for(lambda: len(present(db_url, after)) == len(after), 15)
        health = collector.health
    assert health.sessions_lost == 1 and health.subscription_ids
    assert first_subscriptions
    rows = stored_rows(db_url)
    for name in names:
        # The loss is stored once per tag, then values again.
        statuses = [s for _, _, s in rows[name]]
        assert statuses.count(BAD_COMMUNICATION_ERROR) == 1, name
        assert statuses[-1] == 0, name


async def test_browse_writes_a_configuration_that_loads(
    sim: PlantSimulator, db_url: str, tmp_path: Path
) -> None:
    from ingest.cli import _browse

    text, count = await _browse(
        sim.opcua_endpoint or "",
        "scada",
        "browsed",
        "Browsed",
        "None",
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        5.0,
        tmp_path,
    )
    path = tmp_path / "browsed.yaml"
    path.write_text(text)
    config = load_config(path)
    wanted = {t.opcua.node_id for t in load_config(DEFAULT_MAP).tags if t.opcua}
    # Written with the namespace's URI (nsu=), not its index (the map's ns=2).
    browsed = {t.opcua.node_id for t in config.tags if t.opcua}
    assert all(n.startswith(f"nsu={NAMESPACE_URI};") for n in browsed)
    assert {n.replace(f"nsu={NAMESPACE_URI};", "ns=2;") for n in browsed} == wanted
    assert count == len(wanted)
    flow = next(
        t
        for t in config.tags
        if t.opcua and t.opcua.node_id == f"nsu={NAMESPACE_URI};s=Influent.Flow"
    )
    assert (flow.name, flow.unit, flow.eng_range) == ("Influent.Flow", "m3/h", (0.0, 2500.0))
    # And it collects.
    async with IngestService(config, db_url, tmp_path) as service:
        await wait_for(lambda: service.collectors[0].health.notifications >= len(wanted), 10)
