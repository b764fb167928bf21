"""Issue 15's migrations on a database holding records: migrated to the previous head, filled,
then migrated forward, it keeps every certificate, profile, stamp, entry, sample and result
as it was, and the new columns read as the records meant them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg import sql

from clearwell.migrate import applied, discover, grant_runtime, migrate
from compliance.adapter import load, profile_versions, resolve_site
from tests.support.database import DatabaseServer

# The migrations issue 15 adds: the logbook's sample verifications, compliance's levels and
# policy, and the new profile and certificate fields.
NEW = {"0208", "0305", "0306"}
TABLES = (
    "people",
    "operator_certificates",
    "operator_training",
    "facility_profiles",
    "shifts",
    "shift_crew",
    "entries",
    "entry_staffing",
    "entry_countersignatures",
    "samples",
    "sample_samplers",
    "sample_results",
)
# UT Table 2 with two laboratory items: 8 points summed, 5 read as a ladder.
PLANT = {
    "population_equivalent": 42000,
    "design_flow_mgd": 4.2,
    "processes": ["screening", "grit_removal", "clarifiers", "activated_sludge"],
    "disinfection": ["uv"],
    "laboratory": {"chemical": ["push_button", "additional"]},
}
T0 = datetime(2025, 3, 3, 13, 0, tzinfo=UTC)


def _one(conn: psycopg.Connection[Any], query: str, params: tuple[Any, ...] = ()) -> Any:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return row[0]


def fill(conn: psycopg.Connection[Any]) -> dict[str, int]:
    """Records as the previous head holds them: a site, people, a certificate of a term the
    rule no longer accepts (kept as it is), training, an itemized profile, a shift with an
    entry, its stamp and countersignature, a sample with a result."""
    site = _one(
        conn,
        "INSERT INTO sites (code, name, timezone, state, category)"
        " VALUES ('old-wrf', 'Old WRF', 'America/Denver', 'UT', 'treatment') RETURNING id",
    )
    chief, trainee = (
        _one(conn, "INSERT INTO people (username, full_name) VALUES (%s, %s) RETURNING id", p)
        for p in (("chief", "Casey Chief"), ("trainee", "Tess Trainee"))
    )
    conn.execute(
        "INSERT INTO operator_certificates (person_id, state, category, grade, number, kind,"
        " issued, expires) VALUES (%s, 'UT', 'treatment', 'III', 'UT-1', 'full', '2020-01-01',"
        " '2028-12-31')",
        (chief,),
    )
    conn.execute(
        "INSERT INTO operator_training (person_id, taken_on, hours) VALUES (%s, '2024-03-01', 6)",
        (chief,),
    )
    conn.execute(
        "INSERT INTO facility_profiles (site_id, effective_from, rules, category, points)"
        " VALUES (%s, '2020-01-01', 'UT', 'treatment', %s)",
        (site, json.dumps(PLANT)),
    )
    shift = _one(
        conn,
        "INSERT INTO shifts (site_id, label, opened_at, opened_by) VALUES (%s, 'day', %s, %s)"
        " RETURNING id",
        (site, T0, chief),
    )
    for person, role in ((chief, "drc"), (trainee, "trainee")):
        conn.execute(
            "INSERT INTO shift_crew (shift_id, person_id, shift_role, arrived_at, added_by)"
            " VALUES (%s, %s, %s, %s, %s)",
            (shift, person, role, T0, chief),
        )
    entry = _one(
        conn,
        "INSERT INTO entries (site_id, shift_id, kind, data, operational, occurred_at,"
        " recorded_by, by_trainee) VALUES (%s, %s, 'reading', %s, false, %s, %s, true)"
        " RETURNING id",
        (site, shift, json.dumps({"instrument": "pH", "value": 7.1, "unit": "pH"}), T0, trainee),
    )
    conn.execute(
        "INSERT INTO entry_staffing (entry_id, stamp) VALUES (%s, '{\"version\": 1}')", (entry,)
    )
    conn.execute(
        "INSERT INTO entry_countersignatures (entry_id, person_id, content_sha256, signed_at)"
        " VALUES (%s, %s, %s, %s)",
        (entry, chief, "a" * 64, T0 + timedelta(hours=1)),
    )
    sample = _one(
        conn,
        "INSERT INTO samples (site_id, shift_id, sample_point, sample_type, sampled_at,"
        " recorded_by) VALUES (%s, %s, 'final effluent', 'grab', %s, %s) RETURNING id",
        (site, shift, T0 + timedelta(minutes=10), trainee),
    )
    conn.execute(
        "INSERT INTO sample_samplers (sample_id, person_id) VALUES (%s, %s)", (sample, trainee)
    )
    conn.execute(
        "INSERT INTO sample_results (sample_id, analyte, method, analyzed_at, analyst_id,"
        " value, unit, recorded_by) VALUES (%s, 'TSS', 'SM 2540 D', %s, %s, 4, 'mg/L', %s)",
        (sample, T0 + timedelta(minutes=40), chief, chief),
    )
    return {"site": site, "chief": chief, "trainee": trainee, "entry": entry, "sample": sample}


def snapshot(conn: psycopg.Connection[Any], table: str) -> list[str]:
    """Every row as JSON, in a stable order."""
    query = sql.SQL("SELECT to_jsonb(t)::text FROM {} t").format(sql.Identifier(table))
    return sorted(r[0] for r in conn.execute(query).fetchall())


def without(rows: list[str], columns: set[str]) -> list[str]:
    return sorted(
        json.dumps({k: v for k, v in json.loads(r).items() if k not in columns}, sort_keys=True)
        for r in rows
    )


async def test_records_survive_issue_15_migrations(db_server: DatabaseServer) -> None:
    url = db_server.make_database(migrated=False)
    try:
        previous = [m for m in discover() if m.version not in NEW]
        assert {m.version for m in discover()} - {m.version for m in previous} == NEW
        # Migrated as the owner, then read as the runtime role, as an install does.
        with psycopg.connect(db_server.owner_url(url), autocommit=True) as conn:
            migrate(conn, previous)
            with conn.transaction():
                ids = fill(conn)
            before = {t: snapshot(conn, t) for t in TABLES}
            done = migrate(conn)
            grant_runtime(conn, db_server.runtime)
            assert sorted(name[:4] for name in done) == sorted(NEW)
            assert set(applied(conn)) >= NEW
            after = {t: snapshot(conn, t) for t in TABLES}
            new_columns = {
                "type",
                "employed_operators",
                "rating_changes",
                "wastewater_type",
                "laboratory_reading",
            }
            for table in TABLES:
                assert len(after[table]) == len(before[table]) > 0, table
                assert without(after[table], new_columns) == without(before[table], set()), table
            cert = json.loads(after["operator_certificates"][0])
            assert cert["type"] == "domestic" and cert["expires"] == "2028-12-31"
            profile = json.loads(after["facility_profiles"][0])
            # The profile was classified by summing the laboratory items: it keeps that.
            assert profile["laboratory_reading"] == "sum"
            assert (profile["employed_operators"], profile["rating_changes"]) == (None, [])
            assert profile["wastewater_type"] == "domestic"
            # A profile recorded from now on reads the ladder unless told otherwise.
            conn.execute(
                "INSERT INTO facility_profiles (site_id, effective_from, rules, category, points)"
                " VALUES (%s, '2025-01-01', 'UT', 'treatment', %s)",
                (ids["site"], json.dumps(PLANT)),
            )
            # The tables stay append-only after the new columns.
            for statement in (
                "UPDATE facility_profiles SET laboratory_reading = 'ladder'",
                "UPDATE operator_certificates SET type = 'industrial'",
            ):
                with pytest.raises(psycopg.Error, match="append-only"):
                    conn.execute(statement)

        async with await psycopg.AsyncConnection.connect(url) as aconn:
            site = await resolve_site(aconn, "old-wrf")
            old, new = await profile_versions(aconn, site.id)
            assert (old.laboratory_reading, new.laboratory_reading) == ("sum", "ladder")
            assert old.classify().points - new.classify().points == 3  # 8 summed, 5 laddered
            loaded = await load(aconn, site, T0, T0 + timedelta(hours=2), T0 + timedelta(hours=2))
            entry = next(e for e in loaded.scenario.entries if e.id == str(ids["entry"]))
            assert (entry.kind, entry.countersigned_by) == ("reading", str(ids["chief"]))
            assert entry.countersigned_at == T0 + timedelta(hours=1)
            assert [e.kind for e in loaded.scenario.entries] == ["reading", "sample", "lab_result"]
            assert loaded.scenario.competency is not None
    finally:
        db_server.drop_database(url)
