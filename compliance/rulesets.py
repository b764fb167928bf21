"""Rule packs per state: data plus small pure functions, every rule with the section behind it.

A state may have several rule sets over time; ``rule_set_at`` picks the one in force on a
local date. Only the versions present in the seed documents are written down: Utah R317-10 as
amended by DAR 30381 (effective 2007-10-22), the Vermont rule as amended 2014-09-25, and New
York 650.12 as compiled through 2023-03-15 (its effective date is not in the seed, so it is
treated as in force since before any date we check). Later amendments are not on record.

What differs between states is data here (who may hold charge on site and the grade each
needs, which rules a state judges, certificate terms, kinds and types), so the engine names
no state. Each citation is text of that state's seed document (checked by hand; see
compliance/README.md, "Readings of the seeds").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from compliance.grades import Grade, GradeError, ny_reclassify
from compliance.model import Category, Kind, Role

# Rule ids: the names findings carry (issue 7 keeps these exact).
CERTIFIED_ON_SITE = "certified-on-site"
DRC_MISSING = "drc-missing"
DRC_UNQUALIFIED = "drc-unqualified"
CHIEF_GRADE = "chief-grade"
ASSISTANT_GRADE = "assistant-grade"
SHIFT_GRADE = "shift-grade"
COUNTERSIGN_MISSING = "countersign-missing"
# Added by issue 15: an entry needing direct supervision without a qualified verifier on site.
SUPERVISION_MISSING = "supervision-missing"
RENEWAL_TRAINING = "renewal-training"
CERTIFICATE_EXPIRING = "certificate-expiring"
# Added: a span of the period for which no rule set of the state is on record.
NO_RULE_SET = "no-rule-set"
# Added by issue 15: a stretch of the period with no shift recorded (nothing is judged there).
NO_SHIFT_RECORDED = "no-shift-recorded"

RULE_IDS: tuple[str, ...] = (
    CERTIFIED_ON_SITE,
    DRC_MISSING,
    DRC_UNQUALIFIED,
    CHIEF_GRADE,
    ASSISTANT_GRADE,
    SHIFT_GRADE,
    COUNTERSIGN_MISSING,
    SUPERVISION_MISSING,
    RENEWAL_TRAINING,
    CERTIFICATE_EXPIRING,
    NO_RULE_SET,
    NO_SHIFT_RECORDED,
)

Severity = Literal["violation", "warning", "policy", "gap"]
Basis = Literal["regulation", "site policy", "record"]

WARNINGS: frozenset[str] = frozenset({RENEWAL_TRAINING, CERTIFICATE_EXPIRING, NO_RULE_SET})
# The competency framework's rules are the site's policy (seed 000), not a state's.
POLICY_RULES: frozenset[str] = frozenset({COUNTERSIGN_MISSING, SUPERVISION_MISSING})
# What the record shows or lacks, not a rule broken.
RECORD_RULES: frozenset[str] = frozenset({NO_RULE_SET, NO_SHIFT_RECORDED})
# Judged whatever the state: the site's policy, expiry warnings, the record's gaps.
EVERY_STATE: frozenset[str] = POLICY_RULES | RECORD_RULES | {CERTIFICATE_EXPIRING}

RECORD_CITATION = "Shift record (no shift recorded: nothing judged)"


def severity_of(rule: str) -> Severity:
    if rule in POLICY_RULES:
        return "policy"
    if rule == NO_SHIFT_RECORDED:
        return "gap"
    if rule in WARNINGS:
        return "warning"
    return "violation"


def basis_of(rule: str) -> Basis:
    if rule in POLICY_RULES:
        return "site policy"
    if rule in RECORD_RULES:
        return "record"
    return "regulation"


@dataclass(frozen=True)
class RoleRule:
    """A minimum grade for a crew role, checked while the member is on site."""

    rule: str
    citation: str


@dataclass(frozen=True)
class Term:
    """How long a certificate of one kind may run (``compliance.certificates.term_problem``)."""

    years: int
    wording: str  # the rule's words, for messages
    citation: str
    ends_on: tuple[int, int] | None = None  # (month, day) the expiry day must be
    # Counted from this (month, day) of the issue year rather than from the issue date.
    counted_from: tuple[int, int] | None = None


# A Roman numeral followed by a letter (not itself a numeral): how New York wrote grades
# before Table 4 (IA, IIB, ...).
_OLD_NAME = re.compile(r"^\s*[IVX]+[A-HJ-UWYZ]\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class RuleSet:
    state: str
    state_name: str
    title: str
    version: str
    effective_from: date | None
    max_level: int
    activated_sludge_series: bool
    roman: bool  # how the state writes grades (UT: I-IV; VT, NY: digits)
    # Which certificate categories qualify at a facility of each category.
    accepts: Mapping[Category, frozenset[Category]]
    kinds: frozenset[Kind]
    # In order, the crew roles that may hold charge on site, and the grade each needs.
    charge_roles: tuple[Role, ...]
    required: Callable[[Grade], dict[Role, Grade]]
    # Roles whose grade is judged whenever such a member is on site, whoever holds charge.
    role_rules: Mapping[Role, RoleRule]
    # The rule ids this state judges at all.
    rules_applied: frozenset[str]
    citations: Mapping[str, str]
    # The sections behind the reasons a certificate does not count, named in messages:
    # "restricted", "provisional", "grandfather", "a-series", "type", "reciprocity".
    sections: Mapping[str, str] = field(default_factory=dict)
    terms: Mapping[Kind, Term] = field(default_factory=dict)
    # Entry kinds that are operational activity beyond the logbook's own flag.
    operational_kinds: frozenset[str] = frozenset()
    renewal_hours: Mapping[int, float] | None = None
    renewal_window_years: int | None = None  # None: the certificate's own term
    online_cap: float | None = None
    # Where only one operator is employed at the facility, that operator is in charge.
    sole_operator_is_drc: bool = False
    # A grandfather certificate stops counting a year after a process is added to its
    # facility or a collection system's rating changes.
    grandfather_lapse: bool = False
    # Certificate types (domestic, industrial) the state issues, and grades only domestic.
    types: frozenset[str] = frozenset({"domestic"})
    domestic_only_grades: frozenset[int] = frozenset()
    # The state grades operators by the plant's point score and names no class (NY 650.12
    # Tables 1-2): messages name the plant by its score and the chief's grade.
    graded_by_points: bool = False
    # Old certificate names are read through a reclassification table (NY 650.12 Table 4).
    legacy_names: bool = False
    expiry_note: str = ""
    notes: tuple[str, ...] = field(default=())

    @property
    def charge_required(self) -> bool:
        """Whether a moment of a shift with no one of ``charge_roles`` on site is a finding."""
        return DRC_MISSING in self.rules_applied

    def judges(self, rule: str) -> bool:
        return rule in self.rules_applied

    @property
    def statement(self) -> str:
        """The version on record, shown with every report's class spans."""
        since = (
            f"in force from {self.effective_from.isoformat()}"
            if self.effective_from is not None
            else "its effective date is not in the seed (treated as in force before any date "
            "checked)"
        )
        return f"{self.version}; {since}; later amendments are not on record."

    def show(self, grade: Grade) -> str:
        return grade.roman() if self.roman else grade.digits()

    def grade_problem(self, grade: Grade, noun: Literal["grade", "class"] = "grade") -> str | None:
        """Why ``grade`` is no grade (or class) of this state; None if it is one."""
        if grade.level > self.max_level:
            plural = "grades" if noun == "grade" else "classes"
            return f"{self.state} {plural} go up to {self.show(Grade(self.max_level))}"
        if grade.activated_sludge and not self.activated_sludge_series:
            return f"the A series is New York's; {self.state} has no {noun} {grade}"
        return None

    def written_grade_problem(self, value: object) -> str | None:
        """Why ``value`` as typed is not a grade to read: an old certificate name (a Roman
        numeral and a letter, NY 650.12 Table 4) is entered as ``legacy_grade``, never read as
        a Roman numeral and the A series."""
        if self.legacy_names and isinstance(value, str) and _OLD_NAME.match(value):
            return (
                f"{value!r} is an old {self.state_name} certificate name "
                f"({self.sections['legacy']}); enter it as legacy_grade"
            )
        return None

    def legacy_grade(self, old_name: str) -> Grade:
        """The present grade of a certificate issued under an old name; raises GradeError."""
        if not self.legacy_names:
            raise GradeError("old certificate names are New York's (650.12 Table 4)")
        return ny_reclassify(old_name)

    def kind_problem(self, kind: str) -> str | None:
        """Why this state issues no certificate of ``kind``; None if it does."""
        if kind in self.kinds:
            return None
        return f"{self.state} issues {', '.join(sorted(self.kinds))} certificates, not {kind}"

    def type_problem(self, waste_type: str, grade: Grade) -> str | None:
        """Why this state issues no ``waste_type`` certificate of ``grade``; None if it does."""
        if waste_type not in self.types:
            return f"{self.state} certificates have no {waste_type} type"
        if waste_type == "industrial" and grade.level in self.domestic_only_grades:
            return f"grade {self.show(grade)} is domestic only ({self.sections['domestic-only']})"
        return None

    def citation(self, rule: str, activated_sludge: bool = False) -> str:
        return self.cite(self.citations[rule], activated_sludge)

    def cite(self, text: str, activated_sludge: bool = False) -> str:
        """``text`` with ``{table}`` naming the table that grades this plant (NY: Table 1 for
        activated-sludge plants, Table 2 for all other)."""
        if "{table}" not in text:
            return text
        return text.replace("{table}", self.sections["table-a" if activated_sludge else "table"])


