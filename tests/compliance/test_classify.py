"""UT R317-10-6 Tables 1-2 and NY 650.12 Tables 1-2: every threshold, every cap."""

import pytest

from compliance.classify import (
    ClassificationError,
    UtTreatmentPlant,
    ny_classify,
    ny_grades,
    ut_collection_class,
    ut_small_lagoon,
    ut_treatment_class,
    ut_treatment_points,
)
from compliance.grades import Grade


@pytest.mark.parametrize(
    ("points", "level"),
    [(0, 1), (30, 1), (31, 2), (55, 2), (56, 3), (75, 3), (76, 4), (140, 4)],
)
def test_ut_table1_treatment_ranges(points, level):
    """UT R317-10-6 Table 1, Treatment Plant: 30 and less, 31-55, 56-75, 76 and greater."""
    assert ut_treatment_class(points) == Grade(level)


@pytest.mark.parametrize(
    ("population", "level"),
    [(0, 1), (3500, 1), (3501, 2), (15000, 2), (15001, 3), (50000, 3), (50001, 4)],
)
def test_ut_table1_collection_ranges(population, level):
    """UT R317-10-6 Table 1, Collection: population served."""
    assert ut_collection_class(population) == Grade(level)


def test_ut_small_lagoon_is_3500_pe_or_less():
    """UT R317-10-6 Table 1 Small Lagoon Systems: "3,500 and less"."""
    assert ut_small_lagoon(3499).grade == Grade(1)
    assert ut_small_lagoon(3499).breakdown[0].note == "3499 PE"
    with pytest.raises(ClassificationError, match="not a small lagoon") as err:
        ut_small_lagoon(3501)
    assert '"3,500 and less"' in str(err.value)
    assert '"serving fewer than 3500 population equivalent"' in str(err.value)


def test_ut_small_lagoon_at_exactly_3500_pe_notes_the_two_texts():
    """UT Table 1 says "3,500 and less", R317-10-4 Q "serving fewer than 3500 population
    equivalent": Table 1 governs classification, and the breakdown says so, quoting both."""
    result = ut_small_lagoon(3500)
    assert result.grade == Grade(1)
    note = result.breakdown[0].note
    assert 'Table 1 "3,500 and less"' in note
    assert 'R317-10-4 Q "serving fewer than 3500 population equivalent"' in note
    assert "Table 1 governs" in note


def test_ut_table2_note_3_caps_variation_and_toxic_discharges_at_6():
    """UT R317-10-6 Table 2 note (3): deviation "in terms of strength, toxicity, shock loads
    ... with point values ranging from 0 - 6": over 200 % (4) and toxic (6) make 6."""
    result = ut_treatment_points(plant(variation="over-200%", processes=("toxic_discharges",)))
    assert result.points == 2 + 6
    cap = [line for line in result.breakdown if "note (3)" in line.item]
    assert [line.points for line in cap] == [-4]
    assert ut_treatment_points(plant(processes=("toxic_discharges",))).points == 2 + 6
    assert ut_treatment_points(plant(variation="100-200%")).points == 2 + 2


@pytest.mark.parametrize(
    ("reading", "chemical", "bacteriological", "points"),
    [
        ("ladder", ("push_button", "additional"), (), 5),
        ("sum", ("push_button", "additional"), (), 8),
        ("ladder", ("sophisticated", "advanced"), (), 10),
        ("sum", ("sophisticated", "advanced"), (), 10),
        ("ladder", (), ("membrane_filter", "fermentation_tubes"), 5),
        ("sum", (), ("membrane_filter", "fermentation_tubes"), 5),
        ("ladder", ("push_button",), ("membrane_filter",), 6),
    ],
)
def test_ut_table2_laboratory_is_a_ladder(reading, chemical, bacteriological, points):
    """UT R317-10-6 Table 2 LABORATORY CONTROL: the highest rung of each ladder (chemical/
    physical at most 10, bacteriological at most 5); "sum" is the older reading, stated."""
    result = ut_treatment_points(
        plant(
            lab_chemical=chemical, lab_bacteriological=bacteriological, laboratory_reading=reading
        )
    )
    assert result.points == 2 + points
    (lab,) = [line for line in result.breakdown if line.item == "Laboratory control"]
    assert reading in lab.note


