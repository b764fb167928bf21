"""Database rows -> ``compliance.model``: one facility's facts for a period, in a few queries.

The pure half (``profiles_in_force``, ``facility_from``, ``shifts_from``, the row builders)
turns rows into the engine's input; ``load`` runs the queries, pipelined so the independent
ones share a round trip. Nothing here judges anything: ``compliance.engine.check`` does.

What the logbook records, as the engine sees it:

- a shift runs from ``opened_at`` to its closure, or to ``now`` while it is open;
- each ``shift_crew`` row is one stint on site, from ``arrived_at`` to its departure (or the
  shift's end), with crew amendments (``shift_role``, ``arrived_at``, ``left_at``) applied;
- an entry's time is its ``occurred_at`` with amendments applied; its author is
  ``recorded_by``; its kind is the logbook's; its verification is its countersignature
  (``entry_countersignatures``: who and when);
- a sample is an entry of kind ``sample`` by each sampler at its ``sampled_at``, a result
  with an analyst on record one of kind ``lab_result`` by the analyst at its
  ``analyzed_at`` (amendments applied), each verified by its countersignature
  (``sample_countersignatures``, ``result_countersignatures``);
- each person's competency assessments at the site, and the site's competency policy (the
  newest version; the default when none is recorded): levels are always loaded, so a
  person with no level on record counts as emerging.

People are identified to the engine by ``str(people.id)``; a grandfather certificate's
facility by the site's code.
"""

from __future__ import annotations

import gc
import heapq
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple, cast
from zoneinfo import ZoneInfo

import psycopg
from psycopg import pq

