"""Which subscriptions, monitored items and reads a server gets: pure planning.

A server gets a few subscriptions of many monitored items (at most
``max_items_per_subscription`` each), created in CreateMonitoredItems calls of at
most the server's ``MaxMonitoredItemsPerCall``; polled tags are read in Read
calls of at most ``MaxNodesPerRead``, grouped by their interval. A limit the
server leaves at 0 (no limit) is capped at ``DEFAULT_PER_CALL`` anyway, so that
one request stays a reasonable size.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

DEFAULT_PER_CALL = 1000


@dataclass(frozen=True)
class OperationLimits:
    """The server's ``Server/ServerCapabilities/OperationLimits`` (0: no limit given)."""

    max_monitored_items_per_call: int = 0
    max_nodes_per_read: int = 0
    max_nodes_per_browse: int = 0

    def per_call(self, limit: int) -> int:
        return min(limit, DEFAULT_PER_CALL) if limit > 0 else DEFAULT_PER_CALL


@dataclass(frozen=True)
class Item:
    """One tag's monitored item; ``handle`` is the client handle notifications carry."""

    handle: int
    node_id: str
    sampling_interval_s: float
    queue_size: int
    deadband: tuple[str, float] | None = None  # ("absolute" | "percent", value)


@dataclass(frozen=True)
class SubscriptionPlan:
    publishing_interval_s: float
    # One CreateMonitoredItems call each.
    batches: tuple[tuple[Item, ...], ...]

    @property
    def items(self) -> int:
        return sum(len(b) for b in self.batches)


@dataclass(frozen=True)
class ReadPlan:
    interval_s: float
    # One Read call each: (handle, node id).
    batches: tuple[tuple[tuple[int, str], ...], ...]


def queue_size_for(item: Item, publishing_interval_s: float) -> int:
    """The configured queue size, raised to hold one publishing interval of samples,
    so that a value changing at every sample loses nothing between two publishes."""
    if item.sampling_interval_s <= 0:
        return item.queue_size
    needed = math.ceil(publishing_interval_s / item.sampling_interval_s - 1e-9)
    return max(item.queue_size, needed)


def _chunks(items: Sequence[T], size: int) -> list[tuple[T, ...]]:
    return [tuple(items[i : i + size]) for i in range(0, len(items), size)]


def plan_subscriptions(
    items: Sequence[Item],
    publishing_interval_s: float,
    max_items_per_subscription: int,
    limits: OperationLimits,
) -> list[SubscriptionPlan]:
    """Subscriptions of up to ``max_items_per_subscription`` items, in per-call batches.

    Items keep their order (the configuration's), so the same configuration always
    gives the same plan; the queue sizes are the ones :func:`queue_size_for` gives.
    """
    per_call = limits.per_call(limits.max_monitored_items_per_call)
    sized = [
        Item(
            i.handle,
            i.node_id,
            i.sampling_interval_s,
            queue_size_for(i, publishing_interval_s),
            i.deadband,
        )
        for i in items
    ]
    return [
        SubscriptionPlan(publishing_interval_s, tuple(_chunks(group, per_call)))
        for group in _chunks(sized, max_items_per_subscription)
    ]


def plan_reads(items: Sequence[Item], limits: OperationLimits) -> list[ReadPlan]:
    """Polled items grouped by interval (fastest first), in Read calls under the limit."""
    per_call = limits.per_call(limits.max_nodes_per_read)
    by_interval: dict[float, list[tuple[int, str]]] = {}
    for i in items:
        by_interval.setdefault(i.sampling_interval_s, []).append((i.handle, i.node_id))
    return [
        ReadPlan(interval, tuple(_chunks(nodes, per_call)))
        for interval, nodes in sorted(by_interval.items())
    ]
