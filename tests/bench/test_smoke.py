"""Every benchmark run end to end at its smoke size, so that none breaks unnoticed.

Each ``bench/bench_NAME.py`` declares ``SMOKE_ARGS``, a run small enough to take seconds;
here it runs as ``python -m bench NAME <SMOKE_ARGS>`` in its own process, against the
session's database server (its scratch databases, and ``rollups_backfill``'s template,
are made there), and must exit 0, print its report with the baseline and the measured
figures, and leave no process or database behind. The figures themselves are not
judged: a smoke run is too small, and the machine too shared, for them to mean anything.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from bench.__main__ import available
from tests.support.browser import need_browser
from tests.support.database import DatabaseServer

ROOT = Path(__file__).resolve().parents[2]
# A smoke run takes 5-30 s on the development machine; far more means it hangs.
TIMEOUT_S = 240
# How long a benchmark's servers may take to go after it exits.
LINGER_S = 10

NUMBER = r"[\d,.]+"
# Lines each benchmark's report must hold (regular expressions, searched line by line):
# the baseline and the measured figures at least.
REPORTS: dict[str, tuple[str, ...]] = {
    "chief": (
        rf"^GET /chief\?month=2025-06: +{NUMBER} ms \(min {NUMBER}\)  \(30 day rows, \d+ KB\)$",
        rf"^baseline GET /api/compliance/coverage: {NUMBER} ms",
        rf"^ratio page / coverage report: {NUMBER}$",
    ),
    "compliance": (
        rf"^engine \(year\) +{NUMBER} ms +median of 1$",
        rf"^engine \(1/10\) +{NUMBER} ms +ratio year/tenth {NUMBER}x",
        rf"^naive scan +{NUMBER} ms +for 200 entries; .* disagreements: 0$",
        r"^target +engine < 1000 ms: (met|NOT met)$",
    ),
    "compliance_db": (
        r"^populated 1095 shifts, 30 operators, 2000 entries in ",
        rf"^load DB -> model: +{NUMBER} ms",
        rf"^GET /coverage \(ASGI\): +{NUMBER} ms",
        rf"^baseline: raw entries query, fetch only: {NUMBER} ms",
        rf"^baseline: engine on the scenario from JSON: {NUMBER} ms",
        rf"^stamp_entries, one entry \(hook cost per write\): {NUMBER} ms",
    ),
    "edge_replay": (
        r"^spool +3,600 rows \(20 tags x 180 s\), [\d.]+ MB, filled in ",
        rf"^replay +{NUMBER} rows/s: the outage replayed in {NUMBER} s .* duplicates 0$",
        rf"^catch-up +{NUMBER}x the plant's rate",
        rf"^baseline +plain binary COPY of 3,600 rows: {NUMBER} rows/s",
    ),
    "failover": (
        r"^primary killed: node on port \d+; promoted: node on port \d+$",
        rf"^seconds without a primary: {NUMBER} s$",
        rf"^pages answering again: {NUMBER} s after the kill \(\d+ page requests failed\)$",
        r"^plant-a: readings taken [\d,]+, stored [\d,]+, lost \d+, duplicated \d+;",
        r"^logbook notes: sent \d+, tries refused \d+, stored \d+, lost \d+, doubled \d+$",
    ),
    "floor": (
        r"^rows: readings [\d,]+, readings_1m [\d,]+, shifts \d+, entries [\d,]+, events \d+$",
        *(
            rf"^\| {re.escape(route)} \| {NUMBER} ms \| {NUMBER} ms \| {NUMBER} ms \| {NUMBER}x \|$"
            for route in ("healthz", "latest", "floor", "tiles", "alarms", "shift")
        ),
    ),
    "ingest_collector": (
        rf"^pollers alone \(baseline\) +cycle p50 +{NUMBER} ms  p99 +{NUMBER} ms",
        rf"^whole service into the database *cycle p50 +{NUMBER} ms  p99 +{NUMBER} ms",
        r"^database .*; spool at the end: \d+ rows$",
        r"^target p99 < 200 ms and CPU < 25 % of a core: (met|NOT met)$",
    ),
    "ingest_writer": (
        r"^data +5,000 rows \(50 tags x 100 s\), batches of 1,000; median of 1$",
        rf"^\(a\) raw binary COPY +{NUMBER} rows/s",
        rf"^\(b\) writer, whole path +{NUMBER} rows/s .* {NUMBER}% of \(a\)$",
        rf"^\(c\) writer, staging path +{NUMBER} rows/s",
        rf"^\(d\) spool replay +{NUMBER} rows/s",
        r"^target \(b\) >= 70 % of \(a\) and >= 150,000 rows/s: (met|NOT met)$",
    ),
    "logbook": (
        rf"^baseline raw INSERT\+commit x500 \(1 connection\): p50 {NUMBER} ms",
        rf"^\[saturated\] baseline /healthz x10 at 2 clients: p50 {NUMBER} ms",
        rf"^\[saturated\] entry writes x10 at 2 clients: \d+/s, p50 {NUMBER} ms",
        rf"^\[paced 80/s\] entry writes x10 at 2 clients: \d+/s, p50 {NUMBER} ms",
        rf"^month listing: 50 entries .* raw SQL of the same rows p50 {NUMBER} ms$",
        r"^staffing stamps: 20 of the 20 entries written through the API$",
        r"^audit chain after the run: \d+ rows, broken: None$",
    ),
    "mor": (
        rf"^MOR \(PDF \+ CSV\) \+ DMR, 55 tags from rollups \([\d,]+ bytes\) +{NUMBER} s",
        rf"^baseline: one tag's report from raw 60 s readings +{NUMBER} s",
        rf"^baseline extrapolated to 55 tags +{NUMBER} s \({NUMBER}x the report\)$",
        rf"^rollup refresh, one tag-day of 60 s readings \(1,440 rows\) +{NUMBER} s$",
    ),
    "opcua_ingest": (
        rf"^\(a\) asyncua client alone: \d+ notifications/s \(server sends 50/s\);"
        rf" source->arrival p50 {NUMBER} ms",
        rf"^\(b\) collector \+ writer \(.*\): \d+ rows/s stored; source->insert p50 {NUMBER} ms"
        rf" p99 {NUMBER} ms; ratio to \(a\) {NUMBER}$",
        r"^    stored \d+ of \d+ values of \d+ server rounds \(missing \d+\); sessions lost \d+$",
    ),
    "fuzz": (
        r"^anonymous: [\d,]+ requests \(.*\), \d+ server errors, \d+ failed checks$",
        r"^total: [\d,]+ requests, \d+ server errors, \d+ failed checks$",
    ),
    "rollups_backfill": (
        rf"^\| refresh \(minute delete by whole key\) \| {NUMBER} s \| 1 \| {NUMBER} s \|",
        rf"^\| baseline: earlier minute delete \| {NUMBER} s \| 1 \| {NUMBER} s \|",
    ),
    "search": (
        r"^populated 2,000 entries, 101 amendments in ",
        rf"^GET /api/entries listing \(baseline\): {NUMBER} ms \(max {NUMBER}\)  \(100 items\)$",
        rf"^GET /api/entries q=scum baffle: {NUMBER} ms \(max {NUMBER}\)  \(10 items\)$",
        rf"^GET /api/entries q=transcribing: {NUMBER} ms \(max {NUMBER}\)  \(25 items\)$",
        rf"^ILIKE scan \(baseline, SQL\) 'scum baffle': {NUMBER} ms \(max {NUMBER}\)$",
        rf"^search SQL alone, page of ids, q=pump: {NUMBER} ms \(max {NUMBER}\)$",
        r"^load average at the end \(1, 5, 15 min\): ",
        r"^target every text query's median < 100 ms: (met|NOT met)$",
    ),
    "simulators": (
        rf"^Modbus, simulator \(10 x 200 tags, live\): {NUMBER} requests/s",
        rf"^Modbus, baseline pymodbus SimDevice server: {NUMBER} requests/s",
        rf"^OPC UA, simulator \(200 variables, live\): {NUMBER} reads/s \(20 nodes each\)",
        rf"^OPC UA, baseline bare asyncua server: {NUMBER} reads/s",
        rf"^Modbus simulator/baseline: {NUMBER}$",
        rf"^OPC UA simulator/baseline: {NUMBER}$",
    ),
    "storage": (
        rf"^\(a\) before, raw +{NUMBER} rows \( *{NUMBER}% of polls\): .* B/stored reading",
        rf"^\(b\) after, raw +{NUMBER} rows \( *{NUMBER}% of polls\): .* {NUMBER} GB/plant-year$",
        rf"^\(b\) readings_1m +{NUMBER} rows: +{NUMBER} B/row, +{NUMBER} GB/plant-year$",
        rf"^\(b\) readings_1h +{NUMBER} rows: +{NUMBER} B/row, +{NUMBER} GB/plant-year$",
        rf"^raw after / before: {NUMBER} of the bytes for the same polls$",
    ),
    "trends": (
        r"^\| rows: readings / readings_1m / readings_1h \| 86,400 / 1,440 / 24 \|$",
        rf"^\| baseline: time_bucket 1 h from readings \(24 rows out\) \| {NUMBER} ms",
        rf"^\| GET /api/trends points=1000 \| {NUMBER} ms .* buckets of \d+ s from 1m;",
        rf"^\| refresh round, 300 tags with their last 5 s new \| {NUMBER} ms",
        rf"^\| trend page 30d, 1920x1080: request to drawn \| {NUMBER} ms",
        r"^\| 7 more tags \(60 s\): readings / readings_1m / readings_1h \| 10,080 / 10,080 / 168;",
        rf"^\| GET /api/trends 8 tags points=1280 \| {NUMBER} ms .* 8 series of \d+ buckets",
        rf"^\| trend page 30d, 8 pens, 1920x1080: request to drawn \| {NUMBER} ms",
    ),
}
# Marks as the suite's other tests of the same kind carry them.
MARKS = {
    "trends": [pytest.mark.browser],
    # Its cluster takes most of a minute to set up: tests/failover runs its scenario and
    # checks its figures and report instead.
    "failover": [pytest.mark.skip(reason="run by tests/failover/test_failover.py")],
}


def smoke_args(name: str) -> tuple[str, ...]:
    return tuple(importlib.import_module(f"bench.bench_{name}").SMOKE_ARGS)


def test_every_benchmark_has_a_smoke_size_and_an_expected_report():
    for name in available():
        module = importlib.import_module(f"bench.bench_{name}")
        args = getattr(module, "SMOKE_ARGS", None)
        assert isinstance(args, tuple), f"bench_{name}.py declares no SMOKE_ARGS tuple"
        assert all(isinstance(a, str) for a in args), name
    assert sorted(REPORTS) == available()


def databases(server: DatabaseServer) -> set[str]:
    with psycopg.connect(server.admin_url) as conn:
        return {r[0] for r in conn.execute("SELECT datname FROM pg_database").fetchall()}


def running_in(group: int) -> list[int]:
    """The processes of a process group still running (zombies left to an init that does
    not reap them are not)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # ended while listed
        if fields[0] not in "ZX" and int(fields[2]) == group:
            pids.append(int(stat.parent.name))
    return pids


