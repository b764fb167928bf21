"""Operator grades and facility classes: one value type, written as roman numerals or digits.

Utah writes grades I-IV (R317-10-4 K), Vermont grades 1-5 for classes I-V (§4 Table 1),
New York grades 1-4 and, for activated-sludge plants, 1A-4A (650.12 Tables 1-2). A facility's
class and a certificate's grade compare on the same scale, so both are a ``Grade``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5}
_ROMAN_OF = {v: k for k, v in _ROMAN.items()}
_GRADE_RE = re.compile(r"^\s*(?:grade\s+|class\s+)?([IV]+|[1-9])\s*(A?)\s*$", re.IGNORECASE)


class GradeError(ValueError):
    """A grade or class that cannot be read."""


@dataclass(frozen=True, slots=True, order=True)
class Grade:
    """A grade level, with ``activated_sludge`` for New York's A series (650.12 Table 1)."""

    level: int
    activated_sludge: bool = False

    def digits(self) -> str:
        return f"{self.level}{'A' if self.activated_sludge else ''}"

    def roman(self) -> str:
        return f"{_ROMAN_OF[self.level]}{'A' if self.activated_sludge else ''}"

    def __str__(self) -> str:
        return self.digits()

    def satisfies(self, required: Grade) -> bool:
        """Whether a certificate of this grade meets a requirement of ``required``.

        An A requirement (activated-sludge plant, NY Table 1) needs an A certificate. A plain
        requirement (NY Table 2, and every UT or VT requirement) accepts either series: the A
        series demands the same examination level plus activated-sludge experience (Table 1
        "Required Type and Duration of Approved Operating Experience"), and the seeds do not
        say an A certificate is narrower. This is our reading, stated in compliance/README.md.
        """
        if required.activated_sludge and not self.activated_sludge:
            return False
        return self.level >= required.level


def parse_grade(value: object) -> Grade:
    """Read ``III``, ``3``, ``3A``, ``iiiA``, ``Grade 3`` or the integer 3.

    Raises ``GradeError`` with a message that says what is accepted.
    """
    if isinstance(value, bool):
        raise GradeError(f"{value!r} is not a grade (write e.g. III, 3 or 3A)")
    if isinstance(value, int):
        if 1 <= value <= 5:
            return Grade(value)
        raise GradeError(f"{value} is not a grade between 1 and 5")
    if not isinstance(value, str):
        raise GradeError(f"{value!r} is not a grade (write e.g. III, 3 or 3A)")
    match = _GRADE_RE.match(value)
    if not match:
        raise GradeError(f"{value!r} is not a grade (write e.g. III, 3 or 3A)")
    number, suffix = match.group(1).upper(), match.group(2)
    level = int(number) if number.isdigit() else _ROMAN.get(number, 0)
    if not 1 <= level <= 5:
        raise GradeError(f"{value!r} is not a grade between I and V")
    return Grade(level, activated_sludge=bool(suffix))


# NY 650.12 Table 4: certificate names used before the present grades. Only the rows the
# seed states without contradiction are kept: its second block repeats "IIA, IIB, IIC" with
# 2A/2 (presumably IIIA-IIIC with a numeral lost), so those rows are not guessed at.
NY_LEGACY_GRADES: dict[str, Grade] = {
    "IA": Grade(4, True),
    "IB": Grade(4),
    "IIA": Grade(3, True),
    "IIB": Grade(3),
    "IIC": Grade(3),
}


def ny_reclassify(old_name: str) -> Grade:
    """The present grade of a certificate issued under New York's old names (650.12 Table 4)."""
    key = old_name.strip().upper()
    if key not in NY_LEGACY_GRADES:
        known = ", ".join(NY_LEGACY_GRADES)
        raise GradeError(f"{old_name!r} is not an old New York certificate name ({known})")
    return NY_LEGACY_GRADES[key]
