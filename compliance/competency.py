"""Competency levels and the site's supervision policy: a site policy, never a regulation.

The competency framework for O*NET 51-8031.00 (seed 000) describes four levels, emerging <
developing < proficient < advanced, and how entry-level work is done: readings recorded "with
supervisor verification", chemical additions "under direct supervision". A site turns that
into a policy, per entry kind: the level needed to record it unsupervised and, below it,
whether a later verification by a qualified person suffices (``verify``) or a qualified
verifier must have been on site at the entry's time (``direct``). ``DEFAULT_POLICY`` is the
table of issue 15, each row quoting the framework statement it rests on.

Pure data and small functions; the engine applies them to entries (``compliance.engine``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Literal

Level = Literal["emerging", "developing", "proficient", "advanced"]
LEVELS: tuple[Level, ...] = ("emerging", "developing", "proficient", "advanced")
RANK: dict[str, int] = {level: i for i, level in enumerate(LEVELS)}

Supervision = Literal["verify", "direct"]
SUPERVISION: tuple[Supervision, ...] = ("verify", "direct")

# A verifier holds a valid certificate and is at least this level (issue 15).
VERIFIER_LEVEL: Level = "proficient"

FRAMEWORK = "Competency framework 51-8031.00 (site policy)"


@dataclass(frozen=True, slots=True)
class Assessment:
    """A person's assessed level at a site from ``assessed_on`` (a local date). Records are
    append-only: a correction is a new assessment whose ``supersedes`` names the old one's
    ``id``."""

    level: Level
    assessed_on: date
    assessor: str | None = None
    note: str = ""
    id: str | None = None
    supersedes: str | None = None


@dataclass(frozen=True, slots=True)
class KindRule:
    """What an entry kind needs: ``unsupervised_from`` a level; below it, ``below``."""

    unsupervised_from: Level
    below: Supervision
    # The framework statement the rule rests on, quoted, and the level it is listed under.
    statement_level: Level
    statement: str

    def citation(self) -> str:
        return f"{FRAMEWORK}, {self.statement_level}: {self.statement}"


@dataclass(frozen=True)
class CompetencyPolicy:
    kinds: Mapping[str, KindRule]
    unknown: KindRule  # a kind the table does not name (read as a note)

    def rule(self, kind: str | None) -> KindRule:
        if kind is None:
            return self.unknown
        return self.kinds.get(kind, self.unknown)


# The framework's statements (seed 000), word for word.
_READINGS = KindRule(
    "developing",
    "verify",
    "emerging",
    "Operational data forms and meter readings — record accurately on standardized log sheets "
    "with supervisor verification.",
)
_SHIFT_DATA = KindRule(
    "developing",
    "verify",
    "emerging",
    "Compliance software and paper log templates — enter shift data into designated fields "
    "with guidance from a supervising operator.",
)
_MALFUNCTIONS = KindRule(
    "developing",
    "verify",
    "developing",
    "Malfunctions and load requirement changes — detect by monitoring gauges, meters, and "
    "equipment indicators during routine operations and escalate appropriately.",
)
_INSPECTION = KindRule(
    "developing",
    "verify",
    "developing",
    "Filter beds and sedimentation tanks — clean and inspect on a recurring maintenance "
    "schedule, documenting findings in plant records.",
)
_CHEMICALS = KindRule(
    "developing",
    "direct",
    "emerging",
    "Chemical addition procedures for chlorine and lime — follow written protocols under "
    "direct supervision in a treatment plant setting.",
)
_SAMPLES = KindRule(
    "developing",
    "direct",
    "emerging",
    "Water and sewage samples — collect and label under direct supervisor guidance at a "
    "municipal treatment facility.",
)
_TESTS = KindRule(
    "developing",
    "direct",
    "emerging",
    "Test equipment and color analysis standards — apply to perform basic water quality checks "
    "on shift under close oversight.",
)
_LUBRICATION = KindRule(
    "developing",
    "direct",
    "emerging",
    "Equipment lubrication schedules — follow step-by-step instructions to apply lubricants to "
    "designated machinery under supervision.",
)
_CLEANING = KindRule(
    "developing",
    "direct",
    "emerging",
    "Hand tools and basic cleaning implements — use to clean filter beds and tank surfaces as "
    "directed by a senior operator.",
)
_CONTROLS = KindRule(
    "developing",
    "direct",
    "developing",
    "Equipment control panels and process controls — adjust with reduced oversight to maintain "
    "flow rates and treatment levels within normal operating parameters.",
)

DEFAULT_POLICY = CompetencyPolicy(
    kinds={
        "reading": _READINGS,
        "note": _SHIFT_DATA,
        "observation": _SHIFT_DATA,
        "safety": _SHIFT_DATA,
        "alarm_ack": _MALFUNCTIONS,
        "inspection": _INSPECTION,
        "chemical_addition": _CHEMICALS,
        "sample": _SAMPLES,
        "lab_result": _TESTS,
        "maintenance": _LUBRICATION,
        "cleaning": _CLEANING,
        "process_adjustment": _CONTROLS,
    },
    unknown=_SHIFT_DATA,
)


def policy_with(
    changes: Mapping[str, tuple[Level, Supervision]], base: CompetencyPolicy = DEFAULT_POLICY
) -> CompetencyPolicy:
    """A site's policy: ``base`` with some kinds' (unsupervised_from, below) changed. A kind
    keeps the framework statement it rests on (an unknown kind, a note's)."""
    kinds = dict(base.kinds)
    for kind, (level, below) in changes.items():
        kinds[kind] = replace(base.rule(kind), unsupervised_from=level, below=below)
    return CompetencyPolicy(kinds, base.unknown)


def in_force(assessments: Iterable[Assessment]) -> tuple[Assessment, ...]:
    """The assessments no later one supersedes."""
    records = tuple(assessments)
    superseded = {a.supersedes for a in records if a.supersedes is not None}
    return tuple(a for a in records if a.id is None or a.id not in superseded)


def assessment_on(assessments: Iterable[Assessment], day: date) -> Assessment | None:
    """The assessment that gives the level on local ``day``: the newest in force assessed by
    then (of two on one day, the later recorded); None if none is on record."""
    best: Assessment | None = None
    for a in in_force(assessments):
        if a.assessed_on <= day and (best is None or a.assessed_on >= best.assessed_on):
            best = a
    return best


def level_on(assessments: Iterable[Assessment], day: date) -> Level:
    """The level on local ``day`` (``assessment_on``); none on record is emerging."""
    best = assessment_on(assessments, day)
    return best.level if best is not None else "emerging"


def supervision_by_kind(policy: CompetencyPolicy, level: Level) -> dict[str, tuple[str, ...]]:
    """What a person of ``level`` may record under ``policy``: the kinds it names, as
    ``unsupervised``, ``verify`` (verification later) and ``direct`` (direct supervision)."""
    out: dict[str, list[str]] = {"unsupervised": [], "verify": [], "direct": []}
    for kind, rule in policy.kinds.items():
        if RANK[level] >= RANK[rule.unsupervised_from]:
            out["unsupervised"].append(kind)
        else:
            out[rule.below].append(kind)
    return {k: tuple(v) for k, v in out.items()}


def verifier_problem(
    author: str, verifier: str, certified: bool, level: Level, on_record: bool = True
) -> str | None:
    """Why ``verifier`` (certified or not, of ``level``, at the time that counts) may not
    verify ``author``'s entry, to follow "who"; None if they may. ``on_record`` False: the
    level is emerging because none was recorded, which the phrase says, so that the floor
    tells the chief operator what to record rather than an assessment nobody made."""
    if verifier == author:
        return "is its author"
    if not certified:
        return "held no valid certificate then"
    if RANK[level] < RANK[VERIFIER_LEVEL] and not on_record:
        return (
            f"had no competency level on record then (counted as {level}; a verifier is at"
            f" least {VERIFIER_LEVEL}: the chief operator records levels)"
        )
    if RANK[level] < RANK[VERIFIER_LEVEL]:
        return f"was assessed {level} then (a verifier is at least {VERIFIER_LEVEL})"
    return None