# --- Utah R317-10 ----------------------------------------------------------------------


def ut_required(facility_class: Grade) -> dict[Role, Grade]:
    """UT: whoever holds charge on site holds the facility's class (R317-10-6 Table 1).

    R317-10-4 I: DRC "means active on-site charge"; 4 E: the chief operator is "the
    supervisor in direct responsible charge of all shift operators". A shift run by an
    assistant chief or a shift operator is in their charge, so they need the class too.
    """
    return {
        "drc": facility_class,
        "chief": facility_class,
        "assistant_chief": facility_class,
        "shift_operator": facility_class,
    }


# R317-10-11 C: "a period of up to three years ... The certificates expire on December 31 of
# the last year of the certificate."
_UT_TERM = Term(
    years=3,
    wording="up to three years and expire on December 31 of the last year",
    citation="UT R317-10-11 C",
    ends_on=(12, 31),
)

UT_2007 = RuleSet(
    state="UT",
    state_name="Utah",
    title="Utah R317-10, Certification of Wastewater Works Operators (DAR 30381)",
    version="R317-10 as amended by DAR File No. 30381 (effective 10/22/2007)",
    effective_from=date(2007, 10, 22),
    max_level=4,
    activated_sludge_series=False,
    roman=True,
    accepts={
        "treatment": frozenset({"treatment"}),
        "collection": frozenset({"collection"}),
        # R317-10-6 Table 1 note (3) and R317-10-11 A 5: the small lagoon certificate is a
        # combined treatment/collection Grade I. Our reading: a treatment certificate also
        # qualifies at a small lagoon system, a lagoon being a treatment works.
        "small_lagoon": frozenset({"small_lagoon", "treatment"}),
    },
    kinds=frozenset({"full", "restricted", "grandfather"}),
    charge_roles=("drc", "chief", "assistant_chief", "shift_operator"),
    required=ut_required,
    role_rules={
        "chief": RoleRule(CHIEF_GRADE, "UT R317-10-4 E (Chief Operator); R317-10-6 Table 1"),
    },
    rules_applied=EVERY_STATE | {DRC_MISSING, DRC_UNQUALIFIED, CHIEF_GRADE},
    citations={
        DRC_MISSING: "UT R317-10-4 I (Direct Responsible Charge: active on-site charge)",
        DRC_UNQUALIFIED: (
            "UT R317-10-4 I (Direct Responsible Charge), E (Chief Operator); R317-10-6 "
            "Table 1; R317-10-11 B (restricted), C (expiry), G (grandfather)"
        ),
        CERTIFICATE_EXPIRING: (
            "UT R317-10-11 C (expire on December 31 of the last year; Operators considered in "
            "DRC must renew by the expiration date), D (reinstatement)"
        ),
        NO_RULE_SET: "UT R317-10 (DAR File No. 30381, effective 10/22/2007)",
    },
    sections={
        "restricted": "UT R317-10-11 B",
        "grandfather": "UT R317-10-11 G",
        "reciprocity": "UT R317-10-11 F",
    },
    terms={
        "full": _UT_TERM,
        "restricted": _UT_TERM,
        "grandfather": Term(
            years=3,
            wording="for a period of up to three years and expire on December 31 of the last year",
            citation="UT R317-10-11 G; C",
            ends_on=(12, 31),
        ),
    },
    # R317-10-11 C and E require CEUs earned in the three years before expiry, but the
    # number of CEUs is not in the seed; without it, hours are not judged.
    renewal_hours=None,
    renewal_window_years=3,
    sole_operator_is_drc=True,  # R317-10-4 I: "where only one operator is employed"
    grandfather_lapse=True,
    expiry_note=(
        "Reinstatement within three months (R317-10-11 D) does not make it valid meanwhile; "
        "an operator in DRC must renew by the expiry date (R317-10-11 C)."
    ),
    notes=("The number of CEUs Utah requires for renewal is not in the seed document.",),
)


