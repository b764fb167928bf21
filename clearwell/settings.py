"""Typed settings, read from ``CLEARWELL_*`` environment variables and an optional file.

The file is named by ``CLEARWELL_CONFIG`` (YAML or TOML, flat keys without the
prefix, e.g. ``database_url: postgresql://…``). The environment wins over the file.
"""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

import psycopg
import yaml
from psycopg.conninfo import conninfo_to_dict
from pydantic import (
    Field,
    FilePath,
    IPvAnyNetwork,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

from clearwell.errors import ConfigError

ENV_PREFIX = "CLEARWELL_"


class _FileSource(PydanticBaseSettingsSource):
    """Settings from the file that ``CLEARWELL_CONFIG`` names, if any."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path | None) -> None:
        super().__init__(settings_cls)
        self._data = load_config_file(path) if path else {}

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return {k: v for k, v in self._data.items() if k in self.settings_cls.model_fields}


def load_config_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{ENV_PREFIX}CONFIG: cannot read {path}: {exc.strerror}") from exc
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: not valid {path.suffix.lstrip('.') or 'YAML'}: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of setting names to values")
    unknown = sorted(set(data) - set(Settings.model_fields))
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s): {', '.join(unknown)}")
    return data


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    database_url: str = Field(
        description="PostgreSQL/TimescaleDB connection URL, postgresql://user:pass@host:port/db"
    )
    # The runtime role above may only read and append records; the schema's owner runs
    # the migrations (SECURITY.md). Unset: one role does both, as installs before two roles.
    owner_database_url: str | None = Field(
        None,
        description="URL of the role that owns the schema and runs migrations"
        " (default: CLEARWELL_DATABASE_URL's)",
    )
    host: str = Field("127.0.0.1", description="Address the web app listens on")
    port: int = Field(8000, ge=1, le=65535, description="Port the web app listens on")
    log_level: str = Field("INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR)$")
    data_dir: Path = Field(
        Path("var"), description="Where Clearwell keeps local state (spool, keys, certificates)"
    )
    db_pool_max: int = Field(10, ge=1, le=200)
    floor_lock_after_s: int = Field(
        120, ge=10, description="Seconds without a touch before a floor terminal locks"
    )
    session_idle_s: int = Field(
        1800, ge=60, description="Seconds a session may lie unused before it ends"
    )
    cookie_secure: Literal["auto", "true", "false"] = Field(
        "auto",
        description="Mark the session cookie Secure: auto when the request came over HTTPS"
        " (a trusted proxy's X-Forwarded-Proto counts)",
    )
    trusted_proxies: Annotated[tuple[IPvAnyNetwork, ...], NoDecode] = Field(
        (),
        description="Addresses or networks of reverse proxies whose X-Forwarded-For,"
        " -Proto and -Host are believed, comma-separated (default: none)",
    )

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(p.strip() for p in value.split(",") if p.strip())
        return value

    tls_certfile: FilePath | None = Field(
        None, description="PEM certificate (chain) to serve HTTPS with, beside tls_keyfile"
    )
    tls_keyfile: FilePath | None = Field(None, description="PEM private key of tls_certfile")

    @model_validator(mode="after")
    def _certificate_with_its_key(self) -> Settings:
        if (self.tls_certfile is None) != (self.tls_keyfile is None):
            raise ValueError("CLEARWELL_TLS_CERTFILE and CLEARWELL_TLS_KEYFILE go together")
        return self

    @field_validator("database_url", "owner_database_url")
    @classmethod
    def _libpq_connection_string(cls, value: str | None) -> str | None:
        # libpq's own parser, so that every form it takes passes (a Unix socket as
        # ?host=/var/run/postgresql, key=value strings, host lists, service=) and
        # nothing it would refuse does.
        if value is None:
            return None
        if not value.strip():
            raise ValueError("empty connection string")
        try:
            conninfo_to_dict(value)
        except psycopg.ProgrammingError as exc:
            raise ValueError(f"not a libpq connection string: {exc}") from None
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        path = os.environ.get(f"{ENV_PREFIX}CONFIG")
        return (
            init_settings,
            env_settings,
            _FileSource(settings_cls, Path(path) if path else None),
        )

    @property
    def database_dsn(self) -> str:
        return self.database_url

    @property
    def owner_dsn(self) -> str:
        """Where migrations and owner-only maintenance connect."""
        return str(self.owner_database_url or self.database_url)


def describe_validation_error(exc: ValidationError) -> str:
    """One line per problem, naming the environment variable behind it."""
    lines = []
    for err in exc.errors():
        if not err["loc"]:
            # A check across settings: its message names them; the input is all of them.
            lines.append(str(err["msg"]).removeprefix("Value error, "))
            continue
        name = ENV_PREFIX + "_".join(str(p) for p in err["loc"]).upper()
        if err["type"] == "missing":
            lines.append(f"{name} is not set ({_describe_field(err['loc'])})")
        else:
            lines.append(f"{name} is malformed: {err['msg']} (got {err.get('input')!r})")
    return "; ".join(lines)


def _describe_field(loc: tuple[Any, ...]) -> str:
    field = Settings.model_fields.get(str(loc[0])) if loc else None
    return (field.description if field and field.description else "required").rstrip(".")


def load_settings(**overrides: Any) -> Settings:
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
