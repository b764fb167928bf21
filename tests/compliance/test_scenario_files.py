"""The scenario format: golden examples, and malformed files reported with their JSON path."""

import copy
import json
from pathlib import Path

import pytest

from compliance.engine import check
from compliance.jsonpath import ScenarioError
from compliance.scenario import load_scenario
from tests.compliance.builders import at, cert, member, op, scenario, shift

EXAMPLES = Path(__file__).resolve().parents[2] / "compliance" / "examples"
GOLDEN = Path(__file__).resolve().parent / "golden"


@pytest.mark.parametrize("name", ["ut_cedar_valley", "vt_lamoille_falls", "ny_hudson_bend"])
def test_golden_examples(name):
    """Scenario in (compliance/examples), expected findings and entry stamps out."""
    data = json.loads((EXAMPLES / f"{name}.json").read_text())
    expected = json.loads((GOLDEN / f"{name}.expected.json").read_text())
    out = check(load_scenario(data)).to_dict()
    assert out["facility_class"] == expected["facility_class"]
    assert out["required"] == expected["required"]
    got = [
        {k: f[k] for k in ("rule", "severity", "basis", "start", "end", "operators", "entries")}
        for f in out["findings"]
    ]
    assert got == expected["findings"]
    assert out["entries"] == expected["entries"]
    for f in out["findings"]:
        assert f["message"] and f["citation"]


def base():
    return scenario(
        "UT",
        operators=[op("a", cert("II")), op("b", cert("I"))],
        shifts=[shift("UT", member("a", "drc"), member("b", "operator"))],
        entries=[{"id": "e1", "time": at("UT", "09:00"), "author": "b", "operational": True}],
    )


def put(path, value):
    def mutate(d):
        *head, last = path
        for key in head:
            d = d[key]
        if value is DELETE:
            del d[last]
        else:
            d[last] = value

    return mutate


DELETE = object()

