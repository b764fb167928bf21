"""Samples and results as 40 CFR 122.41(j) needs them: validated field sets, pure."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from clearwell.params import Id, Instant

# How long after it was taken a sample may be recorded (results typed in from paper):
# as long as records are kept, five years (logbook.write.rules.OLDEST_RECORD).
OLDEST_SAMPLE = timedelta(days=5 * 366)
# The times of a sample a person gives, judged by ``time_problems``.
SAMPLE_TIMES = ("sampled_at", "composite_start", "composite_end")
TOO_OLD = "is more than 5 years before the sample was recorded"

Text = Annotated[str, Field(min_length=1, max_length=200)]
OptText = Annotated[str, Field(max_length=2000)]
Qualifier = Literal["<", ">", "ND", "estimated"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SampleFields(_Model):
    """Where, when and how a sample was taken. A composite names its window."""

    sample_point: Text
    sample_type: Literal["grab", "composite"]
    sampled_at: Instant
    composite_start: Instant | None = None
    composite_end: Instant | None = None
    composite_kind: Literal["time", "flow"] | None = None
    container: OptText = ""
    preservation: OptText = ""
    notes: OptText = ""

    @model_validator(mode="after")
    def _window(self) -> SampleFields:
        if self.sample_type == "composite":
            if self.composite_start is None or self.composite_end is None:
                raise ValueError("a composite sample needs composite_start and composite_end")
            if self.composite_end <= self.composite_start:
                raise ValueError("composite_end must be after composite_start")
            if self.composite_kind is None:
                raise ValueError("a composite sample needs composite_kind (time or flow)")
        elif self.composite_start or self.composite_end or self.composite_kind:
            raise ValueError("a grab sample has no composite window")
        return self


class CustodyFields(_Model):
    """One hand-over in the chain of custody (people or a lab, by name)."""

    relinquished_by: Text
    received_by: Text
    at: Instant
    condition: OptText = ""
    temperature_c: float | None = Field(None, ge=-30, le=100, allow_inf_nan=False)


class ResultFields(_Model):
    """One analyte's result. Below detection keeps its qualifier and detection limit."""

    analyte: Text
    parameter_code: Annotated[str, Field(pattern=r"^[0-9]{5}$")] | None = None
    method: Text
    analyzed_at: Instant
    analyst_id: Id | None = None
    analyst_name: Annotated[str, Field(max_length=200)] | None = None
    lab: OptText = ""
    value: float | None = Field(None, allow_inf_nan=False)
    unit: Text
    qualifier: Qualifier | None = None
    detection_limit: float | None = Field(None, gt=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _rules(self) -> ResultFields:
        if self.analyst_id is None and not self.analyst_name:
            raise ValueError("name the analyst: analyst_id (a person) or analyst_name")
        if self.qualifier in ("<", "ND") and self.detection_limit is None:
            raise ValueError(f"a result qualified {self.qualifier!r} needs its detection_limit")
        if self.value is None and self.qualifier != "ND":
            raise ValueError("value is required unless the qualifier is 'ND'")
        if (
            self.qualifier == "<"
            and self.value is not None
            and self.detection_limit is not None
            and self.value > self.detection_limit
        ):
            raise ValueError("a '<' result cannot be above its detection limit")
        return self


def analysis_after_sampling(sampled_at: datetime, analyzed_at: datetime) -> bool:
    return analyzed_at >= sampled_at


def time_problems(
    times: Mapping[str, datetime | None], earliest: datetime, latest: datetime, too_early: str
) -> list[tuple[str, str]]:
    """(field, why) for each time given that is after ``latest`` (now, with a little clock
    skew) or before ``earliest`` (``too_early`` says what that is); a year such as 1900 or
    2099 is one or the other."""
    out = []
    for field, at in times.items():
        if at is None:
            continue
        if at > latest:
            out.append((field, "is in the future"))
        elif at < earliest:
            out.append((field, too_early))
    return out
