"""What happens to one tag's reading between its collector and the writer's queue.

Engineering value and quality → report-by-exception → a row to store, and limit
tracking → event changes. No I/O: a collector hands in the value (decoded, by
:mod:`ingest.modbus.decode`, or as an OPC UA server reported it) and the time, and
collects what comes out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from ingest.deadband import Stored, should_store
from ingest.events import LIMIT_SOURCE, EventChange
from ingest.limits import LIMIT_CODES, SEVERITY, LimitState, step
from ingest.readings import Row
from sitefile.models import Tag


@dataclass
class TagState:
    tag: Tag
    tag_id: int
    site_id: int
    # Strings are read (and decoded) but not stored: readings hold numbers.
    stores: bool
    deadband: float | None
    max_interval_s: float | None
    hold_s: float
    limits: list[tuple[str, float]] = field(default_factory=list)
    limit_states: dict[str, LimitState] = field(default_factory=dict)
    last: Stored | None = None

    @classmethod
    def of(
        cls,
        tag: Tag,
        tag_id: int,
        site_id: int,
        default_max_interval_s: float,
        hold_s: float,
        open_limits: set[str] = frozenset(),  # type: ignore[assignment]
    ) -> TagState:
        """The state of a tag, whichever protocol reads it: its alarm limits, and the
        deadband Clearwell applies (:attr:`Tag.applied_deadband`)."""
        limits = [(code, v) for code in LIMIT_CODES if (v := getattr(tag.limits, code)) is not None]
        deadband = tag.applied_deadband
        text = tag.source == "modbus" and tag.modbus is not None and tag.modbus.type == "string"
        return cls(
            tag=tag,
            tag_id=tag_id,
            site_id=site_id,
            stores=not text,
            deadband=deadband,
            max_interval_s=(tag.max_interval_s or default_max_interval_s)
            if deadband is not None
            else None,
            hold_s=hold_s,
            limits=limits,
            # An event left open by an earlier run resumes, so that it can be closed.
            limit_states={c: LimitState(active=True) for c, _ in limits if c in open_limits},
        )

    def resume(self, open_limits: set[str]) -> None:
        """Limit events an earlier run left open, learnt after this one started: tracked
        as raised, so that a value back within its limits closes them."""
        for code, _ in self.limits:
            if code in open_limits and code not in self.limit_states:
                self.limit_states[code] = LimitState(active=True)

    def observe(
        self,
        value: float | None,
        status: int,
        t: float,
        when: datetime,
        rows: list[Row],
        events: list[EventChange],
        server: datetime | None = None,
    ) -> None:
        """Take one reading: append the row to store (if any) and the event changes.

        ``server`` is the OPC UA server timestamp, stored beside ``when``.
        """
        if not self.stores:
            return
        if should_store(self.last, value, status, t, self.deadband, self.max_interval_s):
            rows.append((when, self.tag_id, value, status, server))
            self.last = Stored(value, status, t)
        self.track_limits(value, t, events)

    def track_limits(self, value: float | None, t: float, events: list[EventChange]) -> None:
        """Check one reading against the tag's alarm limits, appending the event changes.

        Part of :meth:`observe`; alone where another rule decides what is stored (an OPC
        UA subscription stores what the server reports).
        """
        if value is None or not self.limits:
            return
        for code, threshold in self.limits:
            state = self.limit_states.get(code) or LimitState()
            new, change = step(state, code, threshold, value, t, self.hold_s)
            if new is not state:
                self.limit_states[code] = new
            if change is not None:
                events.append(self._event(change.action, code, change.time, value, threshold))

    def _event(
        self, action: str, code: str, t: float, value: float, threshold: float
    ) -> EventChange:
        side = "above" if code.startswith("hi") else "below"
        unit = f" {self.tag.unit}" if self.tag.unit else ""
        return EventChange(
            action="raise" if action == "raise" else "clear",
            site_id=self.site_id,
            tag_id=self.tag_id,
            source=LIMIT_SOURCE,
            kind="limit",
            code=code,
            severity=SEVERITY[code],
            message=f"{self.tag.name} {side} its {code} limit {threshold:g}{unit}",
            time=datetime.fromtimestamp(t, UTC),
            value=value,
            threshold=threshold,
        )
