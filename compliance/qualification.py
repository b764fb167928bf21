"""Whether a certificate, and so an operator, qualifies at a facility at an instant.

A certificate counts from local midnight of its issue date to local midnight ending its expiry
date (UT R317-10-11 C: certificates expire on December 31; a reinstatement window, D, is not
validity). Some problems do not depend on time (wrong state, category or type, restricted,
grandfather certificate of another facility); the rest are the window itself.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TypeVar

from compliance.certificates import anniversary, term_last_day
from compliance.grades import Grade
from compliance.model import Certificate, Facility, Operator
from compliance.rulesets import RuleSet
from compliance.timeutil import end_of_local_day, local_midnight

_Day = TypeVar("_Day", bound=date)


def add_years(day: _Day, years: int) -> _Day:
    """The same day ``years`` later (or earlier); February 29 becomes the 28th."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # February 29
        return day.replace(year=day.year + years, day=28)


def certificate_window(
    cert: Certificate, facility: Facility, rules: RuleSet
) -> tuple[datetime, datetime]:
    """[start, end) in UTC: issue day's local midnight to the end of the expiry day.

    A provisional certificate also ends with its term at most (VT §6(b)(ii), counted as at
    entry: ``compliance.certificates.term_last_day``); a grandfather certificate one year
    after a process is added to its facility or a collection system's rating changes (UT
    R317-10-11 G: the holder then has one year to get a restricted or full certificate).
    """
    tz = facility.tz
    start = local_midnight(cert.issued, tz)
    end = end_of_local_day(cert.expires, tz)
    term = rules.terms.get(cert.kind)
    if cert.kind == "provisional" and term is not None:
        end = min(end, end_of_local_day(term_last_day(term, cert.issued), tz))
    if cert.kind == "grandfather" and rules.grandfather_lapse:
        deadline = grandfather_deadline(facility)
        if deadline is not None:
            end = min(end, deadline)
    return start, end


def grandfather_change(facility: Facility) -> tuple[date, str] | None:
    """The first change that starts a grandfather certificate's last year, and what it was."""
    changes = [(d, "a process was added") for d in facility.processes_added]
    changes += [(d, "the collection system's rating changed") for d in facility.rating_changes]
    return min(changes) if changes else None


def grandfather_deadline(facility: Facility) -> datetime | None:
    """Local midnight one year after the first change (UT R317-10-11 G); None without one."""
    change = grandfather_change(facility)
    if change is None:
        return None
    return local_midnight(anniversary(change[0], 1), facility.tz)


def static_problem(cert: Certificate, facility: Facility, rules: RuleSet) -> str | None:
    """Why a certificate never qualifies at this facility, whatever the time; None if it may."""
    if cert.state != facility.state:
        section = rules.sections.get("reciprocity")
        return (
            f"issued by {cert.state}, not {facility.state} "
            "(another state's certificate counts only once reissued by reciprocity"
            + (f", {section})" if section else ")")
        )
    if cert.category not in rules.accepts.get(facility.category, frozenset()):
        return (
            f"a {cert.category} certificate; this is a {facility.category.replace('_', ' ')} works"
        )
    if cert.kind not in rules.kinds:
        return f"{facility.state} issues no {cert.kind} certificates"
    if len(rules.types) > 1 and cert.type != facility.wastewater_type:
        return (
            f"an {cert.type} certificate; this facility treats {facility.wastewater_type} "
            f"wastewater ({rules.sections['type']})"
        )
    if cert.kind == "restricted":
        return (
            "restricted: does not qualify the holder at its grade until the experience or "
            f"education conditions are met ({rules.sections['restricted']})"
        )
    if cert.kind == "grandfather" and cert.facility not in facility.names():
        where = cert.facility or "an unnamed facility"
        return f"grandfather certificate valid only at {where} ({rules.sections['grandfather']})"
    return None


@dataclass(frozen=True, slots=True)
class Timeline:
    """An operator's qualifying certificates, piecewise constant between ``bounds``."""

    bounds: tuple[datetime, ...]
    pieces: tuple[tuple[Certificate, ...], ...]  # pieces[i] holds on [bounds[i], bounds[i+1])

    def at(self, t: datetime) -> tuple[Certificate, ...]:
        i = bisect_right(self.bounds, t) - 1
        if i < 0 or i >= len(self.pieces):
            return ()
        return self.pieces[i]

    def certified(self, t: datetime) -> bool:
        return bool(self.at(t))

    def meets(self, t: datetime, required: Grade) -> bool:
        return any(c.grade.satisfies(required) for c in self.at(t))


EMPTY_TIMELINE = Timeline((), ())


def build_timeline(operator: Operator, facility: Facility, rules: RuleSet) -> Timeline:
    windows = [
        (*certificate_window(c, facility, rules), c)
        for c in operator.certificates
        if static_problem(c, facility, rules) is None
    ]
    windows = [w for w in windows if w[0] < w[1]]
    if not windows:
        return EMPTY_TIMELINE
    bounds = sorted({t for s, e, _ in windows for t in (s, e)})
    pieces = tuple(
        tuple(c for s, e, c in windows if s <= bounds[i] < e) for i in range(len(bounds) - 1)
    )
    return Timeline(tuple(bounds), pieces)


def explain(
    operator: Operator | None,
    facility: Facility,
    rules: RuleSet,
    t: datetime,
    required: Grade | None,
) -> str:
    """Why ``operator`` does not qualify at ``t`` (for ``required``, or at all if None)."""
    if operator is None or not operator.certificates:
        return "holds no certificate"
    reasons: list[str] = []
    for cert in operator.certificates:
        label = f"{cert.category.replace('_', ' ')} {rules.show(cert.grade)} ({cert.id})"
        problem = static_problem(cert, facility, rules)
        if problem is None:
            start, end = certificate_window(cert, facility, rules)
            if t < start:
                problem = f"not in effect until {cert.issued.isoformat()}"
            elif t >= end:
                if cert.kind == "provisional" and end < end_of_local_day(cert.expires, facility.tz):
                    last = (end - timedelta(microseconds=1)).astimezone(facility.tz).date()
                    problem = (
                        f"provisional certificate past its two-year window "
                        f"(ended {last.isoformat()}, {rules.sections['provisional']})"
                    )
                elif (
                    cert.kind == "grandfather"
                    and (change := grandfather_change(facility)) is not None
                    and end < end_of_local_day(cert.expires, facility.tz)
                ):
                    problem = (
                        f"grandfather certificate lapsed one year after {change[1]} on "
                        f"{change[0].isoformat()} ({rules.sections['grandfather']})"
                    )
                else:
                    problem = f"expired {cert.expires.isoformat()}"
            elif (
                required is not None
                and required.activated_sludge
                and not cert.grade.activated_sludge
            ):
                problem = (
                    f"not in the A series this activated-sludge plant requires "
                    f"({rules.show(required)}, {rules.sections['a-series']})"
                )
            elif required is not None and not cert.grade.satisfies(required):
                problem = f"grade below the required {rules.show(required)}"
        if problem:
            reasons.append(f"{label}: {problem}")
    return "; ".join(reasons) if reasons else "qualifies"
