"""A site's file in the data directory: where it is, its ranges read once per change."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from clearwell.errors import ConfigError
from sitefile.checks import Problem
from sitefile.datadir import cached_ranges, read_ranges, site_file
from sitefile.models import SiteConfig
from sitefile.ranges import NO_RANGES
from tests.sitefile.texts import HEAD

RANGED = HEAD + "    range: {instrument: [0, 20]}\n"


def _write(data_dir: Path, text: str, code: str = "demo") -> Path:
    path = site_file(data_dir, code)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_the_site_file_is_the_data_directorys_sites_code_yaml(tmp_path: Path) -> None:
    assert site_file(tmp_path, "demo-wwtp") == tmp_path / "sites" / "demo-wwtp.yaml"


def test_a_site_without_a_file_has_no_ranges(tmp_path: Path) -> None:
    assert read_ranges(tmp_path, "demo") is NO_RANGES
    assert cached_ranges(tmp_path, "demo") is NO_RANGES


def test_ranges_are_read_once_and_again_when_the_file_changes(tmp_path: Path) -> None:
    path = _write(tmp_path, RANGED)
    assert cached_ranges(tmp_path, "demo") is None  # not read yet
    first = read_ranges(tmp_path, "demo")
    assert first.tags["first"].instrument == (0, 20)
    assert cached_ranges(tmp_path, "demo") is first
    assert read_ranges(tmp_path, "demo") is first
    path.write_text(RANGED.replace("[0, 20]", "[0, 25.5]"))
    # Moved on by hand too: two writes may fall within one tick of the file system's clock.
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1))
    assert cached_ranges(tmp_path, "demo") is None
    assert read_ranges(tmp_path, "demo").tags["first"].instrument == (0, 25.5)


def test_an_invalid_file_is_an_error_naming_file_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, HEAD + "    range: {instrument: [20, 0]}\n")
    with pytest.raises(ConfigError, match=rf"{path}:11: tags\[0\].range.instrument: "):
        read_ranges(tmp_path, "demo")


def test_another_sites_file_is_refused(tmp_path: Path) -> None:
    _write(tmp_path, RANGED, code="other")
    with pytest.raises(ConfigError, match="is the configuration of demo, not other"):
        read_ranges(tmp_path, "other")


def test_the_readers_checks_are_the_files_rules(tmp_path: Path) -> None:
    path = _write(tmp_path, RANGED)

    def no_tag_named_first(config: SiteConfig) -> list[Problem]:
        return [Problem(("tags", 0, "name"), "not here")]

    assert read_ranges(tmp_path, "demo").tags
    with pytest.raises(ConfigError, match=rf"{path}:9: tags\[0\].name: not here"):
        read_ranges(tmp_path, "demo", (no_tag_named_first,))
