"""What each shift of the history wrote: entries of every kind, samples and lab results.

Readings on rounds are the plant model's values at the time of the round; alarms the
model raised are acknowledged by whoever held the shift; the lab results stay inside
what a healthy activated-sludge plant reports under the demo permit. Deterministic from
the seed and the shifts. Pure: no clock, no I/O.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from demo.history.plant import EventRow
from demo.history.rota import ShiftPlan

MINUTE = timedelta(minutes=1)
# The tags read on each round, with the decimals an operator writes down.
ROUNDS: tuple[tuple[int, tuple[tuple[str, int], ...]], ...] = (
    (
        65,
        (
            ("influent.flow", 0),
            ("aeration.do", 2),
            ("effluent.ph", 2),
            ("disinfection.cl2.residual", 2),
        ),
    ),
    (
        305,
        (
            ("liftstation.wetwell.level", 2),
            ("aeration.mlss", 0),
            ("effluent.turbidity", 2),
            ("effluent.ph", 2),
        ),
    ),
)
LAB = "Wasatch Environmental Lab (demo)"
COURIER = "Wasatch Environmental Lab courier"
EFFLUENT = "Final effluent, after chlorine contact"


@dataclass(frozen=True)
class EntryPlan:
    kind: str
    data: dict[str, Any]
    at: datetime
    author: str
    tag: str | None = None  # a round reading's tag (its id is the database's)
    event: int | None = None  # an acknowledged alarm: its index in the folded events
    verify: bool = False  # a trainee's entry, verified by the shift's holder of charge
    # A correction made later: (the changes, the reason).
    amendment: tuple[dict[str, Any], str] | None = None


@dataclass(frozen=True)
class SamplePlan:
    fields: dict[str, Any]
    sampled_by: tuple[str, ...]
    custody: tuple[dict[str, Any], ...]
    results: tuple[dict[str, Any], ...]


@dataclass
class ShiftRecords:
    entries: list[EntryPlan] = field(default_factory=list)
    samples: list[SamplePlan] = field(default_factory=list)
    handoff: str = ""


def round_times(plan: ShiftPlan) -> list[datetime]:
    return [plan.start + offset * MINUTE for offset, _ in ROUNDS]


def _ack_text(tag: str, code: str) -> str:
    if tag == "aeration.do" and code.startswith("lo"):
        return (
            "Checked both blowers and the DO probe: blower 1 at full output, blower 2"
            " staged as the load allows. Raised the DO setpoint; DO recovering."
        )
    if tag == "aeration.do":
        return "DO high at light load; blower 2 staged off on its own. No action needed."
    if tag.endswith(".flow"):
        return (
            "Storm flow. Checked the lift station, both pumps running; clarifier weirs"
            " clear, no solids carry-over. Watching the effluent turbidity."
        )
    if tag.startswith("disinfection"):
        return (
            "Checked the hypochlorite feed pump and day tank; raised the dose and"
            " confirmed the residual with the handheld colorimeter."
        )
    return "Checked on site; the value came back within its limits."


def _acks(plan: ShiftPlan, events: Sequence[EventRow], names: Mapping[int, str]) -> list[int]:
    """The events of the shift's time that its holder of charge acknowledges."""
    return [
        i
        for i, e in enumerate(events)
        if e.severity in ("warning", "alarm")
        and plan.start <= e.started_at < plan.end - 20 * MINUTE
        and plan.on_site(plan.in_charge, e.started_at + 12 * MINUTE)
        and e.tag_id in names
    ]


