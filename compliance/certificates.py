"""Certificates as each state's rule defines them: the terms a certificate may run, and what
may be entered at all (grade, old names, kind, type, term).

The entry points (the scenario file, the API, the CLI) refuse a certificate these functions
object to, naming the field; the engine's window for a provisional certificate uses the same
``term_last_day``. Pure functions on ``compliance.model`` and the rule pack's data.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from compliance.grades import Grade, GradeError, parse_grade
from compliance.model import Certificate

if TYPE_CHECKING:
    from compliance.rulesets import RuleSet, Term


class CertificateProblem(ValueError):
    """A certificate the rules do not allow; ``field`` is the input field at fault."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(problem)
        self.field = field
        self.problem = problem


def anniversary(day: date, years: int) -> date:
    """The same day ``years`` later; a February 29 with no February 29 then is March 1."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return date(day.year + years, 3, 1)


def term_last_day(term: Term, issued: date) -> date:
    """The last day a certificate issued on ``issued`` may be in effect under ``term``.

    Counted from a fixed day of the issue year (VT: "five years after July 1 of the year in
    which issued"), that day ``years`` later; otherwise the day before the ``years``-th
    anniversary of issue (UT: "a period of up to three years"; VT provisional: "not to exceed
    two years", so issued 2024-02-29 it runs through 2026-02-28).
    """
    if term.counted_from is not None:
        month, day = term.counted_from
        return date(issued.year + term.years, month, day)
    return anniversary(issued, term.years) - timedelta(days=1)


def _day_name(month_day: tuple[int, int]) -> str:
    month, day = month_day
    return f"{date(2000, month, 1):%B} {day}"


def term_problem(cert: Certificate, rules: RuleSet) -> str | None:
    """Why ``cert`` runs a term its state's rule does not allow; None if it may."""
    if cert.expires < cert.issued:
        return f"{cert.expires} is before issued {cert.issued}"
    term = rules.terms.get(cert.kind)
    if term is None:
        return None
    runs = f"{rules.state} {cert.kind} certificates run {term.wording} ({term.citation})"
    if term.ends_on is not None and (cert.expires.month, cert.expires.day) != term.ends_on:
        return f"{runs}: {cert.expires} is not a {_day_name(term.ends_on)}"
    last = term_last_day(term, cert.issued)
    if cert.expires > last:
        return f"{runs}: issued {cert.issued}, it expires {last} at the latest, not {cert.expires}"
    return None


def read_grade(rules: RuleSet, grade: object | None, legacy_grade: str | None) -> Grade:
    """The grade a certificate is entered with: ``grade`` as the state writes it, or, where the
    state renamed its certificates (NY 650.12 Table 4), an old name as ``legacy_grade``.
    Raises ``CertificateProblem`` naming ``grade`` or ``legacy_grade``."""
    if legacy_grade is not None:
        if grade is not None:
            raise CertificateProblem("legacy_grade", "give grade or legacy_grade, not both")
        try:
            return rules.legacy_grade(legacy_grade)
        except GradeError as exc:
            raise CertificateProblem("legacy_grade", str(exc)) from None
    if grade is None:
        raise CertificateProblem("grade", "is required")
    if problem := rules.written_grade_problem(grade):
        raise CertificateProblem("grade", problem)
    try:
        parsed = parse_grade(grade)
    except GradeError as exc:
        raise CertificateProblem("grade", str(exc)) from None
    if problem := rules.grade_problem(parsed):
        raise CertificateProblem("grade", problem)
    return parsed


def certificate_problem(cert: Certificate, rules: RuleSet) -> CertificateProblem | None:
    """What is wrong with ``cert`` as entered under its state's ``rules`` (kind, type, term;
    the grade is read by ``read_grade``), naming the field; None if nothing is."""
    if problem := rules.kind_problem(cert.kind):
        return CertificateProblem("kind", problem)
    if problem := rules.type_problem(cert.type, cert.grade):
        return CertificateProblem("type", problem)
    if problem := term_problem(cert, rules):
        return CertificateProblem("expires", problem)
    return None
