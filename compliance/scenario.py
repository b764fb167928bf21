"""The scenario file: the engine's input written as JSON, read with JSON-path error messages.

Format (documented with examples in compliance/README.md)::

    {"rules": "UT", "facility": {...}, "operators": [...], "shifts": [...],
     "entries": [...], "period": {"start": ..., "end": ...}, "expiry_horizon_days": 90,
     "competency_policy": {...}}

A certificate the issuing state's rule does not allow (grade, old name, kind, type, term) is
refused here as at the API (``compliance.certificates``).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from clearwell.errors import ClearwellError
from compliance import classify
from compliance.certificates import CertificateProblem, certificate_problem, read_grade
from compliance.competency import (
    DEFAULT_POLICY,
    LEVELS,
    SUPERVISION,
    Assessment,
    CompetencyPolicy,
    Level,
    Supervision,
    policy_with,
)
from compliance.jsonpath import Node, ScenarioError
from compliance.model import (
    CATEGORIES,
    KINDS,
    ROLES,
    STATES,
    WASTE_TYPES,
    Category,
    Certificate,
    ClassPeriod,
    CrewMember,
    Entry,
    Facility,
    Kind,
    Operator,
    Period,
    Role,
    Scenario,
    Shift,
    TrainingRecord,
    WasteType,
)
from compliance.rulesets import RULE_SETS, latest

TOP_FIELDS = (
    "rules",
    "facility",
    "operators",
    "shifts",
    "entries",
    "period",
    "expiry_horizon_days",
    "competency_policy",
    "description",
)
FACILITY_FIELDS = (
    "id",
    "name",
    "state",
    "timezone",
    "category",
    "class",
    "points",
    "population",
    "activated_sludge",
    "history",
    "processes_added",
    "rating_changes",
    "employed_operators",
    "wastewater_type",
)
UT_PLANT_FIELDS = (
    "population_equivalent",
    "bod_lbs_per_day",
    "design_flow_mgd",
    "variation",
    "processes",
    "chemical_additions",
    "disinfection",
    "scada",
    "laboratory",
    "laboratory_reading",
)


def read_json(path: Path) -> Any:
    """Parse a JSON file; a missing file or bad syntax is a one-line ``ClearwellError``."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ClearwellError(f"{path}: no such file") from None
    except OSError as exc:
        raise ClearwellError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ClearwellError(
            f"{path}: line {exc.lineno} column {exc.colno}: not valid JSON ({exc.msg})"
        ) from None


# --- facility and classification -------------------------------------------------------


def _ut_plant(node: Node) -> classify.UtTreatmentPlant:
    node.obj(UT_PLANT_FIELDS)
    processes: list[str] = []
    variable: list[tuple[str, int]] = []
    names = (*classify.UT_PROCESSES, *classify.UT_VARIABLE_PROCESSES)
    if (p := node.opt("processes")) is not None:
        for item in p.items():
            if isinstance(item.value, dict):
                item.obj(("process", "points"))
                name = item.key("process").choice(tuple(classify.UT_VARIABLE_PROCESSES))
                _, low, high = classify.UT_VARIABLE_PROCESSES[name]
                pts = item.key("points").integer()
                if not low <= pts <= high:
                    raise item.key("points").fail(f"{name} scores {low} to {high} points")
                variable.append((name, pts))
            else:
                name = item.choice(names)
                if name in classify.UT_VARIABLE_PROCESSES:
                    raise item.fail(
                        f'{name} needs its points: {{"process": "{name}", "points": n}}'
                    )
                processes.append(name)
    pe = node.opt("population_equivalent")
    bod = node.opt("bod_lbs_per_day")
    if pe is None and bod is None:
        raise node.fail("population_equivalent or bod_lbs_per_day is required")
    lab = node.opt("laboratory")
    bact: tuple[str, ...] = ()
    chem: tuple[str, ...] = ()
    if lab is not None:
        lab.obj(("bacteriological", "chemical"))
        if (b := lab.opt("bacteriological")) is not None:
            bact = tuple(x.choice(tuple(classify.UT_LAB_BACTERIOLOGICAL)) for x in b.items())
        if (c := lab.opt("chemical")) is not None:
            chem = tuple(x.choice(tuple(classify.UT_LAB_CHEMICAL)) for x in c.items())
    dis = node.opt("disinfection")
    return classify.UtTreatmentPlant(
        design_flow_mgd=node.key("design_flow_mgd").number(minimum=0),
        population_equivalent=pe.number(minimum=0) if pe else None,
        bod_lbs_per_day=bod.number(minimum=0) if bod else None,
        variation=v.choice(tuple(classify.UT_VARIATION))
        if (v := node.opt("variation"))
        else "normal",
        processes=tuple(processes),
        variable_processes=tuple(variable),
        chemical_additions=c.integer(minimum=0) if (c := node.opt("chemical_additions")) else 0,
        disinfection=tuple(x.choice(tuple(classify.UT_DISINFECTION)) for x in dis.items())
        if dis
        else (),
        scada=s.choice(tuple(classify.UT_SCADA)) if (s := node.opt("scada")) else "none",
        lab_bacteriological=bact,
        lab_chemical=chem,
        laboratory_reading=r.choice(classify.LABORATORY_READINGS)
        if (r := node.opt("laboratory_reading"))
        else "ladder",
    )


