"""The site's permit parameters: what the DMR reports and where each value comes from.

Lives in the site YAML under ``permit:``::

    permit:
      number: UT0021717
      below_detection: zero          # zero | half_limit | limit
      parameters:
        - name: Flow, total
          code: "50050"              # 5-digit parameter code
          location: "1"              # monitoring location (1 = effluent gross)
          tag: effluent.total        # or analyte: tss
          daily: total               # total | avg | min | max | hours | lab
          statistical_base: MO TOTAL # see STATISTICAL_BASES
          unit: m3
          limit: {max: 1500}         # optional: max and/or min
          no_data_code: E            # reported when the value is missing
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from dashboards.exports.mor import Column, Daily, Monthly
from dashboards.exports.statistics import BelowDetection

# Statistical base codes of a DMR and the monthly statistic of daily values behind each.
STATISTICAL_BASES: dict[str, Monthly] = {
    "MO AVG": Monthly.AVG,
    "30DA AVG": Monthly.AVG,
    "DAILY MX": Monthly.MAX,
    "DAILY MN": Monthly.MIN,
    "MO GEOMN": Monthly.GEOMEAN,
    "MO TOTAL": Monthly.TOTAL,
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Limit(_Strict):
    max: float | None = None
    min: float | None = None


class Parameter(_Strict):
    name: str = Field(min_length=1)
    code: str = Field(pattern=r"^\d{5}$", description="5-digit parameter code")
    location: str = Field(pattern=r"^[0-9A-Z]{1,2}$")
    tag: str | None = None
    analyte: str | None = None
    daily: Daily
    statistical_base: Literal["MO AVG", "30DA AVG", "DAILY MX", "DAILY MN", "MO GEOMN", "MO TOTAL"]
    unit: str = Field(min_length=1)
    limit: Limit | None = None
    no_data_code: str = Field("E", pattern=r"^[0-9A-Z]$")

    @model_validator(mode="after")
    def _one_source(self) -> Parameter:
        if (self.tag is None) == (self.analyte is None):
            raise ValueError("give exactly one of tag: or analyte:")
        if (self.daily is Daily.LAB) != (self.analyte is not None):
            raise ValueError("daily: lab goes with analyte:, the other kinds with tag:")
        return self

    @property
    def monthly(self) -> Monthly:
        return STATISTICAL_BASES[self.statistical_base]

    @property
    def key(self) -> str:
        return f"{self.code}-{self.location}-{self.statistical_base}"

    def column(self) -> Column:
        return Column(
            self.key,
            self.name,
            self.unit,
            self.daily,
            self.analyte or self.tag or "",
            (self.monthly,),
        )


class Permit(_Strict):
    number: str = Field(min_length=1)
    below_detection: BelowDetection = BelowDetection.ZERO
    parameters: list[Parameter] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Permit:
        seen: set[str] = set()
        for p in self.parameters:
            if p.key in seen:
                raise ValueError(
                    f"parameter {p.code} at location {p.location} with "
                    f"{p.statistical_base} is listed twice"
                )
            seen.add(p.key)
        return self
