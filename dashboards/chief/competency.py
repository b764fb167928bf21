"""Who needs supervision for what: each person's competency level at the site and what the
site's policy lets them record at it (seed 000, a site policy). Pure, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from compliance.competency import DEFAULT_POLICY, assessment_on, supervision_by_kind
from compliance.model import Scenario


@dataclass(frozen=True, slots=True)
class PersonLevel:
    person_id: str
    name: str
    level: str
    on_record: bool  # False: no level on record, counted as emerging
    assessed_on: date | None
    assessor: str | None  # name
    note: str
    unsupervised: tuple[str, ...]  # entry kinds recorded unsupervised
    verify: tuple[str, ...]  # needing verification later
    direct: tuple[str, ...]  # needing direct supervision (a verifier on site)
    trainee: bool  # on a crew as trainee: emerging on those shifts, whatever the record


def person_levels(scenario: Scenario, day: date, names: Mapping[str, str]) -> list[PersonLevel]:
    """Per person in ``scenario`` (the month's crews and authors), the level on local ``day``
    and the kinds the site's policy lets them record unsupervised, with verification
    later, or under direct supervision; by name. ``names``: person id -> name."""
    policy = scenario.competency or DEFAULT_POLICY
    trainees = {m.operator for s in scenario.shifts for m in s.crew if m.role == "trainee"}
    out = []
    for op in scenario.operators:
        held = assessment_on(op.assessments, day)
        level = held.level if held is not None else "emerging"
        kinds = supervision_by_kind(policy, level)
        assessor = held.assessor if held is not None else None
        out.append(
            PersonLevel(
                person_id=op.id,
                name=names.get(op.id) or op.name or f"person {op.id}",
                level=level,
                on_record=held is not None,
                assessed_on=held.assessed_on if held is not None else None,
                assessor=names.get(assessor, f"person {assessor}") if assessor else None,
                note=held.note if held is not None else "",
                unsupervised=kinds["unsupervised"],
                verify=kinds["verify"],
                direct=kinds["direct"],
                trainee=op.id in trainees,
            )
        )
    return sorted(out, key=lambda p: (p.name.casefold(), p.person_id))
