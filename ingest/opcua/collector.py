"""One OPC UA server, collected by its own asyncio task: subscriptions, polls, reconnection.

A session is opened, the server's OperationLimits read, and the planned
subscriptions and monitored items created (:mod:`ingest.opcua.plan`); polled
tags are read on their interval. Each notification is stored as it came: the
whole status code, the source timestamp as the reading's time (else the server
timestamp, else the time it arrived), a Bad value without a number.

The session is the unit of failure. When it is lost (the socket closes, the
server stops answering its keep-alive probe, a subscription reports a Bad
status), the server is reported down once: logged once, one device event, and
every tag gets one reading with no value and ``BadCommunicationError``; then a
new session is tried with capped exponential backoff (0.5 s doubling to
``reconnect_max_s``), and subscriptions and monitored items are created anew,
whatever ids the restarted server hands out. A server that is down when the
collector starts is tried the same way. A login refused or an untrusted
certificate is retried too (someone may fix the server), at the same backoff.

After a loss, a value the server reports again unchanged (its source timestamp
older than the loss) is stored at its server timestamp, so that the record
shows the tag good again from when the server confirmed it. Likewise a status
change the server reports under an unchanged source timestamp is stored at its
server timestamp (``readings`` holds one reading per tag and time).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from asyncua import Client, ua

from ingest.deadband import Stored
from ingest.events import EventChange
from ingest.link import EventSink, Link, LinkHealth, RowSink, backoff_delays
from ingest.lognoise import lower_expected_noise
from ingest.opcua.plan import (
    Item,
    OperationLimits,
    ReadPlan,
    SubscriptionPlan,
    plan_reads,
    plan_subscriptions,
)
from ingest.opcua.security import Credentials, OpcuaTrustError
from ingest.opcua.session import (
    OpcuaConnectError,
    close_session,
    open_session,
    read_operation_limits,
)
from ingest.opcua.status import name, reading_value
from ingest.readings import Row
from ingest.status_codes import BAD_COMMUNICATION_ERROR
from ingest.tagstate import TagState
from sitefile.models import OpcuaServer, Tag
from sitefile.nodeid import NodeId

log = logging.getLogger(__name__)

# A subscription sends a keep-alive at least this often when nothing changes.
KEEPALIVE_S = 5.0
_BAD_ITEMS_LOGGED = 5
_TICK = timedelta(microseconds=1)


@dataclass
class ServerHealth(LinkHealth):
    sessions_lost: int = 0
    notifications: int = 0
    reads: int = 0
    bad_items: int = 0
    subscription_ids: list[int] = field(default_factory=list)
    monitored_items: int = 0
    polled_items: int = 0
    limits: OperationLimits | None = None

    # The tags the server would not monitor in this session, each with why.
    refused: list[str] = field(default_factory=list)

    def errors(self) -> dict[str, int]:
        return {"sessions_lost": self.sessions_lost, "bad_items": self.bad_items}

    def failing(self) -> list[str]:
        return list(self.refused)

    def details(self) -> dict[str, Any]:
        limits = self.limits
        return {
            "protocol": "opcua",
            "notifications": self.notifications,
            "reads": self.reads,
            "subscriptions": list(self.subscription_ids),
            "monitored_items": self.monitored_items,
            "polled_items": self.polled_items,
            "operation_limits": None
            if limits is None
            else {
                "max_monitored_items_per_call": limits.max_monitored_items_per_call,
                "max_nodes_per_read": limits.max_nodes_per_read,
            },
        }


def resolve_node_id(text: str, namespaces: Sequence[str]) -> ua.NodeId:
    """A configured node id; ``nsu=URI;`` is looked up in the server's namespace array."""
    node = NodeId.parse(text)
    if isinstance(node.namespace, str):
        if node.namespace not in namespaces:
            raise ValueError(f"namespace {node.namespace!r} is not on the server")
        text = node.at_index(list(namespaces).index(node.namespace))
    return ua.NodeId.from_string(text)


def data_value_parts(
    dv: ua.DataValue,
) -> tuple[object, int, datetime | None, datetime | None]:
    """A notified or read value as (value, status code, source time, server time)."""
    variant, sc = dv.Value, dv.StatusCode
    return (
        variant.Value if variant is not None else None,
        sc.value if sc is not None else 0,
        _given(dv.SourceTimestamp),
        _given(dv.ServerTimestamp),
    )


def _given(t: datetime | None) -> datetime | None:
    """A timestamp, or None for OPC UA's null one (0, 1601-01-01), which asyncua passes
    on as a date: node-opcua, for one, sends it as the server timestamp of
    notifications."""
    return None if t is None or t.year <= 1601 else t