def _classify_item(
    node: Node, state: str, category: str, activated_sludge: bool
) -> classify.Classification:
    """One class from ``class``, ``points`` or ``population`` in ``node``."""
    rules = latest(state)
    given = [k for k in ("class", "points", "population") if node.has(k)]
    if len(given) != 1:
        raise node.fail("needs exactly one of class, points or population")
    which = given[0]
    value = node.key(which)
    try:
        if which == "class":
            grade = value.grade()
            if problem := rules.grade_problem(grade, "class"):
                raise value.fail(problem)
            if rules.activated_sludge_series and grade.activated_sludge != activated_sludge:
                flag = "true" if activated_sludge else "false"
                raise value.fail(f"class {grade} does not match activated_sludge: {flag}")
            line = classify.Line("Class entered directly", 0)
            return classify.Classification(grade, None, (line,), "entered")
        if which == "points":
            if state == "VT":
                raise value.fail(
                    "Vermont's Appendix A point values are not on record; enter the class"
                )
            if state == "NY":
                return classify.ny_classify(value.integer(minimum=0), activated_sludge)
            if category != "treatment":
                raise value.fail(
                    f"a Utah {category.replace('_', ' ')} system is classed by population"
                )
            if isinstance(value.value, dict):
                return classify.ut_treatment_points(_ut_plant(value))
            return classify.Classification(
                classify.ut_treatment_class(value.integer(minimum=0)),
                value.integer(),
                (classify.Line("Facility points (summed)", value.integer()),),
                classify.UT_TABLE1,
            )
        if state != "UT" or category == "treatment":
            raise value.fail("population classes only Utah collection and small lagoon systems")
        if category == "collection":
            return classify.ut_collection(value.integer(minimum=0))
        return classify.ut_small_lagoon(value.number(minimum=0))
    except classify.ClassificationError as exc:
        raise value.fail(str(exc)) from None


