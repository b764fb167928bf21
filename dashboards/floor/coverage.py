"""The floor's coverage banner: the compliance engine's answer for now
(``compliance.services.coverage.floor_body``) in full, with what to do next. Pure.

Nothing is cut: every ongoing finding is shown in the engine's words, with people by
name (the engine names them "Name (id)") and shifts by their label. Findings that ended
earlier in the shift stay on record and are listed apart.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from compliance.rulesets import RULE_SETS, rule_set_at

# Who holds charge, as what.
CHARGE_AS: dict[str, str] = {
    "drc": "as DRC",
    "chief": "as chief operator",
    "assistant_chief": "as assistant chief operator",
    "shift_operator": "as shift operator",
    "operator": "as operator",
}

# What to do about an ongoing finding, by its rule.
NEXT_STEPS: dict[str, str] = {
    "drc-missing": "Say who holds charge: change a crew member's role (Role), or add them "
    "with + Crew.",
    "drc-unqualified": "Someone certified for this plant must hold charge: add them with "
    "+ Crew, or give the role to someone who is (Role).",
    "chief-grade": "Give the role to someone holding the grade it needs (Role), or add them "
    "with + Crew.",
    "assistant-grade": "Give the role to someone holding the grade it needs (Role), or add "
    "them with + Crew.",
    "shift-grade": "Give the role to someone holding the grade it needs (Role), or add them "
    "with + Crew.",
    "certified-on-site": "A certified operator must be on site: add one with + Crew.",
}
NO_CERTIFIED = "A certified operator must be on site: add one with + Crew."
_SHIFTS = re.compile(r"\bshift ((?:\d+, )*\d+)\b")


@dataclass(frozen=True)
class CoverageView:
    state: str  # good, bad, unknown
    headline: str
    findings: tuple[str, ...] = ()  # ongoing violations of a state rule, in full, cited
    earlier: tuple[str, ...] = ()  # ended since the shift opened, in full
    next_step: str = ""
    # Ongoing findings of the site's competency policy: never shown as a violation of law.
    policy: tuple[str, ...] = ()


def plain(text: str, people: Mapping[int, str], shifts: Mapping[int, str]) -> str:
    """The engine's words with people by name alone and shifts by label."""
    for pid, name in people.items():
        text = text.replace(f"{name} ({pid})", name)

    def label(match: re.Match[str]) -> str:
        ids = [int(i) for i in match.group(1).split(", ")]
        words = [f"“{shifts[i]}”" if shifts.get(i) else str(i) for i in ids]
        return "shift " + ", ".join(words)

    return _SHIFTS.sub(label, text)


POLICY_BASIS = "Site policy (competency framework), not a state rule"


def cited(finding: Mapping[str, Any], people: Mapping[int, str], shifts: Mapping[int, str]) -> str:
    """A state rule's finding in the engine's words, with the rule it breaks."""
    text = plain(finding["message"], people, shifts)
    citation = finding.get("citation")
    return f"{text} (violation of {citation})" if citation else text


def _people(body: Mapping[str, Any]) -> dict[int, str]:
    out: dict[int, str] = {}
    lists: list[Sequence[Mapping[str, Any]]] = [
        body.get("drc", ()),
        body.get("on_site", ()),
        body.get("certified_on_site", ()),
    ]
    lists += [f.get("operators", ()) for f in body.get("findings", ())]
    for people in lists:
        for p in people:
            if p.get("name"):
                out[int(p["person_id"])] = str(p["name"])
    return out


def coverage_view(
    body: Mapping[str, Any] | None,
    shifts: Mapping[int, str],
    roles: Mapping[int, str],
) -> CoverageView:
    """``body``: the engine's floor answer, or None where the site has no compliance
    profile; ``shifts``: labels by shift id; ``roles``: the current crew's shift roles."""
    if body is None:
        return CoverageView(
            "unknown",
            "Coverage is not judged here: this site has no compliance profile yet.",
            next_step="A chief operator or admin sets the site's profile (its state, "
            "category and class).",
        )
    if not body.get("shifts_open"):
        return CoverageView(
            "unknown",
            "No shift open: nobody is on record as on site.",
            next_step="Open a shift and say who holds charge.",
        )
    people = _people(body)
    findings = body.get("findings", ())
    found = [f for f in findings if f.get("severity", "violation") == "violation"]
    ongoing = tuple(cited(f, people, shifts) for f in found if f.get("ongoing"))
    earlier = tuple(cited(f, people, shifts) for f in found if not f.get("ongoing"))
    policy = tuple(
        f"{POLICY_BASIS}: {plain(f['message'], people, shifts)}"
        for f in findings
        if f.get("basis") == "site policy" and f.get("ongoing")
    )
    in_charge = [
        f"{p['name']} holds charge {CHARGE_AS.get(roles.get(int(p['person_id']), ''), '')}".rstrip()
        for p in body.get("drc", ())
    ]
    if body.get("in_order"):
        who = f": {'; '.join(in_charge)}." if in_charge else "."
        return CoverageView("good", f"Coverage in order{who}", earlier=earlier, policy=policy)
    steps = [NEXT_STEPS[f["rule"]] for f in found if f.get("ongoing") and f["rule"] in NEXT_STEPS]
    if not ongoing and not body.get("certified_on_site"):
        ongoing = ("No certified operator is on site.",)
        steps.append(NO_CERTIFIED)
    return CoverageView(
        "bad",
        "Coverage NOT in order.",
        findings=ongoing,
        earlier=earlier,
        next_step=" ".join(dict.fromkeys(steps)),
        policy=policy,
    )


def charge_roles(state: str, today: date) -> tuple[str, ...]:
    """The crew roles that may hold charge in ``state`` today, in its rule set's order
    (none for a state with no rule set on record)."""
    versions = RULE_SETS.get(state, ())
    rules = rule_set_at(versions, today) or (versions[0] if versions else None)
    return tuple(rules.charge_roles) if rules else ()
