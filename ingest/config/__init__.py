"""The site configuration file: models, loading with line numbers, and checks."""

from ingest.config.load import SiteConfigError, load_config, parse_config
from ingest.config.models import IngestOptions, ModbusDevice, SiteConfig, Tag, TagModbus

__all__ = [
    "IngestOptions",
    "ModbusDevice",
    "SiteConfig",
    "SiteConfigError",
    "Tag",
    "TagModbus",
    "load_config",
    "parse_config",
]
