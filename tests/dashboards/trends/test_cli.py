import os
import subprocess
import sys
from datetime import timedelta

import psycopg
import pytest

from tests.dashboards.helpers import T0, copy_rows, make_site, make_tag, wave, write_batch


def run_cli(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLEARWELL_")}
    env["CLEARWELL_DATABASE_URL"] = url
    return subprocess.run(
        [sys.executable, "-m", "clearwell.cli", "rollups", "refresh", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_status_counts_what_waits_for_the_refresh(db_url):
    def status() -> str:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CLEARWELL_")}
        env["CLEARWELL_DATABASE_URL"] = db_url
        result = subprocess.run(
            [sys.executable, "-m", "clearwell.cli", "rollups", "status"],
            capture_output=True, text=True, env=env, timeout=60,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    assert status() == "rollups up to date (no dirty hours)"
    with psycopg.connect(db_url) as conn:
        tag = make_tag(conn, make_site(conn), "T1")
        conn.commit()
        write_batch(conn, wave(tag, T0, 60))
        write_batch(conn, wave(tag, T0 + timedelta(hours=1, seconds=-30), 60))
    assert status().startswith("3 marks for 2 tag-hours waiting; oldest marked ")


def test_refresh_recomputes_marked_hours_and_backfills_a_range(db_url):
    with psycopg.connect(db_url) as conn:
        tag = make_tag(conn, make_site(conn), "T1")
        conn.commit()
        write_batch(conn, wave(tag, T0, 1800))  # marked by the "writer"
        copy_rows(conn, wave(tag, T0 + timedelta(days=1), 7200))  # loaded around it
        conn.commit()
    first = run_cli(url=db_url)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "recomputed 1 tag-hours"
    backfill = run_cli("--since", "2026-03-02", "--until", "2026-03-03T00:00Z", url=db_url)
    assert backfill.returncode == 0, backfill.stderr
    assert backfill.stdout.splitlines() == [
        "marked 2 tag-hours from 2026-03-02 00:00Z",
        "recomputed 2 tag-hours",
    ]
    with psycopg.connect(db_url) as conn:
        rows = conn.execute("SELECT bucket, n_good FROM readings_1h ORDER BY 1").fetchall()
    assert rows == [
        (T0, 1800),
        (T0 + timedelta(days=1), 3600),
        (T0 + timedelta(days=1, hours=1), 3600),
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--until", "2026-03-02"], "--until needs --since"),
        (["--since", "2026-03-02T10:00"], "has no time zone"),
        (["--since", "March"], "is not a date or an ISO 8601 time"),
        (["--since", "2026-03-02", "--until", "2026-03-01"], "must be after --since"),
    ],
)
def test_refresh_refuses_bad_ranges_in_one_line(db_url, args, message):
    result = run_cli(*args, url=db_url)
    assert result.returncode == 1
    assert result.stderr.startswith("clearwell: error: ") and message in result.stderr
