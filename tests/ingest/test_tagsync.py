"""Tag sync into the core tables: create, rename and unit changes with history, retire, adopt."""

from __future__ import annotations

import psycopg
import pytest

from clearwell.errors import ClearwellError
from ingest.tagsync import expected_interval_s, sync_tags
from sitefile.load import parse_config

BASE = """\
site: {code: sync-site, name: Sync Site, timezone: America/Denver}
modbus:
  devices:
    - {name: plc, host: 127.0.0.1}
tags:
"""


def config(*tags: str):
    return parse_config(BASE + "".join(f"  - {t}\n" for t in tags))


FLOW = (
    "{name: flow, unit: m3/h, modbus: {device: plc, register: holding, address: 0, type: float32}}"
)
PH = (
    "{name: ph, unit: pH, limits: {lo: 6, hi: 9},"
    " modbus: {device: plc, register: holding, address: 2}}"
)


def history(conn: psycopg.Connection, tag_id: int) -> list[tuple[str, str | None, str | None]]:
    return conn.execute(
        "SELECT field, old_value, new_value FROM tag_history WHERE tag_id = %s ORDER BY id",
        (tag_id,),
    ).fetchall()


def test_creates_site_and_tags(db_url: str) -> None:
    with psycopg.connect(db_url) as conn:
        result = sync_tags(conn, config(FLOW, PH), "site.yaml")
        assert result.created == ["flow", "ph"]
        site = conn.execute(
            "SELECT id, name, timezone FROM sites WHERE code = 'sync-site'"
        ).fetchone()
        assert site == (result.site_id, "Sync Site", "America/Denver")
        rows = conn.execute(
            "SELECT name, unit, source_protocol, address, limit_lo, limit_hi FROM tags"
            " WHERE site_id = %s ORDER BY name",
            (result.site_id,),
        ).fetchall()
        assert rows == [
            ("flow", "m3/h", "modbus", "plc;holding;0", None, None),
            ("ph", "pH", "modbus", "plc;holding;2", 6.0, 9.0),
        ]
        # Idempotent: a second sync changes nothing.
        again = sync_tags(conn, config(FLOW, PH), "site.yaml")
        assert again.tag_ids == result.tag_ids
        assert (again.created, again.renamed, again.updated, again.retired) == ([], [], [], [])


def test_existing_site_is_reused_by_code(db_url: str) -> None:
    with psycopg.connect(db_url) as conn:
        conn.execute(
            "INSERT INTO sites (code, name, timezone) VALUES ('sync-site', 'Seeded', 'UTC')"
        )
        result = sync_tags(conn, config(FLOW), "")
        row = conn.execute("SELECT id, name FROM sites WHERE code = 'sync-site'").fetchone()
        assert row == (result.site_id, "Seeded")


def test_rename_and_unit_change_keep_the_tag_and_record_history(db_url: str) -> None:
    with psycopg.connect(db_url) as conn:
        first = sync_tags(conn, config(FLOW, PH), "v1.yaml")
        flow_id = first.tag_ids["flow"]
        renamed = FLOW.replace("name: flow", "name: influent.flow").replace("m3/h", "L/s")
        second = sync_tags(conn, config(renamed, PH), "v2.yaml")
        assert second.tag_ids["influent.flow"] == flow_id
        assert second.renamed == [("flow", "influent.flow")]
        assert second.created == [] and second.retired == []
        assert history(conn, flow_id)[1:] == [
            ("name", "flow", "influent.flow"),
            ("unit", "m3/h", "L/s"),
        ]
        src = conn.execute(
            "SELECT DISTINCT source FROM tag_history WHERE tag_id = %s AND field <> 'created'",
            (flow_id,),
        ).fetchall()
        assert src == [("v2.yaml",)]


def test_swapping_two_names(db_url: str) -> None:
    with psycopg.connect(db_url) as conn:
        first = sync_tags(conn, config(FLOW, PH), "")
        a = FLOW.replace("name: flow", "name: ph")
        b = PH.replace("name: ph", "name: flow")
        second = sync_tags(conn, config(a, b), "")
        assert second.tag_ids["ph"] == first.tag_ids["flow"]
        assert second.tag_ids["flow"] == first.tag_ids["ph"]


def test_explicit_id_follows_a_tag_to_a_new_address(db_url: str) -> None:
    with_id = FLOW.replace("{name: flow,", "{name: flow, id: FT-101,")
    moved = with_id.replace("address: 0", "address: 40")
    with psycopg.connect(db_url) as conn:
        first = sync_tags(conn, config(with_id), "")
        second = sync_tags(conn, config(moved), "")
        assert second.tag_ids["flow"] == first.tag_ids["flow"]
        assert ("address", "plc;holding;0", "plc;holding;40") in history(
            conn, first.tag_ids["flow"]
        )


def test_removed_tags_are_retired_and_come_back(db_url: str) -> None:
    with psycopg.connect(db_url) as conn:
        first = sync_tags(conn, config(FLOW, PH), "")
        second = sync_tags(conn, config(FLOW), "")
        assert second.retired == ["ph"]
        retired = conn.execute(
            "SELECT retired_at IS NOT NULL FROM tags WHERE id = %s", (first.tag_ids["ph"],)
        ).fetchone()
        assert retired == (True,)
        third = sync_tags(conn, config(FLOW, PH), "")
        assert third.tag_ids["ph"] == first.tag_ids["ph"]
        back = conn.execute(
            "SELECT retired_at FROM tags WHERE id = %s", (first.tag_ids["ph"],)
        ).fetchone()
        assert back == (None,)


