"""Making the exports of a facility and month from the database: the one place that ties
loading, computing, rendering, signing and the audit record together (CLI and web)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from clearwell.errors import ClearwellError
from compliance.adapter import NoProfile, resolve_site
from compliance.adapter import load as compliance_load
from compliance.engine import check
from dashboards.exports import bundle, dmr, load, logbook_export, mor_pdf, mor_render
from dashboards.exports.in_charge import (
    best_certificate,
    charge_hours,
    drc_hours,
    in_charge_by_day,
    in_charge_from_coverage,
)
from dashboards.exports.mor import InCharge, MonthlyReport, compute, value_days
from dashboards.exports.permit import Permit, load_site_permit
from dashboards.exports.plant_day import (
    MonthNotBegun,
    MonthRefused,
    Period,
    day_bounds,
    parse_month,
    report_period,
)
from dashboards.exports.signing_key import load_or_create
from logbook import audit
from sitefile.datadir import site_file

AsyncConn = psycopg.AsyncConnection[Any]
# Who may make or download exports: the regulator, and those who sign reports.
EXPORT_ROLES = ("regulator", "chief_operator", "admin")

# Each downloadable kind and the file it is: (stem, extension).
KINDS: dict[str, tuple[str, str]] = {
    "mor.pdf": ("mor", "pdf"),
    "mor.csv": ("mor", "csv"),
    "dmr.csv": ("dmr", "csv"),
    "logbook.csv": ("logbook", "csv"),
    "lab.csv": ("lab", "csv"),
    "logbook.json": ("logbook", "json"),
    "bundle.zip": ("bundle", "zip"),
}
MEDIA_TYPES = {
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "zip": "application/zip",
}
REPORT_KINDS = ("mor.pdf", "mor.csv", "dmr.csv")
LOGBOOK_KINDS = ("logbook.csv", "lab.csv", "logbook.json")
BUNDLE_KINDS = REPORT_KINDS + LOGBOOK_KINDS

Progress = Callable[[str, float], None]


def _quiet(label: str, fraction: float) -> None:
    return None


@dataclass(frozen=True)
class Exporter:
    """The person an export is attributed to."""

    id: int
    username: str
    full_name: str
    role: str

    @property
    def label(self) -> str:
        return f"{self.username} ({self.full_name})"

    @property
    def actor(self) -> audit.Actor:
        return audit.Actor(self.id, self.username)


def file_name(code: str, kind: str, year: int, month: int) -> str:
    stem, ext = KINDS[kind]
    return f"{code}-{stem}-{year}-{month:02d}.{ext}"


def permit_for(code: str, data_dir: Path, config: Path | None = None) -> Permit:
    """The site's permit from its configuration file (``config``, else the data dir's)."""
    path = config or site_file(data_dir, code)
    if config is None and not path.exists():
        raise ClearwellError(
            f"{path}: no site configuration for {code}; put the site file (with its permit:"
            " section) there or pass --config FILE"
        )
    site_config, permit = load_site_permit(path)
    if site_config.site.code != code:
        raise ClearwellError(f"{path}: is the configuration of {site_config.site.code}, not {code}")
    return permit


async def exporter(conn: AsyncConn, username: str) -> Exporter:
    """The person named to attribute an export to; refused unless their role may export."""
    found = await load.person(conn, username)
    if found is None:
        raise ClearwellError(f"--as {username}: no such person")
    pid, name, role = found
    if role not in EXPORT_ROLES:
        raise ClearwellError(
            f"--as {username}: role {role} may not export; exports are for "
            + ", ".join(EXPORT_ROLES)
        )
    return Exporter(pid, username, name, role)


def period_of(year: int, month: int, site: load.SiteRow, now: datetime) -> Period:
    """The plant days a report of the month covers at the site, now; a month that has not
    begun there is refused (:class:`MonthRefused`)."""
    try:
        return report_period(year, month, now.astimezone(site.tz).date())
    except MonthNotBegun as exc:
        raise MonthRefused(f"month {year:04d}-{month:02d} at {site.code}: {exc}") from None


async def _lab_samples(
    conn: AsyncConn,
    site: load.SiteRow,
    lo: datetime,
    hi: datetime,
    since: datetime,
    found: list[dict[str, Any]] | None,
) -> list[dict[str, Any]]:
    """Samples of [since, hi): ``found`` (those of [lo, hi)) and the ones before it that
    the weekly averages need, or all of them read here."""
    if found is None:
        return await load.samples(conn, site.id, since, hi)
    earlier = await load.samples(conn, site.id, since, lo) if since < lo else []
    return earlier + found


async def _charge(
    conn: AsyncConn,
    site: load.SiteRow,
    lo: datetime,
    hi: datetime,
    now: datetime,
    days: list[date],
) -> tuple[dict[date, list[InCharge]], dict[int, float], str]:
    """Who held responsible charge each plant day, the hours each person held it, and how
    that was found: the compliance engine's coverage, or the crews' DRC role when the
    facility has no compliance profile."""
    shifts, stints = await load.shifts_and_crews(conn, site.id, lo, hi, now)
    end = max(min(hi, now), lo + timedelta(microseconds=1))
    try:
        facts = await compliance_load(
            conn,
            await resolve_site(conn, site.code),
            lo,
            end,
            now,
            entries=(),
            with_training=False,
        )
    except NoProfile:
        certs = await load.certificates(conn, sorted({s.person_id for s in stints}))
        return (
            in_charge_by_day(shifts, stints, certs, days, site.tz),
            drc_hours(shifts, stints, lo, hi),
            "the crews' DRC role (the facility has no compliance profile, so who held"
            " charge under the state's rule was not judged)",
        )
    report = check(facts.scenario)
    people = sorted({int(op) for c in report.coverage for op in c.drc})
    certs = await load.certificates(conn, people)
    rules = report.class_spans[-1].rule_set if report.class_spans else None
    basis = "the compliance engine's reading of the crews" + (
        f" under {rules}: the first on site, of the roles that may hold charge, who meets"
        " the facility's grade"
        if rules
        else ""
    )
    return (
        in_charge_from_coverage(
            report.coverage, report.findings, shifts, facts.names, certs, days, site.tz
        ),
        charge_hours(report.coverage, lo, end),
        basis,
    )


async def monthly_report(
    conn: AsyncConn,
    site: load.SiteRow,
    permit: Permit,
    year: int,
    month: int,
    who: Exporter,
    now: datetime,
    progress: Progress = _quiet,
    found: list[dict[str, Any]] | None = None,
) -> MonthlyReport:
    """The month's report as it stands ``now`` (the month in progress: to date).

    ``found``: the month's samples as ``load.samples`` reads them, if the caller has them
    already; read here otherwise."""
    tz = site.tz
    period = period_of(year, month, site, now)
    lo, hi = period.bounds(tz)
    days = list(period.days)
    columns = permit.mor_columns()
    needed = value_days(days, columns)
    since = day_bounds(needed[0], tz)[0]
    tags = sorted(permit.tags())
    ids = await load.tag_ids(conn, site.id, tags)
    # One day before the values' first: the totalizer's reading at the start of that day.
    before = day_bounds(needed[0] - timedelta(days=1), tz)[0]
    progress("refreshing rollups", 0.0)
    await load.ensure_fresh(
        conn, list(ids.values()), before, hi, lambda d, t: progress("refreshing rollups", d / t)
    )
    progress("loading hourly values", 0.0)
    hourly = await load.hourly_frame(conn, site.id, tags, before, hi)
    progress("loading lab results", 0.0)
    lab = load.lab_frame(
        await _lab_samples(conn, site, lo, hi, since, found), sorted(permit.analytes())
    )
    progress("loading shifts", 0.0)
    in_charge, hours, basis = await _charge(conn, site, lo, hi, now, days)
    responsible = None
    if permit.responsible_charge:
        responsible = await load.person(conn, permit.responsible_charge)
        if responsible is None:
            raise ClearwellError(
                f"permit.responsible_charge: {permit.responsible_charge} is not a person here"
            )
    if responsible is None and hours:
        top = max(hours, key=lambda p: (hours[p], -p))
        responsible = (top, await load.name(conn, top), "")
    certs = await load.certificates(conn, [responsible[0]]) if responsible else []
    progress("computing", 0.0)
    day_rows, monthly = compute(
        columns=columns,
        hourly=hourly,
        lab=lab,
        year=year,
        month=month,
        tz=tz,
        rule=permit.below_detection,
        in_charge=in_charge,
        through=period.last,
    )
    return MonthlyReport(
        facility=site.name,
        facility_code=site.code,
        permit=permit.number,
        year=year,
        month=month,
        timezone=site.timezone,
        columns=columns,
        days=day_rows,
        monthly=monthly,
        below_detection=permit.below_detection,
        responsible_operator=responsible[1] if responsible else "not designated",
        responsible_certificate=(
            best_certificate(certs, responsible[0], days[-1]) if responsible else ""
        ),
        generated_at=now,
        generated_by=who.label,
        month_to_date=period.month_to_date,
        charge_basis=basis,
    )


async def build_files(
    conn: AsyncConn,
    site: load.SiteRow,
    permit: Permit | None,
    year: int,
    month: int,
    kinds: tuple[str, ...],
    who: Exporter,
    now: datetime,
    progress: Progress = _quiet,
) -> dict[str, bytes]:
    """The named kinds' files (not the bundle), by file name, of the month as it stands
    ``now`` (the month in progress: to date). ``conn`` in autocommit mode."""
    files: dict[str, bytes] = {}
    logbook = any(k in LOGBOOK_KINDS for k in kinds)
    period = period_of(year, month, site, now)
    lo, hi = period.bounds(site.tz)
    found = None
    if any(k in REPORT_KINDS for k in kinds):
        if permit is None:
            raise ClearwellError(f"{site.code}: reports need the site's permit configuration")
        if logbook:
            # The month's samples, read once for the report's lab values and the lab record.
            found = await load.samples(conn, site.id, lo, hi)
        report = await monthly_report(
            conn, site, permit, year, month, who, now, progress, found=found
        )
        progress("rendering", 0.0)
        if "mor.csv" in kinds:
            files[file_name(site.code, "mor.csv", year, month)] = mor_render.to_csv(report)
        if "mor.pdf" in kinds:
            files[file_name(site.code, "mor.pdf", year, month)] = mor_pdf.to_pdf(report)
        if "dmr.csv" in kinds:
            rows = dmr.rows(permit, permit.dmr_monthly(report.monthly))
            files[file_name(site.code, "dmr.csv", year, month)] = dmr.to_csv(
                permit, (period.first, period.last), rows, period.month_to_date
            )
    if logbook:
        progress("loading the logbook", 0.0)
        record = await logbook_export.load(
            conn,
            site.id,
            site.code,
            lo,
            hi,
            (period.first, period.last),
            found,
            month_to_date=period.month_to_date,
        )
        renderers = {
            "logbook.csv": logbook_export.entries_csv,
            "lab.csv": logbook_export.lab_csv,
            "logbook.json": logbook_export.to_json,
        }
        for kind, render in renderers.items():
            if kind in kinds:
                files[file_name(site.code, kind, year, month)] = render(record)
    return files


async def export(
    conn: AsyncConn,
    *,
    code: str,
    month_text: str,
    kinds: tuple[str, ...],
    who: Exporter,
    permit: Permit | None,
    data_dir: Path,
    via: str,
    progress: Progress = _quiet,
) -> dict[str, bytes]:
    """Files of the given kinds (or the signed bundle, kind ``bundle.zip``), by file name,
    written to the audit log as one export.

    ``conn`` must be in autocommit mode: the rollup refresh runs its own transactions.
    """
    for kind in kinds:
        if kind not in KINDS:
            raise ClearwellError(f"export kind {kind!r}: one of {', '.join(KINDS)}")
    year, month = parse_month(month_text)
    site = await load.site(conn, code)
    now = datetime.now(UTC)
    period = period_of(year, month, site, now)
    head = None
    if "bundle.zip" in kinds:
        cur = await conn.execute(
            "SELECT seq, row_hash, at FROM audit_log ORDER BY seq DESC LIMIT 1"
        )
        row = await cur.fetchone()
        head = {"seq": row[0], "row_hash": row[1], "at": row[2].isoformat()} if row else None
        kinds = tuple(dict.fromkeys([*(k for k in kinds if k != "bundle.zip"), *BUNDLE_KINDS]))
        files = await build_files(conn, site, permit, year, month, kinds, who, now, progress)
        progress("signing", 0.0)
        info = bundle.BundleInfo(
            site=code,
            exported_by=who.label,
            exported_at=now,
            audit_chain_head=head,
            description=f"{site.name}: exports for {period.describe()}",
            period={
                "month": period.label,
                "first_day": period.first.isoformat(),
                "last_day": period.last.isoformat(),
                "month_to_date": period.month_to_date,
            },
        )
        signed = bundle.build(files, info, load_or_create(data_dir))
        contents = {n: hashlib.sha256(b).hexdigest() for n, b in sorted(files.items())}
        files = {file_name(code, "bundle.zip", year, month): signed}
    else:
        files = await build_files(conn, site, permit, year, month, kinds, who, now, progress)
        contents = {}
    detail = {
        "kinds": list(kinds),
        "month": f"{year}-{month:02d}",
        "month_to_date": period.month_to_date,
        "files": {n: hashlib.sha256(b).hexdigest() for n, b in sorted(files.items())},
        "bundle_contents": contents,
        "audit_chain_head": head,
    }
    subject_id = f"{code}/{year}-{month:02d}"
    async with conn.transaction():
        await audit.append(conn, who.actor, f"export.{via}", "export", subject_id, site.id, detail)
    progress("done", 1.0)
    return files
