"""Exports from a real database: a generated month with a 25-hour day, a day without data,
values below detection, amended results, shifts with their DRC; the bundle and
``clearwell verify`` through the command line."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg
import pytest

from dashboards.exports import service
from dashboards.exports.mor import Monthly
from dashboards.exports.plant_day import parse_month
from dashboards.exports.statistics import Missing, Stat
from tests.dashboards.exports import month as m
from tests.support.api import PASSWORDS


async def _report(url: str, data_dir: Path):
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        site = await service.load.site(conn, m.SITE)
        permit = service.permit_for(m.SITE, data_dir)
        who = await service.exporter(conn, "chief")
        marks_before = (await (await conn.execute("SELECT count(*) FROM rollup_dirty")).fetchone())[
            0
        ]
        report = await service.monthly_report(
            conn, site, permit, 2025, 11, who, datetime(2025, 12, 2, tzinfo=UTC)
        )
        marks_after = (await (await conn.execute("SELECT count(*) FROM rollup_dirty")).fetchone())[
            0
        ]
        return report, permit, marks_before, marks_after


@pytest.fixture(scope="module")
def report(data):
    url, data_dir, expected = data
    report, permit, before, after = asyncio.run(_report(url, data_dir))
    return report, permit, expected, before, after


def _col(report, daily: str, source: str) -> str:
    key = f"{daily}:{source}"
    assert key in {c.key for c in report.columns}
    return key


def test_the_report_refreshes_the_rollups_it_reads_first(report):
    _, _, _, before, after = report
    assert before > 0
    assert after == 0


def test_one_row_per_plant_day_with_the_25_hour_day(report):
    r, *_ = report
    assert [d.day for d in r.days] == [date(2025, 11, i) for i in range(1, 31)]
    hours = {d.day: d.hours for d in r.days}
    assert hours[m.DST_DAY] == 25
    assert {h for day, h in hours.items() if day != m.DST_DAY} == {24}


def test_daily_flow_average_matches_the_raw_samples(report):
    r, _, expected, *_ = report
    key = _col(r, "avg", "effluent.flow")
    for row in r.days:
        if row.day in (m.NO_DATA_DAY, m.BAD_FLOW_DAY):
            continue
        assert row.values[key].value == pytest.approx(expected.flow_avg[row.day], rel=1e-9)
    days = [v for d, v in expected.flow_avg.items() if d.month == 11]
    assert r.monthly[key][Monthly.AVG].value == pytest.approx(sum(days) / len(days), rel=1e-9)


def test_missing_days_say_why(report):
    r, *_ = report
    rows = {d.day: d.values for d in r.days}
    assert rows[m.NO_DATA_DAY][_col(r, "avg", "effluent.flow")] == Missing("NO_DATA")
    assert rows[m.NO_DATA_DAY][_col(r, "hours", "blower.running")] == Missing("NO_DATA")
    assert rows[m.BAD_FLOW_DAY][_col(r, "avg", "effluent.flow")] == Missing("BAD_QUALITY")
    assert rows[date(2025, 11, 4)][_col(r, "lab", "tss")] == Missing("NOT_SAMPLED")


def test_daily_totals_and_hours_of_operation_across_the_clock_change(report):
    r, _, expected, *_ = report
    rows = {d.day: d.values for d in r.days}
    total, hours = _col(r, "total", "effluent.total"), _col(r, "hours", "blower.running")
    for day in (date(2025, 11, 1), m.DST_DAY, date(2025, 11, 3), date(2025, 11, 30)):
        assert rows[day][total].value == pytest.approx(expected.total[day], rel=1e-9)
        assert rows[day][hours].value == pytest.approx(expected.blower_hours[day])
    # 00:00-06:00 local holds seven hours on the day the clocks fall back.
    assert rows[m.DST_DAY][hours].value == pytest.approx(7.0)
    month_hours = sum(v for d, v in expected.blower_hours.items() if d.month == 11)
    assert r.monthly[hours][Monthly.TOTAL].value == pytest.approx(month_hours)


def test_lab_values_after_amendments_and_below_detection(report):
    r, *_ = report
    rows = {d.day: d.values for d in r.days}
    tss = _col(r, "lab", "tss")
    for day, value in m.TSS_DAILY.items():
        assert rows[day][tss].value == pytest.approx(value)
    assert rows[date(2025, 11, 10)][tss] == Stat(2.0, "<", 1)
    # October 31's late sample is October's, though it is November in UTC.
    assert rows[date(2025, 11, 1)][tss] == Missing("NOT_SAMPLED")
    assert r.monthly[tss][Monthly.AVG].value == pytest.approx(m.TSS_MONTHLY_AVG)
    assert r.monthly[tss][Monthly.MAX].value == pytest.approx(m.TSS_DAILY_MAX)
    ecoli = _col(r, "lab", "ecoli")
    assert r.monthly[ecoli][Monthly.GEOMEAN].value == pytest.approx(m.ECOLI_GEOMEAN)


def test_operator_in_charge_per_shift_with_their_grade(report):
    r, *_ = report
    rows = {d.day: d.in_charge for d in r.days}
    assert [(c.operator, c.certificate) for c in rows[date(2025, 11, 1)]] == [
        ("Casey Chief (demo)", "UT treatment Grade III #T-100")
    ]
    night, day = rows[m.DST_DAY]
    assert (night.shift, night.operator) == ("night 18:00-06:00", "Casey Chief (demo)")
    assert (day.shift, day.certificate) == ("day 06:00-18:00", "UT treatment Grade II #T-200")
    # The operator's certificate expired on the 15th.
    assert [c.certificate for c in rows[m.BAD_FLOW_DAY]] == ["no certificate in force"]
    assert rows[date(2025, 11, 3)] == []
    assert r.responsible_operator == "Casey Chief (demo)"
    assert r.responsible_certificate == "UT treatment Grade III #T-100"


def run_cli(
    *args: str, url: str, data_dir: Path, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLEARWELL_")}
    env.update(CLEARWELL_DATABASE_URL=url, CLEARWELL_DATA_DIR=str(data_dir))
    return subprocess.run(
        [sys.executable, "-m", "clearwell.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        input=stdin,
    )


@pytest.fixture(scope="module")
def bundle_path(data, report, tmp_path_factory):
    url, data_dir, _ = data
    out = tmp_path_factory.mktemp("out")
    done = run_cli(
        "export", "bundle", "--site", m.SITE, "--month", m.MONTH, "--as", "chief",
        "--password-stdin", "--out", str(out), url=url, data_dir=data_dir,
        stdin=PASSWORDS["chief"] + "\n",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    path = out / f"{m.SITE}-bundle-{m.MONTH}.zip"
    assert f"wrote {path}" in done.stdout
    return path


def _member(path: Path, suffix: str) -> bytes:
    with zipfile.ZipFile(path) as zf:
        name = next(n for n in zf.namelist() if n.endswith(suffix))
        return zf.read(name)


def test_bundle_holds_every_file_and_verifies(data, bundle_path):
    url, data_dir, _ = data
    with zipfile.ZipFile(bundle_path) as zf:
        names = set(zf.namelist())
        manifest = json.loads(zf.read("manifest.json"))
    stem = f"files/{m.SITE}"
    assert {
        f"{stem}-mor-{m.MONTH}.pdf",
        f"{stem}-mor-{m.MONTH}.csv",
        f"{stem}-dmr-{m.MONTH}.csv",
        f"{stem}-logbook-{m.MONTH}.csv",
        f"{stem}-lab-{m.MONTH}.csv",
        f"{stem}-logbook-{m.MONTH}.json",
    } <= names
    assert manifest["exported_by"] == "chief (Casey Chief (demo))"
    with psycopg.connect(url) as conn:
        audit = conn.execute(
            "SELECT seq, action, actor, detail FROM audit_log ORDER BY seq"
        ).fetchall()
    exported = [a for a in audit if a[1] == "export.cli"]
    assert len(exported) == 1 and exported[0][2] == "chief"
    # The exporter proved who they are; the chain verified and was checkpointed.
    assert exported[0][3]["authenticated"] == "password"
    assert exported[0][3]["audit_chain"]["verified"] is True
    assert manifest["audit_chain"]["verified"] is True
    assert manifest["audit_checkpoint"]["checkpoint"]["seq"] == exported[0][0] - 1
    assert (data_dir / "checkpoints" / "history.jsonl").exists()
    # The chain head in the manifest is the row just before the export's own.
    assert manifest["audit_chain_head"]["seq"] == exported[0][0] - 1
    # The audit row holds the SHA-256 of the bundle written.
    sha = hashlib.sha256(bundle_path.read_bytes()).hexdigest()
    assert exported[0][3]["files"][bundle_path.name] == sha
    # The data directory holds the site key, so the bundle is checked against it.
    done = run_cli("verify", str(bundle_path), url=url, data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    assert "pinned site key" in done.stdout
    assert done.stdout.splitlines()[-1].startswith("VERIFIED")


def test_one_flipped_byte_is_named_by_verify(data, bundle_path, tmp_path):
    url, data_dir, _ = data
    raw = bytearray(bundle_path.read_bytes())
    target = f"files/{m.SITE}-dmr-{m.MONTH}.csv"
    info = zipfile.ZipFile(io.BytesIO(bytes(raw))).getinfo(target)
    header = raw[info.header_offset : info.header_offset + 30]
    start = info.header_offset + 30 + int.from_bytes(header[26:28], "little")
    start += int.from_bytes(header[28:30], "little")
    raw[start + info.compress_size // 2] ^= 0x20
    altered = tmp_path / "altered.zip"
    altered.write_bytes(bytes(raw))
    done = run_cli("verify", str(altered), url=url, data_dir=data_dir)
    assert done.returncode == 1
    problems = [line for line in done.stderr.splitlines() if line.startswith("PROBLEM")]
    assert len(problems) == 1 and target in problems[0], done.stderr
    assert "NOT VERIFIED" in done.stderr


def test_verify_against_another_sites_key_fails(data, bundle_path, tmp_path):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from clearwell.signing_key import public_pem

    url, data_dir, _ = data
    other = tmp_path / "other.pem"
    other.write_bytes(public_pem(Ed25519PrivateKey.generate().public_key()))
    done = run_cli(
        "verify", str(bundle_path), "--public-key", str(other), url=url, data_dir=data_dir
    )
    assert done.returncode == 1
    assert "signature does not match the pinned site key" in done.stderr
    own = data_dir / "own.pem"
    with zipfile.ZipFile(bundle_path) as zf:
        own.write_bytes(zf.read("public_key.pem"))
    ok = run_cli("verify", str(bundle_path), "--public-key", str(own), url=url, data_dir=data_dir)
    assert ok.returncode == 0, ok.stderr
    # Elsewhere, with no key pinned, only the bundle's own key can be tried: said plainly.
    alone = run_cli("verify", str(bundle_path), url=url, data_dir=tmp_path / "empty")
    assert alone.returncode == 1
    assert "NOT VERIFIED AGAINST THE SITE'S KEY" in alone.stderr
    assert "\nVERIFIED" not in alone.stderr and "key inside the bundle" in alone.stderr


def test_the_exporter_must_give_their_password(data, tmp_path):
    url, data_dir, _ = data
    done = run_cli(
        "export", "dmr", "--site", m.SITE, "--month", m.MONTH, "--as", "regulator",
        "--password-stdin", "--out", str(tmp_path), url=url, data_dir=data_dir,
        stdin="not-the-password\n",
    )  # fmt: skip
    assert done.returncode == 1
    assert "--as regulator: the password does not match; nothing exported" in done.stderr
    assert list(tmp_path.iterdir()) == []
    with psycopg.connect(url) as conn:
        refused = conn.execute(
            "SELECT actor, detail FROM audit_log WHERE action = 'export.refused'"
        ).fetchall()
    assert refused == [("regulator", {"via": "cli", "reason": "the password does not match"})]


def test_the_database_is_checked_against_a_bundles_checkpoint(data, bundle_path):
    url, data_dir, _ = data
    site_key = data_dir / "keys" / "site-ed25519.pub.pem"
    done = run_cli(
        "verify", "--checkpoint", str(bundle_path), "--public-key", str(site_key),
        url=url, data_dir=data_dir / "elsewhere",
    )  # fmt: skip
    assert "NOT USED" not in done.stderr
    assert "checkpoints ok: 1 seen" in done.stdout
    # The month's rows are named to the chain (month.populate), so the whole database
    # verifies; a row written around the chain is tests/logbook/test_record_check.py's.
    assert done.returncode == 0, done.stderr


def test_dmr_in_the_bundle(bundle_path):
    table = list(csv.DictReader(io.StringIO(_member(bundle_path, "dmr-2025-11.csv").decode())))
    by = {(r["parameter_code"], r["statistical_base"]): r for r in table}
    assert float(by[("00530", "30DA AVG")]["value"]) == pytest.approx(m.TSS_MONTHLY_AVG)
    assert float(by[("00530", "DAILY MX")]["value"]) == pytest.approx(m.TSS_DAILY_MAX)
    assert float(by[("51040", "MO GEOMN")]["value"]) == pytest.approx(m.ECOLI_GEOMEAN, rel=1e-5)
    assert by[("00530", "30DA AVG")]["exceedance"] == "no"
    assert all(r["permit"] == "UT0099999" for r in table)


def test_mor_csv_shows_reasons_and_the_25_hour_day(bundle_path):
    rows = list(csv.reader(io.StringIO(_member(bundle_path, "mor-2025-11.csv").decode())))
    header = next(r for r in rows if r[0] == "date")
    by_date = {r[0]: r for r in rows if r[0].startswith("2025-")}
    assert by_date["2025-11-02"][1] == "25"
    assert by_date[m.NO_DATA_DAY.isoformat()][header.index("Flow (m3/h) [avg]")] == "NO_DATA"
    assert by_date["2025-11-10"][header.index("TSS (mg/L) [lab]")] == "<2"
    assert "Casey Chief (demo)" in by_date["2025-11-01"][-1]


def test_logbook_and_lab_exports_carry_amendments_and_signatures(bundle_path):
    entries = list(
        csv.DictReader(io.StringIO(_member(bundle_path, "logbook-2025-11.csv").decode()))
    )
    assert [e["kind"] for e in entries] == ["reading", "note"]  # October's entry is left out
    reading = entries[0]
    assert json.loads(reading["data"])["value"] == 7.2
    assert json.loads(reading["original"])["data"]["value"] == 7.1
    (amendment,) = json.loads(reading["amendments"])
    assert amendment["reason"] == "misread the meter"
    assert amendment["amended_by"] == "chief (Casey Chief (demo))"
    (signature,) = json.loads(reading["shift_signatures"])
    assert signature["content_sha256"] == "ab" * 32
    lab = list(csv.DictReader(io.StringIO(_member(bundle_path, "lab-2025-11.csv").decode())))
    assert len(lab) == len(m.LAB) - 1
    amended = next(r for r in lab if r["result_amended"] == "yes")
    assert float(amended["value"]) == m.AMENDED_TSS
    assert json.loads(amended["result_original"])["value"] == 30.0
    nd = next(r for r in lab if r["qualifier"] == "<")
    assert (nd["value"], nd["detection_limit"]) == ("2.0", "2.0")
    record = json.loads(_member(bundle_path, "logbook-2025-11.json"))
    assert record["format"] == "clearwell-logbook/1"
    assert len(record["entries"]) == 2 and len(record["samples"]) == len(m.LAB) - 1


def test_an_operator_may_not_export(data, tmp_path):
    url, data_dir, _ = data
    done = run_cli(
        "export", "dmr", "--site", m.SITE, "--month", m.MONTH, "--as", "operator",
        "--password-stdin", "--out", str(tmp_path), url=url, data_dir=data_dir,
        stdin=PASSWORDS["operator"] + "\n",
    )  # fmt: skip
    assert done.returncode == 1
    assert "--as operator: role operator may not export" in done.stderr
    assert list(tmp_path.iterdir()) == []


_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[+-]\d{2}:\d{2}|Z)?")


async def _logbook_files(url: str, time_zone: str) -> dict[str, bytes]:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute(f"SET TimeZone = '{time_zone}'")
        site = await service.load.site(conn, m.SITE)
        who = await service.exporter(conn, "chief")
        year, month = parse_month(m.MONTH)
        return await service.build_files(
            conn, site, None, year, month, service.LOGBOOK_KINDS, who, datetime.now(UTC)
        )


def test_logbook_and_lab_times_are_utc_whatever_the_servers_time_zone(data):
    url, _, _ = data
    files = asyncio.run(_logbook_files(url, "America/Denver"))
    assert len(files) == len(service.LOGBOOK_KINDS)
    for name, body in files.items():
        stamps = _TIMESTAMP.findall(body.decode())
        assert stamps, name
        assert [s for s in stamps if not s.endswith("+00:00")] == [], name
    record = json.loads(next(b for n, b in files.items() if n.endswith(".json")))
    # Shift, signature and sample times are among them, not only the entries'.
    shift = record["shifts"][0]
    assert shift["opened_at"].endswith("+00:00")
    assert shift["signatures"] and shift["signatures"][0]["signed_at"].endswith("+00:00")
    sample = record["samples"][0]
    assert sample["sampled_at"].endswith("+00:00")
    assert sample["results"][0]["analyzed_at"].endswith("+00:00")


async def _files_counting_sample_reads(url: str, data_dir: Path, kinds, monkeypatch):
    from dashboards.exports import logbook_export

    reads = []
    real = service.load.samples

    async def counted(*args):
        reads.append(args[1:])
        return await real(*args)

    monkeypatch.setattr(service.load, "samples", counted)
    monkeypatch.setattr(logbook_export, "samples", counted)
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        site = await service.load.site(conn, m.SITE)
        who = await service.exporter(conn, "chief")
        permit = service.permit_for(m.SITE, data_dir)
        year, month = parse_month(m.MONTH)
        files = await service.build_files(
            conn, site, permit, year, month, kinds, who, datetime(2025, 12, 2, tzinfo=UTC)
        )
    return files, reads


def test_the_bundles_files_read_the_months_samples_once(data, monkeypatch):
    url, data_dir, _ = data
    files, reads = asyncio.run(
        _files_counting_sample_reads(url, data_dir, service.BUNDLE_KINDS, monkeypatch)
    )
    assert len(reads) == 1
    assert len(files) == len(service.BUNDLE_KINDS)
    alone, _ = asyncio.run(
        _files_counting_sample_reads(url, data_dir, service.LOGBOOK_KINDS, monkeypatch)
    )
    lab = f"{m.SITE}-lab-{m.MONTH}.csv"
    assert files[lab] == alone[lab]
