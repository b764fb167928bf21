"""The ingest process: tag sync, a poller per Modbus device, a collector per OPC UA server,
the writer and the health log."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import psycopg

from clearwell.db import connection, describe_target
from clearwell.errors import ClearwellError, DatabaseError
from ingest.events import open_limit_events
from ingest.modbus.plan import plan_device
from ingest.modbus.poller import ModbusPoller
from ingest.opcua.collector import OpcuaCollector
from ingest.opcua.security import Credentials, credentials
from ingest.readings import PROVISIONAL_SITE_ID
from ingest.spool import Spool
from ingest.tagstate import TagState
from ingest.tagsync import SyncResult, ids_of_keys, sync_tags
from ingest.writer import HealthItem, Writer
from sitefile.models import SiteConfig

log = logging.getLogger(__name__)

HEALTH_LOG_INTERVAL_S = 60.0
# How long the collectors get to finish what they are doing when asked to stop:
# within the 10 s `docker compose stop` waits before it kills.
STOP_GRACE_S = 5.0
# The database is asked for the tags again this often while it is away: readings wait
# in the spool meanwhile, so a longer wait is only a later replay.
SYNC_RETRY_S = 1.0
SYNC_REFUSED_S = 30.0


def spool_path(data_dir: Path, site_code: str) -> Path:
    return Path(data_dir) / "ingest" / f"spool-{site_code}.sqlite"


@dataclass(frozen=True)
class Synced:
    """What the database said at a sync: the tags' ids, the limit events left open, and
    the ids of the spool's provisional tags (by provisional id)."""

    result: SyncResult
    open_events: set[tuple[int, str]]
    provisional: dict[int, int]


def _sync(config: SiteConfig, dsn: str, source: str, provisional: dict[int, str]) -> Synced:
    with connection(dsn) as conn:
        result = sync_tags(conn, config, source)
        open_events = open_limit_events(conn, result.site_id)
        ids = ids_of_keys(conn, result.site_id, set(provisional.values()))
        conn.commit()
    return Synced(result, open_events, {p: ids[k] for p, k in provisional.items() if k in ids})


async def cancel_and_wait(tasks: list[asyncio.Task[None]]) -> None:
    """Cancel until done: Python 3.11's ``asyncio.wait_for`` (pymodbus waits for answers
    with it) can swallow a cancellation that lands as the answer arrives, and a poller
    would then go on polling forever."""
    while pending := [t for t in tasks if not t.done()]:
        for t in pending:
            t.cancel()
        await asyncio.wait(pending, timeout=1.0)
    for t in tasks:
        if not t.cancelled() and t.exception() is not None:
            log.error("%s ended with an error", t.get_name(), exc_info=t.exception())


