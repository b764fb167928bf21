"""The engine's input: plain frozen dataclasses, ids as strings, instants as aware UTC datetimes.

A database adapter builds these from rows; ``compliance.scenario`` builds them from JSON.
Nothing here does I/O or reads the clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import Literal
from zoneinfo import ZoneInfo

from compliance.competency import Assessment, CompetencyPolicy
from compliance.grades import Grade

Category = Literal["treatment", "collection", "small_lagoon"]
CATEGORIES: tuple[Category, ...] = ("treatment", "collection", "small_lagoon")

Kind = Literal["full", "restricted", "provisional", "grandfather"]
KINDS: tuple[Kind, ...] = ("full", "restricted", "provisional", "grandfather")

Role = Literal["drc", "chief", "assistant_chief", "shift_operator", "operator", "trainee"]
ROLES: tuple[Role, ...] = (
    "drc",
    "chief",
    "assistant_chief",
    "shift_operator",
    "operator",
    "trainee",
)

State = Literal["UT", "VT", "NY"]
STATES: tuple[State, ...] = ("UT", "VT", "NY")

# The wastewater a facility treats, and a certificate's type (VT §3(a), §6(a)).
WasteType = Literal["domestic", "industrial"]
WASTE_TYPES: tuple[WasteType, ...] = ("domestic", "industrial")


@dataclass(frozen=True, slots=True)
class Certificate:
    """One certificate. ``expires`` is the last local day it is in effect (UT: December 31)."""

    id: str
    state: str
    category: Category
    grade: Grade
    kind: Kind
    issued: date
    expires: date
    facility: str | None = None  # grandfather certificates: the one facility (UT R317-10-11 G)
    type: WasteType = "domestic"  # VT certificates state "the grade and type" (§6(a))


@dataclass(frozen=True, slots=True)
class TrainingRecord:
    date: date
    hours: float
    online: bool = False
    approved: bool = True  # VT §6(c)(ii): only pre-approved courses count
    title: str | None = None


@dataclass(frozen=True, slots=True)
class Operator:
    id: str
    name: str | None = None
    certificates: tuple[Certificate, ...] = ()
    training: tuple[TrainingRecord, ...] = ()
    # Assessed competency levels at the facility (seed 000, a site policy), superseded ones
    # included or not; none on record is emerging (when ``Scenario.competency`` is set).
    assessments: tuple[Assessment, ...] = ()

    def label(self) -> str:
        return f"{self.name} ({self.id})" if self.name else self.id


@dataclass(frozen=True, slots=True)
class ClassPeriod:
    """The facility's class from ``effective`` (local date; None = since always) onward."""

    grade: Grade
    effective: date | None = None
    points: int | None = None


@dataclass(frozen=True)
class Facility:
    name: str
    state: str
    category: Category
    timezone: str
    classes: tuple[ClassPeriod, ...]
    id: str | None = None
    activated_sludge: bool = False
    # Dates processes were added, and a collection system's rating changed, since grandfather
    # certificates were issued (UT R317-10-11 G).
    processes_added: tuple[date, ...] = ()
    rating_changes: tuple[date, ...] = ()
    # How many operators the facility employs; None: not on record. Only 1 makes that operator
    # in DRC (UT R317-10-4 I "In cases where only one operator is employed").
    employed_operators: int | None = None
    wastewater_type: WasteType = "domestic"  # VT §3(a): certificates of the type required

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def names(self) -> frozenset[str]:
        """What a grandfather certificate's ``facility`` may say to mean this facility."""
        return frozenset(n for n in (self.id, self.name) if n)


@dataclass(frozen=True, slots=True)
class CrewMember:
    operator: str
    role: Role
    # None means on site for the whole shift.
    on_site: tuple[tuple[datetime, datetime], ...] | None = None


@dataclass(frozen=True, slots=True)
class Shift:
    id: str
    start: datetime
    end: datetime
    crew: tuple[CrewMember, ...] = ()


@dataclass(frozen=True, slots=True)
class Entry:
    id: str
    time: datetime
    author: str
    operational: bool = False
    countersigned_by: str | None = None  # who verified it (the logbook's countersignature)
    kind: str | None = None  # the logbook's entry kind; None: not known (read as a note)
    countersigned_at: datetime | None = None  # when it was verified; None: not known


@dataclass(frozen=True, slots=True)
class Period:
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Scenario:
    """Everything one check needs; ``rules`` is the state whose rule pack applies."""

    rules: str
    facility: Facility
    period: Period
    operators: tuple[Operator, ...] = ()
    shifts: tuple[Shift, ...] = ()
    entries: tuple[Entry, ...] = ()
    # The site's horizon for `certificate-expiring` warnings.
    expiry_horizon: timedelta = field(default=timedelta(days=90))
    # The site's competency policy (seed 000), judged with the operators' ``assessments``.
    # None: the facts carry no assessed levels (a loader that does not read them): then the
    # trainee role is the only sign of an emerging operator, and anyone else records
    # unsupervised and, if certified, may verify; ``DEFAULT_POLICY`` judges the kinds.
    competency: CompetencyPolicy | None = None
