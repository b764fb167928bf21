"""``clearwell export mor|dmr|logbook|bundle`` and ``clearwell verify`` (chain or bundle).

A month that cannot be exported (not YYYY-MM, before 1900, not begun at the plant) is one
line on stderr naming why and exit 1, as is every other refusal; the month in progress is
exported to date, and its files say so.

An export from the command line is attributed to the person named by ``--as``,
who must exist and hold a role that may export (regulator, chief operator,
admin); it is written to the audit log like a download. The command line has
the database's credentials, so ``--as`` records who asked rather than proving
it: whoever runs it can already read every table.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import psycopg
import typer

from clearwell.db import CONNECT_TIMEOUT_S, explain_connect_error
from clearwell.errors import ClearwellError
from clearwell.settings import get_settings
from dashboards.exports import bundle, service
from dashboards.exports.plant_day import parse_month
from dashboards.exports.signing_key import load_public_pem
from logbook.cli import verify_chain

export_app = typer.Typer(no_args_is_help=True, help="What regulators receive, for a month.")

Site = Annotated[str, typer.Option("--site", help="Site code, e.g. demo-wwtp")]
Month = Annotated[str, typer.Option("--month", help="YYYY-MM: plant days of that month")]
As = Annotated[
    str,
    typer.Option("--as", help="Username the export is attributed to (regulator, chief, admin)"),
]
Out = Annotated[
    Path,
    typer.Option("--out", help="A directory for the files, or the file name of a single file"),
]
Config = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="Site configuration with the permit: section (default DATA_DIR/sites/SITE.yaml)",
    ),
]


def _write(files: dict[str, bytes], out: Path) -> list[Path]:
    if len(files) == 1 and not out.is_dir() and out.suffix:
        targets = {next(iter(files)): out}
    else:
        targets = {name: out / name for name in files}
    written = []
    for name, path in targets.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(files[name])
        written.append(path)
    return written


async def _export(
    kinds: tuple[str, ...], site: str, month: str, username: str, config: Path | None
) -> dict[str, bytes]:
    settings = get_settings()
    dsn = settings.database_dsn
    needs_permit = any(k in service.REPORT_KINDS or k == "bundle.zip" for k in kinds)
    permit = service.permit_for(site, settings.data_dir, config) if needs_permit else None
    try:
        conn: psycopg.AsyncConnection[Any] = await psycopg.AsyncConnection.connect(
            dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S
        )
    except (psycopg.OperationalError, psycopg.ProgrammingError) as exc:
        raise explain_connect_error(dsn, exc) from None
    async with conn:
        who = await service.exporter(conn, username)
        with typer.progressbar(length=1000, label=f"{site} {month}", width=30) as bar:
            shown = 0

            def progress(step: str, fraction: float) -> None:
                nonlocal shown
                # Each step takes its share of the bar; the label says what runs.
                steps = _STEPS.get(step, (0.0, 0.0))
                position = int(1000 * (steps[0] + (steps[1] - steps[0]) * fraction))
                bar.label = f"{site} {month}: {step:<24}"
                if position > shown:
                    bar.update(position - shown)
                    shown = position
                else:
                    bar.update(0)

            return await service.export(
                conn,
                code=site,
                month_text=month,
                kinds=kinds,
                who=who,
                permit=permit,
                data_dir=settings.data_dir,
                via="cli",
                progress=progress,
            )


# The bar's share of each step (start, end), roughly as a month of 200 tags divides.
_STEPS: dict[str, tuple[float, float]] = {
    "refreshing rollups": (0.0, 0.3),
    "loading hourly values": (0.3, 0.45),
    "loading lab results": (0.45, 0.5),
    "loading shifts": (0.5, 0.55),
    "computing": (0.55, 0.7),
    "rendering": (0.7, 0.85),
    "loading the logbook": (0.85, 0.95),
    "signing": (0.95, 0.99),
    "done": (1.0, 1.0),
}


def _run(
    kinds: tuple[str, ...], site: str, month: str, username: str, out: Path, config: Path | None
) -> None:
    # A month that is not one is named before the site file or the database is looked at.
    parse_month(month)
    files = asyncio.run(_export(kinds, site, month, username, config))
    for path in _write(files, out):
        typer.echo(f"wrote {path}")


@export_app.command("mor")
def mor_command(
    site: Site, month: Month, as_: As, out: Out = Path("."), config: Config = None
) -> None:
    """The Monthly Operating Report, as PDF and CSV."""
    _run(("mor.pdf", "mor.csv"), site, month, as_, out, config)


@export_app.command("dmr")
def dmr_command(
    site: Site, month: Month, as_: As, out: Out = Path("."), config: Config = None
) -> None:
    """DMR values, one row per permit parameter, as CSV."""
    _run(("dmr.csv",), site, month, as_, out, config)


@export_app.command("logbook")
def logbook_command(site: Site, month: Month, as_: As, out: Out = Path(".")) -> None:
    """Every logbook entry and lab result of the month with amendments and signatures:
    logbook CSV, lab CSV and one JSON file."""
    _run(service.LOGBOOK_KINDS, site, month, as_, out, None)


@export_app.command("bundle")
def bundle_command(
    site: Site, month: Month, as_: As, out: Out = Path("."), config: Config = None
) -> None:
    """All of the above in a zip with a manifest of SHA-256s signed with the site's key."""
    _run(("bundle.zip",), site, month, as_, out, config)


def verify_bundle(path: Path, public_key: Path | None) -> bool:
    """Checks a bundle file and prints what it found; False when anything is wrong."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ClearwellError(f"{path}: cannot read: {exc.strerror}") from None
    trusted = None
    if public_key is not None:
        try:
            trusted = load_public_pem(public_key.read_bytes(), str(public_key))
        except OSError as exc:
            raise ClearwellError(f"{public_key}: cannot read: {exc.strerror}") from None
    result = bundle.verify(data, trusted)
    typer.echo(bundle.describe(result), err=not result.ok)
    return result.ok


def verify(
    path: Annotated[
        Path | None, typer.Argument(help="an export bundle (zip) to check instead")
    ] = None,
    public_key: Annotated[
        Path | None,
        typer.Option("--public-key", help="the site's public key (PEM) to check a bundle against"),
    ] = None,
) -> None:
    """Check the audit log's hash chain, or an export bundle's files and signature."""
    # One command for both because a regulator holding a bundle and a plant holding
    # the database ask the same question; the bundle's format is the exports'.
    if path is not None:
        if not verify_bundle(path, public_key):
            raise ClearwellError(f"{path}: bundle NOT verified (see the problems above)")
        return
    if public_key is not None:
        raise ClearwellError("--public-key goes with a bundle PATH")
    verify_chain()


def register(app: typer.Typer) -> None:
    app.add_typer(export_app, name="export")
    app.command("verify")(verify)
