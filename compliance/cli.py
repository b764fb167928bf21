"""The ``clearwell compliance`` commands: ``check SCENARIO.json``, ``classify FACILITY.json``,
``stamp``, and the site's competency records: ``level add|list``, ``policy show|set FILE``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from pydantic import ValidationError

from clearwell.errors import ClearwellError
from clearwell.params import decimal_id
from compliance.jsonpath import Node, ScenarioError
from compliance.timeutil import parse_instant

if TYPE_CHECKING:
    import psycopg

    from compliance.adapter import Site

compliance_app = typer.Typer(no_args_is_help=True, help="Certified operators on duty and DRC.")
level_app = typer.Typer(
    no_args_is_help=True, help="Assessed competency levels at a site (a site policy)."
)
policy_app = typer.Typer(
    no_args_is_help=True, help="A site's competency policy (seed 000, not a state rule)."
)
compliance_app.add_typer(level_app, name="level")
compliance_app.add_typer(policy_app, name="policy")
T = TypeVar("T")


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


# --- competency levels and policy -------------------------------------------------------


@contextmanager
def _refusals(source: str = "") -> Iterator[None]:
    """What the services refuse, and bad input, as one line naming the field."""
    from compliance.adapter import UnknownFacility
    from compliance.services.errors import Refused

    where = f" (in {source})" if source else ""
    try:
        yield
    except Refused as exc:
        field = exc.field if isinstance(exc.field, str) else ".".join(exc.field)
        raise ClearwellError(f"{field}: {exc.problem}{where}") from None
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        raise ClearwellError(f"{field}: {err['msg']}{where}") from None
    except UnknownFacility as exc:
        raise ClearwellError(f"--facility: {exc}") from None


def _at_site(
    facility: str, work: Callable[[psycopg.AsyncConnection[Any], Site], Awaitable[T]]
) -> T:
    """``work(conn, site)`` in one transaction on the configured database."""
    from clearwell.settings import get_settings

    async def run() -> T:
        import psycopg

        from compliance.adapter import resolve_site

        dsn = get_settings().database_dsn
        async with await psycopg.AsyncConnection.connect(dsn) as conn, conn.transaction():
            return await work(conn, await resolve_site(conn, facility))

    return asyncio.run(run())


async def _person_id(conn: psycopg.AsyncConnection[Any], who: str, option: str) -> int:
    """A person by username, or by id."""
    ident = decimal_id(who)
    cur = await conn.execute(
        "SELECT id FROM people WHERE username = %s OR id = %s ORDER BY username = %s DESC",
        (who, ident, who),
    )
    row = await cur.fetchone()
    if row is None:
        raise ClearwellError(f"--{option}: no person with username or id {who!r}")
    return int(row[0])


CLI_ACTOR_LABEL = "cli"
FacilityOption = Annotated[str, typer.Option(help="site code or id")]


@level_app.command("add")
def level_add(
    facility: FacilityOption,
    person: Annotated[str, typer.Option(help="username or id of the person assessed")],
    level: Annotated[str, typer.Option(help="emerging, developing, proficient or advanced")],
    assessor: Annotated[str, typer.Option(help="username or id of who assessed them")],
    assessed_on: Annotated[
        str | None, typer.Option(help="local date the level holds from (default: today)")
    ] = None,
    note: Annotated[str, typer.Option(help="what the assessment rests on")] = "",
    supersedes: Annotated[
        int | None, typer.Option(help="the id of the assessment this one corrects")
    ] = None,
) -> None:
    """Record a person's assessed competency level at a site (append-only: a correction is a
    new assessment that supersedes the old one)."""
    from zoneinfo import ZoneInfo

    from compliance.services.levels import LevelIn, add_level
    from logbook.audit import Actor

    async def work(conn: psycopg.AsyncConnection[Any], site: Site) -> dict[str, Any]:
        today = datetime.now(ZoneInfo(site.timezone)).date()
        body = LevelIn.model_validate(
            {
                "facility": site.code,
                "person_id": await _person_id(conn, person, "person"),
                "level": level,
                "assessed_on": assessed_on or today.isoformat(),
                "assessor_id": await _person_id(conn, assessor, "assessor"),
                "note": note,
                "supersedes": supersedes,
            }
        )
        return await add_level(conn, Actor(None, CLI_ACTOR_LABEL), site, body, today)

    with _refusals():
        row = _at_site(facility, work)
    typer.echo(
        f"recorded assessment {row['id']}: {row['name']} {row['level']} from "
        f"{row['assessed_on']} (assessed by {row['assessor']})"
    )


@level_app.command("list")
def level_list(
    facility: FacilityOption,
    person: Annotated[str | None, typer.Option(help="username or id (default: everyone)")] = None,
    all_versions: Annotated[bool, typer.Option(help="include superseded assessments")] = False,
) -> None:
    """List the assessments at a site and each person's level today."""
    from zoneinfo import ZoneInfo

    from compliance.services.levels import levels_on, listing

    async def work(
        conn: psycopg.AsyncConnection[Any], site: Site
    ) -> tuple[list[dict[str, Any]], date]:
        pid = await _person_id(conn, person, "person") if person else None
        today = datetime.now(ZoneInfo(site.timezone)).date()
        return await listing(conn, site, pid, True), today

    with _refusals():
        rows, today = _at_site(facility, work)
    for r in rows:
        if all_versions or r["in_force"]:
            flag = "  (superseded)" if r["superseded"] else ""
            fixes = f"  corrects {r['supersedes']}" if r["supersedes"] else ""
            typer.echo(
                f"{r['id']:>5}  {r['name']:<28} {r['level']:<11} from {r['assessed_on']}"
                f"  by {r['assessor']}{fixes}{flag}"
            )
    typer.echo(f"levels on {today.isoformat()}:")
    for c in levels_on(rows, today):
        held = f"since {c['assessed_on']}, by {c['assessor']}" if c["on_record"] else "none yet"
        typer.echo(f"  {c['name']:<28} {c['level']:<11} ({held})")