# --- Vermont Wastewater Treatment Facility Operator Certification rule ------------------


def vt_required(facility_class: Grade) -> dict[Role, Grade]:
    """VT §3(a), §4(d): chief equal to the class; assistant chief at most two grades below.
    A crew member designated DRC is held to the chief's grade (our reading)."""
    return {
        "chief": facility_class,
        "assistant_chief": Grade(max(1, facility_class.level - 2)),
        "drc": facility_class,
    }


VT_2014 = RuleSet(
    state="VT",
    state_name="Vermont",
    title="Vermont Wastewater Treatment Facility Operator Certification rule (amended 2014)",
    version=(
        "Vermont Wastewater Treatment Facility Operator Certification rule, Code Vt. R. "
        "12-034-002-X, amended September 25, 2014 (Secretary of State Rule Log #14-031)"
    ),
    effective_from=date(2014, 9, 25),
    max_level=5,
    activated_sludge_series=False,
    roman=False,
    accepts={"treatment": frozenset({"treatment"})},
    # Grandfathered chief operators are valid only at the employing facility (§8(d)).
    kinds=frozenset({"full", "provisional", "grandfather"}),
    charge_roles=("chief", "assistant_chief", "drc"),
    required=vt_required,
    role_rules={
        "chief": RoleRule(CHIEF_GRADE, "VT §3(a), §4(d) (chief operator: equal to the class)"),
        "assistant_chief": RoleRule(
            ASSISTANT_GRADE,
            "VT §3(a), §4(d) (assistant chief operator: not more than two grades below)",
        ),
    },  # fmt: skip
    # No VT rule requires a designated DRC on site: drc-missing is not judged.
    rules_applied=EVERY_STATE
    | {CERTIFIED_ON_SITE, DRC_UNQUALIFIED, CHIEF_GRADE, ASSISTANT_GRADE, RENEWAL_TRAINING},
    citations={
        CERTIFIED_ON_SITE: (
            "VT §1 (A certified operator shall be present at a treatment facility when any "
            "operational activity is being undertaken); §2 (Operational activity)"
        ),
        DRC_UNQUALIFIED: (
            "VT §3(a), §4(d); §6(b) (provisional), §6(c)(i) (term), §8(d) (grandfathered)"
        ),
        RENEWAL_TRAINING: "VT §6(c)(ii) (hours by grade; online or webinar at most 50%)",
        CERTIFICATE_EXPIRING: (
            "VT §6(c)(i) (five years after July 1 of the year in which issued or renewed), "
            "§6(c)(iii)"
        ),
        NO_RULE_SET: "VT Code Vt. R. 12-034-002-X (amended September 25, 2014)",
    },
    sections={
        "provisional": "VT §6(b)(ii)",
        "grandfather": "VT §8(d)",
        "reciprocity": "VT §5(f)",
        "type": "VT §3(a), §6(a)",
        "domestic-only": "VT §4 Table 1: classes III and V are domestic",
    },
    terms={
        "full": Term(
            years=5,
            wording="five years after July 1 of the year in which issued or renewed",
            citation="VT §6(c)(i)",
            ends_on=(7, 1),
            counted_from=(7, 1),
        ),
        "provisional": Term(years=2, wording="not to exceed two years", citation="VT §6(b)(ii)"),
    },
    operational_kinds=frozenset({"reading"}),  # §2: "performing process control tests"
    renewal_hours={1: 20, 2: 25, 3: 30, 4: 30, 5: 40},
    renewal_window_years=5,
    online_cap=0.5,
    types=frozenset({"domestic", "industrial"}),
    domestic_only_grades=frozenset({3, 5}),
    expiry_note=(
        "Renewal may be applied for 60 days before expiry; without the training hours within "
        "60 days of expiry a retest is needed (§6(c)(i), (iii))."
    ),
    notes=("Appendix A point values are missing from the seed: VT classes are entered.",),
)


