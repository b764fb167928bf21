"""Who may verify an entry now: the site's competency policy (``compliance.competency``)
asked for one entry and one would-be verifier, before the logbook writes the verification
(a countersignature) at a floor terminal.

A verifier holds a valid certificate and is assessed at least proficient, and is not the
entry's author. For a kind the policy wants done under direct supervision, the verifier was
on site at the entry's time and these are judged at that time; for a kind verified later,
at the moment of verifying. As in the engine, a person on a shift as a trainee is emerging,
and with no assessed levels on record (``Scenario.competency`` None) anyone else counts as
proficient. ``verification_problem`` is pure; ``verification_problems`` loads the facts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from compliance.adapter import load, operators_from, people_records, site_by_id
from compliance.competency import (
    DEFAULT_POLICY,
    VERIFIER_LEVEL,
    Level,
    assessment_on,
    level_on,
    verifier_problem,
)
from compliance.model import Entry, Operator, Scenario
from compliance.qualification import build_timeline
from compliance.rulesets import RULE_SETS, RuleSet, rule_set_at


@dataclass(frozen=True)
class ToVerify:
    """An entry as the logbook has it: what the policy needs to judge its verification."""

    id: int
    kind: str
    time: datetime  # when it happened (amendments applied)
    author: int


def on_site(scenario: Scenario, person: str, t: datetime) -> bool:
    """Whether ``person`` was on site on a crew at ``t``."""
    for shift in scenario.shifts:
        if not shift.start <= t < shift.end:
            continue
        for member in shift.crew:
            if member.operator != person:
                continue
            stints = member.on_site if member.on_site is not None else ((shift.start, shift.end),)
            if any(arrived <= t < left for arrived, left in stints):
                return True
    return False


def _trainee_at(scenario: Scenario, person: str, t: datetime) -> bool:
    return any(
        shift.start <= t < shift.end
        and any(m.operator == person and m.role == "trainee" for m in shift.crew)
        for shift in scenario.shifts
    )


def _rules_at(
    scenario: Scenario, t: datetime, rule_sets: Mapping[str, Sequence[RuleSet]]
) -> RuleSet:
    versions = tuple(rule_sets[scenario.rules])
    day = t.astimezone(scenario.facility.tz).date()
    found = rule_set_at(versions, day)
    return found if found is not None else versions[0]


def _level(scenario: Scenario, operator: Operator | None, t: datetime) -> Level:
    if operator is None or _trainee_at(scenario, operator.id, t):
        return "emerging"
    if scenario.competency is None:
        return VERIFIER_LEVEL
    return level_on(operator.assessments, t.astimezone(scenario.facility.tz).date())


def verification_problem(
    scenario: Scenario,
    entry: Entry,
    verifier: str,
    at: datetime,
    rule_sets: Mapping[str, Sequence[RuleSet]] = RULE_SETS,
) -> str | None:
    """Why ``verifier`` may not verify ``entry`` at ``at``, as a phrase that follows the
    verifier's name ("held no valid certificate then"); None if they may."""
    policy = scenario.competency or DEFAULT_POLICY
    direct = policy.rule(entry.kind).below == "direct"
    if direct and verifier != entry.author and not on_site(scenario, verifier, entry.time):
        local = entry.time.astimezone(scenario.facility.tz)
        return (
            f"was not on site at {local:%H:%M}, when it was made: the site's policy wants "
            "this kind of entry done under direct supervision"
        )
    t = entry.time if direct else at
    operator = next((o for o in scenario.operators if o.id == verifier), None)
    certified = operator is not None and build_timeline(
        operator, scenario.facility, _rules_at(scenario, t, rule_sets)
    ).certified(t)
    on_record = (
        operator is None
        or _trainee_at(scenario, operator.id, t)
        or scenario.competency is None
        or assessment_on(operator.assessments, t.astimezone(scenario.facility.tz).date())
        is not None
    )
    level = _level(scenario, operator, t)
    return verifier_problem(entry.author, verifier, certified, level, on_record)


async def verification_problems(
    conn: psycopg.AsyncConnection[Any],
    site_id: int,
    entries: Sequence[ToVerify],
    verifier: int,
    now: datetime,
) -> dict[int, str | None]:
    """Per entry, why ``verifier`` may not verify it now (None: they may). Raises
    ``adapter.NoProfile`` for a site with no compliance profile."""
    if not entries:
        return {}
    site = await site_by_id(conn, site_id)
    start = min(e.time for e in entries).astimezone(UTC)
    end = max(now, start) + timedelta(microseconds=1)
    loaded = await load(conn, site, start, end, end, with_training=False)
    scenario = loaded.scenario
    if all(o.id != str(verifier) for o in scenario.operators):
        found = await people_records(conn, [verifier], with_training=False, levels_at=site.id)
        added = operators_from(found.names, found.certificates, (), found.assessments)
        scenario = replace(scenario, operators=scenario.operators + added)
    return {
        e.id: verification_problem(
            scenario,
            Entry(str(e.id), e.time.astimezone(UTC), str(e.author), kind=e.kind),
            str(verifier),
            now,
        )
        for e in entries
    }
