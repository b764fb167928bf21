"""The plant model stepped through the history, stored as the collectors would have stored it.

A minute a step (the model is stable at one-minute sub-steps): every tag's value is read
as the collectors read it (the register's resolution, a bit as 1.0 or 0.0) and goes
through ingest's own tag state, so the history keeps what the collectors keep (a tag
with a deadband when it moved past it, or once its longest silence passed; others every
step) and raises and clears the limit events they would raise. Pure: no clock, no I/O.

The live simulator continues the same model (:func:`live_model`): started at the
history's start and stepped to now, its totalizers and run hours go on from where the
history left them instead of starting over.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from ingest.events import EventChange
from ingest.readings import Row
from ingest.tagstate import TagState
from simulators.model import PlantModel, Value
from simulators.model.plant import MAX_SUBSTEP_S
from simulators.registers import quantize
from sitefile.models import BIT_REGISTERS, SiteConfig, Tag

STEP_S = 60.0
STEP = timedelta(seconds=STEP_S)


def history_model(seed: int, start: datetime) -> PlantModel:
    """The plant as it was at the history's start."""
    return PlantModel(seed=seed, start=start, max_substep_s=STEP_S)


def live_model(seed: int, start: datetime, now: datetime) -> PlantModel:
    """The model of a history begun at ``start``, brought to ``now`` in the history's steps
    (so it passes through the same states) and then run at the simulator's resolution."""
    model = history_model(seed, start)
    model.step(max(0.0, (now - start).total_seconds()))
    model.max_substep_s = MAX_SUBSTEP_S
    return model


def reader(tag: Tag) -> Callable[[Value], float]:
    """The value a collector reads from the simulator's face for a model value."""
    point = tag.modbus
    if point is None:
        return float
    if point.kind in BIT_REGISTERS:
        return lambda v: 1.0 if v else 0.0
    return lambda v: float(
        quantize(v, point.type, point.word_order, point.scale, point.offset, point.length)
    )


class PlantRun:
    """The model stepped a minute at a time; the rows to store and the limit events."""

    def __init__(
        self,
        config: SiteConfig,
        tag_ids: Mapping[str, int],
        site_id: int,
        model: PlantModel,
    ) -> None:
        opts = config.ingest
        self.model = model
        self.events: list[EventChange] = []
        # The values a round would read, at the times asked for (see run).
        self.rounds: dict[datetime, dict[str, float]] = {}
        self._tags = [
            (
                t.name,
                reader(t),
                TagState.of(
                    t,
                    tag_ids[t.name],
                    site_id,
                    opts.default_max_interval_s,
                    opts.event_hold_s,
                    default_deadband_percent=opts.default_deadband_percent,
                ),
                t.source == "opcua",
            )
            for t in config.tags
            if t.name in model.variables
        ]

    def run(self, end: datetime, rounds: Collection[datetime] = ()) -> Iterator[list[Row]]:
        """Steps to the last whole step at or before ``end``, yielding each step's rows;
        keeps the values of the steps in ``rounds`` in :attr:`rounds`."""
        model = self.model
        tags = self._tags
        events = self.events
        while model.time + STEP <= end:
            model.step(STEP_S)
            when = model.time
            t = when.timestamp()
            values = model.values()
            rows: list[Row] = []
            read_now = when in rounds
            seen: dict[str, float] = {}
            for name, read, state, stamped in tags:
                value = read(values[name])
                # An OPC UA server stamps the value it reports; Modbus gives no stamp.
                state.observe(value, 0, t, when, rows, events, when if stamped else None)
                if read_now:
                    seen[name] = value
            if read_now:
                self.rounds[when] = seen
            yield rows


@dataclass(frozen=True)
class EventRow:
    """One row of the events table, as the database folds a tag's raises and clears."""

    site_id: int
    tag_id: int | None
    source: str
    kind: str
    code: str
    severity: str
    message: str
    value: float | None
    threshold: float | None
    started_at: datetime
    last_seen_at: datetime
    ended_at: datetime | None = None
    occurrences: int = 1


def fold_events(changes: Iterable[EventChange]) -> list[EventRow]:
    """Event changes in order -> rows, as ``ingest.events.apply_events`` leaves them: a
    raise of a condition already open counts a repeat, a clear ends the open one."""
    rows: list[EventRow] = []
    open_at: dict[tuple[int, int, str, str, str], int] = {}
    for c in changes:
        key = (c.site_id, c.tag_id or 0, c.source, c.kind, c.code)
        i = open_at.get(key)
        if c.action == "raise":
            if i is None:
                open_at[key] = len(rows)
                rows.append(
                    EventRow(
                        c.site_id,
                        c.tag_id,
                        c.source,
                        c.kind,
                        c.code,
                        c.severity,
                        c.message,
                        c.value,
                        c.threshold,
                        c.time,
                        c.time,
                    )
                )
            else:
                row = rows[i]
                rows[i] = replace(
                    row,
                    occurrences=row.occurrences + 1,
                    last_seen_at=max(row.last_seen_at, c.time),
                    value=c.value,
                )
        elif i is not None:
            rows[i] = replace(rows[i], ended_at=max(rows[i].started_at, c.time))
            del open_at[key]
    return rows
