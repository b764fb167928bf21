"""A small activated-sludge plant: influent, lift station, aeration, clarifier effluent, chlorine.

Driving signals (influent diurnal curve, rain events, slow drifts, blower
maintenance windows) are pure functions of (seed, time); the rest is state
integrated by :meth:`PlantModel.step` in sub-steps of at most one second
(``max_substep_s``; up to a minute stays stable, for generating history fast).
Rates in the comments are per hour, as operators think of them.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, tzinfo
from types import MappingProxyType
from zoneinfo import ZoneInfo

from simulators.model.base import Value, Variable
from simulators.model.signals import events_at, uniform, value_noise

MAX_SUBSTEP_S = 1.0

# Noise channels: one per independent signal so they do not move together.
_CH_FLOW, _CH_RAIN, _CH_MLSS, _CH_TEMP, _CH_PH_IN, _CH_PH_IN_FAST = 1, 2, 3, 4, 5, 6
_CH_PH_EFF, _CH_TURB, _CH_DEMAND, _CH_OUR, _CH_AIR, _CH_MAINT, _CH_TOTAL = 7, 8, 9, 10, 11, 12, 13

WETWELL_AREA_M2 = 60.0
WETWELL_DEPTH_M = 5.0
PUMP_CAPACITY_M3H = 900.0
LEAD_START_M, LAG_START_M, LAG_STOP_M, ALL_STOP_M = 2.4, 3.2, 1.8, 1.0
LEVEL_HIGH_ON_M, LEVEL_HIGH_OFF_M = 3.6, 3.4

DRY_WEATHER_M3H = 700.0
PLANT_FLOW_LAG_H = 0.25
BLOWER_AIR_M3H = 2500.0
KLA_PER_BLOWER_H = 3.0
DO_BLOWER2_ON, DO_BLOWER2_OFF = 1.2, 2.8
DO_LOW_ON, DO_LOW_OFF = 0.5, 0.8

CONTACT_TANK_M3 = 450.0
CL2_TARGET_MGL = 1.3
CL2_RESIDUAL_LAG_H = 0.3
CL2_LOW_ON, CL2_LOW_OFF = 0.5, 0.7


def _v(name: str, kind: str, unit: str, lo: float, hi: float, description: str) -> Variable:
    return Variable(name, kind, unit, lo, hi, description)  # type: ignore[arg-type]


VARIABLES: tuple[Variable, ...] = (
    _v("influent.flow", "analog", "m3/h", 0, 2500, "Influent flow"),
    _v("influent.total", "counter", "m3", 0, 4e8, "Influent flow totalizer"),
    _v("influent.ph", "analog", "pH", 0, 14, "Influent pH"),
    _v("influent.temperature", "analog", "degC", 0, 40, "Influent temperature"),
    _v("liftstation.wetwell.level", "analog", "m", 0, WETWELL_DEPTH_M, "Wet-well level"),
    _v("liftstation.pump1.running", "bool", "", 0, 1, "Lift pump 1 running"),
    _v("liftstation.pump2.running", "bool", "", 0, 1, "Lift pump 2 running"),
    _v("liftstation.pump1.runtime", "counter", "h", 0, 1e6, "Lift pump 1 run hours"),
    _v("liftstation.pump2.runtime", "counter", "h", 0, 1e6, "Lift pump 2 run hours"),
    _v("liftstation.pump1.starts", "counter", "", 0, 4e9, "Lift pump 1 starts"),
    _v("liftstation.pump2.starts", "counter", "", 0, 4e9, "Lift pump 2 starts"),
    _v("liftstation.discharge.flow", "analog", "m3/h", 0, 2500, "Lift station discharge flow"),
    _v("liftstation.wetwell.level_high", "bool", "", 0, 1, "High wet-well level alarm"),
    _v("aeration.do", "analog", "mg/L", 0, 15, "Aeration basin dissolved oxygen"),
    _v("aeration.mlss", "analog", "mg/L", 0, 10000, "Mixed-liquor suspended solids"),
    _v("aeration.airflow", "analog", "m3/h", 0, 6000, "Aeration air flow"),
    _v("aeration.blower1.running", "bool", "", 0, 1, "Blower 1 running"),
    _v("aeration.blower2.running", "bool", "", 0, 1, "Blower 2 running"),
    _v("aeration.do_low", "bool", "", 0, 1, "Low dissolved oxygen alarm"),
    _v("effluent.flow", "analog", "m3/h", 0, 2500, "Effluent flow"),
    _v("effluent.total", "counter", "m3", 0, 4e8, "Effluent flow totalizer"),
    _v("effluent.ph", "analog", "pH", 0, 14, "Effluent pH"),
    _v("effluent.turbidity", "analog", "NTU", 0, 100, "Effluent turbidity"),
    _v("disinfection.cl2.dose_rate", "analog", "kg/h", 0, 40, "Chlorine dose rate"),
    _v("disinfection.cl2.dose", "analog", "mg/L", 0, 15, "Chlorine dose setpoint"),
    _v("disinfection.cl2.residual", "analog", "mg/L", 0, 5, "Effluent chlorine residual"),
    _v("disinfection.contact_time", "analog", "min", 0, 240, "Chlorine contact time"),
    _v("disinfection.ct", "analog", "mg.min/L", 0, 1200, "Chlorine CT (residual x contact time)"),
    _v("disinfection.cl2.residual_low", "bool", "", 0, 1, "Low chlorine residual alarm"),
)


def _clamp(x: float, lo: float, hi: float) -> float:
    return lo if x < lo else hi if x > hi else x


class PlantModel:
    """The demo plant. ``PlantModel(seed=1, start=…)`` then ``step(dt)`` and ``values()``."""

    def __init__(
        self,
        seed: int = 1,
        start: datetime | None = None,
        timezone: str | tzinfo = "America/Denver",
        max_substep_s: float = MAX_SUBSTEP_S,
    ) -> None:
        if not 0 < max_substep_s <= 60:
            raise ValueError("max_substep_s must be in (0, 60] seconds")
        self.max_substep_s = max_substep_s
        if start is None:
            start = datetime(2026, 1, 1, tzinfo=UTC)
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        self.seed = seed
        self._tz = ZoneInfo(timezone) if isinstance(timezone, str) else timezone
        self._t = start.timestamp()
        self._offset_hour = math.nan
        self._utc_offset_s = 0.0
        self._variables = MappingProxyType({v.name: v for v in VARIABLES})

        # State that integrates over time, started from seed-chosen plausible values.
        self.level = 1.5 + uniform(seed, _CH_TOTAL, 1)
        self.pumps = [False, False]
        self.lead = 0
        self.runtime_h = [
            1200.0 + 5000.0 * uniform(seed, _CH_TOTAL, 2),
            1200.0 + 5000.0 * uniform(seed, _CH_TOTAL, 3),
        ]
        self.starts = [
            int(500 + 3000 * uniform(seed, _CH_TOTAL, 4)),
            int(500 + 3000 * uniform(seed, _CH_TOTAL, 5)),
        ]
        self.influent_total = 1e6 + 5e6 * uniform(seed, _CH_TOTAL, 6)
        self.effluent_total = self.influent_total * 0.99
        self.plant_flow = DRY_WEATHER_M3H
        self.do = 2.0
        self.blowers = [True, False]
        self.cl2_dose = 5.0
        self.cl2_residual = 1.0
        self.level_high = False
        self.do_low = False
        self.cl2_low = False
        self._values: dict[str, Value] = {}
        self._refresh()

    # -- protocol -----------------------------------------------------------------

    @property
    def variables(self) -> MappingProxyType[str, Variable]:
        return self._variables

    @property
    def time(self) -> datetime:
        return datetime.fromtimestamp(self._t, UTC)

    def step(self, dt: float) -> None:
        if dt < 0 or not math.isfinite(dt):
            raise ValueError(f"dt must be a finite number of seconds >= 0, got {dt}")
        remaining = dt
        while remaining > 1e-12:
            h = min(self.max_substep_s, remaining)
            self._advance(h)
            remaining -= h
        self._refresh()

    def values(self) -> dict[str, Value]:
        return dict(self._values)

    # -- driving signals: pure functions of time ----------------------------------

    def _local_hour(self, t: float) -> float:
        # The UTC offset only changes at DST boundaries; look it up once an hour.
        hour = math.floor(t / 3600.0)
        if hour != self._offset_hour:
            offset = datetime.fromtimestamp(t, self._tz).utcoffset() or timedelta(0)
            self._utc_offset_s = offset.total_seconds()
            self._offset_hour = hour
        return ((t + self._utc_offset_s) / 3600.0) % 24.0

    def rain_flow(self, t: float) -> float:
        """Inflow and infiltration added by storms (m3/h): a few events a week."""
        extra = 0.0
        for start, duration, size in events_at(
            self.seed, _CH_RAIN, t, 6 * 3600.0, 0.1, 2 * 3600.0, 8 * 3600.0
        ):
            x = (t - start) / duration
            # Fast rise, long recession, like a storm hydrograph.
            shape = (x / 0.2) if x < 0.2 else math.exp(-3.0 * (x - 0.2) / 0.8)
            extra += (250.0 + 950.0 * size) * shape
        return extra

    def influent_flow(self, t: float) -> float:
        h = self._local_hour(t)
        diurnal = (
            1.0
            + 0.30 * math.sin(2 * math.pi * (h - 7.0) / 24.0)
            + 0.10 * math.sin(4 * math.pi * (h - 8.5) / 24.0)
        )
        noise = 1.0 + 0.05 * value_noise(self.seed, _CH_FLOW, t, 600.0)
        return _clamp(DRY_WEATHER_M3H * diurnal * noise + self.rain_flow(t), 0.0, 2500.0)

    def _blower2_available(self, t: float) -> bool:
        # Maintenance windows of 2-4 h every few days: the plant then rides on one
        # blower and low-DO alarms arise at the daily peak.
        return not events_at(self.seed, _CH_MAINT, t, 12 * 3600.0, 0.25, 2 * 3600.0, 4 * 3600.0)

    # -- state integration ------------------------------------------------------

    def _advance(self, dt: float) -> None:
        t = self._t + dt
        dt_h = dt / 3600.0
        q_in = self.influent_flow(t)

        # Lift station: level from the inflow/outflow balance, lead/lag control.
        q_pump = PUMP_CAPACITY_M3H * (0.95 + 0.02 * self.level)
        q_out = q_pump * sum(self.pumps)
        self.level = _clamp(
            self.level + (q_in - q_out) * dt_h / WETWELL_AREA_M2, 0.0, WETWELL_DEPTH_M
        )
        lead, lag = self.lead, 1 - self.lead
        if not self.pumps[lead] and self.level >= LEAD_START_M:
            self._start_pump(lead)
        if self.pumps[lead] and not self.pumps[lag] and self.level >= LAG_START_M:
            self._start_pump(lag)
        if self.pumps[lag] and self.level <= LAG_STOP_M:
            self.pumps[lag] = False
        if self.pumps[lead] and self.level <= ALL_STOP_M:
            self.pumps[lead] = False
            self.lead = lag  # alternate duty to even out wear
        for i in (0, 1):
            if self.pumps[i]:
                self.runtime_h[i] += dt_h
        if self.level >= LEVEL_HIGH_ON_M:
            self.level_high = True
        elif self.level <= LEVEL_HIGH_OFF_M:
            self.level_high = False

        # Treatment train: the wet well's pulses are smoothed by the basins.
        self.plant_flow += (q_out - self.plant_flow) * min(1.0, dt_h / PLANT_FLOW_LAG_H)
        q_eff = self.plant_flow * 0.99
        self.influent_total += q_in * dt_h
        self.effluent_total += q_eff * dt_h

        # Aeration: oxygen transfer against uptake, blower 2 staged on DO.
        temp = self._temperature(t)
        do_sat = 14.62 - 0.3898 * temp + 0.006969 * temp**2
        load = max(self.plant_flow, 50.0) / DRY_WEATHER_M3H
        our = 25.0 * load**0.7 * (1.0 + 0.05 * value_noise(self.seed, _CH_OUR, t, 900.0))
        kla = KLA_PER_BLOWER_H * sum(self.blowers)
        self.do = _clamp(self.do + (kla * (do_sat - self.do) - our) * dt_h, 0.0, do_sat)
        available = self._blower2_available(t)
        if not available:
            self.blowers[1] = False
        elif not self.blowers[1] and self.do < DO_BLOWER2_ON:
            self.blowers[1] = True
        elif self.blowers[1] and self.do > DO_BLOWER2_OFF:
            self.blowers[1] = False
        if self.do < DO_LOW_ON:
            self.do_low = True
        elif self.do > DO_LOW_OFF:
            self.do_low = False

        # Chlorine: flow-paced dose, trimmed slowly on residual; demand rises in storms.
        rain = self.rain_flow(t)
        demand = (
            3.5 + 0.8 * value_noise(self.seed, _CH_DEMAND, t, 1800.0) + 2.0 * min(rain / 800.0, 1.5)
        )
        self.cl2_dose = _clamp(
            self.cl2_dose + 2.0 * (CL2_TARGET_MGL - self.cl2_residual) * dt_h, 2.0, 12.0
        )
        target = _clamp(self.cl2_dose - demand, 0.0, 5.0)
        self.cl2_residual += (target - self.cl2_residual) * min(1.0, dt_h / CL2_RESIDUAL_LAG_H)
        if self.cl2_residual < CL2_LOW_ON:
            self.cl2_low = True
        elif self.cl2_residual > CL2_LOW_OFF:
            self.cl2_low = False
        self._t = t

    def _start_pump(self, i: int) -> None:
        self.pumps[i] = True
        self.starts[i] += 1

    def _temperature(self, t: float) -> float:
        h = self._local_hour(t)
        return (
            17.0
            + 0.6 * math.sin(2 * math.pi * (h - 15.0) / 24.0)
            + 0.4 * value_noise(self.seed, _CH_TEMP, t, 3 * 3600.0)
        )

    def _refresh(self) -> None:
        t = self._t
        seed = self.seed
        q_in = self.influent_flow(t)
        rain = self.rain_flow(t)
        q_eff = self.plant_flow * 0.99
        q_pump = PUMP_CAPACITY_M3H * (0.95 + 0.02 * self.level)
        mlss = (
            3000.0
            + 250.0 * math.sin(2 * math.pi * t / (5 * 86400.0))
            + 80.0 * value_noise(seed, _CH_MLSS, t, 3 * 3600.0)
            - 150.0 * min(rain / 1000.0, 1.0)
        )
        turbidity = (
            0.8
            + 0.3 * value_noise(seed, _CH_TURB, t, 1200.0)
            + 4.0 * max(0.0, q_eff / 1400.0 - 1.0) ** 1.5 * 10.0
        )
        contact = _clamp(CONTACT_TANK_M3 / max(q_eff, 1e-6) * 60.0, 0.0, 240.0)
        airflow = (
            BLOWER_AIR_M3H * sum(self.blowers) * (1.0 + 0.02 * value_noise(seed, _CH_AIR, t, 300.0))
        )
        residual = _clamp(self.cl2_residual, 0.0, 5.0)
        self._values = {
            "influent.flow": q_in,
            "influent.total": self.influent_total,
            "influent.ph": _clamp(
                7.3
                + 0.15 * value_noise(seed, _CH_PH_IN, t, 1800.0)
                + 0.04 * value_noise(seed, _CH_PH_IN_FAST, t, 120.0)
                - 0.2 * min(rain / 1000.0, 1.0),
                0.0,
                14.0,
            ),
            "influent.temperature": _clamp(self._temperature(t), 0.0, 40.0),
            "liftstation.wetwell.level": self.level,
            "liftstation.pump1.running": self.pumps[0],
            "liftstation.pump2.running": self.pumps[1],
            "liftstation.pump1.runtime": self.runtime_h[0],
            "liftstation.pump2.runtime": self.runtime_h[1],
            "liftstation.pump1.starts": float(self.starts[0]),
            "liftstation.pump2.starts": float(self.starts[1]),
            "liftstation.discharge.flow": q_pump * sum(self.pumps),
            "liftstation.wetwell.level_high": self.level_high,
            "aeration.do": self.do,
            "aeration.mlss": _clamp(mlss, 0.0, 10000.0),
            "aeration.airflow": _clamp(airflow, 0.0, 6000.0),
            "aeration.blower1.running": self.blowers[0],
            "aeration.blower2.running": self.blowers[1],
            "aeration.do_low": self.do_low,
            "effluent.flow": q_eff,
            "effluent.total": self.effluent_total,
            "effluent.ph": _clamp(7.0 + 0.08 * value_noise(seed, _CH_PH_EFF, t, 2400.0), 0.0, 14.0),
            "effluent.turbidity": _clamp(turbidity, 0.0, 100.0),
            "disinfection.cl2.dose_rate": _clamp(q_eff * self.cl2_dose / 1000.0, 0.0, 40.0),
            "disinfection.cl2.dose": self.cl2_dose,
            "disinfection.cl2.residual": residual,
            "disinfection.contact_time": contact,
            "disinfection.ct": _clamp(residual * contact, 0.0, 1200.0),
            "disinfection.cl2.residual_low": self.cl2_low,
        }