# --- New York 6 CRR-NY 650.12 -----------------------------------------------------------


def ny_shift_grade(chief: Grade) -> Grade:
    """Tables 1-2: assistant/shift operator one grade below the chief, never below 1."""
    return Grade(max(1, chief.level - 1), chief.activated_sludge)


def ny_required(facility_class: Grade) -> dict[Role, Grade]:
    """Tables 1-2: the chief the column Chief Operator; whoever else holds charge of a shift
    (an assistant, a shift operator, a designated DRC) the column Assistant/Shift Operator."""
    shift = ny_shift_grade(facility_class)
    return {
        "chief": facility_class,
        "drc": shift,
        "assistant_chief": shift,
        "shift_operator": shift,
    }


# Filled in by ``RuleSet.cite`` with the table that grades the plant.
_NY_TABLES = "{table}"
_NY_SHIFT_COLUMN = f"{_NY_TABLES}, column Assistant/Shift Operator"

NY_650 = RuleSet(
    state="NY",
    state_name="New York",
    title="6 CRR-NY 650.12, Tables (Part 650, operator qualifications)",
    version="6 CRR-NY 650.12, current through March 15, 2023",
    effective_from=None,
    max_level=4,
    activated_sludge_series=True,
    roman=False,
    accepts={"treatment": frozenset({"treatment"})},
    kinds=frozenset({"full"}),
    charge_roles=("chief", "drc", "assistant_chief", "shift_operator"),
    required=ny_required,
    role_rules={
        "chief": RoleRule(CHIEF_GRADE, f"{_NY_TABLES}, column Chief Operator"),
        "assistant_chief": RoleRule(SHIFT_GRADE, _NY_SHIFT_COLUMN),
        "shift_operator": RoleRule(SHIFT_GRADE, _NY_SHIFT_COLUMN),
    },
    rules_applied=EVERY_STATE
    | {DRC_MISSING, DRC_UNQUALIFIED, CHIEF_GRADE, SHIFT_GRADE, RENEWAL_TRAINING},
    citations={
        # Our reading of Tables 1-2: every shift has a graded operator in charge.
        DRC_MISSING: f"{_NY_SHIFT_COLUMN} (our reading: a graded operator for every shift)",
        DRC_UNQUALIFIED: _NY_SHIFT_COLUMN,
        RENEWAL_TRAINING: "NY 650.12(c) Table 3 (renewal contact hours)",
        CERTIFICATE_EXPIRING: "NY 650.12(c) Table 3 (renewal contact hours)",
        NO_RULE_SET: "NY 650.12",
    },
    sections={
        "table": "NY 650.12(b) Table 2 (All Other Treatment Facilities)",
        "table-a": "NY 650.12(a) Table 1 (Activated Sludge Facilities)",
        "a-series": "NY 650.12(a) Table 1",
        "legacy": "650.12 Table 4",
    },
    renewal_hours={1: 20, 2: 40, 3: 60, 4: 80},
    # The seed gives hours per renewal, not the renewal period: the window is the
    # certificate's own term.
    renewal_window_years=None,
    graded_by_points=True,
    legacy_names=True,
    expiry_note="Renewal needs the Table 3 contact hours.",
    notes=("NY's renewal period is not in the seed; hours are counted over the term.",),
)


RULE_SETS: dict[str, tuple[RuleSet, ...]] = {
    "UT": (UT_2007,),
    "VT": (VT_2014,),
    "NY": (NY_650,),
}


def latest(state: str) -> RuleSet:
    """The newest rule set of ``state``: what records entered today are checked against."""
    return max(RULE_SETS[state], key=lambda v: v.effective_from or date.min)


def rule_set_at(versions: Sequence[RuleSet], day: date) -> RuleSet | None:
    """The version in force on local date ``day`` (the latest that took effect by then)."""
    best: RuleSet | None = None
    for version in versions:
        if version.effective_from is None or version.effective_from <= day:
            if best is None or (best.effective_from or date.min) <= (
                version.effective_from or date.min
            ):
                best = version
    return best
