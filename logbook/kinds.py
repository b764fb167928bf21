"""Entry kinds: each with its own validated fields, and whether it is operational.

Operational activity (DOMAIN §4 rule 1; VT §1, §2) is anything that changes how
the plant runs: adjusting valves or controls, dosing chemicals, process-control
tests, working on process equipment. Those kinds need a certified operator on
site; the compliance module checks that against ``operational``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from clearwell.params import Id

Text = Annotated[str, Field(min_length=1, max_length=500)]
LongText = Annotated[str, Field(min_length=1, max_length=10_000)]
OptText = Annotated[str, Field(max_length=500)]


class _Kind(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Reading(_Kind):
    """A meter or gauge read on a round: a tag, or free text naming the instrument."""

    tag_id: Id | None = None
    instrument: OptText = ""
    value: float = Field(allow_inf_nan=False)
    unit: Text
    notes: OptText = ""

    @model_validator(mode="after")
    def _names_what(self) -> Reading:
        if self.tag_id is None and not self.instrument:
            raise ValueError("name the meter or gauge: give tag_id or instrument")
        return self


class ChemicalAddition(_Kind):
    chemical: Text
    amount: float = Field(gt=0, allow_inf_nan=False)
    unit: Text
    feed_point: Text
    notes: OptText = ""


class ProcessAdjustment(_Kind):
    """What was changed, from what, to what (a setpoint, valve, blower, pump…)."""

    what: Text
    from_value: Text
    to_value: Text
    unit: OptText = ""
    reason: OptText = ""


class Maintenance(_Kind):
    equipment: Text
    work: Literal["lubrication", "preventive", "corrective", "calibration", "other"]
    description: LongText
    lubricant: OptText = ""
    out_of_service: bool = False

    @model_validator(mode="after")
    def _lubricant_only_for_lubrication(self) -> Maintenance:
        if self.lubricant and self.work != "lubrication":
            raise ValueError("lubricant is only recorded for work 'lubrication'")
        return self


class Inspection(_Kind):
    location: Text
    finding: LongText
    condition: Literal["ok", "attention", "defect"] = "ok"
    action_needed: OptText = ""


class Cleaning(_Kind):
    what: Text
    method: OptText = ""
    notes: OptText = ""


class AlarmAck(_Kind):
    """Acknowledges a collector event (``events.id``) with what was done about it."""

    event_id: Id
    response: LongText


class Observation(_Kind):
    text: LongText
    location: OptText = ""


class Safety(_Kind):
    text: LongText
    category: Literal[
        "ppe", "confined_space", "lockout_tagout", "chemical", "incident", "near_miss", "other"
    ] = "other"


class Note(_Kind):
    text: LongText


KINDS: dict[str, type[_Kind]] = {
    "reading": Reading,
    "chemical_addition": ChemicalAddition,
    "process_adjustment": ProcessAdjustment,
    "maintenance": Maintenance,
    "inspection": Inspection,
    "cleaning": Cleaning,
    "alarm_ack": AlarmAck,
    "observation": Observation,
    "safety": Safety,
    "note": Note,
}

# Reading process meters and acknowledging alarms are monitoring, not operation;
# cleaning filter beds and tanks (competency framework) and maintenance on
# process equipment are operation duties.
OPERATIONAL_KINDS = frozenset(
    {"chemical_addition", "process_adjustment", "maintenance", "cleaning"}
)


def is_operational(kind: str) -> bool:
    return kind in OPERATIONAL_KINDS


class KindError(ValueError):
    """Invalid entry data: ``errors`` are (field path, reason) pairs."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{f}: {r}" for f, r in errors))


def validate_entry_data(kind: str, data: Any) -> dict[str, Any]:
    """The kind's fields, validated and normalised, or KindError naming each bad field."""
    model = KINDS.get(kind)
    if model is None:
        raise KindError([("kind", f"unknown kind {kind!r}; one of {', '.join(KINDS)}")])
    try:
        return model.model_validate(data).model_dump(mode="json")
    except ValidationError as exc:
        raise KindError(
            [(".".join(str(p) for p in ("data", *err["loc"])), err["msg"]) for err in exc.errors()]
        ) from None
