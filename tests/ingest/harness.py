"""Waiting in tests for what a collector does in the background, and what it stored."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime

import psycopg


async def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


def stored_rows(db_url: str) -> dict[str, list[tuple[datetime, float | None, int]]]:
    """The readings in the database by tag name, in time order: (time, value, status)."""
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT t.name, r.time, r.value, r.status FROM readings r"
            " JOIN tags t ON t.id = r.tag_id ORDER BY r.time"
        ).fetchall()
    out: dict[str, list[tuple[datetime, float | None, int]]] = {}
    for name, time_, value, status in rows:
        out.setdefault(name, []).append((time_, value, status))
    return out
