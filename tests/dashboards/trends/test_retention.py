"""Retention: what may be dropped (pure), the drop and its dry run, and the trends and the
monthly report answering from the rollups once raw readings are gone."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from clearwell.app import create_app
from clearwell.settings import load_settings
from dashboards.exports.load import hourly_frame, raw_dropped_before
from dashboards.trends.resolution import Plan, Source, within_retention
from dashboards.trends.retention import DEFAULT, Policy, SitePolicy, cutoffs
from dashboards.trends.rollups import refresh_all
from tests.dashboards.helpers import copy_rows, make_site, make_tag, wave, write_batch
from tests.dashboards.trends.test_api import client

NOW = datetime(2026, 12, 7, 11, 30, tzinfo=UTC)
UTC_SITE = SitePolicy("a", "UTC", DEFAULT)


def by_table(found: list) -> dict[str, tuple[datetime, str]]:
    return {c.table: (c.before, c.why) for c in found}


def test_defaults_keep_raw_90_days_minutes_180_and_hours_ten_years() -> None:
    got = by_table(cutoffs(NOW, [UTC_SITE], None))
    assert got == {
        "readings": (NOW - timedelta(days=90), "90 days kept at a"),
        "readings_1m": (NOW - timedelta(days=180), "180 days kept at a"),
        "readings_1h": (NOW - timedelta(days=3653), "3653 days kept at a"),
    }
    assert DEFAULT.problems() == []


def test_raw_readings_a_rollup_still_needs_are_kept() -> None:
    mark = NOW - timedelta(days=200)
    got = by_table(cutoffs(NOW, [UTC_SITE], mark))
    assert got["readings"] == (mark, "rollups to recompute from 2026-05-21 11:30 UTC")
    # The rollups themselves are not held back by a mark.
    assert got["readings_1m"][0] == NOW - timedelta(days=180)


def test_the_month_not_yet_reported_is_kept_in_the_sites_zone() -> None:
    short = SitePolicy("a", "America/Denver", Policy(raw_days=7, minute_days=7, hour_days=1096))
    got = by_table(cutoffs(NOW, [short], None))
    # November 1 at midnight in Denver (MDT ended on November 1, 2026 at 02:00).
    november = datetime(2026, 11, 1, 6, tzinfo=UTC)
    assert got["readings"] == (november, "November 2026 at a not yet reported")
    assert got["readings_1m"][0] == november
    # Early in January the month before is December of the year before.
    january = datetime(2027, 1, 3, tzinfo=UTC)
    assert by_table(cutoffs(january, [short], None))["readings"][0] == datetime(
        2026, 12, 1, 7, tzinfo=UTC
    )


def test_a_hypertable_is_kept_as_long_as_its_longest_keeping_site_asks() -> None:
    long = SitePolicy("b", "UTC", Policy(raw_days=365, minute_days=400, hour_days=3653))
    got = by_table(cutoffs(NOW, [UTC_SITE, long], None))
    assert got["readings"] == (NOW - timedelta(days=365), "365 days kept at b")
    assert got["readings_1h"] == (NOW - timedelta(days=3653), "3653 days kept at a")
    assert cutoffs(NOW, [], None) == []


@pytest.mark.parametrize(
    ("policy", "problem"),
    [
        (Policy(raw_days=3), "raw readings must be kept at least 7 days"),
        (Policy(raw_days=90, minute_days=30), "minute rollups must be kept at least as long"),
        (Policy(hour_days=1000), "hourly rollups must be kept at least 1096 days"),
        (Policy(minute_days=1500, hour_days=1200), "hourly rollups must be kept at least as long"),
    ],
)
def test_policies_below_the_record_keeping_minimum_are_refused(
    policy: Policy, problem: str
) -> None:
    assert any(p.startswith(problem) for p in policy.problems()), policy.problems()


GONE = {"readings": datetime(2026, 9, 1, tzinfo=UTC)}


@pytest.mark.parametrize(
    ("plan", "start", "dropped", "expected", "note"),
    [
        # Raw readings there: unchanged.
        (Plan(Source.RAW, 5), datetime(2026, 9, 1, tzinfo=UTC), GONE, Plan(Source.RAW, 5), None),
        (Plan(Source.MINUTE, 120), datetime(2026, 1, 1, tzinfo=UTC), GONE,
         Plan(Source.MINUTE, 120), None),
        # Raw readings gone: minute rollups, a minute at least.
        (Plan(Source.RAW, 5), datetime(2026, 8, 31, tzinfo=UTC), GONE, Plan(Source.MINUTE, 60),
         "Raw readings before 2026-09-01 00:00 UTC are no longer kept (retention):"
         " read from the minute rollups"),
        # Minute rollups gone too: hourly ones.
        (Plan(Source.RAW, 30), datetime(2026, 1, 1, tzinfo=UTC),
         {**GONE, "readings_1m": datetime(2026, 6, 1, tzinfo=UTC)}, Plan(Source.HOUR, 3600),
         "Raw readings before 2026-09-01 00:00 UTC are no longer kept; minute rollups before"
         " 2026-06-01 00:00 UTC are no longer kept (retention): read from the hourly rollups"),
        (Plan(Source.HOUR, 7200), datetime(2000, 1, 1, tzinfo=UTC),
         {"readings_1h": datetime(2020, 1, 1, tzinfo=UTC)}, Plan(Source.HOUR, 7200), None),
    ],
)  # fmt: skip
def test_a_trend_reads_the_next_rollup_where_retention_dropped_its_source(
    plan: Plan, start: datetime, dropped: dict[str, datetime], expected: Plan, note: str | None
) -> None:
    assert within_retention(plan, start, dropped) == (expected, note)


def run_cli(url: str, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLEARWELL_")}
    env["CLEARWELL_DATABASE_URL"] = url
    result = subprocess.run(
        [sys.executable, "-m", "clearwell.cli", "retention", *args],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


def day_start(t: datetime) -> datetime:
    return t.replace(hour=0, minute=0, second=0, microsecond=0)


def counts(conn: psycopg.Connection, tag: int, t: datetime) -> tuple[int, int, int]:
    """Raw readings, minute and hourly rollups of the tag in the hour of ``t``."""
    hour = t.replace(minute=0, second=0, microsecond=0)
    out = []
    for table, col in (("readings", "time"), ("readings_1m", "bucket"), ("readings_1h", "bucket")):
        row = conn.execute(
            f"SELECT count(*) FROM {table} WHERE tag_id = %s AND {col} >= %s"  # noqa: S608
            f" AND {col} < %s + interval '1 hour'",
            (tag, hour, hour),
        ).fetchone()
        assert row is not None
        out.append(int(row[0]))
    return out[0], out[1], out[2]


async def test_retention_drops_what_is_past_keeping_and_the_record_answers_from_rollups(
    db_url: str,
) -> None:
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    old, held, recent = (now - timedelta(days=d, hours=3) for d in (120, 100, 10))
    with psycopg.connect(db_url) as conn:
        site = make_site(conn)
        tag = make_tag(conn, site, "DO")
        conn.commit()
        for t in (old, held, recent):
            write_batch(conn, wave(tag, t, 3600, step_s=10))
    async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as aconn:
        await refresh_all(aconn)
    with psycopg.connect(db_url, autocommit=True) as conn:
        # An hour whose rollups are to be recomputed (late data), 100 days back.
        conn.execute("INSERT INTO rollup_dirty (tag_id, bucket_hour) VALUES (%s, %s)", (tag, held))
        before = {t: counts(conn, tag, t) for t in (old, held, recent)}
        assert before == {t: (360, 60, 1) for t in (old, held, recent)}

        dry = run_cli(db_url, "--dry-run").splitlines()
        assert len(dry) == 1, dry
        assert dry[0].startswith(
            f"would drop readings: 1 chunks {day_start(old):%Y-%m-%d %H:%M} to"
            f" {day_start(old) + timedelta(days=1):%Y-%m-%d %H:%M} UTC ("
        )
        assert dry[0].endswith(
            f"kept from there: rollups to recompute from {held:%Y-%m-%d %H:%M} UTC"
        )
        assert {t: counts(conn, tag, t) for t in (old, held, recent)} == before

        done = run_cli(db_url).splitlines()
        assert [line.replace("would drop", "dropped") for line in dry] == done
        assert counts(conn, tag, old) == (0, 60, 1)
        assert counts(conn, tag, held) == before[held]
        assert counts(conn, tag, recent) == before[recent]
        assert run_cli(db_url, "--dry-run").splitlines() == ["nothing to drop"]

        # A mark in the dropped hour (a backfill's range, late readings) leaves its
        # rollups as they are: they are its record now.
        conn.execute("INSERT INTO rollup_dirty (tag_id, bucket_hour) VALUES (%s, %s)", (tag, old))
        async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as aconn:
            await refresh_all(aconn)
        assert counts(conn, tag, old) == (0, 60, 1)
        assert conn.execute("SELECT count(*) FROM rollup_dirty").fetchone() == (0,)
        conn.execute("INSERT INTO rollup_dirty (tag_id, bucket_hour) VALUES (%s, %s)", (tag, held))

        # Asked for everything, the drop still keeps what the mark needs.
        dropped = conn.execute("SELECT clearwell_drop_chunks('readings', now())").fetchall()
        assert dropped == []
        assert counts(conn, tag, held)[0] == 360
        with pytest.raises(psycopg.errors.RaiseException, match="not a retained hypertable"):
            conn.execute("SELECT clearwell_drop_chunks('tags', now())")

    async with client(db_url) as c:
        window = {
            "tag": str(tag),
            "start": old.isoformat(),
            "end": (old + timedelta(hours=1)).isoformat(),
        }
        body = (await c.get("/api/trends", params=window)).json()
        assert body["source"] == "1m" and body["bucket_s"] == 60
        assert body["note"] == (
            f"Raw readings before {day_start(old) + timedelta(days=1):%Y-%m-%d %H:%M} UTC are"
            " no longer kept (retention): read from the minute rollups"
        )
        assert len([v for v in body["avg"] if v is not None]) == 60
        window = {
            **window,
            "start": recent.isoformat(),
            "end": (recent + timedelta(hours=1)).isoformat(),
        }
        body = (await c.get("/api/trends", params=window)).json()
        assert body["source"] == "raw" and "note" not in body

    # The monthly report reads the hourly rollups: the dropped hour is still there.
    async with await psycopg.AsyncConnection.connect(db_url) as aconn:
        frame = await hourly_frame(aconn, site, ["DO"], old, old + timedelta(hours=1))
        dropped = await raw_dropped_before(aconn)
    assert list(frame["n_good"]) == [360]
    # And says so (dashboards.exports.mor_render.header).
    assert dropped == day_start(old) + timedelta(days=1)

    with psycopg.connect(db_url, autocommit=True) as conn:
        # Once the hour is recomputed, its raw readings may go too.
        async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as aconn:
            await refresh_all(aconn)
        assert run_cli(db_url)[: len("dropped readings: 1 chunks")] == "dropped readings: 1 chunks"
        assert counts(conn, tag, held) == (0, 60, 1)
        assert counts(conn, tag, recent) == before[recent]


def test_a_sites_policy_is_set_and_refused_below_the_minimum(db_url: str) -> None:
    with psycopg.connect(db_url) as conn:
        make_site(conn, "plant1")
        conn.commit()
    assert run_cli(db_url, "set", "plant1", "--raw-days", "30", "--minute-days", "60").strip() == (
        "plant1: raw readings 30 days, minute rollups 60 days, hourly rollups 3653 days"
    )
    with psycopg.connect(db_url) as conn:
        row = conn.execute("SELECT raw_days, minute_days, hour_days FROM site_retention").fetchone()
        assert row == (30, 60, 3653)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLEARWELL_")}
    env["CLEARWELL_DATABASE_URL"] = db_url
    for args, says in (
        (("plant1", "--hour-days", "365"), "hourly rollups must be kept at least 1096 days"),
        (("nowhere",), "no site 'nowhere'"),
    ):
        result = subprocess.run(
            [sys.executable, "-m", "clearwell.cli", "retention", "set", *args],
            capture_output=True, text=True, env=env, timeout=120,
        )  # fmt: skip
        assert result.returncode != 0 and says in result.stderr, result.stderr


async def test_the_web_apps_background_job_drops_what_is_past_keeping(db_url: str) -> None:
    old = datetime.now(UTC) - timedelta(days=100)
    with psycopg.connect(db_url) as conn:
        tag = make_tag(conn, make_site(conn), "DO")
        conn.commit()
        copy_rows(conn, wave(tag, old, 600, step_s=60))
        conn.commit()
    app = create_app(load_settings(database_url=db_url))
    app.state.rollup_refresh_interval_s = None
    app.state.retention_interval_s = 0.2
    async with app.router.lifespan_context(app):
        # Generous: the machine is shared, and a run takes a fraction of a second alone.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with psycopg.connect(db_url) as conn:
                row = conn.execute("SELECT count(*) FROM readings").fetchone()
            if row == (0,):
                break
            await asyncio.sleep(0.1)
    assert row == (0,)
    with psycopg.connect(db_url) as conn:
        assert conn.execute("SELECT hypertable FROM retention_horizon").fetchall() == [
            ("readings",)
        ]