def plant(**kw):
    base = {"design_flow_mgd": 1.0, "population_equivalent": 5000}
    base.update(kw)
    return UtTreatmentPlant(**base)


@pytest.mark.parametrize(
    ("kw", "total", "case"),
    [
        ({}, 2, "Table 2 SIZE: 1 + 1 point, the 2-point minimum"),
        ({"population_equivalent": 10_001, "design_flow_mgd": 1.01}, 4, "'or part' counts"),
        ({"population_equivalent": 250_000, "design_flow_mgd": 40}, 20, "size at most 20"),
        ({"bod_lbs_per_day": 3000, "population_equivalent": None}, 3, "PE = BOD/0.2 = 15,000"),
        ({"processes": ("clarifiers", "clarifiers", "activated_sludge")}, 22, "each once"),
        ({"chemical_additions": 2}, 6, "chemical additions 2 each"),
        ({"chemical_additions": 5}, 8, "chemical additions at most 6"),
        ({"disinfection": ("chlorination", "uv")}, 7, "chlorination or UV is one item"),
        ({"disinfection": ("chlorination", "ozonation")}, 12, "disinfection at most 10"),
        ({"scada": "extensive"}, 8, "SCADA extensive 6"),
        ({"lab_bacteriological": ("membrane_filter", "fermentation_tubes")}, 7, "bact: highest"),
        (
            {"lab_chemical": ("push_button", "additional", "advanced")},
            9,
            "chemical/physical: the highest rung",
        ),
        (
            {
                "lab_bacteriological": ("fermentation_tubes",),
                "lab_chemical": ("sophisticated", "advanced"),
            },
            17,
            "laboratory control max 15",
        ),
        ({"variation": "over-200%"}, 6, "variation > 200 % is 4"),
        ({"variable_processes": (("solids_thickening", 4),)}, 6, "thickening by technology"),
    ],
)
def test_ut_table2_points(kw, total, case):
    """UT R317-10-6 Table 2, with its caps and "each unit process once"."""
    assert ut_treatment_points(plant(**kw)).points == total, case


def test_ut_table2_breakdown_names_each_item_once():
    result = ut_treatment_points(
        plant(
            population_equivalent=42000,
            design_flow_mgd=4.2,
            processes=("screening", "grit_removal", "clarifiers", "activated_sludge", "clarifiers"),
            chemical_additions=2,
            disinfection=("uv",),
            scada="moderate",
            lab_bacteriological=("fermentation_tubes",),
            lab_chemical=("additional",),
        )
    )
    items = [line.item for line in result.breakdown]
    assert items.count("Clarifiers") == 1
    assert result.points == 5 + 5 + 3 + 3 + 5 + 15 + 4 + 5 + 4 + 10
    assert result.grade == Grade(3)  # 59 points: 56-75


@pytest.mark.parametrize(
    ("points", "chief", "shift"),
    [(0, 1, 1), (30, 1, 1), (31, 2, 1), (55, 2, 1), (56, 3, 2), (75, 3, 2), (76, 4, 3)],
)
@pytest.mark.parametrize("activated", [True, False])
def test_ny_tables_1_and_2(points, chief, shift, activated):
    """NY 650.12 Table 1 (activated sludge, A series) and Table 2 (all other)."""
    assert ny_grades(points, activated) == (Grade(chief, activated), Grade(shift, activated))
    result = ny_classify(points, activated)
    assert result.grade == Grade(chief, activated)
    assert result.extra["assistant_shift_operator"] == Grade(shift, activated).digits()
