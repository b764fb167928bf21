"""Who worked which shift of the history: three shifts a day, and the demo's people on them.

The chief holds the weekday days (as the designated DRC), Oli Operator the weekday swings,
Nico the nights from Sunday to Thursday; three relief operators cover the weekends; the
trainee works beside the chief on Tuesdays and Thursdays and beside Oli on Wednesdays.
Two shifts leave a coverage finding for the chief's page: a night whose operator went home
at 04:20, and a trainee's day whose chief left at 13:15 with the trainee still on site.
Pure: times in, plans out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# (username, name, role, Utah grade): the people the history adds to the demo's own.
RELIEF = (
    ("nico", "Nico Nightly (demo)", "operator", "II"),
    ("riley", "Riley Relief (demo)", "operator", "II"),
    ("sam", "Sam Swing (demo)", "operator", "II"),
    ("pat", "Pat Weekend (demo)", "operator", "II"),
)
# The relief operator whose certificate runs out at the end of the year.
EXPIRING = "riley"

SHIFTS = (("Day", time(6)), ("Swing", time(14)), ("Night", time(22)))
SHIFT_HOURS = 8


@dataclass(frozen=True)
class Stint:
    """A crew member: who, in which shift role, and when they left if before the end."""

    username: str
    shift_role: str
    left_at: datetime | None = None


@dataclass(frozen=True)
class ShiftPlan:
    label: str
    start: datetime
    end: datetime
    crew: tuple[Stint, ...]

    @property
    def in_charge(self) -> str:
        """Who opens, writes most, closes and signs the shift."""
        return self.crew[0].username

    def on_site(self, username: str, at: datetime) -> bool:
        return any(
            s.username == username and self.start <= at and (s.left_at is None or at < s.left_at)
            for s in self.crew
        )

    @property
    def trainee(self) -> bool:
        return any(s.shift_role == "trainee" for s in self.crew)


def _crew(label: str, day: date) -> tuple[Stint, ...]:
    weekday = day.weekday()  # Monday 0
    weekend = weekday >= 5
    if label == "Day":
        crew = [Stint("riley", "shift_operator")] if weekend else [Stint("chief", "drc")]
        if weekday in (1, 3):
            crew.append(Stint("trainee", "trainee"))
    elif label == "Swing":
        crew = [Stint("sam" if weekend else "operator", "shift_operator")]
        if weekday == 2:
            crew.append(Stint("trainee", "trainee"))
    else:
        crew = [Stint("pat" if weekday in (4, 5) else "nico", "shift_operator")]
    return tuple(crew)


def plan_shifts(start: datetime, end: datetime, tz: ZoneInfo) -> list[ShiftPlan]:
    """Every whole shift inside [start, end), in order, with its crew and findings."""
    plans: list[ShiftPlan] = []
    day = start.astimezone(tz).date() - timedelta(days=1)
    while True:
        for label, at in SHIFTS:
            begin = datetime.combine(day, at, tzinfo=tz)
            # Local wall-clock hours: a shift across a DST change is 7 or 9 hours long.
            finish = datetime.combine(
                day + timedelta(days=(at.hour + SHIFT_HOURS) // 24),
                time((at.hour + SHIFT_HOURS) % 24),
                tzinfo=tz,
            )
            if begin < start:
                continue
            if finish > end:
                return _with_findings(plans, tz)
            plans.append(
                ShiftPlan(label, begin.astimezone(UTC), finish.astimezone(UTC), _crew(label, day))
            )
        day += timedelta(days=1)


def _at(instant: datetime, tz: ZoneInfo, hour: int, minute: int) -> datetime:
    """That local time on the local day of ``instant``, in UTC."""
    local = instant.astimezone(tz)
    return datetime.combine(local.date(), time(hour, minute), tzinfo=tz).astimezone(UTC)


def _with_findings(plans: list[ShiftPlan], tz: ZoneInfo) -> list[ShiftPlan]:
    """The night in the middle of the period whose operator left early, and the last trainee
    day but one whose chief left before the swing came in."""
    nights = [i for i, p in enumerate(plans) if p.label == "Night"]
    if nights:
        i = nights[len(nights) // 2]
        p = plans[i]
        left = _at(p.end, tz, 4, 20)
        plans[i] = ShiftPlan(p.label, p.start, p.end, (Stint(p.in_charge, "shift_operator", left),))
    days = [i for i, p in enumerate(plans) if p.label == "Day" and p.trainee]
    if len(days) >= 2:
        i = days[-2]
        p = plans[i]
        left = _at(p.start, tz, 13, 15)
        crew = (Stint(p.in_charge, p.crew[0].shift_role, left), *p.crew[1:])
        plans[i] = ShiftPlan(p.label, p.start, p.end, crew)
    return plans
