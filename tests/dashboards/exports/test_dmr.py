import csv
import io
from datetime import date

import pytest
from pydantic import ValidationError

from dashboards.exports import dmr
from dashboards.exports.mor import Monthly
from dashboards.exports.permit import Permit
from dashboards.exports.statistics import Missing, Stat

PERMIT = Permit.model_validate(
    {
        "number": "UT0021717",
        "below_detection": "zero",
        "parameters": [
            {
                "name": "Flow, total",
                "code": "50050",
                "location": "1",
                "tag": "effluent.total",
                "daily": "total",
                "statistical_base": "MO TOTAL",
                "unit": "m3",
            },
            {
                "name": "TSS",
                "code": "00530",
                "location": "1",
                "analyte": "tss",
                "daily": "lab",
                "statistical_base": "30DA AVG",
                "unit": "mg/L",
                "limit": {"max": 25},
            },
            {
                "name": "TSS",
                "code": "00530",
                "location": "1",
                "analyte": "tss",
                "daily": "lab",
                "statistical_base": "DAILY MX",
                "unit": "mg/L",
                "limit": {"max": 45},
            },
            {
                "name": "E. coli",
                "code": "51040",
                "location": "1",
                "analyte": "ecoli",
                "daily": "lab",
                "statistical_base": "MO GEOMN",
                "unit": "MPN/100mL",
                "no_data_code": "9",
            },
            {
                "name": "pH",
                "code": "00400",
                "location": "1",
                "tag": "effluent.ph",
                "daily": "min",
                "statistical_base": "DAILY MN",
                "unit": "SU",
                "limit": {"min": 6.5},
            },
        ],
    }
)


def test_dmr_rows_and_csv_layout():
    monthly = {
        "50050-1-MO TOTAL": {Monthly.TOTAL: Stat(291_000.0, None, 31)},
        "00530-1-30DA AVG": {Monthly.AVG: Stat(27.5, None, 4)},
        "00530-1-DAILY MX": {Monthly.MAX: Stat(3.0, "<", 4)},
        "51040-1-MO GEOMN": {Monthly.GEOMEAN: Missing("NOT_SAMPLED")},
        "00400-1-DAILY MN": {Monthly.MIN: Stat(6.8, None, 30)},
    }
    out = dmr.to_csv(PERMIT, (date(2026, 3, 1), date(2026, 3, 31)), dmr.rows(PERMIT, monthly))
    table = list(csv.DictReader(io.StringIO(out.decode())))
    assert list(table[0]) == list(dmr.COLUMNS)
    assert [r["parameter_code"] for r in table] == ["50050", "00530", "00530", "51040", "00400"]
    flow, tss_avg, tss_max, ecoli, ph = table
    assert (flow["value"], flow["qualifier"], flow["exceedance"]) == ("291000", "=", "no")
    assert (tss_avg["value"], tss_avg["limit_max"], tss_avg["exceedance"]) == ("27.5", "25", "yes")
    assert (tss_max["qualifier"], tss_max["value"]) == ("<", "3")
    assert (ecoli["value"], ecoli["no_data_code"], ecoli["reason"]) == ("", "9", "NOT_SAMPLED")
    assert (ph["exceedance"], ph["limit_min"]) == ("no", "6.5")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"code": "5005"}, "String should match pattern"),
        ({"tag": None}, "give exactly one of tag: or analyte:"),
        ({"daily": "lab"}, "daily: lab goes with analyte:"),
        ({"statistical_base": "WEEKLY"}, "Input should be 'MO AVG'"),
        ({"colour": "blue"}, "Extra inputs are not permitted"),
    ],
)
def test_bad_parameters_are_refused_with_the_field(change, message):
    param = {
        "name": "Flow",
        "code": "50050",
        "location": "1",
        "tag": "effluent.total",
        "daily": "total",
        "statistical_base": "MO TOTAL",
        "unit": "m3",
    } | change
    with pytest.raises(ValidationError, match=message):
        Permit.model_validate({"number": "X", "parameters": [param]})


def test_the_same_parameter_twice_is_refused():
    p = PERMIT.parameters[0].model_dump()
    with pytest.raises(ValidationError, match="listed twice"):
        Permit.model_validate({"number": "X", "parameters": [p, p]})
