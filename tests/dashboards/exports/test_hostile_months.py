"""Every export of hostile months, through the web and the command line: the month in
progress after a composite sample with BOD -3 (confirmed) and TSS not detected (issue 18's
crash, ``KeyError: date(...)`` in ``mor.daily_values`` before 2826de8), an implausible
E. coli confirmed then amended, both nights the clocks change, February 29, a month with
no data, the first month a report may be of, and months that are not months or have not
begun. Each answers with its files, or with a status and a message naming what is wrong:
never a 500, never a traceback, and the month in progress says so in every file."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import re
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import psycopg
import pytest
from pypdf import PdfReader

from clearwell.app import create_app
from clearwell.settings import load_settings
from clearwell.signing_key import trusted_keys
from compliance.demo import seed_async as seed_compliance
from dashboards.exports import bundle
from dashboards.exports.service import file_name
from logbook import audit
from logbook.people import create_person
from tests.dashboards.helpers import make_tag, write_batch
from tests.support.api import PASSWORDS, Api

SITE = "demo-wwtp"
TZ = ZoneInfo("America/Denver")
SITE_FILE = """\
site: {code: demo-wwtp, name: "Clearwell Demo WWTP", timezone: America/Denver}
permit:
  number: UT0099999
  below_detection: half_limit
  responsible_charge: chief
  parameters:
    - {name: Flow, code: "50050", location: "1", tag: effluent.flow, daily: avg,
       statistical_base: MO AVG, unit: m3/h}
    - {name: "BOD, 5-day", code: "00310", location: "1", analyte: bod5, daily: lab,
       statistical_base: 30DA AVG, unit: mg/L, limit: {max: 25}}
    - {name: "BOD, 5-day", code: "00310", location: "1", analyte: bod5, daily: lab,
       statistical_base: 7 DA AVG, unit: mg/L, limit: {max: 40}}
    - {name: TSS, code: "00530", location: "1", analyte: tss, daily: lab,
       statistical_base: DAILY MX, unit: mg/L, limit: {max: 45}}
    - {name: E. coli, code: "51040", location: "1", analyte: ecoli, daily: lab,
       statistical_base: MO GEOMN, unit: MPN/100mL, limit: {max: 126}}
  report:
    - {name: Chlorine residual, tag: cl2.residual, daily: min, unit: mg/L}
analytes:
  bod5: {name: "BOD, 5-day", unit: mg/L, plausible: [0, 600]}
  tss: {name: Total suspended solids, unit: mg/L, instrument: [0, null], plausible: [0, 1000]}
  ecoli: {name: E. coli, unit: MPN/100mL, instrument: [0, null], plausible: [0, 24196]}