def plan_shift(
    plan: ShiftPlan,
    rounds: Mapping[datetime, Mapping[str, float]],
    events: Sequence[EventRow],
    tag_names: Mapping[int, str],
    rng: random.Random,
) -> ShiftRecords:
    """One shift's records, in the order they happened."""
    out = ShiftRecords()
    ic = plan.in_charge
    trainee = "trainee" if plan.trainee else None
    local_day = plan.start  # weekday of the shift's start, in the plant's zone below
    entries = out.entries

    def at(minutes: float) -> datetime:
        return plan.start + timedelta(minutes=minutes)

    entries.append(
        EntryPlan(
            "inspection",
            {
                "location": "Headworks, lift station, aeration basins, clarifiers, contact tank",
                "finding": rng.choice(
                    [
                        "Start-of-shift walk-through: all running equipment normal, no alarms"
                        " standing.",
                        "Walk-through: bar screen clear, both lift pumps cycling normally,"
                        " aeration even across the basins.",
                        "Walk-through: clarifier weirs level, no floating sludge, contact tank"
                        " clear.",
                    ]
                ),
                "condition": "ok",
            },
            at(20),
            ic,
        )
    )
    for n, ((_, tags), when) in enumerate(zip(ROUNDS, round_times(plan), strict=True)):
        values = rounds.get(when)
        if values is None:
            continue
        author = trainee if trainee and n == 1 else ic
        for k, (tag, decimals) in enumerate(tags):
            entries.append(
                EntryPlan(
                    "reading",
                    {"value": round(values[tag], decimals), "notes": "round"},
                    when + k * MINUTE,
                    author,
                    tag=tag,
                    verify=author == trainee,
                )
            )
    weekday = local_day.weekday()
    if plan.label == "Day":
        _day_work(plan, weekday, rounds, rng, out)
    elif plan.label == "Swing":
        entries.append(
            EntryPlan(
                "observation",
                {
                    "text": rng.choice(
                        [
                            "Clarifier effluent clear, no floatables.",
                            "Light brown foam on aeration basin 2, not spreading.",
                            "Sludge blanket in clarifier 1 about 0.6 m, steady.",
                            "Odour at the headworks in the evening peak; scrubber running.",
                        ]
                    ),
                    "location": "Process area",
                },
                at(190),
                ic,
            )
        )
        if trainee:
            entries.append(
                EntryPlan(
                    "inspection",
                    {
                        "location": "Lift station",
                        "finding": "Both pumps alternate as lead; no unusual noise or heat.",
                        "condition": "ok",
                    },
                    at(150),
                    trainee,
                    verify=True,
                )
            )
    elif weekday == 5:
        entries.append(
            EntryPlan(
                "cleaning",
                {"what": "Bar screen and screenings chute", "method": "raked and hosed down"},
                at(130),
                ic,
            )
        )
    for i in _acks(plan, events, tag_names):
        e = events[i]
        tag = tag_names[e.tag_id or 0]
        when = e.started_at + timedelta(minutes=rng.randint(4, 11))
        entries.append(
            EntryPlan("alarm_ack", {"response": _ack_text(tag, e.code)}, when, ic, event=i)
        )
        if tag == "aeration.do" and e.code == "lo_lo":
            entries.append(
                EntryPlan(
                    "process_adjustment",
                    {
                        "what": "Aeration DO setpoint",
                        "from_value": "2.0",
                        "to_value": "2.5",
                        "unit": "mg/L",
                        "reason": "low DO at the peak load",
                    },
                    when + 2 * MINUTE,
                    ic,
                )
            )
    entries.append(
        EntryPlan(
            "note",
            {"text": "Shift handed over; all running normally."},
            plan.end - 40 * MINUTE,
            ic,
        )
    )
    # A person who left early wrote nothing after they left.
    out.entries = sorted((e for e in entries if plan.on_site(e.author, e.at)), key=lambda e: e.at)
    out.handoff = _handoff(plan, out)
    return out


def _day_work(
    plan: ShiftPlan,
    weekday: int,
    rounds: Mapping[datetime, Mapping[str, float]],
    rng: random.Random,
    out: ShiftRecords,
) -> None:
    """The day shift's chemicals, maintenance, cleaning, safety and samples."""
    ic = plan.in_charge
    trainee = "trainee" if plan.trainee else None
    entries = out.entries

    def at(minutes: float) -> datetime:
        return plan.start + timedelta(minutes=minutes)

    first = rounds.get(round_times(plan)[0])
    dose = first["disinfection.cl2.dose_rate"] if first else 3.0
    # A day of hypochlorite at the morning's dose rate (12.5 %, about 0.15 kg Cl2 a litre).
    litres = max(20, round(dose * 24 / 0.15, -1))
    entries.append(
        EntryPlan(
            "chemical_addition",
            {
                "chemical": "Sodium hypochlorite 12.5 %",
                "amount": float(litres),
                "unit": "L",
                "feed_point": "Hypochlorite day tank to the chlorine contact tank",
            },
            at(150),
            ic,
        )
    )
    if weekday == 0:
        entries.append(
            EntryPlan(
                "safety",
                {
                    "text": "Tailgate meeting: wet-well entry is a permit-required confined"
                    " space; gas monitor bump-tested.",
                    "category": "confined_space",
                },
                at(15),
                ic,
            )
        )
        entries.append(
            EntryPlan(
                "maintenance",
                {
                    "equipment": "Lift pumps 1 and 2",
                    "work": "lubrication",
                    "description": "Greased the motor and pump bearings, two shots each.",
                    "lubricant": "Polyrex EM",
                },
                at(200),
                ic,
            )
        )
    elif weekday in (1, 4):
        entries.append(
            EntryPlan(
                "cleaning",
                {"what": "Secondary clarifier weirs and launders", "method": "brushed, hosed"},
                at(240),
                ic,
            )
        )
    elif weekday == 2:
        entries.append(
            EntryPlan(
                "maintenance",
                {
                    "equipment": "Blower 2",
                    "work": "preventive",
                    "description": "Checked belt tension and the inlet filter; filter"
                    " changed, belts fine.",
                },
                at(200),
                ic,
            )
        )
    elif weekday == 3:
        entries.append(
            EntryPlan(
                "maintenance",
                {
                    "equipment": "Aeration DO probe",
                    "work": "calibration",
                    "description": "Air calibration and check against the handheld meter:"
                    " within 0.1 mg/L.",
                },
                at(270),
                ic,
            )
        )
    if trainee:
        entries.append(
            EntryPlan(
                "inspection",
                {
                    "location": "Chlorine contact tank and hypochlorite room",
                    "finding": "No leaks at the feed pump; day tank level as logged.",
                    "condition": "ok",
                },
                at(180),
                trainee,
                verify=True,
            )
        )
    # A trainee samples on their own, the one in charge watching: a sampler could not
    # verify the sampling that the site's policy wants directly supervised.
    samplers = (trainee,) if trainee else (ic,)
    if weekday in (1, 3):
        out.samples.append(_composite(plan.start + 60 * MINUTE, samplers, ic, rng))
    elif weekday == 2:
        out.samples.append(_ecoli(plan.start + 180 * MINUTE, samplers, ic, rng))


