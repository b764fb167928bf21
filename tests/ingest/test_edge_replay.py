"""Two plants' edge collectors cut from the centre for an hour of their plant's time:
what each spooled reaches the central database in order, with no gap and no duplicate.

Each plant is the simulator's plant model stepped one second per poll (an hour of
polls in seconds of the test) and read into its own writer and spool, as its collector
would; its link to the centre is a TCP forwarder on loopback, stopped for the hour, so
its writer sees its connection reset and every new one refused.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ingest.readings import Row
from ingest.spool import Spool
from ingest.writer import Writer
from simulators.runtime import PlantSimulator
from sitefile.models import IngestOptions
from tests.support.database import owner_of
from tests.support.forwarder import Forwarder

pytestmark = pytest.mark.slow

T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
BEFORE_S, CUT_S, AFTER_S = 60, 3600, 60
TAGS = 10  # analog tags of the demo plant per plant, read every second
OPTIONS = IngestOptions(batch_rows=5000, flush_interval_s=1.0)


class Plant:
    """One site's edge: its plant, its writer and spool behind its own link."""

    def __init__(self, code: str, seed: int, first_tag_id: int, dsn: str, spool: Path) -> None:
        self.code = code
        self.sim = PlantSimulator(seed=seed, speed=0, modbus=False, opcua=False)
        analog = [n for n in self.sim.tag_names if isinstance(self.sim.value(n), float)][:TAGS]
        self.tags = {name: first_tag_id + i for i, name in enumerate(analog)}
        self.writer = Writer(dsn, Spool(spool, 10**9), OPTIONS, site_code=code)
        self.taken: list[Row] = []
        self.second = 0

    def poll(self, seconds: int) -> None:
        """``seconds`` polls, one a plant second, each submitted as a collector does."""
        for _ in range(seconds):
            self.sim.advance(1.0)
            at = T0 + timedelta(seconds=self.second)
            rows = [(at, tid, float(self.sim.value(n)), 0, None) for n, tid in self.tags.items()]
            self.taken.extend(rows)
            self.writer.submit(rows)
            self.second += 1


def via(url: str, port: int) -> str:
    info = conninfo_to_dict(url)
    info.update(host="127.0.0.1", port=str(port))
    return make_conninfo(**info)


async def test_two_plants_cut_for_an_hour_replay_in_order_without_gap_or_duplicate(
    db_url: str, tmp_path: Path
) -> None:
    info = conninfo_to_dict(db_url)
    # The order rows are committed in, as the centre sees it: kept by the owner (the
    # runtime role may make no table or trigger), in a table the writer cannot see.
    with psycopg.connect(owner_of(db_url)) as conn:
        conn.execute(
            "CREATE TABLE arrivals (n bigserial, tag_id integer, time timestamptz);"
            "CREATE FUNCTION arrived() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$"
            " BEGIN INSERT INTO arrivals (tag_id, time) VALUES (NEW.tag_id, NEW.time);"
            " RETURN NEW; END $$;"
            "CREATE TRIGGER arrived AFTER INSERT ON readings"
            " FOR EACH ROW EXECUTE FUNCTION arrived()"
        )
    links = [
        Forwarder(str(info.get("host", "127.0.0.1")), int(info.get("port", 5432))) for _ in range(2)
    ]
    for link in links:
        await link.start()
    plants = [
        Plant(code, i + 1, 1000 * (i + 1), via(db_url, link.port), tmp_path / f"{code}.sqlite")
        for i, (code, link) in enumerate(zip(("north", "south"), links, strict=True))
    ]
    try:
        for p in plants:
            p.poll(BEFORE_S)
            await p.writer.flush()
            assert p.writer.stats.state == "up" and p.writer.spool.rows == 0
        for link in links:
            await link.stop()
        started = time.monotonic()
        for minute in range(CUT_S // 60):
            for p in plants:
                p.poll(60)
                await p.writer.flush()
                if minute == 0:
                    p.writer.retry_now()  # a refused connection, not a slow one
        cut_took = time.monotonic() - started
        for p in plants:
            assert p.writer.stats.state == "down"
            assert p.writer.spool.rows == CUT_S * TAGS
        for link in links:
            await link.start()
        for p in plants:
            p.poll(AFTER_S)  # the link is back: live readings queue behind the spool
            p.writer.retry_now()
            deadline = time.monotonic() + 60
            while p.writer.spool.rows or p.writer.queue_rows:
                assert time.monotonic() < deadline, p.writer.snapshot()
                await p.writer.flush()
            assert p.writer.stats.state == "up"
    finally:
        for p in plants:
            await p.writer.close()
        for link in links:
            await link.stop()
    with psycopg.connect(db_url) as conn:
        stored = conn.execute(
            "SELECT time, tag_id, value, status, server_time FROM readings ORDER BY tag_id, time"
        ).fetchall()
    with psycopg.connect(owner_of(db_url)) as conn:
        arrivals = conn.execute("SELECT tag_id, time FROM arrivals ORDER BY n").fetchall()
    seconds = BEFORE_S + CUT_S + AFTER_S
    for p in plants:
        mine = [r for r in stored if r[1] in p.tags.values()]
        # Every reading taken, once: nothing lost, nothing doubled.
        assert mine == sorted(p.taken, key=lambda r: (r[1], r[0])), p.code
        for tag_id in p.tags.values():
            times = [r[0] for r in mine if r[1] == tag_id]
            # No gap: one reading in every second of the plant's two hours.
            assert times == [T0 + timedelta(seconds=s) for s in range(seconds)], (p.code, tag_id)
            # In order: each tag's readings reached the centre oldest first.
            arrived = [t for tid, t in arrivals if tid == tag_id]
            assert arrived == times, (p.code, tag_id)
        assert p.writer.stats.rows_duplicate == 0
        assert p.writer.stats.rows_rejected == 0
    assert len(arrivals) == len(stored) == 2 * seconds * TAGS
    assert cut_took < 120
