"""``clearwell export mor|dmr|logbook|bundle`` and ``clearwell verify`` (chain or bundle).

A month that cannot be exported (not YYYY-MM, before 1900, not begun at the plant) is one
line on stderr naming why and exit 1, as is every other refusal; the month in progress is
exported to date, and its files say so.

An export from the command line is attributed to the person named by ``--as``,
who must exist, hold a role that may export (regulator, chief operator, admin) and
give their password (asked for, or read from standard input with
``--password-stdin``), as a signature is; the audit row says so
(``authenticated: password``), and a wrong password is refused and audited. Whoever
runs the command can read every table with its database credentials anyway; the
password proves whose name goes on the export, not who may read.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import psycopg
import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from clearwell.db import CONNECT_TIMEOUT_S, explain_connect_error
from clearwell.errors import ClearwellError
from clearwell.settings import get_settings
from clearwell.signing_key import load_public_pem, trusted_keys
from dashboards.exports import bundle, service
from dashboards.exports.plant_day import parse_month
from logbook.cli import verify_database

export_app = typer.Typer(no_args_is_help=True, help="What regulators receive, for a month.")

Site = Annotated[str, typer.Option("--site", help="Site code, e.g. demo-wwtp")]
Month = Annotated[str, typer.Option("--month", help="YYYY-MM: plant days of that month")]
As = Annotated[
    str,
    typer.Option(
        "--as",
        help="Username the export is attributed to (regulator, chief, admin); their password"
        " is asked for",
    ),
]
PasswordStdin = Annotated[
    bool,
    typer.Option("--password-stdin", help="read --as's password from standard input"),
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
    kinds: tuple[str, ...],
    site: str,
    month: str,
    username: str,
    password: str,
    config: Path | None,
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
        await service.prove(conn, who, password)
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
                authenticated="password",
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
    kinds: tuple[str, ...],
    site: str,
    month: str,
    username: str,
    out: Path,
    config: Path | None,
    password_stdin: bool,
) -> None:
    # A month that is not one is named before the site file or the database is looked at
    # (and before a password is asked for).
    parse_month(month)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt(f"password of {username}", hide_input=True)
    files = asyncio.run(_export(kinds, site, month, username, password, config))
    for path in _write(files, out):
        typer.echo(f"wrote {path}")
    for name, data in files.items():
        chain = bundle.manifest_of(data).get("audit_chain") if name.endswith(".zip") else None
        if chain and not chain.get("verified"):
            typer.echo(
                f"WARNING: {name} says the audit chain did not verify: {chain.get('problem')};"
                " run `clearwell verify`",
                err=True,
            )


@export_app.command("mor")
def mor_command(
    site: Site,
    month: Month,
    as_: As,
    out: Out = Path("."),
    config: Config = None,
    password_stdin: PasswordStdin = False,
) -> None:
    """The Monthly Operating Report, as PDF and CSV."""
    _run(("mor.pdf", "mor.csv"), site, month, as_, out, config, password_stdin)


@export_app.command("dmr")
def dmr_command(
    site: Site,
    month: Month,
    as_: As,
    out: Out = Path("."),
    config: Config = None,
    password_stdin: PasswordStdin = False,
) -> None:
    """DMR values, one row per permit parameter, as CSV."""
    _run(("dmr.csv",), site, month, as_, out, config, password_stdin)


@export_app.command("logbook")
def logbook_command(
    site: Site,
    month: Month,
    as_: As,
    out: Out = Path("."),
    password_stdin: PasswordStdin = False,
) -> None:
    """Every logbook entry and lab result of the month with amendments and signatures:
    logbook CSV, lab CSV and one JSON file."""
    _run(service.LOGBOOK_KINDS, site, month, as_, out, None, password_stdin)


@export_app.command("bundle")
def bundle_command(
    site: Site,
    month: Month,
    as_: As,
    out: Out = Path("."),
    config: Config = None,
    password_stdin: PasswordStdin = False,
) -> None:
    """All of the above in a zip with a manifest of SHA-256s signed with the site's key,
    a signed checkpoint of the audit chain, and whether the chain verified."""
    _run(("bundle.zip",), site, month, as_, out, config, password_stdin)


def _data_dir() -> Path:
    """The data directory, also where no database is configured (a regulator's machine)."""
    try:
        return Path(get_settings().data_dir)
    except ClearwellError:
        return Path(os.environ.get("CLEARWELL_DATA_DIR", "var"))


def _pinned(public_key: Path | None) -> list[Ed25519PublicKey]:
    """``--public-key``'s key, else those the data directory trusts."""
    if public_key is None:
        return [k for _, k in trusted_keys(_data_dir())]
    try:
        return [load_public_pem(public_key.read_bytes(), str(public_key))]
    except OSError as exc:
        raise ClearwellError(f"{public_key}: cannot read: {exc.strerror}") from None


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ClearwellError(f"{path}: cannot read: {exc.strerror}") from None


def verify_bundle(path: Path, public_key: Path | None) -> bool:
    """Checks a bundle file against the pinned site key and prints what it found; False
    unless it verified against that key."""
    result = bundle.verify(_read(path), _pinned(public_key))
    typer.echo(bundle.describe(result), err=not result.ok)
    return result.ok


def _checkpoints_from(paths: list[Path]) -> list[tuple[str, Any]]:
    """The signed checkpoints in bundles (their manifest's) and checkpoint files."""
    out: list[tuple[str, Any]] = []
    for path in paths:
        data = _read(path)
        if path.suffix == ".zip":
            found = bundle.checkpoint_of(data)
            if found is None:
                raise ClearwellError(f"{path}: holds no audit checkpoint")
            out.append((str(path), found))
            continue
        for n, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
            if line.strip():
                try:
                    out.append((f"{path}:{n}", json.loads(line)))
                except ValueError as exc:
                    raise ClearwellError(f"{path}:{n}: not JSON: {exc}") from None
    return out


def verify(
    path: Annotated[
        Path | None, typer.Argument(help="an export bundle (zip) to check instead")
    ] = None,
    public_key: Annotated[
        Path | None,
        typer.Option(
            "--public-key",
            help="the site's public key (PEM) to check against (default: the data"
            " directory's site key and keys/trusted/*.pem)",
        ),
    ] = None,
    checkpoint: Annotated[
        list[Path] | None,
        typer.Option(
            "--checkpoint",
            help="a bundle, or a checkpoints file, whose signed audit checkpoint the"
            " database is compared with too (besides the data directory's)",
        ),
    ] = None,
) -> None:
    """Check the database (the audit chain, every record row against it, the chain against
    signed checkpoints), or an export bundle's files and signature."""
    # One command for both because a regulator holding a bundle and a plant holding
    # the database ask the same question; the bundle's format is the exports'.
    if path is not None:
        if checkpoint:
            raise ClearwellError("--checkpoint goes with checking the database, not a bundle")
        if not verify_bundle(path, public_key):
            raise ClearwellError(f"{path}: bundle NOT verified (see above)")
        return
    extra = _checkpoints_from(checkpoint or [])
    verify_database(extra, _pinned(public_key) if public_key else None)


def register(app: typer.Typer) -> None:
    app.add_typer(export_app, name="export")
    app.command("verify")(verify)
