"""The permit: section of a site file: errors name the file, the line and the field."""

from __future__ import annotations

import pytest

from clearwell.errors import ClearwellError
from dashboards.exports import service
from dashboards.exports.mor import Daily, Monthly
from dashboards.exports.permit import load_site_permit
from sitefile.load import SiteConfigError
from tests.dashboards.exports.month import SITE_FILE


def test_the_test_months_permit_loads_with_shared_columns(tmp_path):
    path = tmp_path / "site.yaml"
    path.write_text(SITE_FILE)
    config, permit = load_site_permit(path)
    assert config.site.code == "demo-wwtp" and permit.number == "UT0099999"
    columns = {c.key: c for c in permit.mor_columns()}
    # The two TSS parameters share one MOR column with both statistics.
    assert columns["lab:tss"].monthly == (Monthly.AVG, Monthly.MAX)
    assert columns["hours:blower.running"].daily is Daily.HOURS
    assert permit.tags() == {"effluent.total", "effluent.flow", "blower.running"}
    assert permit.analytes() == {"tss", "ecoli"}


@pytest.mark.parametrize(
    ("old", "new", "line", "field", "message"),
    [
        ('code: "00530"', 'code: "530"', 11, "permit.parameters[2].code", "should match pattern"),
        ("daily: hours", "daily: weekly", 18, "permit.report[0].daily", "'weekly'"),
        ("number: UT0099999", "number: UT0099999\n  colour: blue", 4, "permit.colour",
         "unknown field"),
        ("tag: effluent.flow, daily: avg", "daily: avg", 9, "permit.parameters[1]",
         "give exactly one of tag: or analyte:"),
    ],
)  # fmt: skip
def test_bad_permits_are_named_by_file_line_and_field(tmp_path, old, new, line, field, message):
    path = tmp_path / "site.yaml"
    path.write_text(SITE_FILE.replace(old, new, 1))
    with pytest.raises(SiteConfigError) as caught:
        load_site_permit(path)
    text = str(caught.value)
    assert text.startswith(f"{path}:{line}: {field}: "), text
    assert message in text


def test_a_site_file_without_a_permit_says_so(tmp_path):
    path = tmp_path / "site.yaml"
    path.write_text(SITE_FILE.split("permit:")[0])
    with pytest.raises(SiteConfigError, match="permit: the site file has no permit: section"):
        load_site_permit(path)


def test_a_missing_site_file_names_where_it_was_looked_for(tmp_path):
    with pytest.raises(ClearwellError, match=r"sites/plant9\.yaml: no site configuration"):
        service.permit_for("plant9", tmp_path)


def test_a_site_file_of_another_site_is_refused(tmp_path):
    path = tmp_path / "other.yaml"
    path.write_text(SITE_FILE)
    with pytest.raises(ClearwellError, match="is the configuration of demo-wwtp, not plant9"):
        service.permit_for("plant9", tmp_path, path)
