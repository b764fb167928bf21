"""Rule packs per state: data plus small pure functions, every rule with the section behind it.

A state may have several rule sets over time; ``rule_set_at`` picks the one in force on a
local date. Only the versions present in the seed documents are written down: Utah R317-10 as
amended by DAR 30381 (effective 2007-10-22), the Vermont rule as amended 2014-09-25, and New
York 650.12 as compiled through 2023-03-15 (its effective date is not in the seed, so it is
treated as in force since before any date we check).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from compliance.grades import Grade
from compliance.model import Category, Kind, Role

# Rule ids: the names findings carry (issue 7 keeps these exact).
CERTIFIED_ON_SITE = "certified-on-site"
DRC_MISSING = "drc-missing"
DRC_UNQUALIFIED = "drc-unqualified"
CHIEF_GRADE = "chief-grade"
ASSISTANT_GRADE = "assistant-grade"
SHIFT_GRADE = "shift-grade"
COUNTERSIGN_MISSING = "countersign-missing"
RENEWAL_TRAINING = "renewal-training"
CERTIFICATE_EXPIRING = "certificate-expiring"
# Added: a span of the period for which no rule set of the state is on record.
NO_RULE_SET = "no-rule-set"

RULE_IDS: tuple[str, ...] = (
    CERTIFIED_ON_SITE,
    DRC_MISSING,
    DRC_UNQUALIFIED,
    CHIEF_GRADE,
    ASSISTANT_GRADE,
    SHIFT_GRADE,
    COUNTERSIGN_MISSING,
    RENEWAL_TRAINING,
    CERTIFICATE_EXPIRING,
    NO_RULE_SET,
)

WARNINGS: frozenset[str] = frozenset({RENEWAL_TRAINING, CERTIFICATE_EXPIRING, NO_RULE_SET})

# The competency framework for O*NET 51-8031.00 (seed 000): entry-level operators record
# readings "with supervisor verification". It applies in every state.
FRAMEWORK_CITATION = (
    "Competency framework 51-8031.00, emerging level: readings and shift data recorded "
    "with supervisor verification"
)

# UT R317-10-11 G: a grandfather certificate stops qualifying one year after a process is
# added to its facility. ``compliance.qualification`` applies it whatever the state.
GRANDFATHER_LAPSE = "UT R317-10-11 G"
GRANDFATHER_LAPSE_CITATION = f"{GRANDFATHER_LAPSE} (grandfather certificates)"


@dataclass(frozen=True)
class RoleRule:
    """A minimum grade for a crew role, checked while the member is on site."""

    rule: str
    citation: str


@dataclass(frozen=True)
class RuleSet:
    state: str
    title: str
    effective_from: date | None
    max_level: int
    activated_sludge_series: bool
    roman: bool  # how the state writes grades (UT: I-IV; VT, NY: digits)
    # Which certificate categories qualify at a facility of each category.
    accepts: Mapping[Category, frozenset[Category]]
    kinds: frozenset[Kind]
    required: Callable[[Grade], dict[Role, Grade]]
    role_rules: Mapping[Role, RoleRule]
    citations: Mapping[str, str]
    renewal_hours: Mapping[int, float] | None = None
    renewal_window_years: int | None = None  # None: the certificate's own term
    online_cap: float | None = None
    provisional_max_years: int | None = None
    sole_operator_is_drc: bool = False
    # The state grades operators by the plant's point score and names no class (NY 650.12
    # Tables 1-2): messages name the plant by its score and the chief's grade.
    graded_by_points: bool = False
    # Old certificate names are read through a reclassification table (NY 650.12 Table 4).
    legacy_names: bool = False
    expiry_note: str = ""
    notes: tuple[str, ...] = field(default=())

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

    def kind_problem(self, kind: str) -> str | None:
        """Why this state issues no certificate of ``kind``; None if it does."""
        if kind in self.kinds:
            return None
        return f"{self.state} issues {', '.join(sorted(self.kinds))} certificates, not {kind}"

    def citation(self, rule: str) -> str:
        return self.citations[rule]


# --- Utah R317-10 ----------------------------------------------------------------------


def ut_required(facility_class: Grade) -> dict[Role, Grade]:
    """UT: the DRC and the chief (in DRC of all shift operators) hold the facility's class.

    R317-10-4 E defines the chief operator as the supervisor in direct responsible charge;
    R317-10-4 I and R317-10-11 C make the DRC's certification the works' compliance.
    Utah sets no grade for other shift members.
    """
    return {"drc": facility_class, "chief": facility_class}


UT_2007 = RuleSet(
    state="UT",
    title="Utah R317-10, Certification of Wastewater Works Operators (DAR 30381)",
    effective_from=date(2007, 10, 22),
    max_level=4,
    activated_sludge_series=False,
    roman=True,
    accepts={
        "treatment": frozenset({"treatment"}),
        "collection": frozenset({"collection"}),
        # R317-10-6 Table 1 note 3 and R317-10-11 A 5: the small lagoon certificate is a
        # combined treatment/collection Grade I. Our reading: a treatment certificate also
        # qualifies at a small lagoon system, a lagoon being a treatment works.
        "small_lagoon": frozenset({"small_lagoon", "treatment"}),
    },
    kinds=frozenset({"full", "restricted", "grandfather"}),
    required=ut_required,
    role_rules={
        "chief": RoleRule(CHIEF_GRADE, "UT R317-10-4 E (Chief Operator), R317-10-4 I, R317-10-6"),
    },
    citations={
        CERTIFIED_ON_SITE: "UT R317-10-4 I (DRC: active on-site charge), R317-10-4 D",
        DRC_MISSING: "UT R317-10-4 I (Direct Responsible Charge)",
        DRC_UNQUALIFIED: (
            "UT R317-10-4 I; R317-10-6 Table 1; R317-10-11 B (restricted), C (expiry), "
            "G (grandfather)"
        ),
        COUNTERSIGN_MISSING: FRAMEWORK_CITATION,
        RENEWAL_TRAINING: "UT R317-10-11 C, E",
        CERTIFICATE_EXPIRING: "UT R317-10-11 C (expires December 31; DRC must renew), D",
        NO_RULE_SET: "UT R317-10 (DAR 30381, effective 2007-10-22)",
    },
    # R317-10-11 C and E require CEUs earned in the three years before expiry, but the
    # number of CEUs is not in the seed; without it, hours are reported, not judged.
    renewal_hours=None,
    renewal_window_years=3,
    sole_operator_is_drc=True,  # R317-10-4 I: where only one operator is employed
    expiry_note=(
        "Reinstatement within three months (R317-10-11 D) does not make it valid meanwhile; "
        "an operator in DRC must renew by the expiry date (R317-10-11 C)."
    ),
    notes=("The number of CEUs Utah requires for renewal is not in the seed document.",),
)


# --- Vermont Wastewater Treatment Facility Operator Certification rule ------------------


def vt_required(facility_class: Grade) -> dict[Role, Grade]:
    """VT §3(a), §4(d): chief equal to the class; assistant chief at most two grades below."""
    return {
        "drc": facility_class,
        "chief": facility_class,
        "assistant_chief": Grade(max(1, facility_class.level - 2)),
    }


VT_2014 = RuleSet(
    state="VT",
    title="Vermont Wastewater Treatment Facility Operator Certification rule (amended 2014)",
    effective_from=date(2014, 9, 25),
    max_level=5,
    activated_sludge_series=False,
    roman=False,
    accepts={"treatment": frozenset({"treatment"})},
    # Grandfathered chief operators are valid only at the employing facility (§8(d)).
    kinds=frozenset({"full", "provisional", "grandfather"}),
    required=vt_required,
    role_rules={
        "chief": RoleRule(CHIEF_GRADE, "VT §3(a), §4(d)"),
        "assistant_chief": RoleRule(ASSISTANT_GRADE, "VT §3(a), §4(d)"),
    },
    citations={
        CERTIFIED_ON_SITE: "VT §1; §2 (Operational activity)",
        DRC_MISSING: "VT §2 (Chief operator, Assistant chief operator), §3(b)",
        DRC_UNQUALIFIED: "VT §3(a), §4(d), §6(b) (provisional), §6(c)(i) (term), §8(d)",
        COUNTERSIGN_MISSING: f"{FRAMEWORK_CITATION}; VT §2 (Operator: under direct supervision)",
        RENEWAL_TRAINING: "VT §6(c)(ii) (hours by grade; online or webinar at most 50 %)",
        CERTIFICATE_EXPIRING: "VT §6(c)(i) (five years from July 1), §6(c)(iii)",
        NO_RULE_SET: "VT rule 12-034-002-X (amended 2014-09-25)",
    },
    renewal_hours={1: 20, 2: 25, 3: 30, 4: 30, 5: 40},
    renewal_window_years=5,
    online_cap=0.5,
    provisional_max_years=2,  # §6(b)(ii)
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
    shift = ny_shift_grade(facility_class)
    return {
        "drc": facility_class,
        "chief": facility_class,
        "assistant_chief": shift,
        "shift_operator": shift,
    }


_NY_TABLES = "NY 650.12(a) Table 1 (activated sludge), (b) Table 2 (all other)"

NY_650 = RuleSet(
    state="NY",
    title="6 CRR-NY 650.12, Tables (Part 650, operator qualifications)",
    effective_from=None,
    max_level=4,
    activated_sludge_series=True,
    roman=False,
    accepts={"treatment": frozenset({"treatment"})},
    kinds=frozenset({"full"}),
    required=ny_required,
    role_rules={
        "chief": RoleRule(CHIEF_GRADE, f"{_NY_TABLES}, column Chief Operator"),
        "assistant_chief": RoleRule(SHIFT_GRADE, f"{_NY_TABLES}, column Assistant/Shift Operator"),
        "shift_operator": RoleRule(SHIFT_GRADE, f"{_NY_TABLES}, column Assistant/Shift Operator"),
    },
    citations={
        CERTIFIED_ON_SITE: f"{_NY_TABLES}: a graded operator for every shift",
        DRC_MISSING: f"{_NY_TABLES}, column Assistant/Shift Operator",
        DRC_UNQUALIFIED: f"{_NY_TABLES}, column Chief Operator",
        COUNTERSIGN_MISSING: FRAMEWORK_CITATION,
        RENEWAL_TRAINING: "NY 650.12(c) Table 3 (renewal contact hours)",
        CERTIFICATE_EXPIRING: "NY 650.12(c) Table 3",
        NO_RULE_SET: "NY 650.12",
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
