"""What happens to one tag's reading between the wire and the writer's queue.

Decoded raw value → engineering value and quality → report-by-exception →
a row to store, and limit tracking → event changes. No I/O: the poller hands in
the raw value and the time, and collects what comes out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ingest.deadband import Stored, should_store
from ingest.decode import Decoder, Raw, decoder_for
from ingest.events import LIMIT_SOURCE, EventChange
from ingest.limits import LIMIT_CODES, SEVERITY, LimitState, step
from ingest.readings import Row
from ingest.status_codes import BAD_DECODING_ERROR, GOOD
from sitefile.models import Tag


@dataclass
class TagState:
    tag: Tag
    tag_id: int
    site_id: int
    decode: Decoder
    scale: float
    offset: float
    # Strings are read (and shown in status) but not stored: readings hold numbers.
    stores: bool
    deadband: float | None
    max_interval_s: float | None
    hold_s: float
    limits: list[tuple[str, float]] = field(default_factory=list)
    limit_states: dict[str, LimitState] = field(default_factory=dict)
    last: Stored | None = None
    last_text: str | None = None

    @classmethod
    def build(
        cls,
        tag: Tag,
        tag_id: int,
        site_id: int,
        default_max_interval_s: float,
        hold_s: float,
        open_limits: set[str] = frozenset(),  # type: ignore[assignment]
    ) -> TagState:
        """A Modbus tag's state: its decoder, scale and offset, deadband and limits."""
        assert tag.modbus is not None
        m = tag.modbus
        return cls.of(
            tag,
            tag_id,
            site_id,
            default_max_interval_s,
            hold_s,
            open_limits,
            decode=decoder_for(m.type, m.word_order, m.length),
            scale=m.scale,
            offset=m.offset,
            stores=m.type != "string",
            deadband=tag.deadband,
        )

    @classmethod
    def of(
        cls,
        tag: Tag,
        tag_id: int,
        site_id: int,
        default_max_interval_s: float,
        hold_s: float,
        open_limits: set[str],
        *,
        decode: Decoder,
        scale: float,
        offset: float,
        stores: bool,
        deadband: float | None,
    ) -> TagState:
        """The state of any protocol's tag, given how its values are decoded and filtered."""
        limits = [(code, v) for code in LIMIT_CODES if (v := getattr(tag.limits, code)) is not None]
        return cls(
            tag=tag,
            tag_id=tag_id,
            site_id=site_id,
            decode=decode,
            scale=scale,
            offset=offset,
            stores=stores,
            deadband=deadband,
            max_interval_s=(tag.max_interval_s or default_max_interval_s)
            if deadband is not None
            else None,
            hold_s=hold_s,
            limits=limits,
            # An event left open by an earlier run resumes, so that it can be closed.
            limit_states={c: LimitState(active=True) for c, _ in limits if c in open_limits},
        )

    def engineering(self, raw: Raw) -> tuple[float | None, int]:
        if isinstance(raw, str):
            self.last_text = raw
            return None, GOOD
        if isinstance(raw, bool):
            return (1.0 if raw else 0.0), GOOD
        value = float(raw) * self.scale + self.offset
        if not math.isfinite(value):
            return None, BAD_DECODING_ERROR
        return value, GOOD

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