def subscription_parameters(publishing_interval_s: float) -> ua.CreateSubscriptionParameters:
    interval_ms = publishing_interval_s * 1000
    keepalive = max(1, math.ceil(KEEPALIVE_S / publishing_interval_s))
    return ua.CreateSubscriptionParameters(
        RequestedPublishingInterval=interval_ms,
        RequestedMaxKeepAliveCount=keepalive,
        # The server drops the subscription after a minute (at least three keep-alives)
        # without publish requests from us.
        RequestedLifetimeCount=max(3 * keepalive, math.ceil(60 / publishing_interval_s)),
        MaxNotificationsPerPublish=0,
        PublishingEnabled=True,
        Priority=0,
    )


def _filter(deadband: tuple[str, float] | None) -> Any:
    if deadband is None:
        return None
    kind, value = deadband
    return ua.DataChangeFilter(
        Trigger=ua.DataChangeTrigger.StatusValue,
        DeadbandType=(ua.DeadbandType.Percent if kind == "percent" else ua.DeadbandType.Absolute),
        DeadbandValue=value,
    )


class OpcuaCollector:
    def __init__(
        self,
        server: OpcuaServer,
        tags: Sequence[TagState],
        credentials: Credentials,
        site_id: int,
        submit_rows: RowSink,
        submit_events: EventSink,
        *,
        session_factory: Callable[[OpcuaServer, Credentials], Any] = open_session,
    ) -> None:
        lower_expected_noise()
        self.server = server
        self.states = list(tags)
        self.credentials = credentials
        self._open = session_factory
        self.health = ServerHealth(server.name, server.endpoint)
        self.link = Link(
            self.health,
            site_id,
            f"opcua:{server.name}",
            f"OPC UA server {server.name}",
            submit_rows,
            submit_events,
            self._mark_bad,
            log,
        )
        n = len(self.states)
        self._items, self._polled = self.items([st.tag for st in self.states])
        self._last_time: list[datetime | None] = [None] * n
        self._last_status: list[int | None] = [None] * n
        self._last_value: list[float | None] = [None] * n
        # Time of the BadCommunicationError stored at the last loss, until a value follows.
        self._bad_since: list[datetime | None] = [None] * n
        self._lost: asyncio.Event | None = None
        self._lost_why = ""
        self._answered = False
        self._stopping = asyncio.Event()

    @staticmethod
    def items(tags: Sequence[Tag]) -> tuple[list[Item], list[Item]]:
        """Subscribed and polled items; a tag's client handle is its index in ``tags``."""
        subscribed: list[Item] = []
        polled: list[Item] = []
        for h, tag in enumerate(tags):
            o = tag.opcua
            assert o is not None
            item = Item(h, o.node_id, o.sampling_interval_s, o.queue_size, tag.opcua_deadband)
            (polled if o.mode == "poll" else subscribed).append(item)
        return subscribed, polled

    # --- the task ---

    def stop(self) -> None:
        """Close the session and end :meth:`run`, keeping what was notified so far."""
        self._stopping.set()
        self._mark_lost("")

    async def run(self) -> None:
        delays = backoff_delays(cap=self.server.reconnect_max_s)
        while not self._stopping.is_set():
            self._answered = False
            try:
                await self._session()
            except (OpcuaConnectError, OpcuaTrustError) as exc:
                self.health.connect_failures += 1
                self._down(time.time(), str(exc))
            except (OSError, TimeoutError, ua.UaError) as exc:
                # Lost while creating subscriptions: as a loss, without a traceback.
                self._down(time.time(), f"session lost while subscribing ({exc!r})")
            except Exception as exc:
                # A bug here or in asyncua must not end this server's collection silently.
                log.exception("OPC UA server %s: unexpected error", self.server.name)
                self._down(time.time(), f"unexpected error: {exc!r}")
            # Backoff starts over only once the server has delivered data.
            if self._answered:
                delays = backoff_delays(cap=self.server.reconnect_max_s)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), next(delays))

    async def _session(self) -> None:
        client: Client = await self._open(self.server, self.credentials)
        lost = self._lost = asyncio.Event()
        self._lost_why = ""
        if self._stopping.is_set():
            lost.set()

        async def on_connection_lost(exc: Exception) -> None:
            self._mark_lost(f"connection lost ({exc!r})")

        client.connection_lost_callback = on_connection_lost
        pollers: list[asyncio.Task[None]] = []
        try:
            h = self.health
            h.connects += 1
            h.limits = limits = await read_operation_limits(client)
            namespaces = await client.get_namespace_array() if self._uses_nsu() else []
            h.subscription_ids = []
            h.monitored_items = h.bad_items = 0
            h.refused = []
            for plan in plan_subscriptions(
                self._items,
                self.server.publishing_interval_s,
                self.server.max_items_per_subscription,
                limits,
            ):
                await self._subscribe(client, plan, namespaces)
            reads = plan_reads(self._polled, limits)
            h.polled_items = len(self._polled)
            self.link.up(
                time.time(),
                f": {h.monitored_items} monitored items in {len(h.subscription_ids)}"
                f" subscriptions, {h.polled_items} polled",
            )
            pollers = [
                asyncio.create_task(self._poll(client, p, namespaces), name=f"opcua-poll-{i}")
                for i, p in enumerate(reads)
            ]
            await lost.wait()
            if self._stopping.is_set():
                return
            self.health.sessions_lost += 1
            self._down(time.time(), self._lost_why)
        finally:
            for t in pollers:
                t.cancel()
            await asyncio.gather(*pollers, return_exceptions=True)
            self._lost = None
            await close_session(client)

    def _uses_nsu(self) -> bool:
        return any(i.node_id.startswith("nsu=") for i in (*self._items, *self._polled))

    def _mark_lost(self, why: str) -> None:
        if self._lost is not None and not self._lost.is_set():
            self._lost_why = why
            self._lost.set()

    # --- subscriptions ---

    async def _subscribe(
        self, client: Client, plan: SubscriptionPlan, namespaces: list[str]
    ) -> None:
        result = await client.uaclient.create_subscription(
            subscription_parameters(plan.publishing_interval_s), self._on_publish
        )
        sid = result.SubscriptionId
        self.health.subscription_ids.append(sid)
        failed: list[tuple[int, int]] = []  # handle, status code
        for batch in plan.batches:
            requests = []
            for item in batch:
                try:
                    node = resolve_node_id(item.node_id, namespaces)
                except ValueError:
                    failed.append((item.handle, ua.StatusCodes.BadNodeIdUnknown))
                    continue
                requests.append(
                    ua.MonitoredItemCreateRequest(
                        ItemToMonitor=ua.ReadValueId(
                            NodeId=node, AttributeId=ua.AttributeIds.Value
                        ),
                        MonitoringMode=ua.MonitoringMode.Reporting,
                        RequestedParameters=ua.MonitoringParameters(
                            ClientHandle=item.handle,
                            SamplingInterval=item.sampling_interval_s * 1000,
                            QueueSize=item.queue_size,
                            DiscardOldest=True,
                            Filter=_filter(item.deadband),
                        ),
                    )
                )
            params = ua.CreateMonitoredItemsParameters(
                SubscriptionId=sid,
                TimestampsToReturn=ua.TimestampsToReturn.Both,
                ItemsToCreate=requests,
            )
            results = await client.uaclient.create_monitored_items(params)
            for req, res in zip(requests, results, strict=True):
                handle = req.RequestedParameters.ClientHandle
                if res.StatusCode.is_good():
                    self.health.monitored_items += 1
                else:
                    failed.append((handle, res.StatusCode.value))
        if failed:
            self._refused(failed)

    def _refusal(self, handle: int, code: int) -> str:
        tag = self.states[handle].tag
        assert tag.opcua is not None
        return f"tag {tag.name!r} ({tag.opcua.node_id}): {name(code)}"

    def _refused(self, failed: list[tuple[int, int]]) -> None:
        """Items the server would not monitor (unknown node, filter refused): stored Bad once."""
        self.health.bad_items += len(failed)
        self.health.refused += [self._refusal(h, code) for h, code in failed]
        shown = ", ".join(self._refusal(h, code) for h, code in failed[:_BAD_ITEMS_LOGGED])
        more = (
            f" and {len(failed) - _BAD_ITEMS_LOGGED} more"
            if len(failed) > _BAD_ITEMS_LOGGED
            else ""
        )
        log.warning(
            "OPC UA server %s refused %d tags: %s%s", self.server.name, len(failed), shown, more
        )
        now = time.time()
        at = datetime.fromtimestamp(now, UTC)
        rows: list[Row] = []
        events: list[EventChange] = []
        for h, code in failed:
            self._take(h, None, code, at, None, now, at, rows, events)
        self.link.submit(rows, events)

    def _on_publish(self, result: ua.PublishResult) -> None:
        data = result.NotificationMessage.NotificationData
        if not data:
            return  # a keep-alive
        now = time.time()
        now_dt = datetime.fromtimestamp(now, UTC)
        rows: list[Row] = []
        events: list[EventChange] = []
        n = 0
        states = len(self.states)
        for notif in data:
            if isinstance(notif, ua.DataChangeNotification):
                for item in notif.MonitoredItems:
                    h = item.ClientHandle
                    if not 0 <= h < states:
                        continue
                    self._take(h, *data_value_parts(item.Value), now, now_dt, rows, events)
                    n += 1
            elif isinstance(notif, ua.StatusChangeNotification):
                code = notif.Status.value if notif.Status is not None else 0
                if code & 0x8000_0000:
                    self._mark_lost(f"subscription {result.SubscriptionId}: {name(code)}")
        if n:
            self.health.notifications += n
            self.health.last_good_read = now
            self._answered = True
        self.link.submit(rows, events)

    # --- polling ---

    async def _poll(self, client: Client, plan: ReadPlan, namespaces: list[str]) -> None:
        batches = []
        for batch in plan.batches:
            nodes = []
            for _handle, node_id in batch:
                try:
                    node = resolve_node_id(node_id, namespaces)
                except ValueError:
                    node = ua.NodeId(0, 0)  # type: ignore[arg-type]  # the server answers BadNodeIdUnknown for it
                nodes.append(ua.ReadValueId(NodeId=node, AttributeId=ua.AttributeIds.Value))
            batches.append(([h for h, _ in batch], nodes))
        period = plan.interval_s
        next_due = time.monotonic()
        try:
            while True:
                for handles, nodes in batches:
                    params = ua.ReadParameters(
                        MaxAge=0,
                        TimestampsToReturn=ua.TimestampsToReturn.Both,
                        NodesToRead=nodes,
                    )
                    values = await client.uaclient.read(params)
                    now = time.time()
                    now_dt = datetime.fromtimestamp(now, UTC)
                    rows: list[Row] = []
                    events: list[EventChange] = []
                    for h, dv in zip(handles, values, strict=True):
                        parts = data_value_parts(dv)
                        self._take(h, *parts, now, now_dt, rows, events, polled=True)
                    self.health.reads += 1
                    self.health.last_good_read = now
                    self._answered = True
                    self.link.submit(rows, events)
                next_due += period
                now_m = time.monotonic()
                if next_due < now_m:
                    next_due = now_m + period - ((now_m - next_due) % period)
                await asyncio.sleep(next_due - now_m)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._mark_lost(f"read failed ({exc!r})")

    # --- one value ---

    def _take(
        self,
        h: int,
        raw: object,
        code: int,
        source: datetime | None,
        server: datetime | None,
        now: float,
        now_dt: datetime,
        rows: list[Row],
        events: list[EventChange],
        *,
        polled: bool = False,
    ) -> None:
        value, status = reading_value(raw, code)
        when = source or server or now_dt
        bad_since = self._bad_since[h]
        if bad_since is not None:
            if when <= bad_since:
                when = server if server is not None and server > bad_since else now_dt
            self._bad_since[h] = None
        last_time = self._last_time[h]
        if when == last_time:
            if status == self._last_status[h] and value == self._last_value[h]:
                return  # the same value again (a new subscription's first notification, a poll)
            # A new status (or value) under the same source timestamp: kept, at the time the
            # server saw it, as one time holds one reading of a tag.
            when = server if server is not None and server > when else when + _TICK
        st = self.states[h]
        t = when.timestamp()
        if polled:
            before = len(rows)
            st.observe(value, status, t, when, rows, events, server)
            if len(rows) == before:
                return
        else:
            st.track_limits(value, t, events)
            # The server reports changes only; what it reports is stored, unless it is
            # within the tag's own deadband (Uncertain values included, unlike polling).
            db, last = st.deadband, self._last_value[h]
            if (
                db is not None
                and status == self._last_status[h]
                and value is not None
                and last is not None
                and abs(value - last) <= db
            ):
                return
            rows.append((when, st.tag_id, value, status, server))
        self._last_time[h] = when
        self._last_status[h] = status
        self._last_value[h] = value

    # --- up and down ---

    def _down(self, when: float, why: str) -> None:
        """The server is unreachable or the session lost: report it, once."""
        if self.link.down(when, why):
            self.health.subscription_ids = []

    def _mark_bad(
        self, when: float, at: datetime, rows: list[Row], events: list[EventChange]
    ) -> None:
        for i, st in enumerate(self.states):
            rows.append((at, st.tag_id, None, BAD_COMMUNICATION_ERROR, None))
            self._last_time[i], self._last_status[i] = at, BAD_COMMUNICATION_ERROR
            self._last_value[i] = None
            self._bad_since[i] = at
            # The Bad row above is stored: a polled tag's next value is weighed against it.
            st.last = Stored(None, BAD_COMMUNICATION_ERROR, when)
