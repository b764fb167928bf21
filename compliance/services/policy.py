"""A site's competency policy (seed 000, a site policy): per entry kind, the level from
which it is recorded unsupervised and, below it, ``verify`` or ``direct``. Versions are
appended; the newest is in force, and with none recorded the default
(``compliance.competency.DEFAULT_POLICY``) applies. Every write is audited.
"""

from __future__ import annotations

from typing import Annotated, Any

import psycopg
from psycopg.types.json import Jsonb
from pydantic import BaseModel, ConfigDict, Field

from compliance.adapter import Site, policy_from
from compliance.competency import DEFAULT_POLICY, CompetencyPolicy, KindRule, Level, Supervision
from compliance.services.errors import Refused
from logbook import audit
from logbook.kinds import KINDS as LOGBOOK_KINDS

# What a policy may name: the logbook's entry kinds, and samples and lab results (which
# the logbook records apart from its entries).
POLICY_KINDS: tuple[str, ...] = (*LOGBOOK_KINDS, "sample", "lab_result")


class KindPolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unsupervised_from: Level | None = Field(None, description="default: the framework's")
    below: Supervision | None = Field(None, description="verify or direct")


class PolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kinds: dict[str, KindPolicyIn] = Field(
        default_factory=dict, description="the kinds changed from the default; {} is the default"
    )
    note: Annotated[str, Field(max_length=2000)] = ""


def changes_of(body: PolicyIn) -> dict[str, dict[str, str]]:
    """The kinds ``body`` changes, each with both keys (a key left out keeps the default's);
    an unknown kind is refused, naming it."""
    out: dict[str, dict[str, str]] = {}
    for kind, given in body.kinds.items():
        if kind not in POLICY_KINDS:
            raise Refused(
                ["kinds", kind], f"unknown entry kind {kind!r}: one of {', '.join(POLICY_KINDS)}"
            )
        rule = DEFAULT_POLICY.rule(kind)
        out[kind] = {
            "unsupervised_from": given.unsupervised_from or rule.unsupervised_from,
            "below": given.below or rule.below,
        }
    return out


_SELECT = (
    "SELECT id, kinds, note, recorded_by, recorded_at FROM competency_policies"
    " WHERE site_id = %s ORDER BY id"
)
_KEYS = ("id", "kinds", "note", "recorded_by", "recorded_at")


async def versions(conn: psycopg.AsyncConnection[Any], site: Site) -> list[dict[str, Any]]:
    """Every version recorded at ``site``, oldest first."""
    cur = await conn.execute(_SELECT, (site.id,))
    return [dict(zip(_KEYS, r, strict=True)) for r in await cur.fetchall()]


async def set_policy(
    conn: psycopg.AsyncConnection[Any], actor: audit.Actor, site: Site, body: PolicyIn
) -> list[dict[str, Any]]:
    """Record a new version of the site's policy; every version recorded, after it."""
    changes = changes_of(body)
    cur = await conn.execute(
        "INSERT INTO competency_policies (site_id, kinds, note, recorded_by)"
        " VALUES (%s, %s, %s, %s) RETURNING id",
        (site.id, Jsonb(changes), body.note, actor.id),
    )
    row = await cur.fetchone()
    assert row is not None
    await audit.append(
        conn,
        actor,
        "compliance.policy_set",
        "competency_policy",
        row[0],
        site.id,
        {"kinds": changes, "note": body.note},
    )
    return await versions(conn, site)


def _rule(kind: str | None, rule: KindRule, changed: bool) -> dict[str, Any]:
    return {
        "kind": kind,
        "unsupervised_from": rule.unsupervised_from,
        "below": rule.below,
        "changed": changed,
        "citation": rule.citation(),
    }


def policy_body(site: Site, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The policy in force (each kind's rule, changed from the default or not, with the
    framework statement it rests on), the version it comes from, and every version."""
    current = rows[-1] if rows else None
    policy: CompetencyPolicy = policy_from(current["kinds"] if current else None)
    changed = set(current["kinds"]) if current else set()
    return {
        "site": {"id": site.id, "code": site.code, "name": site.name},
        "default": current is None,
        "current": current,
        "kinds": [_rule(kind, rule, kind in changed) for kind, rule in policy.kinds.items()],
        "unknown_kind": _rule(None, policy.unknown, False),
        "history": rows,
    }
