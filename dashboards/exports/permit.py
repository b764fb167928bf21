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
          limit: {max: 1500}         # optional: max and/or min, on that statistic (a DAILY
                                     # MX or MN limit: on every day's value too)
          no_data_code: E            # reported when the value is missing
      report:                        # optional: MOR columns that are not permit parameters
        - {name: Hours of operation, tag: aeration.blower1.running, daily: hours, unit: h,
           monthly: [total]}
        - {name: Chlorine residual, tag: disinfection.cl2.residual, daily: avg, unit: mg/L}
      responsible_charge: chief      # username of the operator in responsible charge

The file is read with :func:`load_site_permit`, whose errors name the file, the
line and the field, as the ingest loader's do for the rest of the site file.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from dashboards.exports.mor import Column, Daily, Monthly
from dashboards.exports.mor import Limit as MorLimit
from dashboards.exports.statistics import BelowDetection
from sitefile.load import Loc, index_lines, problems_from, read_config
from sitefile.models import SiteConfig

# Statistical base codes of a DMR and the monthly statistic of daily values behind each.
STATISTICAL_BASES: dict[str, Monthly] = {
    "MO AVG": Monthly.AVG,
    "30DA AVG": Monthly.AVG,
    # A weekly (7-day) average: the highest calendar-week average of the month.
    "WKLY AVG": Monthly.WEEK_AVG,
    "7 DA AVG": Monthly.WEEK_AVG,
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
    statistical_base: Literal[
        "MO AVG", "30DA AVG", "WKLY AVG", "7 DA AVG", "DAILY MX", "DAILY MN", "MO GEOMN", "MO TOTAL"
    ]
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

    @property
    def limits(self) -> tuple[MorLimit, ...]:
        """The permit's limit on this parameter's statistic, if it has one."""
        if self.limit is None or (self.limit.min is None and self.limit.max is None):
            return ()
        return (MorLimit(self.statistical_base, self.monthly, self.limit.min, self.limit.max),)

    def column(self) -> Column:
        return Column(
            self.key,
            self.name,
            self.unit,
            self.daily,
            self.analyte or self.tag or "",
            (self.monthly,),
            self.limits,
        )


class ReportColumn(_Strict):
    """A column of the monthly operating report that is not a permit parameter."""

    name: str = Field(min_length=1)
    tag: str | None = None
    analyte: str | None = None
    daily: Daily
    unit: str = Field(min_length=1)
    monthly: list[Monthly] = Field(
        default_factory=lambda: [Monthly.AVG, Monthly.MAX, Monthly.MIN], min_length=1
    )

    @model_validator(mode="after")
    def _one_source(self) -> ReportColumn:
        if (self.tag is None) == (self.analyte is None):
            raise ValueError("give exactly one of tag: or analyte:")
        if (self.daily is Daily.LAB) != (self.analyte is not None):
            raise ValueError("daily: lab goes with analyte:, the other kinds with tag:")
        return self


def _column_key(daily: Daily, source: str) -> str:
    return f"{daily.value}:{source}"


class Permit(_Strict):
    number: str = Field(min_length=1)
    below_detection: BelowDetection = BelowDetection.ZERO
    parameters: list[Parameter] = Field(min_length=1)
    report: list[ReportColumn] = []
    responsible_charge: str | None = Field(None, min_length=1)

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

    def mor_columns(self) -> list[Column]:
        """The report's columns: one per source and daily kind, with every monthly
        statistic the permit parameters and report columns ask of it and the parameters'
        limits, in file order."""
        found: dict[str, tuple[str, str, Daily, str, list[Monthly], list[MorLimit]]] = {}
        items: list[tuple[str, str, Daily, str, Iterable[Monthly], tuple[MorLimit, ...]]] = [
            (p.name, p.unit, p.daily, p.analyte or p.tag or "", (p.monthly,), p.limits)
            for p in self.parameters
        ] + [
            (c.name, c.unit, c.daily, c.analyte or c.tag or "", c.monthly, ()) for c in self.report
        ]
        for name, unit, daily, source, stats, limits in items:
            key = _column_key(daily, source)
            entry = found.setdefault(key, (name, unit, daily, source, [], []))
            entry[4].extend(s for s in stats if s not in entry[4])
            entry[5].extend(limits)
        return [
            Column(key, name, unit, daily, source, tuple(stats), tuple(limits))
            for key, (name, unit, daily, source, stats, limits) in found.items()
        ]

    def dmr_monthly(self, monthly: dict[str, dict[Monthly, Any]]) -> dict[str, dict[Monthly, Any]]:
        """The report's monthly statistics keyed by permit parameter (``Parameter.key``)."""
        out = {}
        for p in self.parameters:
            per = monthly.get(_column_key(p.daily, p.analyte or p.tag or ""), {})
            if p.monthly in per:
                out[p.key] = {p.monthly: per[p.monthly]}
        return out

    def tags(self) -> set[str]:
        return {c.source for c in self.mor_columns() if c.daily is not Daily.LAB}

    def analytes(self) -> set[str]:
        return {c.source for c in self.mor_columns() if c.daily is Daily.LAB}


def permit_from(config: SiteConfig, text: str, path: str) -> Permit:
    """The permit of a validated site configuration; ``text`` is the file, for line numbers."""
    # Imported here: the site file's error type is what the rest of it reports with.
    from sitefile.load import SiteConfigError

    if config.permit is None:
        raise SiteConfigError(path, [(None, "permit", "the site file has no permit: section")])
    try:
        return Permit.model_validate(config.permit)
    except ValidationError as exc:
        lines: dict[Loc, int] = {}
        root = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        if root is not None:
            index_lines(root, (), lines)
        # The permit's models have no tuple fields: a key spelled "tuple[..." is the
        # file's own and is named, so only validator parts are dropped here.
        problems = problems_from(exc, lines, ("permit",), non_field=("function-",))
        raise SiteConfigError(path, problems) from None


def load_site_permit(path: str | Path) -> tuple[SiteConfig, Permit]:
    """The site configuration file and its validated permit section."""
    config, text = read_config(path)
    return config, permit_from(config, text, str(path))
