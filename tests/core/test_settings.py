import pytest

from clearwell.errors import ConfigError
from clearwell.settings import load_settings


def test_missing_database_url_names_the_variable(monkeypatch):
    monkeypatch.delenv("CLEARWELL_DATABASE_URL", raising=False)
    monkeypatch.delenv("CLEARWELL_CONFIG", raising=False)
    with pytest.raises(ConfigError, match=r"^CLEARWELL_DATABASE_URL is not set"):
        load_settings()


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("CLEARWELL_DATABASE_URL", "mysql://x", "CLEARWELL_DATABASE_URL is malformed"),
        ("CLEARWELL_PORT", "eighty", "CLEARWELL_PORT is malformed"),
        ("CLEARWELL_PORT", "70000", "CLEARWELL_PORT is malformed"),
        ("CLEARWELL_LOG_LEVEL", "LOUD", "CLEARWELL_LOG_LEVEL is malformed"),
        ("CLEARWELL_FLOOR_LOCK_AFTER_S", "2m", "CLEARWELL_FLOOR_LOCK_AFTER_S is malformed"),
        ("CLEARWELL_FLOOR_LOCK_AFTER_S", "5", "CLEARWELL_FLOOR_LOCK_AFTER_S is malformed"),
    ],
)
def test_malformed_setting_names_the_variable(monkeypatch, name, value, expected):
    monkeypatch.setenv("CLEARWELL_DATABASE_URL", "postgresql://u:p@localhost/db")
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=expected):
        load_settings()


def test_config_file_is_read_and_environment_wins(monkeypatch, tmp_path):
    path = tmp_path / "clearwell.yaml"
    path.write_text("database_url: postgresql://u:p@filehost/db\nport: 9001\n")
    monkeypatch.setenv("CLEARWELL_CONFIG", str(path))
    monkeypatch.delenv("CLEARWELL_DATABASE_URL", raising=False)
    monkeypatch.setenv("CLEARWELL_PORT", "9002")
    settings = load_settings()
    assert "filehost" in settings.database_dsn
    assert settings.port == 9002


def test_config_file_with_unknown_setting_is_refused(monkeypatch, tmp_path):
    path = tmp_path / "clearwell.toml"
    path.write_text('database_url = "postgresql://u:p@h/db"\nprot = 1\n')
    monkeypatch.setenv("CLEARWELL_CONFIG", str(path))
    with pytest.raises(ConfigError, match=r"clearwell.toml: unknown setting\(s\): prot"):
        load_settings()


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://clearwell@/clearwell?host=/var/run/postgresql",
        "postgresql:///clearwell?host=/var/run/postgresql&user=clearwell",
        "postgres://clearwell:secret@db.plant.local:5433/clearwell?sslmode=require",
        "host=/var/run/postgresql dbname=clearwell user=clearwell",
        "host=db1,db2 port=5432,5433 dbname=clearwell target_session_attrs=read-write",
        "postgresql://clearwell@db1:5432,db2:5433/clearwell",
        "service=plant",
    ],
)
def test_every_connection_string_libpq_takes_is_accepted(monkeypatch, url):
    monkeypatch.delenv("CLEARWELL_CONFIG", raising=False)
    monkeypatch.setenv("CLEARWELL_DATABASE_URL", url)
    assert load_settings().database_dsn == url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("", "empty connection string"),
        ("   ", "empty connection string"),
        ("postgresql://h/db?nosuchoption=1", "not a libpq connection string"),
        ("host=db dbname", "not a libpq connection string"),
    ],
)
def test_connection_string_libpq_refuses_is_refused(monkeypatch, url, expected):
    monkeypatch.delenv("CLEARWELL_CONFIG", raising=False)
    monkeypatch.setenv("CLEARWELL_DATABASE_URL", url)
    with pytest.raises(ConfigError, match=f"CLEARWELL_DATABASE_URL is malformed.*{expected}"):
        load_settings()
