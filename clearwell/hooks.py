"""Where one package reacts to another's writes without importing it.

The ingest writer may not know that trend rollups exist, nor the logbook that
compliance stamps its entries; yet both reactions must happen in the writing
transaction, or a crash between the two would leave rollups stale or an entry
unstamped. A refused request, likewise, is audited by the logbook although the
core's ``clearwell.web`` refused it, and the person behind a request is found by the
logbook's sessions although the core's ``clearwell.authorize`` asks. So the writers
call the functions named here,
and this module, like ``clearwell.app.ROUTER_MODULES``, is the one place that names
who reacts.

Each name is ``"module:function"``, imported on first use.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from functools import cache
from typing import Any, Protocol

import psycopg
from fastapi import HTTPException, Request

# Each names a factory of a ReadingsReaction (below). The ingest writer makes one
# per batch of ingest rows ``(time, tag_id, value, status, server_time)``.
READINGS_WRITTEN: tuple[str, ...] = ("dashboards.trends.rollups:DirtyHours",)

# Awaited as ``fn(conn, entry_ids)`` inside the transaction that inserted logbook
# entries, before its audit append (an asynchronous connection).
ENTRIES_WRITTEN: tuple[str, ...] = ("compliance.stamping:stamp_entries",)

# Each names ``fn(app)``, an async context manager the web app's lifespan enters once its
# pool is open and leaves at shutdown: background work of a package for the life of the
# app. The logbook's signed checkpoints of the audit chain (a minute apart).
APP_LIFESPANS: tuple[str, ...] = ("logbook.checkpoints:lifespan",)

# Awaited as ``fn(request, user, reason, subject, subject_id, site_id)`` when a router
# raises ``clearwell.web.Denied``, after its transaction rolled back; records the
# refusal and returns the HTTPException (403) to raise.
REQUEST_DENIED = "logbook.auth.deps:record_forbidden"

# Awaited as ``fn(request)`` by ``clearwell.authorize``: the person behind the request
# (an ``access.Person``), or an HTTPException (401) when there is none. Sessions are the
# logbook's; the core asks through here without importing it.
CURRENT_USER = "logbook.auth.deps:current_user"


class ReadingsReaction(Protocol):
    """What a package does about one batch of ingest rows, in two steps.

    ``add`` is given the batch's rows as collectors submit them, on their event
    loop, so the work of looking at every row is not done on the writer's database
    thread, where it would hold up the next COPY; ``write`` then runs inside the
    transaction that inserts exactly those rows (a synchronous connection). A batch
    replayed from the spool gets a fresh reaction, fed on the database thread.
    """

    def add(self, rows: Sequence[Sequence[Any]]) -> None: ...

    def write(self, conn: psycopg.Connection[Any]) -> object: ...


ReadingsWritten = Callable[[], ReadingsReaction]
EntriesWritten = Callable[[psycopg.AsyncConnection[Any], Sequence[int]], Awaitable[object]]
RequestDenied = Callable[..., Awaitable[HTTPException]]
AppLifespan = Callable[[Any], AbstractAsyncContextManager[None]]
CurrentUser = Callable[[Request], Awaitable[Any]]


def _load(name: str) -> Any:
    module, _, attr = name.partition(":")
    return getattr(importlib.import_module(module), attr)


@cache
def readings_written() -> tuple[ReadingsWritten, ...]:
    return tuple(_load(n) for n in READINGS_WRITTEN)


@cache
def entries_written() -> tuple[EntriesWritten, ...]:
    return tuple(_load(n) for n in ENTRIES_WRITTEN)


@cache
def app_lifespans() -> tuple[AppLifespan, ...]:
    return tuple(_load(n) for n in APP_LIFESPANS)


@cache
def request_denied() -> RequestDenied:
    return _load(REQUEST_DENIED)


@cache
def current_user() -> CurrentUser:
    return _load(CURRENT_USER)
