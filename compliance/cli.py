"""The ``clearwell compliance`` commands: ``check SCENARIO.json``, ``classify FACILITY.json``."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from clearwell.errors import ClearwellError
from compliance.jsonpath import Node, ScenarioError
from compliance.timeutil import parse_instant

compliance_app = typer.Typer(no_args_is_help=True, help="Certified operators on duty and DRC.")


def _with_file(exc: ScenarioError, path: Path) -> ScenarioError:
    return ScenarioError(exc.path, f"{exc.problem} (in {path})")


@compliance_app.command("check")
def check_command(
    scenario: Annotated[Path, typer.Argument(help="Scenario JSON (see compliance/README.md)")],
    indent: Annotated[int, typer.Option(help="JSON indentation (0 for one line)")] = 2,
) -> None:
    """Run the engine on a scenario and print coverage and findings as JSON.

    Exits 0 whatever the findings; 1 for a file that is not a valid scenario.
    """
    from compliance.engine import check
    from compliance.scenario import load_scenario, read_json

    data = read_json(scenario)
    try:
        parsed = load_scenario(data)
    except ScenarioError as exc:
        raise _with_file(exc, scenario) from None
    report = check(parsed)
    typer.echo(json.dumps(report.to_dict(), indent=indent or None, ensure_ascii=False))


@compliance_app.command("classify")
def classify_command(
    facility: Annotated[Path, typer.Argument(help="Facility JSON, or a scenario holding one")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")] = False,
) -> None:
    """Print the point breakdown and class of a Utah or New York facility."""
    from compliance.rulesets import RULE_SETS, latest
    from compliance.scenario import read_facility, read_json

    data = read_json(facility)
    root = Node(data)
    try:
        root.obj()
        if root.has("facility"):  # a whole scenario: its rules name the state
            state = root.key("rules").choice(tuple(RULE_SETS))
            fac, history = read_facility(root.key("facility"), state)
        else:
            fac, history = read_facility(root)
    except ScenarioError as exc:
        raise _with_file(exc, facility) from None
    items: list[dict[str, Any]] = []
    for frm, c in history:
        items.append(
            {
                "from": frm.isoformat() if frm else None,
                "points": c.points,
                "class": latest(fac.state).show(c.grade),
                "breakdown": [
                    {"item": line.item, "points": line.points, "note": line.note}
                    for line in c.breakdown
                ],
                "citation": c.citation,
                **c.extra,
            }
        )
    if as_json:
        out = {"facility": fac.name, "state": fac.state, "category": fac.category}
        typer.echo(json.dumps({**out, "classes": items}, indent=2))
        return
    typer.echo(f"{fac.name} ({fac.state} {fac.category.replace('_', ' ')})")
    for item in items:
        if item["from"]:
            typer.echo(f"from {item['from']}:")
        for line in item["breakdown"]:
            note = f"  [{line['note']}]" if line["note"] else ""
            if item["points"] is None:  # classed by population, or entered: no points
                typer.echo(f"        {line['item']}{note}")
            else:
                typer.echo(f"  {line['points']:>4}  {line['item']}{note}")
        if item["points"] is not None:
            typer.echo(f"  {item['points']:>4}  TOTAL")
        extra = ""
        if "assistant_shift_operator" in item:
            extra = f" (chief {item['class']}, assistant/shift {item['assistant_shift_operator']})"
        typer.echo(f"  class {item['class']}{extra}  [{item['citation']}]")


async def _stamp(
    dsn: str,
    facility: str | None,
    recompute: bool,
    start: datetime | None,
    end: datetime | None,
    reason: str,
) -> str:
    import psycopg

    from compliance.adapter import resolve_site
    from compliance.stamping import recompute as recompute_stamps
    from compliance.stamping import stamp_pending

    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        site = None
        if facility is not None:
            async with conn.transaction():
                site = await resolve_site(conn, facility)
        if not recompute:
            n = await stamp_pending(conn, site.id if site else None)
            return f"stamped {n} entries"
        if site is None or start is None or end is None:
            raise ClearwellError("--recompute needs --facility, --start and --end")
        async with conn.transaction():
            stamped, revised = await recompute_stamps(conn, site, start, end, reason)
        return f"stamped {stamped} entries, revised {revised} stamps"


def _instant(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_instant(value)
    except ValueError as exc:
        raise ClearwellError(f"--{name}: {exc}") from None


@compliance_app.command("stamp")
def stamp_command(
    facility: Annotated[str | None, typer.Option(help="site code or id (default: all)")] = None,
    recompute: Annotated[
        bool, typer.Option(help="re-stamp a period; changed stamps get a revision row")
    ] = False,
    start: Annotated[
        str | None, typer.Option(help="--recompute: period start (ISO, offset)")
    ] = None,
    end: Annotated[str | None, typer.Option(help="--recompute: period end (ISO, offset)")] = None,
    reason: Annotated[str, typer.Option(help="--recompute: why, kept with each revision")] = (
        "recomputed from the records as they are now"
    ),
) -> None:
    """Stamp logbook entries with the certified operators on duty and the DRC at their time.

    Without --recompute, stamps the entries not stamped yet (facilities with a profile).
    """
    from clearwell.settings import get_settings

    dsn = get_settings().database_dsn
    message = asyncio.run(
        _stamp(dsn, facility, recompute, _instant(start, "start"), _instant(end, "end"), reason)
    )
    typer.echo(message)


def register(app: typer.Typer) -> None:
    app.add_typer(compliance_app, name="compliance")
