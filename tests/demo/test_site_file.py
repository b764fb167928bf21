"""The demo plant's site file: a valid permit over its own tags, placed by `clearwell demo`."""

from __future__ import annotations

from pathlib import Path

from clearwell.settings import Settings
from dashboards.exports.permit import load_site_permit
from demo.steps import seed_site_file
from simulators.address_map import DEFAULT_MAP
from sitefile.datadir import site_file


def test_the_demo_map_carries_a_permit_over_its_own_tags() -> None:
    config, permit = load_site_permit(DEFAULT_MAP)
    names = {t.name for t in config.tags}
    assert permit.number and permit.parameters
    assert set(permit.tags()) <= names, set(permit.tags()) - names
    assert {"bod5", "tss", "ecoli"} <= set(permit.analytes())


def test_the_demo_seeder_places_the_site_file_once(tmp_path: Path) -> None:
    settings = Settings(database_url="postgresql://x@127.0.0.1/x", data_dir=tmp_path)
    seed_site_file(settings)
    target = site_file(tmp_path, "demo-wwtp")
    assert target.read_text() == DEFAULT_MAP.read_text()
    target.write_text(target.read_text().replace("UT0099999", "UT0011111"))
    seed_site_file(settings)
    assert load_site_permit(target)[1].number == "UT0011111"
