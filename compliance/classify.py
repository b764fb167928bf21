"""Facility classification: Utah's Table 2 point system and Table 1 ranges, New York's score.

Pure functions on plain inputs, each line of the breakdown naming the Table 2 item it scores.
Vermont's Appendix A point values are missing from the seed, so Vermont classes are entered.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from compliance.grades import Grade


class ClassificationError(ValueError):
    """Inputs that no class can be computed from (e.g. a lagoon too large to be small)."""


@dataclass(frozen=True)
class Line:
    item: str
    points: int
    note: str = ""


@dataclass(frozen=True)
class Classification:
    grade: Grade
    points: int | None
    breakdown: tuple[Line, ...]
    citation: str
    # NY: the assistant/shift grade comes with the class (Tables 1-2).
    extra: dict[str, str] = field(default_factory=dict)


# --- Utah R317-10-6 Table 2 -----------------------------------------------------------

# Unit processes with fixed points, each counted once ("Each Unit process should have
# points assigned only once"). Names in the seed cut short are completed in the label.
UT_PROCESSES: dict[str, tuple[str, int]] = {
    "toxic_discharges": ("Raw wastes subject to toxic waste discharges", 6),
    "septage": ("Acceptance of septage or truck-hauled waste", 2),
    "plant_pumping": ("Plant pumping of main flow", 3),
    "screening": ("Screening, comminution", 3),
    "grit_removal": ("Grit removal", 3),
    "equalization": ("Equalization", 1),
    "clarifiers": ("Clarifiers", 5),
    "imhoff_tanks": ("Imhoff tanks or similar", 5),
    "fixed_film": ("Fixed film reactor", 10),
    "activated_sludge": ("Activated sludge", 15),
    "ponds": ("Stabilization ponds w/o aeration", 5),
    "aerated_ponds": ("Stabilization ponds w/aeration", 8),
    "polishing_ponds": ("Polishing ponds for advanced waste treatment", 2),
    "chemical_physical_awt": ("Chemical/physical advanced waste treatment w/o secondary", 15),
    "chemical_physical_awt_after_secondary": (
        "Chemical/physical advanced waste treatment following secondary",
        10,
    ),
    "biological_awt": ("Biological or chemical/biological advanced waste treatment", 12),
    "nitrification_extended_aeration": ("Nitrification by designed extended aeration only", 2),
    "ion_exchange": ("Ion exchange for advanced waste treatment", 10),
    "membrane_filtration": ("Reverse osmosis, electrodialysis, membrane filtration", 15),
    "carbon_regeneration": ("Advanced waste treatment chemical recovery, carbon regeneration", 4),
    "media_filtration": ("Media filtration", 5),
    "dissolved_air_flotation": ("Dissolved air flotation (other than sludge thickening)", 8),
    "intermittent_sand_filter": ("Intermittent sand filter", 2),
    "recirculating_sand_filter": ("Recirculating intermittent sand filter", 3),
    "microscreens": ("Microscreens", 5),
    "oxygen_generation": ("Generation of oxygen", 5),
    "solids_conditioning": ("Solids conditioning", 2),
    "mechanical_dewatering": ("Mechanical dewatering", 8),
    "anaerobic_digestion": ("Anaerobic digestion of solids", 10),
    "digester_gas_use": ("Utilization of digester gas for heating or cogeneration", 5),
    "aerobic_digestion": ("Aerobic digestion of solids", 6),
    "evaporative_drying": ("Evaporative sludge drying", 2),
    "solids_reduction": ("Solids reduction (incineration, wet oxidation)", 12),
    "onsite_landfill": ("On-site landfill for solids", 2),
    "composting": ("Solids composting", 10),
    "land_application_contractor": ("Land application of biosolids by contractor", 2),
    "land_application_drc": ("Land application of biosolids under the operator in DRC", 10),
    "post_aeration": ("Mechanical post aeration", 2),
    "recycle_reuse": ("Direct recycle and reuse", 6),
    "land_treatment": ("Land treatment and disposal (surface or subsurface)", 4),
}
# Items whose points depend on the technology: (label, lowest, highest).
UT_VARIABLE_PROCESSES: dict[str, tuple[str, int, int]] = {
    "solids_thickening": ("Solids thickening (based on technology)", 2, 5),
}
UT_VARIATION = {"normal": 0, "100-200%": 2, "over-200%": 4}
# Chlorination and UV are one Table 2 item; the disinfection total is capped at 10.
UT_DISINFECTION: dict[str, tuple[str, int]] = {
    "chlorination": ("Chlorination or ultraviolet irradiation", 5),
    "uv": ("Chlorination or ultraviolet irradiation", 5),
    "ozonation": ("Ozonation", 10),
}
UT_SCADA = {"none": 0, "limited": 2, "moderate": 4, "extensive": 6}
UT_LAB_BACTERIOLOGICAL = {"outside": 0, "membrane_filter": 3, "fermentation_tubes": 5}
UT_LAB_CHEMICAL = {
    "outside": 0,
    "push_button": 3,
    "additional": 5,
    "advanced": 7,
    "sophisticated": 10,
}

# How the laboratory items count: "ladder", the highest rung of each list (the items are
# levels of one laboratory's work: push-button tests, then additional procedures, ...), or
# "sum", every item added (the older reading); each list capped at its maximum either way.
LABORATORY_READINGS = ("ladder", "sum")
# Table 2 note (3): deviation "in terms of strength, toxicity, shock loads, inflow and
# infiltration, with point values ranging from 0 - 6": variation and toxic discharges as one.
UT_DEVIATION_CAP = 6

UT_TABLE2 = "UT R317-10-6 Table 2"
UT_TABLE1 = "UT R317-10-6 Table 1"
UT_LAGOON_TABLE1 = '"3,500 and less"'
UT_LAGOON_4Q = '"serving fewer than 3500 population equivalent"'


@dataclass(frozen=True)
class UtTreatmentPlant:
    """The Table 2 facts of a Utah treatment plant. PE may be given as pounds of BOD per day."""

    design_flow_mgd: float
    population_equivalent: float | None = None
    bod_lbs_per_day: float | None = None
    variation: str = "normal"
    processes: tuple[str, ...] = ()
    variable_processes: tuple[tuple[str, int], ...] = ()
    chemical_additions: int = 0
    disinfection: tuple[str, ...] = ()
    scada: str = "none"
    lab_bacteriological: tuple[str, ...] = ()
    lab_chemical: tuple[str, ...] = ()
    laboratory_reading: str = "ladder"  # one of LABORATORY_READINGS


def ut_population_equivalent(bod_lbs_per_day: float) -> float:
    """R317-10-4 O: population equivalent = pounds of BOD per day / 0.2."""
    return bod_lbs_per_day / 0.2


def ut_treatment_class(points: int) -> Grade:
    """Table 1: 30 and less I; 31-55 II; 56-75 III; 76 and greater IV."""
    if points <= 30:
        return Grade(1)
    if points <= 55:
        return Grade(2)
    if points <= 75:
        return Grade(3)
    return Grade(4)


def ut_collection_class(population: int) -> Grade:
    """Table 1: 3,500 and less I; 3,501-15,000 II; 15,001-50,000 III; 50,001 and greater IV."""
    if population <= 3500:
        return Grade(1)
    if population <= 15000:
        return Grade(2)
    if population <= 50000:
        return Grade(3)
    return Grade(4)


def ut_small_lagoon(population_equivalent: float) -> Classification:
    """Table 1 Small Lagoon Systems, population equivalent served "3,500 and less".

    R317-10-4 Q defines a small lagoon system as "serving fewer than 3500 population
    equivalent": at exactly 3,500 the two differ. Table 1 governs classification (R317-10-6
    "shall be classified in accordance with Table 1"), and the breakdown says so.
    """
    if population_equivalent > 3500:
        raise ClassificationError(
            f"a lagoon serving {population_equivalent:g} PE is not a small lagoon system "
            f"(Table 1 {UT_LAGOON_TABLE1}; R317-10-4 Q {UT_LAGOON_4Q}); classify it as a "
            "treatment plant"
        )
    note = f"{population_equivalent:g} PE"
    if population_equivalent == 3500:
        note += (
            f": Table 1 {UT_LAGOON_TABLE1}, R317-10-4 Q {UT_LAGOON_4Q}; Table 1 governs "
            "classification, so 3,500 is a small lagoon system"
        )
    line = Line("Population equivalent served", 0, note)
    return Classification(Grade(1), None, (line,), f"{UT_TABLE1}; R317-10-4 Q")


def _each_part(value: float, per: float) -> int:
    """ "1 point per 10,000 P.E. or part": any started part counts, at least 1."""
    return max(1, math.ceil(value / per))


def _laboratory(
    items: tuple[str, ...], points: dict[str, int], cap: int, plant: UtTreatmentPlant
) -> int:
    values = [points[x] for x in set(items)]
    if plant.laboratory_reading == "ladder":
        return min(cap, max(values, default=0))
    return min(cap, sum(values))


def ut_treatment_points(plant: UtTreatmentPlant) -> Classification:
    lines: list[Line] = []

    if plant.population_equivalent is not None:
        pe = plant.population_equivalent
        pe_note = f"{pe:g} PE"
    elif plant.bod_lbs_per_day is not None:
        pe = ut_population_equivalent(plant.bod_lbs_per_day)
        pe_note = f"{plant.bod_lbs_per_day:g} lb BOD/d / 0.2 = {pe:g} PE (R317-10-4 O)"
    else:
        raise ClassificationError("population_equivalent or bod_lbs_per_day is required")
    pe_points = min(10, _each_part(pe, 10_000))
    flow_points = min(10, _each_part(plant.design_flow_mgd, 1.0))
    size = max(2, min(20, pe_points + flow_points))
    lines.append(Line("Size: population equivalent served", pe_points, f"{pe_note}, note (1)"))
    lines.append(Line("Size: design flow", flow_points, f"{plant.design_flow_mgd:g} MGD, note (2)"))
    if size != pe_points + flow_points:
        lines.append(Line("Size limited to 2-20 points", size - pe_points - flow_points))

    if plant.variation not in UT_VARIATION:
        raise ClassificationError(f"variation must be one of {', '.join(UT_VARIATION)}")
    variation = UT_VARIATION[plant.variation]
    if variation:
        lines.append(Line("Variation in strength and flow", variation, plant.variation))

    seen: set[str] = set()
    for name in plant.processes:
        if name not in UT_PROCESSES:
            raise ClassificationError(f"unknown Table 2 process {name!r}")
        if name in seen:
            continue  # "Each unit process should have points assigned only once"
        seen.add(name)
        label, pts = UT_PROCESSES[name]
        lines.append(Line(label, pts))
    for name, pts in plant.variable_processes:
        label, low, high = UT_VARIABLE_PROCESSES[name]
        if name in seen:
            continue
        seen.add(name)
        if not low <= pts <= high:
            raise ClassificationError(f"{name} scores {low}-{high} points, not {pts}")
        lines.append(Line(label, pts))

    toxic = UT_PROCESSES["toxic_discharges"][1] if "toxic_discharges" in seen else 0
    if variation + toxic > UT_DEVIATION_CAP:
        lines.append(
            Line(
                "Variation and toxic discharges limited to 6 points, note (3)",
                UT_DEVIATION_CAP - variation - toxic,
            )
        )

    if plant.chemical_additions:
        chem = min(6, 2 * plant.chemical_additions)
        lines.append(Line("Chemical additions", chem, f"{plant.chemical_additions} x 2, at most 6"))

    disinfection_items = {UT_DISINFECTION[d] for d in plant.disinfection}
    if disinfection_items:
        raw = sum(p for _, p in disinfection_items)
        lines.append(
            Line("Disinfection", min(10, raw), ", ".join(sorted(plant.disinfection)) + ", max 10")
        )

    if UT_SCADA[plant.scada]:
        lines.append(Line("SCADA or similar instrumentation", UT_SCADA[plant.scada], plant.scada))

    if plant.laboratory_reading not in LABORATORY_READINGS:
        raise ClassificationError(
            f"laboratory_reading must be one of {', '.join(LABORATORY_READINGS)}"
        )
    bact = _laboratory(plant.lab_bacteriological, UT_LAB_BACTERIOLOGICAL, 5, plant)
    chem_lab = _laboratory(plant.lab_chemical, UT_LAB_CHEMICAL, 10, plant)
    lab = min(15, bact + chem_lab)
    if lab:
        how = (
            "the highest rung of each (ladder)"
            if plant.laboratory_reading == "ladder"
            else "items added (sum)"
        )
        lines.append(
            Line(
                "Laboratory control",
                lab,
                f"bacteriological {bact} (max 5), chemical/physical {chem_lab} (max 10); {how}",
            )
        )

    total = sum(line.points for line in lines)
    return Classification(
        ut_treatment_class(total), total, tuple(lines), f"{UT_TABLE2}; {UT_TABLE1}"
    )


def ut_collection(population: int) -> Classification:
    line = Line("Population served", 0, f"{population:,}")
    return Classification(ut_collection_class(population), None, (line,), UT_TABLE1)


# --- New York 650.12 Tables 1-2 -------------------------------------------------------


def ny_grades(points: int, activated_sludge: bool) -> tuple[Grade, Grade]:
    """(chief, assistant/shift) minimum grades by plant point score, Table 1 or Table 2."""
    if points >= 76:
        chief, shift = 4, 3
    elif points >= 56:
        chief, shift = 3, 2
    elif points >= 31:
        chief, shift = 2, 1
    else:
        chief, shift = 1, 1
    return Grade(chief, activated_sludge), Grade(shift, activated_sludge)


def ny_classify(points: int, activated_sludge: bool) -> Classification:
    chief, shift = ny_grades(points, activated_sludge)
    table = "Table 1 (activated sludge)" if activated_sludge else "Table 2 (all other)"
    line = Line("Plant point score", points, table)
    return Classification(
        chief,
        points,
        (line,),
        f"NY 650.12 {table}",
        extra={"assistant_shift_operator": shift.digits()},
    )
