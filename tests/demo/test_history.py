"""The demo's history in a real database: three generated days (a Tuesday to a Thursday)
give the monthly report values on each of them, the chief's month its shifts and
findings, and the trends their buckets; a second run writes nothing."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg

from clearwell.settings import Settings
from compliance.adapter import load, resolve_site
from compliance.demo import seed_async as seed_compliance
from compliance.engine import check
from dashboards.exports import service
from dashboards.exports.statistics import Stat
from dashboards.trends.queries import trend_buckets
from dashboards.trends.resolution import plan_trend
from demo.history.write import generate, recorded
from demo.steps import seed_site_file
from simulators.address_map import DEFAULT_MAP
from sitefile.load import load_config
from tests.support.api import Api

TZ = ZoneInfo("America/Denver")
# Midnight starting Friday 2026-02-06, local: the three days before it are generated.
END = datetime(2026, 2, 6, tzinfo=TZ).astimezone(UTC)
DAYS = (date(2026, 2, 3), date(2026, 2, 4), date(2026, 2, 5))


async def test_three_generated_days_fill_the_report_the_chiefs_month_and_the_trends(
    api: Api, db_url: str, tmp_path: Path
) -> None:
    await seed_compliance(db_url)
    config = load_config(DEFAULT_MAP)
    began = time.monotonic()
    written = await generate(db_url, config, END, 3)
    took = time.monotonic() - began
    assert written is not None
    assert written.history.start == END - timedelta(days=3)
    assert written.shifts == 8  # the last night ends after the period
    assert written.samples == 3  # Tuesday's and Thursday's composites, Wednesday's grab
    assert took < 60

    async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as conn:
        # The monthly report: every column from a tag has a value on each whole day.
        settings = Settings(database_url=db_url, data_dir=tmp_path)
        seed_site_file(settings)
        site = await service.load.site(conn, "demo-wwtp")
        permit = service.permit_for("demo-wwtp", tmp_path)
        who = await service.exporter(conn, "chief")
        report = await service.monthly_report(
            conn, site, permit, 2026, 2, who, END + timedelta(days=30)
        )
        rows = {r.day: r for r in report.days}
        for column in report.columns:
            on_days = [rows[d].values[column.key] for d in DAYS]
            if column.source in {"bod5", "tss", "ecoli"}:
                assert any(isinstance(v, Stat) for v in on_days), column.key
            else:
                assert all(isinstance(v, Stat) for v in on_days), (column.key, on_days)
        assert not isinstance(rows[date(2026, 2, 10)].values[report.columns[0].key], Stat)
        # Who held charge each day as the compliance engine reads the crews: the swing's and
        # the night's shift operators too, not "no DRC recorded", and the two stretches with
        # no one (the drc-missing findings below).
        charge = [c for d in DAYS for c in rows[d].in_charge]
        assert not [c for c in charge if c.operator == "no DRC recorded"], charge
        held = {c.operator for c in charge if c.certificate}
        assert {"Casey Chief (demo)", "Oli Operator (demo)", "Nico Nightly (demo)"} <= held
        gaps = [c.operator for c in charge if c.operator.startswith("no one in charge")]
        assert len(gaps) == 2, gaps

        # The chief's month: the shifts with their crews, and the two coverage findings.
        loaded = await load(
            conn, await resolve_site(conn, "demo-wwtp"), END - timedelta(3), END, END
        )
        findings = check(loaded.scenario).findings
        assert len(loaded.scenario.shifts) == 8
        missing = [f for f in findings if f.rule == "drc-missing"]
        assert len(missing) == 2, findings
        # Everyone has a level on record and the trainee's entries are verified, so the
        # site's competency policy finds nothing, and no one in charge is under grade.
        assert not [f for f in findings if f.basis == "site policy"], [
            f.message for f in findings if f.basis == "site policy"
        ]
        assert {f.rule for f in findings if f.severity == "violation"} == {"drc-missing"}

        # A trend over the generated days, from the rollups.
        cur = await conn.execute("SELECT id FROM tags WHERE name = 'aeration.do'")
        row = await cur.fetchone()
        assert row is not None
        plan = plan_trend(END - timedelta(days=3), END)
        buckets = await trend_buckets(conn, row[0], plan, END - timedelta(days=3), END)
        assert len(buckets) > 100
        assert all(b.n_good and b.min is not None and b.max is not None for b in buckets)
        assert all(0 <= b.min <= b.max <= 15 for b in buckets if b.min is not None and b.max)

        # What the history wrote is what the people would have: verified trainee entries,
        # an amendment, an alarm acknowledged, every shift signed.
        cur = await conn.execute(
            "SELECT (SELECT count(*) FROM entries WHERE by_trainee),"
            " (SELECT count(*) FROM entry_countersignatures),"
            " (SELECT count(*) FROM amendments),"
            " (SELECT count(DISTINCT kind) FROM entries),"
            " (SELECT count(*) FROM shift_signatures),"
            " (SELECT count(*) FROM entry_staffing)"
        )
        trainee, verified, amended, kinds, signed, stamped = await cur.fetchone() or ()
        assert trainee > 0 and verified == trainee
        assert amended == 1 and signed == 8
        assert kinds >= 7  # Monday's safety talk and the rarer kinds come in a month
        assert stamped == written.entries
        assert await recorded(conn, "demo-wwtp") == written.history

    page = await api.get("chief", "/chief", month="2026-02")
    assert page.status_code == 200
    assert "Nico Nightly (demo)" in page.text

    again = time.monotonic()
    assert await generate(db_url, config, END, 3) is None
    assert time.monotonic() - again < 5