@pytest.mark.parametrize(
    "name", [pytest.param(name, marks=MARKS.get(name, [])) for name in available()]
)
def test_benchmark_runs_end_to_end(name: str, db_server: DatabaseServer, tmp_path: Path) -> None:
    if name == "trends":
        need_browser()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLEARWELL_")}
    env.update(
        CLEARWELL_DATABASE_URL=db_server.admin_url,
        CLEARWELL_TEST_DATABASE_URL=db_server.admin_url,
        CLEARWELL_DATA_DIR=str(tmp_path),
        PYTHONUNBUFFERED="1",
    )
    before = databases(db_server)
    # Its own process group, so that servers it starts go with it if it hangs.
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench", name, *smoke_args(name)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"bench {name} still running after {TIMEOUT_S} s:\n{out}\n{err[-4000:]}")
    deadline = time.monotonic() + LINGER_S
    while (left := running_in(proc.pid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    assert proc.returncode == 0, f"bench {name} exited {proc.returncode}:\n{out}\n{err[-4000:]}"
    assert not left, f"bench {name} left processes running after it exited: {left}"
    lines = out.splitlines()
    missing = [p for p in REPORTS[name] if not any(re.search(p, line) for line in lines)]
    assert not missing, f"bench {name}'s report lacks lines matching {missing}:\n{out}"
    assert databases(db_server) <= before, f"bench {name} left databases behind"