class IngestService:
    """Runs the collectors of one site configuration until stopped."""

    def __init__(
        self,
        config: SiteConfig,
        dsn: str,
        data_dir: Path,
        *,
        source: str = "",
        writer: Writer | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.config = config
        self.dsn = dsn
        self.data_dir = Path(data_dir)
        self.source = source
        self.writer = writer
        self.environ = os.environ if environ is None else environ
        self.pollers: list[ModbusPoller] = []
        self.collectors: list[OpcuaCollector] = []
        self.sync: SyncResult | None = None
        self._poller_tasks: list[asyncio.Task[None]] = []
        self._writer_task: asyncio.Task[None] | None = None
        self._log_task: asyncio.Task[None] | None = None
        self._sync_task: asyncio.Task[None] | None = None
        # The spool's provisional tag ids (and keys) while the tags are not synced yet.
        self._provisional: dict[int, str] = {}

    async def __aenter__(self) -> IngestService:
        await self.start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def _sync_when_up(self) -> None:
        """Sync the tags once the database answers, then give everyone their ids."""
        writer = self.writer
        assert writer is not None
        while True:
            await asyncio.sleep(SYNC_RETRY_S)
            try:
                synced = await asyncio.to_thread(
                    _sync, self.config, self.dsn, self.source, self._provisional
                )
            except (DatabaseError, psycopg.OperationalError):
                continue
            except Exception as exc:
                # Answering, the database refuses the sync (a tag name another tag of the
                # site holds): readings stay spooled until someone fixes it.
                log.error("cannot sync the tags: %s (retrying in %.0f s)", exc, SYNC_REFUSED_S)
                await asyncio.sleep(SYNC_REFUSED_S)
                continue
            self._resolved(synced)
            return

    def _resolved(self, synced: Synced) -> None:
        """The database gave the tags their ids: the collectors use them from now on, and
        the writer translates what was taken under provisional ones."""
        self.sync = synced.result
        ids, site_id = synced.result.tag_ids, synced.result.site_id
        open_codes = self._open_codes(synced)
        for st in self._states():
            st.tag_id, st.site_id = ids[st.tag.name], site_id
            st.resume(open_codes.get(st.tag_id, set()))
        for link in [p.link for p in self.pollers] + [c.link for c in self.collectors]:
            link.site_id = site_id
        assert self.writer is not None
        self.writer.resolve(synced.provisional, site_id)
        log.info(
            "site %s: %s (database %s)%s",
            self.config.site.code,
            synced.result.summary(),
            describe_target(self.dsn),
            f"; {self.writer.spool.rows} spooled readings to replay"
            if self.writer.spool.rows
            else "",
        )

    @staticmethod
    def _open_codes(synced: Synced) -> dict[int, set[str]]:
        # Limit events an earlier run left open, by tag: they resume, so they can be closed.
        out: dict[int, set[str]] = {}
        for tag_id, code in synced.open_events:
            out.setdefault(tag_id, set()).add(code)
        return out

    def _states(self) -> list[TagState]:
        return [st for p in self.pollers for st in p.tag_states] + [
            st for c in self.collectors for st in c.states
        ]

    def _credentials(self) -> dict[str, Credentials]:
        # Read before anything starts, so that a missing password or certificate file
        # stops the start with its name rather than failing in a loop later.
        cfg = self.config
        return {
            s.name: credentials(s, self.data_dir, self.environ)
            for s in cfg.opcua.servers
            if cfg.opcua_tags(s.name)
        }

    async def start(self) -> None:
        """Start collecting. The database is asked for the tags' ids first; if it does
        not answer, collection starts from the configuration alone, under provisional
        ids, the writer spooling everything until the database answers."""
        cfg = self.config
        creds = await asyncio.to_thread(self._credentials)
        opts = cfg.ingest
        if self.writer is None:
            spool = Spool(
                spool_path(self.data_dir, cfg.site.code),
                int(opts.spool_max_mb * 1024 * 1024),
                opts.spool_full,
            )
            self.writer = Writer(self.dsn, spool, opts, site_code=cfg.site.code)
        writer = self.writer
        synced: Synced | None
        try:
            synced = await asyncio.to_thread(
                _sync, self.config, self.dsn, self.source, writer.spool.provisional_keys()
            )
        except (DatabaseError, psycopg.OperationalError) as exc:
            synced = None
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            log.warning(
                "database %s unreachable (%s): collecting from the configuration alone;"
                " readings are spooled to %s and the tags synced when it answers",
                describe_target(self.dsn),
                first,
                writer.spool.path,
            )
            writer.hold(f"waiting for the database to sync the tags ({first})")
        if synced is not None:
            self.sync = synced.result
            site_id, ids = synced.result.site_id, synced.result.tag_ids
            open_codes = self._open_codes(synced)
            if synced.provisional:
                writer.resolve(synced.provisional, site_id)
            log.info(
                "site %s: %s (database %s)",
                cfg.site.code,
                synced.result.summary(),
                describe_target(self.dsn),
            )
        else:
            site_id, open_codes = PROVISIONAL_SITE_ID, {}
            by_key = writer.spool.provisional_ids([t.key for t in cfg.tags])
            ids = {t.name: by_key[t.key] for t in cfg.tags}
            # Read now, before the writer's thread owns the spool: what the sync resolves.
            self._provisional = writer.spool.provisional_keys()
        polled = [d for d in cfg.modbus.devices if cfg.modbus_tags(d.name)]
        for k, device in enumerate(polled):
            tags = cfg.modbus_tags(device.name)
            states = {
                t.name: TagState.of(
                    t,
                    ids[t.name],
                    site_id,
                    opts.default_max_interval_s,
                    opts.event_hold_s,
                    open_codes.get(ids[t.name], set()),
                )
                for t in tags
            }
            self.pollers.append(
                ModbusPoller(
                    device,
                    plan_device(device, tags),
                    states,
                    site_id,
                    writer.submit,
                    writer.submit_events,
                    phase_s=device.poll_interval_s * k / len(polled),
                )
            )
        for server in cfg.opcua.servers:
            if server.name not in creds:
                continue
            server_states = [
                TagState.of(
                    t,
                    ids[t.name],
                    site_id,
                    opts.default_max_interval_s,
                    opts.event_hold_s,
                    open_codes.get(ids[t.name], set()),
                )
                for t in cfg.opcua_tags(server.name)
            ]
            self.collectors.append(
                OpcuaCollector(
                    server,
                    server_states,
                    creds[server.name],
                    site_id,
                    writer.submit,
                    writer.submit_events,
                )
            )
        writer.publish_health(self.health_items)
        # Everything built so far (configuration, tag states, plans) lives as long as the
        # process. Frozen out of the cyclic collector, it is not traversed again by every
        # full collection: with 20,000 tags such a pass stalled the event loop ~0.5 s,
        # longer than a poll cycle may take.
        gc.collect()
        gc.freeze()
        self._writer_task = asyncio.create_task(writer.run(), name="ingest-writer")
        self._poller_tasks = [
            asyncio.create_task(p.run(), name=f"modbus-{p.device.name}") for p in self.pollers
        ] + [asyncio.create_task(c.run(), name=f"opcua-{c.server.name}") for c in self.collectors]
        self._log_task = asyncio.create_task(self._log_health(), name="ingest-health-log")
        if synced is None:
            self._sync_task = asyncio.create_task(self._sync_when_up(), name="ingest-tag-sync")
        n_requests = sum(len(p._work) for p in self.pollers)
        log.info(
            "collecting %d Modbus devices (%d requests per cycle) and %d OPC UA servers (%d tags)",
            len(self.pollers),
            n_requests,
            len(self.collectors),
            sum(len(c.states) for c in self.collectors),
        )

    def health_items(self) -> list[HealthItem]:
        return [
            (
                f"modbus:{p.device.name}",
                "modbus_device",
                p.health.reported_state,
                p.health.snapshot(),
            )
            for p in self.pollers
        ] + [
            (f"opcua:{c.server.name}", "opcua_server", c.health.reported_state, c.health.snapshot())
            for c in self.collectors
        ]

    def status(self) -> dict[str, Any]:
        return {
            "site": self.config.site.code,
            "devices": [p.health.snapshot() for p in self.pollers]
            + [c.health.snapshot() for c in self.collectors],
            "writer": self.writer.snapshot() if self.writer else None,
        }

    async def _log_health(self) -> None:
        while True:
            await asyncio.sleep(HEALTH_LOG_INTERVAL_S)
            for p in self.pollers:
                s = p.health.snapshot()
                log.info(
                    "device %s %s: cycles %d, cycle p50 %s ms p99 %s ms, errors %s",
                    s["device"],
                    s["state"],
                    s["cycles"],
                    s["cycle_ms_p50"],
                    s["cycle_ms_p99"],
                    s["errors"],
                )
            for c in self.collectors:
                s = c.health.snapshot()
                log.info(
                    "OPC UA server %s %s: %d notifications, %d reads, %d monitored items, %s",
                    s["device"],
                    s["state"],
                    s["notifications"],
                    s["reads"],
                    s["monitored_items"],
                    s["errors"],
                )
            if self.writer:
                w = self.writer.snapshot()
                log.info(
                    "writer %s: %.0f rows/s, queue %d, spool %d rows (%d bytes), %d committed",
                    w["state"],
                    w["rows_per_s"],
                    w["queue_rows"],
                    w["spool_rows"],
                    w["spool_bytes"],
                    w["rows_committed"],
                )

    async def stop(self) -> None:
        """Stop collecting: each poller finishes the poll in flight and each OPC UA session
        is closed, then the writer writes (or spools) everything they handed it."""
        # Collectors first, so that their last readings are queued before the writer's
        # final flush. A poll in flight normally ends in milliseconds; one waiting on a
        # silent device is given up after STOP_GRACE_S (its link would be lost anyway).
        for p in self.pollers:
            p.stop()
        for c in self.collectors:
            c.stop()
        tasks = self._poller_tasks
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=STOP_GRACE_S)
            if late:
                log.warning(
                    "%d collectors did not stop in %.0f s: cancelled", len(late), STOP_GRACE_S
                )
        others = [t for t in (self._log_task, self._sync_task) if t is not None]
        await cancel_and_wait([*tasks, *others])
        if self._writer_task and self.writer:
            self.writer.stop()
            await asyncio.wait([self._writer_task])
            if not self._writer_task.cancelled() and self._writer_task.exception():
                log.error("the writer failed", exc_info=self._writer_task.exception())
        self._poller_tasks = []
        self._writer_task = self._log_task = self._sync_task = None

    async def run_forever(self, until: asyncio.Event | None = None) -> None:
        """Collect until ``until`` is set (then stop as :meth:`stop` does), or forever."""
        async with self:
            writer = self._writer_task
            assert writer is not None
            asked = asyncio.ensure_future((until or asyncio.Event()).wait())
            try:
                await asyncio.wait([writer, asked], return_when=asyncio.FIRST_COMPLETED)
            finally:
                asked.cancel()
            # The writer only ends by failing; let that end the process rather than hide it.
            if writer.done():
                raise ClearwellError("the ingest writer stopped")