from clearwell.errors import ClearwellError
from clearwell.params import decimal_id
from compliance.classify import Classification
from compliance.competency import DEFAULT_POLICY, Assessment, CompetencyPolicy, Level
from compliance.grades import Grade, parse_grade
from compliance.jsonpath import Node
from compliance.model import (
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
from compliance.scenario import classify_item, read_policy
from logbook.amend import merge

# Shifts are found by when they opened; one that opened this long before the period and
# is still running at its start is missed. A forgotten open shift is not a real one.
SHIFT_LOOKBACK = timedelta(days=31)


class NoProfile(ClearwellError):
    """The facility has no compliance profile, so it has no class to judge against."""


class UnknownFacility(ClearwellError):
    pass


@dataclass(frozen=True)
class Site:
    id: int
    code: str
    name: str
    timezone: str
    state: str | None
    category: str | None


@dataclass(frozen=True)
class ProfileVersion:
    id: int
    site_id: int
    effective_from: date
    rules: str
    category: str
    facility_class: str | None
    points: Any
    population: float | None
    activated_sludge: bool
    processes_added: tuple[date, ...]
    expiry_horizon_days: int
    note: str
    recorded_by: int | None
    recorded_at: datetime
    employed_operators: int | None = None
    rating_changes: tuple[date, ...] = ()
    wastewater_type: str = "domestic"
    laboratory_reading: str = "ladder"

    def class_input(self) -> dict[str, Any]:
        """The fields ``compliance.scenario.classify_item`` reads (an itemized Utah object
        read as the version says, unless the object says itself)."""
        if self.facility_class is not None:
            return {"class": self.facility_class}
        if isinstance(self.points, dict):
            return {"points": {"laboratory_reading": self.laboratory_reading, **self.points}}
        if self.points is not None:
            return {"points": self.points}
        population = self.population
        if population is not None and float(population).is_integer():
            return {"population": int(population)}
        return {"population": float(population) if population is not None else None}

    def classify(self) -> Classification:
        return classify_item(self.class_input(), self.rules, self.category, self.activated_sludge)


PROFILES_SQL = (
    "SELECT id, site_id, effective_from, rules, category, facility_class, points, population,"
    " activated_sludge, processes_added, expiry_horizon_days, note, recorded_by, recorded_at,"
    " employed_operators, rating_changes, wastewater_type, laboratory_reading"
    " FROM facility_profiles WHERE site_id = %s ORDER BY id"
)


def profile_from_row(r: Sequence[Any]) -> ProfileVersion:
    return ProfileVersion(
        id=r[0],
        site_id=r[1],
        effective_from=r[2],
        rules=r[3],
        category=r[4],
        facility_class=r[5],
        points=r[6],
        population=float(r[7]) if r[7] is not None else None,
        activated_sludge=r[8],
        processes_added=tuple(r[9] or ()),
        expiry_horizon_days=r[10],
        note=r[11],
        recorded_by=r[12],
        recorded_at=r[13],
        employed_operators=r[14],
        rating_changes=tuple(r[15] or ()),
        wastewater_type=r[16],
        laboratory_reading=r[17],
    )


# --- pure: rows to model ---------------------------------------------------------------


def profiles_in_force(rows: Iterable[ProfileVersion]) -> list[ProfileVersion]:
    """Per ``effective_from``, the newest recorded version (a correction), by date."""
    best: dict[date, ProfileVersion] = {}
    for p in rows:
        seen = best.get(p.effective_from)
        if seen is None or (p.recorded_at, p.id) > (seen.recorded_at, seen.id):
            best[p.effective_from] = p
    return [best[d] for d in sorted(best)]


def version_at(versions: Sequence[ProfileVersion], day: date) -> ProfileVersion:
    """The version in force on local ``day``; before the first, the first (as the engine)."""
    current = [v for v in versions if v.effective_from <= day]
    return current[-1] if current else versions[0]


def facility_from(site: Site, versions: Sequence[ProfileVersion], day: date) -> Facility:
    """The facility as the engine takes it: classes from every version, the rest from the
    version in force on ``day`` (the engine holds one rule set, category and flag)."""
    if not versions:
        raise NoProfile(
            f"facility {site.code} has no compliance profile: POST one to "
            f"/api/compliance/facilities/{site.code}/profile"
        )
    current = version_at(versions, day)
    classes = []
    for v in versions:
        c = v.classify()
        classes.append(ClassPeriod(c.grade, v.effective_from, c.points))
    return Facility(
        id=site.code,
        name=site.name,
        state=current.rules,
        category=cast(Category, current.category),
        timezone=site.timezone,
        classes=tuple(classes),
        activated_sludge=current.activated_sludge,
        processes_added=tuple(sorted({d for v in versions for d in v.processes_added})),
        rating_changes=tuple(sorted({d for v in versions for d in v.rating_changes})),
        employed_operators=current.employed_operators,
        wastewater_type=cast(WasteType, current.wastewater_type),
    )


@dataclass
class CrewRow:
    crew_id: int
    person_id: int
    shift_role: str
    arrived_at: datetime
    left_at: datetime | None


@dataclass
class ShiftRow:
    id: int
    label: str
    opened_at: datetime
    closed_at: datetime | None
    crew: list[CrewRow]


def amend_crew(crew: CrewRow, changes: Iterable[Mapping[str, Any]]) -> CrewRow:
    """A crew stint with its amendments applied in order (``logbook.amend.merge``)."""
    current: dict[str, Any] = {
        "shift_role": crew.shift_role,
        "arrived_at": crew.arrived_at,
        "left_at": crew.left_at,
    }
    for c in changes:
        current = merge(current, c)
    return CrewRow(
        crew.crew_id,
        crew.person_id,
        current["shift_role"],
        current["arrived_at"],
        current["left_at"],
    )


def shifts_from(rows: Iterable[ShiftRow], now: datetime) -> tuple[Shift, ...]:
    """Engine shifts: an open shift runs until ``now``; a stint until its departure or the
    shift's end. A stint ending before it starts (a bad correction) is dropped."""
    out = []
    for s in rows:
        opened = s.opened_at.astimezone(UTC)
        end = (s.closed_at or max(now, s.opened_at)).astimezone(UTC)
        crew = []
        for c in s.crew:
            arrived = c.arrived_at.astimezone(UTC)
            left = c.left_at.astimezone(UTC) if c.left_at else end
            spans = ((arrived, left),) if left > arrived else ()
            crew.append(CrewMember(str(c.person_id), cast(Role, c.shift_role), spans))
        if end > opened:
            out.append(Shift(str(s.id), opened, end, tuple(crew)))
    return tuple(out)


_GRADES: dict[str, Grade] = {}


def grade_of(text: str) -> Grade:
    g = _GRADES.get(text)
    if g is None:
        g = _GRADES[text] = parse_grade(text)
    return g


def certificate_from_row(r: Sequence[Any]) -> Certificate:
    """(id, person_id, state, category, grade, number, kind, facility code, issued, expires,
    type)"""
    return Certificate(
        id=r[5] or f"#{r[0]}",
        state=r[2],
        category=cast(Category, r[3]),
        grade=grade_of(r[4]),
        kind=cast(Kind, r[6]),
        issued=r[8],
        expires=r[9],
        facility=r[7],
        type=cast(WasteType, r[10]),
    )


def training_from_row(r: Sequence[Any]) -> TrainingRecord:
    """(id, person_id, taken_on, hours, online, approved, title)"""
    return TrainingRecord(r[2], float(r[3]), r[4], r[5], r[6] or None)


def assessment_from_row(r: Sequence[Any]) -> Assessment:
    """(id, person_id, level, assessed_on, assessor_id, note, supersedes)"""
    return Assessment(
        level=cast(Level, r[2]),
        assessed_on=r[3],
        assessor=str(r[4]),
        note=r[5],
        id=str(r[0]),
        supersedes=str(r[6]) if r[6] is not None else None,
    )


def policy_from(kinds: Mapping[str, Any] | None) -> CompetencyPolicy:
    """The site's competency policy from its newest recorded version's changes to the
    default (``competency_policies.kinds``); none recorded is the default."""
    if kinds is None:
        return DEFAULT_POLICY
    return read_policy(Node(dict(kinds)))


def operators_from(
    names: Mapping[int, str],
    certificates: Iterable[Sequence[Any]],
    training: Iterable[Sequence[Any]],
    assessments: Iterable[Sequence[Any]] = (),
) -> tuple[Operator, ...]:
    certs: dict[int, list[Certificate]] = defaultdict(list)
    for r in certificates:
        certs[r[1]].append(certificate_from_row(r))
    train: dict[int, list[TrainingRecord]] = defaultdict(list)
    for r in training:
        train[r[1]].append(training_from_row(r))
    levels: dict[int, list[Assessment]] = defaultdict(list)
    for r in assessments:
        levels[r[1]].append(assessment_from_row(r))
    return tuple(
        Operator(
            str(pid),
            name,
            tuple(certs.get(pid, ())),
            tuple(train.get(pid, ())),
            tuple(levels.get(pid, ())),
        )
        for pid, name in sorted(names.items())
    )


# --- queries ---------------------------------------------------------------------------

SITE_SQL = "SELECT id, code, name, timezone, state, category FROM sites"

SHIFTS_SQL = """
SELECT s.id, s.label, s.opened_at, c.closed_at, m.id, m.person_id, m.shift_role, m.arrived_at,
       d.left_at
FROM shifts s
LEFT JOIN shift_closures c ON c.shift_id = s.id
LEFT JOIN shift_crew m ON m.shift_id = s.id
LEFT JOIN crew_departures d ON d.crew_id = m.id
WHERE s.site_id = %(site)s AND s.opened_at < %(end)s AND s.opened_at >= %(lookback)s
  AND coalesce(c.closed_at, 'infinity') > %(start)s
ORDER BY s.opened_at, s.id, m.id
"""

CREW_AMENDMENTS_SQL = """
SELECT a.target_id, a.changes
FROM amendments a
JOIN shift_crew m ON m.id = a.target_id
JOIN shifts s ON s.id = m.shift_id
LEFT JOIN shift_closures c ON c.shift_id = s.id
WHERE a.target = 'crew' AND s.site_id = %(site)s AND s.opened_at < %(end)s
  AND s.opened_at >= %(lookback)s AND coalesce(c.closed_at, 'infinity') > %(start)s
ORDER BY a.id
"""

# An entry's time is its occurred_at as last amended. Moved entries are few: they are
# found from the amendments, so entries whose original time is outside the period but
# were moved into it are not missed. The rows come back as seven arrays, in time order: a
# year is 100,000 entries, and arrays decode several times faster than rows.
ENTRIES_SQL = """
WITH moved AS (
    SELECT DISTINCT ON (a.target_id) a.target_id, (a.changes->>'occurred_at')::timestamptz AS t
    FROM amendments a JOIN entries x ON x.id = a.target_id
    WHERE a.target = 'entry' AND a.changes ? 'occurred_at' AND x.site_id = %(site)s
    ORDER BY a.target_id, a.id DESC
), picked AS (
    SELECT e.id, coalesce(m.t, e.occurred_at) AS t, e.recorded_by, e.operational,
           cs.person_id AS countersigned_by, e.kind, cs.signed_at AS countersigned_at
    FROM entries e
    LEFT JOIN moved m ON m.target_id = e.id
    LEFT JOIN entry_countersignatures cs ON cs.entry_id = e.id
    WHERE e.site_id = %(site)s
      AND ((e.occurred_at >= %(start)s AND e.occurred_at < %(end)s)
           OR e.id IN (SELECT target_id FROM moved))
), ordered AS (
    SELECT * FROM picked WHERE t >= %(start)s AND t < %(end)s ORDER BY t, id
)
SELECT coalesce(array_agg(id), '{}'), coalesce(array_agg(t), '{}'),
       coalesce(array_agg(recorded_by), '{}'), coalesce(array_agg(operational), '{}'),
       coalesce(array_agg(countersigned_by), '{}'), coalesce(array_agg(kind), '{}'),
       coalesce(array_agg(countersigned_at), '{}')
FROM ordered
"""


# Samples and results, as entries of the policy's kinds ``sample`` and ``lab_result``. Their
# times as last amended (a result's analyst too); moved ones found from the amendments.
SAMPLE_ENTRIES_SQL = """
WITH moved AS (
    SELECT DISTINCT ON (a.target_id) a.target_id, (a.changes->>'sampled_at')::timestamptz AS t
    FROM amendments a JOIN samples x ON x.id = a.target_id
    WHERE a.target = 'sample' AND a.changes ? 'sampled_at' AND x.site_id = %(site)s
    ORDER BY a.target_id, a.id DESC
), picked AS (
    SELECT s.id, coalesce(m.t, s.sampled_at) AS t, cs.person_id, cs.signed_at
    FROM samples s
    LEFT JOIN moved m ON m.target_id = s.id
    LEFT JOIN sample_countersignatures cs ON cs.sample_id = s.id
    WHERE s.site_id = %(site)s
      AND ((s.sampled_at >= %(start)s AND s.sampled_at < %(end)s)
           OR s.id IN (SELECT target_id FROM moved))
)
SELECT p.id, p.t, array_agg(ss.person_id ORDER BY ss.person_id), p.person_id, p.signed_at
FROM picked p JOIN sample_samplers ss ON ss.sample_id = p.id
WHERE p.t >= %(start)s AND p.t < %(end)s
GROUP BY p.id, p.t, p.person_id, p.signed_at
ORDER BY p.t, p.id
"""

RESULT_ENTRIES_SQL = """
WITH changed AS (
    SELECT DISTINCT ON (a.target_id, k.key) a.target_id, k.key, k.value
    FROM amendments a
    JOIN sample_results r ON r.id = a.target_id
    JOIN samples s ON s.id = r.sample_id
    CROSS JOIN LATERAL jsonb_each(a.changes) k
    WHERE a.target = 'result' AND s.site_id = %(site)s AND k.key IN ('analyzed_at', 'analyst_id')
    ORDER BY a.target_id, k.key, a.id DESC
), picked AS (
    SELECT r.id,
           coalesce((SELECT (c.value #>> '{}')::timestamptz FROM changed c
                     WHERE c.target_id = r.id AND c.key = 'analyzed_at'), r.analyzed_at) AS t,
           CASE WHEN EXISTS (SELECT 1 FROM changed c
                             WHERE c.target_id = r.id AND c.key = 'analyst_id')
                THEN (SELECT (c.value #>> '{}')::integer FROM changed c
                      WHERE c.target_id = r.id AND c.key = 'analyst_id')
                ELSE r.analyst_id END AS analyst,
           cs.person_id, cs.signed_at
    FROM sample_results r
    JOIN samples s ON s.id = r.sample_id
    LEFT JOIN result_countersignatures cs ON cs.result_id = r.id
    WHERE s.site_id = %(site)s
      AND ((r.analyzed_at >= %(start)s AND r.analyzed_at < %(end)s)
           OR r.id IN (SELECT target_id FROM changed))
)
SELECT id, t, analyst, person_id, signed_at FROM picked
WHERE t >= %(start)s AND t < %(end)s AND analyst IS NOT NULL
ORDER BY t, id
"""


def _utc(t: datetime | None) -> datetime | None:
    return t if t is None or t.tzinfo is UTC else t.astimezone(UTC)


def entries_from_arrays(
    ids: Sequence[int],
    times: Sequence[datetime],
    authors: Sequence[int],
    operational: Sequence[bool],
    countersigners: Sequence[int | None],
    kinds: Sequence[str],
    countersigned_at: Sequence[datetime | None],
) -> tuple[Entry, ...]:
    """Engine entries from the seven arrays of ``ENTRIES_SQL``, in time order."""
    if times and times[0].tzinfo is not UTC:
        times = [t.astimezone(UTC) for t in times]
    people = {p: str(p) for p in {*authors, *countersigners} if p is not None}
    people_or_none: dict[int | None, str | None] = dict(people.items())
    people_or_none[None] = None
    entries = tuple(
        map(
            Entry,
            map(str, ids),
            times,
            map(people.__getitem__, authors),
            operational,
            map(people_or_none.__getitem__, countersigners),
            kinds,
            map(_utc, countersigned_at),
        )
    )
    # array_agg keeps its sorted input's order in practice; make sure of it.
    if any(a.time > b.time for a, b in zip(entries, entries[1:], strict=False)):
        entries = tuple(sorted(entries, key=lambda e: (e.time, int(e.id))))
    return entries


CERTIFICATES_SQL = """
SELECT c.id, c.person_id, c.state, c.category, c.grade, c.number, c.kind, f.code, c.issued,
       c.expires, c.type
FROM operator_certificates c
LEFT JOIN sites f ON f.id = c.facility_id
WHERE c.person_id = ANY(%s)
  AND NOT EXISTS (SELECT 1 FROM operator_certificates n WHERE n.supersedes = c.id)
  AND NOT EXISTS (SELECT 1 FROM operator_certificate_retractions r WHERE r.certificate_id = c.id)
ORDER BY c.person_id, c.issued, c.id
"""

TRAINING_SQL = """
SELECT t.id, t.person_id, t.taken_on, t.hours, t.online, t.approved, t.title
FROM operator_training t
WHERE t.person_id = ANY(%s)
  AND NOT EXISTS (SELECT 1 FROM operator_training n WHERE n.supersedes = t.id)
  AND NOT EXISTS (SELECT 1 FROM operator_training_retractions r WHERE r.training_id = t.id)
ORDER BY t.person_id, t.taken_on, t.id
"""

ASSESSMENTS_SQL = """
SELECT a.id, a.person_id, a.level, a.assessed_on, a.assessor_id, a.note, a.supersedes
FROM competency_assessments a
WHERE a.site_id = %s AND a.person_id = ANY(%s)
ORDER BY a.person_id, a.assessed_on, a.id
"""

POLICY_SQL = "SELECT kinds FROM competency_policies WHERE site_id = %s ORDER BY id DESC LIMIT 1"

PEOPLE_SQL = "SELECT id, full_name FROM people WHERE id = ANY(%s)"


def in_pipeline(conn: psycopg.AsyncConnection[Any]) -> bool:
    """Whether ``conn`` is in pipeline mode (inside someone's ``conn.pipeline()``)."""
    return conn.pgconn.pipeline_status != pq.PipelineStatus.OFF


def _batched(conn: psycopg.AsyncConnection[Any]) -> AbstractAsyncContextManager[Any]:
    """A pipeline for independent queries; none of its own inside the caller's pipeline.

    A nested ``conn.pipeline()`` syncs on the way in and out: on the logbook's pipelined
    entry write that is two round trips per block, while the caller's pipeline already
    sends the queries together (each fetch flushes it).
    """
    if in_pipeline(conn):
        return nullcontext()
    return conn.pipeline()


class PeopleRecords(NamedTuple):
    """People's names and the rows ``operators_from`` takes."""

    names: dict[int, str]
    certificates: list[Any]
    training: list[Any]
    assessments: list[Any]


async def people_records(
    conn: psycopg.AsyncConnection[Any],
    ids: Sequence[int],
    *,
    with_training: bool = True,
    levels_at: int | None = None,
) -> PeopleRecords:
    """People's names and the rows of their certificates and training in force, and of
    their competency assessments at site ``levels_at`` if given, in one round trip."""
    async with _batched(conn):
        names_cur = await conn.execute(PEOPLE_SQL, (ids,))
        certs_cur = await conn.execute(CERTIFICATES_SQL, (ids,))
        train_cur = await conn.execute(TRAINING_SQL, (ids,)) if with_training else None
        levels_cur = (
            await conn.execute(ASSESSMENTS_SQL, (levels_at, ids)) if levels_at is not None else None
        )
        names = {r[0]: r[1] for r in await names_cur.fetchall()}
        cert_rows = await certs_cur.fetchall()
        train_rows = await train_cur.fetchall() if train_cur is not None else []
        level_rows = await levels_cur.fetchall() if levels_cur is not None else []
    return PeopleRecords(names, cert_rows, train_rows, level_rows)


async def resolve_site(conn: psycopg.AsyncConnection[Any], facility: str) -> Site:
    """A site by its code, or by its numeric id."""
    cur = await conn.execute(SITE_SQL + " WHERE code = %s", (facility,))
    row = await cur.fetchone()
    ident = decimal_id(facility)
    if row is None and ident is not None:
        cur = await conn.execute(SITE_SQL + " WHERE id = %s", (ident,))
        row = await cur.fetchone()
    if row is None:
        raise UnknownFacility(f"no facility with code or id {facility!r}")
    return Site(*row)


async def site_by_id(conn: psycopg.AsyncConnection[Any], site_id: int) -> Site:
    cur = await conn.execute(SITE_SQL + " WHERE id = %s", (site_id,))
    row = await cur.fetchone()
    if row is None:
        raise UnknownFacility(f"no facility with id {site_id}")
    return Site(*row)


async def person_sites(conn: psycopg.AsyncConnection[Any], person_id: int) -> list[int]:
    """The sites a person belongs to (the logbook's ``site_members``): where a record about
    them is, for the access matrix."""
    cur = await conn.execute(
        "SELECT site_id FROM site_members WHERE person_id = %s ORDER BY site_id", (person_id,)
    )
    return [int(r[0]) for r in await cur.fetchall()]


async def profile_versions(
    conn: psycopg.AsyncConnection[Any], site_id: int
) -> list[ProfileVersion]:
    """Every recorded version, in recording order."""
    cur = await conn.execute(PROFILES_SQL, (site_id,))
    return [profile_from_row(r) for r in await cur.fetchall()]


@dataclass(frozen=True)
class Loaded:
    """A scenario from the database, with what the API shows beside it."""

    site: Site
    profile: ProfileVersion
    scenario: Scenario
    names: Mapping[int, str]
    timings: Mapping[str, float]


@dataclass(frozen=True)
class EntryFact:
    id: int
    time: datetime
    author: int
    operational: bool
    countersigned_by: int | None
    kind: str | None = None
    countersigned_at: datetime | None = None

    def model(self) -> Entry:
        cs = self.countersigned_by
        return Entry(
            str(self.id),
            self.time.astimezone(UTC),
            str(self.author),
            self.operational,
            str(cs) if cs else None,
            self.kind,
            _utc(self.countersigned_at),
        )


def sample_entries_from(
    samples: Iterable[Sequence[Any]], results: Iterable[Sequence[Any]]
) -> tuple[Entry, ...]:
    """Engine entries for samples, (id, time, samplers, verifier, verified at), and results,
    (id, time, analyst, verifier, verified at), in time order. A sample taken by several
    people is an entry per sampler (``sample-ID-PERSON``), else ``sample-ID``; a result is
    ``result-ID``."""
    out: list[Entry] = []
    for sid, t, samplers, verifier, at in samples:
        for pid in samplers:
            ident = f"sample-{sid}" if len(samplers) == 1 else f"sample-{sid}-{pid}"
            out.append(_verified(ident, t, pid, "sample", verifier, at))
    for rid, t, analyst, verifier, at in results:
        out.append(_verified(f"result-{rid}", t, analyst, "lab_result", verifier, at))
    out.sort(key=lambda e: e.time)
    return tuple(out)


def _verified(
    ident: str, t: datetime, author: int, kind: str, verifier: int | None, at: datetime | None
) -> Entry:
    return Entry(
        ident,
        t.astimezone(UTC),
        str(author),
        False,
        str(verifier) if verifier is not None else None,
        kind,
        _utc(at),
    )


async def _entries(
    conn: psycopg.AsyncConnection[Any], site_id: int, start: datetime, end: datetime
) -> tuple[Entry, ...]:
    """The logbook's entries, samples and results in the period, in time order."""
    window = {"site": site_id, "start": start, "end": end}
    async with _batched(conn):
        cur = conn.cursor(binary=True)
        await cur.execute(ENTRIES_SQL, window)
        samples_cur = await conn.execute(SAMPLE_ENTRIES_SQL, window)
        results_cur = await conn.execute(RESULT_ENTRIES_SQL, window)
        row = await cur.fetchone()
        sample_rows = await samples_cur.fetchall()
        result_rows = await results_cur.fetchall()
    assert row is not None
    entries = entries_from_arrays(*row)
    if not sample_rows and not result_rows:
        return entries
    lab = sample_entries_from(sample_rows, result_rows)
    return tuple(heapq.merge(entries, lab, key=lambda e: e.time))


async def load(
    conn: psycopg.AsyncConnection[Any],
    site: Site,
    start: datetime,
    end: datetime,
    now: datetime,
    *,
    entries: Sequence[EntryFact] | None = None,
    with_training: bool = True,
) -> Loaded:
    """The facility's facts for ``[start, end)``; ``now`` ends the shifts still open.

    ``entries``: the entries to judge, if the caller has them (stamping); otherwise every
    entry at the facility whose (amended) time is in the period.
    """
    # As in the engine: a year is 100,000 small objects and no cycles, so the cyclic
    # collector would only re-scan them again and again while they are made.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return await _load(conn, site, start, end, now, entries, with_training)
    finally:
        if was_enabled:
            gc.enable()


async def _load(
    conn: psycopg.AsyncConnection[Any],
    site: Site,
    start: datetime,
    end: datetime,
    now: datetime,
    entries: Sequence[EntryFact] | None,
    with_training: bool,
) -> Loaded:
    t0 = time.perf_counter()
    if conn.pgconn.parameter_status(b"TimeZone") != b"UTC" and not conn.autocommit:
        # Timestamps then arrive with datetime.UTC as their tzinfo, which compares fast;
        # with a ZoneInfo each comparison in the engine's sweep asks it for the offset.
        await conn.execute("SET LOCAL TimeZone = 'UTC'")
    window = {"site": site.id, "start": start, "end": end, "lookback": start - SHIFT_LOOKBACK}
    # Independent queries: pipelined, they travel together.
    async with _batched(conn):
        profiles_cur = await conn.execute(PROFILES_SQL, (site.id,))
        policy_cur = await conn.execute(POLICY_SQL, (site.id,))
        shifts_cur = await conn.execute(SHIFTS_SQL, window)
        amend_cur = await conn.execute(CREW_AMENDMENTS_SQL, window)
        profile_rows = await profiles_cur.fetchall()
        policy_row = await policy_cur.fetchone()
        shift_rows = await shifts_cur.fetchall()
        amend_rows = await amend_cur.fetchall()
    if entries is None:
        models = await _entries(conn, site.id, start, end)
    else:
        models = tuple(e.model() for e in entries)
    t1 = time.perf_counter()

    versions = profiles_in_force(profile_from_row(r) for r in profile_rows)
    # The rule set, category and flags in force at the period's last moment.
    last_day = (max(start, end - timedelta(microseconds=1))).astimezone(ZoneInfo(site.timezone))
    facility = facility_from(site, versions, last_day.date())
    current = version_at(versions, last_day.date())

    changes: dict[int, list[Any]] = defaultdict(list)
    for crew_id, ch in amend_rows:
        changes[crew_id].append(ch)
    shifts: dict[int, ShiftRow] = {}
    for r in shift_rows:
        sh = shifts.get(r[0])
        if sh is None:
            sh = shifts[r[0]] = ShiftRow(r[0], r[1], r[2], r[3], [])
        if r[4] is not None:
            crew = CrewRow(r[4], r[5], r[6], r[7], r[8])
            if r[4] in changes:
                crew = amend_crew(crew, changes[r[4]])
            sh.crew.append(crew)

    people = {c.person_id for s in shifts.values() for c in s.crew}
    people.update(map(int, {e.author for e in models}))
    people.update(int(c) for c in {e.countersigned_by for e in models} if c is not None)
    ids = sorted(people)
    t2 = time.perf_counter()
    records = await people_records(conn, ids, with_training=with_training, levels_at=site.id)
    names = records.names
    t3 = time.perf_counter()

    scenario = Scenario(
        rules=current.rules,
        facility=facility,
        period=Period(start.astimezone(UTC), end.astimezone(UTC)),
        operators=operators_from(
            names, records.certificates, records.training, records.assessments
        ),
        shifts=shifts_from(shifts.values(), now),
        entries=models,
        expiry_horizon=timedelta(days=current.expiry_horizon_days),
        # Always the site's policy, so that a person with no level on record is emerging.
        competency=policy_from(policy_row[0] if policy_row else None),
    )
    t4 = time.perf_counter()
    return Loaded(
        site,
        current,
        scenario,
        names,
        {"query": (t1 - t0) + (t3 - t2), "build": (t2 - t1) + (t4 - t3)},
    )