def read_facility(
    node: Node, state: str | None = None
) -> tuple[Facility, list[tuple[date | None, classify.Classification]]]:
    """A facility and its classification history (``from`` dates, None for since always)."""
    node.obj(FACILITY_FIELDS)
    if (st := node.opt("state")) is not None:
        own = st.choice(STATES)
        if state is not None and own != state:
            raise st.fail(f"is {own} but the scenario's rules are {state}")
        state = own
    if state is None:
        raise node.key("state").fail("is required")
    rules = latest(state)
    tz_node = node.key("timezone")
    tz_name = tz_node.text()
    try:
        ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise tz_node.fail(f"{tz_name!r} is not an IANA time zone (e.g. America/Denver)") from None
    category = node.key("category").choice(tuple(rules.accepts))
    as_node = node.opt("activated_sludge")
    activated = as_node.flag() if as_node else False
    if activated and not rules.activated_sludge_series:
        raise cast(Node, as_node).fail("the activated-sludge flag applies to New York plants")
    history: list[tuple[date | None, classify.Classification]] = []
    if (h := node.opt("history")) is not None:
        if any(node.has(k) for k in ("class", "points", "population")):
            raise h.fail("give either history or class/points/population, not both")
        previous: date | None = None
        for i, item in enumerate(h.items()):
            item.obj(("from", "class", "points", "population"))
            frm = item.key("from").day() if item.has("from") else None
            if frm is None and i:
                raise item.key("from").fail("is required after the first item")
            if previous is not None and frm is not None and frm <= previous:
                raise item.key("from").fail("dates must increase")
            previous = frm
            history.append((frm, _classify_item(item, state, category, activated)))
        if not history:
            raise h.fail("must not be empty")
    else:
        history.append((None, _classify_item(node, state, category, activated)))
    waste = "domestic"
    if (w := node.opt("wastewater_type")) is not None:
        waste = w.choice(WASTE_TYPES)
        if waste not in rules.types:
            raise w.fail(f"{state} facilities have no {waste} type")
    facility = Facility(
        id=fid.ident() if (fid := node.opt("id")) else None,
        name=node.key("name").text(),
        state=state,
        category=cast(Category, category),
        timezone=tz_name,
        classes=tuple(ClassPeriod(c.grade, frm, c.points) for frm, c in history),
        activated_sludge=activated,
        processes_added=_days(node.opt("processes_added")),
        rating_changes=_days(node.opt("rating_changes")),
        employed_operators=e.integer(minimum=1) if (e := node.opt("employed_operators")) else None,
        wastewater_type=cast(WasteType, waste),
    )
    return facility, history


def _days(node: Node | None) -> tuple[date, ...]:
    return tuple(d.day() for d in node.items()) if node is not None else ()


# --- people ------------------------------------------------------------------------------


CERTIFICATE_FIELDS = (
    "id",
    "number",
    "state",
    "category",
    "grade",
    "legacy_grade",
    "kind",
    "type",
    "issued",
    "expires",
    "facility",
)


def _certificate(node: Node, owner: str, index: int) -> Certificate:
    node.obj(CERTIFICATE_FIELDS)
    state_node = node.key("state")
    state = state_node.text().upper()
    if len(state) != 2 or not state.isalpha():
        raise state_node.fail(f"{state_node.value!r} is not a two-letter state code")
    rules = latest(state) if state in RULE_SETS else None
    legacy = node.opt("legacy_grade")
    if rules is not None:
        try:
            grade = read_grade(
                rules,
                node.value.get("grade"),
                legacy.text() if legacy is not None else None,
            )
        except CertificateProblem as exc:
            raise Node(None, f"{node.path}.{exc.field}").fail(exc.problem) from None
    elif legacy is not None:
        raise legacy.fail("old certificate names are New York's (650.12 Table 4)")
    else:
        grade = node.key("grade").grade()
    kind = node.key("kind").choice(KINDS)
    waste = t.choice(WASTE_TYPES) if (t := node.opt("type")) else "domestic"
    issued = node.key("issued").day()
    expires = node.key("expires").day()
    facility = f.ident() if (f := node.opt("facility")) else None
    ident = node.opt("id") or node.opt("number")
    cert = Certificate(
        id=ident.ident() if ident else f"{owner}/{index + 1}",
        state=state,
        category=cast(Category, node.key("category").choice(CATEGORIES)),
        grade=grade,
        kind=cast(Kind, kind),
        issued=issued,
        expires=expires,
        facility=facility,
        type=cast(WasteType, waste),
    )
    if rules is not None and (problem := certificate_problem(cert, rules)) is not None:
        raise Node(None, f"{node.path}.{problem.field}").fail(problem.problem)
    if expires < issued:
        raise node.key("expires").fail(f"{expires} is before issued {issued}")
    if kind == "grandfather" and facility is None:
        raise Node(None, f"{node.path}.facility").fail(
            "a grandfather certificate names its one facility"
        )
    return cert


def _training(node: Node) -> TrainingRecord:
    node.obj(("date", "hours", "online", "approved", "title"))
    return TrainingRecord(
        date=node.key("date").day(),
        hours=node.key("hours").number(minimum=0),
        online=o.flag() if (o := node.opt("online")) else False,
        approved=a.flag() if (a := node.opt("approved")) is not None else True,
        title=t.text() if (t := node.opt("title")) else None,
    )


