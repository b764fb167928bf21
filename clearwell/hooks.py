"""Where one package reacts to another's writes without importing it.

The ingest writer may not know that trend rollups exist, nor the logbook that
compliance stamps its entries; yet both reactions must happen in the writing
transaction, or a crash between the two would leave rollups stale or an entry
unstamped. So the writers call the functions named here, and this module, like
``clearwell.app.ROUTER_MODULES``, is the one place that names who reacts.

Each name is ``"module:function"``, imported on first use.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Sequence
from functools import cache
from typing import Any

import psycopg

# Called as ``fn(conn, rows)`` inside the transaction that inserted ingest rows
# ``(time, tag_id, value, status)`` into ``readings`` (a synchronous connection).
READINGS_WRITTEN: tuple[str, ...] = ("dashboards.rollups:mark_dirty",)

# Awaited as ``fn(conn, entry_ids)`` inside the transaction that inserted logbook
# entries, before its audit append (an asynchronous connection).
ENTRIES_WRITTEN: tuple[str, ...] = ("compliance.stamping:stamp_entries",)

ReadingsWritten = Callable[[psycopg.Connection[Any], Sequence[Sequence[Any]]], object]
EntriesWritten = Callable[[psycopg.AsyncConnection[Any], Sequence[int]], Awaitable[object]]


def _load(name: str) -> Any:
    module, _, attr = name.partition(":")
    return getattr(importlib.import_module(module), attr)


@cache
def readings_written() -> tuple[ReadingsWritten, ...]:
    return tuple(_load(n) for n in READINGS_WRITTEN)


@cache
def entries_written() -> tuple[EntriesWritten, ...]:
    return tuple(_load(n) for n in ENTRIES_WRITTEN)
