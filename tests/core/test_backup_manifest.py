"""A backup's manifest read back, and the rows a restore compares (pure)."""

from __future__ import annotations

import json

import pytest

from clearwell.backup import BackupError, Manifest, parse_manifest, row_differences

MANIFEST = Manifest(
    created_at="2026-12-07T12:00:00+00:00",
    database="clearwell@/var/run/postgresql:5432/clearwell",
    postgresql="15.20",
    timescaledb="2.19.3",
    migrations=["0001_sites"],
    rows={"entries": 3, "readings": 100},
    files={"database.dump": "ab", "data.tar.gz": "cd"},
)


def test_a_manifest_reads_back_as_written():
    assert parse_manifest(MANIFEST.to_json(), "m.json") == MANIFEST


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("not json", "m.json is not JSON: not a directory `clearwell backup` made"),
        ('["a list"]', "m.json: not a directory `clearwell backup` made"),
        ('{"format": "pg_dump"}', "m.json: not a directory `clearwell backup` made"),
        ('{"format": "clearwell-backup", "version": 9}', "this Clearwell reads 1"),
        ('{"format": "clearwell-backup", "version": 1, "rows": {}}', "manifest lacks created_at"),
    ],
)
def test_what_is_not_a_manifest_is_named(text, expected):
    with pytest.raises(BackupError, match=expected.replace("(", r"\(")):
        parse_manifest(text, "m.json")


def test_the_format_is_named_in_the_file():
    body = json.loads(MANIFEST.to_json())
    assert (body["format"], body["version"]) == ("clearwell-backup", 1)


def test_row_differences_name_each_table():
    assert row_differences({"a": 1, "b": 2}, {"a": 1, "b": 2}) == []
    assert row_differences({"a": 1, "b": 2}, {"a": 0, "c": 5}) == [
        "a: 1 in the backup, 0 restored",
        "b: 2 in the backup, absent restored",
        "c: absent in the backup, 5 restored",
    ]