def _assessment(node: Node) -> Assessment:
    node.obj(("level", "assessed_on", "assessor", "note", "id", "supersedes"))
    return Assessment(
        level=cast(Level, node.key("level").choice(LEVELS)),
        assessed_on=node.key("assessed_on").day(),
        assessor=a.ident() if (a := node.opt("assessor")) else None,
        note=n.text() if (n := node.opt("note")) else "",
        id=i.ident() if (i := node.opt("id")) else None,
        supersedes=x.ident() if (x := node.opt("supersedes")) else None,
    )


def _operator(node: Node) -> Operator:
    node.obj(("id", "name", "certificates", "training", "levels"))
    op_id = node.key("id").ident()
    certs = node.opt("certificates")
    training = node.opt("training")
    levels = node.opt("levels")
    return Operator(
        id=op_id,
        name=n.text() if (n := node.opt("name")) else None,
        certificates=tuple(_certificate(c, op_id, i) for i, c in enumerate(certs.items()))
        if certs
        else (),
        training=tuple(_training(t) for t in training.items()) if training else (),
        assessments=tuple(_assessment(a) for a in levels.items()) if levels else (),
    )


def read_policy(node: Node | None) -> CompetencyPolicy:
    """The site's competency policy: the default table with the kinds ``node`` changes,
    ``{"reading": {"unsupervised_from": "emerging", "below": "verify"}, ...}``."""
    if node is None:
        return DEFAULT_POLICY
    node.obj()
    changes: dict[str, tuple[Level, Supervision]] = {}
    for kind in node.value:
        item = node.key(kind).obj(("unsupervised_from", "below"))
        rule = DEFAULT_POLICY.rule(kind)
        level = u.choice(LEVELS) if (u := item.opt("unsupervised_from")) else rule.unsupervised_from
        below = b.choice(SUPERVISION) if (b := item.opt("below")) else rule.below
        changes[kind] = (cast(Level, level), cast(Supervision, below))
    return policy_with(changes)


# --- shifts, entries, period -------------------------------------------------------------


def _shift(node: Node, index: int, operators: set[str]) -> Shift:
    node.obj(("id", "start", "end", "crew"))
    start = node.key("start").instant()
    end = node.key("end").instant()
    if end <= start:
        raise node.key("end").fail("must be after start")
    crew: list[CrewMember] = []
    if (c := node.opt("crew")) is not None:
        for member in c.items():
            member.obj(("operator", "role", "on_site"))
            op = member.key("operator")
            op_id = op.ident()
            if op_id not in operators:
                raise op.fail(f"{op_id!r} is not among the operators")
            role = member.key("role").choice(ROLES)
            on_site: tuple[tuple[Any, Any], ...] | None = None
            if (sites := member.opt("on_site")) is not None:
                pairs = []
                for pair in sites.items():
                    if not isinstance(pair.value, list) or len(pair.value) != 2:
                        raise pair.fail("must be a [start, end] pair")
                    a = Node(pair.value[0], f"{pair.path}[0]").instant()
                    b = Node(pair.value[1], f"{pair.path}[1]").instant()
                    if b <= a:
                        raise Node(None, f"{pair.path}[1]").fail("must be after the start")
                    if a < start or b > end:
                        raise pair.fail("must lie within the shift's start and end")
                    pairs.append((a, b))
                on_site = tuple(sorted(pairs))
            crew.append(CrewMember(op_id, cast(Role, role), on_site))
    ident = node.opt("id")
    return Shift(
        id=ident.ident() if ident else f"#{index + 1}",
        start=start,
        end=end,
        crew=tuple(crew),
    )


_ENTRY_ORDER = (
    "id",
    "time",
    "author",
    "kind",
    "operational",
    "countersigned_by",
    "countersigned_at",
    "text",
)
_ENTRY_FIELDS = frozenset(_ENTRY_ORDER)