def test_adopts_a_tag_another_module_created(db_url: str) -> None:
    with psycopg.connect(db_url) as conn:
        site_id = conn.execute(
            "INSERT INTO sites (code, name, timezone) VALUES ('sync-site', 'S', 'UTC') RETURNING id"
        ).fetchone()[0]
        tag_id = conn.execute(
            "INSERT INTO tags (site_id, name, source_protocol) VALUES (%s, 'flow', 'manual')"
            " RETURNING id",
            (site_id,),
        ).fetchone()[0]
        result = sync_tags(conn, config(FLOW), "")
        assert result.tag_ids["flow"] == tag_id
        assert ("source_protocol", "manual", "modbus") in history(conn, tag_id)


def test_rename_onto_a_foreign_tag_is_a_clear_error(db_url: str) -> None:
    with psycopg.connect(db_url) as conn:
        sync_tags(conn, config(FLOW, PH), "")
        conn.commit()
        # ph leaves the configuration (retired, keeping its name) and flow takes its name.
        clash = FLOW.replace("name: flow", "name: ph")
        with pytest.raises(ClearwellError, match="cannot rename tag 'flow' to 'ph'"):
            sync_tags(conn, config(clash), "")
        conn.rollback()
        names = conn.execute("SELECT name FROM tags ORDER BY name").fetchall()
        assert names == [("flow",), ("ph",)]  # nothing of the failed sync was kept


SAMPLING = """\
site: {code: sampling-site, name: Sampling Site}
modbus:
  devices:
    - {name: fast, host: 127.0.0.1, poll_interval_s: 2}
    - {name: slow, host: 127.0.0.1, poll_interval_s: 120}
opcua:
  servers:
    - {name: scada, endpoint: "opc.tcp://127.0.0.1:4840/"}
ingest: {default_max_interval_s: 90}
tags:
  - {name: every-poll, modbus: {device: fast, register: holding, address: 0}}
  - {name: deadband, deadband: 0.5, modbus: {device: fast, register: holding, address: 1}}
  - {name: deadband-max, deadband: 0.5, max_interval_s: 30,
     modbus: {device: fast, register: holding, address: 2}}
  - {name: slow-poll, deadband: 0.5, max_interval_s: 30,
     modbus: {device: slow, register: holding, address: 0}}
  - {name: subscribed, source: opcua, opcua: {server: scada, node_id: "ns=2;s=A"}}
  - {name: polled, source: opcua,
     opcua: {server: scada, node_id: "ns=2;s=B", mode: poll, sampling_interval_s: 5}}
  - {name: polled-deadband, source: opcua,
     opcua: {server: scada, node_id: "ns=2;s=C", mode: poll, sampling_interval_s: 5,
             deadband: 0.2}}
  - {name: polled-percent, source: opcua, eng_range: [0, 10], max_interval_s: 30,
     opcua: {server: scada, node_id: "ns=2;s=D", mode: poll, sampling_interval_s: 5,
             deadband_percent: 2}}
  - {name: ranged, eng_range: [0, 20], modbus: {device: fast, register: holding, address: 3}}
  - {name: pump-run, modbus: {device: fast, register: coil, address: 0, type: bool}}
  - {name: subscribed-ranged, source: opcua, eng_range: [0, 20],
     opcua: {server: scada, node_id: "ns=2;s=E"}}
"""


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("every-poll", 2.0),  # stored at every poll
        ("deadband", 90.0),  # by exception: at least every default_max_interval_s
        ("deadband-max", 30.0),
        ("slow-poll", 120.0),  # never more often than the device is polled
        ("subscribed", None),  # reported on change only: silence says nothing
        ("polled", 5.0),
        # A polled tag's deadband under opcua: is applied by Clearwell: by exception too.
        ("polled-deadband", 90.0),
        ("polled-percent", 30.0),
        # Stored by the defaults of their kind (0.5 % of the range; on change): by exception.
        ("ranged", 90.0),
        ("pump-run", 90.0),
        ("subscribed-ranged", None),
    ],
)
def test_expected_interval_follows_how_the_tag_is_collected(tag: str, expected: float) -> None:
    site = parse_config(SAMPLING)
    assert expected_interval_s(site, next(t for t in site.tags if t.name == tag)) == expected


@pytest.mark.parametrize(("tag", "expected"), [("ranged", 2.0), ("pump-run", 2.0)])
def test_without_default_deadbands_every_poll_is_expected(tag: str, expected: float) -> None:
    site = parse_config(
        SAMPLING.replace("{default_max_interval_s: 90}", "{default_deadband_percent: null}")
    )
    assert expected_interval_s(site, next(t for t in site.tags if t.name == tag)) == expected


def test_expected_interval_is_synced_and_its_changes_recorded(db_url: str) -> None:
    with psycopg.connect(db_url) as conn:
        result = sync_tags(conn, parse_config(SAMPLING), "site.yaml")
        rows = dict(
            conn.execute(
                "SELECT name, expected_interval_s FROM tags WHERE site_id = %s",
                (result.site_id,),
            ).fetchall()
        )
        assert rows["every-poll"] == 2.0 and rows["subscribed"] is None
        sync_tags(conn, parse_config(SAMPLING.replace("poll_interval_s: 2", "poll_interval_s: 4")))
        tag_id = result.tag_ids["every-poll"]
        assert ("expected_interval_s", "2", "4") in history(conn, tag_id)