@policy_app.command("show")
def policy_show(
    facility: FacilityOption,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")] = False,
) -> None:
    """Show the site's competency policy in force, kind by kind."""
    from compliance.services.policy import policy_body, versions

    async def work(conn: psycopg.AsyncConnection[Any], site: Site) -> dict[str, Any]:
        return policy_body(site, await versions(conn, site))

    with _refusals():
        body = _at_site(facility, work)
    if as_json:
        typer.echo(json.dumps(body, indent=2, default=str, ensure_ascii=False))
        return
    for line in _policy_lines(body):
        typer.echo(line)


def _policy_lines(body: dict[str, Any]) -> list[str]:
    source = "the default" if body["default"] else f"version {body['current']['id']}"
    lines = [f"{body['site']['code']}: competency policy, {source} (a site policy, not a rule)"]
    for k in body["kinds"]:
        mark = "*" if k["changed"] else " "
        lines.append(
            f" {mark} {k['kind']:<19} unsupervised from {k['unsupervised_from']:<11}"
            f" below it: {k['below']}"
        )
    if any(k["changed"] for k in body["kinds"]):
        lines.append("   (* changed from the default)")
    return lines


@policy_app.command("set")
def policy_set(
    file: Annotated[
        Path,
        typer.Argument(
            help='JSON: the kinds changed from the default, {"reading": {"unsupervised_from":'
            ' "developing", "below": "verify"}, ...}; {} is the default'
        ),
    ],
    facility: FacilityOption,
    note: Annotated[str, typer.Option(help="why the policy changed")] = "",
) -> None:
    """Record a new version of the site's competency policy from FILE."""
    from compliance.scenario import read_json
    from compliance.services.policy import PolicyIn, policy_body, set_policy
    from logbook.audit import Actor

    data = read_json(file)
    with _refusals(str(file)):
        body = PolicyIn.model_validate({"kinds": data, "note": note})

    async def work(conn: psycopg.AsyncConnection[Any], site: Site) -> dict[str, Any]:
        return policy_body(site, await set_policy(conn, Actor(None, CLI_ACTOR_LABEL), site, body))

    with _refusals(str(file)):
        shown = _at_site(facility, work)
    for line in _policy_lines(shown):
        typer.echo(line)


def register(app: typer.Typer) -> None:
    app.add_typer(compliance_app, name="compliance")
