"""Bringing the ``tags`` table in line with a site configuration, keeping history.

A configuration tag is matched to its row by its stable key (``Tag.key``: the
explicit ``id:``, else device/register/address; see migration 0101). Found by
key, the row is updated and every changed field (a rename, a new unit, …) is
recorded in ``tag_history``. Not found by key, a row with the same name whose
key is gone from the configuration (or that has none, e.g. made by another
module's seeder) is taken over, which records an address move; otherwise a new
tag is created. Keyed tags of the site that are no longer configured are
retired (``retired_at``), never deleted. The site is created if no site has the
configuration's code. Everything happens in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import psycopg

from clearwell.errors import ClearwellError
from sitefile.models import SiteConfig, Tag

_FIELDS = (
    "name",
    "description",
    "unit",
    "source_protocol",
    "address",
    "eng_low",
    "eng_high",
    "limit_lo_lo",
    "limit_lo",
    "limit_hi",
    "limit_hi_hi",
    "expected_interval_s",
)
_LOCK = 0x696E6773  # "ings": one sync at a time


@dataclass
class SyncResult:
    site_id: int
    tag_ids: dict[str, int] = field(default_factory=dict)
    created: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{len(self.tag_ids)} tags: {len(self.created)} created, {len(self.renamed)} renamed,"
            f" {len(self.updated)} changed, {len(self.retired)} retired"
        )


def expected_interval_s(config: SiteConfig, tag: Tag) -> float | None:
    """How often a healthy source gives this tag a new stored reading, or None if unknown.

    Polled tags are stored every poll, or with a deadband at least every max interval;
    a subscribed OPC UA tag is reported on change only, so its silence says nothing.
    """
    if tag.source == "modbus" and tag.modbus is not None:
        every = config.device(tag.modbus.device).poll_interval_s
    elif tag.source == "opcua" and tag.opcua is not None and tag.opcua.mode == "poll":
        every = tag.opcua.sampling_interval_s
    else:
        return None
    if tag.applied_deadband is not None:
        return max(every, tag.max_interval_s or config.ingest.default_max_interval_s)
    return every


def desired_row(config: SiteConfig, tag: Tag) -> dict[str, Any]:
    lo, hi = tag.eng_range if tag.eng_range else (None, None)
    return {
        "name": tag.name,
        "description": tag.description,
        "unit": tag.unit,
        "source_protocol": tag.source,
        "address": tag.address_text,
        "eng_low": lo,
        "eng_high": hi,
        "limit_lo_lo": tag.limits.lo_lo,
        "limit_lo": tag.limits.lo,
        "limit_hi": tag.limits.hi,
        "limit_hi_hi": tag.limits.hi_hi,
        "expected_interval_s": expected_interval_s(config, tag),
    }


def _text(v: Any) -> str | None:
    return None if v is None else (f"{v:g}" if isinstance(v, float) else str(v))


def sync_tags(conn: psycopg.Connection[Any], config: SiteConfig, source: str = "") -> SyncResult:
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))
        site_id = _site(conn, config)
        result = SyncResult(site_id)
        cols = ", ".join(f"t.{f}" for f in _FIELDS)  # fixed column names, no input
        rows = conn.execute(
            f"SELECT t.id, k.key, t.retired_at IS NOT NULL, {cols}"  # noqa: S608
            " FROM tags t LEFT JOIN ingest_tag_keys k ON k.tag_id = t.id"
            " WHERE t.site_id = %s",
            (site_id,),
        ).fetchall()
        by_key: dict[str, tuple[int, bool, dict[str, Any]]] = {}
        by_name: dict[str, tuple[int, str | None]] = {}
        for r in rows:
            current = dict(zip(_FIELDS, r[3:], strict=True))
            if r[1] is not None:
                by_key[r[1]] = (r[0], r[2], current)
            by_name[current["name"]] = (r[0], r[1])
        wanted = {t.key for t in config.tags}
        retired_ids = {r[0] for r in rows if r[2]}

        plan: list[tuple[Tag, int | None, dict[str, Any]]] = []
        for tag in config.tags:
            if tag.key in by_key:
                tag_id, _, current = by_key[tag.key]
                plan.append((tag, tag_id, current))
                continue
            holder = by_name.get(tag.name)
            if holder is not None and (holder[1] is None or holder[1] not in wanted):
                tag_id = holder[0]
                current = next(
                    dict(zip(_FIELDS, r[3:], strict=True)) for r in rows if r[0] == tag_id
                )
                conn.execute("DELETE FROM ingest_tag_keys WHERE tag_id = %s", (tag_id,))
                conn.execute(
                    "INSERT INTO ingest_tag_keys (tag_id, site_id, key) VALUES (%s, %s, %s)",
                    (tag_id, site_id, tag.key),
                )
                plan.append((tag, tag_id, current))
            else:
                plan.append((tag, None, {}))

        # Renames go through a temporary name first, so that swapping two names works.
        for tag, known_id, current in plan:
            if known_id is not None and current["name"] != tag.name:
                conn.execute(
                    "UPDATE tags SET name = %s WHERE id = %s",
                    (f"x--renaming--{known_id}", known_id),
                )
        new = [tag for tag, known_id, _ in plan if known_id is None]
        for tag, tag_id in zip(new, _create_many(conn, config, site_id, new, source), strict=True):
            result.created.append(tag.name)
            result.tag_ids[tag.name] = tag_id
        for tag, known_id, current in plan:
            if known_id is not None:
                tag_id = known_id
                changed = _update(conn, config, tag_id, tag, current, source)
                if current["name"] != tag.name:
                    result.renamed.append((current["name"], tag.name))
                elif changed:
                    result.updated.append(tag.name)
                if tag_id in retired_ids:
                    conn.execute("UPDATE tags SET retired_at = NULL WHERE id = %s", (tag_id,))
                    _history(conn, tag_id, "retired_at", "retired", None, source)
                result.tag_ids[tag.name] = tag_id
        result.tag_ids = {t.name: result.tag_ids[t.name] for t in config.tags}

        for key, (tag_id, retired, current) in by_key.items():
            if key not in wanted and not retired and tag_id not in result.tag_ids.values():
                conn.execute("UPDATE tags SET retired_at = now() WHERE id = %s", (tag_id,))
                _history(conn, tag_id, "retired_at", None, "retired", source)
                result.retired.append(current["name"])
    return result


def _site(conn: psycopg.Connection[Any], config: SiteConfig) -> int:
    s = config.site
    # Another module (the logbook's demo seeder) may create the same site: first one wins.
    conn.execute(
        "INSERT INTO sites (code, name, timezone) VALUES (%s, %s, %s)"
        " ON CONFLICT (code) DO NOTHING",
        (s.code, s.name, s.timezone),
    )
    row = conn.execute("SELECT id FROM sites WHERE code = %s", (s.code,)).fetchone()
    assert row is not None
    return int(row[0])


def _create_many(
    conn: psycopg.Connection[Any], config: SiteConfig, site_id: int, tags: list[Tag], source: str
) -> list[int]:
    """Insert new tags, their keys and 'created' history; ids in the order of ``tags``.

    In bulk (one pipelined statement per table): a site's first sync may create tens
    of thousands of tags.
    """
    if not tags:
        return []
    ids: list[int] = []
    wanted = [desired_row(config, t) for t in tags]
    with conn.cursor() as cur:
        try:
            cur.executemany(
                "INSERT INTO tags (site_id, name, description, unit, source_protocol, address,"
                " eng_low, eng_high, limit_lo_lo, limit_lo, limit_hi, limit_hi_hi,"
                " expected_interval_s)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
                [(site_id, *(w[f] for f in _FIELDS)) for w in wanted],
                returning=True,
            )
        except psycopg.errors.UniqueViolation as exc:
            detail = exc.diag.message_detail or ""
            raise ClearwellError(
                f"cannot create tags: a name belongs to another tag of the site ({detail})"
            ) from None
        while True:
            row = cur.fetchone()
            assert row is not None
            ids.append(int(row[0]))
            if not cur.nextset():
                break
        cur.executemany(
            "INSERT INTO ingest_tag_keys (tag_id, site_id, key) VALUES (%s, %s, %s)",
            [(i, site_id, t.key) for i, t in zip(ids, tags, strict=True)],
        )
        cur.executemany(
            "INSERT INTO tag_history (tag_id, field, old_value, new_value, source)"
            " VALUES (%s, 'created', NULL, %s, %s)",
            [(i, t.name, source) for i, t in zip(ids, tags, strict=True)],
        )
    return ids


def _update(
    conn: psycopg.Connection[Any],
    config: SiteConfig,
    tag_id: int,
    tag: Tag,
    current: dict[str, Any],
    source: str,
) -> bool:
    wanted = desired_row(config, tag)
    changed = [f for f in _FIELDS if wanted[f] != current[f]]
    if not changed:
        return False
    for f in changed:
        _history(conn, tag_id, f, _text(current[f]), _text(wanted[f]), source)
    # All fields at once: the table's CHECKs relate limits to each other.
    try:
        conn.execute(
            "UPDATE tags SET name = %s, description = %s, unit = %s, source_protocol = %s,"
            " address = %s, eng_low = %s, eng_high = %s, limit_lo_lo = %s, limit_lo = %s,"
            " limit_hi = %s, limit_hi_hi = %s, expected_interval_s = %s WHERE id = %s",
            (*(wanted[f] for f in _FIELDS), tag_id),
        )
    except psycopg.errors.UniqueViolation:
        raise ClearwellError(
            f"cannot rename tag {current['name']!r} to {tag.name!r}: another tag of the site"
            " has that name"
        ) from None
    return True


def _history(
    conn: psycopg.Connection[Any],
    tag_id: int,
    field_name: str,
    old: str | None,
    new: str | None,
    source: str,
) -> None:
    conn.execute(
        "INSERT INTO tag_history (tag_id, field, old_value, new_value, source)"
        " VALUES (%s, %s, %s, %s, %s)",
        (tag_id, field_name, old, new, source),
    )


def ids_of_keys(conn: psycopg.Connection[Any], site_id: int, keys: set[str]) -> dict[str, int]:
    """The ids of the site's tags with these keys (configured or retired)."""
    if not keys:
        return {}
    rows = conn.execute(
        "SELECT key, tag_id FROM ingest_tag_keys WHERE site_id = %s AND key = ANY(%s)",
        (site_id, list(keys)),
    ).fetchall()
    return {str(k): int(i) for k, i in rows}