def _entry_fast(raw: Any) -> Entry | None:
    """The common well-formed entry, read without path bookkeeping (a year has 100,000).

    Returns None for anything unusual; ``_entry`` then reads it again and names the problem.
    """
    if type(raw) is not dict or not raw.keys() <= _ENTRY_FIELDS:
        return None
    ident, when, author = raw.get("id"), raw.get("time"), raw.get("author")
    operational = raw.get("operational", False)
    cs = raw.get("countersigned_by")
    kind = raw.get("kind")
    if (
        type(ident) is not str
        or type(when) is not str
        or type(author) is not str
        or type(operational) is not bool
        or not (cs is None or type(cs) is str)
        or not (kind is None or type(kind) is str)
        or raw.get("countersigned_at") is not None
        or not ident.strip()
        or not author.strip()
        or (cs is not None and not cs.strip())
        or (kind is not None and not kind.strip())
    ):
        return None
    try:
        t = datetime.fromisoformat(when)
    except ValueError:
        return None
    if t.utcoffset() is None:
        return None
    return Entry(ident, t.astimezone(UTC), author, operational, cs, kind)


def _entry(node: Node) -> Entry:
    node.obj(_ENTRY_ORDER)
    cs = node.opt("countersigned_by")
    time = node.key("time").instant()
    at: datetime | None = None
    if (at_node := node.opt("countersigned_at")) is not None:
        if cs is None:
            raise at_node.fail("needs countersigned_by")
        at = at_node.instant()
        if at < time:
            raise at_node.fail("must not be before the entry's time")
    return Entry(
        id=node.key("id").ident(),
        time=time,
        author=node.key("author").ident(),
        operational=o.flag() if (o := node.opt("operational")) else False,
        countersigned_by=cs.ident() if cs else None,
        kind=k.text() if (k := node.opt("kind")) else None,
        countersigned_at=at,
    )


def _unique(nodes: list[Node], ids: list[str], what: str) -> None:
    seen: set[str] = set()
    for node, ident in zip(nodes, ids, strict=True):
        if ident in seen:
            raise node.fail(f"{what} {ident!r} appears twice")
        seen.add(ident)


def load_scenario(data: Any) -> Scenario:
    """Build a ``Scenario`` from parsed JSON; raises ``ScenarioError`` naming the JSON path."""
    root = Node(data).obj(TOP_FIELDS)
    state = root.key("rules").choice(tuple(RULE_SETS))
    facility, _ = read_facility(root.key("facility"), state)

    op_nodes = list(o.items()) if (o := root.opt("operators")) else []
    operators = [_operator(n) for n in op_nodes]
    _unique([n.key("id") for n in op_nodes], [op.id for op in operators], "operator")
    known = {op.id for op in operators}

    shift_nodes = list(s.items()) if (s := root.opt("shifts")) else []
    shifts = [_shift(n, i, known) for i, n in enumerate(shift_nodes)]
    _unique(shift_nodes, [sh.id for sh in shifts], "shift")

    entry_nodes = list(e.items()) if (e := root.opt("entries")) else []
    entries = [_entry_fast(n.value) or _entry(n) for n in entry_nodes]
    _unique(entry_nodes, [x.id for x in entries], "entry")

    p = root.key("period").obj(("start", "end"))
    period = Period(p.key("start").instant(), p.key("end").instant())
    if period.end <= period.start:
        raise p.key("end").fail("must be after start")
    horizon = h.integer(minimum=0) if (h := root.opt("expiry_horizon_days")) else 90
    competency = read_policy(root.opt("competency_policy"))
    return Scenario(
        rules=state,
        facility=facility,
        period=period,
        operators=tuple(operators),
        shifts=tuple(shifts),
        entries=tuple(entries),
        expiry_horizon=timedelta(days=horizon),
        competency=competency,
    )


def load_scenario_file(path: Path) -> Scenario:
    return load_scenario(read_json(path))


__all__ = ["ScenarioError", "load_scenario", "load_scenario_file", "read_facility", "read_json"]


def classify_item(
    item: dict[str, Any], state: str, category: str, activated_sludge: bool
) -> classify.Classification:
    """One class from a mapping holding ``class``, ``points`` or ``population``.

    For the database adapter, whose facility profiles store these same fields; errors are
    ``ScenarioError`` naming the JSON path from ``$`` (the mapping).
    """
    return _classify_item(Node(item), state, category, activated_sludge)