MALFORMED = [
    (put(["rules"], "CA"), "$.rules: must be one of UT, VT, NY (got 'CA')"),
    (
        put(["shifts", 0, "crew", 0, "role"], "boss"),
        "$.shifts[0].crew[0].role: must be one of drc, chief, assistant_chief, shift_operator, "
        "operator, trainee (got 'boss')",
    ),
    (
        put(["shifts", 0, "start"], "2025-06-10T06:00:00"),
        "$.shifts[0].start: '2025-06-10T06:00:00' has no UTC offset "
        "(write e.g. 2025-03-09T06:00:00-07:00)",
    ),
    (
        put(["shifts", 0, "end"], "2025-06-10T05:00:00-06:00"),
        "$.shifts[0].end: must be after start",
    ),
    (
        put(["shifts", 0, "crew", 1, "operator"], "zed"),
        "$.shifts[0].crew[1].operator: 'zed' is not among the operators",
    ),
    (
        put(["shifts", 0, "crew", 0, "on_site"], [["2025-06-10T06:00:00-06:00"]]),
        "$.shifts[0].crew[0].on_site[0]: must be a [start, end] pair",
    ),
    (
        put(["shifts", 0, "crew", 0, "on_site"], [[at("UT", "05:00"), at("UT", "07:00")]]),
        "$.shifts[0].crew[0].on_site[0]: must lie within the shift's start and end",
    ),
    (
        put(["shifts", 0, "crew", 0, "on_site"], [[at("UT", "09:00"), at("UT", "08:00")]]),
        "$.shifts[0].crew[0].on_site[0][1]: must be after the start",
    ),
    (
        put(["operators", 0, "certificates", 0, "grade"], "VII"),
        "$.operators[0].certificates[0].grade: 'VII' is not a grade between I and V",
    ),
    (
        put(["operators", 0, "certificates", 0, "grade"], 5),
        "$.operators[0].certificates[0].grade: UT grades go up to IV",
    ),
    (
        put(["operators", 0, "certificates", 0, "grade"], "2A"),
        "$.operators[0].certificates[0].grade: the A series is New York's; UT has no grade 2A",
    ),
    (
        put(["operators", 0, "certificates", 0, "kind"], "provisional"),
        "$.operators[0].certificates[0].kind: UT issues full, grandfather, restricted "
        "certificates, not provisional",
    ),
    (
        put(["operators", 0, "certificates", 0, "kind"], "grandfather"),
        "$.operators[0].certificates[0].facility: a grandfather certificate names its one facility",
    ),
    (
        put(["operators", 0, "certificates", 0, "expires"], "2019-12-31"),
        "$.operators[0].certificates[0].expires: 2019-12-31 is before issued 2024-01-01",
    ),
    (
        put(["operators", 0, "certificates", 0, "issued"], "2020-13-01"),
        "$.operators[0].certificates[0].issued: '2020-13-01' is not a date (write YYYY-MM-DD)",
    ),
    (
        put(["operators", 1, "id"], "a"),
        "$.operators[1].id: operator 'a' appears twice",
    ),
    (
        put(["operators", 0, "training"], [{"date": "2024-01-01", "hours": -1}]),
        "$.operators[0].training[0].hours: must be at least 0, not -1",
    ),
    (
        put(["entries", 0, "operational"], "yes"),
        "$.entries[0].operational: must be true or false, not a string",
    ),
    (put(["entries", 0, "time"], None), "$.entries[0].time: is required"),
    (
        put(["entries", 0, "time"], "2025-06-10T09:00:00"),
        "$.entries[0].time: '2025-06-10T09:00:00' has no UTC offset "
        "(write e.g. 2025-03-09T06:00:00-07:00)",
    ),
    (
        put(["entries", 0, "time"], "yesterday"),
        "$.entries[0].time: 'yesterday' is not an ISO 8601 timestamp "
        "(e.g. 2025-03-09T06:00:00-07:00)",
    ),
    (put(["entries", 0, "id"], " "), "$.entries[0].id: must not be empty"),
    (put(["entries", 0, "author"], ["a"]), "$.entries[0].author: must be a string, not a list"),
    (
        put(["entries", 0, "mood"], "fine"),
        "$.entries[0].mood: unknown field (expected one of: id, time, author, kind, "
        "operational, countersigned_by, countersigned_at, text)",
    ),
    (
        put(["entries", 0, "countersigned_at"], at("UT", "10:00")),
        "$.entries[0].countersigned_at: needs countersigned_by",
    ),
    (
        put(
            ["entries", 0],
            {
                "id": "e1",
                "time": at("UT", "09:00"),
                "author": "b",
                "countersigned_by": "a",
                "countersigned_at": at("UT", "08:59"),
            },
        ),
        "$.entries[0].countersigned_at: must not be before the entry's time",
    ),  # fmt: skip
    (put(["entries", 0, "kind"], ""), "$.entries[0].kind: must not be empty"),
    (
        put(["operators", 0, "levels"], [{"level": "expert", "assessed_on": "2024-01-01"}]),
        "$.operators[0].levels[0].level: must be one of emerging, developing, proficient, "
        "advanced (got 'expert')",
    ),
    (
        put(["competency_policy"], {"reading": {"below": "never"}}),
        "$.competency_policy.reading.below: must be one of verify, direct (got 'never')",
    ),
    (
        put(["operators", 0, "certificates", 0, "legacy_grade"], "IIA"),
        "$.operators[0].certificates[0].legacy_grade: give grade or legacy_grade, not both",
    ),
    (
        put(["facility", "wastewater_type"], "industrial"),
        "$.facility.wastewater_type: UT facilities have no industrial type",
    ),
    (
        put(["facility", "employed_operators"], 0),
        "$.facility.employed_operators: must be at least 1, not 0",
    ),
    (put(["period"], DELETE), "$.period: is required"),
    (
        put(["period", "end"], at("UT", "05:00")),
        "$.period.end: must be after start",
    ),
    (
        put(["facility", "timezone"], "Mountain"),
        "$.facility.timezone: 'Mountain' is not an IANA time zone (e.g. America/Denver)",
    ),
    (
        put(["facility", "points"], 40),
        "$.facility: needs exactly one of class, points or population",
    ),
    (
        put(["facility", "category"], "drinking_water"),
        "$.facility.category: must be one of treatment, collection, small_lagoon "
        "(got 'drinking_water')",
    ),
    (
        put(["shift"], []),
        "$.shift: unknown field (expected one of: rules, facility, operators, "
        "shifts, entries, period, expiry_horizon_days, competency_policy, description)",
    ),
    (put(["operators"], {"a": 1}), "$.operators: must be a list, not an object"),
]


@pytest.mark.parametrize(("mutate", "message"), MALFORMED)
def test_malformed_scenario_names_the_json_path(mutate, message):
    data = copy.deepcopy(base())
    mutate(data)
    with pytest.raises(ScenarioError) as err:
        load_scenario(data)
    assert str(err.value) == message


