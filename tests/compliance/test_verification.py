"""Who may verify an entry now (compliance.services.verification): the site's competency
policy for one entry and one would-be verifier, answered the way the engine judges the
verification once it is recorded."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import pytest

from compliance.engine import check
from compliance.model import Entry
from compliance.scenario import load_scenario
from compliance.services.verification import on_site, verification_problem
from tests.compliance.builders import at, cert, member, op, scenario, shift

ENTRY_AT = at("UT", "09:00")


def facts(verifier: dict, crew: list[dict], kind: str) -> dict:
    return scenario(
        "UT",
        operators=[op("t", level="advanced"), verifier, op("x", cert("II"))],
        shifts=[shift("UT", *crew)],
        entries=[{"id": "e1", "time": ENTRY_AT, "author": "t", "kind": kind}],
    )


ON_ALL_DAY = [member("t", "trainee"), member("v", "shift_operator"), member("x", "operator")]
# v arrives at 10:00, after the entry.
AFTER_TEN = (at("UT", "10:00"), at("UT", "18:00"))
LATE = [member("t", "trainee"), member("v", "shift_operator", AFTER_TEN), member("x", "operator")]
AS_TRAINEE = [member("t", "trainee"), member("v", "trainee"), member("x", "operator")]

CASES = [
    # (verifier, crew, kind, who verifies, phrase expected or None)
    (op("v", cert("II")), ON_ALL_DAY, "reading", "v", None),
    (op("v", cert("II")), ON_ALL_DAY, "chemical_addition", "v", None),
    (op("v"), ON_ALL_DAY, "reading", "v", "held no valid certificate then"),
    (op("v", cert("II"), level="developing"), ON_ALL_DAY, "reading", "v",
     "was assessed developing then (a verifier is at least proficient)"),
    # A reading is verified later: being on site at its time is not asked ...
    (op("v", cert("II")), LATE, "reading", "v", None),
    # ... a chemical addition is done under direct supervision.
    (op("v", cert("II")), LATE, "chemical_addition", "v",
     "was not on site at 09:00, when it was made: the site's policy wants this kind of entry"
     " done under direct supervision"),
    (op("v", cert("II")), AS_TRAINEE, "reading", "v",
     "was assessed emerging then (a verifier is at least proficient)"),
    (op("v", cert("II")), ON_ALL_DAY, "reading", "t", "is its author"),
    # No level on record at a site that records them: counted as emerging, and said so.
    (op("v", cert("II"), level=None), ON_ALL_DAY, "reading", "v",
     "had no competency level on record then (counted as emerging; a verifier is at least"
     " proficient: the chief operator records levels)"),
]  # fmt: skip


@pytest.mark.parametrize(("verifier", "crew", "kind", "who", "expected"), CASES)
def test_who_may_verify_agrees_with_the_engine(verifier, crew, kind, who, expected):
    data = facts(verifier, crew, kind)
    now = datetime.fromisoformat(at("UT", "11:00"))
    loaded = load_scenario(data)
    entry = loaded.entries[0]
    assert verification_problem(loaded, entry, who, now) == expected
    # Recorded as a verification at ``now``, the engine finds it wanting, or not, alike.
    data["entries"][0] |= {"countersigned_by": who, "countersigned_at": at("UT", "11:00")}
    report = check(load_scenario(data))
    wanting = [f for f in report.findings if "e1" in f.entries]
    assert bool(wanting) == (expected is not None), [f.message for f in wanting]


def test_with_no_levels_on_record_a_certified_crew_member_may_verify():
    """As in the engine: facts without assessed levels leave the trainee role the only
    sign of an emerging operator."""
    data = facts(op("v", cert("II"), level="emerging"), ON_ALL_DAY, "reading")
    bare = dataclasses.replace(load_scenario(data), competency=None)
    now = datetime.fromisoformat(at("UT", "11:00"))
    assert verification_problem(bare, bare.entries[0], "v", now) is None
    as_trainee = dataclasses.replace(load_scenario(facts(op("v", cert("II")), AS_TRAINEE, "note")),
                                     competency=None)  # fmt: skip
    assert verification_problem(as_trainee, as_trainee.entries[0], "v", now) == (
        "was assessed emerging then (a verifier is at least proficient)"
    )


def test_someone_on_no_record_holds_no_certificate():
    loaded = load_scenario(facts(op("v", cert("II")), ON_ALL_DAY, "reading"))
    now = datetime.fromisoformat(at("UT", "11:00"))
    stranger = Entry("e1", loaded.entries[0].time, "t", kind="reading")
    assert verification_problem(loaded, stranger, "nobody", now) == "held no valid certificate then"


def test_on_site_follows_the_stints():
    loaded = load_scenario(facts(op("v", cert("II")), LATE, "reading"))
    t = datetime.fromisoformat
    assert not on_site(loaded, "v", t(at("UT", "09:59")))
    assert on_site(loaded, "v", t(at("UT", "10:00")))
    assert not on_site(loaded, "v", t(at("UT", "18:00")))
    assert on_site(loaded, "t", t(at("UT", "06:00")))