"""
WHY = "lab confirmed the reading"
DST_FALL, DST_SPRING, LEAP_DAY = date(2025, 11, 2), date(2026, 3, 8), date(2024, 2, 29)
KINDS = ("mor.pdf", "mor.csv", "dmr.csv", "logbook.csv", "bundle.zip")
# Typed where people type: a person's name, a shift's label, the site file's fields.
MARKUP = (
    '"><img src=x onerror=alert(1)>',
    '<img src="/etc/passwd"/>',
    "<b>Tom</b> & <font size=40>Jerry's</font>",
)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TZ)


@dataclass(frozen=True)
class Hostile:
    url: str
    data_dir: Path
    now: datetime  # when the month in progress was recorded

    @property
    def current(self) -> str:
        return f"{self.now.astimezone(TZ):%Y-%m}"

    @property
    def following(self) -> str:
        first = self.now.astimezone(TZ).date().replace(day=1)
        return f"{first + timedelta(days=32):%Y-%m}"

    def good_months(self) -> list[str]:
        months = [self.current, "2025-11", "2026-03", "2024-02", "2025-06", "1900-01"]
        return list(dict.fromkeys(months))

    def bad_months(self) -> dict[str, str]:
        """Each month that cannot be exported, with what its message must name."""
        return {
            self.following: "has not begun",
            "9999-12": "has not begun",
            "0000-01": "from 1900-01 on",
            "1899-12": "from 1900-01 on",
            "2026-13": "write it as YYYY-MM",
            "2026-00": "write it as YYYY-MM",
        }


async def _ok(response: httpx.Response) -> Any:
    assert 200 <= response.status_code < 300, response.text
    return response.json()


async def _shift(
    api: Api, opened: datetime, closed: datetime | None, crew: list[Any], label: str = "night"
) -> int:
    crew = [{"arrived_at": opened.isoformat(), **c} for c in crew]
    body = {"site": SITE, "label": label, "opened_at": opened.isoformat(), "crew": crew}
    shift = await _ok(await api.post("chief", "/api/shifts", body))
    if closed is not None:
        await _ok(
            await api.post(
                "chief", f"/api/shifts/{shift['id']}/close", {"closed_at": closed.isoformat()}
            )
        )
    return int(shift["id"])


async def _sample(
    api: Api, shift: int, at: datetime, results: list[dict[str, Any]], composite: bool
) -> dict[str, Any]:
    who = await api.id("operator")
    body: dict[str, Any] = {
        "site": SITE,
        "shift_id": shift,
        "sample_point": "Final effluent",
        "sample_type": "composite" if composite else "grab",
        "sampled_at": at.isoformat(),
        "sampled_by": [who],
    }
    if composite:
        body |= {
            "composite_start": (at - timedelta(hours=24)).isoformat(),
            "composite_end": at.isoformat(),
            "composite_kind": "flow",
        }
    sample = await _ok(await api.post("operator", "/api/samples", body))
    for result in results:
        body = {
            "method": "SM",
            "analyzed_at": (at + timedelta(seconds=30)).isoformat(),
            "analyst_id": who,
            "unit": "mg/L",
            **result,
        }
        sample = await _ok(await api.post("operator", f"/api/samples/{sample['id']}/results", body))
    return sample


async def _relief(url: str) -> int:
    """A relief operator whose name is markup, with a grade III certificate."""
    async with await psycopg.AsyncConnection.connect(url) as conn, conn.transaction():
        cur = await conn.execute("SELECT id FROM sites WHERE code = 'demo-wwtp'")
        site = await cur.fetchone()
        assert site is not None
        person = await create_person(
            conn,
            audit.SYSTEM,
            "relief",
            MARKUP[1],
            "operator",
            "relief-operator-pass",
            None,
            [int(site[0])],
        )
        await conn.execute(
            "INSERT INTO operator_certificates (person_id, state, category, grade, number, kind,"
            " issued, expires) VALUES (%s, 'UT', 'treatment', 'III', %s, 'full', '2023-01-01',"
            " '2025-12-31')",
            (person, "UT-" + MARKUP[0]),
        )
    return person


async def _populate(url: str, data_dir: Path) -> datetime:
    await seed_compliance(url)  # the demo site and people, a UT class II profile, certificates
    relief = await _relief(url)
    (data_dir / "sites").mkdir(parents=True)
    (data_dir / "sites" / f"{SITE}.yaml").write_text(SITE_FILE)
    app = create_app(load_settings(database_url=url, data_dir=data_dir))
    app.state.rollup_refresh_interval_s = None
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            api = Api(client, url, data_dir)
            operator, chief = await api.id("operator"), await api.id("chief")
            now = datetime.now(UTC)
            # The month in progress: the operator alone on shift (a shift operator, who
            # holds charge under Utah's rule), a composite with BOD -3 and TSS not detected.
            opened = now - timedelta(hours=3)
            crew = [{"person_id": operator, "shift_role": "shift_operator"}]
            shift = await _shift(api, opened, None, crew)
            confirm = {"plausibility": {"confirmed": True, "reason": WHY}}
            sample = await _sample(
                api,
                shift,
                now - timedelta(minutes=2),
                [
                    {"analyte": "bod5", "value": -3, **confirm},
                    {"analyte": "tss", "qualifier": "ND", "detection_limit": 2},
                    {"analyte": "ecoli", "value": 30000, "unit": "MPN/100mL", **confirm},
                ],
                composite=True,
            )
            ecoli = next(r for r in sample["results"] if r["analyte"] == "ecoli")
            await _ok(
                await api.post(
                    "chief",
                    "/api/amendments",
                    {
                        "target": "result",
                        "target_id": ecoli["id"],
                        "changes": {"value": 12},
                        "reason": "a dilution left out of the count",
                    },
                )
            )
            # The nights the clocks change and February 29: the chief in DRC overnight, a
            # grab sample in the morning (one result below detection).
            for day in (DST_FALL, DST_SPRING, LEAP_DAY):
                drc = relief if day == LEAP_DAY else chief
                night = [{"person_id": drc, "shift_role": "drc"}]
                label = MARKUP[2] if day == LEAP_DAY else "night"
                opened = local(day - timedelta(days=1), 22)
                shift = await _shift(api, opened, local(day, 6), night, label)
                await _sample(
                    api,
                    shift,
                    local(day, 5, 30),
                    [
                        {"analyte": "bod5", "value": 41.5},
                        {"analyte": "tss", "value": 2, "qualifier": "<", "detection_limit": 2},
                        {"analyte": "ecoli", "value": 300, "unit": "MPN/100mL"},
                    ],
                    composite=False,
                )
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT id FROM sites WHERE code = %s", (SITE,)).fetchone()
        assert row is not None
        ids = {name: make_tag(conn, row[0], name) for name in ("effluent.flow", "cl2.residual")}
        conn.commit()
        rows = []
        for day in (DST_FALL, DST_SPRING, LEAP_DAY, now.astimezone(TZ).date()):
            t = local(day - timedelta(days=1), 0).astimezone(UTC)
            while t < min(local(day + timedelta(days=2), 0).astimezone(UTC), now):
                rows.append((t, ids["effluent.flow"], 400.0 + t.hour, 0))
                rows.append((t, ids["cl2.residual"], -0.2 if t.hour == 3 else 0.8, 0))
                t += timedelta(minutes=10)
        write_batch(conn, rows)  # marked dirty: the exports refresh the rollups first
    return now


@pytest.fixture(scope="module")
def hostile(db_server, tmp_path_factory) -> Any:
    url = db_server.make_database()
    data_dir = tmp_path_factory.mktemp("data")
    now = asyncio.run(_populate(url, data_dir))
    yield Hostile(url, data_dir, now)
    db_server.drop_database(url)


@pytest.fixture
async def client(hostile: Hostile) -> Any:
    app = create_app(load_settings(database_url=hostile.url, data_dir=hostile.data_dir))
    app.state.rollup_refresh_interval_s = None
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=120) as c:
            api = Api(c, hostile.url, hostile.data_dir)
            await api.login("chief")
            yield api


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _check_file(kind: str, data: bytes, month: str, to_date: bool, data_dir: Path) -> None:
    """What every file of a month says, whatever the month held."""
    if kind == "mor.pdf":
        text = _pdf_text(data)
        assert "Page 1 of" in text and "I certify under penalty of law" in text
        assert ("NOT THE WHOLE MONTH" in text) is to_date, month
    elif kind == "mor.csv":
        rows = list(csv.reader(io.StringIO(data.decode())))
        heading = dict(r[:2] for r in rows if r and r[0].startswith("#"))
        assert heading["# Month"].startswith(month)
        assert ("month to date" in heading["# Month"]) is to_date, heading["# Month"]
        assert any(r[0] == "permit limits" for r in rows)
    elif kind == "dmr.csv":
        table = list(csv.DictReader(io.StringIO(data.decode())))
        assert table and {r["month_to_date"] for r in table} == {"yes" if to_date else "no"}
    elif kind == "logbook.csv":
        assert data.decode().startswith("entry_id,")
    elif kind == "bundle.zip":
        # Against the site key it was signed with, as a regulator who registered it.
        checked = bundle.verify(data, [k for _, k in trusted_keys(data_dir)])
        assert checked.ok, checked.problems
        assert checked.manifest is not None
        assert checked.manifest["period"]["month"] == month
        assert checked.manifest["period"]["month_to_date"] is to_date
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            record = json.loads(zf.read(f"files/{SITE}-logbook-{month}.json"))
        assert record["period"]["month_to_date"] is to_date


async def test_every_export_of_every_month_answers_on_the_web(client: Api, hostile: Hostile):
    answered = []
    for month in hostile.good_months():
        for kind in KINDS:
            r = await client.get("chief", f"/exports/{SITE}/{month}/{kind}")
            answered.append((month, kind, r.status_code))
            assert r.status_code == 200, (month, kind, r.text)
            _check_file(kind, r.content, month, month == hostile.current, hostile.data_dir)
    for month, why in hostile.bad_months().items():
        for kind in KINDS:
            r = await client.get("chief", f"/exports/{SITE}/{month}/{kind}")
            assert r.status_code == 422, (month, kind, r.status_code, r.text)
            assert month in r.json()["detail"] and why in r.json()["detail"], r.text
    assert len(answered) == len(hostile.good_months()) * len(KINDS)


async def test_the_month_in_progress_shows_what_was_recorded_and_who_held_charge(
    client: Api, hostile: Hostile
):
    r = await client.get("chief", f"/exports/{SITE}/{hostile.current}/mor.csv")
    assert r.status_code == 200, r.text
    rows = list(csv.reader(io.StringIO(r.text)))
    header = next(row for row in rows if row[0] == "date")
    today = hostile.now.astimezone(TZ).date()
    days = [row for row in rows if re.fullmatch(r"\d{4}-\d{2}-\d{2}", row[0])]
    # The plant days to today's, none after it.
    assert [row[0] for row in days] == [
        (today.replace(day=1) + timedelta(days=i)).isoformat() for i in range(today.day)
    ]
    row = dict(zip(header, days[-1], strict=True))
    assert row["BOD, 5-day (mg/L) [lab]"] == "-3"
    assert row["TSS (mg/L) [lab]"] == "<2"  # not detected: below its detection limit
    assert row["E. coli (MPN/100mL) [lab]"] == "12"  # as amended
    # The operator on shift held charge (as a shift operator, under Utah's rule), with the
    # grade of the certificate in force: not "no DRC recorded".
    charge = row["operator in responsible charge"]
    assert "Oli Operator (demo), UT treatment Grade II #DEMO-UT-T-2002" in charge, charge
    assert "no DRC recorded" not in charge
    basis = dict(r[:2] for r in rows if r and r[0].startswith("#"))["# Responsible charge"]
    assert "compliance engine" in basis and "R317-10" in basis
    pdf = await client.get("chief", f"/exports/{SITE}/{hostile.current}/mor.pdf")
    text = _pdf_text(pdf.content)
    assert "OO II" in text and "Oli Operator (demo): UT treatment Grade II" in text


async def test_a_browser_asking_for_a_download_that_cannot_be_made_gets_the_page(
    client: Api, hostile: Hostile
):
    token = await client.login("chief")
    headers = {
        "Authorization": f"Bearer {token}",
        "Accept": "text/html,application/xhtml+xml,*/*;q=0.8",
    }
    r = await client.client.get(f"/exports/{SITE}/{hostile.following}/mor.pdf", headers=headers)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("text/html")
    assert "Nothing was downloaded" in r.text and "has not begun" in r.text
    # The site's file moved away: 409, naming the path, on the page.
    path = hostile.data_dir / "sites" / f"{SITE}.yaml"
    path.rename(path.with_suffix(".moved"))
    try:
        r = await client.client.get(f"/exports/{SITE}/2025-11/dmr.csv", headers=headers)
    finally:
        path.with_suffix(".moved").rename(path)
    assert r.status_code == 409 and "Nothing was downloaded" in r.text
    assert str(path) in r.text


def run_cli(
    *args: str, hostile: Hostile, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLEARWELL_")}
    env.update(CLEARWELL_DATABASE_URL=hostile.url, CLEARWELL_DATA_DIR=str(hostile.data_dir))
    return subprocess.run(
        [sys.executable, "-m", "clearwell.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        input=stdin,
    )


def test_every_month_from_the_command_line(hostile: Hostile, tmp_path: Path):
    """``export bundle`` of each month (every file of it), and each month that cannot be:
    one line naming why, exit 1, nothing written, no traceback."""

    def export(month: str) -> tuple[str, subprocess.CompletedProcess[str], Path]:
        out = tmp_path / month
        args = ("export", "bundle", "--site", SITE, "--month", month, "--as", "chief")
        args += ("--password-stdin", "--out", str(out))
        return month, run_cli(*args, hostile=hostile, stdin=PASSWORDS["chief"] + "\n"), out

    months = [*hostile.good_months(), *hostile.bad_months()]
    with ThreadPoolExecutor(3) as pool:
        done = list(pool.map(export, months))
    for month, result, out in done:
        assert "Traceback" not in result.stderr, result.stderr
        if month in hostile.bad_months():
            assert result.returncode == 1, (month, result.stdout, result.stderr)
            last = result.stderr.strip().splitlines()[-1]
            assert last.startswith("clearwell: error: ") and month in last, last
            assert hostile.bad_months()[month] in last, last
            assert not out.exists() or not list(out.iterdir())
            continue
        assert result.returncode == 0, (month, result.stderr)
        written = out / f"{SITE}-bundle-{month}.zip"
        assert f"wrote {written}" in result.stdout
        data = written.read_bytes()
        _check_file("bundle.zip", data, month, month == hostile.current, hostile.data_dir)
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for kind in ("mor.pdf", "mor.csv", "dmr.csv", "logbook.csv"):
                stem, ext = kind.split(".")
                member = zf.read(f"files/{SITE}-{stem}-{month}.{ext}")
                _check_file(kind, member, month, month == hostile.current, hostile.data_dir)


async def test_markup_typed_into_the_records_and_the_site_file_prints_as_text(
    hostile: Hostile, tmp_path: Path
):
    """The facility's name, the relief's name and certificate number and the leap night's
    label in the database, the permit's number, a parameter's name and a unit in the site
    file: the report is made and shows each as the characters typed (and embeds no
    image)."""
    site_file = (
        SITE_FILE.replace("number: UT0099999", f"number: {json.dumps('UT' + MARKUP[2])}")
        .replace("name: TSS,", f"name: {json.dumps('TSS ' + MARKUP[1])},")
        .replace("MO GEOMN, unit: MPN/100mL,", f"MO GEOMN, unit: {json.dumps('MPN' + MARKUP[0])},")
    )
    (tmp_path / "sites").mkdir()
    (tmp_path / "sites" / f"{SITE}.yaml").write_text(site_file)
    with psycopg.connect(hostile.url, autocommit=True) as conn:
        row = conn.execute("SELECT name FROM sites WHERE code = %s", (SITE,)).fetchone()
        assert row is not None
        conn.execute("UPDATE sites SET name = %s WHERE code = %s", (MARKUP[0], SITE))
    try:
        app = create_app(load_settings(database_url=hostile.url, data_dir=tmp_path))
        app.state.rollup_refresh_interval_s = None
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
                api = Api(c, hostile.url, tmp_path)
                pdf = await api.get("regulator", f"/exports/{SITE}/2024-02/mor.pdf")
                table = await api.get("regulator", f"/exports/{SITE}/2024-02/mor.csv")
                signed = await api.get("regulator", f"/exports/{SITE}/2024-02/bundle.zip")
    finally:
        with psycopg.connect(hostile.url, autocommit=True) as conn:
            conn.execute("UPDATE sites SET name = %s WHERE code = %s", (row[0], SITE))
    assert pdf.status_code == 200, pdf.text
    # The bundle carries the same report: it is made, verifies, and holds that PDF's text.
    assert signed.status_code == 200, signed.text
    # Against the pinned site key the app signed with (its data directory), not the bundle's own.
    assert bundle.verify(signed.content, [k for _, k in trusted_keys(tmp_path)]).ok
    with zipfile.ZipFile(io.BytesIO(signed.content)) as zf:
        inner = zf.read(f"files/{file_name(SITE, 'mor.pdf', 2024, 2)}")
    for data in (pdf.content, inner):
        reader = PdfReader(io.BytesIO(data))
        packed = "".join("".join(page.extract_text().split()) for page in reader.pages)
        for text in (*MARKUP, "UT-" + MARKUP[0]):
            assert "".join(text.split()) in packed, text
        pages = reader.pages
        assert not any(list((p.get("/Resources") or {}).get("/XObject") or {}) for p in pages)
    assert table.status_code == 200
    cells = "\n".join(cell for row in csv.reader(io.StringIO(table.text)) for cell in row)
    for text in MARKUP:
        assert text in cells
    # The relief held charge that night, under the label typed.
    assert f"{MARKUP[2]} 22:00-06:00: {MARKUP[1]}, UT treatment Grade III #UT-" in cells