@pytest.mark.parametrize(
    ("state", "facility", "message"),
    [
        (
            "VT",
            {"points": 60},
            "$.facility.points: Vermont's Appendix A point values are not on record; "
            "enter the class",
        ),
        (
            "NY",
            {"class": "3A", "activated_sludge": False},
            "$.facility.class: class 3A does not match activated_sludge: false",
        ),
        ("VT", {"class": "VI"}, "$.facility.class: 'VI' is not a grade between I and V"),
        ("VT", {"class": "3C"}, "$.facility.class: '3C' is not a grade (write e.g. III, 3 or 3A)"),
        ("UT", {"class": "5"}, "$.facility.class: UT classes go up to IV"),
        (
            "UT",
            {"category": "small_lagoon", "population": 4000},
            "$.facility.population: a lagoon serving 4000 PE is not a small lagoon system "
            '(Table 1 "3,500 and less"; R317-10-4 Q "serving fewer than 3500 population '
            'equivalent"); classify it as a treatment plant',
        ),
        (
            "UT",
            {
                "points": {
                    "design_flow_mgd": 1,
                    "population_equivalent": 10,
                    "processes": ["activated_sludge", "moon_base"],
                }
            },
            "$.facility.points.processes[1]: must be one of ",
        ),
        (
            "UT",
            {"points": {"design_flow_mgd": 1}},
            "$.facility.points: population_equivalent or bod_lbs_per_day is required",
        ),
        (
            "UT",
            {
                "history": [
                    {"class": "II"},
                    {"from": "2025-01-01", "class": "III"},
                    {"from": "2024-01-01", "class": "IV"},
                ]
            },
            "$.facility.history[2].from: dates must increase",
        ),
        (
            "VT",
            {"activated_sludge": True, "class": "2"},
            "$.facility.activated_sludge: the activated-sludge flag applies to New York plants",
        ),
    ],
)
def test_malformed_facility(state, facility, message):
    data = scenario(state)
    data["facility"].pop("class", None)
    data["facility"].update(facility)
    with pytest.raises(ScenarioError) as err:
        load_scenario(data)
    assert str(err.value).startswith(message)


def test_ids_may_be_integers_and_become_strings():
    data = base()
    data["entries"][0]["id"] = 17
    assert load_scenario(data).entries[0].id == "17"


def test_itemized_ut_points_classify_the_facility():
    data = scenario(
        "UT",
        facility_kw={
            "points": {
                "population_equivalent": 42000,
                "design_flow_mgd": 4.2,
                "processes": [
                    "activated_sludge",
                    "clarifiers",
                    "screening",
                    "grit_removal",
                    {"process": "solids_thickening", "points": 3},
                ],
                "disinfection": ["chlorination"],
                "scada": "extensive",
                "laboratory": {"bacteriological": ["membrane_filter"], "chemical": ["advanced"]},
            }
        },
    )
    facility = load_scenario(data).facility
    # 5 + 5 + 15 + 5 + 3 + 3 + 3 + 5 + 6 + 3 + 7 = 60: class III (56-75)
    assert facility.classes[0].points == 60
    assert facility.classes[0].grade.level == 3


def test_new_fields_are_read():
    """issue 15: facility roster and grandfather dates, levels, entry kinds and verification
    times, VT types, the laboratory reading."""
    data = base()
    data["facility"].update(
        {"employed_operators": 1, "rating_changes": ["2025-01-02"], "processes_added": []}
    )
    data["operators"][0]["levels"] = [
        {"level": "proficient", "assessed_on": "2024-01-01", "assessor": "b", "id": 7},
        {"level": "advanced", "assessed_on": "2024-01-01", "supersedes": 7, "note": "fixed"},
    ]
    data["entries"][0].update(
        {"kind": "reading", "countersigned_by": "a", "countersigned_at": at("UT", "09:30")}
    )
    s = load_scenario(data)
    assert s.facility.employed_operators == 1
    assert [d.isoformat() for d in s.facility.rating_changes] == ["2025-01-02"]
    first, second = s.operators[0].assessments
    assert (first.id, second.supersedes, second.note) == ("7", "7", "fixed")
    entry = s.entries[0]
    assert entry.kind == "reading" and entry.countersigned_at is not None
    assert s.competency is not None

    vt = scenario(
        "VT",
        facility_kw={"class": "2", "wastewater_type": "industrial"},
        operators=[op("a", cert("2", state="VT", type="industrial"))],
    )
    loaded = load_scenario(vt)
    assert loaded.facility.wastewater_type == "industrial"
    assert loaded.operators[0].certificates[0].type == "industrial"

    plant = {
        "population_equivalent": 5000,
        "design_flow_mgd": 1,
        "laboratory": {"chemical": ["push_button", "additional"]},
    }
    ladder = scenario("UT", facility_kw={"points": plant})
    summed = scenario("UT", facility_kw={"points": {**plant, "laboratory_reading": "sum"}})
    assert load_scenario(ladder).facility.classes[0].points == 2 + 5
    assert load_scenario(summed).facility.classes[0].points == 2 + 8
