"""Running Modbus pollers without a database: rows and events collected in lists."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from ingest.events import EventChange
from ingest.modbus.plan import plan_device
from ingest.modbus.poller import ModbusPoller
from ingest.readings import Row
from ingest.service import cancel_and_wait
from ingest.tagstate import TagState
from sitefile.models import SiteConfig


class Collected:
    def __init__(self, config: SiteConfig) -> None:
        self.config = config
        self.rows: list[Row] = []
        self.events: list[EventChange] = []
        self.ids = {t.name: i + 1 for i, t in enumerate(config.tags)}
        self.names = {i: n for n, i in self.ids.items()}
        self.pollers: list[ModbusPoller] = []
        for d in config.modbus.devices:
            tags = config.modbus_tags(d.name)
            states = {t.name: TagState.of(t, self.ids[t.name], 1, 60.0, 0.0) for t in tags}
            self.pollers.append(
                ModbusPoller(
                    d, plan_device(d, tags), states, 1, self.rows.extend, self.events.extend
                )
            )

    def of(self, name: str) -> list[Row]:
        return [r for r in self.rows if r[1] == self.ids[name]]

    def latest(self) -> dict[str, float | None]:
        out: dict[str, float | None] = {}
        for _, tag_id, value, *_ in self.rows:
            out[self.names[tag_id]] = value
        return out

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Collected]:
        tasks = [asyncio.create_task(p.run()) for p in self.pollers]
        try:
            yield self
        finally:
            await cancel_and_wait(tasks)