def _custody(who: str, sampled: datetime) -> tuple[dict[str, Any], ...]:
    return (
        {
            "relinquished_by": who,
            "received_by": COURIER,
            "at": sampled + timedelta(minutes=150),
            "condition": "Sealed, on ice",
            "temperature_c": 3.8,
        },
    )


def _result(
    analyte: str, code: str, method: str, analyzed: datetime, unit: str, value: float
) -> dict[str, Any]:
    return {
        "analyte": analyte,
        "parameter_code": code,
        "method": method,
        "analyzed_at": analyzed,
        "analyst_name": "J. Ortiz",
        "lab": LAB,
        "value": value,
        "unit": unit,
    }


def _composite(
    sampled: datetime, samplers: tuple[str, ...], ic: str, rng: random.Random
) -> SamplePlan:
    """The 24-hour flow-paced composite for BOD and TSS."""
    bod = round(min(22.0, max(3.0, rng.gauss(9.0, 2.5))), 1)
    tss = round(min(22.0, max(3.0, rng.gauss(10.0, 3.0))), 1)
    return SamplePlan(
        {
            "sample_point": EFFLUENT,
            "sample_type": "composite",
            "sampled_at": sampled,
            "composite_start": sampled - timedelta(hours=24),
            "composite_end": sampled,
            "composite_kind": "flow",
            "container": "4 L cubitainer",
            "preservation": "Cooled to 4 C",
        },
        samplers,
        _custody(ic, sampled),
        (
            _result("BOD5", "00310", "SM 5210 B", sampled + timedelta(hours=5), "mg/L", bod),
            _result("TSS", "00530", "SM 2540 D", sampled + timedelta(hours=6), "mg/L", tss),
        ),
    )


def _ecoli(sampled: datetime, samplers: tuple[str, ...], ic: str, rng: random.Random) -> SamplePlan:
    """The weekly E. coli grab; now and then below the method's detection limit."""
    mpn = round(math.exp(rng.gauss(2.3, 0.9)), 1)
    result = _result(
        "E. coli", "51040", "SM 9223 B", sampled + timedelta(hours=4), "MPN/100mL", mpn
    )
    if mpn < 1.0:
        result.update(value=1.0, qualifier="<", detection_limit=1.0)
    return SamplePlan(
        {
            "sample_point": EFFLUENT,
            "sample_type": "grab",
            "sampled_at": sampled,
            "container": "120 mL sterile bottle with thiosulfate",
            "preservation": "Cooled to 4 C",
        },
        samplers,
        _custody(ic, sampled),
        (result,),
    )


def _handoff(plan: ShiftPlan, records: ShiftRecords) -> str:
    acks = sum(e.kind == "alarm_ack" for e in records.entries)
    parts = [f"{plan.label} shift: plant running normally."]
    if acks:
        parts.append(f"{acks} alarm(s) this shift, acknowledged in the log.")
    if records.samples:
        parts.append("Samples went to the lab with the courier.")
    return " ".join(parts)


def plan_records(
    plans: Sequence[ShiftPlan],
    rounds: Mapping[datetime, Mapping[str, float]],
    events: Sequence[EventRow],
    tag_names: Mapping[int, str],
    seed: int,
    tz: Any,
) -> list[ShiftRecords]:
    """Every shift's records; one round reading in the middle of the period was typed
    with its digits transposed and is corrected by an amendment."""
    out = []
    for i, plan in enumerate(plans):
        rng = random.Random(seed * 1_000_003 + i)
        local = ShiftPlan(plan.label, plan.start.astimezone(tz), plan.end, plan.crew)
        records = plan_shift(local, rounds, events, tag_names, rng)
        out.append(records)
    return _with_typo(out, len(plans) // 2)


def _with_typo(records: list[ShiftRecords], middle: int) -> list[ShiftRecords]:
    for shift in records[middle:] + records[:middle]:
        for k, e in enumerate(shift.entries):
            value = e.data.get("value")
            if e.tag != "effluent.ph" or value is None:
                continue
            text = f"{value:.2f}"
            typed = float(text[0] + text[1] + text[3] + text[2])
            if typed == value:
                continue
            shift.entries[k] = EntryPlan(
                e.kind,
                {**e.data, "value": typed},
                e.at,
                e.author,
                tag=e.tag,
                verify=e.verify,
                amendment=(
                    {"data": {"value": value}},
                    f"Digits transposed when typing: the meter read {text}",
                ),
            )
            return records
    return records
